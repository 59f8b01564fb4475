"""The wait steps of the calico and aws_cloud_provider roles, run by ansible-playbook against a
stand-in kubectl.

No cluster can run here, so `kubectl` is a small script that accepts exactly the invocations the
roles make (the admin kubeconfig first, then the known subcommands and flags; anything else exits 2
naming it, as kubectl refuses an unknown flag) and answers from a state file per case: whether the
calico-node DaemonSet exists, which nodes are Ready, which calico-node pods are ready, from which
call on each node has its providerID. It logs every call, so the tests see how often the roles
poll. What is proven: the roles' bounded waits, their retry logic and that their failures name the
nodes and pods that are not ready. Whether a real cluster gets there is only proven on one.
"""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
CALICO = ROOT / "roles" / "calico"
CCM = ROOT / "roles" / "aws_cloud_provider"
PLAYBOOK_BIN = ROOT / ".venv" / "bin" / "ansible-playbook"
KUBECONFIG = "/etc/kubernetes/admin.conf"

STAND_IN = r'''#!/usr/bin/env python3
import json, os, sys
state_file = os.environ["KUBECTL_STAND_IN_STATE"]
state = json.load(open(state_file))
args = sys.argv[1:]
with open(state_file + ".log", "a") as log:
    log.write(json.dumps(args) + "\n")
calls = sum(1 for _ in open(state_file + ".log"))
if args[:2] != ["--kubeconfig", state["kubeconfig"]]:
    sys.exit(f"error: expected --kubeconfig {state['kubeconfig']} first, got {args[:2]}")
args = args[2:]

def node(name, ready, provider_from):
    if isinstance(provider_from, str):
        spec = {"providerID": provider_from}
    elif provider_from is not None and calls >= provider_from:
        spec = {"providerID": f"aws:///ap-northeast-2a/i-{name}"}
    else:
        spec = {}
    return {"metadata": {"name": name}, "spec": spec,
            "status": {"conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}}

nodes = [node(n["name"], n.get("ready", True), n.get("provider_from", 1)) for n in state["nodes"]]
pods = [{"metadata": {"name": p["name"]}, "spec": {"nodeName": p["node"]},
         "status": {"phase": p.get("phase", "Running"),
                    "conditions": [{"type": "Ready", "status": "True" if p.get("ready", True) else "False"}]}}
        for p in state.get("pods", [])]
timeout = [a for a in args if a.startswith("--timeout=")]
if args[:1] in (["wait"], ["rollout"]) and (len(timeout) != 1 or not timeout[0][10:-1].isdigit() or not timeout[0].endswith("s")):
    sys.exit(f"error: wait/rollout need one --timeout=<n>s, got {timeout}")
rest = [a for a in args if not a.startswith("--timeout=")]
if rest == ["wait", "--for=create", "daemonset/calico-node", "-n", "calico-system"]:
    sys.exit(0 if state.get("daemonset", True) else "error: timed out waiting for the condition on daemonsets/calico-node")
if rest == ["rollout", "status", "daemonset/calico-node", "-n", "calico-system"]:
    if all(p.get("ready", True) for p in state.get("pods", [])):
        print('daemon set "calico-node" successfully rolled out'); sys.exit(0)
    sys.exit("error: timed out waiting for the condition")
if rest == ["wait", "--for=condition=Ready", "node", "--all"]:
    bad = [n["metadata"]["name"] for n in nodes if n["status"]["conditions"][0]["status"] != "True"]
    sys.exit(f"error: timed out waiting for the condition on nodes/{bad[0]}" if bad else 0)
if rest == ["wait", "--for=condition=Established", "crd/installations.operator.tigera.io", "crd/apiservers.operator.tigera.io"]:
    sys.exit(0)
if rest == ["get", "-o", "name", "crd/installations.operator.tigera.io", "crd/apiservers.operator.tigera.io"]:
    if state.get("crds", True):
        print("customresourcedefinition.apiextensions.k8s.io/installations.operator.tigera.io")
        print("customresourcedefinition.apiextensions.k8s.io/apiservers.operator.tigera.io")
        sys.exit(0)
    sys.exit('Error from server (NotFound): customresourcedefinitions.apiextensions.k8s.io "installations.operator.tigera.io" not found')
if rest == ["get", "nodes", "-o", "json"]:
    print(json.dumps({"kind": "List", "items": nodes})); sys.exit(0)
if rest == ["get", "pods", "-n", "calico-system", "-l", "k8s-app=calico-node", "-o", "json"]:
    print(json.dumps({"kind": "List", "items": pods})); sys.exit(0)
sys.exit(f"error: the stand-in kubectl does not know {rest}")
'''

PLAY = """
- name: "{name}"
  hosts: localhost
  connection: local
  gather_facts: false
  vars_files: {vars_files}
  environment:
    PATH: "{bin}:{{{{ lookup('ansible.builtin.env', 'PATH') }}}}"
    KUBECTL_STAND_IN_STATE: "{state}"
  tasks:
    - name: Wait, a failure kept for the report (json callback)
      block:
        - name: Wait
          ansible.builtin.include_tasks:
            file: {wait}
          vars: {vars}
      rescue:
        - name: Failed as expected
          ansible.builtin.debug:
            msg: rescued
"""

NODES = [{"name": "cp-1"}, {"name": "cp-2"}, {"name": "worker-1"}]
PODS = [{"name": "calico-node-a", "node": "cp-1"}, {"name": "calico-node-b", "node": "cp-2"},
        {"name": "calico-node-c", "node": "worker-1"}]
CASES = {
    # name: (role, state, role inputs)
    "calico-ready": ("calico", {"nodes": NODES, "pods": PODS}, {"calico_wait_timeout": 30}),
    "calico-not-ready": ("calico", {"nodes": [{"name": "cp-1"}, {"name": "cp-2", "ready": False}, {"name": "worker-1"}],
                                    "pods": [PODS[0], {"name": "calico-node-b", "node": "cp-2", "ready": False, "phase": "Pending"},
                                             PODS[2]]}, {"calico_wait_timeout": 30}),
    "calico-no-daemonset": ("calico", {"nodes": NODES, "daemonset": False, "pods": []}, {"calico_wait_timeout": 30}),
    # providerIDs appear on the 3rd `get nodes`: two more polls, one second apart.
    "ccm-ready-later": ("aws_cloud_provider", {"nodes": [{**n, "provider_from": 3} for n in NODES]},
                        {"aws_cloud_provider_wait_timeout": 10, "_aws_cloud_provider_wait_delay": 1}),
    "ccm-missing": ("aws_cloud_provider", {"nodes": [{"name": "cp-1"}, {"name": "worker-1", "provider_from": None},
                                                     {"name": "worker-2", "provider_from": "kind://docker/worker-2"}]},
                    {"aws_cloud_provider_wait_timeout": 2, "_aws_cloud_provider_wait_delay": 1}),
}


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory) -> dict[str, dict]:
    tmp = tmp_path_factory.mktemp("waits")
    (tmp / "bin").mkdir()
    kubectl = tmp / "bin" / "kubectl"
    kubectl.write_text(STAND_IN)
    kubectl.chmod(0o755)
    plays = []
    for name, (role, state, inputs) in CASES.items():
        path = CALICO if role == "calico" else CCM
        (tmp / f"{name}.json").write_text(json.dumps({**state, "kubeconfig": KUBECONFIG}))
        plays.append(PLAY.format(name=name, vars_files=json.dumps([str(path / "defaults/main.yml"), str(path / "vars/main.yml")]),
                                 bin=tmp / "bin", state=tmp / f"{name}.json", wait=path / "tasks/wait.yml",
                                 vars=json.dumps(inputs)))
    (tmp / "play.yml").write_text("\n".join(plays))
    env = {**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1",
           "ANSIBLE_STDOUT_CALLBACK": "json", "ANSIBLE_FACT_CACHING": "memory",
           "ANSIBLE_PYTHON_INTERPRETER": str(ROOT / ".venv" / "bin" / "python")}
    result = subprocess.run([str(PLAYBOOK_BIN), "-i", "localhost,", str(tmp / "play.yml")], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    # ansible.cfg also enables profile_tasks, whose lines surround the json document.
    report, _end = json.JSONDecoder().raw_decode(result.stdout[result.stdout.index("\n{") + 1:])
    found = {}
    for play in report["plays"]:
        name = play["play"]["name"]
        results = [task["hosts"]["localhost"] for task in play["tasks"] if "localhost" in task["hosts"]]
        log = tmp / f"{name}.json.log"
        calls = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
        found[name] = {"failures": [r for r in results if r.get("failed")], "results": results, "calls": calls}
    return found


def test_calico_ready_cluster_passes(outcomes):
    outcome = outcomes["calico-ready"]
    assert outcome["failures"] == []
    assert [call[2:4] for call in outcome["calls"]] == [["wait", "--for=create"], ["rollout", "status"],
                                                        ["wait", "--for=condition=Ready"]]
    assert all("--timeout=30s" in call for call in outcome["calls"])


def test_calico_failure_names_nodes_and_pods(outcomes):
    outcome = outcomes["calico-not-ready"]
    # The loop stops at the failed rollout; the rescue reads the state and reports it.
    assert [call[2:4] for call in outcome["calls"]][:2] == [["wait", "--for=create"], ["rollout", "status"]]
    assert ["wait", "--for=condition=Ready"] not in [call[2:4] for call in outcome["calls"]]
    [report] = [failure for failure in outcome["failures"] if failure.get("msg", "").startswith("calico:")]
    assert "not ready after 30 s (rollout status daemonset/calico-node -n calico-system --timeout=30s)" in report["msg"]
    assert "Nodes not Ready: cp-2;" in report["msg"]
    assert "calico-node pods not ready: calico-node-b on cp-2 (Pending)" in report["msg"]
    assert "worker-1" not in report["msg"]


def test_calico_without_daemonset_points_at_the_operator(outcomes):
    outcome = outcomes["calico-no-daemonset"]
    [report] = [failure for failure in outcome["failures"] if failure.get("msg", "").startswith("calico:")]
    assert "(wait --for=create daemonset/calico-node -n calico-system --timeout=30s)" in report["msg"]
    assert "Nodes not Ready: none" in report["msg"]
    assert "logs deploy/tigera-operator" in report["msg"]


def test_ccm_wait_polls_until_every_node_has_a_provider_id(outcomes):
    outcome = outcomes["ccm-ready-later"]
    assert outcome["failures"] == []
    assert len(outcome["calls"]) == 3
    assert all(call[2:] == ["get", "nodes", "-o", "json"] for call in outcome["calls"])


def test_ccm_wait_is_bounded_and_names_the_nodes(outcomes):
    outcome = outcomes["ccm-missing"]
    # 2 s at 1 s per poll: the first read and two retries, then the report.
    assert len(outcome["calls"]) == 3
    [report] = outcome["failures"]
    assert "after 2 s these nodes have no aws:// spec.providerID: worker-1, worker-2 (kind://docker/worker-2)." in report["msg"]
    assert "cp-1" not in report["msg"]
    assert "logs ds/aws-cloud-controller-manager" in report["msg"]
