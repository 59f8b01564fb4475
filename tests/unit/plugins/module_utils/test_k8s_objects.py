"""k8s_objects: input checks, the subset comparison that keeps converged runs quiet, and the apply order."""
from __future__ import annotations

import pytest
from ansible_collections.msa.platform.plugins.module_utils import k8s_objects as ko

NS = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "order"}}
QUOTA = {"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "q", "namespace": "order"}, "spec": {"hard": {"pods": "10"}}}
APP = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application", "metadata": {"name": "root", "namespace": "argocd"}, "spec": {}}
GP2 = {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
       "metadata": {"name": "gp2", "annotations": {"storageclass.kubernetes.io/is-default-class": "false"}}}


class Error(Exception):
    def __init__(self, message, status=None, reason=None):
        super().__init__(message)
        self.status = status


class FakeApi:
    error_class = Error

    def __init__(self, objects=(), crds=None):
        self.objects = {ko.object_path(o): o for o in objects}
        self.crds = crds or {}
        self.writes = []

    def get(self, obj):
        return self.objects.get(ko.object_path(obj))

    def create(self, obj):
        self.writes.append(("create", ko.label(obj)))

    def patch(self, obj):
        self.writes.append(("patch", ko.label(obj)))

    def crd(self, name):
        return self.crds.get(name)


def test_paths_of_core_grouped_and_custom_kinds():
    assert ko.object_path(NS) == "/api/v1/namespaces/order"
    assert ko.object_path(QUOTA, with_name=False) == "/api/v1/namespaces/order/resourcequotas"
    assert ko.object_path(GP2) == "/apis/storage.k8s.io/v1/storageclasses/gp2"
    assert ko.object_path(APP) == "/apis/argoproj.io/v1alpha1/namespaces/argocd/applications/root"
    assert ko.crd_name(APP) == "applications.argoproj.io" and ko.crd_name(GP2) is None


@pytest.mark.parametrize(("objects", "expected"), [
    ("nope", "objects must be a list of Kubernetes objects, got str"),
    ([5], "objects[0] must be a Kubernetes object (a dict), got int"),
    ([{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x"}}], "objects[0]: apiVersion 'apps/v1' kind 'Deployment' is not one"),
    ([{"apiVersion": "v1", "kind": "Namespace", "metadata": {}}], "objects[0].metadata.name is required"),
    ([{"apiVersion": "v1", "kind": "LimitRange", "metadata": {"name": "l"}}], "objects[0].metadata.namespace is required for a LimitRange"),
    ([{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a", "namespace": "b"}}], "must not be set: a Namespace is cluster-scoped"),
    ([{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a", "resourceVersion": "1"}}], "metadata.resourceVersion is set by the API server"),
])
def test_bad_objects_are_named_before_any_request(objects, expected):
    problems = ko.object_problems(objects)
    assert len(problems) == 1 and expected in problems[0]


def test_server_added_fields_are_not_a_change_but_a_declared_difference_is():
    served = {**NS, "metadata": {"name": "order", "uid": "u", "labels": {"kubernetes.io/metadata.name": "order"}},
              "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}
    assert ko.action_for(NS, served) == "unchanged"
    policy = {"spec": {"egress": [{"ports": [{"port": 53}]}]}}
    assert ko.is_subset(policy, {"spec": {"egress": [{"ports": [{"port": 53, "protocol": "TCP"}]}], "policyTypes": ["Egress"]}})
    assert not ko.is_subset(policy, {"spec": {"egress": [{"ports": [{"port": 53}, {"port": 54}]}]}})
    assert ko.action_for(QUOTA, {**QUOTA, "spec": {"hard": {"pods": "20"}}}) == "patch"
    assert ko.view(QUOTA["spec"], {"hard": {"pods": "20", "cpu": "1"}, "scopes": []}) == {"hard": {"pods": "20"}}


def test_apply_creates_patches_and_leaves_converged_objects_alone():
    api = FakeApi([NS, {**QUOTA, "spec": {"hard": {"pods": "5"}}}])
    results, diff = ko.apply_objects(api, [NS, QUOTA])
    assert [r["action"] for r in results] == ["unchanged", "patch"]
    assert api.writes == [("patch", "ResourceQuota order/q")]
    assert diff == {"before": [{"metadata": {"name": "q", "namespace": "order"}, "spec": {"hard": {"pods": "5"}},
                                "apiVersion": "v1", "kind": "ResourceQuota"}], "after": [QUOTA]}


def test_patch_only_objects_are_never_created():
    api = FakeApi()
    results, _diff = ko.apply_objects(api, [], patch_only=[GP2])
    assert results[0]["action"] == "absent" and api.writes == []
    api = FakeApi([{**GP2, "metadata": {"name": "gp2", "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}}}])
    results, _diff = ko.apply_objects(api, [], patch_only=[GP2])
    assert results[0]["action"] == "patch" and api.writes == [("patch", "StorageClass gp2")]


def test_check_mode_writes_nothing_and_does_not_wait_for_missing_crds():
    api = FakeApi()
    results, _diff = ko.apply_objects(api, [NS, APP], check_mode=True)
    assert [r["action"] for r in results] == ["create", "create"] and api.writes == []


def test_custom_resources_wait_for_their_crd_then_fail_naming_it():
    established = {"status": {"conditions": [{"type": "Established", "status": "True"}]}}
    api = FakeApi(crds={"applications.argoproj.io": established})
    results, _diff = ko.apply_objects(api, [APP], sleep=lambda _s: None)
    assert results[0]["action"] == "create"
    clock = iter(range(0, 1000, 100))
    with pytest.raises(Error, match=r"applications\.argoproj\.io not Established after 150 s"):
        ko.wait_for_crds(FakeApi(), ["applications.argoproj.io"], 150, sleep=lambda _s: None, clock=lambda: next(clock))
