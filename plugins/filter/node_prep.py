"""Filters of the node_prep role: pick the Kubernetes package version, judge a node's preflight probe.

Kept here, not in Jinja, so the rules are unit-tested: tests/unit/plugins/filter/test_node_prep.py.
"""
from __future__ import annotations

import re

from ansible.errors import AnsibleFilterError

_MINOR = re.compile(r"(\d+)\.(\d+)")
_PATCH = re.compile(r"(\d+)\.(\d+)\.(\d+)")
# Debian version of a pkgs.k8s.io package: <upstream>-<revision>, e.g. 1.37.2-1.1
_DEB = re.compile(r"(\d+)\.(\d+)\.(\d+)-([0-9A-Za-z.+~]+)")


def _revision_key(revision: str) -> tuple:
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"[.+~]", revision))


def _deb_key(version: str) -> tuple:
    m = _DEB.fullmatch(version)
    if not m:
        return (-1,)
    return (int(m.group(1)), int(m.group(2)), int(m.group(3)), _revision_key(m.group(4)))


def _madison(text: str) -> dict[str, set[str]]:
    """`apt-cache madison a b c` output -> {package: {version, ...}}."""
    found: dict[str, set[str]] = {}
    for line in str(text or "").splitlines():
        parts = [p.strip() for p in line.split("|")]
        if len(parts) >= 2 and parts[0] and parts[1]:
            found.setdefault(parts[0], set()).add(parts[1])
    return found


def node_prep_kube_version(madison: str, wanted: str, packages: list, installed: dict | None = None) -> str:
    """The Debian version to pin kubelet/kubeadm/kubectl to, the same for every package.

    `wanted` is a minor ("1.37": the newest patch the repository has, unless the node already
    runs a patch of that minor, which is kept, so a converge never upgrades a node by surprise) or a
    patch ("1.37.2": exactly that one). `installed` maps package -> installed Debian version.
    """
    wanted = str(wanted or "").strip()
    minor, patch = _MINOR.fullmatch(wanted), _PATCH.fullmatch(wanted)
    if not (minor or patch):
        raise AnsibleFilterError(f"node_prep_kubernetes_version must be X.Y or X.Y.Z, got {wanted!r}")
    if not isinstance(packages, (list, tuple)) or not packages:
        raise AnsibleFilterError("node_prep_kube_version needs the list of packages to pin")
    available = _madison(madison)
    missing = [p for p in packages if p not in available]
    if missing:
        raise AnsibleFilterError(
            f"the Kubernetes repository offers no {', '.join(missing)}: check node_prep_kubernetes_repo_url "
            "(the per-minor pkgs.k8s.io repository or its mirror) and that apt can read it")
    common = set.intersection(*(available[p] for p in packages))
    prefix = wanted + "."
    candidates = sorted((v for v in common if (v.startswith(prefix) if minor else v.split("-", 1)[0] == wanted)),
                        key=_deb_key)
    if not candidates:
        offered = sorted(common, key=_deb_key)
        raise AnsibleFilterError(
            f"no version {wanted}{'.x' if minor else ''} of {', '.join(packages)} in the repository "
            f"(all three offer: {', '.join(offered) or 'nothing in common'})")
    if minor and installed:
        kept = {str(installed.get(p) or "") for p in packages}
        if len(kept) == 1:
            current = kept.pop()
            if current.startswith(prefix) and current in common:
                return current
    return candidates[-1]


def _listening(ports: list, wanted: list) -> list[int]:
    have = {int(p) for p in ports or []}
    return [int(p) for p in wanted if int(p) in have]


def node_prep_preflight(probe: dict, host: str, role: str, minimums: dict, ports: dict) -> list[str]:
    """Problems of one node's probe, each naming the host and the check.

    probe: what files/probe.py printed. minimums: {role: {cpus, memory_mb}}. ports: {role: [port]}.
    Ports are checked only on a node not yet in a cluster (no /etc/kubernetes/kubelet.conf): once
    joined, its kubelet and control plane own them.
    """
    if not isinstance(probe, dict):
        return [f"{host}: probe: no result from the node (got {type(probe).__name__})"]
    errors: list[str] = []
    need = (minimums or {}).get(role)
    if need is None:
        errors.append(f"{host}: role: unknown node role {role!r} (expected one of {sorted(minimums or {})})")
    else:
        cpus, mem = int(probe.get("cpus") or 0), int(probe.get("memory_mb") or 0)
        if cpus < int(need.get("cpus", 0)):
            errors.append(f"{host}: cpus: {cpus} CPU(s), a {role} node needs at least {need['cpus']}")
        if mem < int(need.get("memory_mb", 0)):
            errors.append(f"{host}: memory: {mem} MB, a {role} node needs at least {need['memory_mb']} MB")
    if probe.get("swaps") and probe.get("container"):
        errors.append(f"{host}: swap: {', '.join(probe['swaps'])} active, and this {probe['container']} container cannot turn "
                      "off the machine's swap: turn it off on the machine")
    if not probe.get("joined"):
        busy = _listening(probe.get("listening", []), (ports or {}).get(role, []))
        if busy:
            errors.append(f"{host}: ports: {', '.join(map(str, busy))} already in use (a {role} node needs them free)")
    return errors


def node_prep_duplicates(probes: dict) -> dict[str, list[str]]:
    """{host: probe} -> {host: [problem]} for hostnames, machine-ids, product_uuids and MACs shared by
    two or more hosts of the play. product_uuid is not compared on containers, where it is the
    machine's own (the same for every container)."""
    owners: dict[tuple[str, str], list[str]] = {}
    for host, probe in sorted((probes or {}).items()):
        if not isinstance(probe, dict):
            continue
        keys = [("hostname", probe.get("hostname")), ("machine_id", probe.get("machine_id"))]
        if not probe.get("container"):
            keys.append(("product_uuid", probe.get("product_uuid")))
        keys += [("mac", mac) for mac in probe.get("macs") or []]
        for check, value in keys:
            if value:
                owners.setdefault((check, str(value).lower()), []).append(host)
    problems: dict[str, list[str]] = {}
    for (check, value), hosts in sorted(owners.items()):
        if len(hosts) > 1:
            for host in hosts:
                others = ", ".join(h for h in hosts if h != host)
                problems.setdefault(host, []).append(f"{host}: {check}: {value} is also on {others}")
    return problems


class FilterModule:
    def filters(self):
        return {
            "node_prep_kube_version": node_prep_kube_version,
            "node_prep_preflight": node_prep_preflight,
            "node_prep_duplicates": node_prep_duplicates,
        }
