"""msa.platform.k8s_node_taints against the API fake, run in this process the way Ansible runs it."""
from __future__ import annotations

NOT_READY = {"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"}
CONTROL_PLANE = {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}
DEDICATED = {"key": "dedicated", "value": "auth", "effect": "NoSchedule"}
OWNED = "msa.platform/managed-taints"


def taints(kube, name):
    return kube.node(name)["spec"].get("taints", [])


def test_adds_taint_keeps_server_and_control_plane_taints_and_converges(kube, module):
    kube.add_node("cp-1", taints=[CONTROL_PLANE])
    kube.add_node("auth-1")
    assert taints(kube, "cp-1") == [CONTROL_PLANE, NOT_READY]  # the server added not-ready after ours
    kube.reset_counts()
    wanted = {"cp-1": [DEDICATED], "auth-1": [DEDICATED]}
    first = module("k8s_node_taints", nodes=wanted)
    assert first["changed_nodes"] == ["cp-1", "auth-1"]
    assert taints(kube, "cp-1") == [CONTROL_PLANE, NOT_READY, DEDICATED]
    assert taints(kube, "auth-1") == [NOT_READY, DEDICATED]
    assert kube.node("auth-1")["metadata"]["annotations"] == {OWNED: "dedicated:NoSchedule"}
    assert (kube.count("list"), kube.count("patch")) == (1, 2)
    kube.reset_counts()
    second = module("k8s_node_taints", nodes=wanted)
    assert not second["changed"]
    assert (kube.count("list"), kube.count("patch")) == (1, 0)


def test_value_update_in_place_and_removal_of_owned_taint(kube, module):
    kube.add_node("auth-1", taints=[CONTROL_PLANE])
    module("k8s_node_taints", nodes={"auth-1": [DEDICATED, {"key": "gpu", "effect": "PreferNoSchedule"}]})
    assert taints(kube, "auth-1") == [CONTROL_PLANE, NOT_READY, DEDICATED, {"key": "gpu", "effect": "PreferNoSchedule"}]
    result = module("k8s_node_taints", diff=True, nodes={"auth-1": [dict(DEDICATED, value="orders")]})
    assert result["changed"]
    assert taints(kube, "auth-1") == [CONTROL_PLANE, NOT_READY, dict(DEDICATED, value="orders")]
    assert result["diff"]["before"]["auth-1"]["managed"] == ["dedicated:NoSchedule", "gpu:PreferNoSchedule"]
    assert result["diff"]["after"]["auth-1"] == {"taints": taints(kube, "auth-1"), "managed": ["dedicated:NoSchedule"]}
    module("k8s_node_taints", nodes={"auth-1": []})
    assert taints(kube, "auth-1") == [CONTROL_PLANE, NOT_READY]
    assert "annotations" not in kube.node("auth-1")["metadata"]


def test_foreign_taint_with_same_identity_is_adopted_not_duplicated(kube, module):
    kube.add_node("auth-1", taints=[dict(DEDICATED, value="old")])
    module("k8s_node_taints", nodes={"auth-1": [DEDICATED]})
    assert taints(kube, "auth-1") == [DEDICATED, NOT_READY]


def test_absent_removes_the_control_plane_taint_only_when_asked(kube, module):
    kube.add_node("cp-1", taints=[CONTROL_PLANE])
    module("k8s_node_taints", nodes={"cp-1": [DEDICATED]})
    result = module("k8s_node_taints", state="absent", nodes={"cp-1": [CONTROL_PLANE]})
    assert result["changed"]
    assert taints(kube, "cp-1") == [NOT_READY, DEDICATED]
    assert result["nodes"]["cp-1"]["managed"] == ["dedicated:NoSchedule"]


def test_check_mode_changes_nothing(kube, module):
    kube.add_node("auth-1")
    before = kube.node("auth-1")
    kube.reset_counts()
    result = module("k8s_node_taints", check=True, diff=True, nodes={"auth-1": [DEDICATED]})
    assert result["changed"]
    assert result["diff"]["after"]["auth-1"]["taints"] == [NOT_READY, DEDICATED]
    assert kube.node("auth-1") == before
    assert kube.count("patch") == 0


def test_conflict_retry_keeps_a_taint_added_concurrently(kube, module):
    kube.add_node("auth-1")
    other = {"key": "example.com/maintenance", "effect": "NoExecute"}
    kube.inject_conflict("auth-1", change=lambda node: node["spec"]["taints"].append(other))
    kube.reset_counts()
    result = module("k8s_node_taints", nodes={"auth-1": [DEDICATED]})
    assert result["conflicts"] == 1
    assert taints(kube, "auth-1") == [NOT_READY, other, DEDICATED]
    assert (kube.count("list"), kube.count("patch"), kube.count("get")) == (1, 2, 1)


def test_invalid_taints_fail_before_any_request(kube, module):
    kube.add_node("auth-1")
    kube.reset_counts()
    result = module("k8s_node_taints", nodes={"auth-1": [{"key": "dedicated", "effect": "NoSchedul"},
                                                         {"key": "dedicated", "value": "a b", "effect": "NoExecute"}]})
    assert result["failed"]
    assert "nodes.auth-1[0].effect: 'NoSchedul' must be one of NoSchedule, PreferNoSchedule, NoExecute" in result["msg"]
    assert "nodes.auth-1[1].value:" in result["msg"]
    assert sum(kube.counts.values()) == 0


def test_missing_node_and_forbidden(kube, module, tmp_path):
    kube.add_node("auth-1")
    result = module("k8s_node_taints", nodes={"ghost-1": [DEDICATED]})
    assert result["failed"] and "nodes not found in the cluster: ghost-1" in result["msg"]
    kube.tokens["bob-token"] = "bob"
    kube.deny("bob", "list", "nodes")
    config = kube.write_kubeconfig(tmp_path / "bob", token="bob-token")
    result = module("k8s_node_taints", kubeconfig=str(config), nodes={"auth-1": [DEDICATED]})
    assert result["failed"] and result["status"] == 403
    assert 'nodes is forbidden: User "bob" cannot list resource "nodes" in API group "" at the cluster scope' in result["msg"]


GPU = {"key": "gpu", "effect": "NoSchedule"}


def test_taint_without_value_converges_with_no_patch(kube, module):
    """The server stores {key: gpu, value: "", effect: NoSchedule} without a value field: a missing
    value and "" are one taint, so the second run (either spelling) is changed=0 with no PATCH."""
    kube.add_node("gpu-1")
    kube.add_node("gpu-2", taints=[dict(GPU, value="")])
    assert taints(kube, "gpu-2") == [GPU, NOT_READY]  # stored without the empty value
    wanted = {"gpu-1": [dict(GPU, value="")], "gpu-2": [GPU]}
    first = module("k8s_node_taints", nodes=wanted)
    assert first["changed_nodes"] == ["gpu-1", "gpu-2"]  # gpu-2: only the ownership annotation
    assert taints(kube, "gpu-1") == [NOT_READY, GPU]
    assert taints(kube, "gpu-2") == [GPU, NOT_READY]
    for again in (wanted, {"gpu-1": [GPU], "gpu-2": [dict(GPU, value="")]}):
        kube.reset_counts()
        second = module("k8s_node_taints", nodes=again)
        assert not second["changed"] and second["changed_nodes"] == []
        assert (kube.count("list"), kube.count("patch")) == (1, 0)
    check = module("k8s_node_taints", check=True, nodes={"gpu-1": [dict(GPU, value=None)]})
    assert not check["changed"]
