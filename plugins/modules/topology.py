#!/usr/bin/python
# Copyright: msa.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: topology
short_description: Validate the platform topology and compute the plan every layer reads
version_added: "0.1.0"
description:
  - Checks the topology (the C(platform) variable of C(inventories/<env>/group_vars/all/topology.yml)) against the
    schema in C(docs/topology.md) and the semantic rules (names, CIDR math, Kubernetes label and taint rules,
    quorums, kubeadm versus EKS fields), and reports B(every) problem at once, each as a field path, a colon and a message.
  - When the topology is valid, returns the normalized plan (C(docs/plan.md)) and sets it as the fact C(msa_plan).
  - Makes no AWS call and changes nothing, so it is safe as the first task of every playbook and in check mode.
author:
  - msa.platform maintainers (@msa-platform)
options:
  topology:
    description:
      - The topology, usually C("{{ platform }}").
      - Unknown keys are errors, with the closest known key suggested.
    type: dict
    required: true
  az_names:
    description:
      - Availability zone names to use instead of C(network.az_names) or the names derived from the region,
        for example the result of a C(describe_availability_zones) call. The first C(network.azs) are used.
    type: list
    elements: str
attributes:
  check_mode:
    support: full
    description: Computes the plan; there is nothing to change.
  diff_mode:
    support: N/A
    description: Nothing is changed, so there is never a diff.
notes:
  - C(changed) is always false. The module only computes.
  - Errors name the field path relative to the topology, for example C(pools[3].taints[0].effect).
seealso:
  - name: Topology reference
    description: Every field with its type, default and allowed values (docs/topology.md in the collection).
    link: https://example.invalid/msa/platform/docs/topology.md
"""

EXAMPLES = r"""
- name: Validate the topology and set the plan
  msa.platform.topology:
    topology: "{{ platform }}"

- name: Use the AZs the account really has
  msa.platform.topology:
    topology: "{{ platform }}"
    az_names: "{{ zones.availability_zones | map(attribute='zone_name') | list }}"

- name: Read the plan in a later play
  ansible.builtin.debug:
    msg: "{{ hostvars['localhost'].msa_plan.groups.api_auth }}"
"""

RETURN = r"""
plan:
  description: The normalized plan (see docs/plan.md); same topology, same plan.
  returned: success
  type: dict
  contains:
    name:
      description: Platform name.
      type: str
      sample: ecoeco
    region:
      description: AWS region.
      type: str
      sample: ap-northeast-2
    tags:
      description: Tags every AWS resource carries.
      type: dict
      sample: {"msa:platform": "ecoeco"}
    kubernetes:
      description: Cluster settings with defaults filled in; only the keys of the chosen mode.
      type: dict
      sample: {"mode": "kubeadm", "version": "1.37", "cni": "calico", "pod_cidr": "192.168.0.0/16", "service_cidr": "10.96.0.0/12",
               "control_plane_endpoint": "node", "api_port": 6443, "node_name": "private_dns",
               "calico": {"encapsulation": "VXLANCrossSubnet", "mtu": 8951}, "cluster_name": "ecoeco"}
    network:
      description: VPC, resolved AZ names and one subnet per tier per AZ.
      type: dict
      sample: {"cidr": "10.0.0.0/16", "azs": ["ap-northeast-2a", "ap-northeast-2c"], "nat": "single"}
    pools:
      description: Pools with every default filled in and their security groups.
      type: list
      elements: dict
      sample: [{"name": "auth", "role": "api", "count": 1, "instance_type": "t3.small", "tier": "app"}]
    nodes:
      description: Every EC2 node the platform creates, named C(<platform>-<pool>-<n>).
      type: list
      elements: dict
      sample: [{"name": "ecoeco-auth-1", "pool": "auth", "role": "api", "az": "ap-northeast-2a", "subnet": "ecoeco-app-a"}]
    groups:
      description: Inventory group name to node names.
      type: dict
      sample: {"control_plane": ["ecoeco-master-1"], "api_auth": ["ecoeco-auth-1"]}
    security_groups:
      description: Least-privilege security-group intent.
      type: list
      elements: dict
      sample: [{"name": "ecoeco-lb", "description": "Load balancers", "rules": []}]
    services:
      description: Settings of each service that has a pool, defaults filled in.
      type: dict
      sample: {"redis": {"port": 6379, "nodes": ["ecoeco-redis-1"], "primary": "ecoeco-redis-1"}}
errors:
  description: Every problem found, each a field path, a colon, what is wrong and how to fix it.
  returned: failure
  type: list
  elements: str
  sample: ["pools[3].taints[0].effect: 'NoSchedul' is not one of NoSchedule, PreferNoSchedule, NoExecute (did you mean 'NoSchedule'?)"]
ansible_facts:
  description: The plan as the fact C(msa_plan).
  returned: success
  type: dict
  contains:
    msa_plan:
      description: Same as RV(plan).
      type: dict
      sample: {"name": "ecoeco"}
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.msa.platform.plugins.module_utils.module_args import build_module
from ansible_collections.msa.platform.plugins.module_utils.topology import build_plan


def error_message(errors: list) -> str:
    """One line saying how many problems there are, then one problem per line."""
    head = "{} error{} in the topology (nothing was changed):".format(len(errors), "" if len(errors) == 1 else "s")
    return "\n".join([head] + ["- " + e for e in errors])


def main() -> None:
    module = build_module(  # checks types and control characters; the topology's content is build_plan's
        AnsibleModule,
        {
            "topology": {"type": "dict", "required": True},
            "az_names": {"type": "list", "elements": "str"},
        },
        supports_check_mode=True,
    )
    plan, errors = build_plan(module.params["topology"], module.params["az_names"])
    if errors:
        module.fail_json(msg=error_message(errors), errors=errors, changed=False)
    module.exit_json(changed=False, plan=plan, ansible_facts={"msa_plan": plan})


if __name__ == "__main__":
    main()
