"""Helpers (no tests) shared by test_compute*.py and test_inventory*.py: plans of the example topologies, a network made with boto3, nodes
tagged the way aws_compute tags them, and ansible-inventory / ansible-playbook runs against the emulator."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import boto3
import yaml

ROOT = Path(__file__).resolve().parents[3]
if str(ROOT / ".cache" / "collections") not in sys.path:
    sys.path.insert(0, str(ROOT / ".cache" / "collections"))

from ansible_collections.msa.platform.plugins.module_utils.aws_cluster_inventory import node_tags  # noqa: E402
from ansible_collections.msa.platform.plugins.module_utils.topology import build_plan  # noqa: E402

BIN = ROOT / ".venv" / "bin"
REGION = "ap-northeast-2"
LIVE = ["pending", "running", "stopping", "stopped"]


def topology(inventory: Path) -> dict:
    return yaml.safe_load((inventory / "group_vars" / "all" / "topology.yml").read_text())["platform"]


def plan_of(inventory: Path, **pool_counts) -> dict:
    topo = topology(inventory)
    for pool in topo["pools"]:
        if pool["name"] in pool_counts:
            pool["count"] = pool_counts[pool["name"]]
    plan, errors = build_plan(topo)
    assert not errors, errors
    return plan


def ec2():
    return boto3.client("ec2", region_name=REGION)


def make_network(plan: dict) -> dict:
    """The subnets and security groups aws_compute looks up (by msa:platform tag and Name), made with boto3."""
    client = ec2()
    tags = [{"Key": "msa:platform", "Value": plan["name"]}]
    vpc = client.create_vpc(CidrBlock=plan["network"]["cidr"])["Vpc"]["VpcId"]
    ids = {}
    for subnet in plan["network"]["subnets"]:
        ids[subnet["name"]] = client.create_subnet(
            VpcId=vpc, CidrBlock=subnet["cidr"], AvailabilityZone=subnet["az"],
            TagSpecifications=[{"ResourceType": "subnet", "Tags": [*tags, {"Key": "Name", "Value": subnet["name"]}]}])["Subnet"]["SubnetId"]
    for group in plan["security_groups"]:
        ids[group["name"]] = client.create_security_group(
            GroupName=group["name"], Description=group["description"], VpcId=vpc,
            TagSpecifications=[{"ResourceType": "security-group", "Tags": [*tags, {"Key": "Name", "Value": group["name"]}]}])["GroupId"]
    return ids


def launch_nodes(plan: dict, ids: dict, public_ip: bool = False) -> None:
    """Every node of the plan as one instance, tagged exactly as aws_compute tags it."""
    client = ec2()
    image = client.describe_images(Owners=["099720109477"])["Images"][0]["ImageId"]
    api = {p["name"]: p["api"] for p in plan["pools"]}
    for node in plan["nodes"]:
        tags = node_tags(plan["name"], node, api[node["pool"]], plan["tags"])
        client.run_instances(ImageId=image, InstanceType=node["instance_type"], MinCount=1, MaxCount=1, SubnetId=ids[node["subnet"]],
                             NetworkInterfaces=[{"DeviceIndex": 0, "SubnetId": ids[node["subnet"]], "AssociatePublicIpAddress": public_ip}]
                             if public_ip else [],
                             TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}])


def instances(platform: str) -> list:
    """Live instances of the platform: dicts with id, name, launch time and tags."""
    pages = ec2().get_paginator("describe_instances").paginate(
        Filters=[{"Name": "tag:msa:platform", "Values": [platform]}, {"Name": "instance-state-name", "Values": LIVE}])
    out = []
    for page in pages:
        for res in page["Reservations"]:
            for inst in res["Instances"]:
                tags = {t["Key"]: t["Value"] for t in inst.get("Tags", [])}
                out.append({"id": inst["InstanceId"], "name": tags.get("Name"), "launch": inst["LaunchTime"], "tags": tags, "raw": inst})
    return out


def inventory_copy(src: Path, endpoint: str, tmp: Path) -> Path:
    """src as an inventory dir pointing at the fixture's emulator, its cache under tmp."""
    dest = tmp / ("inv-" + src.name)
    dest.mkdir()
    (dest / "group_vars").symlink_to(src / "group_vars")
    (dest / "hosts.yml").symlink_to(src / "hosts.yml")
    config = yaml.safe_load((src / "aws_cluster.yml").read_text())
    config.update(endpoint_url=endpoint, cache_connection=str(tmp / ("cache-" + src.name)))
    (dest / "aws_cluster.yml").write_text(yaml.safe_dump(config))
    return dest


def env() -> dict:
    return dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1", ANSIBLE_STDOUT_CALLBACK="default")


def run(cmd: list, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=ROOT, env=env(), capture_output=True, text=True, timeout=timeout, check=False)


def inventory_list(inventory: Path, *extra: str) -> dict:
    result = run([str(BIN / "ansible-inventory"), "-i", str(inventory), "--list", *extra])
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def unsafe(value):
    """ansible-inventory prints untrusted strings as {"__ansible_unsafe": ...}; the plain value."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return value["__ansible_unsafe"]
        return {k: unsafe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unsafe(v) for v in value]
    return value


def groups_of(listing: dict) -> dict:
    return {g: sorted(body.get("hosts", [])) for g, body in listing.items() if g not in ("_meta", "all")}
