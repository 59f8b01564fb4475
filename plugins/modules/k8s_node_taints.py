#!/usr/bin/python
# Copyright: msa.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: k8s_node_taints
short_description: Manage the taints this collection owns on many Kubernetes nodes at once
description:
  - Makes the taints it manages on each listed node exactly what is asked, in one call for the
    whole cluster. A taint is identified by its key and effect; its value is updated in place.
  - Ownership is recorded on each node in the annotation C(msa.platform/managed-taints), a sorted
    comma-separated list of C(key:effect). An owned taint no longer asked for is removed; taints set
    by others (for example C(node-role.kubernetes.io/control-plane:NoSchedule) or the
    C(node.kubernetes.io/*) taints of the node lifecycle controller) keep their place and fields,
    unless listed with I(state=absent).
  - Makes one LIST of nodes, then one merge patch per node that needs a change. A taints list in a
    patch replaces the whole list, so the patch carries the full list computed from the current
    one, with the node's C(metadata.resourceVersion); a concurrent write answers 409 Conflict and
    the module reads that node again and recomputes, up to 5 times.
  - Every taint is checked before any request is made.
  - Arguments are checked before any request - a wrong type, a value out of range or a string holding a
    control character (a trailing newline) fails naming the option.
author:
  - msa.platform maintainers (@msa-platform)
requirements:
  - python >= 3.8
  - kubernetes >= 24.2.0
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
attributes:
  check_mode:
    support: full
    description: Computes the changes and reports them without patching any node.
  diff_mode:
    support: full
    description: Reports before and after (taints and owned taints) of each node that changes.
options:
  nodes:
    description:
      - Node name (as Kubernetes knows it) to the list of taints wanted on it, each a dict with
        C(key), optional C(value) and C(effect) (C(NoSchedule), C(PreferNoSchedule) or C(NoExecute)).
      - Nodes not listed here are not touched. An empty list removes every taint the module owns on that node.
      - With I(state=absent), values are ignored and the listed key and effect pairs are removed.
    type: dict
    required: true
  state:
    description:
      - C(present) makes the owned taints of each node exactly the given ones.
      - C(absent) removes the given taints (owned or not) and stops owning them.
    type: str
    choices: [present, absent]
    default: present
  label_selector:
    description:
      - Label selector for the one LIST of nodes, to read fewer nodes in a large cluster.
      - Every node in I(nodes) must match it, else the module fails naming the missing nodes.
    type: str
notes:
  - Names in I(nodes) are Kubernetes node names; msa.platform names nodes after the plan's node names.
seealso:
  - module: msa.platform.k8s_node_labels
  - module: msa.platform.k8s_placement
  - module: kubernetes.core.k8s_taint
"""

EXAMPLES = r"""
- name: Keep everything but the auth API off its nodes
  msa.platform.k8s_node_taints:
    kubeconfig: ~/.kube/config
    nodes:
      ecoeco-auth-1:
        - {key: dedicated, value: auth, effect: NoSchedule}
      ecoeco-auth-2:
        - {key: dedicated, value: auth, effect: NoSchedule}

- name: Let ordinary pods on the control plane (a taint the module does not own)
  msa.platform.k8s_node_taints:
    state: absent
    nodes:
      ecoeco-cp-1:
        - {key: node-role.kubernetes.io/control-plane, effect: NoSchedule}
"""

RETURN = r"""
changed_nodes:
  description: Names of the nodes that were (or in check mode would be) patched.
  returned: success
  type: list
  elements: str
  sample: [ecoeco-auth-1]
nodes:
  description: For each node in I(nodes), its full taint list and the taints the module owns after the run.
  returned: success
  type: dict
  sample:
    ecoeco-auth-1:
      taints:
        - {key: node.kubernetes.io/not-ready, effect: NoSchedule}
        - {key: dedicated, value: auth, effect: NoSchedule}
      managed: ["dedicated:NoSchedule"]
conflicts:
  description: How many patches the API refused with 409 Conflict and were recomputed and retried.
  returned: success
  type: int
  sample: 0
"""

from ansible_collections.msa.platform.plugins.module_utils.k8s_nodes import (
    run_node_module,
    taint_change,
    taint_view,
    validate_taint_nodes,
)


def main():
    run_node_module(validate_taint_nodes, taint_change, taint_view)


if __name__ == "__main__":
    main()
