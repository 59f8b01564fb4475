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
_CI_DOC = "Jenkins on the ci pool (role jenkins, playbooks/ci.yml); the admin password is jenkins_admin_password from your secret source."
_CI_PLUGINS_DOC = "Plugins besides configuration-as-code (always installed); their required dependencies come from the update center."
_ETCD_BACKUP_DOC = "etcd snapshots of the control planes: systemd timer, local copies, S3 bucket <platform>-etcd-<account id>."

# ---- cluster add-ons (issue 16): field tables of the ingress, domains, gitops and storage sections
# A Kubernetes resource quantity (100m, 2, 1.5, 512Mi, 10Gi).
QUANTITY = r"[0-9]+(\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?"
_QHINT = "a Kubernetes quantity like 500m, 2, 512Mi or 10Gi"
_HTTP_PATH = r"/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*"
DATA_SERVICES = ("postgresql", "redis", "rabbitmq", "kafka")


def _qty(default, doc):
    return _f("str", doc, default, pattern=QUANTITY, pattern_hint=_QHINT)


_ROUTE = _f("dict", "One path prefix of the ALB sent to a Service.", fields=(
    ("path", _f("str", "Path prefix (pathType Prefix), starting with '/'.", REQUIRED, pattern=_HTTP_PATH,
                pattern_hint="a path starting with '/', e.g. /api")),
    ("service", _f("str", "Kubernetes Service: an API (pools[].api, in its namespace) or a name in ingress.services.", REQUIRED)),
    ("port", _f("int", "Service port.", Dynamic("the declared service's port; APIs: 80"), minimum=1, maximum=65535)),
    ("target_port", _f("int", "Container port behind it (what the ALB's traffic reaches; the network policy opens it).",
                       Dynamic("the declared service's target_port; APIs: 8080"), minimum=1, maximum=65535)),
))
_BACKEND = _f("dict", "A Service the routes may name that is not an API pool's (a frontend, a backend without its own nodes).", fields=(
    ("name", _f("str", "Service name, a DNS label.", REQUIRED)),
    ("namespace", _f("str", "Its namespace: a domain's or an API pool's.", REQUIRED)),
    ("port", _f("int", "Service port.", 80, minimum=1, maximum=65535)),
    ("target_port", _f("int", "Container port.", Dynamic("port"), minimum=1, maximum=65535)),
))
_INGRESS_FIELDS = (
    ("scheme", _f("str", "internet-facing (public subnets) or internal (private subnets).", "internet-facing",
                  choices=("internet-facing", "internal"))),
    ("certificate_arn", _f("str", "ACM certificate ARN: adds HTTPS 443 and redirects HTTP to it; absent: HTTP 80 only.", None)),
    ("source_cidrs", _f("list", "Who may reach the ALB (its inbound-cidrs).", Dynamic("internet-facing: [0.0.0.0/0]; internal: [network.cidr]"),
                        item=_f("cidr", "CIDR."))),
    ("health_check_path", _f("str", "Target group health check path.", "/", pattern=_HTTP_PATH, pattern_hint="a path starting with '/'")),
    ("services", _f("list", "Services routes may name besides the APIs.", [], item=_BACKEND)),
    ("routes", _f("list", "Path prefixes and their Services; the most specific path wins.", REQUIRED, item=_ROUTE)),
)
_DOMAIN_BASE_FIELDS = (
    ("name", _f("str", "Domain name, a DNS label (order, product, user).", REQUIRED)),
    ("namespace", _f("str", "Its Kubernetes namespace; API pools with the same namespace belong to the domain.", Dynamic("domain name"))),
    ("pod_security", _f("str", "Pod Security Standard enforced in the namespace (restricted is also warned and audited).", "baseline",
                        choices=("privileged", "baseline", "restricted"))),
    ("ports", _f("list", "Ports its pods serve other domains on (those that list it in reach.domains).", [8080],
                 item=_f("int", "Port.", minimum=1, maximum=65535))),
    ("metrics_port", _f("int", "Port monitoring scrapes in its pods.", 9090, minimum=1, maximum=65535)),
    ("quota", _f("dict", "ResourceQuota of the namespace.", {}, fields=(
        ("requests_cpu", _qty("4", "requests.cpu: CPU all pods may request together.")),
        ("requests_memory", _qty("8Gi", "requests.memory.")),
        ("limits_cpu", _qty("8", "limits.cpu.")),
        ("limits_memory", _qty("16Gi", "limits.memory.")),
        ("pods", _f("int", "Pods.", 50, minimum=1, maximum=10000)),
        ("services", _f("int", "Services.", 20, minimum=0, maximum=1000)),
        ("persistentvolumeclaims", _f("int", "PersistentVolumeClaims.", 10, minimum=0, maximum=1000)),
        ("requests_storage", _qty("100Gi", "requests.storage: storage all claims may request together.")),
    ))),
    ("limits", _f("dict", "LimitRange of the namespace's containers.", {}, fields=(
        ("default_cpu", _qty("500m", "CPU limit of a container that sets none.")),
        ("default_memory", _qty("512Mi", "Memory limit of a container that sets none.")),
        ("default_request_cpu", _qty("100m", "CPU request of a container that sets none.")),
        ("default_request_memory", _qty("128Mi", "Memory request of a container that sets none.")),
        ("max_cpu", _qty("2", "Largest CPU limit of one container.")),
        ("max_memory", _qty("4Gi", "Largest memory limit of one container.")),
    ))),
    ("reach", _f("dict", "What its pods may open connections to (besides their own namespace and DNS).", {}, fields=(
        ("domains", _f("list", "Other domains (by name), on their ports.", [], item=_f("str", "Domain name."))),
        ("services", _f("list", "Data services of the platform (a pool, or managed), on their ports.", [],
                        item=_f("str", "Data service.", choices=DATA_SERVICES))),
        ("internet", _f("bool", "HTTPS (443) to addresses outside the VPC (AWS APIs, SaaS).", False)),
    ))),
)
_GITOPS_FIELDS = (
    ("repo_url", _f("str", "Git repository ArgoCD syncs from: https://... or ssh (git@host:path, ssh://...).", REQUIRED)),
    ("revision", _f("str", "Branch, tag or commit.", "HEAD")),
    ("path", _f("str", "app_of_apps: the directory of Application manifests; applicationset: the directory holding one "
                "directory per API (<path>/<api>).", "apps")),
    ("mode", _f("str", "app_of_apps (one root Application) or applicationset (one Application per API pool).",
                Dynamic("applicationset when there are api pools, else app_of_apps"), choices=("app_of_apps", "applicationset"))),
    ("tool", _f("str", "How an API's Application gets its node selector and toleration: kustomize (inline patches on its "
                "Deployments/StatefulSets) or helm (nodeSelector/tolerations values).", "kustomize", choices=("kustomize", "helm"))),
    ("namespace", _f("str", "Namespace ArgoCD runs in.", "argocd")),
    ("project", _f("str", "ArgoCD project of the Applications.", "default")),
    ("prune", _f("bool", "Automated sync deletes what left the repository.", True)),
    ("self_heal", _f("bool", "Automated sync reverts changes made in the cluster.", True)),
)
EBS_TYPES = ("gp3", "gp2", "io1", "io2", "st1", "sc1")
_STORAGE_FIELDS = (
    ("class_name", _f("str", "Name of the default StorageClass.", Dynamic("the volume type"))),
    ("type", _f("str", "EBS volume type.", "gp3", choices=EBS_TYPES)),
    ("encrypted", _f("bool", "Encrypt volumes.", True)),
    ("kms_key_arn", _f("str", "KMS key of the encryption; absent: the account's aws/ebs key.", None)),
    ("reclaim_policy", _f("str", "What happens to a volume when its claim is deleted.", "Delete", choices=("Delete", "Retain"))),
    ("demote", _f("list", "StorageClasses to unmark as default (patched only if they exist).", Dynamic("eks: [gp2]; kubeadm: []"),
                  item=_f("str", "StorageClass name."))),
)

# ---- managed data services (RDS PostgreSQL, ElastiCache): fields appended to services.postgresql / services.redis
RDS_MAX_READ_REPLICAS = 15        # RDS for PostgreSQL: up to 15 read replicas per source instance
ELASTICACHE_MAX_REPLICAS = 5      # ElastiCache (cluster mode disabled): up to 5 replicas per shard
_PG_MANAGED_FIELDS = (
    ("managed", _f("bool", "Run PostgreSQL on Amazon RDS instead of a postgresql pool (no pool of that role then).", False)),
    ("instance_class", _f("str", "RDS instance class (managed only).", "db.t4g.medium", pattern=r"db\.[a-z][a-z0-9-]*\.[a-z0-9]+",
                          pattern_hint="an RDS instance class like db.t4g.medium")),
    ("multi_az", _f("bool", "RDS Multi-AZ standby for the primary (managed only).", False)),
    ("read_replicas", _f("int", "RDS read replicas of the primary (managed only).", 0, minimum=0, maximum=RDS_MAX_READ_REPLICAS)),
    ("storage_gb", _f("int", "Allocated gp3 storage in GiB, encrypted (managed only).", 20, minimum=20, maximum=65536)),
    ("max_storage_gb", _f("int", "Storage autoscaling ceiling in GiB, 0 = off (managed only).", 0, minimum=0, maximum=65536)),
    ("backup_retention_days", _f("int", "Automated backups kept, days (managed only; read replicas need >= 1).", 7, minimum=0, maximum=35)),
    ("master_username", _f("str", "Master user name (managed only).", "postgres", pattern=r"[a-z][a-z0-9_]{0,62}",
                           pattern_hint="a lowercase letter, then lowercase letters, digits or '_'")),
    ("master_password", _f("str", "Master password: 'managed' (RDS keeps it in Secrets Manager) or 'user' (the variable "
                           "managed_data_postgresql_password, from the user's secret source) (managed only).", "managed", choices=("managed", "user"))),
    ("deletion_protection", _f("bool", "RDS deletion protection; teardown refuses while it is on (managed only).", True)),
    ("final_snapshot", _f("bool", "Take a final snapshot when teardown deletes the primary (managed only).", True)),
)
_REDIS_MANAGED_FIELDS = (
    ("managed", _f("bool", "Run Redis/Valkey on an ElastiCache replication group instead of a redis pool (no pool of that role then).", False)),
    ("engine", _f("str", "ElastiCache engine (managed only).", "valkey", choices=("valkey", "redis"))),
    ("engine_version", _f("str", "ElastiCache engine version (managed only).", Dynamic("valkey: 8.0; redis: 7.1"),
                          pattern=r"[0-9]+\.[0-9]+", pattern_hint="major.minor, quoted, e.g. \"8.0\"")),
    ("node_type", _f("str", "ElastiCache node type (managed only).", "cache.t4g.small", pattern=r"cache\.[a-z][a-z0-9-]*\.[a-z0-9]+",
                     pattern_hint="an ElastiCache node type like cache.t4g.small")),
    ("replicas", _f("int", "Replicas of the primary (managed only).", 1, minimum=0, maximum=ELASTICACHE_MAX_REPLICAS)),
    ("multi_az", _f("bool", "Multi-AZ with automatic failover (managed only; needs a replica).", True)),
    ("snapshot_retention_days", _f("int", "Daily snapshots kept, days (managed only).", 1, minimum=0, maximum=35)),
    ("final_snapshot", _f("bool", "Take a final snapshot when teardown deletes the replication group (managed only).", True)),
)
# Fields that only a self-managed (pool) deployment reads: an error next to managed: true.
# (ElastiCache sizes maxmemory from the node type; maxmemory_policy goes into the managed group's parameter group.)
SELF_MANAGED_ONLY = {"postgresql": ("synchronous_replication",), "redis": ("maxmemory_mb", "sentinel")}
MANAGED_ONLY = {"postgresql": tuple(k for k, _dummy in _PG_MANAGED_FIELDS if k != "managed"),
                "redis": tuple(k for k, _dummy in _REDIS_MANAGED_FIELDS if k != "managed")}
# ---- end of managed data services

ACCESS_MODES = ("direct", "bastion", "ssm", "vpn")

# Domains (docs/topology.md "Domains"): the Kubernetes side (_DOMAIN_BASE_FIELDS, above) and the domain's own AWS
# resources; the item is their sum.
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
        ("etcd_backup", _f("dict", _ETCD_BACKUP_DOC, {}, modes=("kubeadm",), fields=(
            ("schedule", _f("str", "When snapshots are taken: a systemd OnCalendar expression (hourly, daily, *-*-* 00/6:00:00).",
                            "hourly", pattern=r"[A-Za-z0-9*:,./~+ -]{1,64}",
                            pattern_hint="a systemd OnCalendar expression (letters, digits, * : , . / ~ + - and spaces)")),
            ("keep", _f("int", "Snapshots kept on each control plane's disk (older ones are deleted).", 24, minimum=1, maximum=1000)),
            ("s3", _f("bool", "Also upload every snapshot to the platform's S3 bucket (SSE, TLS only, versioned, lifecycle-expired).", True)),
            ("s3_retention_days", _f("int", "Days S3 keeps a snapshot (lifecycle rule).", 30, minimum=1, maximum=3650)),
        ))),
        # -- day-2 (issue 14, H1): the rolling upgrade of playbooks/upgrade.yml
        ("upgrade", _f("dict", "How playbooks/upgrade.yml rolls a new version over the nodes.", {}, modes=("kubeadm",), fields=(
            ("worker_batch", _f("str", "Workers upgraded at once: a count (\"3\") or a share of the workers (\"20%\", rounded up).",
                                "20%", pattern=r"[1-9][0-9]{0,2}|([1-9][0-9]?|100)%",
                                pattern_hint="a count like \"3\" or a percentage \"1%\" to \"100%\"")),
            ("drain_timeout", _f("int", "Seconds a node's drain may take (pods evicted, PodDisruptionBudgets honoured) before the "
                                 "upgrade stops on that node and uncordons it.", 300, minimum=30, maximum=3600)),
        ))),
        # -- end day-2 (H1)
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
            *_PG_MANAGED_FIELDS,
        ))),
        ("redis", _f("dict", "Redis (first node primary, the others replicas).", {}, fields=(
            ("port", _port(6379, "Listen port.")),
            ("maxmemory_mb", _f("int", "maxmemory in MiB, 0 = no limit.", 0, minimum=0, maximum=1048576)),
            ("maxmemory_policy", _f("str", "Eviction policy (managed: maxmemory-policy of the ElastiCache parameter group).", "noeviction", choices=(
                "noeviction", "allkeys-lru", "allkeys-lfu", "allkeys-random", "volatile-lru", "volatile-lfu",
                "volatile-random", "volatile-ttl"))),
            ("sentinel", _f("dict", "Redis Sentinel, one sentinel per Redis node.", {}, fields=(
                ("enabled", _f("bool", "Run Sentinel (needs an odd count >= 3).", False)),
                ("quorum", _f("int", "Sentinels that must agree the primary is down.", Dynamic("majority of the sentinels"), minimum=1)),
                ("port", _port(26379, "Sentinel port.")),
                ("master_name", _f("str", "Name of the monitored primary.", Dynamic("platform name"),
                                   pattern=r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", pattern_hint="letters, digits, '_', '.', '-'")),
            ))),
            *_REDIS_MANAGED_FIELDS,
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
        ("ci", _f("dict", _CI_DOC, {}, fields=(
            ("version", _f("str", "Jenkins LTS version, pinned and held (2.541.x is the last LTS line on Java 17, Debian 12's).",
                           "2.541.3", pattern=r"[0-9]+\.[0-9]+\.[0-9]+", pattern_hint="X.Y.Z, quoted")),
            ("executors", _f("int", "Executors of the controller itself (0: builds only on agents).", 2, minimum=0, maximum=64)),
            ("url", _f("str", "The URL Jenkins announces (links, webhooks).", Dynamic("http://<ci node address>:8080/"),
                       pattern=r"https?://[^/\s]+(/\S*)?", pattern_hint="http(s)://host[:port]/path")),
            ("admin_user", _f("str", "Administrator user id (JCasC local realm, no signup).", "admin",
                              pattern=r"[A-Za-z0-9_][A-Za-z0-9_.@-]{0,63}", pattern_hint="letters, digits, '_', '.', '@', '-'")),
            ("plugins", _f("list", _CI_PLUGINS_DOC, [], item=_f("str", "Plugin short name.", pattern=r"[a-z0-9][a-z0-9._-]*",
                                                                pattern_hint="a plugin short name like git"))),
        ))),
    ))),
    # ---- cluster add-ons (issue 16): ingress, domains, gitops, storage; rules and plan in topology_addons.py
    ("ingress", _f("dict", "An ALB (AWS Load Balancer Controller) in front of the cluster's services; absent: none.", None, modes=ANY_MODE,
                   fields=_INGRESS_FIELDS)),
    ("domains", _f("list", "Business domains: a namespace each (quotas, limits, network policies) and their own AWS resources.", [], modes=ANY_MODE,
                   item=_DOMAIN)),
    ("gitops", _f("dict", "ArgoCD bootstrap: a root Application (app-of-apps) or an ApplicationSet over the API pools; absent: "
                  "none.", None, modes=ANY_MODE, fields=_GITOPS_FIELDS)),
    ("storage", _f("dict", "The default StorageClass (EBS CSI driver).", {}, modes=ANY_MODE, fields=_STORAGE_FIELDS)),
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
        elif sub.kind == "dict" and sub.default is not None:  # a dict defaulting to None is an optional section
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
