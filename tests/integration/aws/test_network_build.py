"""playbooks/network.yml against the emulator: expected resources, least-privilege rules, idempotence,
then playbooks/teardown.yml leaves nothing (twice)."""
from __future__ import annotations

import sys

import pytest
from network_harness import ROOT, counts, ec2, inventory, leftovers, playbook, recap

sys.path.insert(0, str(ROOT / "tests" / "fakes"))
from aws_fault_proxy import FaultProxy

# benchmarks/aws_calls.py's goal for a converged network run (one describe per kind): at most this many calls, no write
CONVERGED_CALLS = 15

pytestmark = pytest.mark.emulator

WORLD = "0.0.0.0/0"
ADMIN = "203.0.113.0/24"
# example -> (platform, expected counts, NAT per AZ?)
EXAMPLES = {
    "ecoeco-kubeadm": ("ecoeco", {"vpcs": 1, "subnets": 8, "route_tables": 4, "nat_gateways": 1, "addresses": 1,
                                  "security_groups": 9, "internet_gateways": 1}, False),
    "courm-eks": ("courm", {"vpcs": 1, "subnets": 15, "route_tables": 5, "nat_gateways": 3, "addresses": 3,
                            "security_groups": 10, "internet_gateways": 1}, True),
}
# Client ports of the data services -> the groups allowed to reach them (besides the service's own nodes).
DATA_PORTS = {5432: "postgresql", 6379: "redis", 5672: "rabbitmq", 9092: "kafka"}
# Platforms whose PostgreSQL and Redis are managed (RDS, ElastiCache): the monitoring node's exporters are clients too.
MANAGED = {"courm"}


def name_of(resource: dict) -> str:
    return {t["Key"]: t["Value"] for t in resource.get("Tags", [])}.get("Name", "")


def assert_security_groups(platform: str, groups: list[dict], bastion: bool) -> None:
    by_id = {g["GroupId"]: g["GroupName"] for g in groups}
    for group in groups:
        for perm in group["IpPermissions"]:
            cidrs = [r["CidrIp"] for r in perm.get("IpRanges", [])]
            sources = {by_id.get(p["GroupId"], p["GroupId"]) for p in perm.get("UserIdGroupPairs", [])}
            port = perm.get("FromPort")
            if WORLD in cidrs:   # only the load balancer, only 80/443
                assert group["GroupName"] == f"{platform}-lb" and port in (80, 443) and perm["ToPort"] == port, (group["GroupName"], perm)
            # kubeadm: pod addresses Calico routes natively inside a subnet (the default VXLANCrossSubnet)
            pods = {"192.168.0.0/16"} if group["GroupName"] == f"{platform}-k8s" and platform == "ecoeco" else set()
            assert set(cidrs) <= {WORLD, ADMIN} | pods, (group["GroupName"], perm)
            if port == 22:
                if bastion and group["GroupName"] != f"{platform}-bastion":
                    assert not cidrs and sources == {f"{platform}-bastion"}, (group["GroupName"], perm)
                else:
                    assert cidrs == [ADMIN] and not sources, (group["GroupName"], perm)
            if port in DATA_PORTS:
                own = f"{platform}-{DATA_PORTS[port]}"
                assert group["GroupName"] == own and not cidrs, (group["GroupName"], perm)
                managed = {f"{platform}-monitoring"} if platform in MANAGED and DATA_PORTS[port] in ("postgresql", "redis") else set()
                assert sources <= {own, f"{platform}-app"} | managed, (group["GroupName"], sources)
            if port in (9100, 9187, 9121, 9308, 15692):
                assert sources == {f"{platform}-monitoring"} and not cidrs, (group["GroupName"], perm)
    names = {g["GroupName"]: g for g in groups}
    pg_sources = {by_id[p["GroupId"]] for perm in names[f"{platform}-postgresql"]["IpPermissions"] if perm.get("FromPort") == 5432
                  for p in perm["UserIdGroupPairs"]}
    assert pg_sources == ({f"{platform}-app", f"{platform}-monitoring"} if platform in MANAGED else {f"{platform}-app", f"{platform}-postgresql"})
    lb = names[f"{platform}-lb"]["IpPermissions"]
    assert sorted((p["FromPort"], p["IpRanges"][0]["CidrIp"]) for p in lb) == [(80, WORLD), (443, WORLD)]


def assert_routes(platform: str, found: dict, per_az: bool) -> None:
    subnets = {s["SubnetId"]: s for s in found["subnets"]}
    nat_az = {n["NatGatewayId"]: subnets[n["SubnetId"]]["AvailabilityZone"] for n in found["nat_gateways"]}
    igw = found["internet_gateways"][0]["InternetGatewayId"]
    covered = set()
    for table in found["route_tables"]:
        default = [r for r in table["Routes"] if r.get("DestinationCidrBlock") == WORLD]
        members = [subnets[a["SubnetId"]] for a in table["Associations"] if a.get("SubnetId")]
        tiers = {name_of(s).split("-")[1] for s in members}
        covered |= {s["SubnetId"] for s in members}
        if tiers == {"public"}:
            assert [r.get("GatewayId") for r in default] == [igw]
            assert all(s["MapPublicIpOnLaunch"] for s in members)
        elif tiers == {"data"}:
            assert default == [], table   # the data tier has no way out
        else:
            assert "public" not in tiers and "data" not in tiers, tiers
            assert len(default) == 1 and default[0].get("NatGatewayId"), table
            azs = {s["AvailabilityZone"] for s in members}
            assert len(azs) == 1
            if per_az:
                assert nat_az[default[0]["NatGatewayId"]] in azs
    assert covered == set(subnets), "every subnet has its own route table"


@pytest.mark.parametrize("example", sorted(EXAMPLES))
def test_network_builds_converges_and_tears_down(network_emulator, example):
    platform, expected, per_az = EXAMPLES[example]
    preview = playbook("network.yml", example, "--check")
    assert preview.returncode == 0, preview.stdout[-4000:] + preview.stderr[-2000:]
    assert f"a real run creates it with {expected['subnets']} subnets" in " ".join(preview.stdout.split())
    assert leftovers(platform) == []  # check mode created nothing

    first = playbook("network.yml", example)
    assert first.returncode == 0, first.stdout[-4000:] + first.stderr[-2000:]
    assert counts(platform) == expected

    found = inventory(platform)
    vpc = found["vpcs"][0]
    attrs = ec2().describe_vpc_attribute(VpcId=vpc["VpcId"], Attribute="enableDnsHostnames")
    assert attrs["EnableDnsHostnames"]["Value"] is True
    assert all({"msa:platform", "Name"} <= {t["Key"] for t in r.get("Tags", [])}
               for kind in ("subnets", "route_tables", "nat_gateways", "addresses", "security_groups", "vpcs") for r in found[kind])
    assert_security_groups(platform, found["security_groups"], bastion=per_az)
    assert_routes(platform, found, per_az)

    with FaultProxy(network_emulator, rate=0.0) as proxy:   # counting only
        second = playbook("network.yml", example, endpoint=proxy.url)
    assert second.returncode == 0, second.stdout[-4000:]
    assert recap(second)["changed"] == 0, second.stdout[-6000:]
    calls = proxy.stats["calls"]
    assert sum(calls.values()) <= CONVERGED_CALLS, calls
    assert all(op.split(":", 1)[1].startswith("Describe") for op in calls), calls
    assert counts(platform) == expected

    down = playbook("teardown.yml", example, f"-e confirm_teardown={platform}")
    assert down.returncode == 0, down.stdout[-4000:] + down.stderr[-2000:]
    assert leftovers(platform) == []
    assert ec2().describe_addresses()["Addresses"] == []

    again = playbook("teardown.yml", example, f"-e confirm_teardown={platform}")
    assert again.returncode == 0, again.stdout[-4000:]
    assert recap(again)["changed"] == 0
