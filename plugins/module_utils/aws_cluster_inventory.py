# Copyright: msa.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""EC2 instances -> inventory hosts, groups and host variables (the msa.platform.aws_cluster plugin).

Pure functions, no AWS and no Ansible objects, so unit tests import them directly:

    record = instance_record(instance, region)        # one DescribeInstances item -> compact dict
    hosts = build_hosts(records, host_source="auto")  # [(hostname, hostvars, groups)]

The compact record is also what the inventory cache stores, so a warm run never needs boto3.

Tag encoding (written by the aws_compute role, read here):
  Name          <platform>-<pool>-<n>       the inventory hostname
  msa:platform  platform name               the server-side filter
  msa:pool / msa:role / msa:tier / msa:api  the pool, its role, tier and API (api pools only)
  msa:labels    k=v,k2=v2                   Kubernetes node labels, sorted by key
  msa:taints    k=v:Effect,k2=:Effect       Kubernetes node taints, in pool order
Label and taint keys and values never contain ',', '=' or ':' (Kubernetes forbids them), so the
encoding is unambiguous. One tag each keeps a node within AWS's 50-tag limit; a value is at most
256 characters, which aws_compute checks before launching.
"""
from __future__ import annotations

TAG_NAME = "Name"
TAG_PLATFORM = "msa:platform"
TAG_POOL = "msa:pool"
TAG_ROLE = "msa:role"
TAG_TIER = "msa:tier"
TAG_API = "msa:api"
TAG_LABELS = "msa:labels"
TAG_TAINTS = "msa:taints"
TAG_VALUE_MAX = 256

K8S_ROLES = frozenset(("control_plane", "worker", "api"))
# Groups that always exist (possibly empty), the same names the plan uses (docs/plan.md `groups`).
FIXED_GROUPS = ("k8s_cluster", "control_plane", "workers", "postgresql", "redis", "rabbitmq", "kafka", "monitoring", "bastion", "ci")
HOST_SOURCES = ("auto", "private_ip", "public_ip", "ssm")
HOSTNAME_SOURCES = ("name", "instance_id", "private_ip")


def group_name(name: str) -> str:
    """Ansible group names take no '-' (same rule as the plan)."""
    return name.replace("-", "_").replace(".", "_")


# ------------------------------------------------------------------ tag encoding
def encode_labels(labels: dict) -> str:
    return ",".join(f"{key}={labels[key]}" for key in sorted(labels))


def encode_taints(taints: list) -> str:
    return ",".join("{}={}:{}".format(t["key"], t.get("value") or "", t["effect"]) for t in taints)


def decode_labels(value: str | None) -> dict:
    """'a=1,b=' -> {'a': '1', 'b': ''}; items without '=' are ignored."""
    labels = {}
    for item in (value or "").split(","):
        key, sep, val = item.partition("=")
        if sep and key:
            labels[key] = val
    return labels


def decode_taints(value: str | None) -> list:
    """'k=v:NoSchedule,k2:NoExecute' -> [{'key': 'k', 'value': 'v', 'effect': 'NoSchedule'}, ...]."""
    taints = []
    for item in (value or "").split(","):
        spec, sep, effect = item.rpartition(":")
        if not sep or not spec or not effect:
            continue
        key, _sep, val = spec.partition("=")
        taints.append({"key": key, "value": val, "effect": effect})
    return taints


def node_tags(platform: str, node: dict, api=None, extra=None) -> dict:
    """Every tag of one node, as aws_compute writes them (a reference for tests and docs)."""
    tags = dict(extra or {})
    tags.update({TAG_NAME: node["name"], TAG_PLATFORM: platform, TAG_POOL: node["pool"], TAG_ROLE: node["role"], TAG_TIER: node["tier"]})
    if api:
        tags[TAG_API] = api
    if node.get("labels"):
        tags[TAG_LABELS] = encode_labels(node["labels"])
    if node.get("taints"):
        tags[TAG_TAINTS] = encode_taints(node["taints"])
    return tags


# ------------------------------------------------------------------ instances
def instance_record(inst: dict, region: str) -> dict:
    """The few fields the inventory uses from one DescribeInstances instance (boto3 shape)."""
    tags = {t["Key"]: t["Value"] for t in inst.get("Tags") or ()}
    launch = inst.get("LaunchTime")
    return {
        "id": inst["InstanceId"],
        "region": region,
        "az": (inst.get("Placement") or {}).get("AvailabilityZone"),
        "type": inst.get("InstanceType"),
        "state": (inst.get("State") or {}).get("Name"),
        "private_ip": inst.get("PrivateIpAddress"),
        "private_dns": inst.get("PrivateDnsName") or None,
        "public_ip": inst.get("PublicIpAddress"),
        "vpc_id": inst.get("VpcId"),
        "subnet_id": inst.get("SubnetId"),
        "launch_time": launch.isoformat() if hasattr(launch, "isoformat") else launch,
        "tags": tags,
    }


def ec2_filters(platform: str, states, extra=None) -> list:
    """Server-side filters of the one DescribeInstances call per region."""
    filters = [{"Name": "tag:" + TAG_PLATFORM, "Values": [platform]}]
    if states:
        filters.append({"Name": "instance-state-name", "Values": list(states)})
    for name, values in sorted((extra or {}).items()):
        filters.append({"Name": name, "Values": list(values) if isinstance(values, (list, tuple)) else [values]})
    return filters


def host_groups(rec: dict) -> list:
    """Groups of one host: cluster membership, role, pool, API, tier and AZ."""
    tags = rec["tags"]
    role = tags.get(TAG_ROLE)
    groups = []
    if role in K8S_ROLES:
        groups.append("k8s_cluster")
        groups.append("control_plane" if role == "control_plane" else "workers")
    elif role:
        groups.append(group_name(role))
    pool = tags.get(TAG_POOL)
    if pool:
        groups.append("pool_" + group_name(pool))
    api = tags.get(TAG_API)
    if api:
        groups.append("api_" + group_name(api))
    tier = tags.get(TAG_TIER)
    if tier:
        groups.append("tier_" + group_name(tier))
    if rec.get("az"):
        groups.append("az_" + group_name(rec["az"]))
    return groups


def host_vars(rec: dict) -> dict:
    """Host variables of one host (ansible_host is added by build_hosts).

    Kept small on purpose: Ansible visits and tags every value a plugin sets, and `ansible-inventory`
    serializes each one, so every string here costs time per host. The raw tags are available to
    `compose`, `groups` and `keyed_groups` as `tags` without being stored.
    """
    tags = rec["tags"]
    return {
        "msa_instance_id": rec["id"],
        "msa_region": rec["region"],
        "msa_az": rec["az"],
        "msa_instance_type": rec["type"],
        "msa_private_ip": rec["private_ip"],
        "msa_private_dns_name": rec.get("private_dns"),
        "msa_public_ip": rec["public_ip"],
        "msa_pool": tags.get(TAG_POOL),
        "msa_role": tags.get(TAG_ROLE),
        "msa_tier": tags.get(TAG_TIER),
        "msa_api": tags.get(TAG_API),
        "msa_node_labels": decode_labels(tags.get(TAG_LABELS)),
        "msa_node_taints": decode_taints(tags.get(TAG_TAINTS)),
    }


def _hostname(rec: dict, source: str) -> str:
    if source == "instance_id":
        return rec["id"]
    if source == "private_ip":
        return rec["private_ip"] or rec["id"]
    return rec["tags"].get(TAG_NAME) or rec["id"]


def _bastion(records: list):
    """The oldest running bastion with a public IP, or None."""
    found = [r for r in records if r["tags"].get(TAG_ROLE) == "bastion" and r["public_ip"]]
    return min(found, key=lambda r: (r["launch_time"] or "", r["id"])) if found else None


def connection_vars(rec: dict, source: str, bastion, bastion_user: str) -> dict:
    """How Ansible reaches the host.

    auto: through the bastion (private IP + ProxyJump) when the platform has one, else the public IP,
    else the private IP. ssm: the instance id with the community.aws.aws_ssm connection.
    """
    if source == "ssm":
        return {"ansible_host": rec["id"], "ansible_connection": "community.aws.aws_ssm", "ansible_aws_ssm_region": rec["region"]}
    if source == "private_ip":
        return {"ansible_host": rec["private_ip"]}
    if source == "public_ip":
        return {"ansible_host": rec["public_ip"] or rec["private_ip"]}
    if bastion is not None and bastion is not rec:
        return {"ansible_host": rec["private_ip"],
                "ansible_ssh_common_args": "-o ProxyJump={}@{}".format(bastion_user, bastion["public_ip"])}
    return {"ansible_host": rec["public_ip"] or rec["private_ip"]}


def build_hosts(records: list, host_source: str = "auto", hostname_source: str = "name", bastion_user: str = "admin") -> list:
    """[(hostname, hostvars, groups, record)] in a stable order (hostname, then launch time).

    When two instances claim one name (a replacement still running, a manual copy), the oldest keeps
    the name and the others get `<name>_<instance-id>`, so no host is silently dropped.
    """
    ordered = sorted(records, key=lambda r: (_hostname(r, hostname_source), r["launch_time"] or "", r["id"]))
    bastion = _bastion(records) if host_source == "auto" else None
    hosts, seen = [], set()
    for rec in ordered:
        name = _hostname(rec, hostname_source)
        if name in seen:
            name = f"{name}_{rec['id']}"
        seen.add(name)
        hvars = host_vars(rec)
        hvars.update(connection_vars(rec, host_source, bastion, bastion_user))
        hosts.append((name, hvars, host_groups(rec), rec))
    return hosts
