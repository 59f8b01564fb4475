"""The plan a valid topology turns into: examples, subnets, nodes, groups, security groups, services."""
from __future__ import annotations

import copy
import ipaddress
import json
import random
from pathlib import Path

import pytest
import yaml
from ansible_collections.msa.platform.plugins.module_utils.topology import build_plan
from topology_cases import eks, kubeadm, net, pool, svc

ROOT = Path(__file__).resolve().parents[4]
EXAMPLES = sorted((ROOT / "inventories").glob("*/group_vars/all/topology.yml")) + sorted(
    (ROOT / "inventories" / "examples").glob("*/group_vars/all/topology.yml"))


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text())["platform"]


def plan_of(topology: dict, **kw) -> dict:
    plan, errors = build_plan(topology, **kw)
    assert errors == []
    return plan


def example(name: str) -> dict:
    return plan_of(load(ROOT / "inventories" / "examples" / name / "group_vars" / "all" / "topology.yml"))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.parts[-4])
def test_examples_validate(path):
    plan, errors = build_plan(load(path))
    assert errors == []
    assert plan["nodes"] or plan["pools"]


def test_examples_are_all_there():
    names = {p.parts[-4] for p in EXAMPLES}
    assert {"ecoeco-kubeadm", "courm-eks", "domains-eks", "minimal-kubeadm", "local"} <= names


def test_ecoeco_is_fourteen_nodes_with_one_dedicated_node_per_api():
    plan = example("ecoeco-kubeadm")
    assert len(plan["nodes"]) == 14
    assert plan["kubernetes"] == {"mode": "kubeadm", "version": "1.37", "cni": "calico", "pod_cidr": "192.168.0.0/16",
                                  "service_cidr": "10.96.0.0/12", "control_plane_endpoint": "node", "api_port": 6443,
                                  "node_name": "private_dns", "calico": {"encapsulation": "VXLANCrossSubnet", "mtu": 8951},
                                  "upgrade": {"worker_batch": "20%", "drain_timeout": 300},
                                  "cluster_name": "ecoeco",
                                  "etcd_backup": {"schedule": "hourly", "keep": 24, "s3": True, "s3_retention_days": 30}}
    master = plan["groups"]["control_plane"]
    assert master == ["ecoeco-master-1"]
    assert next(n for n in plan["nodes"] if n["name"] == "ecoeco-master-1")["instance_type"] == "t3.large"
    apis = ["auth", "my", "scan", "character", "location", "info", "chat"]
    for api in apis:
        assert plan["groups"]["api_" + api] == [f"ecoeco-{api}-1"]
        node = next(n for n in plan["nodes"] if n["name"] == f"ecoeco-{api}-1")
        assert node["labels"] == {"api": api, "workload": "api"}
        assert node["taints"] == [{"key": "api", "value": api, "effect": "NoSchedule"}]
    assert sorted(plan["groups"]["workers"]) == sorted([f"ecoeco-{a}-1" for a in apis] + ["ecoeco-storage-1", "ecoeco-ai-1"])
    for role in ("postgresql", "redis", "rabbitmq", "monitoring"):
        assert plan["groups"][role] == [f"ecoeco-{role}-1"]
    assert {s["tier"] for s in plan["network"]["subnets"]} == {"public", "app", "data", "mgmt"}


def test_courm_is_eks_with_node_groups_replica_and_kraft_kafka():
    plan = example("courm-eks")
    assert plan["kubernetes"]["mode"] == "eks" and "cni" not in plan["kubernetes"] and "pod_cidr" not in plan["kubernetes"]
    groups = [p for p in plan["pools"] if p["managed"]]
    assert {p["name"] for p in groups} == {"general", "batch"}
    assert all(p["instance_type"] == "t3.medium" for p in groups)
    assert next(p for p in groups if p["name"] == "batch")["capacity_type"] == "SPOT"
    assert plan["groups"]["k8s_cluster"] == []          # EKS names node-group instances itself
    assert {s["tier"] for s in plan["network"]["subnets"]} == {"public", "app", "data", "mgmt", "mq"}
    assert len(plan["network"]["subnets"]) == 5 * 3
    pg, redis = plan["services"]["postgresql"], plan["services"]["redis"]
    assert pg["managed"] and pg["identifier"] == "courm-postgresql" and pg["replica_identifiers"] == ["courm-postgresql-replica-1"]
    assert redis["managed"] and redis["replicas"] == 1 and redis["multi_az"]   # RDS + ElastiCache, as the courm seed runs them
    kafka = plan["services"]["kafka"]
    assert kafka["nodes"] == kafka["controller_nodes"] == [f"courm-kafka-{i}" for i in (1, 2, 3)]
    assert {n["az"] for n in plan["nodes"] if n["role"] == "kafka"} == set(plan["network"]["azs"])
    assert "redis" in plan["services"] and "monitoring" in plan["services"]


def test_domains_have_namespace_database_and_node_group_each():
    plan = example("domains-eks")
    for domain in ("order", "product", "user"):
        p = next(p for p in plan["pools"] if p["name"] == domain)
        assert p["managed"] and p["namespace"] == domain and p["api"] == domain
        assert p["taints"] == [{"key": "api", "value": domain, "effect": "NoSchedule"}]
        assert p["min_size"] == 2 and p["max_size"] == 4
    owners = {d["owner"] for d in plan["services"]["postgresql"]["databases"]}
    assert owners == {"order", "product", "user_svc"}


def test_minimal_is_one_control_plane_and_one_worker():
    plan = example("minimal-kubeadm")
    assert [n["name"] for n in plan["nodes"]] == ["mini-cp-1", "mini-worker-1"]
    assert plan["services"] == {}


def test_local_topology_is_small_ecoeco_shape():
    # Sized for make demo on 2 cores: every node becomes a local test host (playbooks/hosts.yml).
    plan = plan_of(load(ROOT / "inventories" / "local" / "group_vars" / "all" / "topology.yml"))
    count = {}
    for node in plan["nodes"]:
        count[node["role"]] = count.get(node["role"], 0) + 1
    assert count == {"control_plane": 1, "worker": 1, "postgresql": 2, "redis": 3, "rabbitmq": 3, "monitoring": 1}
    assert plan["region"] == "ap-northeast-2"
    assert plan["services"]["redis"]["sentinel"]["enabled"] is True
    # the test hosts' bridge holds the VPC range: it must stay clear of molecule's 10.213.0.0/24
    assert not ipaddress.ip_network(plan["network"]["cidr"]).overlaps(ipaddress.ip_network("10.213.0.0/24"))


# ---------------------------------------------------------------- subnets

def test_subnets_fit_the_vpc_and_never_overlap():
    plan = plan_of(kubeadm())
    vpc = ipaddress.ip_network(plan["network"]["cidr"])
    nets = [ipaddress.ip_network(s["cidr"]) for s in plan["network"]["subnets"]]
    assert len(nets) == 5 * 2
    assert all(n.subnet_of(vpc) for n in nets)
    assert all(not a.overlaps(b) for i, a in enumerate(nets) for b in nets[i + 1:])
    first = plan["network"]["subnets"][0]
    assert first == {"name": "shop-public-a", "tier": "public", "az": "ap-northeast-2a", "az_index": 0, "cidr": "10.0.0.0/24", "public": True}
    assert [s["name"] for s in plan["network"]["subnets"][:4]] == ["shop-public-a", "shop-public-c", "shop-app-a", "shop-app-c"]


def test_adding_an_az_or_appending_a_tier_moves_no_subnet():
    before = {s["name"]: s["cidr"] for s in plan_of(kubeadm())["network"]["subnets"]}
    t = kubeadm()
    net(t).update(azs=3)
    after = {s["name"]: s["cidr"] for s in plan_of(t)["network"]["subnets"]}
    assert all(after[name] == cidr for name, cidr in before.items())
    assert len(after) == 15
    t = kubeadm()
    net(t).update(tiers=["public", "app", "data"])
    pool(t, "mq").update(tier="data")
    pool(t, "kafka").update(tier="data")
    pool(t, "mon").update(tier="app")
    three = {s["name"]: s["cidr"] for s in plan_of(t)["network"]["subnets"]}
    assert all(before[name] == cidr for name, cidr in three.items())


def test_mixed_prefixes_align():
    t = kubeadm()
    net(t).update(tier_prefix={"public": 26, "app": 20})
    subnets = plan_of(t)["network"]["subnets"]
    for s in subnets:
        ipaddress.ip_network(s["cidr"])  # strict: aligned
    app = [s["cidr"] for s in subnets if s["tier"] == "app"]
    assert app == ["10.0.16.0/20", "10.0.32.0/20"]


def test_az_names_option_wins():
    plan = plan_of(kubeadm(), az_names=["ap-northeast-2d", "ap-northeast-2b", "ap-northeast-2a"])
    assert plan["network"]["azs"] == ["ap-northeast-2d", "ap-northeast-2b"]
    assert plan["network"]["subnets"][0]["name"] == "shop-public-d"


# ---------------------------------------------------------------- nodes and groups

def test_nodes_are_named_spread_and_placed_in_their_tier():
    t = kubeadm()
    pool(t, "kafka")["count"] = 5
    pool(t, "kafka")["tier"] = "mq"
    plan = plan_of(t)
    kafka = [n for n in plan["nodes"] if n["pool"] == "kafka"]
    assert [n["name"] for n in kafka] == [f"shop-kafka-{i}" for i in range(1, 6)]
    assert [n["az"] for n in kafka] == ["ap-northeast-2a", "ap-northeast-2c"] * 2 + ["ap-northeast-2a"]
    subnets = {s["name"]: s for s in plan["network"]["subnets"]}
    for node in plan["nodes"]:
        assert subnets[node["subnet"]]["tier"] == node["tier"]
        assert subnets[node["subnet"]]["az"] == node["az"]


def test_groups_cover_every_node_consistently():
    plan = plan_of(kubeadm())
    names = {n["name"] for n in plan["nodes"]}
    for node in plan["nodes"]:
        assert node["name"] in plan["groups"]["pool_" + node["pool"].replace("-", "_")]
    assert set(plan["groups"]["k8s_cluster"]) == set(plan["groups"]["control_plane"]) | set(plan["groups"]["workers"])
    assert not set(plan["groups"]["control_plane"]) & set(plan["groups"]["workers"])
    assert all(set(members) <= names for members in plan["groups"].values())
    assert plan["groups"]["api_auth"] == ["shop-auth-1"]
    assert plan["groups"]["bastion"] == []


def test_group_names_replace_dashes():
    t = kubeadm()
    pool(t, "auth").update(name="auth-v2")
    plan = plan_of(t)
    assert plan["groups"]["pool_auth_v2"] == plan["groups"]["api_auth_v2"] == ["shop-auth-v2-1"]


def test_bastion_flag_adds_a_bastion_node_and_ssh_goes_through_it():
    t = kubeadm()
    net(t)["bastion"] = True
    plan = plan_of(t)
    assert plan["groups"]["bastion"] == ["shop-bastion-1"]
    node = next(n for n in plan["nodes"] if n["role"] == "bastion")
    assert node["tier"] == "public" and node["security_groups"] == ["shop-bastion"]
    sgs = {g["name"]: g for g in plan["security_groups"]}
    ssh = [r for r in sgs["shop-node"]["rules"] if r["from_port"] == 22]
    assert ssh == [{"proto": "tcp", "from_port": 22, "to_port": 22, "source_group": "shop-bastion", "description": "SSH from the bastion"}]
    assert [r.get("cidr") for r in sgs["shop-bastion"]["rules"] if r["from_port"] == 22] == ["203.0.113.0/24"]


# ---------------------------------------------------------------- security groups

DATA_PORTS = {"shop-postgresql": {5432}, "shop-redis": {6379, 26379}, "shop-rabbitmq": {5672}, "shop-kafka": {9092}}


@pytest.mark.parametrize("bastion", [False, True])
def test_security_groups_are_least_privilege(bastion):
    t = kubeadm()
    net(t)["bastion"] = bastion
    pool(t, "cache")["count"] = 3
    svc(t, "redis")["sentinel"] = {"enabled": True}
    plan = plan_of(t)
    sgs = {g["name"]: g for g in plan["security_groups"]}
    for group in sgs.values():
        for rule in group["rules"]:
            assert ("cidr" in rule) != ("source_group" in rule)
            if "source_group" in rule:
                assert rule["source_group"] in sgs, rule
            if rule.get("cidr") == "0.0.0.0/0":
                assert group["name"] == "shop-lb" and rule["from_port"] in (80, 443)
            if rule["from_port"] == 22:
                assert rule.get("source_group") == "shop-bastion" if bastion and group["name"] != "shop-bastion" else rule["cidr"] == "203.0.113.0/24"
            if rule["from_port"] in (6443, 10250, 2379, 179, 5473):
                assert rule["source_group"] in ("shop-k8s", "shop-control-plane")
            if rule["from_port"] in (9100, 9187, 9121, 15692, 9308):
                assert rule["source_group"] == "shop-monitoring"
    for name, ports in DATA_PORTS.items():
        sources = {r["source_group"] for r in sgs[name]["rules"] if r["from_port"] in ports}
        assert sources == {"shop-app", name}, (name, sources)
        assert not [r for r in sgs[name]["rules"] if r["from_port"] in ports and "cidr" in r]
    for p in plan["pools"]:
        assert all(g in sgs for g in p["security_groups"])
    assert sgs["shop-app"]["rules"] == []
    assert pool_sgs(plan, "auth") == ["shop-node", "shop-k8s", "shop-app"]
    assert pool_sgs(plan, "cp") == ["shop-node", "shop-k8s", "shop-control-plane"]
    assert pool_sgs(plan, "pg") == ["shop-node", "shop-postgresql"]


def pool_sgs(plan, name):
    return next(p for p in plan["pools"] if p["name"] == name)["security_groups"]


def test_eks_security_groups():
    plan = plan_of(eks())
    sgs = {g["name"]: g for g in plan["security_groups"]}
    assert "shop-control-plane" not in sgs
    assert {"proto": "-1", "from_port": -1, "to_port": -1, "source_group": "shop-k8s",
            "description": "node to node and pod traffic (VPC CNI)"} in sgs["shop-k8s"]["rules"]
    assert "shop-monitoring" not in sgs
    assert all(r["from_port"] != 9187 for r in sgs["shop-postgresql"]["rules"])  # no monitoring, no exporter rule


def _ports(rules):
    """{(proto, from_port, source)} of a rule list: what a security group lets in, from where."""
    return {(r["proto"], r["from_port"], r.get("source_group") or r.get("cidr")) for r in rules}


CALICO_INGRESS = {
    # encapsulation: (ingress of shop-k8s from the cluster and the pod CIDR, source/dest check of Kubernetes pools, mtu)
    "VXLAN": ({("tcp", 10250, "shop-k8s"), ("tcp", 5473, "shop-k8s"), ("udp", 4789, "shop-k8s"), ("tcp", 30000, "shop-k8s")}, True, 8951),
    "IPIP": ({("tcp", 10250, "shop-k8s"), ("tcp", 5473, "shop-k8s"), ("4", -1, "shop-k8s"), ("tcp", 179, "shop-k8s"),
              ("tcp", 30000, "shop-k8s")}, True, 8981),
    "VXLANCrossSubnet": ({("-1", -1, "shop-k8s"), ("-1", -1, "192.168.0.0/16")}, False, 8951),
    "IPIPCrossSubnet": ({("-1", -1, "shop-k8s"), ("-1", -1, "192.168.0.0/16")}, False, 8981),
    "None": ({("-1", -1, "shop-k8s"), ("-1", -1, "192.168.0.0/16")}, False, 9001),
}


@pytest.mark.parametrize("encapsulation", sorted(CALICO_INGRESS))
def test_calico_encapsulation_opens_only_what_it_needs(encapsulation):
    t = kubeadm()
    net(t)["azs"] = 1  # None needs one subnet
    t["kubernetes"] = {"calico": {"encapsulation": encapsulation}}
    plan = plan_of(t)
    ingress, check, mtu = CALICO_INGRESS[encapsulation]
    assert plan["kubernetes"]["calico"] == {"encapsulation": encapsulation, "mtu": mtu}
    k8s = {g["name"]: g for g in plan["security_groups"]}["shop-k8s"]
    from_lb = {("tcp", 30000, "shop-lb"), ("tcp", 10256, "shop-lb")}
    assert _ports(k8s["rules"]) == ingress | from_lb
    for p in plan["pools"]:
        assert p["source_dest_check"] is (check if p["kubernetes"] else True), p["name"]
        assert p["imds_hop_limit"] == 1


def test_calico_mtu_given_is_kept():
    t = kubeadm()
    t["kubernetes"] = {"calico": {"mtu": 1450}}
    assert plan_of(t)["kubernetes"]["calico"] == {"encapsulation": "VXLANCrossSubnet", "mtu": 1450}


@pytest.mark.parametrize(("count", "given", "resolved"), [
    (1, None, "node"), (3, None, "nlb"), (5, "auto", "nlb"), (1, "nlb", "nlb"), (3, "local_proxy", "local_proxy"), (1, "node", "node")])
def test_control_plane_endpoint_resolves(count, given, resolved):
    t = kubeadm()
    pool(t, "cp")["count"] = count
    if given:
        t["kubernetes"] = {"control_plane_endpoint": given}
    plan = plan_of(t)
    assert plan["kubernetes"]["control_plane_endpoint"] == resolved
    assert plan["kubernetes"]["api_port"] == 6443 and plan["kubernetes"]["node_name"] == "private_dns"
    assert plan["kubernetes"]["cluster_name"] == "shop"
    plane = {g["name"]: g for g in plan["security_groups"]}["shop-control-plane"]
    app = [s["cidr"] for s in plan["network"]["subnets"] if s["tier"] == "app"]
    nlb = {("tcp", 6443, cidr) for cidr in app}
    assert _ports(plane["rules"]) == {("tcp", 6443, "shop-k8s"), ("tcp", 2379, "shop-control-plane")} | (nlb if resolved == "nlb" else set())


def test_api_port_moves_every_api_rule():
    t = kubeadm()
    pool(t, "cp")["count"] = 3
    t["kubernetes"] = {"api_port": 8443}
    plane = {g["name"]: g for g in plan_of(t)["security_groups"]}["shop-control-plane"]
    assert {r["from_port"] for r in plane["rules"]} == {8443, 2379}


def test_imds_hop_limit_is_per_pool():
    t = kubeadm()
    pool(t, "general")["imds_hop_limit"] = 2
    plan = plan_of(t)
    assert {p["name"]: p["imds_hop_limit"] for p in plan["pools"]} == {p["name"]: 2 if p["name"] == "general" else 1 for p in plan["pools"]}


def test_eks_keeps_its_version_default_and_has_no_kubeadm_keys():
    t = eks()
    del t["kubernetes"]["version"]
    k8s = plan_of(t)["kubernetes"]
    assert k8s["version"] == "1.35" and k8s["cluster_name"] == "shop"
    assert not {"control_plane_endpoint", "api_port", "node_name", "calico"} & set(k8s)
    assert all(p["source_dest_check"] for p in plan_of(t)["pools"])


def test_eks_defaults():
    topo = eks()
    del topo["kubernetes"]["version"]
    pool(topo, "general")["instance_type"] = "t4g.medium"
    plan = plan_of(topo)
    k8s = plan["kubernetes"]
    assert (k8s["version"], k8s["endpoint_private_access"], k8s["logging"], k8s["admin_principals"]) == (
        "1.35", True, ["api", "audit", "authenticator"], [])
    managed = {p["name"]: p for p in plan["pools"] if p["managed"]}
    assert managed["general"]["ami_type"] == "AL2023_ARM_64_STANDARD"
    assert {p["ami_type"] for n, p in managed.items() if n != "general"} == {"AL2023_x86_64_STANDARD"}
    assert {(p["max_unavailable"], p["imds_hop_limit"]) for p in managed.values()} == {(1, 1)}
    assert all("ami_type" not in p for p in plan["pools"] if not p["managed"])


def test_mode_none_has_no_cluster_groups():
    t = {"name": "data", "region": "eu-west-1", "kubernetes": {"mode": "none"}, "network": {"admin_cidrs": ["203.0.113.0/24"]},
         "pools": [{"name": "pg", "role": "postgresql"}]}
    plan = plan_of(t)
    assert [g["name"] for g in plan["security_groups"]] == ["data-node", "data-postgresql"]
    assert plan["kubernetes"] == {"mode": "none"}


# ---------------------------------------------------------------- services

def test_service_defaults():
    t = kubeadm()
    pool(t, "cache")["count"] = 5
    svc(t, "redis")["sentinel"] = {"enabled": True}
    svc(t, "postgresql")["databases"] = [{"name": "orders"}, {"name": "users", "owner": "svc_users"}]
    plan = plan_of(t)
    s = plan["services"]
    assert s["redis"]["sentinel"] == {"enabled": True, "quorum": 3, "port": 26379, "master_name": "shop",
                                      "nodes": [f"shop-cache-{i}" for i in range(1, 6)]}
    assert s["postgresql"]["databases"] == [{"name": "orders", "owner": "orders"}, {"name": "users", "owner": "svc_users"}]
    assert s["kafka"]["replication_factor"] == 3 and s["kafka"]["min_insync_replicas"] == 2
    assert s["rabbitmq"]["cluster"] is False and s["rabbitmq"]["vhosts"] == ["/"]
    assert s["monitoring"]["exporters"] == {"node": 9100, "postgresql": 9187, "redis": 9121, "rabbitmq": 15692, "kafka": 9308}


def test_single_node_kafka_when_allowed():
    t = kubeadm()
    pool(t, "kafka")["count"] = 1
    svc(t, "kafka")["allow_single_node"] = True
    kafka = plan_of(t)["services"]["kafka"]
    assert kafka["controllers"] == 1 and kafka["replication_factor"] == 1 and kafka["min_insync_replicas"] == 1


# ---------------------------------------------------------------- determinism

def _shuffled(value, rng):
    if isinstance(value, dict):
        items = list(value.items())
        rng.shuffle(items)
        return {k: _shuffled(v, rng) for k, v in items}
    if isinstance(value, list):
        return [_shuffled(v, rng) for v in value]
    return value


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.parts[-4])
def test_same_topology_same_plan(path):
    topology = load(path)
    first = plan_of(copy.deepcopy(topology))
    assert plan_of(copy.deepcopy(topology)) == first
    shuffled = plan_of(_shuffled(topology, random.Random(7)))
    assert json.dumps(shuffled) == json.dumps(first)   # same content and same key order
    assert json.loads(json.dumps(first)) == first      # plain data
    assert topology == load(path)                      # the input is not modified
