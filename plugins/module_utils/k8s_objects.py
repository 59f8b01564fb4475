# Copyright: msa.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Apply a list of Kubernetes objects: create what is missing, merge-patch what differs, leave the rest.

The add-ons layer applies a known, small set of kinds (namespaces and their policies, storage classes,
ingresses, ArgoCD resources), so the REST path of each kind comes from a table here instead of API
discovery: one GET per object, then a POST or a PATCH only when the cluster differs. "Differs" means a
field we declare is missing or has another value on the server; fields the server adds (defaults,
status, metadata) are not ours and do not count, so a converged cluster reports no change.

Custom resources (ArgoCD's Application, ApplicationSet, AppProject) are applied only once their
CustomResourceDefinition is Established, waited for up to a timeout: a chart installs CRDs and the
API server serves them a moment later.
"""

from __future__ import annotations

import copy
import json
import time

# (apiVersion, kind) -> (plural, namespaced). Group "" is the core API at /api/v1.
RESOURCES = {
    ("v1", "Namespace"): ("namespaces", False),
    ("v1", "ServiceAccount"): ("serviceaccounts", True),
    ("v1", "ConfigMap"): ("configmaps", True),
    ("v1", "Service"): ("services", True),
    ("v1", "ResourceQuota"): ("resourcequotas", True),
    ("v1", "LimitRange"): ("limitranges", True),
    ("networking.k8s.io/v1", "NetworkPolicy"): ("networkpolicies", True),
    ("networking.k8s.io/v1", "Ingress"): ("ingresses", True),
    ("networking.k8s.io/v1", "IngressClass"): ("ingressclasses", False),
    ("storage.k8s.io/v1", "StorageClass"): ("storageclasses", False),
    ("apiextensions.k8s.io/v1", "CustomResourceDefinition"): ("customresourcedefinitions", False),
    ("argoproj.io/v1alpha1", "Application"): ("applications", True),
    ("argoproj.io/v1alpha1", "ApplicationSet"): ("applicationsets", True),
    ("argoproj.io/v1alpha1", "AppProject"): ("appprojects", True),
}
# API groups the API server serves itself; every other group comes from a CRD.
BUILTIN_GROUPS = ("", "networking.k8s.io", "storage.k8s.io", "apiextensions.k8s.io")
SERVER_OWNED_METADATA = ("uid", "resourceVersion", "creationTimestamp", "generation", "managedFields", "selfLink")


def group_of(api_version):
    return api_version.rpartition("/")[0] if "/" in api_version else ""


def object_problems(objects, field="objects"):
    """Every problem of the object list, each naming the item (``objects[3].metadata.name``)."""
    problems = []
    if not isinstance(objects, list):
        return [f"{field} must be a list of Kubernetes objects, got {type(objects).__name__}"]
    for index, obj in enumerate(objects):
        where = f"{field}[{index}]"
        if not isinstance(obj, dict):
            problems.append(f"{where} must be a Kubernetes object (a dict), got {type(obj).__name__}")
            continue
        api_version, kind = obj.get("apiVersion"), obj.get("kind")
        if (api_version, kind) not in RESOURCES:
            known = ", ".join(f"{a} {k}" for a, k in RESOURCES)
            problems.append(f"{where}: apiVersion {api_version!r} kind {kind!r} is not one this module applies ({known})")
            continue
        meta = obj.get("metadata")
        if not isinstance(meta, dict) or not isinstance(meta.get("name"), str) or not meta.get("name"):
            problems.append(f"{where}.metadata.name is required (a non-empty string)")
            continue
        namespaced = RESOURCES[(api_version, kind)][1]
        namespace = meta.get("namespace")
        if namespaced and (not isinstance(namespace, str) or not namespace):
            problems.append(f"{where}.metadata.namespace is required for a {kind}")
        if not namespaced and namespace is not None:
            problems.append(f"{where}.metadata.namespace must not be set: a {kind} is cluster-scoped")
        for owned in SERVER_OWNED_METADATA:
            if owned in meta:
                problems.append(f"{where}.metadata.{owned} is set by the API server; leave it out")
    return problems


def object_path(obj, with_name=True):
    """REST path of the object (or of its collection with ``with_name=False``)."""
    api_version, kind = obj["apiVersion"], obj["kind"]
    plural, namespaced = RESOURCES[(api_version, kind)]
    base = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
    if namespaced:
        base += f"/namespaces/{obj['metadata']['namespace']}"
    base += f"/{plural}"
    return f"{base}/{obj['metadata']['name']}" if with_name else base


def crd_name(obj):
    """``<plural>.<group>`` of a custom resource's definition, None for a built-in kind."""
    group = group_of(obj["apiVersion"])
    if group in BUILTIN_GROUPS:
        return None
    return f"{RESOURCES[(obj['apiVersion'], obj['kind'])][0]}.{group}"


def label(obj):
    meta = obj["metadata"]
    where = f"{meta['namespace']}/" if meta.get("namespace") else ""
    return f"{obj['kind']} {where}{meta['name']}"


def is_subset(desired, current):
    """True when every field of ``desired`` is in ``current`` with the same value. Maps may hold more
    keys on the server (defaults, status); lists must have the same length, item by item."""
    if isinstance(desired, dict):
        return isinstance(current, dict) and all(key in current and is_subset(value, current[key])
                                                 for key, value in desired.items())
    if isinstance(desired, list):
        return (isinstance(current, list) and len(desired) == len(current)
                and all(is_subset(d, c) for d, c in zip(desired, current, strict=False)))
    return desired == current


def view(desired, current):
    """The part of ``current`` that ``desired`` declares (for a readable diff)."""
    if isinstance(desired, dict) and isinstance(current, dict):
        return {key: view(value, current[key]) for key, value in desired.items() if key in current}
    if isinstance(desired, list) and isinstance(current, list):
        return [view(d, c) for d, c in zip(desired, current, strict=False)] + current[len(desired):]
    return copy.deepcopy(current)


def action_for(desired, current, patch_only=False):
    """``create``, ``patch``, ``unchanged`` or ``absent`` (a patch-only object that does not exist)."""
    if current is None:
        return "absent" if patch_only else "create"
    return "unchanged" if is_subset(desired, current) else "patch"


def established(crd):
    conditions = ((crd or {}).get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Established" and c.get("status") == "True" for c in conditions)


class ObjectApi:
    """GET / POST / merge-PATCH of any object by path, on raw JSON (``client`` is a kubernetes ApiClient)."""

    def __init__(self, api_client, error_class, timeout=(10, 60)):
        self.client = api_client
        self.error_class = error_class
        self.timeout = timeout
        self.requests = 0

    def _call(self, what, method, path, body=None, content_type="application/json"):
        import urllib3  # present with kubernetes, which the module checks for (HAS_KUBERNETES)
        from kubernetes.client.rest import ApiException

        self.requests += 1
        try:
            response = self.client.call_api(
                path, method, header_params={"Accept": "application/json", "Content-Type": content_type},
                body=body, auth_settings=["BearerToken", "authorization"], _preload_content=False, _request_timeout=self.timeout,
                _return_http_data_only=True)
        except ApiException as exc:
            if exc.status == 404 and method == "GET":
                return None
            raise self.error_class(f"{what}: {_message(exc)} (HTTP {exc.status})", status=exc.status,
                                   reason=exc.reason) from exc
        except urllib3.exceptions.HTTPError as exc:
            raise self.error_class(f"{what}: cannot reach the Kubernetes API at {self.client.configuration.host}: {exc}") from exc
        return json.loads(response.data)

    def get(self, obj):
        return self._call(f"reading {label(obj)}", "GET", object_path(obj))

    def create(self, obj):
        return self._call(f"creating {label(obj)}", "POST", object_path(obj, with_name=False), body=obj)

    def patch(self, obj):
        return self._call(f"patching {label(obj)}", "PATCH", object_path(obj), body=obj,
                          content_type="application/merge-patch+json")

    def crd(self, name):
        return self._call(f"reading CustomResourceDefinition {name}", "GET",
                          f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}")


def _message(exc):
    body = exc.body.decode("utf-8", "replace") if isinstance(exc.body, bytes) else (exc.body or "")
    try:
        status = json.loads(body)
    except ValueError:
        return body.strip() or exc.reason
    return (status.get("message") if isinstance(status, dict) else None) or exc.reason


def wait_for_crds(api, names, timeout, sleep=time.sleep, clock=time.monotonic):
    """Wait until every CRD in ``names`` is Established; raise ``api.error_class`` naming the missing ones."""
    deadline = clock() + timeout
    pending = sorted(set(names))
    delay = 1.0
    while pending:
        pending = [name for name in pending if not established(api.crd(name))]
        if not pending:
            return
        if clock() >= deadline:
            raise api.error_class(f"CustomResourceDefinition(s) {', '.join(pending)} not Established after {timeout} s: "
                                  "install the chart that provides them first")
        sleep(delay)
        delay = min(delay * 2, 10.0)


def apply_objects(api, objects, patch_only=(), check_mode=False, crd_timeout=300, sleep=time.sleep):
    """Apply ``objects`` in order (``patch_only`` are patched only if they exist, never created).

    Returns (results, diff): one ``{kind, namespace, name, action}`` per object and ``before``/``after``
    views of the changed ones.
    """
    items = [(obj, False) for obj in objects] + [(obj, True) for obj in patch_only]
    crds = [crd_name(obj) for obj, _only in items if crd_name(obj)]
    if crds and not check_mode:
        wait_for_crds(api, crds, crd_timeout, sleep=sleep)
    results, before, after = [], [], []
    served = {}
    for obj, only in items:
        name = crd_name(obj)
        if name and check_mode and name not in served:
            served[name] = established(api.crd(name))
        # In check mode before the CRD exists (its chart not installed yet) the object cannot exist either.
        current = api.get(obj) if not name or served.get(name, True) else None
        action = action_for(obj, current, only)
        meta = obj["metadata"]
        results.append({"kind": obj["kind"], "namespace": meta.get("namespace"), "name": meta["name"],
                        "action": action})
        if action in ("create", "patch"):
            before.append({} if current is None else view(obj, current))
            after.append(obj)
            if not check_mode:
                (api.create if action == "create" else api.patch)(obj)
    return results, {"before": before, "after": after}
