"""ansible-playbook runs the plan task first: a broken topology stops the play there with every error
listed; a valid one leaves msa_plan as a fact for the next task. A topology file that is not even valid
YAML (or repeats a key) stops the run before any task, naming the file, line and column
(msa.platform.strict_vars, enabled in ansible.cfg).
The examples' aws_cluster.yml asks the emulator (the `aws` fixture) for hosts, never a real account."""
from __future__ import annotations

import os
import shutil
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
def test_valid_topology_sets_msa_plan(aws, example):  # pylint: disable=unused-argument
    run = playbook(ROOT / "inventories" / "examples" / example)
    out = run.stdout + run.stderr
    assert run.returncode == 0, out
    assert "ok=2" in out and "failed=0" in out, out


YAML_BREAKS = [
    # (case, replace this line of the minimal topology, by this, expected location, fragment)
    ("tab", "  region: ap-northeast-2", "\tregion: ap-northeast-2", ":5:1: ", "a tab character"),
    ("unclosed-bracket", "    admin_cidrs: [203.0.113.0/24]", "    admin_cidrs: [203.0.113.0/24", ":8:8: ",
     "flow sequence opened at line 7, column 18"),
    ("bad-escape", "  name: mini", '  name: "mi\\qni"', ":4:13: ", "unknown escape character 'q'"),
    ("duplicate-key", "  region: ap-northeast-2", "  region: ap-northeast-2\n  name: other", ":6:3: ", "duplicate key 'name' (first at line 4"),
]


@pytest.mark.parametrize(("case", "line", "broken", "where", "fragment"), YAML_BREAKS, ids=[b[0] for b in YAML_BREAKS])
def test_yaml_errors_name_file_line_and_column_before_any_task(tmp_path, case, line, broken, where, fragment):
    inventory = tmp_path / "inventory"
    shutil.copytree(ROOT / "inventories" / "examples" / "minimal-kubeadm", inventory)
    topology = inventory / "group_vars" / "all" / "topology.yml"
    text = topology.read_text()
    assert line + "\n" in text
    topology.write_text(text.replace(line + "\n", broken + "\n", 1))
    run = playbook(inventory)
    out = run.stdout + run.stderr
    assert run.returncode != 0, out
    assert f"{topology}{where}" in out and fragment in out, out
    assert "TASK [" not in out, out


def test_valid_inventory_loads_without_warnings(aws):  # pylint: disable=unused-argument
    """The example as a user copies it: its aws_cluster.yml asks the (empty, emulated) account for hosts and
    finds none, without a warning; the topology in group_vars plans cleanly."""
    run = playbook(ROOT / "inventories" / "examples" / "minimal-kubeadm")
    out = run.stdout + run.stderr
    assert run.returncode == 0 and "[WARNING]" not in out, out
