"""scripts/auto-rebuild.sh on the local default: refuses without --yes, then tears down and rebuilds."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import boto3
import pytest
from network_harness import recap

pytestmark = pytest.mark.emulator
ROOT = Path(__file__).resolve().parents[3]
TAG = [{"Name": "tag:msa:platform", "Values": ["msa-local"]}]


def rebuild(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_CACHE_PLUGIN="memory")
    return subprocess.run(["bash", str(ROOT / "scripts" / "auto-rebuild.sh"), "--env", "local", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=900, check=False)


def site_check(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_CACHE_PLUGIN="memory")
    return subprocess.run([str(ROOT / ".venv" / "bin" / "ansible-playbook"), "-i", str(ROOT / "inventories" / "local"),
                           str(ROOT / "playbooks" / "site.yml"), "--check", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=900, check=False)


def platform_state(ec2) -> tuple[list[str], int]:
    vpcs = [v["VpcId"] for v in ec2.describe_vpcs(Filters=TAG)["Vpcs"]]
    running = ec2.describe_instances(Filters=[*TAG, {"Name": "instance-state-name", "Values": ["pending", "running"]}])
    return vpcs, sum(len(r["Instances"]) for r in running["Reservations"])


def test_refuses_without_yes_then_rebuilds_from_scratch(aws):
    ec2 = boto3.client("ec2")
    preview = site_check()  # a new account: check mode says what a real run builds, and builds nothing
    assert preview.returncode == 0, preview.stdout[-4000:] + preview.stderr[-3000:]
    said = " ".join(preview.stdout.split())
    assert "a real run creates it with 10 subnets" in said and "a real run after it launches 12 nodes in 9 pools" in said
    assert platform_state(ec2) == ([], 0) and ec2.describe_key_pairs()["KeyPairs"] == []

    refused = rebuild()
    assert refused.returncode == 2, refused.stdout[-3000:] + refused.stderr[-3000:]
    assert "Re-run with --yes" in refused.stderr
    assert platform_state(ec2) == ([], 0)

    first = rebuild("--yes")
    assert first.returncode == 0, first.stdout[-5000:] + first.stderr[-3000:]
    (vpc,), nodes = platform_state(ec2)
    assert nodes == 12

    second = rebuild("--yes")
    assert second.returncode == 0, second.stdout[-5000:] + second.stderr[-3000:]
    (new_vpc,), nodes = platform_state(ec2)
    assert new_vpc != vpc  # torn down and built again, not merely converged
    assert nodes == 12
    assert len(ec2.describe_addresses()["Addresses"]) == 1  # the old NAT's EIP was released

    converged = site_check("--diff")  # a built platform: check mode finds nothing to change
    assert converged.returncode == 0, converged.stdout[-4000:] + converged.stderr[-3000:]
    assert recap(converged)["changed"] == 0, converged.stdout[-6000:]
