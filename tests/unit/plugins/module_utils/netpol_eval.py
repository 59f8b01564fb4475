"""A small NetworkPolicy evaluator (networking.k8s.io/v1 semantics), to test the rendered policies as data.

    cluster = Cluster(objects, extra_namespaces={"kube-system": {}, ...})
    cluster.allowed(Pod("order"), Pod("product"), 8080)        # TCP unless protocol= says otherwise
    cluster.allowed(Pod("order"), Ip("10.20.8.10"), 5432)
    cluster.allowed(Ip("10.20.0.7"), Pod("order"), 8080)

A connection is allowed when the source side's egress and the destination side's ingress both allow it. A side
with no policy selecting the pod for that direction allows everything; otherwise one rule of one selecting policy
must match the peer and the port. Peers: podSelector (same namespace as the policy), namespaceSelector (namespace
labels, the API server's kubernetes.io/metadata.name included) with an optional podSelector, ipBlock (cidr minus
except; it matches addresses, so a pod matches only through its ip when given). A rule without from/to matches every
peer, without ports every port. Named ports are not supported (the platform renders numbers only).
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Pod:
    namespace: str
    labels: dict = field(default_factory=dict, hash=False)
    ip: str | None = None


@dataclass(frozen=True)
class Ip:
    address: str


def selects(selector: dict, labels: dict) -> bool:
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr["key"], expr["operator"], expr.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and key in labels and labels[key] in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


class Cluster:
    def __init__(self, objects: list, extra_namespaces: dict | None = None):
        self.namespaces = {}
        for name, labels in (extra_namespaces or {}).items():
            self.namespaces[name] = dict(labels, **{"kubernetes.io/metadata.name": name})
        self.policies = {}
        for obj in objects:
            if obj["kind"] == "Namespace":
                name = obj["metadata"]["name"]
                self.namespaces[name] = dict(obj["metadata"].get("labels") or {}, **{"kubernetes.io/metadata.name": name})
            elif obj["kind"] == "NetworkPolicy":
                self.policies.setdefault(obj["metadata"]["namespace"], []).append(obj)

    def _selecting(self, pod: Pod, direction: str) -> list:
        out = []
        for policy in self.policies.get(pod.namespace, []):
            spec = policy["spec"]
            types = spec.get("policyTypes") or (["Ingress", "Egress"] if "egress" in spec else ["Ingress"])
            if direction in types and selects(spec.get("podSelector") or {}, pod.labels):
                out.append(policy)
        return out

    def _peer_matches(self, peer: dict, policy_ns: str, other) -> bool:
        if "ipBlock" in peer:
            address = other.address if isinstance(other, Ip) else other.ip
            if address is None:
                return False
            ip = ipaddress.ip_address(address)
            block = peer["ipBlock"]
            return ip in ipaddress.ip_network(block["cidr"]) and not any(ip in ipaddress.ip_network(e) for e in block.get("except") or [])
        if not isinstance(other, Pod):
            return False
        if "namespaceSelector" in peer:
            if other.namespace not in self.namespaces or not selects(peer["namespaceSelector"], self.namespaces[other.namespace]):
                return False
        elif other.namespace != policy_ns:
            return False
        return selects(peer.get("podSelector") or {}, other.labels)

    @staticmethod
    def _port_matches(ports, port: int, protocol: str) -> bool:
        if not ports:
            return True
        for entry in ports:
            if entry.get("protocol", "TCP") != protocol:
                continue
            low = entry.get("port")
            if low is None:
                return True
            if not isinstance(low, int):
                raise ValueError(f"named port {low!r}: not supported by this evaluator")
            if low <= port <= entry.get("endPort", low):
                return True
        return False

    def _side_allows(self, pod: Pod, other, port: int, protocol: str, direction: str) -> bool:
        policies = self._selecting(pod, direction)
        if not policies:
            return True
        key, peers_key = ("ingress", "from") if direction == "Ingress" else ("egress", "to")
        for policy in policies:
            for rule in policy["spec"].get(key) or []:
                peers = rule.get(peers_key)
                if peers is not None and not any(self._peer_matches(p, pod.namespace, other) for p in peers):
                    continue
                if self._port_matches(rule.get("ports"), port, protocol):
                    return True
        return False

    def allowed(self, src, dst, port: int, protocol: str = "TCP") -> bool:
        if isinstance(src, Pod) and not self._side_allows(src, dst, port, protocol, "Egress"):
            return False
        return not (isinstance(dst, Pod) and not self._side_allows(dst, src, port, protocol, "Ingress"))
