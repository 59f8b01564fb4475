#!/usr/bin/env bash
# Safe teardown + rebuild of one environment.
#   scripts/auto-rebuild.sh --env <env> [--yes]
# <env> names inventories/<env> (or is the path of an inventory directory). Without --yes it only
# shows what the teardown would delete (check mode) and exits 2. With --yes it runs teardown.yml,
# confirmed with the platform's own name from the topology, then site.yml; the first failure stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=$PWD/.venv/bin:$PATH
export ANSIBLE_CONFIG=$PWD/ansible.cfg

usage() { sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'; }
env_name='' yes=''
while [ $# -gt 0 ]; do
  case "$1" in
    --env) env_name=${2:-}; shift 2 || { usage >&2; exit 2; } ;;
    --yes) yes=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "auto-rebuild: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
[ -n "$env_name" ] || { echo "auto-rebuild: --env <env> is required" >&2; usage >&2; exit 2; }
inventory=inventories/$env_name
[ -d "$inventory" ] || inventory=$env_name
topology=$inventory/group_vars/all/topology.yml
[ -f "$topology" ] || { echo "auto-rebuild: no topology at $topology" >&2; exit 2; }
name=$(python -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["platform"]["name"])' "$topology")

if [ -z "$yes" ]; then
  ansible-playbook -i "$inventory" playbooks/teardown.yml -e "confirm_teardown=$name" --check --diff
  echo "auto-rebuild: nothing was changed. Re-run with --yes to delete the above and rebuild platform $name." >&2
  exit 2
fi
echo "auto-rebuild: tearing down platform $name ($inventory)"
ansible-playbook -i "$inventory" playbooks/teardown.yml -e "confirm_teardown=$name"
echo "auto-rebuild: building platform $name"
ansible-playbook -i "$inventory" playbooks/site.yml
