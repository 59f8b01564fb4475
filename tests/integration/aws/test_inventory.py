"""`ansible-inventory` with msa.platform.aws_cluster against the emulator, for the ecoeco-kubeadm example: nodes
tagged the way aws_compute tags them become the plan's groups with the right host variables."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from aws_helpers import BIN, ROOT, env, groups_of, instances, inventory_copy, inventory_list, launch_nodes, make_network, plan_of, run, unsafe

ECOECO = ROOT / "inventories" / "examples" / "ecoeco-kubeadm"
TEST_INVENTORY = Path(__file__).resolve().parent / "inventories" / "ecoeco"
EXTRA_GROUPS = {"tier_app", "tier_data", "tier_mgmt", "az_ap_northeast_2a"}  # every ecoeco pool has one node, in the first AZ

pytestmark = pytest.mark.emulator


@pytest.fixture
def ecoeco(aws, tmp_path):
    plan = plan_of(ECOECO)
    launch_nodes(plan, make_network(plan))
    return plan, inventory_copy(TEST_INVENTORY, aws, tmp_path)


def test_graph_shows_every_group_of_the_plan(ecoeco):
    plan, inventory = ecoeco
    graph = run([str(BIN / "ansible-inventory"), "-i", str(inventory), "--graph", "--flush-cache"])
    assert graph.returncode == 0, graph.stderr
    shown = {line.split("@", 1)[1].rstrip(":") for line in graph.stdout.splitlines() if "@" in line}
    assert set(plan["groups"]) | EXTRA_GROUPS <= shown
    for name in ("pool_auth", "api_auth", "api_chat", "pool_ai", "k8s_cluster", "control_plane", "workers", "postgresql", "monitoring"):
        assert name in shown


def test_list_matches_the_plan_groups_and_hostvars(ecoeco):
    plan, inventory = ecoeco
    listing = inventory_list(inventory, "--flush-cache")
    groups = groups_of(listing)
    for group, members in plan["groups"].items():
        assert groups.get(group, []) == sorted(members), group
    hostvars = unsafe(listing["_meta"]["hostvars"])
    ids = {i["name"]: i["raw"] for i in instances("ecoeco")}
    api = {p["name"]: p["api"] for p in plan["pools"]}
    assert sorted(h for h in hostvars if h != "localhost") == sorted(n["name"] for n in plan["nodes"])
    for node in plan["nodes"]:
        hv, raw = hostvars[node["name"]], ids[node["name"]]
        assert hv["msa_instance_id"] == raw["InstanceId"]
        assert hv["msa_private_ip"] == raw["PrivateIpAddress"] == hv["ansible_host"]  # no bastion, no public IP
        assert hv["msa_private_dns_name"] == raw["PrivateDnsName"] and raw["PrivateDnsName"].startswith("ip-")  # the node name
        assert (hv["msa_pool"], hv["msa_role"], hv["msa_tier"], hv["msa_az"]) == (node["pool"], node["role"], node["tier"], node["az"])
        assert hv["msa_instance_type"] == node["instance_type"] and hv["msa_api"] == api[node["pool"]]
        assert hv["msa_node_labels"] == node["labels"] and hv["msa_node_taints"] == node["taints"]
    assert hostvars["ecoeco-ai-1"]["msa_node_taints"] == [{"key": "workload", "value": "ai", "effect": "NoSchedule"}]


def test_cache_serves_warm_runs_until_flushed(ecoeco):
    plan, inventory = ecoeco
    first = inventory_list(inventory, "--flush-cache")
    victim = plan["groups"]["pool_redis"][0]
    client_ids = [i["id"] for i in instances("ecoeco") if i["name"] == victim]
    import boto3  # pylint: disable=import-outside-toplevel
    boto3.client("ec2", region_name="ap-northeast-2").terminate_instances(InstanceIds=client_ids)
    warm = inventory_list(inventory)
    assert victim in warm["_meta"]["hostvars"] and warm["_meta"] == first["_meta"]  # served from the cache
    fresh = inventory_list(inventory, "--flush-cache")
    assert victim not in fresh["_meta"]["hostvars"]


def test_missing_credentials_are_a_clear_error(aws, tmp_path):
    inventory = inventory_copy(TEST_INVENTORY, aws, tmp_path)
    bare = {k: v for k, v in env().items() if not k.startswith("AWS_") or k in ("AWS_REGION", "AWS_DEFAULT_REGION")}
    bare.update(AWS_EC2_METADATA_DISABLED="true", AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull)
    result = subprocess.run([str(BIN / "ansible-inventory"), "-i", str(inventory), "--list", "--flush-cache"], cwd=ROOT, env=bare,
                            capture_output=True, text=True, timeout=120, check=False)
    assert "aws_cluster: no AWS credentials for region ap-northeast-2" in result.stderr, result.stderr
