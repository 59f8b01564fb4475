"""What the network and teardown tests share: an emulator, playbook runs, and boto3 views of the result.

The tests use the session emulator of tests/conftest.py (scripts/moto_server.py: moto plus the
fixes of scripts/moto_ext, see README "Emulator extensions"), reset around each test by the `network_emulator` fixture (conftest.py here).
Everything is asserted through boto3 describe calls, never through play output (except PLAY RECAP
for idempotence).
"""
from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import boto3

ROOT = Path(__file__).resolve().parents[3]
URL = os.environ["AWS_ENDPOINT_URL"]  # the session emulator (tests/conftest.py), never real AWS
REGION = "ap-northeast-2"
TAG = "msa:platform"


def ansible_env(endpoint: str) -> dict[str, str]:
    return dict(os.environ, AWS_ENDPOINT_URL=endpoint, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_CACHE_PLUGIN="memory",
                ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
                AWS_SESSION_TOKEN="testing", AWS_DEFAULT_REGION=REGION, AWS_REGION=REGION)


def playbook_cmd(name: str, example: str | Path, *args: str) -> list[str]:
    """ansible-playbook of playbooks/<name> on an example by name (inventories/examples/<example>) or an inventory path."""
    inventory = example if isinstance(example, Path) else ROOT / "inventories" / "examples" / example
    return [str(ROOT / ".venv" / "bin" / "ansible-playbook"), "-i", str(inventory), str(ROOT / "playbooks" / name), *args]


def playbook(name: str, example: str | Path, *args: str, endpoint: str = URL, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run(playbook_cmd(name, example, *args), cwd=ROOT, env=ansible_env(endpoint), capture_output=True, text=True,
                          timeout=timeout, check=False)


def recaps(run: subprocess.CompletedProcess) -> dict[str, dict[str, int]]:
    """Every host's line of PLAY RECAP as numbers: {host: {ok, changed, unreachable, failed, ...}}."""
    lines = re.findall(r"^(\S+)\s+:\s+(ok=.*)$", run.stdout.split("PLAY RECAP")[-1], re.M)
    assert lines, run.stdout[-3000:] + run.stderr[-3000:]
    return {host: {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", counters)} for host, counters in lines}


def recap(run: subprocess.CompletedProcess) -> dict[str, int]:
    """The localhost line of PLAY RECAP as numbers."""
    hosts = recaps(run)
    assert "localhost" in hosts, run.stdout[-3000:] + run.stderr[-3000:]
    return hosts["localhost"]


def ec2():
    return boto3.client("ec2", endpoint_url=URL, region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing")


def tagged(platform: str) -> list[dict]:
    return [{"Name": f"tag:{TAG}", "Values": [platform]}]


def inventory(platform: str) -> dict[str, list]:
    """Every network resource of the platform, looked up the way a person would audit it."""
    client = ec2()
    vpcs = client.describe_vpcs(Filters=tagged(platform))["Vpcs"]
    in_vpc = [{"Name": "vpc-id", "Values": [v["VpcId"] for v in vpcs]}] if vpcs else None

    def inside(call, key, **kw):
        return call(Filters=in_vpc, **kw)[key] if in_vpc else []

    return {
        "vpcs": vpcs,
        "subnets": inside(client.describe_subnets, "Subnets"),
        "route_tables": [t for t in inside(client.describe_route_tables, "RouteTables")
                         if not any(a.get("Main") for a in t.get("Associations", []))],
        "nat_gateways": [n for n in client.describe_nat_gateways(Filters=in_vpc or tagged(platform))["NatGateways"]
                         if n["State"] in ("pending", "available")],
        "addresses": client.describe_addresses()["Addresses"],   # every EIP of the account: duplicates count too
        "security_groups": [g for g in inside(client.describe_security_groups, "SecurityGroups") if g["GroupName"] != "default"],
        "internet_gateways": client.describe_internet_gateways(Filters=tagged(platform))["InternetGateways"],
    }


def counts(platform: str) -> dict[str, int]:
    return {kind: len(items) for kind, items in inventory(platform).items()}


def leftovers(platform: str) -> list[str]:
    """Anything still tagged for the platform (EC2 describe calls + the tagging API), and any EIP at all.

    (moto's DescribeTags keeps tags of deleted resources, so the per-resource describes are used instead.)
    """
    client = ec2()
    flt = tagged(platform)
    left = [f"vpc {v['VpcId']}" for v in client.describe_vpcs(Filters=flt)["Vpcs"]]
    left += [f"subnet {v['SubnetId']}" for v in client.describe_subnets(Filters=flt)["Subnets"]]
    left += [f"route table {v['RouteTableId']}" for v in client.describe_route_tables(Filters=flt)["RouteTables"]]
    left += [f"igw {v['InternetGatewayId']}" for v in client.describe_internet_gateways(Filters=flt)["InternetGateways"]]
    left += [f"sg {v['GroupId']}" for v in client.describe_security_groups(Filters=flt)["SecurityGroups"]]
    left += [f"nat {v['NatGatewayId']}" for v in client.describe_nat_gateways(Filter=flt)["NatGateways"]
             if v["State"] not in ("deleted", "failed")]
    left += [f"instance {i['InstanceId']}" for r in client.describe_instances(Filters=flt)["Reservations"] for i in r["Instances"]
             if i["State"]["Name"] != "terminated"]
    left += [f"volume {v['VolumeId']}" for v in client.describe_volumes(Filters=flt)["Volumes"]]
    left += [f"eip {a['AllocationId']}" for a in client.describe_addresses()["Addresses"]]
    # Gone, though the tagging API still lists them (AWS's does too, for a while): deleted or failed NAT gateways and
    # terminated instances.
    ended = {n["NatGatewayId"] for n in client.describe_nat_gateways()["NatGateways"] if n["State"] in ("deleted", "failed")}
    ended |= {i["InstanceId"] for r in client.describe_instances(Filters=flt)["Reservations"] for i in r["Instances"]
              if i["State"]["Name"] == "terminated"}
    tagging = boto3.client("resourcegroupstaggingapi", endpoint_url=URL, region_name=REGION, aws_access_key_id="testing",
                           aws_secret_access_key="testing")
    for mapping in tagging.get_resources(TagFilters=[{"Key": TAG, "Values": [platform]}])["ResourceTagMappingList"]:
        if mapping["ResourceARN"].rsplit("/", 1)[-1] not in ended:
            left.append(mapping["ResourceARN"])
    return sorted(set(left))
