"""playbooks/compute.yml against the local AWS emulator: exactly the topology's instances (checked with boto3),
a second run changes nothing, and lowering one pool's count removes that pool's newest nodes only."""
from __future__ import annotations

import pytest
import yaml
from aws_helpers import BIN, ROOT, groups_of, instances, inventory_copy, inventory_list, make_network, plan_of, run, topology, unsafe

LOCAL = ROOT / "inventories" / "local"
PLAYBOOK = ROOT / "playbooks" / "compute.yml"

pytestmark = pytest.mark.emulator


def compute(inventory, *extra):
    result = run([str(BIN / "ansible-playbook"), "-i", str(inventory), str(PLAYBOOK), *extra], timeout=400)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-4000:]
    return out


def recap_changed(out: str) -> int:
    line = next(line for line in out.splitlines() if line.startswith("localhost") and "changed=" in line)
    return int(line.split("changed=")[1].split()[0])


def test_compute_creates_converges_and_scales_one_pool(aws, tmp_path):
    plan = plan_of(LOCAL)
    make_network(plan)
    inventory = inventory_copy(LOCAL, aws, tmp_path)

    compute(inventory)
    found = instances(plan["name"])
    assert sorted(i["name"] for i in found) == sorted(n["name"] for n in plan["nodes"])
    by_name = {i["name"]: i for i in found}
    api = {p["name"]: p["api"] for p in plan["pools"]}
    for node in plan["nodes"]:
        inst = by_name[node["name"]]
        raw, tags = inst["raw"], inst["tags"]
        assert raw["InstanceType"] == node["instance_type"], node["name"]
        assert raw["Placement"]["AvailabilityZone"] == node["az"], node["name"]
        assert raw["MetadataOptions"]["HttpTokens"] == "required"
        assert "IamInstanceProfile" in raw and raw["KeyName"] == "msa-local-admin"
        assert sorted(g["GroupName"] for g in raw["SecurityGroups"]) == sorted(node["security_groups"])
        assert {k: tags[k] for k in ("msa:platform", "msa:pool", "msa:role", "msa:tier")} == {
            "msa:platform": "msa-local", "msa:pool": node["pool"], "msa:role": node["role"], "msa:tier": node["tier"]}
        assert tags.get("msa:api") == api[node["pool"]]
    # the role's Jinja tag encoding round-trips through the inventory plugin's decoder
    listing = inventory_list(inventory, "--flush-cache")
    hostvars = unsafe(listing["_meta"]["hostvars"])
    for node in plan["nodes"]:
        assert hostvars[node["name"]]["msa_node_labels"] == node["labels"], node["name"]
        assert hostvars[node["name"]]["msa_node_taints"] == node["taints"], node["name"]
    groups = groups_of(listing)
    for group, members in plan["groups"].items():
        assert groups.get(group, []) == sorted(members), group

    assert recap_changed(compute(inventory)) == 0

    # postgresql 2 -> 1: only postgresql-2 (the newest postgresql node) goes; every other instance stays as it was
    topo = topology(LOCAL)
    for pool in topo["pools"]:
        if pool["name"] == "postgresql":
            pool["count"] = 1
    extra = tmp_path / "scaled.yml"
    extra.write_text(yaml.safe_dump({"platform": topo}))
    before = {i["name"]: i["id"] for i in instances(plan["name"])}
    out = compute(inventory, "-e", f"@{extra}")
    assert recap_changed(out) > 0
    after = {i["name"]: i["id"] for i in instances(plan["name"])}
    expected = dict(before)
    del expected["msa-local-postgresql-2"]
    assert after == expected
    # compute.yml refreshed the inventory cache: a cached listing no longer shows the removed node
    assert "msa-local-postgresql-2" not in inventory_list(inventory)["_meta"]["hostvars"]
