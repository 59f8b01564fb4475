"""aws_network_state's reconciler against moto in-process: one read per kind when converged, only the difference
written on drift, nothing written in check mode; and the pure diff functions."""
from __future__ import annotations

from collections import Counter

import boto3
import pytest
from ansible_collections.msa.platform.plugins.module_utils.aws.network_state import (
    Network,
    association_changes,
    desired_rules,
    reconcile,
    route_changes,
    rule_changes,
    rules_of_permissions,
    tag_writes,
)
from moto import mock_aws

REGION = "ap-northeast-2"
TAGS = {"msa:platform": "eco"}


@pytest.fixture(autouse=True)
def _in_process(monkeypatch):
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")


def groups() -> list:
    return [
        {"name": "eco-lb", "description": "lb", "tags": dict(TAGS, Name="eco-lb"),
         "rules": [{"proto": "tcp", "from_port": 443, "to_port": 443, "cidr": "0.0.0.0/0", "description": "HTTPS"}]},
        {"name": "eco-app", "description": "app", "tags": dict(TAGS, Name="eco-app"),
         "rules": [{"proto": "tcp", "from_port": 8080, "to_port": 8080, "source_group": "eco-lb", "description": "from lb"},
                   {"proto": "-1", "from_port": -1, "to_port": -1, "source_group": "eco-app"}]},
    ]


class Counting:
    """call() for Network over a boto3 client, counting operations."""

    def __init__(self, client):
        self.client, self.calls = client, Counter()

    def __call__(self, operation, _fresh, **request):
        self.calls[operation] += 1
        return getattr(self.client, operation)(**request)


def run(counting, params, check=False):
    network = Network(counting, check_mode=check)
    out = reconcile(network, params)
    return network, out


def params(subnets=None, igw_id=None):
    out = {"vpc": {"name": "eco", "cidr": "10.0.0.0/16", "tags": TAGS, "dns_support": True, "dns_hostnames": True},
           "internet_gateway": {"tags": dict(TAGS, Name="eco-igw")}, "security_groups": groups()}
    if subnets:
        out["route_tables"] = [{"name": "eco-public", "tags": dict(TAGS, Name="eco-public"), "subnets": subnets,
                                "routes": [{"dest": "0.0.0.0/0", "gateway_id": igw_id}]},
                               {"name": "eco-data", "tags": dict(TAGS, Name="eco-data"), "subnets": [], "routes": []}]
    return out


@mock_aws
def test_build_then_converged_costs_one_read_per_kind_and_no_write():
    client = boto3.client("ec2", region_name=REGION)
    counting = Counting(client)
    network, out = run(counting, params())
    assert "create_vpc eco" in network.actions and "create_internet_gateway eco-igw" in network.actions
    vpc = out["vpc"]["id"]
    assert client.describe_vpc_attribute(VpcId=vpc, Attribute="enableDnsHostnames")["EnableDnsHostnames"]["Value"] is True
    subnet = client.create_subnet(VpcId=vpc, CidrBlock="10.0.0.0/24")["Subnet"]["SubnetId"]
    network, out = run(counting, params([subnet], out["internet_gateway"]["id"]))
    assert network.actions == ["create_route_table eco-public", "create_route_table eco-data", "create_route eco-public",
                               f"associate_route_table eco-public {subnet}"]
    app = client.describe_security_groups(GroupIds=[out["security_groups"]["eco-app"]])["SecurityGroups"][0]
    assert rules_of_permissions(app["IpPermissions"]) == {
        ("tcp", 8080, 8080, "group", out["security_groups"]["eco-lb"]): "from lb", ("-1", -1, -1, "group", app["GroupId"]): ""}

    counting.calls.clear()
    network, again = run(counting, params([subnet], out["internet_gateway"]["id"]))
    assert network.actions == [] and again == out
    assert counting.calls == Counter({"describe_vpcs": 1, "describe_vpc_attribute": 2, "describe_internet_gateways": 1,
                                      "describe_security_groups": 1, "describe_route_tables": 1})
    assert network.before == network.after


@mock_aws
def test_drift_is_repaired_with_only_the_difference_and_check_mode_writes_nothing():
    client = boto3.client("ec2", region_name=REGION)
    counting = Counting(client)
    _network, out = run(counting, params())
    vpc, lb, app = out["vpc"]["id"], out["security_groups"]["eco-lb"], out["security_groups"]["eco-app"]
    subnet = client.create_subnet(VpcId=vpc, CidrBlock="10.0.0.0/24")["Subnet"]["SubnetId"]
    run(counting, params([subnet], out["internet_gateway"]["id"]))
    # drift: an extra world-open rule, a lost rule, a changed description, a stray tag, the subnet moved to the data table
    client.authorize_security_group_ingress(GroupId=lb, IpPermissions=[{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
                                                                        "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    client.revoke_security_group_ingress(GroupId=app, IpPermissions=[{"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": app}]}])
    client.create_tags(Resources=[app], Tags=[{"Key": "stray", "Value": "1"}])
    tables = {t["Tags"][0]["Value"] if t.get("Tags") else "": t for t in client.describe_route_tables(
        Filters=[{"Name": "vpc-id", "Values": [vpc]}])["RouteTables"]}
    data = next(t for t in tables.values() if {"Key": "Name", "Value": "eco-data"} in t.get("Tags", []))
    public = next(t for t in tables.values() if {"Key": "Name", "Value": "eco-public"} in t.get("Tags", []))
    assoc = next(a for a in public["Associations"] if a.get("SubnetId") == subnet)
    client.replace_route_table_association(AssociationId=assoc["RouteTableAssociationId"], RouteTableId=data["RouteTableId"])

    before = client.describe_security_groups(GroupIds=[lb])["SecurityGroups"][0]["IpPermissions"]
    preview, _out = run(counting, params([subnet], out["internet_gateway"]["id"]), check=True)
    assert sorted(preview.actions) == sorted(["revoke_security_group_ingress eco-lb", "delete_tags eco-app",
                                              "authorize_security_group_ingress eco-app",
                                              f"replace_route_table_association eco-public {subnet}".rsplit(" ", 1)[0] + " " +
                                              next(a["RouteTableAssociationId"] for t in client.describe_route_tables(
                                                  RouteTableIds=[data["RouteTableId"]])["RouteTables"] for a in t["Associations"]
                                                  if a.get("SubnetId") == subnet)])
    assert client.describe_security_groups(GroupIds=[lb])["SecurityGroups"][0]["IpPermissions"] == before   # nothing written

    counting.calls.clear()
    repair, _out = run(counting, params([subnet], out["internet_gateway"]["id"]))
    assert len(repair.actions) == 4
    assert sum(n for op, n in counting.calls.items() if not op.startswith("describe")) == 4
    converged, _out = run(counting, params([subnet], out["internet_gateway"]["id"]))
    assert converged.actions == []


def test_rule_changes_revoke_authorize_and_redescribe_at_most_once_each():
    have = {("tcp", 22, 22, "cidr", "0.0.0.0/0"): "", ("tcp", 80, 80, "cidr", "10.0.0.0/8"): "old"}
    want = {("tcp", 80, 80, "cidr", "10.0.0.0/8"): "new", ("-1", -1, -1, "group", "sg-1"): "self"}
    planned = rule_changes("sg-9", have, want)
    assert [op for op, _r in planned] == ["revoke_security_group_ingress", "authorize_security_group_ingress",
                                          "update_security_group_rule_descriptions_ingress"]
    assert planned[0][1]["IpPermissions"] == [{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]
    assert planned[1][1]["IpPermissions"] == [{"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": "sg-1", "Description": "self"}]}]
    assert rule_changes("sg-9", want, want) == []


def test_desired_rules_name_groups_not_created_yet():
    rules = [{"proto": "tcp", "from_port": 5432, "to_port": 5432, "source_group": "eco-app"}]
    assert desired_rules(rules, {}) == {("tcp", 5432, 5432, "group", "new:eco-app"): ""}


def test_route_changes_keep_local_and_endpoint_routes():
    have = [{"DestinationCidrBlock": "10.0.0.0/16", "GatewayId": "local", "Origin": "CreateRouteTable"},
            {"DestinationPrefixListId": "pl-1", "GatewayId": "vpce-1", "Origin": "CreateRoute"},
            {"DestinationCidrBlock": "0.0.0.0/0", "NatGatewayId": "nat-old", "Origin": "CreateRoute"},
            {"DestinationCidrBlock": "172.16.0.0/12", "GatewayId": "igw-1", "Origin": "CreateRoute"}]
    planned = route_changes("rtb-1", have, [{"dest": "0.0.0.0/0", "nat_gateway_id": "nat-new"}])
    assert planned == [("delete_route", {"RouteTableId": "rtb-1", "DestinationCidrBlock": "172.16.0.0/12"}),
                       ("replace_route", {"RouteTableId": "rtb-1", "DestinationCidrBlock": "0.0.0.0/0", "NatGatewayId": "nat-new"})]


def test_association_changes_move_free_and_release():
    existing = [{"RouteTableId": "rtb-a", "Associations": [{"SubnetId": "s1", "RouteTableAssociationId": "a1"},
                                                           {"SubnetId": "s3", "RouteTableAssociationId": "a3"}]},
                {"RouteTableId": "rtb-main", "Associations": [{"Main": True, "RouteTableAssociationId": "m"}]}]
    planned = association_changes({"rtb-a": [], "rtb-b": ["s1", "s2"]}, existing, ["rtb-a", "rtb-b"])
    assert planned == [("disassociate_route_table", {"AssociationId": "a3"}),
                       ("replace_route_table_association", {"AssociationId": "a1", "RouteTableId": "rtb-b"}),
                       ("associate_route_table", {"RouteTableId": "rtb-b", "SubnetId": "s2"})]


def test_tag_writes_leave_aws_tags():
    assert tag_writes("r", {"a": "1", "aws:cloudformation:x": "y", "b": "2"}, {"a": "1", "c": 3}) == [
        ("create_tags", {"Resources": ["r"], "Tags": [{"Key": "c", "Value": "3"}]}),
        ("delete_tags", {"Resources": ["r"], "Tags": [{"Key": "b"}]})]


def test_route_changes_compare_on_the_asked_key_and_without_purge_delete_nothing():
    # A route created to an instance describes the instance and its ENI: equal on InstanceId, not replaced.
    vpn = {"DestinationCidrBlock": "10.250.0.0/24", "InstanceId": "i-1", "NetworkInterfaceId": "eni-1", "Origin": "CreateRoute",
           "State": "active"}
    other = {"DestinationCidrBlock": "0.0.0.0/0", "NatGatewayId": "nat-1", "Origin": "CreateRoute"}
    assert route_changes("rtb-1", [vpn, other], [{"dest": "10.250.0.0/24", "instance_id": "i-1"}], purge=False) == []
    assert route_changes("rtb-1", [vpn, other], [{"dest": "10.250.0.0/24", "instance_id": "i-1"}]) == [
        ("delete_route", {"RouteTableId": "rtb-1", "DestinationCidrBlock": "0.0.0.0/0"})]
    # the instance was replaced, or the old one is gone (blackhole): the route points at the new one
    assert route_changes("rtb-1", [vpn], [{"dest": "10.250.0.0/24", "instance_id": "i-2"}], purge=False) == [
        ("replace_route", {"RouteTableId": "rtb-1", "DestinationCidrBlock": "10.250.0.0/24", "InstanceId": "i-2"})]
    assert route_changes("rtb-1", [dict(vpn, State="blackhole")], [{"dest": "10.250.0.0/24", "instance_id": "i-1"}])[0][0] == \
        "replace_route"


@mock_aws
def test_instance_routes_wait_for_the_instance_then_both_layers_agree():
    """The network layer names the VPN server before it exists (route left out, name pending); the compute layer's
    add_routes puts the route in every table of the platform; the network layer then wants the same and writes nothing."""
    client = boto3.client("ec2", region_name=REGION)
    counting = Counting(client)
    _network, out = run(counting, params())
    vpc, igw = out["vpc"]["id"], out["internet_gateway"]["id"]
    subnet = client.create_subnet(VpcId=vpc, CidrBlock="10.0.0.0/24")["Subnet"]["SubnetId"]
    vpn_route = {"dest": "10.250.0.0/24", "instance_name": "eco-bastion-1"}
    tables = params([subnet], igw)["route_tables"]
    for table in tables:
        table["routes"].append(vpn_route)
    network, _out = run(counting, {"vpc_id": vpc, "route_tables": tables})
    assert network.pending == ["eco-bastion-1"]
    assert not any(a.startswith(("create_route eco", "replace_route")) and "10.250" in a for a in network.actions)

    image = client.describe_images()["Images"][0]["ImageId"]
    instance = client.run_instances(ImageId=image, MinCount=1, MaxCount=1, SubnetId=subnet, TagSpecifications=[
        {"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": "eco-bastion-1"}]}])["Instances"][0]["InstanceId"]
    # another VPC's table with the same tags is not ours to touch
    other_vpc = client.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    client.create_route_table(VpcId=other_vpc, TagSpecifications=[{"ResourceType": "route-table", "Tags": [
        {"Key": "msa:platform", "Value": "eco"}]}])
    check, _out = run(counting, {"vpc_id": vpc, "add_routes": {"tags": TAGS, "routes": [vpn_route]}}, check=True)
    assert sorted(check.actions) == ["create_route eco-data", "create_route eco-public"]
    network, added = run(counting, {"vpc_id": vpc, "add_routes": {"tags": TAGS, "routes": [vpn_route]}})
    assert network.actions == check.actions and len(added["add_routes"]) == 2 and network.pending == []
    for table in client.describe_route_tables(RouteTableIds=added["add_routes"])["RouteTables"]:
        assert [r.get("InstanceId") for r in table["Routes"] if r.get("DestinationCidrBlock") == "10.250.0.0/24"] == [instance]
    again, _out = run(counting, {"vpc_id": vpc, "add_routes": {"tags": TAGS, "routes": [vpn_route]}})
    assert again.actions == []
    converged, _out = run(counting, {"vpc_id": vpc, "route_tables": tables})
    assert converged.actions == [] and converged.pending == []
    assert "10.250.0.0/24 -> " + instance in converged.after["route_tables"]["eco-public"]["routes"]
    # access no longer vpn: the network layer's exact routes drop it
    for table in tables:
        table["routes"].remove(vpn_route)
    dropped, _out = run(counting, {"vpc_id": vpc, "route_tables": tables})
    assert sorted(dropped.actions) == ["delete_route eco-data", "delete_route eco-public"]
