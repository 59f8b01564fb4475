#!/usr/bin/python

# Copyright: msa.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: eks_nodegroup
short_description: Create, converge in place or delete an Amazon EKS managed node group
version_added: "0.2.0"
description:
  - Creates a managed node group, or converges an existing one in place - labels, taints, scaling and the
    update config together in one C(UpdateNodegroupConfig) call (labels and taints as add/update and remove
    sets computed from what the node group has), the Kubernetes version, AMI release version and launch
    template version through one C(UpdateNodegroupVersion) call, tags through C(TagResource) / C(UntagResource).
  - Labels and taints are owned by the module - ones the node group has and O(labels) / O(taints) do not list
    are removed. A taint is identified by key and effect; a missing value and C("") are the same.
  - Refuses, before any change, what EKS cannot change in place - O(instance_types), O(subnets),
    O(capacity_type), O(ami_type), O(node_role_arn), O(disk_size), the launch template itself - naming the
    option and what to do.
  - Deletes the node group with O(state=absent).
author:
  - msa.platform maintainers (@msa-platform)
options:
  cluster_name:
    description: Name of the EKS cluster.
    type: str
    required: true
  name:
    description: Name of the node group.
    type: str
    required: true
  state:
    description: Whether the node group should exist.
    type: str
    choices: [present, absent]
    default: present
  node_role_arn:
    description: IAM role of the nodes (AmazonEKSWorkerNodePolicy, AmazonEC2ContainerRegistryReadOnly, CNI). Required to create.
    type: str
  subnets:
    description: Subnet IDs the nodes run in. Required to create; immutable.
    type: list
    elements: str
  instance_types:
    description: Instance types (EKS default C(t3.medium)); immutable. Leave unset when the launch template names one.
    type: list
    elements: str
  capacity_type:
    description: C(ON_DEMAND) or C(SPOT); immutable.
    type: str
    choices: [ON_DEMAND, SPOT, CAPACITY_BLOCK]
  ami_type:
    description:
      - AMI type; immutable. EKS publishes no AL2 AMIs for Kubernetes 1.33 and later, so use the AL2023 types there.
    type: str
    choices: [AL2023_x86_64_STANDARD, AL2023_ARM_64_STANDARD, AL2023_x86_64_NVIDIA, AL2023_ARM_64_NVIDIA, AL2023_x86_64_NEURON,
              BOTTLEROCKET_x86_64, BOTTLEROCKET_ARM_64, BOTTLEROCKET_x86_64_NVIDIA, BOTTLEROCKET_ARM_64_NVIDIA,
              AL2_x86_64, AL2_x86_64_GPU, AL2_ARM_64, WINDOWS_CORE_2022_x86_64, WINDOWS_FULL_2022_x86_64, CUSTOM]
  disk_size:
    description: Root volume size in GiB, only without a launch template; immutable.
    type: int
  scaling:
    description:
      - Size of the node group. Omitted keys keep their current value (at creation, EKS defaults 1 / 2 / 2).
    type: dict
    suboptions:
      min_size:
        description: Minimum number of nodes.
        type: int
      max_size:
        description: Maximum number of nodes.
        type: int
      desired_size:
        description: Desired number of nodes; see O(ignore_desired_size).
        type: int
  ignore_desired_size:
    description:
      - Leave the current desired size alone (a cluster autoscaler owns it); O(scaling.desired_size) is used only
        at creation, and the current value is moved only when it falls outside a new min/max.
    type: bool
    default: false
  labels:
    description: Kubernetes labels of the nodes. Omitted, left as they are; C({}) removes them all.
    type: dict
  taints:
    description:
      - Kubernetes taints of the nodes. Omitted, left as they are; C([]) removes them all.
      - O(taints[].effect) takes the EKS names or the Kubernetes ones (C(NoSchedule) -> C(NO_SCHEDULE)).
    type: list
    elements: dict
    suboptions:
      key:
        description: Taint key.
        type: str
        required: true
      value:
        description: Taint value; missing and C("") are the same.
        type: str
      effect:
        description: Taint effect.
        type: str
        required: true
        choices: [NO_SCHEDULE, NO_EXECUTE, PREFER_NO_SCHEDULE, NoSchedule, NoExecute, PreferNoSchedule]
  launch_template:
    description: Launch template of the nodes; which template is immutable, its version is updated in place.
    type: dict
    suboptions:
      id:
        description: Launch template ID (or O(launch_template.name)).
        type: str
      name:
        description: Launch template name (or O(launch_template.id)).
        type: str
      version:
        description: Launch template version.
        type: str
  version:
    description:
      - Kubernetes minor version of the nodes; omitted, the cluster's at creation. One minor at a time, never above
        the cluster's.
    type: str
  release_version:
    description: AMI release version; omitted, the latest for the version when the version changes.
    type: str
  update_config:
    description: How many nodes may be unavailable during a version update; exactly one of the two.
    type: dict
    suboptions:
      max_unavailable:
        description: Number of nodes.
        type: int
      max_unavailable_percentage:
        description: Percentage of nodes.
        type: int
  wait:
    description:
      - Wait until the node group is C(ACTIVE) after creating it (or gone after deleting it).
      - Updates are always waited for, since EKS refuses a second update while one runs.
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait for a creation, deletion or each update.
    type: int
    default: 1800
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
attributes:
  check_mode:
    support: full
    description: Reports what would change (and the calls in RV(calls)) without calling any mutating API.
  diff_mode:
    support: full
    description: C(before) and C(after) hold the managed fields of the node group.
notes:
  - Every call is retried on throttling and transient errors (AWSRetry jittered backoff).
  - DescribeNodegroup may omit C(updateConfig), C(labels), C(taints) or C(launchTemplate); each counts as empty.
"""

EXAMPLES = r"""
- name: Node group of the auth API pool, labelled and tainted
  msa.platform.eks_nodegroup:
    cluster_name: courm
    name: auth
    node_role_arn: arn:aws:iam::123456789012:role/courm-eks-node
    subnets: [subnet-0a1, subnet-0b2]
    instance_types: [t3.large]
    capacity_type: ON_DEMAND
    ami_type: AL2023_x86_64_STANDARD
    scaling: {min_size: 2, max_size: 4, desired_size: 2}
    labels: {workload: api, api: auth}
    taints:
      - {key: dedicated, value: auth, effect: NoSchedule}
    launch_template: {name: courm-auth, version: "3"}
    update_config: {max_unavailable: 1}
    tags:
      msa:platform: courm
      msa:pool: auth

- name: Nodes follow the control plane to the next minor
  msa.platform.eks_nodegroup:
    cluster_name: courm
    name: auth
    version: "1.35"
"""

RETURN = r"""
nodegroup:
  description: The node group as DescribeNodegroup returns it, keys in snake_case (labels and tags as they are); empty when absent.
  returned: always
  type: dict
  contains:
    nodegroup_arn:
      description: ARN of the node group.
      type: str
      returned: when present
      sample: arn:aws:eks:ap-northeast-2:123456789012:nodegroup/courm/auth/0a1b2c3d
    status:
      description: Node group status.
      type: str
      returned: when present
      sample: ACTIVE
    version:
      description: Kubernetes version of the nodes.
      type: str
      returned: when present
      sample: "1.34"
    labels:
      description: Kubernetes labels of the nodes.
      type: dict
      returned: when present
      sample: {"api": "auth"}
    taints:
      description: Kubernetes taints of the nodes (EKS effect names).
      type: list
      returned: when present
      sample: [{"key": "dedicated", "value": "auth", "effect": "NO_SCHEDULE"}]
    scaling_config:
      description: Sizes.
      type: dict
      returned: when present
      sample: {"min_size": 2, "max_size": 4, "desired_size": 2}
calls:
  description: The mutating EKS API calls made (or, in check mode, that would be made), in order.
  returned: always
  type: list
  elements: str
  sample: [update_nodegroup_config]
"""

import functools

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.msa.platform.plugins.module_utils.aws.eks import (
    Eks,
    apply_nodegroup_calls,
    nodegroup_create_request,
    nodegroup_problems,
    nodegroup_updates,
    nodegroup_view,
    tag_changes,
    wait_for_status,
)

try:
    from botocore.exceptions import BotoCoreError, ClientError
except ImportError:
    pass  # handled by AnsibleAWSModule

AMI_TYPES = ["AL2023_x86_64_STANDARD", "AL2023_ARM_64_STANDARD", "AL2023_x86_64_NVIDIA", "AL2023_ARM_64_NVIDIA", "AL2023_x86_64_NEURON",
             "BOTTLEROCKET_x86_64", "BOTTLEROCKET_ARM_64", "BOTTLEROCKET_x86_64_NVIDIA", "BOTTLEROCKET_ARM_64_NVIDIA",
             "AL2_x86_64", "AL2_x86_64_GPU", "AL2_ARM_64", "WINDOWS_CORE_2022_x86_64", "WINDOWS_FULL_2022_x86_64", "CUSTOM"]
EFFECTS = ["NO_SCHEDULE", "NO_EXECUTE", "PREFER_NO_SCHEDULE", "NoSchedule", "NoExecute", "PreferNoSchedule"]


def result_of(nodegroup, calls):
    if not nodegroup:
        return dict(nodegroup={}, calls=calls)
    return dict(nodegroup=camel_dict_to_snake_dict(nodegroup, ignore_list=["tags", "labels"]), calls=calls)


def describer(eks, cluster, name):
    return functools.partial(eks.describe, "describe_nodegroup", "nodegroup", clusterName=cluster, nodegroupName=name)


def absent(module, eks, nodegroup):
    if not nodegroup:
        module.exit_json(changed=False, diff={"before": {}, "after": {}}, **result_of(None, []))
    before = nodegroup_view(nodegroup)
    if module.check_mode:
        module.exit_json(changed=True, diff={"before": before, "after": {}}, **result_of(None, ["delete_nodegroup"]))
    if nodegroup["status"] != "DELETING":
        eks.change("delete_nodegroup", clusterName=nodegroup["clusterName"], nodegroupName=nodegroup["nodegroupName"])
    if module.params["wait"]:
        wait_for_status(describer(eks, nodegroup["clusterName"], nodegroup["nodegroupName"]), (), module.params["wait_timeout"])
    module.exit_json(changed=True, diff={"before": before, "after": {}}, **result_of(None, eks.calls))


def create(module, eks):
    request, problems = nodegroup_create_request(module.params)
    if problems:
        module.fail_json(msg="; ".join(problems))
    if module.check_mode:
        after = nodegroup_view(request)
        module.exit_json(changed=True, diff={"before": {}, "after": after}, **result_of(None, ["create_nodegroup"]))
    nodegroup = eks.change("create_nodegroup", **request)["nodegroup"]
    if module.params["wait"]:
        nodegroup = wait_for_status(describer(eks, request["clusterName"], request["nodegroupName"]), ("ACTIVE",), module.params["wait_timeout"])
    module.exit_json(changed=True, diff={"before": {}, "after": nodegroup_view(nodegroup)}, **result_of(nodegroup, eks.calls))


def converge(module, eks, nodegroup):
    params = module.params
    describe = describer(eks, nodegroup["clusterName"], nodegroup["nodegroupName"])
    if nodegroup["status"] in ("CREATING", "UPDATING"):
        nodegroup = wait_for_status(describe, ("ACTIVE",), params["wait_timeout"])
    if nodegroup["status"] != "ACTIVE":
        module.fail_json(msg=f"node group {nodegroup['nodegroupName']} is {nodegroup['status']}; it must be ACTIVE to be converged",
                         **result_of(nodegroup, []))
    cluster = eks.describe("describe_cluster", "cluster", name=nodegroup["clusterName"]) if params.get("version") else None
    calls, problems = nodegroup_updates(nodegroup, params, (cluster or {}).get("version"))
    if problems:
        module.fail_json(msg="; ".join(problems), **result_of(nodegroup, []))
    add, remove = tag_changes(nodegroup.get("tags"), params["tags"], params["purge_tags"])
    before = nodegroup_view(nodegroup)
    if module.check_mode:
        after = nodegroup_view(apply_nodegroup_calls(nodegroup, calls))
        if params["tags"] is not None:
            after["tags"] = {**{k: v for k, v in before["tags"].items() if k not in remove}, **add}
        planned = [op for op, _r in calls] + (["untag_resource"] if remove else []) + (["tag_resource"] if add else [])
        module.exit_json(changed=bool(planned), diff={"before": before, "after": after}, **result_of(nodegroup, planned))
    for operation, request in calls:
        eks.run_update(operation, request, params["wait_timeout"])
    eks.sync_tags(nodegroup["nodegroupArn"], nodegroup.get("tags"), params["tags"], params["purge_tags"])
    if eks.calls:
        nodegroup = describe()
    module.exit_json(changed=bool(eks.calls), diff={"before": before, "after": nodegroup_view(nodegroup)}, **result_of(nodegroup, eks.calls))


def main():
    module = AnsibleAWSModule(
        argument_spec=dict(
            cluster_name=dict(type="str", required=True),
            name=dict(type="str", required=True),
            state=dict(type="str", default="present", choices=["present", "absent"]),
            node_role_arn=dict(type="str"),
            subnets=dict(type="list", elements="str"),
            instance_types=dict(type="list", elements="str"),
            capacity_type=dict(type="str", choices=["ON_DEMAND", "SPOT", "CAPACITY_BLOCK"]),
            ami_type=dict(type="str", choices=AMI_TYPES),
            disk_size=dict(type="int"),
            scaling=dict(type="dict", options=dict(min_size=dict(type="int"), max_size=dict(type="int"), desired_size=dict(type="int"))),
            ignore_desired_size=dict(type="bool", default=False),
            labels=dict(type="dict"),
            taints=dict(type="list", elements="dict", options=dict(
                key=dict(type="str", required=True, no_log=False), value=dict(type="str"),
                effect=dict(type="str", required=True, choices=EFFECTS))),
            launch_template=dict(type="dict", options=dict(id=dict(type="str"), name=dict(type="str"), version=dict(type="str"))),
            version=dict(type="str"),
            release_version=dict(type="str"),
            update_config=dict(type="dict", options=dict(max_unavailable=dict(type="int"), max_unavailable_percentage=dict(type="int"))),
            tags=dict(type="dict", aliases=["resource_tags"]),
            purge_tags=dict(type="bool", default=True),
            wait=dict(type="bool", default=True),
            wait_timeout=dict(type="int", default=1800),
        ),
        supports_check_mode=True,
    )
    problems = nodegroup_problems(module.params)
    if problems:
        module.fail_json(msg="; ".join(problems))
    eks = Eks(module, AWSRetry)
    cluster, name = module.params["cluster_name"], module.params["name"]
    try:
        nodegroup = eks.describe("describe_nodegroup", "nodegroup", clusterName=cluster, nodegroupName=name)
        if module.params["state"] == "absent":
            absent(module, eks, nodegroup)
        elif nodegroup is None:
            create(module, eks)
        else:
            converge(module, eks, nodegroup)
    except (BotoCoreError, ClientError) as err:
        module.fail_json_aws(err, msg=f"EKS node group {cluster}/{name}: {', '.join(eks.calls) or 'describe'} failed", calls=eks.calls)
    except (RuntimeError, TimeoutError) as err:
        module.fail_json(msg=f"EKS node group {cluster}/{name}: {err}", calls=eks.calls)


if __name__ == "__main__":
    main()
