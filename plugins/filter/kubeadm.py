# Copyright: msa.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the kubeadm role and the cluster playbooks; the logic is in module_utils/kubeadm.py.

- kubeadm_node_labels_arg(labels): the kubelet node-labels value (labels a kubelet may set itself)
- kubeadm_split_labels(labels): {'kubelet': {...}, 'deferred': {...}}
- kubeadm_preflight(hosts, states, target, node_names, control_planes): problems, each 'host: check: message'
- kubeadm_api_host(control_planes, states): the control plane that speaks for the cluster
- kubeadm_version(target, installed): full kubernetesVersion ('v1.37.2') or ''
- kubeadm_node_names(hostvars, hosts): inventory host -> Kubernetes node name
- kubeadm_rename_nodes(nodes, names): plan nodes renamed to their Kubernetes node names
- kubeadm_pending(hosts, states, names, speaker): hosts not yet in the cluster, in order
- kubeadm_registration_taints(taints, control_plane): nodeRegistration.taints
"""
from __future__ import annotations

from ansible_collections.msa.platform.plugins.module_utils import kubeadm


def _node_names(hostvars, hosts):
    return kubeadm.node_names({h: hostvars[h] for h in hosts}, list(hosts))


class FilterModule:
    def filters(self):
        return {
            "kubeadm_node_labels_arg": kubeadm.node_labels_arg,
            "kubeadm_split_labels": kubeadm.split_labels,
            "kubeadm_preflight": kubeadm.preflight,
            "kubeadm_api_host": kubeadm.api_host,
            "kubeadm_version": kubeadm.kubernetes_version,
            "kubeadm_node_names": _node_names,
            "kubeadm_rename_nodes": kubeadm.rename_nodes,
            "kubeadm_pending": kubeadm.pending_hosts,
            "kubeadm_registration_taints": kubeadm.registration_taints,
        }
