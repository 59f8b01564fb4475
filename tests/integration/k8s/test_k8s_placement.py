"""msa.platform.k8s_placement against the API fake, run in this process the way Ansible runs it."""
from __future__ import annotations

import pytest


@pytest.fixture
def cluster(kube):
    """Two APIs with one dedicated node each, one plain worker, and pods that respect the rule."""
    kube.add_node("auth-1", labels={"api": "auth"})
    kube.add_node("orders-1", labels={"api": "orders"})
    kube.add_node("worker-1")
    for namespace in ("auth", "orders", "monitoring", "kube-system", "default"):
        kube.add_service_account(namespace)  # no controller-manager: the harness makes "default"
    kube.add_pod("auth", "auth-api-0", "auth-1", {"api": "auth"})
    kube.add_pod("orders", "orders-api-0", "orders-1", {"api": "orders"})
    kube.add_pod("orders", "orders-api-1", None, {"api": "orders"})
    kube.add_pod("monitoring", "node-exporter-a", "auth-1", owner_kind="DaemonSet")
    kube.add_pod("kube-system", "coredns-0", "orders-1", owner_kind="ReplicaSet")
    kube.add_pod("default", "batch-0", "worker-1", owner_kind="Job")
    return kube


def test_clean_placement_is_reported_per_api(cluster, module):
    cluster.reset_counts()
    result = module("k8s_placement")
    assert not result.get("failed") and not result["changed"]
    assert result["placement"] == {
        "auth": {"nodes": ["auth-1"], "pods": [{"namespace": "auth", "pod": "auth-api-0", "node": "auth-1"}],
                 "pending": []},
        "orders": {"nodes": ["orders-1"], "pods": [{"namespace": "orders", "pod": "orders-api-0", "node": "orders-1"}],
                   "pending": ["orders/orders-api-1"]},
    }
    assert result["violations"] == [] and result["table"] == []
    assert (cluster.count("list", "nodes"), cluster.count("list", "pods")) == (1, 1)


def test_misplaced_and_foreign_pods_fail_with_a_table(cluster, module):
    cluster.add_pod("auth", "auth-api-1", "worker-1", {"api": "auth"})
    cluster.add_pod("default", "nginx", "orders-1")
    result = module("k8s_placement")
    assert result["failed"]
    assert result["msg"].startswith("placement check failed: 2 pod(s) placed against the dedicated-node rule:\n")
    assert result["table"] == [
        "API     NAMESPACE  POD         NODE      PROBLEM",
        "------  ---------  ----------  --------  " + "-" * len("foreign pod on a dedicated node (belongs to no API)"),
        "auth    auth       auth-api-1  worker-1  runs on a node not dedicated to it",
        "orders  default    nginx       orders-1  foreign pod on a dedicated node (belongs to no API)",
    ]
    report_only = module("k8s_placement", fail_on_violation=False, system_namespaces=[], ignore_daemonsets=False)
    assert not report_only.get("failed")
    assert {v["pod"] for v in report_only["violations"]} == {"auth-api-1", "nginx", "node-exporter-a", "coredns-0"}


def test_selected_apis_namespaces_and_labels(cluster, module):
    cluster.add_pod("default", "nginx", "orders-1")
    cluster.reset_counts()
    result = module("k8s_placement", apis=["auth"], namespaces=["auth", "default"])
    assert not result.get("failed") and list(result["placement"]) == ["auth"]
    assert (cluster.count("list", "nodes"), cluster.count("list", "pods")) == (1, 2)
    other = module("k8s_placement", node_label="tier", pod_label="tier")
    assert other["placement"] == {} and other["violations"] == []


def test_forbidden_pod_list(cluster, module, tmp_path):
    cluster.tokens["eve-token"] = "eve"
    cluster.deny("eve", "list", "pods")
    config = cluster.write_kubeconfig(tmp_path / "eve", token="eve-token")
    result = module("k8s_placement", kubeconfig=str(config))
    assert result["failed"] and result["status"] == 403
    assert 'pods is forbidden: User "eve" cannot list resource "pods"' in result["msg"]
