"""Print what the AWS account (or the local emulator) holds for one platform, found by its tag.

    python scripts/platform_report.py [--platform NAME] [--inventory inventories/local]
"""
from __future__ import annotations

import argparse
import collections
import sys
from pathlib import Path

import boto3
import yaml

ROOT = Path(__file__).resolve().parent.parent


def platform_name(inventory: Path) -> str:
    topology = yaml.safe_load((inventory / "group_vars" / "all" / "topology.yml").read_text())
    return topology["platform"]["name"]


def report(name: str) -> list[str]:
    ec2 = boto3.client("ec2")
    tag = [{"Name": "tag:msa:platform", "Values": [name]}]
    counts = collections.Counter()
    lines = []
    for vpc in ec2.describe_vpcs(Filters=tag)["Vpcs"]:
        lines.append(f"vpc {vpc['VpcId']} {vpc['CidrBlock']}")
    for kind, call, key in (("subnets", ec2.describe_subnets, "Subnets"),
                            ("route tables", ec2.describe_route_tables, "RouteTables"),
                            ("security groups", ec2.describe_security_groups, "SecurityGroups"),
                            ("internet gateways", ec2.describe_internet_gateways, "InternetGateways"),
                            ("elastic IPs", ec2.describe_addresses, "Addresses")):
        counts[kind] = len(call(Filters=tag)[key])
    nats = ec2.describe_nat_gateways(Filter=[*tag, {"Name": "state", "Values": ["pending", "available"]}])
    counts["NAT gateways"] = len(nats["NatGateways"])
    pools = collections.Counter()
    for page in ec2.get_paginator("describe_instances").paginate(
            Filters=[*tag, {"Name": "instance-state-name", "Values": ["pending", "running"]}]):
        for reservation in page["Reservations"]:
            for instance in reservation["Instances"]:
                tags = {t["Key"]: t["Value"] for t in instance.get("Tags", [])}
                pools[tags.get("msa:pool", "?")] += 1
    lines += [f"{kind}: {count}" for kind, count in counts.items()]
    lines.append(f"instances: {sum(pools.values())} (" + ", ".join(f"{p} {n}" for p, n in sorted(pools.items())) + ")")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--inventory", type=Path, default=ROOT / "inventories" / "local")
    parser.add_argument("--platform")
    args = parser.parse_args()
    name = args.platform or platform_name(args.inventory)
    print(f"platform {name}:")
    for line in report(name):
        print("  " + line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
