"""playbooks/teardown.yml after builds that did not finish: stopped after the gateways with --tags, and
killed mid-run. It refuses without confirmation, lists in check mode, and leaves nothing."""
from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest
from network_harness import ROOT, ansible_env, counts, ec2, leftovers, playbook, playbook_cmd, recap

pytestmark = pytest.mark.emulator


def test_teardown_after_a_build_stopped_after_the_gateways(network_emulator):
    built = playbook("network.yml", "courm-eks", "--tags", "aws_network_vpc,aws_network_subnets,aws_network_gateways")
    assert built.returncode == 0, built.stdout[-4000:]
    partial = counts("courm")
    assert partial["subnets"] == 15 and partial["nat_gateways"] == 3 and partial["addresses"] == 3
    assert partial["route_tables"] == 0 and partial["security_groups"] == 0

    refused = playbook("teardown.yml", "courm-eks")
    assert refused.returncode != 0
    assert "Confirm by re-running with -e confirm_teardown=courm" in refused.stdout
    wrong = playbook("teardown.yml", "courm-eks", "-e", "confirm_teardown=ecoeco")
    assert wrong.returncode != 0 and "(got ecoeco)" in wrong.stdout
    assert counts("courm") == partial, "a refused teardown touches nothing"

    dry = playbook("teardown.yml", "courm-eks", "-e", "confirm_teardown=courm", "--check", "--diff")
    assert dry.returncode == 0, dry.stdout[-4000:]
    assert recap(dry)["changed"] == 1 and dry.stdout.count("NAT gateway nat-") >= 3
    assert counts("courm") == partial, "check mode deletes nothing"

    down = playbook("teardown.yml", "courm-eks", "-e", "confirm_teardown=courm")
    assert down.returncode == 0, down.stdout[-4000:] + down.stderr[-2000:]
    assert leftovers("courm") == []


def kill_tree(pid: int) -> None:
    """SIGKILL a process and every descendant by PID (ansible's workers detach into their own sessions)."""
    tree, todo = [], [pid]
    while todo:
        parent = todo.pop()
        tree.append(parent)
        children = subprocess.run(["ps", "-o", "pid=", "--ppid", str(parent)], capture_output=True, text=True, check=False).stdout
        todo += [int(child) for child in children.split()]
    for member in tree:
        try:
            os.kill(member, signal.SIGKILL)
        except ProcessLookupError:
            pass


def test_teardown_after_a_killed_build(network_emulator):
    """Kill network.yml as soon as the first subnets exist (the NAT gateway and its EIP may or may not)."""
    proc = subprocess.Popen(playbook_cmd("network.yml", "ecoeco-kubeadm"), cwd=ROOT, env=ansible_env(network_emulator),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 300
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if len(ec2().describe_subnets(Filters=[{"Name": "tag:msa:platform", "Values": ["ecoeco"]}])["Subnets"]) >= 2:
                break
            time.sleep(0.3)
    finally:
        if proc.poll() is None:
            kill_tree(proc.pid)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, "the build must still have been running when killed"
    settled, previous = 0, None   # a module process already talking to AWS may finish its one call
    while settled < 3:
        now = counts("ecoeco")
        settled, previous = (settled + 1 if now == previous else 0), now
        time.sleep(1)
    assert 1 <= counts("ecoeco")["subnets"] < 8

    for _dummy in range(2):   # twice: the second finds nothing and changes nothing
        down = playbook("teardown.yml", "ecoeco-kubeadm", "-e", "confirm_teardown=ecoeco")
        assert down.returncode == 0, down.stdout[-4000:] + down.stderr[-2000:]
        assert leftovers("ecoeco") == []
    assert recap(down)["changed"] == 0
    assert [v for v in ec2().describe_vpcs()["Vpcs"] if not v["IsDefault"]] == []
