"""Pure logic of the node label/taint modules and of the placement check (no API involved)."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[4] / ".cache" / "collections"))

from ansible_collections.msa.platform.plugins.module_utils import k8s_nodes as kn

NOT_READY = {"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"}
CONTROL_PLANE = {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}
DEDICATED = {"key": "dedicated", "value": "auth", "effect": "NoSchedule"}


def node(name="n1", labels=None, taints=None, annotations=None, version="7"):
    metadata = {"name": name, "resourceVersion": version, "labels": dict(labels or {})}
    if annotations:
        metadata["annotations"] = dict(annotations)
    return {"metadata": metadata, "spec": {"taints": list(taints or [])}}


@pytest.mark.parametrize("key", ["api", "msa.platform/api", "kubernetes.io/hostname", "a_b.c-d", "x" * 63,
                                 "a.b/" + "x" * 63])
def test_valid_label_keys(key):
    assert kn.label_key_error(key) is None


@pytest.mark.parametrize("key", ["", "-api", "api-", "a b", "UPPER.case/x", "/x", "a/b/c", "x" * 64, "a..b/x", 3])
def test_invalid_label_keys(key):
    assert kn.label_key_error(key)


@pytest.mark.parametrize("value,ok", [("", True), ("auth", True), ("v1.2_3-x", True), ("-x", False),
                                      ("a" * 64, False), (True, False), (3, False), (None, False)])
def test_label_values(value, ok):
    assert (kn.label_value_error(value) is None) is ok


def test_validate_label_nodes_collects_every_problem_with_its_field():
    errors = kn.validate_label_nodes({"n1": {"good": "x", "bad key": "x", "flag": True}, "N2": {}, "n3": ["api"]},
                                     "present")
    assert len(errors) == 4, errors
    assert any(e.startswith("nodes.n1: label key 'bad key'") for e in errors)
    assert any(e.startswith("nodes.n1.flag: value True must be a string") for e in errors)
    assert any(e.startswith("nodes.N2: node name") for e in errors)
    assert any(e.startswith("nodes.n3: must be a dict") for e in errors)


def test_validate_label_nodes_absent_ignores_values():
    assert kn.validate_label_nodes({"n1": {"api": None}}, "absent") == []
    assert kn.validate_label_nodes({"n1": {"api": None}}, "present")


def test_validate_taint_nodes():
    errors = kn.validate_taint_nodes({"n1": [
        {"key": "dedicated", "value": "auth", "effect": "NoSchedule"},
        {"key": "dedicated", "value": "other", "effect": "NoSchedule"},
        {"key": "x", "effect": "Never"},
        {"key": "bad key", "effect": "NoExecute", "operator": "Exists"},
        "dedicated=auth:NoSchedule",
    ]}, "present")
    assert len(errors) == 5, errors
    assert any("nodes.n1[1]: duplicate taint dedicated:NoSchedule" in e for e in errors)
    assert any(e.startswith("nodes.n1[2].effect: 'Never' must be one of") for e in errors)
    assert any(e.startswith("nodes.n1[3]: unknown fields operator") for e in errors)
    assert any(e.startswith("nodes.n1[3].key:") for e in errors)
    assert any(e.startswith("nodes.n1[4]: must be a dict") for e in errors)
    assert kn.validate_taint_nodes({"n1": [{"key": "dedicated", "effect": "NoExecute"}], "n2": None}, "present") == []


def test_owned_annotation_round_trip():
    n = node(annotations={kn.LABELS_ANNOTATION: "workload, api,"})
    assert kn.parse_owned(n, kn.LABELS_ANNOTATION) == ["workload", "api"]
    assert kn.parse_owned(node(), kn.LABELS_ANNOTATION) == []
    assert kn.format_owned(["workload", "api", "api"]) == "api,workload"
    assert kn.format_owned([]) is None


def test_desired_labels_present_only_touches_owned_keys():
    current = {"kubernetes.io/hostname": "n1", "api": "old", "stale": "x", "foreign": "y"}
    labels, owned = kn.desired_labels(current, ["api", "stale"], {"api": "auth", "workload": "api"}, "present")
    assert labels == {"kubernetes.io/hostname": "n1", "api": "auth", "foreign": "y", "workload": "api"}
    assert owned == ["api", "workload"]


def test_desired_labels_absent_removes_listed_keys_even_foreign():
    labels, owned = kn.desired_labels({"api": "auth", "foreign": "y", "keep": "z"}, ["api", "keep"],
                                      {"api": None, "foreign": None}, "absent")
    assert labels == {"keep": "z"}
    assert owned == ["keep"]


def test_label_change_builds_merge_patch_with_deletions_and_annotation():
    n = node(labels={"kubernetes.io/hostname": "n1", "api": "auth", "stale": "x"},
             annotations={kn.LABELS_ANNOTATION: "api,stale"})
    before, after, patch = kn.label_change(n, {"api": "auth", "workload": "api"}, "present")
    assert patch == {"metadata": {"labels": {"stale": None, "workload": "api"},
                                  "annotations": {kn.LABELS_ANNOTATION: "api,workload"}}}
    assert before == {"labels": {"kubernetes.io/hostname": "n1", "api": "auth", "stale": "x"}, "managed": ["api", "stale"]}
    assert after["labels"] == {"kubernetes.io/hostname": "n1", "api": "auth", "workload": "api"}


def test_label_change_none_when_converged_and_annotation_dropped_when_nothing_owned():
    n = node(labels={"api": "auth"}, annotations={kn.LABELS_ANNOTATION: "api"})
    assert kn.label_change(n, {"api": "auth"}, "present") is None
    _before, after, patch = kn.label_change(n, {}, "present")
    assert patch == {"metadata": {"labels": {"api": None}, "annotations": {kn.LABELS_ANNOTATION: None}}}
    assert after == {"labels": {}, "managed": []}


def test_label_change_takes_ownership_of_an_existing_equal_label():
    """kubectl set api=auth before us: the value is right, but we start owning the key."""
    _before, _after, patch = kn.label_change(node(labels={"api": "auth"}), {"api": "auth"}, "present")
    assert patch == {"metadata": {"annotations": {kn.LABELS_ANNOTATION: "api"}}}


def test_desired_taints_keeps_foreign_taints_in_place_and_updates_values():
    current = [NOT_READY, {"key": "dedicated", "value": "old", "effect": "NoSchedule", "timeAdded": None},
               CONTROL_PLANE, {"key": "stale", "effect": "NoExecute"}]
    taints, owned = kn.desired_taints(current, ["dedicated:NoSchedule", "stale:NoExecute"],
                                      [DEDICATED, {"key": "gpu", "value": None, "effect": "PreferNoSchedule"}],
                                      "present")
    assert taints == [NOT_READY, {"key": "dedicated", "value": "auth", "effect": "NoSchedule", "timeAdded": None},
                      CONTROL_PLANE, {"key": "gpu", "effect": "PreferNoSchedule"}]
    assert owned == ["dedicated:NoSchedule", "gpu:PreferNoSchedule"]


def test_desired_taints_same_key_other_effect_is_another_taint():
    current = [{"key": "dedicated", "value": "auth", "effect": "NoExecute"}]
    taints, _owned = kn.desired_taints(current, [], [DEDICATED], "present")
    assert taints == [current[0], DEDICATED]


def test_desired_taints_absent_removes_listed_even_foreign():
    taints, owned = kn.desired_taints([NOT_READY, CONTROL_PLANE, DEDICATED], ["dedicated:NoSchedule"],
                                      [{"key": CONTROL_PLANE["key"], "effect": "NoSchedule"}], "absent")
    assert taints == [NOT_READY, DEDICATED]
    assert owned == ["dedicated:NoSchedule"]


def test_taint_change_sends_the_full_list():
    n = node(taints=[NOT_READY, CONTROL_PLANE])
    before, after, patch = kn.taint_change(n, [DEDICATED], "present")
    assert patch == {"spec": {"taints": [NOT_READY, CONTROL_PLANE, DEDICATED]},
                     "metadata": {"annotations": {kn.TAINTS_ANNOTATION: "dedicated:NoSchedule"}}}
    assert before["taints"] == [NOT_READY, CONTROL_PLANE]
    assert after["managed"] == ["dedicated:NoSchedule"]
    converged = node(taints=[NOT_READY, DEDICATED], annotations={kn.TAINTS_ANNOTATION: "dedicated:NoSchedule"})
    assert kn.taint_change(converged, [DEDICATED], "present") is None


@pytest.mark.parametrize("wanted_value", ["", None, "absent"])
@pytest.mark.parametrize("stored_value", ["", "absent"])
def test_taint_change_missing_value_equals_empty(wanted_value, stored_value):
    """The API server returns {key: gpu, value: ""} as {key: gpu}: no change, whichever spelling."""
    gpu = {"key": "gpu", "effect": "NoSchedule"}
    wanted = dict(gpu) if wanted_value == "absent" else dict(gpu, value=wanted_value)
    stored = dict(gpu) if stored_value == "absent" else dict(gpu, value=stored_value)
    converged = node(taints=[stored, NOT_READY], annotations={kn.TAINTS_ANNOTATION: "gpu:NoSchedule"})
    assert kn.taint_change(converged, [wanted], "present") is None
    fresh = node(taints=[NOT_READY])
    assert kn.taint_change(fresh, [wanted], "present")[2]["spec"]["taints"] == [NOT_READY, gpu]
    # a value that was set is removed by asking for none
    valued = node(taints=[dict(gpu, value="a100")], annotations={kn.TAINTS_ANNOTATION: "gpu:NoSchedule"})
    assert kn.taint_change(valued, [wanted], "present")[2] == {"spec": {"taints": [gpu]}}


class ScriptedApi:
    """A node API whose answers are scripted: records calls, answers 409 ``conflicts`` times."""

    def __init__(self, nodes, conflicts=0):
        self.nodes = {n["metadata"]["name"]: n for n in nodes}
        self.conflicts = conflicts
        self.calls = []

    def list_nodes(self, label_selector=None):
        self.calls.append(("list", label_selector))
        return list(self.nodes.values())

    def read_node(self, name):
        self.calls.append(("get", name))
        return self.nodes[name]

    def patch_node(self, name, patch):
        self.calls.append(("patch", name, patch["metadata"]["resourceVersion"]))
        if self.conflicts:
            self.conflicts -= 1
            current = self.nodes[name]
            self.nodes[name] = node(name, current["metadata"]["labels"], version=str(int(current["metadata"]["resourceVersion"]) + 1))
            raise kn.KubeApiError("conflict", status=409)
        labels = dict(self.nodes[name]["metadata"]["labels"])
        for key, value in patch["metadata"].get("labels", {}).items():
            if value is None:
                labels.pop(key, None)
            else:
                labels[key] = value
        annotations = {k: v for k, v in patch["metadata"].get("annotations", {}).items() if v}
        self.nodes[name] = node(name, labels, annotations=annotations)
        return self.nodes[name]


def reconcile(api, wanted, check_mode=False):
    return kn.reconcile_nodes(api, wanted, kn.label_change, kn.label_view, "present", check_mode)


def test_reconcile_retries_on_conflict_with_the_fresh_version():
    api = ScriptedApi([node("n1", version="7")], conflicts=2)
    result = reconcile(api, {"n1": {"api": "auth"}})
    assert result["changed"] and result["conflicts"] == 2
    assert api.calls == [("list", None), ("patch", "n1", "7"), ("get", "n1"), ("patch", "n1", "8"), ("get", "n1"),
                         ("patch", "n1", "9")]


def test_reconcile_gives_up_after_bounded_retries():
    api = ScriptedApi([node("n1")], conflicts=kn.CONFLICT_RETRIES + 1)
    with pytest.raises(kn.KubeApiError) as err:
        reconcile(api, {"n1": {"api": "auth"}})
    assert err.value.status == 409
    assert [c[0] for c in api.calls].count("patch") == kn.CONFLICT_RETRIES + 1


def test_reconcile_missing_nodes_fail_before_any_patch():
    api = ScriptedApi([node("n1")])
    with pytest.raises(kn.KubeApiError, match="nodes not found in the cluster: n2, n3"):
        reconcile(api, {"n1": {"api": "auth"}, "n3": {}, "n2": {}})
    assert api.calls == [("list", None)]


def test_reconcile_check_mode_reports_without_patching():
    api = ScriptedApi([node("n1"), node("n2", labels={"api": "auth"}, annotations={kn.LABELS_ANNOTATION: "api"})])
    result = reconcile(api, {"n1": {"api": "auth"}, "n2": {"api": "auth"}}, check_mode=True)
    assert result["changed_nodes"] == ["n1"]
    assert result["diff"]["after"]["n1"]["labels"] == {"api": "auth"}
    assert api.calls == [("list", None)]


def pod(namespace, name, node_name, api=None, daemonset=False):
    metadata = {"namespace": namespace, "name": name, "labels": {"api": api} if api else {}}
    if daemonset:
        metadata["ownerReferences"] = [{"kind": "DaemonSet", "name": "ds"}]
    return {"metadata": metadata, "spec": {"nodeName": node_name} if node_name else {}}


def test_placement_report_and_violations():
    nodes = [node("auth-1", {"api": "auth"}), node("orders-1", {"api": "orders"}), node("worker-1")]
    pods = [
        pod("auth", "auth-0", "auth-1", "auth"),
        pod("auth", "auth-1", "worker-1", "auth"),          # off its nodes
        pod("orders", "orders-0", "auth-1", "orders"),      # on another API's node
        pod("orders", "orders-1", None, "orders"),          # pending: not a problem
        pod("default", "nginx", "orders-1"),                # foreign
        pod("monitoring", "node-exporter", "auth-1", daemonset=True),
        pod("kube-system", "coredns", "orders-1"),
        pod("default", "batch", "worker-1"),
    ]
    report, violations = kn.placement_report(nodes, pods, "api", "api")
    assert report["auth"]["nodes"] == ["auth-1"]
    assert report["orders"]["pending"] == ["orders/orders-1"]
    assert [(v["api"], v["pod"], v["reason"]) for v in violations] == [
        ("auth", "auth-1", "runs on a node not dedicated to it"),
        ("orders", "nginx", "foreign pod on a dedicated node (belongs to no API)"),
        ("orders", "orders-0", "runs on node dedicated to auth"),
    ]
    _report, strict = kn.placement_report(nodes, pods, "api", "api", system_namespaces=[], ignore_daemonsets=False)
    assert {v["pod"] for v in strict} - {v["pod"] for v in violations} == {"node-exporter", "coredns"}
    only_auth, auth_violations = kn.placement_report(nodes, pods, "api", "api", apis=["auth"])
    assert list(only_auth) == ["auth"]
    assert [v["pod"] for v in auth_violations] == ["auth-1", "orders-0"]


def test_format_table():
    table = kn.format_table([{"api": "auth", "pod": "p", "node": None}], (("api", "API"), ("pod", "POD"), ("node", "NODE")))
    assert table.splitlines() == ["API   POD  NODE", "----  ---  ----", "auth  p    -"]
