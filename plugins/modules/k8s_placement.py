#!/usr/bin/python
# Copyright: msa.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: k8s_placement
short_description: Prove that each API's pods run on its dedicated Kubernetes nodes, and only there
description:
  - Reads the nodes (one LIST) and the pods (one LIST across all namespaces, or one per namespace
    in I(namespaces)) and reports, per API, its dedicated nodes and where its pods run.
  - Fails, with a table of the offending pods, when a pod of an API runs on a node not dedicated
    to that API, or when a foreign pod runs on a node dedicated to an API.
  - Pods owned by a DaemonSet (with I(ignore_daemonsets)) and pods in I(system_namespaces) may run
    on dedicated nodes. Pods not yet bound to a node are reported as pending, not as problems.
  - Read-only, so it never reports C(changed).
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
    description: Reads and reports the same way in check mode.
  diff_mode:
    support: none
    description: Nothing is changed, so there is nothing to diff.
options:
  node_label:
    description:
      - Node label (a label key) whose value names the API a node is dedicated to.
    type: str
    default: api
  pod_label:
    description:
      - Pod label (a label key) whose value names the API a pod belongs to.
    type: str
    default: api
  apis:
    description:
      - APIs to check. Default is every API named by a node label or a pod label.
    type: list
    elements: str
  namespaces:
    description:
      - Namespaces (DNS labels) whose pods are read. Default is all namespaces, in one request.
    type: list
    elements: str
  system_namespaces:
    description:
      - Namespaces whose pods may run on dedicated nodes without being reported.
    type: list
    elements: str
    default: [kube-system, kube-public, kube-node-lease]
  ignore_daemonsets:
    description:
      - Whether pods owned by a DaemonSet may run on dedicated nodes (they run on every node).
    type: bool
    default: true
  fail_on_violation:
    description:
      - Whether the module fails when a placement problem is found. With C(false) it only reports.
    type: bool
    default: true
seealso:
  - module: msa.platform.k8s_node_labels
  - module: msa.platform.k8s_node_taints
"""

EXAMPLES = r"""
- name: Prove every API runs on its own nodes
  msa.platform.k8s_placement:
    kubeconfig: ~/.kube/config

- name: Report only, for the auth and orders APIs, pods labelled app.kubernetes.io/part-of
  msa.platform.k8s_placement:
    apis: [auth, orders]
    pod_label: app.kubernetes.io/part-of
    fail_on_violation: false
  register: placement
"""

RETURN = r"""
placement:
  description: Per API, its dedicated nodes, its pods bound to a node and its pods not yet bound.
  returned: success
  type: dict
  sample:
    auth:
      nodes: [ecoeco-auth-1]
      pods: [{namespace: auth, pod: auth-api-0, node: ecoeco-auth-1}]
      pending: []
violations:
  description: Each pod that breaks the placement rule, with the API concerned and the reason.
  returned: always
  type: list
  elements: dict
  sample:
    - {api: auth, namespace: default, pod: nginx, node: ecoeco-auth-1, reason: "foreign pod on a dedicated node (belongs to no API)"}
table:
  description: The violations as the lines of a plain-text table (empty when there is none).
  returned: always
  type: list
  elements: str
  sample: ["API   NAMESPACE  POD    NODE           PROBLEM", "auth  default    nginx  ecoeco-auth-1  foreign pod on a dedicated node"]
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible_collections.msa.platform.plugins.module_utils.k8s_client import (
    AUTH_ARG_SPEC,
    AUTH_RULES,
    HAS_KUBERNETES,
    KUBERNETES_IMPORT_ERROR,
    KubeApiError,
    node_api,
)
from ansible_collections.msa.platform.plugins.module_utils.k8s_nodes import (
    DEFAULT_SYSTEM_NAMESPACES,
    VIOLATION_COLUMNS,
    format_table,
    placement_report,
)
from ansible_collections.msa.platform.plugins.module_utils.module_args import build_module, each, problem_of
from ansible_collections.msa.platform.plugins.module_utils.topology_k8s import (
    dns_label_problem,
    label_value_problem,
    qualified_name_problem,
)

RULES = dict(
    AUTH_RULES,
    node_label=problem_of(qualified_name_problem),
    pod_label=problem_of(qualified_name_problem),
    apis=each(problem_of(label_value_problem)),
    namespaces=each(problem_of(dns_label_problem)),
    system_namespaces=each(problem_of(dns_label_problem)),
)


def read_cluster(api, namespaces):
    pods = []
    for namespace in namespaces or [None]:
        pods.extend(api.list_pods(namespace))
    return api.list_nodes(), pods


def main():
    argument_spec = dict(AUTH_ARG_SPEC)
    argument_spec.update(
        node_label=dict(type="str", default="api"),
        pod_label=dict(type="str", default="api"),
        apis=dict(type="list", elements="str"),
        namespaces=dict(type="list", elements="str"),
        system_namespaces=dict(type="list", elements="str", default=list(DEFAULT_SYSTEM_NAMESPACES)),
        ignore_daemonsets=dict(type="bool", default=True),
        fail_on_violation=dict(type="bool", default=True),
    )
    module = build_module(AnsibleModule, argument_spec, RULES, supports_check_mode=True)
    if not HAS_KUBERNETES:
        module.fail_json(msg=missing_required_lib("kubernetes"), exception=KUBERNETES_IMPORT_ERROR)
    params = module.params
    try:
        nodes, pods = read_cluster(node_api(params), params["namespaces"])
    except KubeApiError as exc:
        module.fail_json(msg=str(exc), status=exc.status, violations=[], table=[])
    report, violations = placement_report(nodes, pods, params["node_label"], params["pod_label"], params["apis"],
                                          params["system_namespaces"], params["ignore_daemonsets"])
    table = format_table(violations, VIOLATION_COLUMNS).splitlines() if violations else []
    result = dict(changed=False, placement=report, violations=violations, table=table)
    if violations and params["fail_on_violation"]:
        lines = "\n".join(table)
        module.fail_json(msg=f"placement check failed: {len(violations)} pod(s) placed against the dedicated-node rule:\n{lines}", **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
