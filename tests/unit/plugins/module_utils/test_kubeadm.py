"""plugins/module_utils/kubeadm.py: kubelet label rules, the cluster preflight, who speaks for the cluster."""
from __future__ import annotations

import pytest
from ansible_collections.msa.platform.plugins.module_utils import kubeadm

V = "v1.37.2"
CPS = ["cp-1", "cp-2", "cp-3"]
HOSTS = [*CPS, "w-1"]
NAMES = {h: h for h in HOSTS}


def node(kubeadm_v=V, kubelet=f"Kubernetes {V}", kubectl=V, admin=False, kubelet_conf=False, listening=(22,), live=None, uuid=""):
    return {"versions": {"kubeadm": kubeadm_v, "kubelet": kubelet, "kubectl": kubectl}, "admin_conf": admin,
            "kubelet_conf": kubelet_conf, "listening": list(listening), "live": live or {}, "product_uuid": uuid}


def fresh():
    return {h: node(uuid=f"uuid-{h}") for h in HOSTS}


def built():
    live = {"ok": True, "server_version": V, "nodes": list(HOSTS)}
    states = {h: node(kubelet_conf=True, uuid=f"uuid-{h}", listening=(6443, 10250)) for h in HOSTS}
    for cp in CPS:
        states[cp].update(admin_conf=True, live=live)
    return states


@pytest.mark.parametrize(("key", "allowed"), [
    ("workload", True), ("example.com/team", True),
    ("node.kubernetes.io/instance-type", True), ("node.kubernetes.io/exclude-from-external-load-balancers", True),
    ("kubelet.kubernetes.io/x", True), ("topology.kubernetes.io/zone", True), ("foo.node.kubernetes.io/bar", True),
    ("node-role.kubernetes.io/api", False), ("node-role.kubernetes.io/control-plane", False),
    ("kubernetes.io/role", False), ("example.k8s.io/x", False), ("k8s.io/x", False),
])
def test_kubelet_may_set(key, allowed):
    assert kubeadm.kubelet_may_set(key) is allowed


def test_split_labels_and_node_labels_arg():
    labels = {"workload": "api", "api": "auth", "node-role.kubernetes.io/api": "", "node.kubernetes.io/x": None}
    assert kubeadm.split_labels(labels) == {"kubelet": {"api": "auth", "node.kubernetes.io/x": "", "workload": "api"},
                                            "deferred": {"node-role.kubernetes.io/api": ""}}
    assert kubeadm.node_labels_arg(labels) == "api=auth,node.kubernetes.io/x=,workload=api"
    assert kubeadm.node_labels_arg({}) == ""


def test_fresh_cluster_passes_and_the_first_control_plane_speaks():
    states = fresh()
    assert kubeadm.preflight(HOSTS, states, "1.37", NAMES, CPS) == []
    assert kubeadm.api_host(CPS, states) == "cp-1"
    assert kubeadm.pending_hosts(HOSTS, states, NAMES, "cp-1") == HOSTS


def test_built_cluster_passes_and_nothing_is_pending():
    states = built()
    assert kubeadm.preflight(HOSTS, states, "1.37.2", NAMES, CPS) == []  # ports in use are ours
    assert kubeadm.pending_hosts(HOSTS, states, NAMES, "cp-1") == []


def test_a_replaced_first_control_plane_does_not_init_a_second_cluster():
    states = built()
    states["cp-1"] = node(uuid="new")  # a new instance took the first name
    assert kubeadm.api_host(CPS, states) == "cp-2"
    assert kubeadm.pending_hosts(HOSTS, states, NAMES, "cp-2") == ["cp-1"]


def test_every_problem_names_host_and_check():
    states = fresh()
    states["cp-2"] = node(kubelet="Kubernetes v1.38.0", uuid="u2")                     # kubelet newer than the API
    states["cp-3"] = node(kubeadm_v="v1.36.4", listening=(22, 2379, 6443), uuid="u3")   # wrong kubeadm, busy ports
    states["w-1"] = node(kubectl="", listening=(10250,), uuid="u2")                     # no kubectl, busy, duplicate uuid
    problems = kubeadm.preflight(HOSTS, states, "1.37", NAMES, CPS)
    assert problems == [
        "cp-2: kubelet version skew: kubelet Kubernetes v1.38.0 may not be newer than the API server 1.37 nor more than 3 minor versions older",
        "cp-3: kubeadm version: kubeadm is v1.36.4, the topology asks 1.37",
        "cp-3: required ports: 2379, 6443 already in use on a node not yet in the cluster",
        "w-1: kubectl version: kubectl is not installed or unreadable (run node_prep first)",
        "w-1: unique product_uuid: u2 is also the product_uuid of cp-2",
        "w-1: required ports: 10250 already in use on a node not yet in the cluster",
    ]


def test_even_control_plane_count_and_unreachable_host():
    states = fresh()
    del states["w-1"]
    problems = kubeadm.preflight(HOSTS, states, "1.37", NAMES, ["cp-1", "cp-2"])
    assert problems[0] == "all: control-plane count: 2 control-plane nodes; etcd needs an odd number (1, 3, 5)"
    assert "w-1: node state: not collected (host unreachable?)" in problems


def test_membership_and_live_api_problems():
    states = built()
    states["w-1"]["kubelet_conf"] = True
    live = dict(states["cp-1"]["live"], nodes=list(CPS))  # w-1 has a kubelet.conf but the cluster does not know it
    for cp in CPS:
        states[cp]["live"] = live
    assert kubeadm.preflight(HOSTS, states, "1.37", NAMES, CPS) == [
        "w-1: node membership: /etc/kubernetes/kubelet.conf exists but node 'w-1' is not in the cluster; "
        "run `kubeadm reset` on it before it can join again"]
    dead = fresh()
    dead["cp-1"].update(admin_conf=True, live={"ok": False, "error": "connection refused"})
    assert any(p.startswith("cp-1: live API: /etc/kubernetes/admin.conf exists but the API server does not answer (connection refused)")
               for p in kubeadm.preflight(HOSTS, dead, "1.37", NAMES, CPS))


def test_cluster_version_differs_from_the_topology():
    states = built()
    for cp in CPS:
        states[cp]["live"] = dict(states[cp]["live"], server_version="v1.36.3")
    assert kubeadm.preflight(HOSTS, states, "1.37", NAMES, CPS)[0].startswith(
        "cp-1: version skew: the cluster runs v1.36.3, the topology asks 1.37")


@pytest.mark.parametrize(("target", "installed", "full"), [
    ("1.37", "v1.37.2", "v1.37.2"), ("1.37.1", "v1.37.2", "v1.37.1"), ("1.37", "v1.36.9", ""), ("1.37", "", ""),
])
def test_kubernetes_version(target, installed, full):
    assert kubeadm.kubernetes_version(target, installed) == full


def test_registration_taints_add_the_control_plane_taint_once():
    plan = [{"key": "api", "value": "auth", "effect": "NoSchedule"},
            {"key": "node-role.kubernetes.io/control-plane", "value": "", "effect": "NoSchedule"}]
    assert kubeadm.registration_taints(plan, True) == [
        {"key": "api", "value": "auth", "effect": "NoSchedule"},
        {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]
    assert kubeadm.registration_taints([], False) == []


def test_node_names_and_rename():
    hostvars = {"a": {"msa_private_dns_name": "ip-10-0-0-1.x.internal"}, "b": {}}
    names = kubeadm.node_names(hostvars, ["a", "b"])
    assert names == {"a": "ip-10-0-0-1.x.internal", "b": "b"}
    plan = [{"name": "a", "labels": {"x": "1"}}, {"name": "b"}, {"name": "db-1"}]
    assert kubeadm.rename_nodes(plan, names) == [{"name": "ip-10-0-0-1.x.internal", "labels": {"x": "1"}}, {"name": "b"}]
