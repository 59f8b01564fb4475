"""scripts/auto-rebuild.sh on the local default's AWS layers: refuses without --yes, then tears down and rebuilds;
--resume continues from the phase that failed.

The inventory is inventories/local with its host layers left out (msa_site_skip): the local platform's hosts and
services are tests/integration/aws/test_local_platform.py's; here the rebuild itself is under test."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import boto3
import pytest
import yaml
from network_harness import URL, recap

pytestmark = pytest.mark.emulator
ROOT = Path(__file__).resolve().parents[3]
LOCAL = ROOT / "inventories" / "local"
TAG = [{"Name": "tag:msa:platform", "Values": ["msa-local"]}]
SKIP = ["hosts", "cluster", "addons", "data", "access", "monitoring"]


@pytest.fixture(scope="module")
def inventory(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("rebuild-inventory")
    shutil.copytree(LOCAL / "group_vars", path / "group_vars")
    shutil.copy(LOCAL / "hosts.yml", path / "hosts.yml")
    (path / "group_vars" / "all" / "site.yml").write_text(yaml.safe_dump({"msa_local_hosts": False, "msa_site_skip": SKIP}))
    plugin = yaml.safe_load((LOCAL / "aws_cluster.yml").read_text())
    plugin.update(endpoint_url=URL, cache=False)
    (path / "aws_cluster.yml").write_text(yaml.safe_dump(plugin, sort_keys=False))
    return path


def _env() -> dict:
    return dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_CACHE_PLUGIN="memory", AWS_ENDPOINT_URL=URL)


def rebuild(inventory: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(ROOT / "scripts" / "auto-rebuild.sh"), "--env", str(inventory), *args], cwd=ROOT, env=_env(),
                          capture_output=True, text=True, timeout=900, check=False)


def site_check(inventory: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(ROOT / ".venv" / "bin" / "ansible-playbook"), "-i", str(inventory),
                           str(ROOT / "playbooks" / "site.yml"), "--check", *args], cwd=ROOT, env=_env(),
                          capture_output=True, text=True, timeout=900, check=False)


def platform_state(ec2) -> tuple[list[str], int]:
    vpcs = [v["VpcId"] for v in ec2.describe_vpcs(Filters=TAG)["Vpcs"]]
    running = ec2.describe_instances(Filters=[*TAG, {"Name": "instance-state-name", "Values": ["pending", "running"]}])
    return vpcs, sum(len(r["Instances"]) for r in running["Reservations"])


def test_refuses_without_yes_then_rebuilds_from_scratch(aws, inventory):
    ec2 = boto3.client("ec2")
    preview = site_check(inventory)  # a new account: check mode says what a real run builds, and builds nothing
    assert preview.returncode == 0, preview.stdout[-4000:] + preview.stderr[-3000:]
    said = " ".join(preview.stdout.split())
    assert "a real run creates it with 10 subnets" in said and "a real run after it launches 11 nodes in 6 pools" in said
    assert platform_state(ec2) == ([], 0) and ec2.describe_key_pairs()["KeyPairs"] == []

    refused = rebuild(inventory)
    assert refused.returncode == 2, refused.stdout[-3000:] + refused.stderr[-3000:]
    assert "Re-run with --yes" in refused.stderr
    assert platform_state(ec2) == ([], 0)

    first = rebuild(inventory, "--yes")
    assert first.returncode == 0, first.stdout[-5000:] + first.stderr[-3000:]
    (vpc,), nodes = platform_state(ec2)
    assert nodes == 11

    second = rebuild(inventory, "--yes")
    assert second.returncode == 0, second.stdout[-5000:] + second.stderr[-3000:]
    (new_vpc,), nodes = platform_state(ec2)
    assert new_vpc != vpc  # torn down and built again, not merely converged
    assert nodes == 11
    assert len(ec2.describe_addresses()["Addresses"]) == 1  # the old NAT's EIP was released

    state = json.loads((ROOT / ".cache" / "logs" / "rebuild" / "msa-local" / "state.json").read_text())
    assert [p["phase"] for p in state["phases"]][:3] == ["teardown", "network", "compute"] and state["failed"] is None
    assert "phase timings" in second.stdout and "network" in second.stdout.split("phase timings")[-1]

    converged = site_check(inventory, "--diff")  # a built platform: check mode finds nothing to change
    assert converged.returncode == 0, converged.stdout[-4000:] + converged.stderr[-3000:]
    assert recap(converged)["changed"] == 0, converged.stdout[-6000:]


def test_resume_starts_at_the_failed_phase_and_runs_no_teardown(aws, inventory):
    """A rebuild that stopped in compute resumes there: network is skipped, nothing is torn down."""
    ec2 = boto3.client("ec2")
    runs = ROOT / ".cache" / "logs" / "rebuild" / "msa-local"
    runs.mkdir(parents=True, exist_ok=True)
    nothing = rebuild(inventory, "--resume")
    (runs / "state.json").write_text(json.dumps({"phases": [{"phase": "teardown", "seconds": 1, "status": "ok"},
                                                            {"phase": "network", "seconds": 1, "status": "ok"},
                                                            {"phase": "compute", "seconds": 1, "status": "failed"}],
                                                 "failed": {"phase": "compute", "task": "Launch", "host": "localhost"}}))
    preview = rebuild(inventory, "--resume")
    assert preview.returncode == 2 and "Re-run with --resume --yes to continue platform msa-local from compute" in preview.stderr
    resumed = rebuild(inventory, "--resume", "--yes")
    # No teardown, network skipped (msa_site_skip for this run): compute finds no VPC to launch into and fails
    # again, so the state still points at compute and nothing was built.
    assert resumed.returncode != 0 and "resuming platform msa-local at phase compute" in resumed.stdout
    assert "tearing down" not in resumed.stdout
    state = json.loads((runs / "state.json").read_text())
    assert state["failed"]["phase"] == "compute", state
    assert "teardown" not in [p["phase"] for p in state["phases"]]
    assert ec2.describe_vpcs(Filters=TAG)["Vpcs"] == []
    assert nothing.returncode == 2
