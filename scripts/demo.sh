#!/usr/bin/env bash
# `make demo`: the main job on the local default. The AWS emulator on 127.0.0.1 stands in for AWS,
# inventories/local holds the topology, and every EC2 instance the emulator runs becomes a Debian test
# host at its private IP (playbooks/hosts.yml), so the data and monitoring layers run for real.
# Runs playbooks/site.yml twice (the second run must report changed=0 on every host) and prints the
# run summary. Leaves the emulator and the hosts running for a look around; `make clean` stops them.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export PATH=$ROOT/.venv/bin:$PATH
export ANSIBLE_CONFIG=$ROOT/ansible.cfg
if [ "$(id -u)" != 0 ]; then
  echo "demo: needs root (the test hosts are systemd-nspawn containers on a bridge)" >&2
  exit 2
fi
# One line per phase and play, a failure in full (msa.platform.progress); naming it as the only enabled
# callback leaves ansible.cfg's per-task profile out of this view. ANSIBLE_STDOUT_CALLBACK=default for
# plain Ansible output.
if [ -z "${ANSIBLE_STDOUT_CALLBACK:-}" ]; then
  export ANSIBLE_STDOUT_CALLBACK=msa.platform.progress ANSIBLE_CALLBACKS_ENABLED=msa.platform.progress
fi
python scripts/emulator.py start >/dev/null
eval "$(python scripts/emulator.py env)"
python scripts/emulator.py reset
python scripts/testhosts.py rootfs >/dev/null   # cached after the first time

mkdir -p .cache/logs
for run in first converged; do
  printf '\n\033[1m==> site.yml (%s run) on the local default\033[0m\n' "$run"
  start=$(date +%s)
  ansible-playbook -i inventories/local playbooks/site.yml | tee ".cache/logs/demo-$run.log"
  printf '\033[1m==> %s run: %ss\033[0m\n' "$run" "$(( $(date +%s) - start ))"
done
if grep -Eq 'changed=[1-9]|unreachable=[1-9]|failed=[1-9]' .cache/logs/demo-converged.log \
   || ! grep -Eq 'changed=0 +unreachable=0 +failed=0' .cache/logs/demo-converged.log; then
  echo "demo: the converged run changed something (see .cache/logs/demo-converged.log)" >&2
  exit 1
fi
run_dir=$(find .cache/runs -mindepth 1 -maxdepth 1 -type d | sort | tail -n 1)
printf '\n\033[1mThe platform (%s):\033[0m\n' "$run_dir"
cat "$run_dir/summary.md"
printf '\nConnect (the bridge is local to this machine; passwords in .cache/secrets/msa-local/):\n'
python - "$run_dir/facts.json" <<'PY'
import json, sys
eps = {e["name"]: e for e in json.load(open(sys.argv[1]))["summary"]["endpoints"]}
def at(name):
    e = eps.get(name)
    return f"{e['address']}" if e else "?"
print(f"  psql -h {at('postgresql-primary')} -U auth auth            # password: .cache/secrets/msa-local/pg-auth")
print(f"  REDISCLI_AUTH=$(cat .cache/secrets/msa-local/redis) redis-cli -h {at('redis-primary')}")
print(f"  Prometheus   http://{at('prometheus')}:9090/targets     Alertmanager http://{at('alertmanager')}:9093")
print(f"  RabbitMQ     http://{at('rabbitmq-management')}:15672/")
print("  ssh -i .cache/ssh/id_ed25519 root@<private IP>          # any node of the table above")
PY
