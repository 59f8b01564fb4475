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
  # CI keeps only the head and tail of a long log: a failure is repeated at the very end.
  local log=$ROOT/.cache/logs/molecule.log status=0
  mkdir -p "${log%/*}"
  molecule test --all 2>&1 | tee "$log" || status=$?
  python scripts/testhosts.py down --all
  if [ "$status" -ne 0 ]; then
    printf '\n--- molecule failures (whole log: %s) ---\n' "$log"
    grep -aE 'fatal: |failed: \[|FAILED! =>|Executed: Failed' "$log" | cut -c1-800 | tail -n 30 || true
  fi
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
