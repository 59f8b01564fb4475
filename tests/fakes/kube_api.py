"""An API fake of the Kubernetes API server, for nodes and pods (and the add-on kinds: see AddonObjects).

No kube-apiserver can be installed on our machines, so the node modules are tested against this
small HTTP server on 127.0.0.1. It is an API *fake*: it answers the few endpoints the modules use
the way a real kube-apiserver v1.28 answers them (codes and Status bodies captured from one, see
tests/fakes/fixtures/), and nothing more.

What it does:
- GET / LIST nodes and pods (all namespaces or one), ``labelSelector`` in its equality and
  existence forms (``k=v``, ``k==v``, ``k!=v``, ``k``, ``!k``), ``fieldSelector`` on
  ``metadata.name``, ``metadata.namespace`` and, for pods, ``spec.nodeName``.
- POST nodes (the server adds the ``node.kubernetes.io/not-ready:NoSchedule`` taint *after* the
  requested ones, as a real server does for a Node that no kubelet reports on), pods and
  serviceaccounts. A Pod is refused (403) until the ServiceAccount it runs as (``default`` unless
  ``spec.serviceAccountName`` says otherwise) exists in its namespace: a bare apiserver has no
  controller-manager to create ``default``, so a harness creates it (``add_service_account``).
- A taint with an empty (or null) ``value`` is stored and returned without the field, on create
  and on every patch, as a real server stores it (``omitempty``).
- PATCH nodes with ``application/merge-patch+json`` (RFC 7386), ``application/json-patch+json``
  (RFC 6902, through the ``jsonpatch`` library; a failed ``test`` op answers 422 Invalid) and
  ``application/strategic-merge-patch+json`` for the node fields a node patch touches (maps merged,
  ``null`` deletes, lists such as ``spec.taints`` replaced whole, as measured on a real server).
- resourceVersion: one global counter bumped on every write; a patch whose result carries a
  resourceVersion other than the current one answers 409 Conflict; a no-op patch keeps the version.
- Bearer-token authentication (401 without a known token) and an RBAC switch (``deny``) that
  answers 403 with the real message; 404 for unknown objects.
- Request counters per (verb, resource) and a hook (``inject_conflict``) that modifies a node just
  before the next PATCH of it, so a client's optimistic-concurrency retry can be tested.

What it does not do: watches, other resources (no Namespaces: any namespace name is taken), set-based
selectors (``in``/``notin``), server-side apply, managedFields, admission beyond the ServiceAccount
check, strategic-merge directives (``$patch`` ...), TLS, pagination.
"""
from __future__ import annotations

import contextlib
import copy
import json
import re
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jsonpatch

NOT_READY_TAINT = {"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"}
TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
MERGE_PATCH = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
STRATEGIC_PATCH = "application/strategic-merge-patch+json"

_NAME = r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_LABEL_NAME_RE = re.compile(rf"^{_NAME}$")
_DNS_SUBDOMAIN_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")

_ROUTES = [
    (re.compile(r"^/api/v1/nodes$"), "nodes"),
    (re.compile(r"^/api/v1/nodes/(?P<name>[^/]+)$"), "nodes"),
    (re.compile(r"^/api/v1/pods$"), "pods"),
    (re.compile(r"^/api/v1/namespaces/(?P<namespace>[^/]+)/pods$"), "pods"),
    (re.compile(r"^/api/v1/namespaces/(?P<namespace>[^/]+)/pods/(?P<name>[^/]+)$"), "pods"),
    (re.compile(r"^/api/v1/namespaces/(?P<namespace>[^/]+)/serviceaccounts$"), "serviceaccounts"),
    (re.compile(r"^/api/v1/namespaces/(?P<namespace>[^/]+)/serviceaccounts/(?P<name>[^/]+)$"), "serviceaccounts"),
    # day-2 (drain): the Eviction subresource and PodDisruptionBudgets
    (re.compile(r"^/api/v1/namespaces/(?P<namespace>[^/]+)/pods/(?P<name>[^/]+)/eviction$"), "pods/eviction"),
    (re.compile(r"^/apis/policy/v1/namespaces/(?P<namespace>[^/]+)/poddisruptionbudgets$"), "poddisruptionbudgets"),
    (re.compile(r"^/apis/policy/v1/namespaces/(?P<namespace>[^/]+)/poddisruptionbudgets/(?P<name>[^/]+)$"), "poddisruptionbudgets"),
]
_KIND = {"nodes": "Node", "pods": "Pod", "serviceaccounts": "ServiceAccount", "poddisruptionbudgets": "PodDisruptionBudget"}
_API_VERSION = {"poddisruptionbudgets": "policy/v1"}
_NODE_INFO_FIELDS = ("machineID", "systemUUID", "bootID", "kernelVersion", "osImage", "containerRuntimeVersion",
                     "kubeletVersion", "kubeProxyVersion", "operatingSystem", "architecture")


class ApiError(Exception):
    """An answer other than 2xx, carried as a Kubernetes Status object."""

    def __init__(self, code: int, reason: str, message: str, details: dict | None = None):
        super().__init__(message)
        self.code = code
        self.body = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": message,
            "reason": reason,
            "details": details if details is not None else {},
            "code": code,
        }
        if code == 401:  # a real server sends no details on 401
            del self.body["details"]


def _details(resource: str, name: str | None) -> dict:
    return {"name": name, "kind": resource} if name else {"kind": resource}


def not_found(resource: str, name: str) -> ApiError:
    return ApiError(404, "NotFound", f'{resource} "{name}" not found', _details(resource, name))


def conflict(resource: str, name: str) -> ApiError:
    return ApiError(409, "Conflict",
                    f'Operation cannot be fulfilled on {resource} "{name}": the object has been modified; '
                    "please apply your changes to the latest version and try again", _details(resource, name))


def invalid_request() -> ApiError:
    """What a real server answers to a JSON patch whose ``test`` op fails: almost nothing."""
    return ApiError(422, "Invalid", "the server rejected our request due to an error in our request")


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


def valid_label_key(key: str) -> bool:
    prefix, _dummy, name = key.rpartition("/")
    if "/" in key and (not prefix or len(prefix) > 253 or not _DNS_SUBDOMAIN_RE.match(prefix)):
        return False
    return 0 < len(name) <= 63 and bool(_LABEL_NAME_RE.match(name))


def valid_label_value(value: Any) -> bool:
    return isinstance(value, str) and (value == "" or (len(value) <= 63 and bool(_LABEL_NAME_RE.match(value))))


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: maps merge, ``null`` deletes a key, anything else (lists too) replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def strategic_merge_patch(target: Any, patch: Any) -> Any:
    """Strategic merge for the node fields we patch: as RFC 7386 (``spec.taints`` is replaced whole,
    as measured on a real server); directives such as ``$patch`` are not implemented here."""
    def reject_directives(value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key.startswith("$"):
                    raise bad_request(f"strategic merge directive {key} is not supported by this API fake")
                reject_directives(item)
    reject_directives(patch)
    return merge_patch(target, patch)


def parse_label_selector(selector: str) -> list[tuple[str, str, str | None]]:
    """``k=v``, ``k==v``, ``k!=v``, ``k``, ``!k`` joined by commas -> [(op, key, value)]."""
    requirements: list[tuple[str, str, str | None]] = []
    for raw in filter(None, (part.strip() for part in selector.split(","))):
        if "(" in raw or re.search(r"\s(in|notin)\s", raw):
            raise bad_request(f"set-based label selector {raw!r} is not supported by this API fake")
        if raw.startswith("!"):
            op, key, value = "!", raw[1:].strip(), None
        elif "!=" in raw:
            key, value = (s.strip() for s in raw.split("!=", 1))
            op = "!="
        elif "=" in raw:
            key, value = (s.strip() for s in raw.replace("==", "=", 1).split("=", 1))
            op = "="
        else:
            op, key, value = "exists", raw, None
        if not valid_label_key(key) or (value is not None and not valid_label_value(value)):
            raise bad_request(f"unable to parse requirement: invalid label selector {raw!r}")
        requirements.append((op, key, value))
    return requirements


def label_selector_matches(requirements: list[tuple[str, str, str | None]], labels: dict) -> bool:
    for op, key, value in requirements:
        if op == "=" and labels.get(key) != value:
            return False
        if op == "!=" and labels.get(key) == value:
            return False
        if op == "exists" and key not in labels:
            return False
        if op == "!" and key in labels:
            return False
    return True


_FIELDS = {
    "nodes": {"metadata.name": ("metadata", "name")},
    "pods": {
        "metadata.name": ("metadata", "name"),
        "metadata.namespace": ("metadata", "namespace"),
        "spec.nodeName": ("spec", "nodeName"),
    },
    "serviceaccounts": {"metadata.name": ("metadata", "name"), "metadata.namespace": ("metadata", "namespace")},
    "poddisruptionbudgets": {"metadata.name": ("metadata", "name"), "metadata.namespace": ("metadata", "namespace")},
}


def parse_field_selector(resource: str, selector: str) -> list[tuple[tuple[str, str], str, bool]]:
    """``field=value``, ``field==value``, ``field!=value`` joined by commas -> [(path, value, negated)]."""
    requirements = []
    for raw in filter(None, (part.strip() for part in selector.split(","))):
        negate = "!=" in raw
        field, _dummy, value = raw.replace("!=", "=", 1).replace("==", "=", 1).partition("=")
        if field not in _FIELDS[resource]:
            raise bad_request(f"field label not supported: {field}")
        requirements.append((_FIELDS[resource][field], value, negate))
    return requirements


def field_selector_matches(requirements: list[tuple[tuple[str, str], str, bool]], obj: dict) -> bool:
    return all((obj.get(section, {}).get(key, "") == value) != negate
               for (section, key), value, negate in requirements)


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class KubeApiFake:
    """State and behaviour of the API fake; ``serve()`` puts it on 127.0.0.1."""

    def __init__(self, tokens: dict[str, str] | None = None):
        self.tokens = dict(tokens or {"fake-admin-token": "admin"})
        self.nodes: dict[str, dict] = {}
        self.pods: dict[tuple[str, str], dict] = {}
        self.service_accounts: dict[tuple[str, str], dict] = {}
        self.pdbs: dict[tuple[str, str], dict] = {}
        self.evictions: list[dict] = []  # (day-2) every eviction answered: pod, code, time
        self.cordons: list[dict] = []  # (day-2) every change of spec.unschedulable: node, value, time
        self.counts: Counter[tuple[str, str]] = Counter()
        self._denied: set[tuple[str, str, str]] = set()
        self._before_patch: dict[str, list[Callable[[], None]]] = {}
        self._version = 100
        self._lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None
        self.url = ""
        self.objects = AddonObjects(self)

    # --- seeding and inspection (from the test, not over HTTP) ---------------------------
    def _next_version(self) -> str:
        self._version += 1
        return str(self._version)

    def add_node(self, name: str, labels: dict | None = None, taints: list | None = None,
                 annotations: dict | None = None) -> dict:
        """Create a Node as ``POST /api/v1/nodes`` would (``kubernetes.io/hostname`` is added here
        the way a kubelet would set it; the not-ready taint is added by the create path)."""
        metadata: dict = {"name": name, "labels": {"kubernetes.io/hostname": name, **(labels or {})}}
        if annotations:
            metadata["annotations"] = dict(annotations)
        return self.create("nodes", None, {"metadata": metadata, "spec": {"taints": list(taints or [])}})

    def add_service_account(self, namespace: str, name: str = "default") -> dict:
        """Create a ServiceAccount, as a harness must before the first Pod of a namespace (on a
        cluster the controller-manager creates ``default`` in every namespace)."""
        return self.create("serviceaccounts", namespace, {"metadata": {"name": name}})

    def add_pod(self, namespace: str, name: str, node_name: str | None = None, labels: dict | None = None,
                owner_kind: str | None = None, phase: str | None = None, empty_dir: bool = False) -> dict:
        metadata: dict = {"name": name, "namespace": namespace, "labels": dict(labels or {})}
        if owner_kind:
            metadata["ownerReferences"] = [{"apiVersion": "apps/v1", "kind": owner_kind, "name": f"{name}-owner",
                                            "uid": str(uuid.uuid4()), "controller": True}]
        spec: dict = {"containers": [{"name": "app", "image": "example/app:1.0"}]}
        if node_name:
            spec["nodeName"] = node_name
        if empty_dir:
            spec["volumes"] = [{"name": "scratch", "emptyDir": {}}]
        body: dict = {"metadata": metadata, "spec": spec}
        if phase:  # what a kubelet would report; a created Pod stays Pending without one
            body["status"] = {"phase": phase, "conditions": [{"type": "Ready", "status": "True" if phase == "Running" else "False"}]}
        return self.create("pods", namespace, body)

    def node(self, name: str) -> dict:
        with self._lock:
            return copy.deepcopy(self.nodes[name])

    def modify_node(self, name: str, change: Callable[[dict], None]) -> None:
        """A write by someone else: ``change`` edits the stored node, its resourceVersion is bumped."""
        with self._lock:
            change(self.nodes[name])
            self.nodes[name]["metadata"]["resourceVersion"] = self._next_version()

    def inject_conflict(self, name: str, times: int = 1, change: Callable[[dict], None] | None = None) -> None:
        """Before each of the next ``times`` PATCHes of node ``name``, modify it (default: set a
        foreign label), so a PATCH that carries the version it read answers 409 Conflict."""
        def touch(node: dict) -> None:
            node["metadata"].setdefault("labels", {})["example.com/touched"] = str(self._version)
        with self._lock:
            hooks = self._before_patch.setdefault(name, [])
            hooks.extend([lambda: self.modify_node(name, change or touch)] * times)

    def deny(self, user: str, verb: str, resource: str) -> None:
        """RBAC switch: ``user`` may no longer ``verb`` (get, list, patch, create) ``resource``."""
        self._denied.add((user, verb, resource))

    def count(self, verb: str, resource: str = "nodes") -> int:
        return self.counts[(verb, resource)]

    def reset_counts(self) -> None:
        self.counts.clear()

    # --- the API --------------------------------------------------------------------------
    def create(self, resource: str, namespace: str | None, body: dict) -> dict:
        with self._lock:
            obj = {key: copy.deepcopy(value) for key, value in body.items() if key not in ("kind", "apiVersion")}
            meta = obj.setdefault("metadata", {})
            name = meta.get("name", "")
            key = (namespace or "", name)
            store = self._store(resource)
            if (name if resource == "nodes" else key) in store:
                raise ApiError(409, "AlreadyExists", f'{resource} "{name}" already exists', _details(resource, name))
            meta.update(uid=str(uuid.uuid4()), resourceVersion=self._next_version(), creationTimestamp=_now())
            if resource == "nodes":
                spec = obj.setdefault("spec", {})
                taints = list(spec.get("taints") or [])
                if not any((t.get("key"), t.get("effect")) == (NOT_READY_TAINT["key"], NOT_READY_TAINT["effect"])
                           for t in taints):
                    taints.append(dict(NOT_READY_TAINT))  # after the requested taints, as measured
                spec["taints"] = taints
                obj.setdefault("status", {"daemonEndpoints": {"kubeletEndpoint": {"Port": 0}},
                                          "nodeInfo": dict.fromkeys(_NODE_INFO_FIELDS, "")})
                self._validate_node(obj)
                _prune_empty(obj)
                self.nodes[name] = obj
            elif resource == "serviceaccounts":
                meta["namespace"] = namespace
                self.service_accounts[key] = obj
            elif resource == "poddisruptionbudgets":
                meta["namespace"] = namespace
                meta["generation"] = 1
                self.pdbs[key] = obj
            else:
                account = (obj.get("spec") or {}).get("serviceAccountName") or "default"
                if (namespace or "", account) not in self.service_accounts:
                    raise ApiError(403, "Forbidden", f'pods "{name}" is forbidden: error looking up service account '
                                   f'{namespace}/{account}: serviceaccount "{account}" not found',
                                   _details("pods", name))
                meta["namespace"] = namespace
                obj.setdefault("status", {"phase": "Pending", "qosClass": "BestEffort"})
                _prune_empty(obj)
                self.pods[key] = obj
            return self._with_kind(resource, obj)

    def get(self, resource: str, namespace: str | None, name: str) -> dict:
        with self._lock:
            obj = self.nodes.get(name) if resource == "nodes" else self._store(resource).get((namespace or "", name))
            if obj is None:
                raise not_found(resource, name)
            return self._with_kind(resource, obj)

    def list(self, resource: str, namespace: str | None, query: dict[str, str]) -> dict:
        requirements = parse_label_selector(query.get("labelSelector", ""))
        fields = parse_field_selector(resource, query.get("fieldSelector", ""))
        with self._lock:
            candidates = self.nodes.values() if resource == "nodes" else (
                obj for (ns, _dummy), obj in sorted(self._store(resource).items()) if namespace in (None, ns))
            items = [copy.deepcopy(obj) for obj in candidates
                     if label_selector_matches(requirements, obj["metadata"].get("labels", {}))
                     and field_selector_matches(fields, obj)]
            return {"kind": f"{_KIND[resource]}List", "apiVersion": _API_VERSION.get(resource, "v1"),
                    "metadata": {"resourceVersion": str(self._version)}, "items": items}

    def patch_node(self, name: str, content_type: str, patch: Any) -> dict:
        with self._lock:
            hooks = self._before_patch.get(name)
            if hooks:
                hooks.pop(0)()
            current = self.nodes.get(name)
            if current is None:
                raise not_found("nodes", name)
            if content_type == MERGE_PATCH:
                patched = merge_patch(current, patch)
            elif content_type == STRATEGIC_PATCH:
                patched = strategic_merge_patch(current, patch)
            elif content_type == JSON_PATCH:
                try:
                    patched = jsonpatch.apply_patch(current, patch)
                except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException) as exc:
                    raise invalid_request() from exc
            else:
                raise ApiError(415, "UnsupportedMediaType",
                               f"the body of the request was in an unknown format - accepted media types include: "
                               f"{JSON_PATCH}, {MERGE_PATCH}, application/apply-patch+yaml, {STRATEGIC_PATCH}")
            if not isinstance(patched, dict):
                raise bad_request("the patch does not produce an object")
            sent_version = patched.get("metadata", {}).get("resourceVersion")
            if sent_version is not None and sent_version != current["metadata"]["resourceVersion"]:
                raise conflict("nodes", name)
            for field in ("name", "uid", "creationTimestamp"):
                if patched.get("metadata", {}).get(field) != current["metadata"].get(field):
                    raise ApiError(422, "Invalid", f'Node "{name}" is invalid: metadata.{field}: Invalid value: '
                                   f'{json.dumps(patched.get("metadata", {}).get(field))}: field is immutable',
                                   {"name": name, "kind": "Node"})
            self._validate_node(patched)
            _prune_empty(patched)
            patched["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
            if patched != current:  # a real server skips the write (and keeps the version) on a no-op
                patched["metadata"]["resourceVersion"] = self._next_version()
                self.nodes[name] = patched
                if bool(patched.get("spec", {}).get("unschedulable")) != bool(current.get("spec", {}).get("unschedulable")):
                    self.cordons.append({"node": name, "unschedulable": bool(patched["spec"].get("unschedulable")), "t": time.time()})
            return self._with_kind("nodes", patched)

    def _store(self, resource: str) -> dict:
        return {"nodes": self.nodes, "pods": self.pods, "serviceaccounts": self.service_accounts,
                "poddisruptionbudgets": self.pdbs}[resource]

    @staticmethod
    def _with_kind(resource: str, obj: dict) -> dict:
        return {"kind": _KIND[resource], "apiVersion": _API_VERSION.get(resource, "v1"), **copy.deepcopy(obj)}

    @staticmethod
    def _validate_node(node: dict) -> None:
        name = node["metadata"].get("name", "")
        problems = [f'metadata.labels: Invalid value: "{key}": name part must consist of alphanumeric characters, '
                    "'-', '_' or '.', and must start and end with an alphanumeric character"
                    for key in node["metadata"].get("labels", {}) if not valid_label_key(key)]
        problems += [f'metadata.labels: Invalid value: {json.dumps(value)}: a valid label must be an empty string or '
                     "consist of alphanumeric characters, '-', '_' or '.'"
                     for value in node["metadata"].get("labels", {}).values() if not valid_label_value(value)]
        seen = set()
        for index, taint in enumerate(node.get("spec", {}).get("taints") or []):
            if taint.get("effect") not in TAINT_EFFECTS:
                problems.append(f'spec.taints[{index}].effect: Unsupported value: "{taint.get("effect")}"')
            if not valid_label_key(taint.get("key", "")):
                problems.append(f'spec.taints[{index}].key: Invalid value: "{taint.get("key")}"')
            if (taint.get("key"), taint.get("effect")) in seen:
                problems.append(f"spec.taints[{index}]: Duplicate value: {json.dumps(taint)}")
            seen.add((taint.get("key"), taint.get("effect")))
        if problems:
            raise ApiError(422, "Invalid", f'Node "{name}" is invalid: ' + ", ".join(problems),
                           {"name": name, "kind": "Node"})

    def authorize(self, user: str, verb: str, resource: str, namespace: str | None, name: str | None) -> None:
        if (user, verb, resource) not in self._denied:
            return
        scope = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
        subject = f'{resource} "{name}"' if name else resource
        raise ApiError(403, "Forbidden", f'{subject} is forbidden: User "{user}" cannot {verb} resource '
                       f'"{resource}" in API group "" {scope}', _details(resource, name))

    # --- day-2: PodDisruptionBudgets and the Eviction subresource (kubectl drain / k8s_drain) -----------
    def add_pdb(self, namespace: str, name: str, selector: dict, min_available: int | str | None = None,
                max_unavailable: int | str | None = None) -> dict:
        spec: dict = {"selector": {"matchLabels": dict(selector)}}
        if min_available is not None:
            spec["minAvailable"] = min_available
        if max_unavailable is not None:
            spec["maxUnavailable"] = max_unavailable
        return self.create("poddisruptionbudgets", namespace, {"metadata": {"name": name}, "spec": spec})

    def _budget(self, pdb: dict) -> tuple[int, int]:
        """(desired healthy, currently healthy) as the disruption controller computes them: healthy pods
        are Running and Ready; expected pods are all pods the selector matches (no scale subresource here)."""
        namespace = pdb["metadata"]["namespace"]
        want = pdb["spec"].get("selector", {}).get("matchLabels", {})
        pods = [p for (ns, _dummy), p in self.pods.items()
                if ns == namespace and all(p["metadata"].get("labels", {}).get(k) == v for k, v in want.items())]
        healthy = sum(1 for p in pods if _pod_ready(p))

        def count(value: int | str) -> int:
            return -(-len(pods) * int(value[:-1]) // 100) if isinstance(value, str) and value.endswith("%") else int(value)
        if "minAvailable" in pdb["spec"]:
            return count(pdb["spec"]["minAvailable"]), healthy
        return len(pods) - count(pdb["spec"].get("maxUnavailable", 0)), healthy

    def evict(self, namespace: str, name: str, body: dict) -> dict:
        """POST pods/<name>/eviction as kube-apiserver answers it (pkg/registry/core/pod/storage/eviction.go):
        404 for a missing pod; a terminal or Pending pod is deleted without looking at budgets; more than one
        matching PodDisruptionBudget is a 500; a budget with no disruption allowed is a 429; else the pod is
        deleted (at once: the fake plays the kubelet confirming the graceful deletion) and 201 answered."""
        with self._lock:
            key = (namespace, name)
            if (body.get("metadata") or {}).get("name", name) != name:
                raise bad_request("name in URL does not match name in Eviction object")
            pod = self.pods.get(key)
            if pod is None:
                raise not_found("pods", name)
            phase = (pod.get("status") or {}).get("phase", "Pending")
            if phase not in ("Succeeded", "Failed", "Pending"):
                labels = pod["metadata"].get("labels", {})
                budgets = [b for (ns, _dummy), b in sorted(self.pdbs.items()) if ns == namespace and labels
                           and all(labels.get(k) == v for k, v in b["spec"].get("selector", {}).get("matchLabels", {}).items())]
                if len(budgets) > 1:
                    raise ApiError(500, "InternalError", "This pod has more than one PodDisruptionBudget, which the eviction "
                                   "subresource does not support.")
                if budgets:
                    desired, healthy = self._budget(budgets[0])
                    if healthy - desired <= 0:
                        self.evictions.append({"pod": f"{namespace}/{name}", "code": 429, "t": time.time()})
                        raise ApiError(429, "TooManyRequests", "Cannot evict pod as it would violate the pod's disruption budget.",
                                       {"causes": [{"reason": "DisruptionBudget", "message":
                                                    f"The disruption budget {budgets[0]['metadata']['name']} needs {desired} "
                                                    f"healthy pods and has {healthy} currently"}]})
            del self.pods[key]
            self._version += 1
            self.evictions.append({"pod": f"{namespace}/{name}", "code": 201, "t": time.time()})
            return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}

    # --- serving -----------------------------------------------------------------------------
    def start(self, port: int = 0) -> KubeApiFake:
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _handler_for(self))
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, args=(0.05,), name="kube-api-fake", daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def write_kubeconfig(self, path: Path, token: str | None = None, context: str = "fake") -> Path:
        """A kubeconfig (JSON is valid YAML) pointing at this fake with a bearer token."""
        token = token or next(iter(self.tokens))
        config = {
            "apiVersion": "v1", "kind": "Config", "current-context": context,
            "clusters": [{"name": "fake", "cluster": {"server": self.url}}],
            "users": [{"name": f"{context}-user", "user": {"token": token}}],
            "contexts": [{"name": context, "context": {"cluster": "fake", "user": f"{context}-user"}}],
        }
        path.write_text(json.dumps(config, indent=2), encoding="utf-8")
        return path


def _resource(name: str, kind: str, namespaced: bool, verbs: list[str]) -> dict:
    return {"name": name, "singularName": "", "namespaced": namespaced, "kind": kind, "verbs": verbs}


# Discovery documents (day-2: kubernetes.core's dynamic client reads them before any call), limited to what
# the fake serves, in the shapes a v1.28 server answers.
_DISCOVERY: dict[str, dict] = {
    "/version": {"major": "1", "minor": "28", "gitVersion": "v1.28.7", "platform": "linux/amd64"},
    "/api": {"kind": "APIVersions", "versions": ["v1"],
             "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:6443"}]},
    "/api/v1": {"kind": "APIResourceList", "groupVersion": "v1", "resources": [
        _resource("nodes", "Node", False, ["create", "delete", "get", "list", "patch", "update", "watch"]),
        _resource("pods", "Pod", True, ["create", "delete", "get", "list", "patch", "update", "watch"]),
        {**_resource("pods/eviction", "Eviction", True, ["create"]), "group": "policy", "version": "v1"},
        _resource("serviceaccounts", "ServiceAccount", True, ["create", "delete", "get", "list", "patch", "update", "watch"]),
    ]},
    "/apis": {"kind": "APIGroupList", "apiVersion": "v1", "groups": [
        {"name": "policy", "versions": [{"groupVersion": "policy/v1", "version": "v1"}],
         "preferredVersion": {"groupVersion": "policy/v1", "version": "v1"}}]},
    "/apis/policy/v1": {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": "policy/v1", "resources": [
        _resource("poddisruptionbudgets", "PodDisruptionBudget", True, ["create", "delete", "get", "list", "patch", "update", "watch"])]},
}


def _pod_ready(pod: dict) -> bool:
    status = pod.get("status") or {}
    return status.get("phase") == "Running" and any(
        c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or [])


def _prune_empty(obj: dict) -> None:
    """Empty maps, lists and taint values are omitted from what a real server returns (``omitempty``)."""
    for taint in obj.get("spec", {}).get("taints") or []:
        if isinstance(taint, dict) and taint.get("value") in ("", None):
            taint.pop("value", None)
    if obj.get("spec", {}).get("unschedulable") is False:  # omitempty: an uncordoned node has no field
        del obj["spec"]["unschedulable"]
    for section, key in (("metadata", "labels"), ("metadata", "annotations"), ("spec", "taints")):
        if section in obj and key in obj[section] and not obj[section][key]:
            del obj[section][key]


def _handler_for(fake: KubeApiFake) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: the client reuses its connection
        disable_nagle_algorithm = True  # else each small response waits on a delayed ACK (~40 ms)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: tests read the counters, not a log."""

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def do_PATCH(self) -> None:
            self._serve("PATCH")

        @staticmethod
        def _json(raw: bytes) -> Any:
            try:
                return json.loads(raw) if raw else None
            except ValueError as exc:
                raise bad_request(f"the request body is not JSON: {exc}") from exc

        def _serve(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                code, body = 200, self._dispatch(method, raw)
                if method == "POST":
                    code = 201
            except ApiError as err:
                code, body = err.code, err.body
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _dispatch(self, method: str, raw: bytes) -> dict:
            url = urlsplit(self.path)
            user = fake.tokens.get(self.headers.get("Authorization", "").removeprefix("Bearer ").strip())
            if user is None:
                raise ApiError(401, "Unauthorized", "Unauthorized")
            if method == "GET" and url.path in _DISCOVERY:  # day-2: kubernetes.core's dynamic client discovers first
                return _DISCOVERY[url.path]
            if url.path == "/fake/state" and method == "GET":  # day-2: what a test reads back (not a Kubernetes path)
                with fake._lock:
                    return {"evictions": list(fake.evictions), "cordons": list(fake.cordons),
                            "pods": sorted("/".join(k) for k in fake.pods),
                            "unschedulable": sorted(n for n, o in fake.nodes.items() if o.get("spec", {}).get("unschedulable"))}
            generic = fake.objects.route(method, url.path)
            if generic is not None:
                fake.counts[(generic[0], generic[1])] += 1
                fake.authorize(user, generic[0], generic[1], generic[2], generic[3])
                return fake.objects.serve(*generic, self._json(raw), self.headers.get("Content-Type", ""))
            match, resource = next(((m, r) for m, r in ((p.match(url.path), r) for p, r in _ROUTES) if m), (None, ""))
            if match is None:
                raise ApiError(404, "NotFound", "the server could not find the requested resource")
            namespace, name = match.groupdict().get("namespace"), match.groupdict().get("name")
            verb = {"GET": "get" if name else "list", "POST": "create", "PATCH": "patch"}[method]
            if resource == "pods/eviction":
                if method != "POST":
                    raise ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource")
                fake.counts[("create", resource)] += 1
                fake.authorize(user, "create", resource, namespace, name)
                return fake.evict(namespace, name, json.loads(raw) if raw else {})
            if (verb == "create" and name) or (verb == "patch" and (not name or resource != "nodes")):
                raise ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource")
            fake.counts[(verb, resource)] += 1
            fake.authorize(user, verb, resource, namespace, name)
            try:
                body = json.loads(raw) if raw else None
            except ValueError as exc:
                raise bad_request(f"the request body is not JSON: {exc}") from exc
            if verb == "list":
                query = {key: values[-1] for key, values in parse_qs(url.query).items()}
                return fake.list(resource, namespace, query)
            if verb == "get":
                return fake.get(resource, namespace, name)
            if verb == "create":
                return fake.create(resource, namespace, body or {})
            content_type = self.headers.get("Content-Type", "").split(";")[0].strip()
            return fake.patch_node(name, content_type, body)

    return Handler


@contextlib.contextmanager
def serve(tokens: dict[str, str] | None = None) -> Iterator[KubeApiFake]:
    """Run an API fake on 127.0.0.1 for the duration of the ``with`` block."""
    fake = KubeApiFake(tokens).start()
    try:
        yield fake
    finally:
        fake.stop()


def main(argv: list[str] | None = None) -> int:
    """Run the fake as a process until killed (molecule/kubeadm drains through it from the controller):
    python tests/fakes/kube_api.py --kubeconfig PATH --seed SEED.json [--port N] [--state PATH]
    SEED: {"nodes": [names], "service_accounts": [namespaces], "pods": [{namespace, name, node, labels,
    owner_kind, phase, empty_dir}], "pdbs": [{namespace, name, selector, min_available}]}.
    GET /fake/state (with the token) answers the nodes, pods and evictions, for a test to read."""
    import argparse
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--kubeconfig", required=True, type=Path)
    parser.add_argument("--seed", required=True, type=Path)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    seed = json.loads(args.seed.read_text(encoding="utf-8"))
    fake = KubeApiFake()
    for node in seed.get("nodes", []):
        fake.add_node(node)
    for namespace in seed.get("service_accounts", []):
        fake.add_service_account(namespace)
    for pod in seed.get("pods", []):
        fake.add_pod(pod["namespace"], pod["name"], pod.get("node"), pod.get("labels"), pod.get("owner_kind"),
                     pod.get("phase"), bool(pod.get("empty_dir")))
    for pdb in seed.get("pdbs", []):
        fake.add_pdb(pdb["namespace"], pdb["name"], pdb["selector"], pdb.get("min_available"), pdb.get("max_unavailable"))
    fake.start(args.port)
    fake.write_kubeconfig(args.kubeconfig)
    print(fake.url, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        fake.stop()
    return 0


# --- Add-on objects (cluster_addons): plain creates, GETs and merge patches ------------------------
# The kinds the add-ons layer applies, served the way a kube-apiserver serves them: a namespaced object
# is refused (404 namespaces "x" not found) until its Namespace exists; a Namespace gets the label, the
# finalizer and the phase the server adds; a StorageClass gets its defaulted reclaimPolicy and
# volumeBindingMode and refuses changes to its immutable fields (422); a Service gets type ClusterIP, sessionAffinity
# None and each port its protocol TCP and targetPort (SetDefaults_Service); NetworkPolicy ports default to
# TCP and policyTypes to what the rules say; a custom resource is served only while its
# CustomResourceDefinition exists and is Established (else 404, as for any unknown resource). What it
# does not do: validate bodies against schemas (tests run kubernetes-validate on what is sent),
# DELETE, LIST, watches, server-side apply, strategic merge on these kinds.
ADDON_KINDS = {
    # plural: (apiVersion, kind, namespaced)
    "namespaces": ("v1", "Namespace", False),
    "resourcequotas": ("v1", "ResourceQuota", True),
    "limitranges": ("v1", "LimitRange", True),
    "configmaps": ("v1", "ConfigMap", True),
    "services": ("v1", "Service", True),
    "networkpolicies": ("networking.k8s.io/v1", "NetworkPolicy", True),
    "ingresses": ("networking.k8s.io/v1", "Ingress", True),
    "ingressclasses": ("networking.k8s.io/v1", "IngressClass", False),
    "storageclasses": ("storage.k8s.io/v1", "StorageClass", False),
    "customresourcedefinitions": ("apiextensions.k8s.io/v1", "CustomResourceDefinition", False),
}
BUILTIN_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
_STORAGECLASS_IMMUTABLE = ("provisioner", "parameters", "reclaimPolicy", "volumeBindingMode")
_ADDON_ROUTE = re.compile(r"^/(?:api/(?P<core>v1)|apis/(?P<group>[^/]+)/(?P<version>[^/]+))"
                          r"(?:/namespaces/(?P<namespace>[^/]+))?/(?P<plural>[^/]+)(?:/(?P<name>[^/]+))?$")


class AddonObjects:
    """Store and behaviour of the add-on kinds (see the block comment above)."""

    def __init__(self, fake: KubeApiFake):
        self.fake = fake
        self.store: dict[tuple[str, str, str], dict] = {}
        for name in BUILTIN_NAMESPACES:
            self.create("namespaces", None, {"metadata": {"name": name}})

    # --- routing ---------------------------------------------------------------------------
    def _kind(self, api_version: str, plural: str) -> tuple[str, str, bool] | None:
        known = ADDON_KINDS.get(plural)
        if known and known[0] == api_version:
            return known
        crd = self.store.get(("customresourcedefinitions", "", f"{plural}.{api_version.split('/')[0]}"))
        if crd and "/" in api_version and _established(crd):
            spec = crd["spec"]
            if any(v.get("name") == api_version.split("/")[1] and v.get("served") for v in spec.get("versions", [])):
                return (api_version, spec["names"]["kind"], spec.get("scope") == "Namespaced")
        return None

    def route(self, method: str, path: str) -> tuple[str, str, str | None, str | None, str] | None:
        """(verb, plural, namespace, name, apiVersion) when the path is an add-on kind, else None."""
        match = _ADDON_ROUTE.match(path)
        if not match:
            return None
        parts = match.groupdict()
        api_version = parts["core"] or f"{parts['group']}/{parts['version']}"
        plural, namespace, name = parts["plural"], parts["namespace"], parts["name"]
        if api_version == "v1" and plural not in ADDON_KINDS:
            return None  # nodes, pods and serviceaccounts stay with the routes above
        if api_version == "v1" and plural == "namespaces" and namespace:
            return None
        kind = self._kind(api_version, plural)
        if kind is None or kind[2] != bool(namespace):
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        verb = {"GET": "get" if name else "list", "POST": "create", "PATCH": "patch"}[method]
        if (verb == "create" and name) or (verb == "patch" and not name) or verb == "list":
            raise ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource")
        return verb, plural, namespace, name, api_version

    def serve(self, verb: str, plural: str, namespace: str | None, name: str | None, api_version: str,
              body: Any, content_type: str) -> dict:
        if verb == "get":
            return self.get(plural, namespace, name or "")
        if not isinstance(body, dict):
            raise bad_request("the request body must be an object")
        if body.get("apiVersion") not in (None, api_version):
            raise bad_request(f"the API version in the data ({body.get('apiVersion')}) does not match the expected "
                              f"API version ({api_version})")
        if verb == "create":
            return self.create(plural, namespace, body)
        if content_type.split(";")[0].strip() != MERGE_PATCH:
            raise ApiError(415, "UnsupportedMediaType", f"this API fake accepts {MERGE_PATCH} on {plural}")
        return self.patch(plural, namespace, name or "", body)

    # --- the API -----------------------------------------------------------------------------
    def _api_version(self, plural: str, given: str | None) -> str:
        return ADDON_KINDS[plural][0] if plural in ADDON_KINDS else str(given)

    def create(self, plural: str, namespace: str | None, body: dict) -> dict:
        with self.fake._lock:
            obj = copy.deepcopy(body)
            api_version = self._api_version(plural, obj.get("apiVersion"))
            kind = ADDON_KINDS[plural][1] if plural in ADDON_KINDS else obj.get("kind")
            meta = obj.setdefault("metadata", {})
            name = meta.get("name", "")
            if not name:
                raise ApiError(422, "Invalid", f"{kind}.{api_version.split('/')[0]} \"\" is invalid: metadata.name: "
                               "Required value: name or generateName is required", {"kind": plural})
            if namespace:
                if meta.get("namespace") not in (None, namespace):
                    raise bad_request("the namespace of the provided object does not match the namespace sent on the request")
                if ("namespaces", "", namespace) not in self.store:
                    raise not_found("namespaces", namespace)
                meta["namespace"] = namespace
            key = (plural, namespace or "", name)
            if key in self.store:
                raise ApiError(409, "AlreadyExists", f'{plural} "{name}" already exists', _details(plural, name))
            obj.update(apiVersion=api_version, kind=kind)
            meta.update(uid=str(uuid.uuid4()), resourceVersion=self.fake._next_version(), creationTimestamp=_now())
            _addon_defaults(plural, obj)
            self.store[key] = obj
            return copy.deepcopy(obj)

    def get(self, plural: str, namespace: str | None, name: str) -> dict:
        with self.fake._lock:
            obj = self.store.get((plural, namespace or "", name))
            if obj is None:
                raise not_found(plural, name)
            return copy.deepcopy(obj)

    def patch(self, plural: str, namespace: str | None, name: str, patch: dict) -> dict:
        with self.fake._lock:
            current = self.store.get((plural, namespace or "", name))
            if current is None:
                raise not_found(plural, name)
            patched = merge_patch(current, patch)
            sent_version = patched.get("metadata", {}).get("resourceVersion")
            if sent_version != current["metadata"]["resourceVersion"]:
                raise conflict(plural, name)
            for field in ("name", "namespace", "uid", "creationTimestamp"):
                if patched.get("metadata", {}).get(field) != current["metadata"].get(field):
                    raise ApiError(422, "Invalid", f'{current["kind"]} "{name}" is invalid: metadata.{field}: Invalid '
                                   "value: field is immutable", {"name": name, "kind": plural})
            if plural == "storageclasses":
                changed = [f for f in _STORAGECLASS_IMMUTABLE if patched.get(f) != current.get(f)]
                if changed:
                    raise ApiError(422, "Invalid", f'StorageClass.storage.k8s.io "{name}" is invalid: '
                                   + ", ".join(f"{f}: Forbidden: updates to {f} are forbidden." for f in changed),
                                   {"name": name, "kind": "StorageClass"})
            _addon_defaults(plural, patched)
            if patched != current:
                patched["metadata"]["resourceVersion"] = self.fake._next_version()
                self.store[(plural, namespace or "", name)] = patched
            return copy.deepcopy(patched)

    # --- seeding from a test -------------------------------------------------------------------
    def add_crd(self, group: str, plural: str, kind: str, version: str = "v1alpha1", established: bool = True) -> dict:
        """A CustomResourceDefinition as a chart installs it; the server marks it Established shortly after."""
        crd = self.create("customresourcedefinitions", None, {
            "metadata": {"name": f"{plural}.{group}"},
            "spec": {"group": group, "scope": "Namespaced",
                     "names": {"plural": plural, "kind": kind, "singular": kind.lower(), "listKind": f"{kind}List"},
                     "versions": [{"name": version, "served": True, "storage": True,
                                   "schema": {"openAPIV3Schema": {"type": "object",
                                                                  "x-kubernetes-preserve-unknown-fields": True}}}]}})
        if established:
            self.establish(crd["metadata"]["name"])
        return crd

    def establish(self, name: str) -> None:
        with self.fake._lock:
            crd = self.store[("customresourcedefinitions", "", name)]
            crd["status"] = {"conditions": [{"type": "NamesAccepted", "status": "True", "reason": "NoConflicts"},
                                            {"type": "Established", "status": "True", "reason": "InitialNamesAccepted"}]}
            crd["metadata"]["resourceVersion"] = self.fake._next_version()

    def all(self, plural: str) -> dict[tuple[str, str], dict]:
        """{(namespace, name): object} of one kind, for assertions."""
        with self.fake._lock:
            return {(ns, name): copy.deepcopy(obj) for (p, ns, name), obj in self.store.items() if p == plural}


def _established(crd: dict) -> bool:
    return any(c.get("type") == "Established" and c.get("status") == "True"
               for c in (crd.get("status") or {}).get("conditions") or [])


def _addon_defaults(plural: str, obj: dict) -> None:
    """What the server's defaulting adds to the kinds above."""
    if plural == "namespaces":
        obj["metadata"].setdefault("labels", {})["kubernetes.io/metadata.name"] = obj["metadata"]["name"]
        obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
        obj.setdefault("status", {"phase": "Active"})
    elif plural == "services":
        # SetDefaults_Service: type ClusterIP, sessionAffinity None, each port's protocol TCP and targetPort its port;
        # an ExternalName Service gets no cluster IP.
        spec = obj.setdefault("spec", {})
        spec.setdefault("type", "ClusterIP")
        spec.setdefault("sessionAffinity", "None")
        for port in spec.get("ports") or []:
            port.setdefault("protocol", "TCP")
            port.setdefault("targetPort", port.get("port"))
    elif plural == "storageclasses":
        obj.setdefault("reclaimPolicy", "Delete")
        obj.setdefault("volumeBindingMode", "Immediate")
    elif plural == "networkpolicies":
        spec = obj.setdefault("spec", {})
        for rule in (spec.get("ingress") or []) + (spec.get("egress") or []):
            for port in rule.get("ports") or []:
                port.setdefault("protocol", "TCP")
        if not spec.get("policyTypes"):
            spec["policyTypes"] = ["Ingress"] + (["Egress"] if spec.get("egress") else [])


if __name__ == "__main__":
    raise SystemExit(main())
