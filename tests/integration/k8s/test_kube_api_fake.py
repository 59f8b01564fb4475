"""The API fake (tests/fakes/kube_api.py) answers like the real kube-apiserver whose responses are
in tests/fakes/fixtures/ (captured from v1.28.7): same status codes, same Status bodies, same shapes."""
from __future__ import annotations

import json
import sys
import urllib.request
from pathlib import Path
from urllib.error import HTTPError

import pytest

FIXTURES = Path(__file__).resolve().parents[2] / "fakes" / "fixtures"
sys.path.insert(0, str(FIXTURES.parent))

import kube_api  # noqa: E402

TOKEN = "fake-admin-token"
ALICE = "alice-token"


def fixture(name: str) -> tuple[int | None, dict]:
    """A captured response: JSON body, then (in .txt files) the status code on its last line."""
    text = (FIXTURES / name).read_text(encoding="utf-8").strip()
    if name.endswith(".txt"):
        body, _dummy, code = text.rpartition("\n")
        return int(code), json.loads(body)
    return None, json.loads(text)


@pytest.fixture
def kube():
    """Overrides conftest's: an API fake that also knows alice's token."""
    with kube_api.serve({TOKEN: "admin", ALICE: "alice"}) as fake:
        yield fake


def call(kube, method: str, path: str, body=None, content_type: str = "application/json", token: str | None = TOKEN):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(kube.url + path, data=data, method=method)
    request.add_header("Content-Type", content_type)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except HTTPError as err:
        return err.code, json.loads(err.read())


def shape(value):
    """Keys (recursively) and types, without the values that differ between servers and runs."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items() if key != "managedFields"}
    if isinstance(value, list):
        return [shape(item) for item in value]
    return type(value).__name__


def create_auth_node(kube):
    return call(kube, "POST", "/api/v1/nodes", {"apiVersion": "v1", "kind": "Node", "metadata": {
        "name": "api-auth-0", "labels": {"kubernetes.io/hostname": "api-auth-0"}}})


def test_created_node_has_the_server_added_not_ready_taint(kube):
    code, created = create_auth_node(kube)
    assert code == 201
    _dummy, expected = fixture("node-created.json")
    code, node = call(kube, "GET", "/api/v1/nodes/api-auth-0")
    assert code == 200
    assert node["spec"] == expected["spec"]
    assert node["metadata"]["labels"] == expected["metadata"]["labels"]
    assert shape(node) == shape(expected) == shape(created)


def test_strategic_patch_adds_label_annotation_and_replaces_taints(kube):
    create_auth_node(kube)
    _dummy, expected = fixture("patch-strategic-response.json")
    patch = {"metadata": {"labels": {"msa.platform/api": "auth"},
                          "annotations": {"msa.platform/managed-labels": "msa.platform/api"}},
             "spec": {"taints": expected["spec"]["taints"]}}
    code, node = call(kube, "PATCH", "/api/v1/nodes/api-auth-0", patch, kube_api.STRATEGIC_PATCH)
    assert code == 200
    assert node["metadata"]["labels"] == expected["metadata"]["labels"]
    assert node["metadata"]["annotations"] == expected["metadata"]["annotations"]
    assert node["spec"] == expected["spec"]
    assert shape(node) == shape(expected)
    # a taints list in a patch replaces the whole list; null removes a label
    code, node = call(kube, "PATCH", "/api/v1/nodes/api-auth-0", {
        "metadata": {"labels": {"msa.platform/api": None}}, "spec": {"taints": [expected["spec"]["taints"][1]]}},
        kube_api.STRATEGIC_PATCH)
    assert node["spec"]["taints"] == [expected["spec"]["taints"][1]]
    assert "msa.platform/api" not in node["metadata"]["labels"]


def test_list_with_label_selector_has_the_captured_shape(kube):
    create_auth_node(kube)
    kube.add_node("api-orders-0", labels={"msa.platform/api": "orders"})
    call(kube, "PATCH", "/api/v1/nodes/api-auth-0", {
        "metadata": {"labels": {"msa.platform/api": "auth"},
                     "annotations": {"msa.platform/managed-labels": "msa.platform/api"}},
        "spec": {"taints": [kube_api.NOT_READY_TAINT, {"key": "dedicated", "value": "auth", "effect": "NoSchedule"}]}},
        kube_api.MERGE_PATCH)
    _dummy, expected = fixture("list-labelselector-response.json")
    code, listing = call(kube, "GET", "/api/v1/nodes?labelSelector=msa.platform/api%3Dauth")
    assert code == 200
    assert [n["metadata"]["name"] for n in listing["items"]] == ["api-auth-0"]
    assert shape(listing) == shape(expected)
    assert listing["items"][0]["spec"] == expected["items"][0]["spec"]


@pytest.mark.parametrize("selector,names", [
    ("msa.platform/api", ["a", "b"]),
    ("!msa.platform/api", ["c"]),
    ("msa.platform/api==auth", ["a"]),
    ("msa.platform/api!=auth", ["b", "c"]),
    ("msa.platform/api=auth,tier=app", ["a"]),
])
def test_label_selector_forms(kube, selector, names):
    kube.add_node("a", labels={"msa.platform/api": "auth", "tier": "app"})
    kube.add_node("b", labels={"msa.platform/api": "orders"})
    kube.add_node("c")
    code, listing = call(kube, "GET", "/api/v1/nodes?labelSelector=" + urllib.request.quote(selector))
    assert code == 200
    assert sorted(n["metadata"]["name"] for n in listing["items"]) == names


def test_bad_selectors_answer_400(kube):
    assert call(kube, "GET", "/api/v1/nodes?labelSelector=bad%20key%3Dx")[0] == 400
    code, body = call(kube, "GET", "/api/v1/pods?fieldSelector=spec.foo%3Dx")
    assert (code, body["reason"], body["message"]) == (400, "BadRequest", "field label not supported: spec.foo")


def test_pods_by_field_selector_has_the_captured_shape(kube):
    _dummy, expected = fixture("list-pods-fieldselector-response.json")
    pod = expected["items"][0]
    kube.add_node("api-auth-0")
    body = {"metadata": {"name": pod["metadata"]["name"], "labels": pod["metadata"]["labels"]}, "spec": pod["spec"]}
    code, _dummy = call(kube, "POST", "/api/v1/namespaces/auth/serviceaccounts", {"metadata": {"name": "default"}})
    assert code == 201
    code, _dummy = call(kube, "POST", "/api/v1/namespaces/auth/pods", body)
    assert code == 201
    kube.add_pod("auth", "elsewhere", node_name="other")
    code, listing = call(kube, "GET", "/api/v1/pods?fieldSelector=spec.nodeName%3Dapi-auth-0")
    assert code == 200
    assert [p["metadata"]["name"] for p in listing["items"]] == ["auth-api-0"]
    assert shape(listing) == shape(expected)
    code, listing = call(kube, "GET", "/api/v1/namespaces/auth/pods?fieldSelector=spec.nodeName%3Dother")
    assert [p["metadata"]["name"] for p in listing["items"]] == ["elsewhere"]


def test_pod_needs_the_default_service_account_of_its_namespace(kube):
    """No controller-manager: a Pod is refused until its namespace's ServiceAccount exists."""
    pod = {"metadata": {"name": "nginx"}, "spec": {"containers": [{"name": "app", "image": "nginx"}]}}
    code, body = call(kube, "POST", "/api/v1/namespaces/web/pods", pod)
    assert (code, body["reason"]) == (403, "Forbidden")
    assert body["message"] == ('pods "nginx" is forbidden: error looking up service account web/default: '
                               'serviceaccount "default" not found')
    assert call(kube, "POST", "/api/v1/namespaces/other/serviceaccounts", {"metadata": {"name": "default"}})[0] == 201
    assert call(kube, "POST", "/api/v1/namespaces/web/pods", pod)[0] == 403  # another namespace's does not count
    kube.add_service_account("web")
    assert call(kube, "POST", "/api/v1/namespaces/web/pods", pod)[0] == 201
    code, account = call(kube, "GET", "/api/v1/namespaces/web/serviceaccounts/default")
    assert (code, account["kind"], account["metadata"]["namespace"]) == (200, "ServiceAccount", "web")
    with pytest.raises(kube_api.ApiError):
        kube.add_pod("batch", "job-0")


def test_empty_taint_value_is_dropped_and_not_ready_comes_last(kube):
    """As measured: an empty value is stored without the field; the server's taint follows ours."""
    gpu = {"key": "gpu", "effect": "NoSchedule"}
    body = {"metadata": {"name": "gpu-1"}, "spec": {"taints": [dict(gpu, value="")]}}
    code, node = call(kube, "POST", "/api/v1/nodes", body)
    assert code == 201 and node["spec"]["taints"] == [gpu, kube_api.NOT_READY_TAINT]
    version = node["metadata"]["resourceVersion"]
    _dummy, same = call(kube, "PATCH", "/api/v1/nodes/gpu-1",
                        {"spec": {"taints": [dict(gpu, value=""), kube_api.NOT_READY_TAINT]}}, kube_api.MERGE_PATCH)
    assert same["spec"]["taints"] == [gpu, kube_api.NOT_READY_TAINT]
    assert same["metadata"]["resourceVersion"] == version  # no effective change: no write
    _dummy, moved = call(kube, "PATCH", "/api/v1/nodes/gpu-1",
                         {"spec": {"taints": [kube_api.NOT_READY_TAINT, dict(gpu, value="")]}}, kube_api.STRATEGIC_PATCH)
    assert moved["spec"]["taints"] == [kube_api.NOT_READY_TAINT, gpu]


def test_merge_patch_with_stale_resource_version_is_409_as_captured(kube):
    create_auth_node(kube)
    code, expected = fixture("mergepatch-stale-rv-response.txt")
    _dummy, node = call(kube, "GET", "/api/v1/nodes/api-auth-0")
    stale = node["metadata"]["resourceVersion"]
    status, fresh = call(kube, "PATCH", "/api/v1/nodes/api-auth-0",
                         {"metadata": {"labels": {"x": "1"}, "resourceVersion": stale}}, kube_api.MERGE_PATCH)
    assert status == 200 and int(fresh["metadata"]["resourceVersion"]) > int(stale)
    assert call(kube, "PATCH", "/api/v1/nodes/api-auth-0",
                {"metadata": {"labels": {"x": "2"}, "resourceVersion": stale}}, kube_api.MERGE_PATCH) == (code, expected)
    # the same rule for a JSON patch that replaces the version, and for a strategic merge patch
    assert call(kube, "PATCH", "/api/v1/nodes/api-auth-0",
                [{"op": "replace", "path": "/metadata/resourceVersion", "value": stale}], kube_api.JSON_PATCH) == (code, expected)
    assert call(kube, "PATCH", "/api/v1/nodes/api-auth-0",
                {"metadata": {"resourceVersion": stale}}, kube_api.STRATEGIC_PATCH) == (code, expected)


def test_json_patch_test_op_on_stale_version_is_422_as_captured(kube):
    create_auth_node(kube)
    _dummy, node = call(kube, "GET", "/api/v1/nodes/api-auth-0")
    version = node["metadata"]["resourceVersion"]
    ops = [{"op": "test", "path": "/metadata/resourceVersion", "value": version},
           {"op": "add", "path": "/metadata/labels/api", "value": "auth"}]
    code, patched = call(kube, "PATCH", "/api/v1/nodes/api-auth-0", ops, kube_api.JSON_PATCH)
    assert code == 200 and patched["metadata"]["labels"]["api"] == "auth"
    assert call(kube, "PATCH", "/api/v1/nodes/api-auth-0", ops, kube_api.JSON_PATCH) == fixture(
        "jsonpatch-stale-test-response.txt")


def test_missing_node_is_404_as_captured(kube):
    assert call(kube, "GET", "/api/v1/nodes/missing-node") == fixture("notfound-response.txt")
    code, body = call(kube, "PATCH", "/api/v1/nodes/missing-node", {"metadata": {}}, kube_api.MERGE_PATCH)
    assert (code, body) == fixture("notfound-response.txt")


def test_rbac_switch_answers_403_as_captured(kube):
    create_auth_node(kube)
    kube.deny("alice", "patch", "nodes")
    assert call(kube, "PATCH", "/api/v1/nodes/api-auth-0", {"metadata": {"labels": {"x": "y"}}},
                kube_api.MERGE_PATCH, token=ALICE) == fixture("forbidden-response.txt")
    assert call(kube, "GET", "/api/v1/nodes/api-auth-0", token=ALICE)[0] == 200
    kube.deny("alice", "list", "pods")
    code, body = call(kube, "GET", "/api/v1/namespaces/auth/pods", token=ALICE)
    assert code == 403
    assert body["message"] == 'pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "auth"'


def test_unknown_token_is_401(kube):
    code, body = call(kube, "GET", "/api/v1/nodes", token="nope")
    assert (code, body["reason"], body["message"]) == (401, "Unauthorized", "Unauthorized")
    assert call(kube, "GET", "/api/v1/nodes", token=None)[0] == 401


def test_no_op_patch_keeps_the_version_and_write_bumps_it(kube):
    create_auth_node(kube)
    _dummy, before = call(kube, "GET", "/api/v1/nodes/api-auth-0")
    _dummy, same = call(kube, "PATCH", "/api/v1/nodes/api-auth-0", {"metadata": {"labels": {}}}, kube_api.MERGE_PATCH)
    assert same["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]
    _dummy, after = call(kube, "PATCH", "/api/v1/nodes/api-auth-0", {"metadata": {"labels": {"a": "b"}}}, kube_api.MERGE_PATCH)
    assert int(after["metadata"]["resourceVersion"]) > int(before["metadata"]["resourceVersion"])


def test_invalid_label_and_unsupported_media_type(kube):
    create_auth_node(kube)
    code, body = call(kube, "PATCH", "/api/v1/nodes/api-auth-0", {"metadata": {"labels": {"bad key": "x"}}},
                      kube_api.MERGE_PATCH)
    assert (code, body["reason"]) == (422, "Invalid")
    assert body["message"].startswith('Node "api-auth-0" is invalid: metadata.labels: Invalid value: "bad key"')
    assert call(kube, "PATCH", "/api/v1/nodes/api-auth-0", {}, "application/json")[0] == 415


def test_counters_and_injected_conflict(kube):
    create_auth_node(kube)
    kube.reset_counts()
    _dummy, node = call(kube, "GET", "/api/v1/nodes/api-auth-0")
    kube.inject_conflict("api-auth-0")
    patch = {"metadata": {"labels": {"a": "b"}, "resourceVersion": node["metadata"]["resourceVersion"]}}
    assert call(kube, "PATCH", "/api/v1/nodes/api-auth-0", patch, kube_api.MERGE_PATCH)[0] == 409
    assert "example.com/touched" in kube.node("api-auth-0")["metadata"]["labels"]
    patch["metadata"]["resourceVersion"] = kube.node("api-auth-0")["metadata"]["resourceVersion"]
    assert call(kube, "PATCH", "/api/v1/nodes/api-auth-0", patch, kube_api.MERGE_PATCH)[0] == 200
    call(kube, "GET", "/api/v1/nodes")
    assert (kube.count("get"), kube.count("patch"), kube.count("list")) == (1, 2, 1)


# --- add-on kinds (cluster_addons) ----------------------------------------------------------------
MERGE = "application/merge-patch+json"


def test_namespaced_addon_object_needs_its_namespace_and_namespace_gets_server_defaults(kube):
    quota = {"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "q"}, "spec": {"hard": {"pods": "10"}}}
    code, body = call(kube, "POST", "/api/v1/namespaces/order/resourcequotas", quota)
    assert (code, body["reason"], body["message"]) == (404, "NotFound", 'namespaces "order" not found')
    code, namespace = call(kube, "POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "order"}})
    assert code == 201 and namespace["metadata"]["labels"] == {"kubernetes.io/metadata.name": "order"}
    assert namespace["spec"] == {"finalizers": ["kubernetes"]} and namespace["status"] == {"phase": "Active"}
    code, created = call(kube, "POST", "/api/v1/namespaces/order/resourcequotas", quota)
    assert code == 201 and created["metadata"]["namespace"] == "order"
    assert call(kube, "POST", "/api/v1/namespaces/order/resourcequotas", quota)[0] == 409


def test_storageclass_defaults_and_immutable_fields(kube):
    gp3 = {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "gp3"}, "provisioner": "ebs.csi.aws.com",
           "parameters": {"type": "gp3"}}
    code, created = call(kube, "POST", "/apis/storage.k8s.io/v1/storageclasses", gp3)
    assert code == 201 and (created["reclaimPolicy"], created["volumeBindingMode"]) == ("Delete", "Immediate")
    code, body = call(kube, "PATCH", "/apis/storage.k8s.io/v1/storageclasses/gp3", {"parameters": {"type": "gp2"}}, MERGE)
    assert code == 422 and "parameters: Forbidden: updates to parameters are forbidden." in body["message"]
    version = created["metadata"]["resourceVersion"]
    code, patched = call(kube, "PATCH", "/apis/storage.k8s.io/v1/storageclasses/gp3",
                         {"metadata": {"annotations": {"storageclass.kubernetes.io/is-default-class": "true"}}}, MERGE)
    assert code == 200 and patched["metadata"]["resourceVersion"] != version
    code, same = call(kube, "PATCH", "/apis/storage.k8s.io/v1/storageclasses/gp3",
                      {"metadata": {"annotations": {"storageclass.kubernetes.io/is-default-class": "true"}}}, MERGE)
    assert same["metadata"]["resourceVersion"] == patched["metadata"]["resourceVersion"]  # no-op keeps the version


def test_custom_resource_is_served_only_while_its_crd_is_established(kube):
    app = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application", "metadata": {"name": "root"}, "spec": {}}
    path = "/apis/argoproj.io/v1alpha1/namespaces/argocd/applications"
    call(kube, "POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "argocd"}})
    code, body = call(kube, "POST", path, app)
    assert (code, body["message"]) == (404, "the server could not find the requested resource")
    kube.objects.add_crd("argoproj.io", "applications", "Application", established=False)
    assert call(kube, "POST", path, app)[0] == 404
    kube.objects.establish("applications.argoproj.io")
    code, created = call(kube, "POST", path, app)
    assert code == 201 and created["kind"] == "Application" and created["metadata"]["namespace"] == "argocd"
    assert call(kube, "GET", path + "/root")[1]["metadata"]["uid"] == created["metadata"]["uid"]
