"""ansible-playbook runs the plan task first: a broken topology stops the play there with every error
listed; a valid one leaves msa_plan as a fact for the next task."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PLAYBOOK = ROOT / "tests" / "integration" / "playbooks" / "plan.yml"
BROKEN_ERRORS = [
    "kubernetes.cni: only used in kubeadm mode",
    "pools[0].instnce_type: unknown key (did you mean 'instance_type'?)",
    "pools[1].taints[0].effect: 'NoSchedul' is not one of NoSchedule, PreferNoSchedule, NoExecute",
    "network.admin_cidrs[0]: 0.0.0.0/0 would open SSH to the world",
    "services.kafka.controllers: a KRaft quorum needs an odd number of controllers",
]


def playbook(inventory: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_CACHE_PLUGIN="memory", ANSIBLE_NOCOLOR="1",
               ANSIBLE_STDOUT_CALLBACK="default")
    return subprocess.run([str(ROOT / ".venv" / "bin" / "ansible-playbook"), "-i", str(inventory), str(PLAYBOOK)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)


def test_broken_topology_fails_in_the_first_task_with_every_error():
    run = playbook(ROOT / "tests" / "integration" / "inventories" / "broken")
    out = run.stdout + run.stderr
    assert run.returncode == 2, out
    assert "5 errors in the topology" in out, out
    for error in BROKEN_ERRORS:
        assert error in out, (error, out)
    assert "TASK [Validate the topology and set the plan]" in out
    assert "TASK [Check the plan is a fact for later plays]" not in out
    assert "ok=0" in out and "failed=1" in out


@pytest.mark.parametrize("example", ["minimal-kubeadm", "courm-eks"])
def test_valid_topology_sets_msa_plan(example):
    run = playbook(ROOT / "inventories" / "examples" / example)
    out = run.stdout + run.stderr
    assert run.returncode == 0, out
    assert "ok=2" in out and "failed=0" in out, out
