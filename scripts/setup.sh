#!/usr/bin/env bash
# Idempotent set-up of a fresh Debian bookworm machine for msa.platform: apt packages the local
# harness needs, the Python venv, this checkout linked as the msa.platform collection, the offline
# seed for ansible-test, and the cached Debian rootfs the test hosts boot from.
# Each step is skipped when its stamp is newer than its inputs.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
CACHE=$ROOT/.cache
VENV=$ROOT/.venv
mkdir -p "$CACHE/stamps"

APT_PACKAGES=(debootstrap systemd-container apt-cacher-ng iproute2 openssh-client rsync
              prometheus prometheus-alertmanager shellcheck graphviz)

log() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

apt_step() {
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "apt: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Packages that ship daemons (apt-cacher-ng, prometheus) must not start them on this machine:
  # the harness runs its own instances, bound only to its own bridge.
  local own_policy=
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    own_policy=1
  fi
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  [ -z "$own_policy" ] || rm -f /usr/sbin/policy-rc.d
}

venv_step() {
  local stamp=$CACHE/stamps/venv
  if [ -x "$VENV/bin/ansible-playbook" ] && [ "$stamp" -nt requirements.txt ]; then return 0; fi
  log "venv: installing requirements.txt into .venv"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check --upgrade pip wheel
  "$VENV/bin/pip" install -q --disable-pip-version-check -r requirements.txt
  touch "$stamp"
}

collection_step() {
  # ansible finds collections as <path>/ansible_collections/<ns>/<name>: link this checkout there.
  local dir=$CACHE/collections/ansible_collections/msa
  mkdir -p "$dir"
  [ -L "$dir/platform" ] || ln -sfn "$ROOT" "$dir/platform"
}

ansible_test_seed_step() {
  # ansible-test bootstraps pip in its venvs with a script it downloads from a host we cannot
  # reach. Seed its cache with a small bootstrap of our own that installs the same pip wheel
  # from PyPI.
  # ansible-test 2.19 bootstraps pip 24.2 (ansible_test/_internal/python_requirements.py).
  local pip_version=24.2
  local cache=$HOME/.ansible/test/cache
  local script=$cache/get_pip_${pip_version//./_}.py
  [ -f "$script" ] && [ -f "$cache/pip-$pip_version-py3-none-any.whl" ] && return 0
  log "ansible-test: seeding offline pip $pip_version bootstrap in $cache"
  mkdir -p "$cache"
  "$VENV/bin/pip" download -q --disable-pip-version-check --no-deps -d "$cache" "pip==$pip_version"
  sed "s/@PIP_VERSION@/$pip_version/" scripts/lib/get_pip.py.in > "$script"
}

rootfs_step() {
  "$VENV/bin/python" scripts/testhosts.py rootfs
}

apt_step
venv_step
collection_step
ansible_test_seed_step
if [ "${1:-}" != "--no-rootfs" ]; then rootfs_step; fi
log "ready"
