# Copyright: msa.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Labels, taints and placement of Kubernetes nodes: the logic behind k8s_node_labels,
k8s_node_taints and k8s_placement.

Ownership: what a module manages on a node is recorded on that node in an annotation, a sorted
comma-separated list (label keys and taint ``key:effect`` pairs can hold neither ``,`` nor ``:``
beyond the one separating effect):

- ``msa.platform/managed-labels: "api,workload"``
- ``msa.platform/managed-taints: "dedicated:NoSchedule"``

A run changes only keys it owns or is asked about, so labels and taints set by others (kubelet,
kubeadm, the node lifecycle controller) stay as they are.

Writes: one LIST of nodes, then for each node that needs a change one merge patch
(``application/merge-patch+json``) that carries the ``metadata.resourceVersion`` the change was
computed from; a concurrent write makes the server answer 409, and that node is read again and
the change recomputed, a bounded number of times. A taints list in a patch replaces the whole
list, so the patch carries the full list computed from the current one.
"""

from __future__ import annotations

import re

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible_collections.msa.platform.plugins.module_utils.k8s_client import (
    AUTH_ARG_SPEC,
    AUTH_RULES,
    HAS_KUBERNETES,
    KUBERNETES_IMPORT_ERROR,
    KubeApiError,
    node_api,
)
from ansible_collections.msa.platform.plugins.module_utils.module_args import build_module, control_problem, non_empty
from ansible_collections.msa.platform.plugins.module_utils.topology_k8s import label_value_problem, qualified_name_problem

LABELS_ANNOTATION = "msa.platform/managed-labels"
TAINTS_ANNOTATION = "msa.platform/managed-taints"
TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
CONFLICT_RETRIES = 5
DEFAULT_SYSTEM_NAMESPACES = ("kube-system", "kube-public", "kube-node-lease")

_DNS_SUBDOMAIN_RE = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")


# --- syntax (the API server's rules, shared with the topology checks) -----------------------------
def label_key_error(key):
    """Why ``key`` is not a valid label (or taint) key, or None."""
    if not isinstance(key, str) or not key:
        return f"a key must be a non-empty string, got {key!r}"
    return control_problem(key) or qualified_name_problem(key) or None


def label_value_error(value):
    """Why ``value`` is not a valid label (or taint) value, or None."""
    if isinstance(value, bool) or not isinstance(value, str):
        return f"value {value!r} must be a string (quote it in YAML)"
    problem = control_problem(value) or label_value_problem(value)
    return f"value {value!r} {problem}" if problem else None


def node_name_error(name):
    if not isinstance(name, str) or len(name) > 253 or not _DNS_SUBDOMAIN_RE.fullmatch(name):
        return f"node name {name!r} must be a lowercase DNS subdomain"
    return None


def validate_label_nodes(nodes, state):
    """Every problem in the ``nodes`` option of k8s_node_labels, as messages naming the field."""
    errors = []
    if not isinstance(nodes, dict):
        return ["nodes: must be a dict of node name -> labels"]
    for node, labels in nodes.items():
        where = f"nodes.{node}"
        problem = node_name_error(node)
        if problem:
            errors.append(f"{where}: {problem}")
        if labels is None:
            labels = {}
        if not isinstance(labels, dict):
            errors.append(f"{where}: must be a dict of label key -> value, got {type(labels).__name__}")
            continue
        for key, value in labels.items():
            problem = label_key_error(key)
            if problem:
                errors.append(f"{where}: label key {key!r}: {problem}")
            if state == "present":
                problem = label_value_error(value)
                if problem:
                    errors.append(f"{where}.{key}: {problem}")
    return errors


def validate_taint_nodes(nodes, state):
    """Every problem in the ``nodes`` option of k8s_node_taints, as messages naming the field."""
    errors = []
    if not isinstance(nodes, dict):
        return ["nodes: must be a dict of node name -> list of taints"]
    for node, taints in nodes.items():
        where = f"nodes.{node}"
        problem = node_name_error(node)
        if problem:
            errors.append(f"{where}: {problem}")
        if taints is None:
            taints = []
        if not isinstance(taints, list):
            errors.append(f"{where}: must be a list of taints ({{key, value, effect}}), got {type(taints).__name__}")
            continue
        seen = set()
        for index, taint in enumerate(taints):
            item = f"{where}[{index}]"
            if not isinstance(taint, dict):
                errors.append(f"{item}: must be a dict with key, value, effect")
                continue
            unknown = sorted(set(taint) - set(("key", "value", "effect")))
            if unknown:
                errors.append("{}: unknown fields {} (allowed: key, value, effect)".format(item, ", ".join(unknown)))
            problem = label_key_error(taint.get("key"))
            if problem:
                errors.append(f"{item}.key: {problem}")
            if not isinstance(taint.get("effect"), str) or taint["effect"] not in TAINT_EFFECTS:
                errors.append("{}.effect: {!r} must be one of {}".format(item, taint.get("effect"), ", ".join(TAINT_EFFECTS)))
            if state == "present" and taint.get("value") is not None:
                problem = label_value_error(taint["value"])
                if problem:
                    errors.append(f"{item}.value: {problem}")
            identity = (taint.get("key"), taint.get("effect"))
            if not all(isinstance(part, str) for part in identity):
                continue  # already reported: key and effect are strings
            if identity in seen:
                errors.append("{}: duplicate taint {}:{} (a taint is identified by key and effect)".format(item, *identity))
            seen.add(identity)
    return errors


# --- ownership annotation -----------------------------------------------------------------------
def parse_owned(node, annotation):
    """The owned entries recorded in ``annotation`` on ``node`` (a list, empty when absent)."""
    raw = (node.get("metadata", {}).get("annotations") or {}).get(annotation, "")
    return [item.strip() for item in raw.split(",") if item.strip()]


def format_owned(entries):
    """The annotation value for ``entries``, or None (delete the annotation) when there are none."""
    return ",".join(sorted(set(entries))) or None


def taint_id(taint):
    return "{}:{}".format(taint["key"], taint["effect"])


def normalize_taint(taint):
    """``taint`` as the API server stores it: an empty or null ``value`` is no ``value`` field
    (``{key: gpu, value: "", effect: NoSchedule}`` comes back as ``{key: gpu, effect: NoSchedule}``),
    so a missing value and ``""`` compare equal. Other fields (``timeAdded``) are kept."""
    return dict((k, v) for k, v in taint.items() if not (k == "value" and v in ("", None)))


def normalize_taints(taints):
    return [normalize_taint(t) for t in taints or []]


# --- desired state (pure) -----------------------------------------------------------------------
def desired_labels(current, owned, wanted, state):
    """(labels, owned keys) after applying ``wanted`` to a node with ``current`` labels.

    present: owned keys no longer wanted are removed, wanted keys set (and owned from now on);
    absent: the listed keys are removed (also when another party set them: they were asked for).
    """
    labels = dict(current)
    if state == "present":
        for key in owned:
            if key not in wanted:
                labels.pop(key, None)
        labels.update(wanted)
        return labels, sorted(wanted)
    for key in wanted:
        labels.pop(key, None)
    return labels, sorted(set(owned) - set(wanted))


def desired_taints(current, owned, wanted, state):
    """(taints, owned ids) after applying ``wanted`` to a node with ``current`` taints.

    A taint is identified by key and effect. present: owned taints no longer wanted are removed,
    a wanted taint already there keeps its place (its value is updated), new ones are appended;
    absent: the listed taints are removed. Taints nobody asked about keep their place and fields.
    """
    wanted_by_id = dict((taint_id(t), normalize_taint(dict((k, v) for k, v in t.items() if v is not None)))
                        for t in wanted)
    result = []
    for taint in current:
        identity = taint_id(taint)
        if identity in wanted_by_id:
            if state == "present":
                updated = dict(taint)
                updated.pop("value", None)
                updated.update(wanted_by_id[identity])
                result.append(updated)
        elif not (state == "present" and identity in owned):
            result.append(taint)
    if state == "present":
        present = set(taint_id(t) for t in current)
        result.extend(t for identity, t in wanted_by_id.items() if identity not in present)
        return result, sorted(wanted_by_id)
    return result, sorted(set(owned) - set(wanted_by_id))


def _annotation_patch(node, annotation, new_owned):
    old = format_owned(parse_owned(node, annotation))
    new = format_owned(new_owned)
    return {} if old == new else {annotation: new}


def label_change(node, wanted, state):
    """``(before, after, patch)`` for one node, or None when it already is as asked."""
    current = node["metadata"].get("labels") or {}
    owned = parse_owned(node, LABELS_ANNOTATION)
    labels, new_owned = desired_labels(current, owned, wanted or {}, state)
    label_patch = dict((key, labels.get(key)) for key in set(current) | set(labels) if current.get(key) != labels.get(key))
    annotations = _annotation_patch(node, LABELS_ANNOTATION, new_owned)
    if not label_patch and not annotations:
        return None
    metadata = {}
    if label_patch:
        metadata["labels"] = label_patch
    if annotations:
        metadata["annotations"] = annotations
    return ({"labels": current, "managed": sorted(owned)}, {"labels": labels, "managed": new_owned},
            {"metadata": metadata})


def taint_change(node, wanted, state):
    """``(before, after, patch)`` for one node, or None when it already is as asked."""
    current = node.get("spec", {}).get("taints") or []
    owned = parse_owned(node, TAINTS_ANNOTATION)
    taints, new_owned = desired_taints(current, owned, wanted or [], state)
    taints = normalize_taints(taints)
    annotations = _annotation_patch(node, TAINTS_ANNOTATION, new_owned)
    same = taints == normalize_taints(current)  # "" and no value are one taint value
    if same and not annotations:
        return None
    patch = {}
    if not same:
        patch["spec"] = {"taints": taints}  # a list in a patch replaces the whole list: send all of it
    if annotations:
        patch["metadata"] = {"annotations": annotations}
    return ({"taints": current, "managed": sorted(owned)}, {"taints": taints, "managed": new_owned}, patch)


def label_view(node):
    return {"labels": node["metadata"].get("labels") or {}, "managed": sorted(parse_owned(node, LABELS_ANNOTATION))}


def taint_view(node):
    return {"taints": node.get("spec", {}).get("taints") or [], "managed": sorted(parse_owned(node, TAINTS_ANNOTATION))}


# --- reconcile against the API ------------------------------------------------------------------
def reconcile_nodes(api, wanted_by_node, change, view, state, check_mode, label_selector=None):
    """Bring every node in ``wanted_by_node`` to what ``change`` asks: one LIST, then one PATCH per
    node that needs it (re-read and recomputed on 409 Conflict, at most CONFLICT_RETRIES times).

    Returns a dict with ``changed``, ``changed_nodes``, ``nodes`` (node -> view after),
    ``diff`` (before/after of the changed nodes) and ``conflicts`` (retries made).
    """
    listed = dict((node["metadata"]["name"], node) for node in api.list_nodes(label_selector))
    missing = sorted(name for name in wanted_by_node if name not in listed)
    if missing:
        scope = f" matching label selector {label_selector!r}" if label_selector else ""
        raise KubeApiError(f"nodes not found in the cluster{scope}: {', '.join(missing)} (names in nodes must be Kubernetes node names)",
                           status=404)
    result = {"changed_nodes": [], "nodes": {}, "diff": {"before": {}, "after": {}}, "conflicts": 0}
    for name, wanted in wanted_by_node.items():
        node = listed[name]
        for attempt in range(CONFLICT_RETRIES + 1):
            planned = change(node, wanted, state)
            if planned is None:
                result["nodes"][name] = view(node)
                break
            before, after, patch = planned
            if not check_mode:
                patch.setdefault("metadata", {})["resourceVersion"] = node["metadata"]["resourceVersion"]
                try:
                    node = api.patch_node(name, patch)
                except KubeApiError as exc:
                    if exc.status != 409 or attempt == CONFLICT_RETRIES:
                        raise
                    result["conflicts"] += 1
                    node = api.read_node(name)
                    continue
                after = view(node)
            result["changed_nodes"].append(name)
            result["nodes"][name] = after
            result["diff"]["before"][name] = before
            result["diff"]["after"][name] = after
            break
    result["changed"] = bool(result["changed_nodes"])
    return result


# --- placement ----------------------------------------------------------------------------------
def _is_daemonset_pod(pod):
    return any(ref.get("kind") == "DaemonSet" for ref in pod["metadata"].get("ownerReferences") or [])


def placement_report(nodes, pods, node_label, pod_label, apis=None, system_namespaces=DEFAULT_SYSTEM_NAMESPACES,
                     ignore_daemonsets=True):
    """Where each API's pods run and what breaks the rule "an API's pods run only on its dedicated
    nodes, and nothing else runs there".

    A node is dedicated to API ``a`` when its label ``node_label`` is ``a``; a pod belongs to API
    ``a`` when its label ``pod_label`` is ``a``. Pods not yet bound to a node are listed as pending,
    not as violations. Pods owned by a DaemonSet (when ``ignore_daemonsets``) and pods in
    ``system_namespaces`` may run on dedicated nodes.
    Returns ``(report, violations)``: report is api -> {nodes, pods, pending}; violations a list of
    {api, namespace, pod, node, reason}.
    """
    dedicated = {}
    api_of_node = {}
    for node in nodes:
        value = (node["metadata"].get("labels") or {}).get(node_label)
        if value:
            dedicated.setdefault(value, []).append(node["metadata"]["name"])
            api_of_node[node["metadata"]["name"]] = value
    selected = set(apis) if apis else None
    names = sorted(selected if selected is not None else set(dedicated) | set(
        (p["metadata"].get("labels") or {}).get(pod_label) for p in pods) - set([None, ""]))
    report = dict((api, {"nodes": sorted(dedicated.get(api, [])), "pods": [], "pending": []}) for api in names)
    violations = []
    for pod in sorted(pods, key=lambda p: (p["metadata"]["namespace"], p["metadata"]["name"])):
        meta = pod["metadata"]
        pod_api = (meta.get("labels") or {}).get(pod_label) or None
        node = (pod.get("spec") or {}).get("nodeName")
        where = {"namespace": meta["namespace"], "pod": meta["name"], "node": node}
        if pod_api in report:
            if not node:
                report[pod_api]["pending"].append("{}/{}".format(meta["namespace"], meta["name"]))
                continue
            report[pod_api]["pods"].append(dict(where))
            if api_of_node.get(node) != pod_api:
                reason = (f"runs on node dedicated to {api_of_node[node]}") if node in api_of_node else \
                    "runs on a node not dedicated to it"
                violations.append(dict(where, api=pod_api, reason=reason))
            continue
        host_api = api_of_node.get(node)
        if host_api in report and host_api != pod_api:
            if (ignore_daemonsets and _is_daemonset_pod(pod)) or meta["namespace"] in system_namespaces:
                continue
            owner = (f"belongs to {pod_api}") if pod_api else "belongs to no API"
            violations.append(dict(where, api=host_api, reason=f"foreign pod on a dedicated node ({owner})"))
    return report, violations


def format_table(rows, columns):
    """A plain-text table of ``rows`` (dicts) with ``columns`` (key, heading) pairs."""
    cells = [[heading for _key, heading in columns]]
    cells += [[str(row.get(key) if row.get(key) is not None else "-") for key, _heading in columns] for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(columns))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=False)).rstrip() for line in cells]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


VIOLATION_COLUMNS = (("api", "API"), ("namespace", "NAMESPACE"), ("pod", "POD"), ("node", "NODE"), ("reason", "PROBLEM"))


# --- module glue --------------------------------------------------------------------------------
def run_node_module(validate, change, view):
    """main() of k8s_node_labels / k8s_node_taints: their shared arguments, every input validated
    before any request, then reconcile and exit with ``changed``, ``diff`` and the per-node views."""
    argument_spec = dict(AUTH_ARG_SPEC)
    argument_spec.update(
        nodes=dict(type="dict", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        label_selector=dict(type="str"),
    )
    module = build_module(AnsibleModule, argument_spec, dict(AUTH_RULES, label_selector=non_empty), supports_check_mode=True)
    if not HAS_KUBERNETES:
        module.fail_json(msg=missing_required_lib("kubernetes"), exception=KUBERNETES_IMPORT_ERROR)
    params = module.params
    errors = validate(params["nodes"], params["state"])
    if errors:
        module.fail_json(msg="invalid input: " + "; ".join(errors), errors=errors)
    try:
        result = reconcile_nodes(node_api(params), params["nodes"], change, view, params["state"],
                                 module.check_mode, params.get("label_selector"))
    except KubeApiError as exc:
        module.fail_json(msg=str(exc), status=exc.status)
    diff = result.pop("diff")
    if module._diff:  # pylint: disable=protected-access
        result["diff"] = diff
    module.exit_json(**result)
