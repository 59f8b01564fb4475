# Copyright: msa.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the day-2 playbooks (upgrade, scale, remove-node, reset); the logic is in
module_utils/kubeadm_day2.py.

- kubeadm_upgrade_problems(current, target): why the cluster may not move to target ([] if it may)
- kubeadm_upgrade_needed(current, target): whether the cluster is below target
- kubeadm_node_needs_upgrade(kubelet_version, target): whether a node still has to move
- kubeadm_batch_size(worker_batch, workers): workers upgraded at once ("20%" or "3")
- kubeadm_removal_problems(node, control_planes, workers, healthy): why a node may not be removed
- kubeadm_removal_warnings(node, control_planes): advice that does not block
- kubeadm_confirm_problems(expected, given, answer): the typed confirmation of a destructive run
"""
from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible_collections.msa.platform.plugins.module_utils import kubeadm_day2


def _batch_size(worker_batch, workers):
    try:
        return kubeadm_day2.batch_size(worker_batch, workers)
    except ValueError as exc:
        raise AnsibleFilterError(str(exc)) from exc


class FilterModule:
    def filters(self):
        return {
            "kubeadm_upgrade_problems": kubeadm_day2.upgrade_problems,
            "kubeadm_upgrade_needed": kubeadm_day2.upgrade_needed,
            "kubeadm_node_needs_upgrade": kubeadm_day2.node_needs_upgrade,
            "kubeadm_batch_size": _batch_size,
            "kubeadm_removal_problems": kubeadm_day2.removal_problems,
            "kubeadm_removal_warnings": kubeadm_day2.removal_warnings,
            "kubeadm_confirm_problems": kubeadm_day2.confirm_problems,
        }
