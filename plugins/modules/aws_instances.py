#!/usr/bin/python

# Copyright: msa.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: aws_instances
short_description: Launch EC2 nodes, one RunInstances each, and wait for all of them together
version_added: "0.2.0"
description:
  - Launches each node of O(instances) with one RunInstances call that carries everything - subnet, security groups,
    key pair, instance profile, IMDSv2 with the node's hop limit, an encrypted gp3 root volume deleted on termination,
    and the tags on the instance and its volume - then polls all new instances with one DescribeInstances per poll
    until they run, and turns the source/destination check off where a node wants it off.
  - Launches what it is given - the caller (aws_compute) passes only the nodes that have no instance yet, found with one
    DescribeInstances. A client token per node makes a retried RunInstances return the instance the first attempt made.
author:
  - msa.platform maintainers (@msa-platform)
options:
  instances:
    description: Nodes to launch.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: The C(Name) tag.
        type: str
        required: true
      image_id:
        description: AMI id.
        type: str
        required: true
      root_device_name:
        description: The AMI's root device name (C(/dev/sda1), C(/dev/xvda)).
        type: str
        required: true
      instance_type:
        description: Instance type.
        type: str
        required: true
      subnet_id:
        description: Subnet id.
        type: str
        required: true
      security_group_ids:
        description: Security group ids.
        type: list
        elements: str
        required: true
      key_name:
        description: Key pair name.
        type: str
      iam_instance_profile:
        description: Instance profile name.
        type: str
      hop_limit:
        description: IMDSv2 PUT response hop limit (1 to 64).
        type: int
        default: 1
      source_dest_check:
        description: Keep the source/destination check on.
        type: bool
        default: true
      volume_size:
        description: Root volume size, GiB (1 to 16384).
        type: int
        default: 20
      volume_type:
        description: Root volume type.
        type: str
        default: gp3
        choices: [gp2, gp3, io1, io2, st1, sc1, standard]
      kms_key_id:
        description: KMS key for the root volume (default the account's EBS key).
        type: str
      tags:
        description: Tags of the instance and its volume besides C(Name).
        type: dict
        default: {}
  wait_timeout:
    description: Seconds to wait for the new instances to run (1 to 7200).
    type: int
    default: 600
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
attributes:
  check_mode:
    support: full
    description: Lists the nodes a real run launches, calls nothing.
  diff_mode:
    support: full
    description: C(after) lists the nodes launched.
notes:
  - Every input is checked before any AWS call; a problem fails naming the option path.
"""

EXAMPLES = r"""
- name: Launch the missing nodes
  msa.platform.aws_instances:
    instances:
      - name: ecoeco-auth-1
        image_id: ami-0a1b2c
        root_device_name: /dev/sda1
        instance_type: t3.small
        subnet_id: subnet-0a1b2c
        security_group_ids: [sg-0a1b2c]
        key_name: ecoeco
        iam_instance_profile: ecoeco-node
        source_dest_check: false
        tags: {"msa:platform": ecoeco, "msa:pool": auth}
"""

RETURN = r"""
instances:
  description: The nodes launched (none in check mode), in the order given.
  returned: always
  type: list
  elements: dict
  sample: [{"name": "ecoeco-auth-1", "instance_id": "i-0a1b2c", "private_ip": "10.0.4.12"}]
actions:
  description: The writes made (or, in check mode, planned), each "operation node".
  returned: always
  type: list
  elements: str
  sample: ["run_instances ecoeco-auth-1", "modify_instance_attribute ecoeco-auth-1"]
"""

import uuid

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.msa.platform.plugins.module_utils.aws.instances import run_request, wait_running
from ansible_collections.msa.platform.plugins.module_utils.module_args import build_module, int_range, problem_of, url
from ansible_collections.msa.platform.plugins.module_utils.topology_net import region_problem

try:
    from botocore.exceptions import BotoCoreError, ClientError
except ImportError:
    pass  # handled by AnsibleAWSModule

RETRY_CODES = ["RequestLimitExceeded", "Throttling", "ThrottlingException", "ServiceUnavailable", "InternalError", "Unavailable"]
# an instance just launched may not be visible to the next call yet (EC2 is eventually consistent)
FRESH_CODES = [*RETRY_CODES, "InvalidInstanceID.NotFound"]
DEFAULTS = dict(hop_limit=1, source_dest_check=True, volume_size=20, volume_type="gp3", tags={})


def problems(nodes):
    out = []
    names = [n.get("name") for n in nodes]
    if len(set(names)) != len(names):
        out.append("instances: names must be unique")
    for i, node in enumerate(nodes):
        if not 1 <= node["hop_limit"] <= 64:
            out.append(f"instances[{i}].hop_limit: must be between 1 and 64, got {node['hop_limit']}")
        if not 1 <= node["volume_size"] <= 16384:
            out.append(f"instances[{i}].volume_size: must be between 1 and 16384, got {node['volume_size']}")
        if not node.get("security_group_ids"):
            out.append(f"instances[{i}].security_group_ids: at least one")
        for key, value in node["tags"].items():
            if not isinstance(value, (str, int, float)) or isinstance(value, bool):
                out.append(f"instances[{i}].tags.{key}: must be a string")
    return out


def main():
    node = dict(name=dict(type="str", required=True), image_id=dict(type="str", required=True),
                root_device_name=dict(type="str", required=True), instance_type=dict(type="str", required=True),
                subnet_id=dict(type="str", required=True), security_group_ids=dict(type="list", elements="str", required=True),
                key_name=dict(type="str"), iam_instance_profile=dict(type="str"), hop_limit=dict(type="int", default=1),
                source_dest_check=dict(type="bool", default=True), volume_size=dict(type="int", default=20),
                volume_type=dict(type="str", default="gp3", choices=["gp2", "gp3", "io1", "io2", "st1", "sc1", "standard"]),
                kms_key_id=dict(type="str", no_log=False), tags=dict(type="dict", default={}))
    module = build_module(
        AnsibleAWSModule,
        dict(instances=dict(type="list", elements="dict", required=True, options=node), wait_timeout=dict(type="int", default=600)),
        rules=dict(region=problem_of(region_problem), endpoint_url=url, wait_timeout=int_range(1, 7200)),
        supports_check_mode=True,
    )
    nodes = [dict(DEFAULTS, **{k: v for k, v in n.items() if v is not None}) for n in module.params["instances"]]
    found = problems(nodes)
    if found:
        module.fail_json(msg="aws_instances: " + "; ".join(found))
    actions = [f"run_instances {n['name']}" for n in nodes]
    actions += [f"modify_instance_attribute {n['name']}" for n in nodes if not n["source_dest_check"]]
    diff = {"before": {}, "after": {"launched": [n["name"] for n in nodes]}}
    if module.check_mode or not nodes:
        module.exit_json(changed=bool(nodes), instances=[], actions=actions, diff=diff)
    ec2 = module.client("ec2", retry_decorator=AWSRetry.jittered_backoff(retries=8, catch_extra_error_codes=RETRY_CODES))
    fresh = module.client("ec2", retry_decorator=AWSRetry.jittered_backoff(retries=8, catch_extra_error_codes=FRESH_CODES))
    done = []
    launched = {}
    try:
        for item in nodes:
            token = f"{item['name']}-{uuid.uuid4().hex}"[:64]   # the same for every retry of this call
            instance = ec2.run_instances(aws_retry=True, **run_request(item, token))["Instances"][0]
            launched[item["name"]] = instance["InstanceId"]
            done.append(f"run_instances {item['name']}")

        def describe(ids):
            pages = fresh.describe_instances(aws_retry=True, InstanceIds=ids)["Reservations"]
            return [inst for res in pages for inst in res["Instances"]]

        running = {i["InstanceId"]: i for i in wait_running(describe, list(launched.values()), module.params["wait_timeout"])}
        for item in nodes:
            if not item["source_dest_check"]:
                ec2.modify_instance_attribute(aws_retry=True, InstanceId=launched[item["name"]], SourceDestCheck={"Value": False})
                done.append(f"modify_instance_attribute {item['name']}")
    except (TimeoutError, RuntimeError) as err:
        module.fail_json(msg=str(err), actions=done, instances=[{"name": k, "instance_id": v} for k, v in launched.items()])
    except (BotoCoreError, ClientError) as err:
        module.fail_json_aws(err, msg=f"aws_instances stopped after: {', '.join(done) or 'nothing launched'}", actions=done)
    out = [{"name": n["name"], "instance_id": launched[n["name"]], "private_ip": running[launched[n["name"]]].get("PrivateIpAddress", "")}
           for n in nodes]
    module.exit_json(changed=True, instances=out, actions=done, diff=diff)


if __name__ == "__main__":
    main()
