# Copyright: msa.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Rules of the day-2 playbooks of a kubeadm cluster (upgrade, scale, remove-node, reset).

- upgrade: which target a running cluster may move to (kubeadm's skew policy: one minor at a time
  or a patch of the same minor, never down, inside the range this collection supports);
- worker batches of a rolling upgrade ("20%" or "3" of the workers);
- remove-node: what may be removed without losing the last control plane or etcd quorum;
- confirmations: a destructive playbook runs only when the operator typed the name it acts on.
Every function returns problems as a list of strings (empty: allowed), each naming what was wrong.
"""
from __future__ import annotations

import math
import re

from ansible_collections.msa.platform.plugins.module_utils.kubeadm import parse_version

# The Kubernetes minors this collection's kubeadm path supports (kubeadm v1beta4 API: 1.31+),
# the same range as topology.K8S_VERSIONS["kubeadm"].
MINORS = (31, 37)
_BATCH = re.compile(r"([1-9][0-9]*)(%?)")


def _text(version) -> str:
    parts = parse_version(version)
    if not parts:
        return str(version)
    return "v{}.{}".format(*parts[:2]) + (f".{parts[2]}" if parts[2] is not None else "")


def upgrade_problems(current, target, minors=MINORS) -> list:
    """Why the cluster running `current` ('v1.36.4') may not be upgraded to `target` ('1.37' or
    '1.37.2'); [] when it may. kubeadm upgrades one minor at a time (or to a newer patch of the
    same minor) and never downgrades."""
    have, want = parse_version(current), parse_version(target)
    if not isinstance(target, str) or not want:
        return [f"target_version: {target!r} is not a Kubernetes version like \"1.37\" or \"1.37.2\""]
    if not have:
        return [f"current version: the cluster's version {current!r} could not be read; is the API server up?"]
    low, high = minors
    problems = []
    if want[0] != 1 or not low <= want[1] <= high:
        problems.append(f"target_version: {target} is outside the versions this collection supports "
                        f"(1.{low} to 1.{high})")
    elif want[:2] < have[:2] or (want[:2] == have[:2] and want[2] is not None and have[2] is not None and want[2] < have[2]):
        problems.append(f"target_version: {target} is older than the cluster's {_text(current)}; kubeadm does not downgrade")
    elif want[1] - have[1] > 1:
        problems.append(f"target_version: {target} skips a minor: the cluster runs {_text(current)}, so upgrade to "
                        f"1.{have[1] + 1} first (kubeadm upgrades one minor at a time)")
    return problems


def upgrade_needed(current, target) -> bool:
    """Whether the cluster at `current` is below `target` (same minor and no patch asked: no)."""
    have, want = parse_version(current), parse_version(target)
    if not have or not want:
        return False
    if want[:2] != have[:2]:
        return want[:2] > have[:2]
    return want[2] is not None and have[2] is not None and want[2] > have[2]


def node_needs_upgrade(kubelet_version, target) -> bool:
    """Whether a node whose kubelet reports `kubelet_version` still has to move to `target`: a node
    already on the target minor (and patch, when one is asked) is skipped, so a re-run resumes."""
    have, want = parse_version(kubelet_version), parse_version(target)
    if not have or not want:
        return True
    if have[:2] != want[:2]:
        return have[:2] < want[:2]
    return want[2] is not None and (have[2] or 0) < want[2]


def batch_size(worker_batch, workers) -> int:
    """Workers upgraded at once: "20%" of `workers` rounded up (at least 1) or a count "3"
    (at most the number of workers). A bad value raises ValueError naming the field."""
    match = _BATCH.fullmatch(str(worker_batch)) if isinstance(worker_batch, (str, int)) and not isinstance(worker_batch, bool) else None
    if not match or (match.group(2) and int(match.group(1)) > 100):
        raise ValueError(f"kubernetes.upgrade.worker_batch: {worker_batch!r} is not a count like \"3\" or a percentage "
                         "like \"20%\" (1% to 100%)")
    count = max(int(workers), 0)
    size = math.ceil(count * int(match.group(1)) / 100) if match.group(2) else int(match.group(1))
    return max(1, min(size, count)) if count else 1


def quorum(members: int) -> int:
    """Members etcd needs to agree: a majority."""
    return members // 2 + 1


def removal_problems(node, control_planes, workers, healthy) -> list:
    """Why `node` may not be removed; [] when it may.

    control_planes / workers: the cluster's node names by role (every control plane runs a stacked
    etcd member); healthy: the control planes whose etcd member answers now (unreached ones are not).
    Removing a control plane removes its member: the remaining members must still hold a quorum of
    the smaller cluster, or etcd (and the API) stops.
    """
    control_planes, workers, healthy = list(control_planes or []), list(workers or []), set(healthy or [])
    if not isinstance(node, str) or not node:
        return ["node: name the node to remove: -e node=<name>"]
    if node not in control_planes and node not in workers:
        known = ", ".join(control_planes + workers) or "none"
        return [f"node: {node!r} is not a node of this cluster (nodes: {known})"]
    if node in workers:
        return []
    if len(control_planes) == 1:
        return [f"node: {node} is the last control-plane node; removing it destroys the cluster (use reset.yml)"]
    remaining = [cp for cp in control_planes if cp != node]
    alive = [cp for cp in remaining if cp in healthy]
    needed = quorum(len(remaining))
    problems = []
    if len([cp for cp in control_planes if cp in healthy]) < quorum(len(control_planes)):
        problems.append(f"etcd quorum: only {len(healthy & set(control_planes))} of {len(control_planes)} etcd members answer; "
                        "etcd has no quorum now, so no member can be removed: repair the control plane first")
    elif len(alive) < needed:
        down = ", ".join(sorted(set(remaining) - healthy)) or "none"
        problems.append(f"etcd quorum: removing {node} leaves {len(remaining)} members of which {len(alive)} answer "
                        f"({down} not answering), below the quorum of {needed}; bring them back first")
    return problems


def removal_warnings(node, control_planes) -> list:
    """Advice that does not block: an even number of etcd members tolerates no more failures than one fewer."""
    control_planes = list(control_planes or [])
    if node in control_planes and (len(control_planes) - 1) % 2 == 0 and len(control_planes) > 1:
        return [f"removing {node} leaves {len(control_planes) - 1} control-plane nodes: an even etcd cluster tolerates no "
                "more failures than one member fewer; add a control plane back soon"]
    return []


def confirm_problems(expected, given, interactive_answer=None) -> list:
    """A destructive playbook runs only when the operator typed `expected` (the node or platform
    name), as -e confirm=<name> or at the prompt."""
    answer = given if given not in (None, "") else interactive_answer
    if answer in (None, ""):
        return [f"confirm: this is destructive and needs confirmation: add -e confirm={expected} (no prompt answered "
                "in a non-interactive run)"]
    if str(answer).strip() != str(expected):
        return [f"confirm: {str(answer).strip()!r} does not match {expected!r}; nothing was changed"]
    return []
