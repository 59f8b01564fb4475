# Copyright: msa.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kubernetes naming rules, as the API server applies them (apimachinery validation).

- label key: optional prefix (a DNS-1123 subdomain, <= 253 chars) + '/' + name (<= 63 chars,
  [A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?); taint keys follow the same rule.
- label value / taint value: empty, or <= 63 chars of the name charset.
- reserved prefixes: kubernetes.io and k8s.io and their subdomains belong to Kubernetes. The platform
  allows `node-role.kubernetes.io/<role>` labels (role markers that `kubectl get nodes` shows) and the
  `node-role.kubernetes.io/control-plane` taint on control-plane pools (kubeadm sets it itself). It
  rejects everything else there, `node.kubernetes.io/*` included: those labels are set by the kubelet
  and cloud provider, those taints by the node lifecycle controller, and owning them would fight it.
"""
from __future__ import annotations

import re

_NAME = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?")
_DNS1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_DNS1123_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
RESERVED_DOMAINS = ("kubernetes.io", "k8s.io")
ROLE_PREFIX = "node-role.kubernetes.io"
CONTROL_PLANE_KEY = ROLE_PREFIX + "/control-plane"


def dns_label_problem(value: str) -> str:
    """'' when `value` is a DNS-1123 label, else why not."""
    if len(value) > 63:
        return f"is {len(value)} characters long; the limit is 63"
    if not _DNS1123_LABEL.fullmatch(value):
        return "must be lowercase letters, digits and '-', starting and ending with a letter or digit"
    return ""


def qualified_name_problem(key: str) -> str:
    """'' when `key` is a valid label/taint key, else why not."""
    parts = key.split("/")
    if len(parts) > 2:
        return "has more than one '/'; a key is [prefix/]name"
    name = parts[-1]
    if len(parts) == 2:
        prefix = parts[0]
        if not prefix:
            return "has an empty prefix before '/'"
        if len(prefix) > 253:
            return f"prefix is {len(prefix)} characters long; the limit is 253"
        if not _DNS1123_SUBDOMAIN.fullmatch(prefix):
            return f"prefix {prefix!r} must be a DNS subdomain: lowercase letters, digits, '-' and '.'"
    if not name:
        return "has an empty name"
    if len(name) > 63:
        return f"name part is {len(name)} characters long; the limit is 63"
    if not _NAME.fullmatch(name):
        return f"name part {name!r} must be letters, digits, '-', '_' or '.', starting and ending with a letter or digit"
    return ""


def label_value_problem(value: str) -> str:
    """'' when `value` is a valid label (or taint) value, else why not."""
    if value == "":
        return ""
    if len(value) > 63:
        return f"is {len(value)} characters long; the limit is 63"
    if not _NAME.fullmatch(value):
        return "must be letters, digits, '-', '_' or '.', starting and ending with a letter or digit (or empty)"
    return ""


def reserved_prefix(key: str) -> str:
    """The reserved domain the key's prefix falls under, or ''."""
    if "/" not in key:
        return ""
    prefix = key.split("/", 1)[0]
    for domain in RESERVED_DOMAINS:
        if prefix == domain or prefix.endswith("." + domain):
            return domain
    return ""


def label_key_reserved(key: str) -> bool:
    return bool(reserved_prefix(key)) and key.split("/", 1)[0] != ROLE_PREFIX


def taint_key_reserved(key: str, control_plane: bool) -> bool:
    return bool(reserved_prefix(key)) and not (control_plane and key == CONTROL_PLANE_KEY)


def group_name(name: str) -> str:
    """Inventory group name for a pool or API name: Ansible group names take no '-'."""
    return name.replace("-", "_")
