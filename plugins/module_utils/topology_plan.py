# Copyright: msa.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Assembly of the plan (docs/plan.md) from a topology that passed every check in topology.py."""
from __future__ import annotations

from ansible_collections.msa.platform.plugins.module_utils.topology_domains import add_databases, plan_access, plan_domains
from ansible_collections.msa.platform.plugins.module_utils.topology_k8s import group_name
from ansible_collections.msa.platform.plugins.module_utils.topology_net import az_suffix
from ansible_collections.msa.platform.plugins.module_utils.topology_schema import K8S_ROLES, ROLE_DEFAULTS
from ansible_collections.msa.platform.plugins.module_utils.topology_services import build_services
from ansible_collections.msa.platform.plugins.module_utils.topology_sg import native_routing, security_groups

FIXED_GROUPS = ("k8s_cluster", "control_plane", "workers", "postgresql", "redis", "rabbitmq", "kafka", "monitoring", "bastion", "ci")


def node_name(platform: str, pool: str, index: int) -> str:
    return f"{platform}-{pool}-{index}"


def assemble(ctx) -> dict:
    """The plan of a topology that passed every check (`ctx`: topology._Context)."""
    data, name = ctx.data, ctx.name
    net = data["network"]
    pools = [p for _dummy, p in ctx.pools]
    if net["bastion"] and not any(p["role"] == "bastion" for p in pools):
        itype, volume, _dummy = ROLE_DEFAULTS["bastion"]
        pools.append({"name": "bastion", "role": "bastion", "count": 1, "instance_type": itype, "tier": "public",
                      "volume_size": volume, "imds_hop_limit": 1, "api": None, "namespace": None, "labels": {}, "taints": []})
    roles = {p["role"] for p in pools}
    net = dict(net, bastion="bastion" in roles)
    ordered_tiers = list(net["tiers"])
    subnets = []
    for tier in ordered_tiers:
        for idx, az in enumerate(ctx.azs):
            subnets.append({"name": f"{name}-{tier}-{az_suffix(ctx.region, az)}", "tier": tier, "az": az, "az_index": idx,
                            "cidr": ctx.subnets[tier][idx], "public": tier == "public"})
    subnet_of = {(s["tier"], s["az_index"]): s["name"] for s in subnets}
    k8s = {"mode": ctx.mode}
    if ctx.mode != "none":
        k8s.update((k, v) for k, v in data["kubernetes"].items() if k != "mode")
        k8s["cluster_name"] = name
    groups_sg, per_role = security_groups(name, ctx.mode, roles, net, data["services"], k8s, _plane_subnets(pools, subnets))
    plan_pools, nodes = [], []
    for pool in pools:
        plan_pools.append(_plan_pool(ctx.mode, pool, per_role[pool["role"]], k8s, net["access"]))
        if ctx.mode == "eks" and pool["role"] in K8S_ROLES:
            continue
        for n in range(1, pool["count"] + 1):
            idx = (n - 1) % len(ctx.azs)
            nodes.append({"name": node_name(name, pool["name"], n), "pool": pool["name"], "role": pool["role"], "index": n,
                          "tier": pool["tier"], "az": ctx.azs[idx], "subnet": subnet_of[(pool["tier"], idx)],
                          "instance_type": pool["instance_type"], "security_groups": list(per_role[pool["role"]]),
                          "labels": dict(sorted(pool["labels"].items())), "taints": [dict(t) for t in pool["taints"]]})
    nodes_by_role = {}
    for node in nodes:
        nodes_by_role.setdefault(node["role"], []).append(node["name"])
    tags = {"msa:platform": name}
    tags.update(sorted(data["tags"].items()))
    domains = plan_domains(name, ctx.mode, data.get("domains") or [])
    services = build_services(name, data["services"], nodes_by_role)
    add_databases(services, domains)
    return {
        "name": name,
        "region": ctx.region,
        "tags": tags,
        "kubernetes": k8s,
        "network": {"cidr": net["cidr"], "azs": list(ctx.azs), "tiers": ordered_tiers, "nat": net["nat"],
                    "admin_cidrs": list(net["admin_cidrs"]), "data_internet": net["data_internet"],
                    "bastion": net["bastion"], "subnets": subnets, **plan_access(net, nodes)},
        "pools": plan_pools,
        "nodes": nodes,
        "groups": _groups(plan_pools, nodes),
        "security_groups": groups_sg,
        "services": services,
        "domains": domains,
    }


def _plan_pool(mode: str, pool: dict, sgs: list, kubernetes: dict, access: str) -> dict:
    k8s = pool["role"] in K8S_ROLES
    out = {key: pool[key] for key in ("name", "role", "count", "instance_type", "tier", "volume_size", "imds_hop_limit")}
    # Calico's native routing sends pod addresses from and to the nodes, and the VPN server forwards its clients'
    # addresses into the VPC and back: EC2 drops those unless the check is off.
    out["source_dest_check"] = not ((k8s and mode == "kubeadm" and native_routing(kubernetes["calico"]["encapsulation"]))
                                    or (pool["role"] == "bastion" and access == "vpn"))
    out.update(security_groups=list(sgs), kubernetes=k8s, managed=mode == "eks" and k8s,
               api=pool["api"], namespace=pool["namespace"], labels=dict(sorted(pool["labels"].items())),
               taints=[{"key": t["key"], "value": t["value"], "effect": t["effect"]} for t in pool["taints"]])
    if out["managed"]:
        out.update(capacity_type=pool["capacity_type"], min_size=pool["min_size"], max_size=pool["max_size"],
                   ami_type=pool["ami_type"], max_unavailable=pool["max_unavailable"])
    return out


def _plane_subnets(pools: list, subnets: list) -> list:
    """CIDRs of the control-plane pool's tier (where the API load balancer lives), in AZ order."""
    tiers = [p["tier"] for p in pools if p["role"] == "control_plane"]
    return [s["cidr"] for s in subnets if tiers and s["tier"] == tiers[0]]


def _groups(pools: list, nodes: list) -> dict:
    groups = {g: [] for g in FIXED_GROUPS}
    for pool in pools:
        groups["pool_" + group_name(pool["name"])] = []
    for pool in pools:
        if pool["api"]:
            groups["api_" + group_name(pool["api"])] = []
    api_of = {p["name"]: p["api"] for p in pools}
    for node in nodes:
        role = node["role"]
        if role in K8S_ROLES:
            groups["k8s_cluster"].append(node["name"])
            groups["control_plane" if role == "control_plane" else "workers"].append(node["name"])
        else:
            groups[role].append(node["name"])
        groups["pool_" + group_name(node["pool"])].append(node["name"])
        if api_of[node["pool"]]:
            groups["api_" + group_name(api_of[node["pool"]])].append(node["name"])
    return groups
