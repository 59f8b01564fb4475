"""The pure half of the aws_cluster inventory: tag encoding, instance records, groups and host variables."""
from __future__ import annotations

import datetime

from ansible_collections.msa.platform.plugins.module_utils.aws_cluster_inventory import (
    build_hosts,
    decode_labels,
    decode_taints,
    ec2_filters,
    encode_labels,
    encode_taints,
    host_groups,
    host_vars,
    instance_record,
    node_tags,
)
from ansible_collections.msa.platform.plugins.module_utils.topology import build_plan
from hypothesis import given
from hypothesis import strategies as st

NAME = st.from_regex(r"\A[A-Za-z0-9]([-A-Za-z0-9_.]{0,10}[A-Za-z0-9])?\Z")
KEY = st.one_of(NAME, st.tuples(st.from_regex(r"\A[a-z0-9]{1,8}(\.[a-z0-9]{1,8}){0,2}\Z"), NAME).map("/".join))
VALUE = st.one_of(st.just(""), NAME)
EFFECT = st.sampled_from(["NoSchedule", "PreferNoSchedule", "NoExecute"])


@given(st.dictionaries(KEY, VALUE, max_size=6))
def test_labels_round_trip(labels):
    assert decode_labels(encode_labels(labels)) == labels


@given(st.lists(st.fixed_dictionaries({"key": KEY, "value": VALUE, "effect": EFFECT}), max_size=5))
def test_taints_round_trip(taints):
    assert decode_taints(encode_taints(taints)) == taints


def test_encoding_is_kubectl_like_and_sorted():
    assert encode_labels({"workload": "api", "api": "auth"}) == "api=auth,workload=api"
    assert encode_taints([{"key": "api", "value": "auth", "effect": "NoSchedule"}, {"key": "x", "value": "", "effect": "NoExecute"}]) \
        == "api=auth:NoSchedule,x=:NoExecute"
    assert decode_labels(None) == {} and decode_taints("") == []
    assert decode_taints("garbage,k=v:NoSchedule") == [{"key": "k", "value": "v", "effect": "NoSchedule"}]


def instance(name, role, pool, tier="app", az="ap-northeast-2a", ip="10.0.4.10", public=None, api=None, launch=0, labels=None, taints=None):
    tags = {"Name": name, "msa:platform": "p", "msa:pool": pool, "msa:role": role, "msa:tier": tier}
    if api:
        tags["msa:api"] = api
    if labels:
        tags["msa:labels"] = labels
    if taints:
        tags["msa:taints"] = taints
    inst = {"InstanceId": f"i-{name}-{launch}", "InstanceType": "t3.small", "State": {"Name": "running"}, "Placement": {"AvailabilityZone": az},
            "PrivateIpAddress": ip, "PrivateDnsName": "ip-" + ip.replace(".", "-") + ".ap-northeast-2.compute.internal",
            "VpcId": "vpc-1", "SubnetId": "subnet-1",
            "LaunchTime": datetime.datetime(2026, 1, 1, 0, launch, tzinfo=datetime.UTC),
            "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}
    if public:
        inst["PublicIpAddress"] = public
    return instance_record(inst, "ap-northeast-2")


def test_record_keeps_only_what_the_inventory_uses():
    rec = instance("p-auth-1", "api", "auth", api="auth", public="203.0.113.9")
    assert rec["id"] == "i-p-auth-1-0" and rec["public_ip"] == "203.0.113.9" and rec["launch_time"] == "2026-01-01T00:00:00+00:00"
    assert rec["tags"]["msa:api"] == "auth" and "Placement" not in rec
    assert host_vars(rec)["msa_private_dns_name"] == "ip-" + rec["private_ip"].replace(".", "-") + ".ap-northeast-2.compute.internal"
    # an instance EC2 has not given a DNS name yet (pending) answers "": no name rather than an empty one
    assert host_vars(instance_record({"InstanceId": "i-1", "PrivateDnsName": ""}, "ap-northeast-2"))["msa_private_dns_name"] is None


def test_groups_follow_the_plan_names():
    assert host_groups(instance("p-master-1", "control_plane", "master")) == ["k8s_cluster", "control_plane", "pool_master", "tier_app",
                                                                              "az_ap_northeast_2a"]
    assert host_groups(instance("p-my-api-1", "api", "my-api", api="my-api")) == ["k8s_cluster", "workers", "pool_my_api", "api_my_api",
                                                                                  "tier_app", "az_ap_northeast_2a"]
    assert host_groups(instance("p-pg-1", "postgresql", "pg", tier="data", az="ap-northeast-2c"))[:2] == ["postgresql", "pool_pg"]


def test_hosts_of_a_plan_match_the_plan_groups():
    """Instances tagged by node_tags (what aws_compute writes) give exactly the plan's groups."""
    topo = {"name": "shop", "region": "ap-northeast-2", "network": {"cidr": "10.0.0.0/16", "azs": 2, "tiers": ["public", "app", "data"],
                                                                    "admin_cidrs": ["203.0.113.0/24"]},
            "pools": [{"name": "master", "role": "control_plane", "count": 1}, {"name": "auth", "role": "api", "count": 2},
                      {"name": "worker", "role": "worker", "count": 2}, {"name": "postgresql", "role": "postgresql", "count": 2}]}
    plan, errors = build_plan(topo)
    assert not errors, errors
    api = {p["name"]: p["api"] for p in plan["pools"]}
    records = []
    for i, node in enumerate(plan["nodes"]):
        tags = node_tags(plan["name"], node, api[node["pool"]], plan["tags"])
        records.append(instance_record({"InstanceId": f"i-{i}", "Placement": {"AvailabilityZone": node["az"]}, "PrivateIpAddress": f"10.0.4.{i}",
                                        "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}, "ap-northeast-2"))
    groups = {}
    for name, hvars, host_groups_, _dummy in build_hosts(records):
        for group in host_groups_:
            groups.setdefault(group, []).append(name)
        node = next(n for n in plan["nodes"] if n["name"] == name)
        assert hvars["msa_node_labels"] == node["labels"] and hvars["msa_node_taints"] == node["taints"]
    for group, members in plan["groups"].items():
        assert sorted(groups.get(group, [])) == sorted(members), group


def test_ansible_host_through_the_bastion_else_public_else_private():
    bastion = instance("p-bastion-1", "bastion", "bastion", tier="public", ip="10.0.0.5", public="203.0.113.5")
    node = instance("p-pg-1", "postgresql", "postgresql", ip="10.0.8.7", public="198.51.100.7")
    hosts = {h[0]: h[1] for h in build_hosts([bastion, node], bastion_user="ops")}
    assert hosts["p-pg-1"]["ansible_host"] == "10.0.8.7"
    assert hosts["p-pg-1"]["ansible_ssh_common_args"] == "-o ProxyJump=ops@203.0.113.5"
    assert hosts["p-bastion-1"]["ansible_host"] == "203.0.113.5" and "ansible_ssh_common_args" not in hosts["p-bastion-1"]
    alone = {h[0]: h[1] for h in build_hosts([node])}
    assert alone["p-pg-1"]["ansible_host"] == "198.51.100.7"
    ssm = {h[0]: h[1] for h in build_hosts([node], host_source="ssm")}
    assert ssm["p-pg-1"]["ansible_connection"] == "community.aws.aws_ssm" and ssm["p-pg-1"]["ansible_host"] == "i-p-pg-1-0"


def test_duplicate_names_keep_the_oldest():
    old, new = instance("p-pg-1", "postgresql", "pg", launch=1), instance("p-pg-1", "postgresql", "pg", launch=5)
    names = [h[0] for h in build_hosts([new, old])]
    assert names == ["p-pg-1", "p-pg-1_i-p-pg-1-5"]
    assert [h[0] for h in build_hosts([old], hostname_source="instance_id")] == ["i-p-pg-1-1"]


def test_filters_are_server_side():
    assert ec2_filters("shop", ["running"], {"tag:msa:tier": "data"}) == [
        {"Name": "tag:msa:platform", "Values": ["shop"]}, {"Name": "instance-state-name", "Values": ["running"]},
        {"Name": "tag:msa:tier", "Values": ["data"]}]
    assert ec2_filters("shop", []) == [{"Name": "tag:msa:platform", "Values": ["shop"]}]
