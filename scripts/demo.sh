#!/usr/bin/env bash
# `make demo`: the main job on the local default — the AWS emulator on 127.0.0.1 stands in for
# AWS, inventories/local holds the topology. Runs playbooks/site.yml twice (the second run must
# report changed=0) and prints what it built. Leaves the emulator running for a look around;
# `make clean` stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export PATH=$ROOT/.venv/bin:$PATH
export ANSIBLE_CONFIG=$ROOT/ansible.cfg
python scripts/emulator.py start >/dev/null
eval "$(python scripts/emulator.py env)"
python scripts/emulator.py reset

for run in first converged; do
  printf '\n\033[1m==> site.yml (%s run) against the local AWS emulator\033[0m\n' "$run"
  ansible-playbook -i inventories/local playbooks/site.yml | tee ".cache/demo-$run.log"
done
if ! grep -Eq 'changed=0 +unreachable=0 +failed=0' .cache/demo-converged.log \
   || grep -Eq 'changed=[1-9]' .cache/demo-converged.log; then
  echo "demo: the converged run changed something (see .cache/demo-converged.log)" >&2
  exit 1
fi
printf '\n\033[1mWhat the emulator now holds for this platform:\033[0m\n'
python scripts/platform_report.py
printf '\n\033[1mThe inventory the aws_cluster plugin makes of it:\033[0m\n'
ansible-inventory -i inventories/local --graph
