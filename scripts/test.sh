#!/usr/bin/env bash
# Every test of msa.platform, as `make test` runs it (and CI through .ci/run).
#   scripts/test.sh [lint|sanity|unit|integration|molecule ...]   # default: all, in that order
# Stages run in order; the first that fails stops the run. Timings are printed per stage.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export PATH=$ROOT/.venv/bin:$PATH
export ANSIBLE_CONFIG=$ROOT/ansible.cfg
export PY_COLORS=0 ANSIBLE_FORCE_COLOR=0 ANSIBLE_NOCOLOR=1

stage_lint() {
  ruff check .
  ansible-lint --profile production --offline
}

stage_sanity() {
  # ansible-test wants the checkout at .../ansible_collections/msa/platform: give it a copy of
  # exactly what git would ship (tracked + new, not ignored files).
  local dest=$ROOT/.cache/sanity/ansible_collections/msa/platform
  rm -rf "$dest" && mkdir -p "$dest"
  git ls-files -z --cached --others --exclude-standard | rsync -a --from0 --files-from=- ./ "$dest/"
  # The collections we depend on (doc fragments, module_utils) must sit beside us.
  local bundled
  bundled=$(python -c 'import ansible_collections; print(list(ansible_collections.__path__)[0])')
  for ns in amazon community kubernetes ansible; do
    ln -sfn "$bundled/$ns" "$ROOT/.cache/sanity/ansible_collections/$ns"
  done
  (cd "$dest" && git init -q && git add -A && ansible-test sanity --venv --python 3.11 --color no \
     --exclude .ci/ --exclude .config/)
}

stage_unit() {
  pytest -q -p xdist -n 2 tests/unit
}

stage_integration() {
  # One file per worker at a time: files share nothing but the bridge test of the harness, and each
  # worker has its own emulator and fact cache (tests/conftest.py).
  pytest -q -p xdist -n 2 --dist loadfile --durations=10 tests/integration
}

stage_molecule() {
  # Scenarios are independent (own hosts, names and addresses; see molecule/README.md): run them
  # MSA_MOLECULE_JOBS at a time (default 2, one per core), each logging to a file of its own, printed
  # whole when it ends. CI keeps only the head and tail of a long log: failures are repeated at the end.
  local logs=$ROOT/.cache/logs/molecule jobs=${MSA_MOLECULE_JOBS:-2} status=0 scenarios=()
  rm -rf "$logs" && mkdir -p "$logs"
  # The bridge and its apt proxy once, before scenarios race to create them.
  python scripts/testhosts.py net-up >/dev/null
  # Longest first, so the last to start are the short ones; scenarios not listed here run last.
  local order=(kafka monitoring kubeadm rabbitmq postgresql redis node_prep jenkins smoke) all=() s
  for s in molecule/*/molecule.yml; do s=${s%/molecule.yml}; all+=("${s#molecule/}"); done
  scenarios=()
  for s in "${order[@]}"; do if [[ " ${all[*]} " == *" $s "* ]]; then scenarios+=("$s"); fi; done
  for s in "${all[@]}"; do if [[ " ${order[*]} " != *" $s "* ]]; then scenarios+=("$s"); fi; done
  # MSA_MOLECULE_SCENARIOS="a b" runs only those (by hand; CI runs all).
  if [ -n "${MSA_MOLECULE_SCENARIOS:-}" ]; then read -r -a scenarios <<<"$MSA_MOLECULE_SCENARIOS"; fi
  export logs
  # shellcheck disable=SC2016
  printf '%s\n' "${scenarios[@]}" | xargs -P "$jobs" -I{} bash -c '
    start=$(date +%s)
    if molecule test -s "$1" >"$logs/$1.log" 2>&1; then result=passed; else result=FAILED; touch "$logs/$1.failed"; fi
    { printf "\n===== molecule %s: %s in %ss =====\n" "$1" "$result" "$(( $(date +%s) - start ))"; cat "$logs/$1.log"; } ' _ {}
  python scripts/testhosts.py down --all
  for s in "${scenarios[@]}"; do
    if [ -e "$logs/$s.failed" ]; then
      status=1
      printf '\n--- molecule %s failed (whole log: %s) ---\n' "$s" "$logs/$s.log"
      grep -aE 'fatal: |failed: \[|FAILED! =>|Executed: Failed|ERROR' "$logs/$s.log" | cut -c1-800 | tail -n 30 || true
    fi
  done
  return "$status"
}

stages=("$@")
[ ${#stages[@]} -gt 0 ] || stages=(lint sanity unit integration molecule)
passed=0
for s in "${stages[@]}"; do
  start=$(date +%s)
  printf '\n\033[1m==> %s\033[0m\n' "$s"
  "stage_$s"
  printf '\033[1m<== %s passed in %ss\033[0m\n' "$s" "$(( $(date +%s) - start ))"
  passed=$((passed + 1))
done
# A stage that fails stops the run above (set -e), so reaching here means none failed.
printf '\nstages: %d passed, 0 failed\n' "$passed"
