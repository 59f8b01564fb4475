"""Test hosts boot real systemd, reach each other over the bridge and install from Debian via the proxy."""
from __future__ import annotations

import subprocess

import pytest
import testhosts

pytestmark = [pytest.mark.testhosts]

HOSTS = [("harness-1", "10.213.0.17"), ("harness-2", "10.213.0.18")]


def ssh(ip: str, command: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["ssh", "-i", str(testhosts.SSH_KEY), "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
         "-o", "LogLevel=ERROR", "-o", "BatchMode=yes", f"root@{ip}", command],
        capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture(scope="module")
def booted():
    try:
        yield testhosts.up(HOSTS)
    finally:
        testhosts.down([name for name, _dummy in HOSTS])


def test_hosts_run_systemd_as_pid1_and_have_their_names(booted):
    assert [h["name"] for h in booted] == [name for name, _dummy in HOSTS]
    for name, ip in HOSTS:
        out = ssh(ip, "ps -p 1 -o comm= && hostname && ip -4 -o addr show host0")
        lines = out.stdout.split("\n")
        assert lines[0] == "systemd", out
        assert lines[1] == name
        assert f"inet {ip}/24" in lines[2]


def test_each_host_runs_in_cgroups_of_its_own_and_boots_clean(booted):
    # Hosts sharing one cgroup had their systemd instances trample each other's unit cgroups:
    # now and then an early unit failed with 219/CGROUP and the host came up "degraded".
    pids = {}
    for name, ip in HOSTS:
        dirs = testhosts.cgroup_dirs(name)
        assert dirs, "no name=systemd or cgroup2 hierarchy found"
        pids[name] = {pid for path in dirs for procs in path.rglob("cgroup.procs") for pid in procs.read_text().split()}
        assert pids[name], f"nothing runs in {dirs}"
        out = ssh(ip, "timeout 90 systemctl is-system-running --wait; systemctl --failed --no-legend --plain")
        assert out.stdout.split("\n")[0] == "running", out.stdout
    assert not set.intersection(*pids.values())


def test_hosts_reach_each_other_and_install_from_debian(booted):
    (_dummy, ip1), (_dummy, ip2) = HOSTS
    assert ssh(ip1, f"ping -c1 -W2 {ip2}").returncode == 0
    out = ssh(ip2, "apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends netcat-openbsd >/dev/null"
                   " && command -v nc")
    assert out.returncode == 0 and out.stdout.strip() == "/usr/bin/nc", out.stderr


def test_down_stops_the_host_and_unmounts_it(booted):
    name, ip = HOSTS[1]
    testhosts.down([name])
    assert name not in [h.name for h in testhosts.hosts()]
    assert ssh(ip, "true").returncode != 0
    with open("/proc/self/mounts", encoding="utf-8") as mounts:
        assert str(testhosts.HOSTS / name) not in mounts.read()
    assert not [path for path in testhosts.cgroup_dirs(name) if path.exists()]
