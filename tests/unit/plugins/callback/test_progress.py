"""The msa.platform.progress stdout callback, run by ansible-playbook on a small two-phase playbook."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[4]
SECRET = "s3cr3t-token-value"

FIRST = """\
- name: Build the first layer
  hosts: all
  gather_facts: false
  tasks:
    - name: Say why something is skipped
      ansible.builtin.debug:
        msg: "Cluster layer skipped: no kubeadm here"
    - name: Change something
      ansible.builtin.command: "true"
      changed_when: true
    - name: Fail and be rescued
      block:
        - name: Fail inside a block
          ansible.builtin.fail:
            msg: handled below
      rescue:
        - name: Handle it
          ansible.builtin.set_fact:
            handled: true
- name: Second layer
  ansible.builtin.import_playbook: second.yml
"""
SECOND = """\
- name: Build the second layer
  hosts: all
  gather_facts: false
  tasks:
    - name: A secret task that fails but is ignored
      ansible.builtin.command: "false {secret}"
      no_log: true
      ignore_errors: true
    - name: Fail on one host
      ansible.builtin.fail:
        msg: "broken on {{{{ inventory_hostname }}}}"
      when: inventory_hostname == 'two'
- name: Never reached by two
  hosts: all
  gather_facts: false
  tasks:
    - name: Still runs on one
      ansible.builtin.debug:
        msg: "one goes on"
"""


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    work = tmp_path_factory.mktemp("progress")
    (work / "first.yml").write_text(FIRST)
    (work / "second.yml").write_text(SECOND.format(secret=SECRET))
    (work / "hosts.yml").write_text(
        "all:\n  hosts:\n    one: {}\n    two: {}\n  vars:\n    ansible_connection: local\n"
        f"    ansible_python_interpreter: {sys.executable}\n")
    state = work / "state.json"
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_STDOUT_CALLBACK="msa.platform.progress",
               ANSIBLE_CALLBACKS_ENABLED="msa.platform.progress", MSA_PROGRESS_STATE=str(state), ANSIBLE_NOCOLOR="1")
    proc = subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(work / "hosts.yml"),
                           str(work / "first.yml")], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    return proc, json.loads(state.read_text())


def test_one_line_per_play_and_phase(run):
    proc, _state = run
    out = proc.stdout
    assert proc.returncode == 2, out + proc.stderr
    plays = [line.split() for line in out.splitlines() if line.startswith("  ok ") or line.startswith("  FAILED ")]
    assert [p[0] for p in plays] == ["ok", "FAILED", "ok"]
    assert "2/2 hosts" in " ".join(plays[0]) and "2 changed" in " ".join(plays[0])  # both hosts ran the change
    assert "1/2 hosts" in " ".join(plays[1])
    assert "1/1 hosts" in " ".join(plays[2])  # the failed host left the run
    phases = [line for line in out.splitlines() if line.startswith("== ")]
    assert phases[0] == "== first" and phases[1].startswith("== first: ok in ")
    assert phases[2] == "== second" and phases[3].startswith("== second: failed in ")


def test_failures_in_full_rescues_and_ignores_in_one_line(run):
    proc, _state = run
    out = proc.stdout + proc.stderr
    assert "FAILED: two | Fail on one host (" in out and "broken on two" in out
    assert "failed, rescue follows: one | Fail inside a block: handled below" in out
    assert "ignored: one | A secret task that fails but is ignored failed (ignore_errors)" in out
    assert "Cluster layer skipped: no kubeadm here" in out  # debug messages are the skip reasons: shown
    assert SECRET not in out  # no_log results stay censored


def test_recap_keeps_the_default_format(run):
    proc, _state = run
    recap = {line.split()[0]: line for line in proc.stdout.splitlines() if " : ok=" in line}
    assert set(recap) == {"one", "two"}
    assert "failed=0" in recap["one"] and "rescued=1" in recap["one"] and "ignored=1" in recap["one"]
    assert "failed=1" in recap["two"] and "changed=2" in recap["two"]  # command reports changed, also when failing


def test_state_file_names_phases_and_the_first_failure(run):
    _proc, state = run
    assert [(p["phase"], p["status"], p["plays"]) for p in state["phases"]] == [("first", "ok", 1), ("second", "failed", 2)]
    assert all(p["seconds"] >= 0 for p in state["phases"])
    assert state["failed"] == {"phase": "second", "play": "Build the second layer", "task": "Fail on one host",
                               "host": "two", "kind": "failed"}


def test_phase_marks_name_the_phases_and_print_no_line_of_their_own(tmp_path):
    """site.yml imports phase_mark.yml with msa_phase before each layer: that name holds until the next mark,
    whatever files the layer imports (cluster.yml -> kubeadm.yml stays phase 'cluster')."""
    (tmp_path / "phase_mark.yml").write_text(
        "- name: Mark\n  hosts: localhost\n  gather_facts: false\n  tasks:\n"
        "    - name: Mark the phase\n      ansible.builtin.set_fact:\n        mark: '{{ msa_phase }}'\n")
    (tmp_path / "layer.yml").write_text("- name: Layer play\n  ansible.builtin.import_playbook: inner.yml\n")
    (tmp_path / "inner.yml").write_text(
        "- name: Inner play\n  hosts: localhost\n  gather_facts: false\n  tasks:\n"
        "    - name: Work\n      ansible.builtin.debug:\n        msg: working\n")
    (tmp_path / "site.yml").write_text("".join(
        f"- name: Phase start ({p})\n  ansible.builtin.import_playbook: phase_mark.yml\n  vars: {{msa_phase: {p}}}\n"
        f"- name: The {p} layer\n  ansible.builtin.import_playbook: layer.yml\n" for p in ("cluster", "data")))
    state = tmp_path / "state.json"
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_STDOUT_CALLBACK="msa.platform.progress",
               ANSIBLE_CALLBACKS_ENABLED="msa.platform.progress", MSA_PROGRESS_STATE=str(state), ANSIBLE_NOCOLOR="1")
    proc = subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", "-c", "local",
                           "-e", f"ansible_python_interpreter={sys.executable}", str(tmp_path / "site.yml")],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert [line.split(":")[0] for line in proc.stdout.splitlines() if line.startswith("== ")] == [
        "== cluster", "== cluster", "== data", "== data"]
    plays = [line.split()[1:3] for line in proc.stdout.splitlines() if line.startswith("  ok ")]
    assert plays == [["Inner", "play"], ["Inner", "play"]]  # the marks print nothing
    assert [p["phase"] for p in json.loads(state.read_text())["phases"]] == ["cluster", "data"]


def test_without_a_state_file_nothing_is_written_and_lines_print_as_lines(tmp_path):
    """make demo uses the view without MSA_PROGRESS_STATE: the run ends cleanly and writes no file (an empty path
    option once became the current directory, and the end of every demo run failed writing over it). The run
    summary is a debug message of lines: printed as lines, not as a JSON list."""
    (tmp_path / "play.yml").write_text("- name: One play\n  hosts: localhost\n  gather_facts: false\n  tasks:\n"
                                       "    - name: Work\n      ansible.builtin.debug:\n        msg: ['| node | ip |', '|---|---|']\n")
    env = {k: v for k, v in os.environ.items() if k != "MSA_PROGRESS_STATE"}
    env.update(ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_STDOUT_CALLBACK="msa.platform.progress",
               ANSIBLE_CALLBACKS_ENABLED="msa.platform.progress", ANSIBLE_NOCOLOR="1")
    proc = subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", "-c", "local",
                           "-e", f"ansible_python_interpreter={sys.executable}", str(tmp_path / "play.yml")],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0 and "Callback dispatch" not in proc.stdout + proc.stderr, proc.stdout + proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["play.yml"]
    assert "     | node | ip |\n     |---|---|\n" in proc.stdout, proc.stdout
