"""Drain, cordon and eviction against the API fake, as kube-apiserver answers them: the Eviction
subresource deletes a pod unless a PodDisruptionBudget allows no disruption (429 TooManyRequests),
Pending and finished pods are deleted without looking at budgets, and kubernetes.core.k8s_drain (the
module upgrade.yml and remove-node.yml use) cordons, evicts what it may and fails on a 429."""
from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from urllib.error import HTTPError

import pytest
from k8s_harness import ROOT, kube_api, run_playbook

PLAYBOOK = ROOT / "tests" / "integration" / "k8s" / "playbooks" / "drain.yml"


def evict(kube, namespace: str, name: str, body: dict | None = None) -> tuple[int, dict]:
    eviction = {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": name, "namespace": namespace}}
    data = json.dumps(body if body is not None else eviction).encode()
    request = urllib.request.Request(f"{kube.url}/api/v1/namespaces/{namespace}/pods/{name}/eviction", data=data,
                                     method="POST", headers={"Authorization": "Bearer fake-admin-token",
                                                             "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request) as answer:
            return answer.status, json.loads(answer.read())
    except HTTPError as err:
        return err.code, json.loads(err.read())


@pytest.fixture
def web(kube: kube_api.KubeApiFake) -> kube_api.KubeApiFake:
    """Two Running replicas of web (one per node) under a budget of minAvailable 1."""
    kube.add_node("n1")
    kube.add_node("n2")
    kube.add_service_account("apps")
    kube.add_pod("apps", "web-1", "n1", {"app": "web"}, "ReplicaSet", phase="Running")
    kube.add_pod("apps", "web-2", "n2", {"app": "web"}, "ReplicaSet", phase="Running")
    kube.add_pdb("apps", "web", {"app": "web"}, min_available=1)
    return kube


def test_eviction_honours_the_budget(web):
    code, body = evict(web, "apps", "web-1")
    assert code == 201 and body["status"] == "Success"
    assert ("apps", "web-1") not in web.pods
    code, body = evict(web, "apps", "web-2")
    assert code == 429 and body["reason"] == "TooManyRequests"
    assert body["message"] == "Cannot evict pod as it would violate the pod's disruption budget."
    assert body["details"]["causes"][0]["message"] == "The disruption budget web needs 1 healthy pods and has 1 currently"
    assert ("apps", "web-2") in web.pods


def test_pending_pods_ignore_budgets_and_missing_pods_are_404(web):
    web.add_pod("apps", "web-3", "n1", {"app": "web"}, "ReplicaSet")  # Pending: no kubelet reported it
    web.add_pdb("apps", "strict", {"app": "other"}, min_available=5)
    assert evict(web, "apps", "web-3")[0] == 201
    assert evict(web, "apps", "nope")[0] == 404
    assert evict(web, "apps", "web-1", {"metadata": {"name": "web-2"}})[0] == 400


def test_two_budgets_on_one_pod_are_refused(web):
    web.add_pdb("apps", "web-too", {"app": "web"}, max_unavailable=1)
    code, body = evict(web, "apps", "web-1")
    assert code == 500 and "more than one PodDisruptionBudget" in body["message"]


def _drain(kubeconfig: Path, node: str, uncordon: str = "") -> tuple[dict, str]:
    result = kubeconfig.parent / "drain.json"
    run = run_playbook(PLAYBOOK, {"kubeconfig": str(kubeconfig), "node": node, "uncordon": uncordon, "result_file": str(result)})
    out = run.stdout + run.stderr
    assert run.returncode == 0, out
    return json.loads(result.read_text(encoding="utf-8")), out


def test_k8s_drain_cordons_evicts_and_stops_on_a_budget(web, kubeconfig):
    web.add_pod("apps", "agent-n1", "n1", {"app": "agent"}, "DaemonSet", phase="Running")
    web.add_pod("apps", "cache-n1", "n1", {"app": "cache"}, "ReplicaSet", phase="Running", empty_dir=True)
    result, _out = _drain(kubeconfig, "n1")
    assert not result.get("failed"), result
    assert web.node("n1")["spec"]["unschedulable"] is True
    # web-1 and the emptyDir pod evicted, the DaemonSet pod left alone
    assert sorted(k[1] for k in web.pods) == ["agent-n1", "web-2"]
    # n2's only web pod is protected: the drain fails on the 429 and leaves n2 cordoned (the role's rescue
    # uncordons); n1 is uncordoned in the same run
    result, _out = _drain(kubeconfig, "n2", uncordon="n1")
    assert result.get("failed") and "violate the pod's disruption budget" in result["msg"], result
    assert web.node("n2")["spec"]["unschedulable"] is True
    assert not web.node("n1")["spec"].get("unschedulable")
    assert [e["code"] for e in web.evictions] == [201, 201, 429]
