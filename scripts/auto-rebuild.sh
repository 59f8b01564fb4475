#!/usr/bin/env bash
# Safe teardown + rebuild of one environment.
#   scripts/auto-rebuild.sh --env <env> [--yes] [--resume]
# <env> names inventories/<env> (or is the path of an inventory directory). Without --yes it only
# shows what the teardown would delete (check mode) and exits 2. With --yes it runs teardown.yml,
# confirmed with the platform's own name from the topology, then site.yml; the first failure stops it.
# --resume --yes continues the last rebuild of <env> from the phase that failed (no teardown unless
# the teardown itself failed). Each run logs to .cache/logs/rebuild/<platform>/<timestamp>.log and
# prints, and keeps in state.json there, the wall time of every phase.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export PATH=$ROOT/.venv/bin:$PATH
export ANSIBLE_CONFIG=$ROOT/ansible.cfg

usage() { sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; }
env_name='' yes='' resume=''
while [ $# -gt 0 ]; do
  case "$1" in
    --env) env_name=${2:-}; shift 2 || { usage >&2; exit 2; } ;;
    --yes) yes=1; shift ;;
    --resume) resume=1; shift ;;
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

runs=$ROOT/.cache/logs/rebuild/$name
state=$runs/state.json
mkdir -p "$runs"
state_tool() { python "$ROOT/scripts/lib/rebuild_state.py" "$@"; }

# What a resumed rebuild runs: computed before anything else, so a refusal changes nothing.
teardown=1 extra=() resume_why='' resume_phase='' resume_teardown='' resume_skip=''
if [ -n "$resume" ]; then
  [ -f "$state" ] || { echo "auto-rebuild: no earlier rebuild of $name to resume ($state)" >&2; exit 2; }
  skip=$(ansible-inventory -i "$inventory" --host localhost 2>/dev/null \
         | python -c 'import json, sys; print(json.dumps(json.load(sys.stdin).get("msa_site_skip") or []))' || echo '[]')
  if ! where=$(state_tool resume "$state" playbooks/site.yml "$skip"); then
    eval "$where"; echo "auto-rebuild: $resume_why" >&2; exit 2
  fi
  eval "$where"
  teardown=$resume_teardown
  [ -n "$teardown" ] || extra=(-e "$resume_skip")
  echo "auto-rebuild: resuming platform $name at phase $resume_phase$([ -n "$teardown" ] && echo ' (teardown, then site.yml)')"
fi

if [ -z "$yes" ]; then
  if [ -n "$resume" ]; then
    echo "auto-rebuild: nothing was changed. Re-run with --resume --yes to continue platform $name from $resume_phase." >&2
    exit 2
  fi
  ansible-playbook -i "$inventory" playbooks/teardown.yml -e "confirm_teardown=$name" --check --diff
  echo "auto-rebuild: nothing was changed. Re-run with --yes to delete the above and rebuild platform $name." >&2
  exit 2
fi

log=$runs/$(date -u +%Y%m%dT%H%M%SZ).log
run_json=$runs/run.json
echo "auto-rebuild: logging to $log"
# One line per phase and play, full detail for failures (msa.platform.progress); the callback writes
# each run's phases to run.json, folded into state.json for the timings and --resume. Naming the
# stdout callback as the only enabled one leaves the per-task profile of ansible.cfg out of this view.
export ANSIBLE_STDOUT_CALLBACK=msa.platform.progress ANSIBLE_CALLBACKS_ENABLED=msa.platform.progress
export MSA_PROGRESS_STATE=$run_json
reset_state=--reset

play() {  # play <playbook> <args...>: run it, fold its phases into the state, stop on failure
  local status=0
  rm -f "$run_json"
  ansible-playbook -i "$inventory" "$@" 2>&1 | tee -a "$log" || status=$?
  [ -f "$run_json" ] && state_tool record "$state" "$run_json" $reset_state
  reset_state=''
  if [ "$status" -ne 0 ]; then
    printf '\nauto-rebuild: failed (exit %s); the log: %s\nphase timings:\n' "$status" "$log" | tee -a "$log"
    state_tool times "$state" | tee -a "$log"
    echo "auto-rebuild: fix the cause, then: scripts/auto-rebuild.sh --env $env_name --resume --yes" | tee -a "$log"
    exit "$status"
  fi
}

if [ -n "$teardown" ]; then
  echo "auto-rebuild: tearing down platform $name ($inventory)" | tee -a "$log"
  play playbooks/teardown.yml -e "confirm_teardown=$name"
fi
echo "auto-rebuild: building platform $name" | tee -a "$log"
play playbooks/site.yml "${extra[@]}"
printf '\nauto-rebuild: platform %s rebuilt; phase timings (also in %s):\n' "$name" "$state" | tee -a "$log"
state_tool times "$state" | tee -a "$log"
