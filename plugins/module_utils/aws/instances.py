# Copyright: msa.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Launch EC2 instances with one RunInstances each and wait for all of them with one DescribeInstances per poll.

amazon.aws.ec2_instance reads the subnet, the security groups, the instance profile and the instance several times per
node and waits per node: about 15 calls per node launched. ``run_request`` builds the whole RunInstances request (tags
on the instance and its volumes, IMDSv2, profile, root volume) so one call makes a node as the plan wants it; the
client token makes a retried call return the instance the first one made instead of a second one.
"""
from __future__ import annotations

import time
from typing import Any, Callable, Dict, List

LIVE = ("pending", "running")


def run_request(node: Dict[str, Any], token: str) -> Dict[str, Any]:
    """RunInstances request of one node (the module's snake_case instance option)."""
    tags = [{"Key": k, "Value": str(v)} for k, v in sorted(dict(node["tags"], Name=node["name"]).items())]
    ebs: Dict[str, Any] = {"VolumeSize": node["volume_size"], "VolumeType": node["volume_type"], "Encrypted": True,
                           "DeleteOnTermination": True}
    if node.get("kms_key_id"):
        ebs["KmsKeyId"] = node["kms_key_id"]
    request: Dict[str, Any] = {
        "ImageId": node["image_id"], "InstanceType": node["instance_type"], "MinCount": 1, "MaxCount": 1,
        "SubnetId": node["subnet_id"], "SecurityGroupIds": list(node["security_group_ids"]), "ClientToken": token,
        "MetadataOptions": {"HttpEndpoint": "enabled", "HttpTokens": "required", "HttpPutResponseHopLimit": node["hop_limit"]},
        "BlockDeviceMappings": [{"DeviceName": node["root_device_name"], "Ebs": ebs}],
        "TagSpecifications": [{"ResourceType": "instance", "Tags": tags}, {"ResourceType": "volume", "Tags": tags}],
    }
    if node.get("key_name"):
        request["KeyName"] = node["key_name"]
    if node.get("iam_instance_profile"):
        request["IamInstanceProfile"] = {"Name": node["iam_instance_profile"]}
    return request


def wait_running(describe: Callable[[List[str]], List[Dict[str, Any]]], ids: List[str], timeout: float, poll: float = 3.0,
                 sleep: Callable[[float], None] = time.sleep) -> List[Dict[str, Any]]:
    """Poll all ``ids`` in one call until every one is running; the instances as last described. Raises TimeoutError
    naming the ones still pending, RuntimeError naming one that stopped or terminated instead."""
    deadline = time.monotonic() + timeout
    while True:
        found = describe(ids)
        states = {i["InstanceId"]: i["State"]["Name"] for i in found}
        gone = sorted(i for i, state in states.items() if state not in LIVE)
        if gone:
            raise RuntimeError("instances ended instead of running: " + ", ".join(f"{i} ({states[i]})" for i in gone))
        waiting = sorted(i for i in ids if states.get(i) != "running")
        if not waiting:
            return found
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for instances to run: {', '.join(waiting)}")
        sleep(poll)
