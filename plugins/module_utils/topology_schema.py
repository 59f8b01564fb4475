# Copyright: msa.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The topology schema: every field, its type, default and allowed values, in one table.

`shape()` walks a raw topology against the schema: it rejects unknown keys (suggesting the closest
known one), wrong types and values outside `choices`, fills static defaults, and leaves `None` where a
value was invalid so the semantic checks that follow can skip it. `schema_rows()` flattens the table
for docs/topology.md, which a unit test holds equal to it.
"""
from __future__ import annotations

import copy
import difflib
import ipaddress
import re
from dataclasses import dataclass

ROLES = ("control_plane", "worker", "api", "postgresql", "redis", "rabbitmq", "kafka", "monitoring", "bastion", "ci")
K8S_ROLES = ("control_plane", "worker", "api")
SERVICE_ROLES = ("postgresql", "redis", "rabbitmq", "kafka", "monitoring")
SINGLE_POOL_ROLES = ("control_plane", "postgresql", "redis", "rabbitmq", "kafka", "monitoring", "bastion", "ci")
TIERS = ("public", "app", "data", "mgmt", "mq")
MODES = ("kubeadm", "eks", "none")
TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
ANY_MODE = ("kubeadm", "eks")
ENDPOINTS = ("auto", "node", "nlb", "local_proxy")
ENCAPSULATIONS = ("VXLANCrossSubnet", "IPIPCrossSubnet", "VXLAN", "IPIP", "None")
# Bytes each Calico encapsulation adds to a packet; the pod MTU is the VPC's jumbo-frame MTU minus it.
VPC_MTU = 9001
ENCAPSULATION_OVERHEAD = {"VXLANCrossSubnet": 50, "VXLAN": 50, "IPIPCrossSubnet": 20, "IPIP": 20, "None": 0}
EKS_LOG_TYPES = ("api", "audit", "authenticator", "controllerManager", "scheduler")
EKS_AMI_TYPES = ("AL2023_x86_64_STANDARD", "AL2023_ARM_64_STANDARD")

# Per-role defaults of a pool: instance type, volume size (GiB), preferred tiers (first one listed wins).
ROLE_DEFAULTS = {
    "control_plane": ("t3.large", 30, ("app",)),
    "worker": ("t3.medium", 30, ("app",)),
    "api": ("t3.small", 30, ("app",)),
    "postgresql": ("t3.medium", 50, ("data",)),
    "redis": ("t3.small", 30, ("data",)),
    "rabbitmq": ("t3.small", 30, ("mq", "data")),
    "kafka": ("t3.medium", 50, ("mq", "data")),
    "monitoring": ("t3.medium", 50, ("mgmt", "app")),
    "bastion": ("t3.micro", 8, ("public",)),
    "ci": ("t3.large", 50, ("mgmt", "app")),
}


class _Required:
    def __repr__(self) -> str:
        return "required"


REQUIRED = _Required()


@dataclass(frozen=True)
class Dynamic:
    """A default computed from other fields; `text` says how (shown in docs/topology.md)."""

    text: str


@dataclass(frozen=True)
class Field:
    """One node of the schema.

    kind: str | int | bool | cidr | list | dict (known keys in `fields`) | map (any string keys,
    values typed by `item`). `modes` limits a field to some kubernetes modes. A string is never empty
    unless `allow_empty` says so: an empty value is an error, not a way to get the default. `pattern`
    must match the whole value (a final newline included).
    """

    kind: str
    doc: str
    default: object = None
    choices: tuple = ()
    item: Field | None = None
    fields: tuple = ()
    modes: tuple = ()
    minimum: int | None = None
    maximum: int | None = None
    pattern: str = ""
    pattern_hint: str = ""
    allow_empty: bool = False


def _f(kind, doc, default=None, **kw):
    return Field(kind=kind, doc=doc, default=default, **kw)


def _port(default, doc):
    return _f("int", doc, default, minimum=1024, maximum=65535)


_TAINT = _f("dict", "A Kubernetes taint.", fields=(
    ("key", _f("str", "Taint key: a qualified name like a label key.", REQUIRED)),
    ("value", _f("str", "Taint value: label-value rules, may be empty.", "", allow_empty=True)),
    ("effect", _f("str", "What the scheduler does with pods that do not tolerate it.", REQUIRED, choices=TAINT_EFFECTS)),
))

_POOL = _f("dict", "A pool of identical EC2 nodes.", fields=(
    ("name", _f("str", "Pool name, a DNS label; nodes are named <platform>-<pool>-<n>.", REQUIRED)),
    ("role", _f("str", "What the nodes do.", REQUIRED, choices=ROLES)),
    ("count", _f("int", "Number of nodes.", 1, minimum=1, maximum=100)),
    ("instance_type", _f("str", "EC2 instance type, family.size (t3.large).", Dynamic("by role"))),
    ("tier", _f("str", "Subnet tier the nodes live in; must be listed in network.tiers.", Dynamic("by role"), choices=TIERS)),
    ("volume_size", _f("int", "Root volume size in GiB.", Dynamic("by role"), minimum=8, maximum=16384)),
    ("api", _f("str", "API served by an api pool (a DNS label); api pools only.", Dynamic("pool name"))),
    ("namespace", _f("str", "Kubernetes namespace of that API; api pools only.", Dynamic("api name"))),
    ("labels", _f("map", "Kubernetes node labels; Kubernetes pools only; values may be empty.",
                  Dynamic("api pools: {workload: api, api: <api>}; others: {}"), item=_f("str", "Label value.", allow_empty=True))),
    ("taints", _f("list", "Kubernetes node taints; Kubernetes pools only.",
                  Dynamic("api pools: [{key: api, value: <api>, effect: NoSchedule}]; others: []"), item=_TAINT)),
    ("capacity_type", _f("str", "EKS managed node group capacity.", "ON_DEMAND", choices=("ON_DEMAND", "SPOT"), modes=("eks",))),
    ("min_size", _f("int", "EKS node group minimum size.", Dynamic("count"), minimum=0, maximum=100, modes=("eks",))),
    ("max_size", _f("int", "EKS node group maximum size.", Dynamic("count"), minimum=1, maximum=100, modes=("eks",))),
    ("ami_type", _f("str", "EKS node group AMI type (Amazon Linux 2023; EKS publishes no AL2 AMIs for 1.33+).",
                    Dynamic("AL2023_ARM_64_STANDARD for Graviton types (t4g, m7g...), else AL2023_x86_64_STANDARD"),
                    choices=EKS_AMI_TYPES, modes=("eks",))),
    ("max_unavailable", _f("int", "EKS node group update_config: nodes replaced at once during an update.", 1,
                           minimum=1, maximum=100, modes=("eks",))),
    ("imds_hop_limit", _f("int", "IMDSv2 response hop limit of the pool's nodes (EC2 instances, or the EKS node group's launch "
                          "template): 1 keeps the node's IAM credentials from pods; raise it (2) only for a pool whose pods must "
                          "reach IMDS themselves (no IRSA).", 1, minimum=1, maximum=64)),
))

_DATABASE = _f("dict", "A PostgreSQL database.", fields=(
    ("name", _f("str", "Database name: [a-z_][a-z0-9_]{0,62}.", REQUIRED)),
    ("owner", _f("str", "Owning role (created without a password in the topology; secrets live elsewhere).", Dynamic("database name"))),
))

_TIME = r"[1-9][0-9]*(ms|s|m|h|d|w|y)"

ACCESS_MODES = ("direct", "bastion", "ssm", "vpn")

# Domains (docs/topology.md "Domains"): H3 owns the base fields, H6 the AWS ones; the item is their sum.
_DOMAIN_BASE_FIELDS = (
    ("name", _f("str", "Domain name, a DNS label (order, product, user).", REQUIRED)),
    ("namespace", _f("str", "Kubernetes namespace of the domain's workloads.", Dynamic("domain name"))),
)
_LIFECYCLE_RULE = _f("dict", "An S3 lifecycle rule.", fields=(
    ("id", _f("str", "Rule id, unique in the bucket (1-255 characters).", REQUIRED, pattern=r"[^\x00-\x1f]{1,255}",
              pattern_hint="1 to 255 characters, no control characters")),
    ("prefix", _f("str", "Object key prefix the rule applies to; empty: the whole bucket.", "", allow_empty=True,
                  pattern=r"[^\x00-\x1f]{0,1024}", pattern_hint="at most 1024 characters, no control characters")),
    ("expire_days", _f("int", "Delete objects this many days after creation (2555: 7-year retention).", Dynamic("never"),
                       minimum=1, maximum=36500)),
    ("glacier_days", _f("int", "Move objects to S3 Glacier Flexible Retrieval after this many days.", Dynamic("never"),
                        minimum=0, maximum=36500)),
    ("noncurrent_days", _f("int", "Delete previous versions (versioned bucket) this many days after they are replaced.",
                           Dynamic("never"), minimum=1, maximum=36500)),
))
_ECR_FIELDS = (
    ("repositories", _f("list", "Repository names (one per service): lowercase, digits, . _ - separators.", REQUIRED,
                        item=_f("str", "Repository name."))),
    ("keep_images", _f("int", "Lifecycle policy: keep the newest N images.", 30, minimum=1, maximum=10000)),
    ("untagged_days", _f("int", "Lifecycle policy: expire untagged images after D days.", 14, minimum=1, maximum=3650)),
    ("scan_on_push", _f("bool", "Scan images for vulnerabilities on push.", True)),
    ("immutable_tags", _f("bool", "Image tags cannot be overwritten.", True)),
)
_BUCKET_FIELDS = (
    ("suffix", _f("str", "Last part of the bucket name (bucket names are global: make it unique).", Dynamic("the AWS account id"))),
    ("versioning", _f("bool", "Keep object versions.", True)),
    ("lifecycle", _f("list", "Lifecycle rules.", [], item=_LIFECYCLE_RULE)),
)
_DOMAIN_DATABASE_FIELDS = (
    ("name", _f("str", "Database name: [a-z_][a-z0-9_]{0,62}.", Dynamic("domain name, '-' as '_'"))),
    ("owner", _f("str", "Owning role.", Dynamic("database name"))),
)
_IAM_FIELDS = (
    ("enabled", _f("bool", "Create the role.", True)),
    ("service_account", _f("str", "Kubernetes service account (in the domain's namespace) that assumes it (IRSA on EKS).",
                           Dynamic("domain name"))),
)
_DOMAIN_AWS_FIELDS = (
    ("ecr", _f("dict", "ECR repositories of the domain's services, <platform>/<domain>/<repository>.", Dynamic("none"),
               fields=_ECR_FIELDS)),
    ("bucket", _f("dict", "An S3 bucket <platform>-<domain>-<suffix>: SSE-S3 encrypted, public access blocked, owner-enforced.",
                  Dynamic("none"), fields=_BUCKET_FIELDS)),
    ("database", _f("dict", "A database (and owner role) on the platform's PostgreSQL, added to services.postgresql.databases.",
                    Dynamic("none"), fields=_DOMAIN_DATABASE_FIELDS)),
    ("iam", _f("dict", "The domain's workload IAM role <platform>-<domain>-workload: its own bucket and repositories only.",
               Dynamic("a role when the domain has ecr or a bucket (eks)"), modes=("eks",), fields=_IAM_FIELDS)),
)
_DOMAIN = _f("dict", "A business domain: its namespace and its own AWS resources.", fields=_DOMAIN_BASE_FIELDS + _DOMAIN_AWS_FIELDS)

SCHEMA = _f("dict", "The whole platform.", REQUIRED, fields=(
    ("name", _f("str", "Platform name; prefixes every AWS Name tag, node name and security group.", REQUIRED,
                pattern=r"[a-z][a-z0-9-]{0,21}[a-z0-9]",
                pattern_hint="2-23 characters: a lowercase letter, then lowercase letters, digits or '-', not ending with '-'")),
    ("region", _f("str", "AWS region, e.g. ap-northeast-2.", REQUIRED)),
    ("tags", _f("map", "Extra AWS tags on every resource (not Name, aws:*, msa:*); values may be empty.", {}, item=_f("str", "Tag value.", allow_empty=True))),
    ("kubernetes", _f("dict", "The Kubernetes cluster.", {}, fields=(
        ("mode", _f("str", "kubeadm (self-managed), eks (managed) or none (no cluster).", "kubeadm", choices=MODES)),
        ("version", _f("str", "Kubernetes minor version, quoted: \"1.37\".", Dynamic("kubeadm: 1.37; eks: 1.35"), modes=ANY_MODE,
                       pattern=r"1\.[0-9]{2}", pattern_hint="'1.<minor>' quoted, e.g. \"1.37\"")),
        ("cni", _f("str", "CNI plugin installed by the platform.", "calico", choices=("calico",), modes=("kubeadm",))),
        ("pod_cidr", _f("cidr", "Pod network; one /24 per node is carved from it.", "192.168.0.0/16", modes=("kubeadm",))),
        ("service_cidr", _f("cidr", "Service ClusterIP range.", Dynamic("kubeadm: 10.96.0.0/12; eks: 172.20.0.0/16"), modes=ANY_MODE)),
        ("control_plane_endpoint", _f("str", "How clients reach the API: auto (1 control plane: node, 3+: nlb), node (the one control-plane "
                                      "node), nlb (internal NLB <platform>-api), local_proxy (a proxy on every node).", "auto",
                                      choices=ENDPOINTS, modes=("kubeadm",))),
        ("api_port", _f("int", "Port of the Kubernetes API on the control-plane nodes and the NLB.", 6443, minimum=1024, maximum=65535,
                        modes=("kubeadm",))),
        ("node_name", _f("str", "What Kubernetes names a node: its EC2 private DNS name (what cloud-provider-aws requires).", "private_dns",
                         choices=("private_dns",), modes=("kubeadm",))),
        ("calico", _f("dict", "Calico networking.", {}, modes=("kubeadm",), fields=(
            ("encapsulation", _f("str", "Pod traffic between nodes: *CrossSubnet encapsulates only across subnets (native inside one), "
                                 "VXLAN/IPIP always, None never (one subnet only).", "VXLANCrossSubnet", choices=ENCAPSULATIONS)),
            ("mtu", _f("int", "Pod interface MTU.", Dynamic("9001 minus the encapsulation overhead (VXLAN 50, IPIP 20, None 0)"),
                       minimum=1280, maximum=VPC_MTU)),
        ))),
        ("endpoint_public_access", _f("bool", "Expose the EKS API endpoint publicly (to public_access_cidrs only).", False, modes=("eks",))),
        ("public_access_cidrs", _f("list", "CIDRs allowed to reach a public EKS endpoint.", [], item=_f("cidr", "CIDR."), modes=("eks",))),
        ("endpoint_private_access", _f("bool", "Reach the EKS API endpoint from inside the VPC (nodes, bastion).", True, modes=("eks",))),
        ("logging", _f("list", "EKS control-plane log types sent to CloudWatch Logs.", ["api", "audit", "authenticator"],
                       item=_f("str", "Log type.", choices=EKS_LOG_TYPES), modes=("eks",))),
        ("admin_principals", _f("list", "IAM role/user ARNs given cluster-admin through EKS access entries (the cluster creator "
                                "always is).", [], item=_f("str", "IAM principal ARN."), modes=("eks",))),
    ))),
    ("network", _f("dict", "The VPC.", {}, fields=(
        ("cidr", _f("cidr", "VPC CIDR, /16 to /28, private range.", "10.0.0.0/16")),
        ("azs", _f("int", "Number of availability zones.", 2, minimum=1, maximum=6)),
        ("az_names", _f("list", "Explicit AZ names (the first `azs` are used).", Dynamic("from region"), item=_f("str", "AZ name."))),
        ("az_slots", _f("int", "Subnets each tier reserves room for, so adding an AZ never moves a subnet.", 4, minimum=1, maximum=16)),
        ("tiers", _f("list", "Subnet tiers, allocated in this order: append new tiers at the end.",
                     ["public", "app", "data"], item=_f("str", "Tier.", choices=TIERS))),
        ("tier_prefix", _f("dict", "Prefix length of each tier's subnets.", {}, fields=tuple(
            (t, _f("int", f"Subnet prefix length of the {t} tier.", 24, minimum=16, maximum=28)) for t in TIERS))),
        ("nat", _f("str", "NAT gateways: one, one per AZ, or none.", "single", choices=("single", "per_az", "none"))),
        ("admin_cidrs", _f("list", "Where SSH (or the bastion) may be reached from; not empty, together at most a /8 of addresses.", REQUIRED,
                           item=_f("cidr", "CIDR."))),
        ("bastion", _f("bool", "Add a bastion host (pool 'bastion' unless one is declared); SSH then goes through it.", False)),
        ("data_internet", _f("bool", "Give the data tier a route to the internet (through NAT, so not with nat: none).", False)),
        ("access", _f("str", "How operators reach the nodes: direct (SSH from admin_cidrs), bastion (SSH through the bastion), ssm "
                      "(AWS Systems Manager sessions, no SSH ingress) or vpn (OpenVPN server on the bastion node).",
                      Dynamic("bastion when network.bastion is true, else direct"), choices=ACCESS_MODES)),
        ("vpn", _f("dict", "OpenVPN settings (network.access: vpn).", {}, fields=(
            ("client_cidr", _f("cidr", "Addresses given to VPN clients; private, outside the VPC.", "10.250.0.0/24")),
            ("port", _f("int", "UDP port of the OpenVPN server (from admin_cidrs only).", 1194, minimum=1, maximum=65535)),
            ("users", _f("list", "Client profiles generated (one per user, a DNS label).", [], item=_f("str", "User name."))),
        ))),
    ))),
    ("pools", _f("list", "Node pools; every EC2 node comes from one.", REQUIRED, item=_POOL)),
    ("services", _f("dict", "Settings of the services run on the pools; a section needs a pool of that role.", {}, fields=(
        ("postgresql", _f("dict", "PostgreSQL (first node primary, the others streaming replicas).", {}, fields=(
            ("version", _f("int", "Major version.", 15, minimum=12, maximum=17)),
            ("port", _port(5432, "Listen port.")),
            ("max_connections", _f("int", "max_connections.", 100, minimum=10, maximum=10000)),
            ("synchronous_replication", _f("bool", "Synchronous commit to one replica (needs count >= 2).", False)),
            ("databases", _f("list", "Databases to create.", [], item=_DATABASE)),
        ))),
        ("redis", _f("dict", "Redis (first node primary, the others replicas).", {}, fields=(
            ("port", _port(6379, "Listen port.")),
            ("maxmemory_mb", _f("int", "maxmemory in MiB, 0 = no limit.", 0, minimum=0, maximum=1048576)),
            ("maxmemory_policy", _f("str", "Eviction policy.", "noeviction", choices=(
                "noeviction", "allkeys-lru", "allkeys-lfu", "allkeys-random", "volatile-lru", "volatile-lfu",
                "volatile-random", "volatile-ttl"))),
            ("sentinel", _f("dict", "Redis Sentinel, one sentinel per Redis node.", {}, fields=(
                ("enabled", _f("bool", "Run Sentinel (needs an odd count >= 3).", False)),
                ("quorum", _f("int", "Sentinels that must agree the primary is down.", Dynamic("majority of the sentinels"), minimum=1)),
                ("port", _port(26379, "Sentinel port.")),
                ("master_name", _f("str", "Name of the monitored primary.", Dynamic("platform name"),
                                   pattern=r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", pattern_hint="letters, digits, '_', '.', '-'")),
            ))),
        ))),
        ("rabbitmq", _f("dict", "RabbitMQ (a cluster when count > 1).", {}, fields=(
            ("port", _port(5672, "AMQP port.")),
            ("management", _f("bool", "Enable the management UI (15672, reachable like SSH).", True)),
            ("vhosts", _f("list", "Virtual hosts to create.", ["/"], item=_f("str", "vhost."))),
        ))),
        ("kafka", _f("dict", "Kafka in KRaft mode (combined broker+controller on the first `controllers` nodes).", {}, fields=(
            ("version", _f("str", "Kafka version (pin kafka_archive_sha512 of the kafka role with it).", "3.7.2",
                           pattern=r"[0-9]+\.[0-9]+\.[0-9]+", pattern_hint="X.Y.Z")),
            ("port", _port(9092, "Broker port.")),
            ("controller_port", _port(9093, "KRaft controller port.")),
            ("controllers", _f("int", "KRaft controllers: odd, >= 3.", Dynamic("3 when count >= 3, else count"), minimum=1)),
            ("allow_single_node", _f("bool", "Allow a 1-controller dev cluster (no fault tolerance).", False)),
            ("replication_factor", _f("int", "default.replication.factor.", Dynamic("min(3, count)"), minimum=1)),
            ("min_insync_replicas", _f("int", "min.insync.replicas.", Dynamic("max(1, replication_factor - 1)"), minimum=1)),
            ("partitions", _f("int", "num.partitions.", 3, minimum=1, maximum=10000)),
        ))),
        ("monitoring", _f("dict", "Prometheus (+ Alertmanager, Grafana) on the monitoring pool.", {}, fields=(
            ("port", _port(9090, "Prometheus port.")),
            ("retention", _f("str", "TSDB retention.", "15d", pattern=_TIME, pattern_hint="a duration like 15d")),
            ("scrape_interval", _f("str", "Scrape interval.", "30s", pattern=_TIME, pattern_hint="a duration like 30s")),
            ("alertmanager", _f("bool", "Run Alertmanager.", True)),
            ("alertmanager_port", _port(9093, "Alertmanager port.")),
            ("grafana", _f("bool", "Run Grafana.", False)),
            ("grafana_port", _port(3000, "Grafana port.")),
        ))),
    ))),
    ("domains", _f("list", "Business domains (namespace, ECR repositories, S3 bucket, database, workload IAM role).", [], item=_DOMAIN)),
))


# ---------------------------------------------------------------- paths and messages

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def join(path: str, key) -> str:
    """Path of `key` under `path`: `pools[0].name`, `pools[0].labels['app.kubernetes.io/name']`."""
    if isinstance(key, int) and not isinstance(key, bool):
        return f"{path}[{key}]"
    if isinstance(key, str) and _IDENT.fullmatch(key):
        return f"{path}.{key}" if path else key
    return "{}[{!r}]".format(path or "platform", key)


def type_name(value) -> str:
    if value is None:
        return "null"
    return {bool: "bool", int: "int", float: "float", str: "string", list: "list", dict: "mapping"}.get(type(value), type(value).__name__)


def closest(word, candidates) -> str:
    """' (did you mean 'x'?)' when a candidate is close to `word`, else ''."""
    if not isinstance(word, str):
        return ""
    match = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    if not match:
        match = [c for c in candidates if c.lower() == word.lower()]
    return f" (did you mean {match[0]!r}?)" if match else ""


def field_allowed(field: Field, mode) -> bool:
    """Whether `field` applies in `mode`; an unknown (invalid) mode allows everything, to avoid noise."""
    return mode is None or not field.modes or mode in field.modes


# ---------------------------------------------------------------- shape checking

def _scalar(value, field: Field, path: str, errors: list):
    kind = field.kind
    if kind in ("str", "cidr"):
        if not isinstance(value, str):
            hint = f"; quote it in YAML (unquoted, YAML reads it as a {type_name(value)})" if isinstance(value, (int, float)) else ""
            errors.append(f"{path}: expected a string, got {type_name(value)} {value!r}{hint}")
            return None
        if value == "" and not field.allow_empty:
            if field.default is REQUIRED:
                fix = "it is required"
            elif path.endswith("]"):
                fix = "give a value or remove the entry"
            else:
                fix = "give a value, or leave the key out to get the default"
            errors.append(f"{path}: empty string; {fix}")
            return None
    elif kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            errors.append(f"{path}: expected an integer, got {type_name(value)} {value!r}; write a number without quotes")
            return None
        if field.minimum is not None and value < field.minimum:
            errors.append(f"{path}: {value} is below the minimum {field.minimum}")
            return None
        if field.maximum is not None and value > field.maximum:
            errors.append(f"{path}: {value} is above the maximum {field.maximum}")
            return None
    elif kind == "bool" and not isinstance(value, bool):
        errors.append(f"{path}: expected true or false, got {type_name(value)} {value!r}")
        return None
    if field.choices and value not in field.choices:
        errors.append("{}: {!r} is not one of {}{}".format(path, value, ", ".join(field.choices), closest(value, field.choices)))
        return None
    if field.pattern and not re.fullmatch(field.pattern, value):
        errors.append(f"{path}: {value!r} is not valid: expected {field.pattern_hint or field.pattern}")
        return None
    if kind == "cidr":
        return _cidr(value, path, errors)
    return value


def _cidr(value: str, path: str, errors: list):
    try:
        net = ipaddress.ip_network(value, strict=False)
    except ValueError:
        errors.append(f"{path}: {value!r} is not a CIDR; write it like 10.0.0.0/16")
        return None
    if net.version != 4:
        errors.append(f"{path}: {value!r} is IPv6; only IPv4 CIDRs are supported")
        return None
    if "/" not in value:
        errors.append(f"{path}: {value!r} has no prefix length; write {net.with_prefixlen}")
        return None
    if str(net) != value:
        errors.append(f"{path}: {value!r} has host bits set; did you mean {net}?")
        return None
    return value


def shape(value, field: Field, path: str, errors: list, mode=None):
    """Check `value` against `field`; return the value with static defaults filled, None where invalid."""
    if field.kind == "dict":
        if not isinstance(value, dict):
            errors.append("{}: expected a mapping, got {}".format(path or "platform", type_name(value)))
            return None
        return _shape_dict(value, field, path, errors, mode)
    if field.kind == "list":
        if not isinstance(value, list):
            errors.append(f"{path}: expected a list, got {type_name(value)}")
            return None
        return [shape(v, field.item, join(path, i), errors, mode) for i, v in enumerate(value)]
    if field.kind == "map":
        if not isinstance(value, dict):
            errors.append(f"{path}: expected a mapping, got {type_name(value)}")
            return None
        out = {}
        for key, val in value.items():
            if not isinstance(key, str):
                errors.append(f"{join(path, str(key))}: key {key!r} is a {type_name(key)}; quote it in YAML")
                continue
            out[key] = shape(val, field.item, join(path, key), errors, mode)
        return out
    return _scalar(value, field, path, errors)


def _shape_dict(value: dict, field: Field, path: str, errors: list, mode):
    known = dict(field.fields)
    out = {}
    for key in value:
        if key not in known:
            errors.append("{}: unknown key{}; known keys are {}".format(
                join(path, key if isinstance(key, str) else str(key)), closest(key, known), ", ".join(known)))
    for key, sub in field.fields:
        sub_path = join(path, key)
        allowed = field_allowed(sub, mode)
        if key in value:
            if not allowed:
                errors.append("{}: only used in {} mode (kubernetes.mode is {}); remove it".format(sub_path, " or ".join(sub.modes), mode))
                continue
            out[key] = shape(value[key], sub, sub_path, errors, mode)
        elif not allowed:
            continue
        elif sub.default is REQUIRED:
            errors.append(f"{sub_path}: required; {sub.doc}")
            out[key] = None
        elif isinstance(sub.default, Dynamic):
            out[key] = None
        elif sub.kind == "dict":
            out[key] = _shape_dict({}, sub, sub_path, errors, mode)
        else:
            out[key] = copy.deepcopy(sub.default)
    return out


# ---------------------------------------------------------------- docs

def _type_text(field: Field) -> str:
    if field.kind == "list":
        return "list of %s" % ("mapping" if field.item.kind == "dict" else field.item.kind)
    if field.kind == "map":
        return f"mapping of str to {field.item.kind}"
    if field.kind == "dict":
        return "mapping"
    return field.kind


def _default_text(field: Field) -> str:
    if field.default is REQUIRED:
        return "required"
    if isinstance(field.default, Dynamic):
        return field.default.text
    if field.kind == "dict":
        return "-"
    if field.default is None:
        return "-"
    if field.default == "":
        return '""'
    if isinstance(field.default, bool):
        return "true" if field.default else "false"
    if isinstance(field.default, list):
        return "[{}]".format(", ".join(str(v) for v in field.default))
    if isinstance(field.default, dict):
        return "{}"
    return str(field.default)


def _allowed_text(field: Field) -> str:
    parts = []
    choices = field.choices or (field.item.choices if field.item is not None else ())
    if choices:
        parts.append(", ".join(choices))
    if field.minimum is not None or field.maximum is not None:
        parts.append("{}..{}".format("" if field.minimum is None else field.minimum, "" if field.maximum is None else field.maximum))
    if field.modes:
        parts.append("{} only".format("/".join(field.modes)))
    return "; ".join(parts) or "-"


def schema_rows(field: Field = SCHEMA, prefix: str = ""):
    """(path, type, default, allowed) for every field, depth first, in schema order."""
    rows = []
    for key, sub in field.fields:
        path = f"{prefix}.{key}" if prefix else key
        rows.append((path, _type_text(sub), _default_text(sub), _allowed_text(sub)))
        if sub.kind == "dict":
            rows.extend(schema_rows(sub, path))
        elif sub.kind == "list" and sub.item.kind == "dict":
            rows.extend(schema_rows(sub.item, path + "[]"))
    return rows


def role_rows():
    """(role, instance type, volume size, default tier) rows of the per-role pool defaults."""
    return [(role, itype, str(volume), " else ".join(tiers)) for role, (itype, volume, tiers) in ROLE_DEFAULTS.items()]
