"""msa.platform.k8s_node_labels against the API fake, run in this process the way Ansible runs it."""
from __future__ import annotations

import socket

from k8s_harness import run_module

OWNED = "msa.platform/managed-labels"


def labels(kube, name):
    return kube.node(name)["metadata"].get("labels", {})


def test_applies_then_converges_without_touching_foreign_labels(kube, module):
    kube.add_node("auth-1", labels={"topology.kubernetes.io/zone": "a"})
    kube.add_node("auth-2")
    kube.reset_counts()
    first = module("k8s_node_labels", nodes={"auth-1": {"api": "auth", "workload": "api"}, "auth-2": {"api": "auth"}})
    assert first["changed"] and first["changed_nodes"] == ["auth-1", "auth-2"]
    assert labels(kube, "auth-1") == {"kubernetes.io/hostname": "auth-1", "topology.kubernetes.io/zone": "a",
                                      "api": "auth", "workload": "api"}
    assert kube.node("auth-1")["metadata"]["annotations"] == {OWNED: "api,workload"}
    assert (kube.count("list"), kube.count("patch"), kube.count("get")) == (1, 2, 0)
    kube.reset_counts()
    second = module("k8s_node_labels", nodes={"auth-1": {"api": "auth", "workload": "api"}, "auth-2": {"api": "auth"}})
    assert not second["changed"] and second["changed_nodes"] == []
    assert (kube.count("list"), kube.count("patch")) == (1, 0)
    assert second["nodes"]["auth-1"]["managed"] == ["api", "workload"]


def test_removes_an_owned_label_no_longer_wanted_and_keeps_foreign_ones(kube, module):
    kube.add_node("auth-1", labels={"team": "sre"})
    module("k8s_node_labels", nodes={"auth-1": {"api": "auth", "workload": "api"}})
    result = module("k8s_node_labels", nodes={"auth-1": {"api": "orders"}})
    assert result["changed"]
    assert labels(kube, "auth-1") == {"kubernetes.io/hostname": "auth-1", "team": "sre", "api": "orders"}
    assert kube.node("auth-1")["metadata"]["annotations"] == {OWNED: "api"}
    module("k8s_node_labels", nodes={"auth-1": {}})
    assert labels(kube, "auth-1") == {"kubernetes.io/hostname": "auth-1", "team": "sre"}
    assert "annotations" not in kube.node("auth-1")["metadata"]


def test_absent_removes_listed_keys_even_foreign(kube, module):
    kube.add_node("auth-1", labels={"legacy": "x"})
    module("k8s_node_labels", nodes={"auth-1": {"api": "auth", "workload": "api"}})
    result = module("k8s_node_labels", state="absent", nodes={"auth-1": {"legacy": None, "workload": None}})
    assert result["changed"]
    assert labels(kube, "auth-1") == {"kubernetes.io/hostname": "auth-1", "api": "auth"}
    assert result["nodes"]["auth-1"]["managed"] == ["api"]
    assert not module("k8s_node_labels", state="absent", nodes={"auth-1": {"legacy": None}})["changed"]


def test_check_mode_changes_nothing_and_diff_shows_before_after(kube, module):
    kube.add_node("auth-1", labels={"team": "sre"})
    kube.add_node("auth-2")
    module("k8s_node_labels", nodes={"auth-2": {"api": "auth"}})
    before = kube.node("auth-1")
    kube.reset_counts()
    result = module("k8s_node_labels", check=True, diff=True, nodes={"auth-1": {"api": "auth"}, "auth-2": {"api": "auth"}})
    assert result["changed"] and result["changed_nodes"] == ["auth-1"]
    assert kube.node("auth-1") == before
    assert (kube.count("list"), kube.count("patch")) == (1, 0)
    assert result["diff"] == {
        "before": {"auth-1": {"labels": {"kubernetes.io/hostname": "auth-1", "team": "sre"}, "managed": []}},
        "after": {"auth-1": {"labels": {"kubernetes.io/hostname": "auth-1", "team": "sre", "api": "auth"},
                             "managed": ["api"]}},
    }
    assert "diff" not in module("k8s_node_labels", check=True, nodes={"auth-1": {"api": "auth"}})


def test_conflict_is_retried_on_a_fresh_read(kube, module):
    kube.add_node("auth-1")
    kube.inject_conflict("auth-1", times=2)
    kube.reset_counts()
    result = module("k8s_node_labels", nodes={"auth-1": {"api": "auth"}})
    assert result["changed"] and result["conflicts"] == 2
    assert (kube.count("list"), kube.count("patch"), kube.count("get")) == (1, 3, 2)
    # the concurrent writer's label survives: the retry recomputed from the node it read again
    assert labels(kube, "auth-1")["example.com/touched"]
    assert labels(kube, "auth-1")["api"] == "auth"


def test_gives_up_after_bounded_conflicts(kube, module):
    kube.add_node("auth-1")
    kube.inject_conflict("auth-1", times=10)
    result = module("k8s_node_labels", nodes={"auth-1": {"api": "auth"}})
    assert result["failed"] and result["status"] == 409
    assert 'Operation cannot be fulfilled on nodes "auth-1"' in result["msg"]
    assert kube.count("patch") == 6


def test_invalid_input_fails_before_any_request(kube, module):
    kube.add_node("auth-1")
    kube.reset_counts()
    result = module("k8s_node_labels", nodes={"auth-1": {"bad key": "x", "api": "no spaces", "ok": True}})
    assert result["failed"]
    assert result["msg"].startswith("invalid input: ")
    assert len(result["errors"]) == 3
    assert "nodes.auth-1: label key 'bad key'" in result["msg"]
    assert "nodes.auth-1.ok: value True must be a string" in result["msg"]
    assert sum(kube.counts.values()) == 0


def test_missing_node_fails_and_patches_nothing(kube, module):
    kube.add_node("auth-1")
    result = module("k8s_node_labels", nodes={"auth-1": {"api": "auth"}, "ghost-1": {"api": "auth"}})
    assert result["failed"] and result["status"] == 404
    assert "nodes not found in the cluster: ghost-1" in result["msg"]
    assert kube.count("patch") == 0
    assert "api" not in labels(kube, "auth-1")


def test_label_selector_narrows_the_list(kube, module):
    kube.add_node("auth-1", labels={"pool": "auth"})
    kube.add_node("web-1")
    ok = module("k8s_node_labels", label_selector="pool=auth", nodes={"auth-1": {"api": "auth"}})
    assert ok["changed"]
    bad = module("k8s_node_labels", label_selector="pool=auth", nodes={"web-1": {"api": "web"}})
    assert bad["failed"] and "matching label selector 'pool=auth': web-1" in bad["msg"]


def test_forbidden_passes_the_rbac_message_through(kube, tmp_path):
    kube.tokens["alice-token"] = "alice"
    kube.deny("alice", "patch", "nodes")
    kube.add_node("auth-1")
    config = kube.write_kubeconfig(tmp_path / "alice", token="alice-token")
    result = run_module("k8s_node_labels", {"kubeconfig": str(config), "nodes": {"auth-1": {"api": "auth"}}})
    assert result["failed"] and result["status"] == 403
    assert result["msg"] == ('patching node auth-1: nodes "auth-1" is forbidden: User "alice" cannot patch resource '
                             '"nodes" in API group "" at the cluster scope (HTTP 403)')


def test_bad_token_and_unreachable_api(kube, tmp_path):
    config = kube.write_kubeconfig(tmp_path / "bad", token="wrong")
    result = run_module("k8s_node_labels", {"kubeconfig": str(config), "nodes": {"auth-1": {}}})
    assert result["failed"] and result["status"] == 401
    assert "refused the credentials (401 Unauthorized)" in result["msg"]
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = run_module("k8s_node_labels", {"host": f"http://127.0.0.1:{port}", "api_key": "x",
                                            "nodes": {"auth-1": {}}})
    assert result["failed"] and result["status"] is None
    assert f"listing nodes: cannot reach the Kubernetes API at http://127.0.0.1:{port}" in result["msg"]


def test_host_and_api_key_without_kubeconfig(kube):
    kube.add_node("auth-1")
    result = run_module("k8s_node_labels", {"host": kube.url, "api_key": "fake-admin-token",
                                            "nodes": {"auth-1": {"api": "auth"}}})
    assert result["changed"]
    assert "fake-admin-token" not in str(result)
