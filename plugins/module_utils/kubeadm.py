# Copyright: msa.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Decisions of the kubeadm role that are easier to test in Python than in Jinja.

- which labels the kubelet may set on its own Node at registration (`--node-labels`) and which must
  wait for node_placement (kubelet refuses most kubernetes.io / k8s.io labels, node-role included);
- the cluster-wide preflight: every problem of every host at once, each naming host and check;
- which control-plane host speaks for the cluster (the one with a live admin.conf, else the first).
"""
from __future__ import annotations

import re

# Labels in the kubernetes.io / k8s.io namespaces a kubelet may still set on itself (kubelet's
# own allow-list, k8s.io/kubelet/pkg/apis: KubeletLabels and KubeletLabelNamespaces).
KUBELET_ALLOWED_LABELS = frozenset({
    "kubernetes.io/hostname", "kubernetes.io/os", "kubernetes.io/arch",
    "beta.kubernetes.io/os", "beta.kubernetes.io/arch", "beta.kubernetes.io/instance-type",
    "node.kubernetes.io/instance-type",
    "topology.kubernetes.io/region", "topology.kubernetes.io/zone",
    "failure-domain.beta.kubernetes.io/region", "failure-domain.beta.kubernetes.io/zone",
})
KUBELET_ALLOWED_NAMESPACES = ("kubelet.kubernetes.io", "node.kubernetes.io")
_RESERVED = ("kubernetes.io", "k8s.io")

CONTROL_PLANE_PORTS = (6443, 2379, 2380, 10250, 10257, 10259)
WORKER_PORTS = (10250,)
# A version as the tools print it: v1.37.2, 1.37, v1.37.0-rc.1 (a pre-release or build suffix is allowed).
_VERSION = re.compile(r"v?(\d+)\.(\d+)(?:\.(\d+))?(?:[-+][0-9A-Za-z.+-]*)?")


def _under(prefix: str, domain: str) -> bool:
    return prefix == domain or prefix.endswith("." + domain)


def kubelet_may_set(key: str) -> bool:
    """True when a kubelet accepts `key` in --node-labels (it refuses to start otherwise)."""
    if "/" not in key:
        return True
    prefix = key.split("/", 1)[0]
    if not any(_under(prefix, d) for d in _RESERVED):
        return True
    return key in KUBELET_ALLOWED_LABELS or any(_under(prefix, d) for d in KUBELET_ALLOWED_NAMESPACES)


def split_labels(labels) -> dict:
    """{'kubelet': {...set at registration...}, 'deferred': {...left to node_placement...}}."""
    out = {"kubelet": {}, "deferred": {}}
    for key, value in sorted((labels or {}).items()):
        out["kubelet" if kubelet_may_set(str(key)) else "deferred"][str(key)] = "" if value is None else str(value)
    return out


def node_labels_arg(labels) -> str:
    """The kubelet `node-labels` value: k=v pairs, comma-separated, sorted; kubelet-settable labels only."""
    return ",".join(f"{k}={v}" for k, v in split_labels(labels)["kubelet"].items())


def parse_version(text) -> tuple:
    """(major, minor, patch|None) from 'v1.37.2', '1.37', 'Kubernetes v1.37.2'; () when unreadable."""
    match = _VERSION.fullmatch(str(text or "").strip().replace("Kubernetes ", ""))
    if not match:
        return ()
    return (int(match.group(1)), int(match.group(2)), int(match.group(3)) if match.group(3) else None)


def api_host(control_planes: list, states: dict) -> str:
    """The control-plane host that speaks for the cluster: the first whose admin.conf reaches a live
    API server, else the first control plane (which then runs kubeadm init)."""
    for host in control_planes:
        live = (states.get(host) or {}).get("live") or {}
        if live.get("ok"):
            return host
    return control_planes[0] if control_planes else ""


def preflight(hosts: list, states: dict, target: str, node_names: dict, control_planes: list) -> list:
    """Every problem found, as 'host: check: message'.

    hosts: the inventory hosts in play order; states: host -> node state (the role's
    files/kubeadm_node_state.py output); target: the Kubernetes version asked for ('1.37' or '1.37.2');
    node_names: host -> Kubernetes node name; control_planes: the control-plane hosts, in group order.
    """
    hosts = [{"host": h, "control_plane": h in control_planes} for h in hosts]
    problems = []
    want = parse_version(target)
    if not want:
        return [f"all: version: kubernetes version {target!r} is not MAJOR.MINOR or MAJOR.MINOR.PATCH"]
    cps = list(control_planes)
    if len(cps) % 2 == 0:
        problems.append(f"all: control-plane count: {len(cps)} control-plane nodes; etcd needs an odd number (1, 3, 5)")
    speaker = api_host(cps, states)
    live = (states.get(speaker) or {}).get("live") or {}
    known = set(live.get("nodes") or [])
    if live.get("ok"):
        server = parse_version(live.get("server_version"))
        if server[:2] != want[:2]:
            problems.append(f"{speaker}: version skew: the cluster runs {live.get('server_version')}, the topology asks "
                            f"{target}; change versions with the upgrade playbook, not here")
    seen_names, seen_uuids = {}, {}
    for entry in hosts:
        host, state = entry["host"], states.get(entry["host"]) or {}
        if not state:
            problems.append(f"{host}: node state: not collected (host unreachable?)")
            continue
        problems.extend(_versions(host, state, want, target))
        name = node_names.get(host, host)
        if name in seen_names:
            problems.append(f"{host}: unique node name: {name!r} is also the name of {seen_names[name]}")
        seen_names.setdefault(name, host)
        uuid = state.get("product_uuid") or ""
        if uuid and uuid in seen_uuids:
            problems.append(f"{host}: unique product_uuid: {uuid} is also the product_uuid of {seen_uuids[uuid]}")
        seen_uuids.setdefault(uuid, host)
        in_cluster = state.get("admin_conf") if entry.get("control_plane") and host == speaker else state.get("kubelet_conf")
        if state.get("kubelet_conf") and live.get("ok") and name not in known:
            problems.append(f"{host}: node membership: /etc/kubernetes/kubelet.conf exists but node {name!r} is not in "
                            "the cluster; run `kubeadm reset` on it before it can join again")
        if state.get("admin_conf") and host == speaker and not live.get("ok"):
            problems.append(f"{host}: live API: /etc/kubernetes/admin.conf exists but the API server does not answer "
                            f"({live.get('error') or 'no answer'}); repair the control plane or `kubeadm reset` it")
        if not in_cluster:
            ports = CONTROL_PLANE_PORTS if entry.get("control_plane") else WORKER_PORTS
            busy = sorted(set(ports) & set(state.get("listening") or []))
            if busy:
                problems.append(f"{host}: required ports: {', '.join(map(str, busy))} already in use on a node not yet "
                                "in the cluster")
    return problems


def _versions(host: str, state: dict, want: tuple, target: str) -> list:
    out = []
    versions = state.get("versions") or {}
    adm = parse_version(versions.get("kubeadm"))
    if not adm:
        out.append(f"{host}: kubeadm version: kubeadm is not installed or unreadable (run node_prep first)")
    elif adm[:2] != want[:2] or (want[2] is not None and adm[2] != want[2]):
        out.append(f"{host}: kubeadm version: kubeadm is {versions.get('kubeadm')}, the topology asks {target}")
    let = parse_version(versions.get("kubelet"))
    if not let:
        out.append(f"{host}: kubelet version: kubelet is not installed or unreadable (run node_prep first)")
    elif let[:2] > want[:2] or want[1] - let[1] > 3 or let[0] != want[0]:
        out.append(f"{host}: kubelet version skew: kubelet {versions.get('kubelet')} may not be newer than the API server "
                   f"{target} nor more than 3 minor versions older")
    ctl = parse_version(versions.get("kubectl"))
    if not ctl:
        out.append(f"{host}: kubectl version: kubectl is not installed or unreadable (run node_prep first)")
    elif abs(ctl[1] - want[1]) > 1 or ctl[0] != want[0]:
        out.append(f"{host}: kubectl version skew: kubectl {versions.get('kubectl')} is more than one minor from {target}")
    return out


def kubernetes_version(target: str, installed: str) -> str:
    """The full kubernetesVersion for the config: the target when it has a patch, else the installed
    kubeadm's own version (node_prep pinned it to the target minor), as 'v1.37.2'."""
    want = parse_version(target)
    if want and want[2] is not None:
        return f"v{want[0]}.{want[1]}.{want[2]}"
    have = parse_version(installed)
    if have and have[2] is not None and have[:2] == want[:2]:
        return f"v{have[0]}.{have[1]}.{have[2]}"
    return ""


def node_names(hostvars: dict, hosts: list) -> dict:
    """inventory host -> Kubernetes node name: the instance's private DNS name, else the host name."""
    return {h: str((hostvars.get(h) or {}).get("msa_private_dns_name") or h) for h in hosts}


def rename_nodes(nodes: list, names: dict) -> list:
    """Plan nodes with `name` replaced by the Kubernetes node name (node_placement_nodes on kubeadm)."""
    return [dict(node, name=names.get(node.get("name"), node.get("name"))) for node in nodes if node.get("name") in names]


def pending_hosts(hosts: list, states: dict, names: dict, speaker: str) -> list:
    """Hosts (in the given order) not yet in the cluster: no kubelet.conf or a Node the API does not
    know. The speaker counts as in the cluster when its API answers."""
    live = (states.get(speaker) or {}).get("live") or {}
    known = set(live.get("nodes") or []) if live.get("ok") else set()
    out = []
    for host in hosts:
        state = states.get(host) or {}
        if host == speaker:
            if not live.get("ok"):
                out.append(host)
        elif not (state.get("kubelet_conf") and names.get(host, host) in known):
            out.append(host)
    return out


def registration_taints(taints, control_plane: bool) -> list:
    """nodeRegistration.taints: the plan's taints (value '' left out, as the API server stores it)
    plus node-role.kubernetes.io/control-plane:NoSchedule on a control plane; no duplicates."""
    wanted = [dict(t) for t in (taints or [])]
    if control_plane:
        wanted.append({"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"})
    out, seen = [], set()
    for taint in wanted:
        item = {"key": str(taint["key"])}
        if taint.get("value") not in (None, ""):
            item["value"] = str(taint["value"])
        item["effect"] = str(taint["effect"])
        ident = (item["key"], item.get("value", ""), item["effect"])
        if ident not in seen:
            seen.add(ident)
            out.append(item)
    return out
