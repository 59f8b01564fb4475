#!/usr/bin/python
# Copyright: msa.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: k8s_node_labels
short_description: Manage the labels this collection owns on many Kubernetes nodes at once
description:
  - Makes the labels it manages on each listed node exactly what is asked, in one call for the
    whole cluster, adding, updating and removing only the label keys it owns.
  - Ownership is recorded on each node in the annotation C(msa.platform/managed-labels), a sorted
    comma-separated list of label keys. A key that was owned and is no longer asked for is removed;
    labels set by others (for example C(kubernetes.io/hostname) or cloud labels) are never touched,
    unless listed with I(state=absent).
  - Makes one LIST of nodes, then one merge patch per node that needs a change. The patch carries the
    node's C(metadata.resourceVersion), so a concurrent write answers 409 Conflict; the module then
    reads that node again and recomputes, up to 5 times.
  - Every label key and value is checked before any request is made.
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
    description: Reports before and after (labels and owned keys) of each node that changes.
options:
  nodes:
    description:
      - Node name (as Kubernetes knows it) to the labels wanted on it, a dict of key to string value.
      - Nodes not listed here are not touched. An empty dict removes every label the module owns on that node.
      - With I(state=absent), the values are ignored and the listed keys are removed.
    type: dict
    required: true
  state:
    description:
      - C(present) makes the owned labels of each node exactly the given ones.
      - C(absent) removes the given label keys (owned or not) and stops owning them.
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
  - module: msa.platform.k8s_node_taints
  - module: msa.platform.k8s_placement
"""

EXAMPLES = r"""
- name: Dedicate two nodes to the auth API
  msa.platform.k8s_node_labels:
    kubeconfig: ~/.kube/config
    nodes:
      ecoeco-auth-1: {workload: api, api: auth}
      ecoeco-auth-2: {workload: api, api: auth}

- name: Stop managing every label on a node (owned labels are removed, others stay)
  msa.platform.k8s_node_labels:
    nodes:
      ecoeco-auth-2: {}

- name: Remove a label someone else set
  msa.platform.k8s_node_labels:
    state: absent
    nodes:
      ecoeco-auth-1: {legacy/pool: null}
"""

RETURN = r"""
changed_nodes:
  description: Names of the nodes that were (or in check mode would be) patched.
  returned: success
  type: list
  elements: str
  sample: [ecoeco-auth-1]
nodes:
  description: For each node in I(nodes), its labels and the keys the module owns after the run.
  returned: success
  type: dict
  sample:
    ecoeco-auth-1:
      labels: {kubernetes.io/hostname: ecoeco-auth-1, workload: api, api: auth}
      managed: [api, workload]
conflicts:
  description: How many patches the API refused with 409 Conflict and were recomputed and retried.
  returned: success
  type: int
  sample: 0
"""

from ansible_collections.msa.platform.plugins.module_utils.k8s_nodes import (
    label_change,
    label_view,
    run_node_module,
    validate_label_nodes,
)


def main():
    run_node_module(validate_label_nodes, label_change, label_view)


if __name__ == "__main__":
    main()
