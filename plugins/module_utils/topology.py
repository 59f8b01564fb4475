# Copyright: msa.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The topology model: validate a topology and normalize it into the plan (docs/plan.md).

    plan, errors = build_plan(topology)

`errors` lists every problem at once, each `field.path: what is wrong; how to fix it`; `plan` is
None when there is any. The plan is plain data in a stable order: the same topology always gives the
same plan. Schema: topology_schema; naming rules: topology_k8s / topology_net; security groups:
topology_sg; services: topology_services; plan assembly: topology_plan.
"""
from __future__ import annotations

import ipaddress
import re

from ansible_collections.msa.platform.plugins.module_utils.topology_addons import add_addons, check_addons
from ansible_collections.msa.platform.plugins.module_utils.topology_domains import check_domains, resolve_access
from ansible_collections.msa.platform.plugins.module_utils.topology_k8s import (
    CONTROL_PLANE_KEY,
    dns_label_problem,
    label_key_reserved,
    label_value_problem,
    qualified_name_problem,
    reserved_prefix,
    taint_key_reserved,
)
from ansible_collections.msa.platform.plugins.module_utils.topology_managed import check_managed
from ansible_collections.msa.platform.plugins.module_utils.topology_net import (
    allocate,
    az_name_problem,
    default_az_names,
    instance_type_problem,
    is_private,
    is_rfc1918,
    open_space_problem,
    overlaps,
    region_problem,
    small_memory,
)
from ansible_collections.msa.platform.plugins.module_utils.topology_plan import assemble, node_name
from ansible_collections.msa.platform.plugins.module_utils.topology_schema import (
    ENCAPSULATION_OVERHEAD,
    K8S_ROLES,
    MODES,
    ROLE_DEFAULTS,
    SCHEMA,
    SINGLE_POOL_ROLES,
    VPC_MTU,
    shape,
)
from ansible_collections.msa.platform.plugins.module_utils.topology_services import (
    check_services,
    odd_quorum,
)

# Supported minor versions (inclusive) and the default, per mode. kubeadm: the minors whose kubeadm serves the
# v1beta4 API (1.31+) up to the newest with patch releases, default that newest. EKS: every minor EKS still runs on
# 2026-12-02 (standard or extended support; 1.31's extended support ended 2026-11-26, 1.32's ends
# 2027-03-23), default the newest confirmed in standard support (1.35: until 2027-03-27), per the
# Amazon EKS Kubernetes release calendar. Move both when the calendar moves.
K8S_VERSIONS = {"kubeadm": ((31, 37), "1.37"), "eks": ((32, 36), "1.35")}
_IAM_PRINCIPAL = re.compile(r"arn:aws(-[a-z]+)*:(iam|sts)::[0-9]{12}:(role|user|assumed-role)/[A-Za-z0-9+=,.@_/-]{1,512}")
# Graviton (arm64) instance families: a1, and any family whose generation digit is followed by 'g' (t4g, m7gd, c8g...).
_GRAVITON = re.compile(r"(a1|[a-z]+[0-9]+g[a-z]*)\.[a-z0-9]+")
SERVICE_CIDR_DEFAULT = {"kubeadm": "10.96.0.0/12", "eks": "172.20.0.0/16"}
# AWS tag keys and values: Unicode letters and digits, spaces and _ . : / = + - @
_TAG_TEXT = re.compile(r"[\w .:/=+\-@]*")
# The node label that sends an API's pods to its pool (their nodeSelector); only api pools carry it.
API_LABEL = "api"


def build_plan(topology, az_names=None):
    """(plan, errors): the plan is None unless errors is empty."""
    errors = []
    mode = _mode(topology)
    data = shape(topology, SCHEMA, "", errors, mode)
    if data is None:
        return None, errors
    ctx = _Context(topology, data, mode, errors)
    ctx.check_top()
    ctx.check_kubernetes()
    resolve_access(data, topology, errors)
    ctx.check_network(az_names)
    ctx.check_pools(topology.get("pools"))
    check_domains(data, topology, mode, set(ctx.role_counts()), errors)
    check_services(data.get("services"), topology.get("services"), ctx.role_counts(), errors)
    check_managed(data, topology, errors)
    ctx.check_cluster_cidrs()
    ctx.check_cluster_network()
    check_addons(ctx)
    if errors:
        return None, errors
    return add_addons(ctx, assemble(ctx)), []


def validate(topology, az_names=None) -> list:
    return build_plan(topology, az_names)[1]


def _mode(topology):
    if isinstance(topology, dict) and isinstance(topology.get("kubernetes"), dict):
        mode = topology["kubernetes"].get("mode", "kubeadm")
        return mode if mode in MODES else None
    return "kubeadm"


def _untainted_worker(pool) -> bool:
    if not isinstance(pool, dict) or pool.get("role") not in ("worker", "api"):
        return False
    taints = pool.get("taints")
    if pool.get("role") == "api" and taints is None:
        return False  # api pools are tainted by default
    return not any(isinstance(t, dict) and t.get("effect") in ("NoSchedule", "NoExecute") for t in taints or [])


class _Context:
    """Holds the shaped topology while checks fill in the context-dependent defaults."""

    def __init__(self, raw: dict, data: dict, mode, errors: list):
        self.raw = raw
        self.data = data
        self.mode = mode
        self.errors = errors
        self.name = data.get("name")
        self.region = data.get("region")
        self.azs = []
        self.subnets = {}
        self.pools = []  # (index, pool dict with every default filled) for pools that shaped cleanly

    def err(self, path: str, message: str) -> None:
        self.errors.append(f"{path}: {message}")

    # ------------------------------------------------------------ top level
    def check_top(self) -> None:
        if self.region is not None and region_problem(self.region):
            self.err("region", f"{self.region!r} {region_problem(self.region)}")
            self.region = None
        tags = self.data.get("tags") or {}
        if len(tags) > 40:
            self.err("tags", f"{len(tags)} tags; AWS allows 50 per resource and the platform uses up to 10, so keep it to 40")
        for key, value in tags.items():
            path = f"tags[{key!r}]"
            if key == "Name" or key.lower().startswith(("aws:", "msa:")):
                self.err(path, "Name, aws:* and msa:* tags are set by the platform; rename the tag")
            elif not 1 <= len(key) <= 128:
                self.err(path, "tag keys are 1 to 128 characters")
            elif not _TAG_TEXT.fullmatch(key):
                self.err(path, "tag keys are letters, digits, spaces and _ . : / = + - @ (no newline or other control character)")
            if isinstance(value, str) and len(value) > 256:
                self.err(path, "tag values are at most 256 characters")
            elif isinstance(value, str) and not _TAG_TEXT.fullmatch(value):
                self.err(path, f"tag value {value!r}: letters, digits, spaces and _ . : / = + - @ only")

    # ------------------------------------------------------------ kubernetes
    def check_kubernetes(self) -> None:
        k8s = self.data.get("kubernetes")
        if not isinstance(k8s, dict) or self.mode in (None, "none"):
            return
        (low, high), default = K8S_VERSIONS[self.mode]
        raw = self.raw.get("kubernetes") if isinstance(self.raw.get("kubernetes"), dict) else {}
        if "version" not in raw:
            k8s["version"] = default
        version = k8s.get("version")
        if isinstance(version, str):
            minor = int(version.split(".")[1])
            if not low <= minor <= high:
                why = {"eks": " (the minors EKS still runs, standard or extended support)",
                       "kubeadm": " (kubeadm mode renders the v1beta4 kubeadm API, which 1.31 introduced)"}[self.mode]
                self.err("kubernetes.version", f"{version!r} is not supported in {self.mode} mode; use \"1.{low}\" to \"1.{high}\"{why}")
        calico = k8s.get("calico")
        if self.mode == "kubeadm" and isinstance(calico, dict):
            encapsulation, mtu = calico.get("encapsulation"), calico.get("mtu")
            if encapsulation is not None:
                overhead = ENCAPSULATION_OVERHEAD[encapsulation]
                if mtu is None and "mtu" not in (raw.get("calico") if isinstance(raw.get("calico"), dict) else {}):
                    calico["mtu"] = VPC_MTU - overhead
                elif mtu is not None and mtu + overhead > VPC_MTU:
                    self.err("kubernetes.calico.mtu", f"{mtu} plus the {overhead} bytes {encapsulation} adds exceeds the VPC MTU {VPC_MTU}; "
                             f"use at most {VPC_MTU - overhead}")
        if self.mode == "eks":
            self._check_eks(k8s)

    def _check_eks(self, k8s: dict) -> None:
        if k8s.get("endpoint_private_access") is False and k8s.get("endpoint_public_access") is False:
            self.err("kubernetes.endpoint_private_access", "false while endpoint_public_access is false too: nothing could reach the "
                     "EKS API; keep private access (the default) or open a public endpoint")
        logs = [t for t in k8s.get("logging") or [] if t is not None]
        for i, kind in enumerate(logs):
            if kind in logs[:i]:
                self.err(f"kubernetes.logging[{i}]", f"{kind!r} is listed twice")
        principals = k8s.get("admin_principals") or []
        for i, arn in enumerate(principals):
            if not isinstance(arn, str):
                continue
            if not _IAM_PRINCIPAL.fullmatch(arn):
                self.err(f"kubernetes.admin_principals[{i}]", f"{arn!r} is not an IAM role or user ARN; write it like "
                         "arn:aws:iam::123456789012:role/platform-admins")
            elif ":assumed-role/" in arn or ":sts::" in arn:
                self.err(f"kubernetes.admin_principals[{i}]", f"{arn!r} is a session, which expires; name the IAM role itself "
                         "(arn:aws:iam::<account>:role/<name>)")
            elif arn in principals[:i]:
                self.err(f"kubernetes.admin_principals[{i}]", f"{arn!r} is listed twice")
        public = k8s.get("endpoint_public_access")
        cidrs = k8s.get("public_access_cidrs") or []
        if public and not cidrs:
            self.err("kubernetes.public_access_cidrs", "empty while endpoint_public_access is true; list the CIDRs allowed to reach "
                     "the EKS API (never 0.0.0.0/0)")
        if public is False and cidrs:
            self.err("kubernetes.public_access_cidrs", "set but endpoint_public_access is false; remove it or make the endpoint public")
        world = False
        for i, cidr in enumerate(cidrs):
            if cidr is not None and ipaddress.ip_network(cidr).prefixlen == 0:
                self.err(f"kubernetes.public_access_cidrs[{i}]", f"{cidr} opens the EKS API to the world; list your own CIDRs")
                world = True
        problem = "" if world else open_space_problem([c for c in cidrs if c is not None])
        if problem:
            self.err("kubernetes.public_access_cidrs", f"would open the EKS API to most of the internet: they {problem}")

    def check_cluster_cidrs(self) -> None:
        """Pod and service CIDRs: sizes, private ranges, no overlap with the VPC or each other."""
        k8s = self.data.get("kubernetes")
        network = self.data.get("network")
        if not isinstance(k8s, dict) or self.mode in (None, "none") or not isinstance(network, dict):
            return
        vpc = network.get("cidr")
        pod = k8s.get("pod_cidr") if self.mode == "kubeadm" else None
        if "service_cidr" in k8s and k8s["service_cidr"] is None and self.mode in SERVICE_CIDR_DEFAULT:
            k8s["service_cidr"] = SERVICE_CIDR_DEFAULT[self.mode]
        svc = k8s.get("service_cidr")
        if pod is not None:
            prefix = ipaddress.ip_network(pod).prefixlen
            nodes = sum(p["count"] for _dummy, p in self.pools if p["role"] in K8S_ROLES)
            if prefix > 24:
                self.err("kubernetes.pod_cidr", f"{pod} is smaller than a /24, but each node takes a /24 from it; use a /16")
            elif nodes > 2 ** (24 - prefix):
                self.err("kubernetes.pod_cidr", f"{pod} holds {2 ** (24 - prefix)} node /24s but the cluster has {nodes} nodes; use a larger range")
            if not is_private(pod):
                self.err("kubernetes.pod_cidr", f"{pod} is not a private range; use one inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16")
            if vpc is not None and overlaps(pod, vpc):
                self.err("kubernetes.pod_cidr", f"{pod} overlaps the VPC {vpc}; pick a range outside it (e.g. 192.168.0.0/16 for a 10.x VPC)")
        if svc is not None:
            prefix = ipaddress.ip_network(svc).prefixlen
            low = 12
            high = 24 if self.mode == "eks" else 28
            if not low <= prefix <= high:
                self.err("kubernetes.service_cidr", f"{svc}: the prefix must be /{low} to /{high}")
            if not is_rfc1918(svc):
                self.err("kubernetes.service_cidr", f"{svc} is not inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16")
            if vpc is not None and overlaps(svc, vpc):
                self.err("kubernetes.service_cidr", f"{svc} overlaps the VPC {vpc}; pick a range outside it")
            if pod is not None and overlaps(svc, pod):
                self.err("kubernetes.service_cidr", f"{svc} overlaps kubernetes.pod_cidr {pod}; the two must be disjoint")

    def check_cluster_network(self) -> None:
        """kubeadm: resolve control_plane_endpoint from the control-plane count; None encapsulation needs one subnet."""
        k8s = self.data.get("kubernetes")
        if self.mode != "kubeadm" or not isinstance(k8s, dict):
            return
        planes = sum(p["count"] for _dummy, p in self.pools if p["role"] == "control_plane")
        endpoint = k8s.get("control_plane_endpoint")
        if endpoint == "auto" and planes:
            k8s["control_plane_endpoint"] = "node" if planes == 1 else "nlb"
        elif endpoint == "node" and planes > 1:
            self.err("kubernetes.control_plane_endpoint", f"node points every client at one control-plane node, but there are {planes}: losing "
                     "it would take the API down; use nlb or local_proxy (or auto)")
        calico = k8s.get("calico") if isinstance(k8s.get("calico"), dict) else {}
        if calico.get("encapsulation") == "None":
            subnets = {(p["tier"], az) for _dummy, p in self.pools if p["role"] in K8S_ROLES
                       for az in self.azs[:min(p["count"], len(self.azs))]}
            if len(subnets) > 1:
                self.err("kubernetes.calico.encapsulation", "None routes pod traffic unencapsulated, which the VPC delivers only inside one "
                         f"subnet, but the Kubernetes nodes span {len(subnets)} subnets (tiers x AZs); use VXLANCrossSubnet or IPIPCrossSubnet")

    # ------------------------------------------------------------ network
    def check_network(self, override) -> None:
        net = self.data.get("network")
        if not isinstance(net, dict):
            return
        vpc = net.get("cidr")
        if vpc is not None:
            prefix = ipaddress.ip_network(vpc).prefixlen
            if not 16 <= prefix <= 28:
                self.err("network.cidr", f"{vpc}: AWS VPCs are /16 to /28")
                vpc = None
            elif not is_private(vpc):
                self.err("network.cidr", f"{vpc} is not a private range; use one inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16")
                vpc = None
        azs, slots = net.get("azs"), net.get("az_slots")
        if azs is not None and slots is not None and slots < azs:
            self.err("network.az_slots", f"{slots} is less than network.azs ({azs}); each tier must have room for every AZ")
            slots = None
        if self.mode == "eks" and azs is not None and azs < 2:
            self.err("network.azs", "EKS needs subnets in at least 2 AZs; set azs: 2")
        self._resolve_azs(net, override, azs)
        tiers = [t for t in (net.get("tiers") or []) if t is not None]
        if not tiers and net.get("tiers") is not None:
            self.err("network.tiers", "empty; list at least the tiers your pools use, e.g. [public, app, data]")
        for i, tier in enumerate(tiers):
            if tier in tiers[:i]:
                self.err(f"network.tiers[{i}]", f"{tier!r} is listed twice")
        if net.get("nat") in ("single", "per_az") and "public" not in tiers:
            self.err("network.nat", "NAT gateways live in the public tier; add public to network.tiers or set nat: none")
        if net.get("bastion") and "public" not in tiers:
            self.err("network.bastion", "the bastion lives in the public tier; add public to network.tiers")
        if net.get("data_internet") and net.get("nat") == "none":
            self.err("network.data_internet", "true, but network.nat is none: the data tier's internet route goes through a NAT gateway; "
                     "set nat: single (or per_az), or data_internet: false")
        seen, world = set(), False
        for i, cidr in enumerate(net.get("admin_cidrs") or []):
            if cidr is not None and ipaddress.ip_network(cidr).prefixlen == 0:
                self.err(f"network.admin_cidrs[{i}]", "0.0.0.0/0 would open SSH to the world; list your office or VPN CIDRs")
                world = True
            elif cidr in seen:
                self.err(f"network.admin_cidrs[{i}]", f"{cidr} is listed twice")
            seen.add(cidr)
        problem = "" if world else open_space_problem([c for c in net.get("admin_cidrs") or [] if c is not None])
        if problem:
            self.err("network.admin_cidrs", f"would open SSH to most of the internet: they {problem}")
        if net.get("admin_cidrs") == []:
            self.err("network.admin_cidrs", "empty: nothing could reach the nodes (or the bastion) over SSH; add your office or VPN CIDR")
        prefixes = net.get("tier_prefix") or {}
        if vpc is None or slots is None or not self.azs or len(tiers) != len(set(tiers)):
            return
        vpc_prefix = ipaddress.ip_network(vpc).prefixlen
        bad = False
        for tier in tiers:
            if prefixes.get(tier) is None:
                bad = True
            elif prefixes[tier] < vpc_prefix:
                self.err(f"network.tier_prefix.{tier}", f"/{prefixes[tier]} is larger than the VPC {vpc}; use /{vpc_prefix} to /28")
                bad = True
        if bad:
            return
        self.subnets, used = allocate(vpc, tiers, prefixes, len(self.azs), slots)
        if not self.subnets:
            size = ipaddress.ip_network(vpc).num_addresses
            detail = ", ".join(f"{t} {slots} x /{prefixes[t]}" for t in tiers)
            self.err("network.cidr", f"not enough address space: the tiers need {used} addresses ({detail}) but {vpc} has {size}; use a larger VPC, "
                     "longer network.tier_prefix values or a smaller network.az_slots")

    def _resolve_azs(self, net: dict, override, azs) -> None:
        names, path = override, "az_names (module option)"
        if not names:
            names, path = net.get("az_names"), "network.az_names"
        if azs is None or self.region is None:
            return
        if not names:
            names = default_az_names(self.region, azs)
            if len(names) < azs:
                self.err("network.azs", f"{self.region} has only {len(names)} AZs the platform knows of; lower azs or list network.az_names")
                return
            self.azs = names
            return
        if len(names) < azs:
            self.err(path, f"{len(names)} names for {azs} AZs; list at least network.azs names")
            return
        good = True
        for i, az in enumerate(names):
            if not isinstance(az, str):
                good = False
                continue
            problem = az_name_problem(self.region, az)
            if problem:
                self.err(f"{path}[{i}]", f"{az!r} {problem}")
                good = False
            elif az in names[:i]:
                self.err(f"{path}[{i}]", f"{az!r} is listed twice")
                good = False
        if good:
            self.azs = list(names[:azs])

    # ------------------------------------------------------------ pools
    def check_pools(self, raw_pools) -> None:
        pools = self.data.get("pools")
        if not isinstance(pools, list):
            return
        if not pools:
            self.err("pools", "empty; a platform needs at least one pool")
        net = self.data.get("network") or {}
        tiers = [t for t in (net.get("tiers") or []) if t is not None]
        names, apis, single = {}, {}, {}
        for i, pool in enumerate(pools):
            if not isinstance(pool, dict):
                continue
            raw = raw_pools[i] if isinstance(raw_pools, list) and isinstance(raw_pools[i], dict) else {}
            path = f"pools[{i}]"
            name, role = pool.get("name"), pool.get("role")
            if isinstance(name, str):
                self._check_pool_name(path, name, pool.get("count"), names, i)
            if role in SINGLE_POOL_ROLES:
                if role in single:
                    j = single[role]
                    self.err(path + ".role", f"a second {role} pool (the first is pools[{j}]); the platform runs one {role} pool, raise "
                             f"pools[{j}].count instead")
                single.setdefault(role, i)
            if role is None:
                continue
            if role in K8S_ROLES and self.mode == "none":
                self.err(path + ".role", f"{role} nodes need Kubernetes but kubernetes.mode is none; set mode to kubeadm or eks")
            if role == "control_plane" and self.mode == "eks":
                self.err(path + ".role", "EKS manages the control plane; remove this pool or set kubernetes.mode: kubeadm")
            filled = self._pool_defaults(path, pool, raw, role, tiers)
            self._check_placement(path, filled, role)
            if role == "api" and isinstance(filled.get("api"), str):
                api = filled["api"]
                if api in apis:
                    self.err(path + ".api", f"{api!r} is already the API of pools[{apis[api]}]; one pool per API, raise that pool's count instead")
                apis.setdefault(api, i)
            if all(filled.get(k) is not None for k in ("name", "role", "count", "instance_type", "tier", "volume_size", "labels", "taints")):
                self.pools.append((i, filled))
        self._check_pool_set(single, pools)

    def _check_pool_name(self, path: str, name: str, count, names: dict, i: int) -> None:
        problem = dns_label_problem(name)
        if problem:
            self.err(path + ".name", f"{name!r} {problem}")
        elif name in names:
            self.err(path + ".name", f"{name!r} is already the name of pools[{names[name]}]; pool names must be unique")
        elif self.name is not None and isinstance(count, int):
            longest = node_name(self.name, name, count)
            if len(longest) > 63:
                self.err(path + ".name", f"node name {longest!r} would be {len(longest)} characters; hostnames and Kubernetes node names stay within 63, "
                         "shorten the pool or platform name")
        names.setdefault(name, i)

    def _pool_defaults(self, path: str, pool: dict, raw: dict, role: str, tiers: list) -> dict:
        filled = dict(pool)
        itype, volume, preferred = ROLE_DEFAULTS[role]
        filled["instance_type"] = pool.get("instance_type") or (None if "instance_type" in raw else itype)
        if filled.get("volume_size") is None and "volume_size" not in raw:
            filled["volume_size"] = volume
        if pool.get("tier") is None and "tier" not in raw:
            choice = [t for t in preferred if t in tiers]
            if choice:
                filled["tier"] = choice[0]
            elif tiers:
                self.err(path + ".tier", "not set, and none of the tiers a {} pool defaults to ({}) is in network.tiers; set tier or add "
                         "{} to network.tiers".format(role, ", ".join(preferred), preferred[0]))
        itype = filled["instance_type"]
        if isinstance(itype, str):
            problem = instance_type_problem(itype)
            if problem:
                self.err(path + ".instance_type", f"{itype!r} {problem}")
            elif role == "control_plane" and self.mode == "kubeadm" and small_memory(itype):
                self.err(path + ".instance_type", f"{itype!r} has less than 2 GiB of memory; kubeadm's control plane needs at least t3.small "
                         "(t3.medium or larger recommended)")
        k8s_pool = role in K8S_ROLES
        for key in ("api", "namespace"):
            if key in raw and role != "api":
                self.err(f"{path}.{key}", f"only api pools have {key}; remove it or set role: api")
        for key in ("labels", "taints"):
            if key in raw and not k8s_pool:
                self.err(f"{path}.{key}", f"{role} nodes do not join Kubernetes, so they take no {key}; remove it")
        for key in ("capacity_type", "min_size", "max_size", "ami_type", "max_unavailable"):
            if key in raw and not k8s_pool and self.mode == "eks":
                self.err(f"{path}.{key}", f"only Kubernetes pools are EKS node groups; remove it from this {role} pool")
        if role == "api":
            self._api_defaults(path, filled, raw)
        else:
            filled["api"] = filled["namespace"] = None
            if filled.get("labels") is None and "labels" not in raw:
                filled["labels"] = {}
            if filled.get("taints") is None and "taints" not in raw:
                filled["taints"] = []
        if k8s_pool and self.mode in ("kubeadm", "eks"):
            self._check_labels(path, filled, role)
            self._check_taints(path, filled, role)
        if self.mode == "eks" and k8s_pool:
            self._check_scaling(path, filled)
            self._check_ami(path, filled, raw)
        return filled

    def _check_ami(self, path: str, pool: dict, raw: dict) -> None:
        """AMI architecture from the instance type unless given; a given one must fit it."""
        itype = pool.get("instance_type")
        arm = isinstance(itype, str) and bool(_GRAVITON.fullmatch(itype))
        wanted = "AL2023_ARM_64_STANDARD" if arm else "AL2023_x86_64_STANDARD"
        if "ami_type" not in raw:
            pool["ami_type"] = wanted if isinstance(itype, str) else None
        elif pool.get("ami_type") is not None and isinstance(itype, str) and pool["ami_type"] != wanted:
            self.err(path + ".ami_type", "{} does not run on {} ({}); use {} or remove ami_type".format(
                pool["ami_type"], itype, "Graviton, arm64" if arm else "x86_64", wanted))

    def _api_defaults(self, path: str, filled: dict, raw: dict) -> None:
        api = filled.get("api") or (None if "api" in raw else filled.get("name"))
        filled["api"] = api
        if isinstance(api, str):
            problem = dns_label_problem(api)
            if problem:
                self.err(path + ".api", f"{api!r} {problem}")
        namespace = filled.get("namespace") or (None if "namespace" in raw else api)
        filled["namespace"] = namespace
        # Checked after defaulting: an API named kube-system must not land in kube-system either.
        if isinstance(namespace, str):
            explicit = "namespace" in raw
            problem = dns_label_problem(namespace) if explicit else ""  # a defaulted namespace is the API name, checked above
            system = namespace.startswith("kube-") or namespace == "default"
            if problem:
                self.err(path + ".namespace", f"{namespace!r} {problem}")
            elif system and explicit:
                self.err(path + ".namespace", f"{namespace!r} is a Kubernetes system namespace; give the API its own")
            elif system:
                source, what = (".api", "pools[].api") if "api" in raw else (".name", "the pool name")
                self.err(path + source, f"{namespace!r}: the API's namespace defaults to the API name ({what}), and {namespace!r} is a "
                         "Kubernetes system namespace; rename it or set pools[].namespace to a namespace of its own")
        if not isinstance(api, str):
            return
        if isinstance(filled.get("labels"), dict):
            labels = {"workload": "api", "api": api}
            labels.update(filled["labels"])
            filled["labels"] = labels
            if labels["api"] != api:
                self.err(path + ".labels['api']", "{!r} but this pool serves API {api!r}; pods select their API's nodes by this label, "
                         "set it to {api!r}".format(labels["api"], api=api))
        elif "labels" not in raw:
            filled["labels"] = {"workload": "api", "api": api}
        if filled.get("taints") is None and "taints" not in raw:
            filled["taints"] = [{"key": "api", "value": api, "effect": "NoSchedule"}]

    def _check_labels(self, path: str, pool: dict, role: str) -> None:
        labels = pool.get("labels")
        if not isinstance(labels, dict):
            return
        for key, value in labels.items():
            lpath = f"{path}.labels[{key!r}]"
            problem = qualified_name_problem(key)
            if problem:
                self.err(lpath, f"label key {problem}")
            elif label_key_reserved(key):
                self.err(lpath, f"the {reserved_prefix(key)} prefix is reserved for Kubernetes itself; use your own prefix (e.g. msa.example.com/...) "
                         "or none")
            elif key == CONTROL_PLANE_KEY and role != "control_plane":
                self.err(lpath, f"marks a control-plane node, but this is a {role} pool; remove it")
            elif key == API_LABEL and role != "api":
                self.err(lpath, f"the {API_LABEL} label sends an API's pods to its dedicated api pool; on this {role} pool it would attract "
                         "them too (and without the API's taint, anything else as well); remove it, or make this an api pool")
            if isinstance(value, str):
                problem = label_value_problem(value)
                if problem:
                    self.err(lpath, f"label value {value!r} {problem}")

    def _check_taints(self, path: str, pool: dict, role: str) -> None:
        taints = pool.get("taints")
        if not isinstance(taints, list):
            return
        seen = {}
        labels = pool.get("labels") if isinstance(pool.get("labels"), dict) else {}
        for i, taint in enumerate(taints):
            if not isinstance(taint, dict):
                continue
            tpath = f"{path}.taints[{i}]"
            key, value, effect = taint.get("key"), taint.get("value"), taint.get("effect")
            if isinstance(key, str):
                problem = qualified_name_problem(key)
                if problem:
                    self.err(tpath + ".key", f"taint key {problem}")
                elif taint_key_reserved(key, role == "control_plane"):
                    self.err(tpath + ".key", f"the {reserved_prefix(key)} prefix is reserved: Kubernetes sets and removes those taints "
                             "itself; use your own key")
                if effect is not None:
                    if (key, effect) in seen:
                        self.err(tpath, f"same key and effect as taints[{seen[(key, effect)]}]; Kubernetes requires each key/effect pair once")
                    seen.setdefault((key, effect), i)
            if isinstance(value, str):
                problem = label_value_problem(value)
                if problem:
                    self.err(tpath + ".value", f"taint value {value!r} {problem}")
            if role == "api" and isinstance(key, str) and isinstance(value, str) and labels.get(key) != value:
                self.err(tpath, "taint {key}={value} has no matching label, so pods that tolerate it cannot select these nodes; add labels: "
                         "{{{key}: {shown}}}".format(key=key, value=value, shown=value or "''"))
        shaped = all(isinstance(t, dict) and t.get("effect") is not None for t in taints)
        if role == "api" and shaped and not any(t["effect"] in ("NoSchedule", "NoExecute") for t in taints):
            api = pool.get("api") or "<api>"
            self.err(path + ".taints", "an api pool is dedicated to its API: it needs a NoSchedule or NoExecute taint, e.g. "
                     f"{{key: api, value: {api}, effect: NoSchedule}}")

    def _check_scaling(self, path: str, pool: dict) -> None:
        count = pool.get("count")
        low = pool.get("min_size") if pool.get("min_size") is not None else count
        high = pool.get("max_size") if pool.get("max_size") is not None else count
        pool["min_size"], pool["max_size"] = low, high
        if None in (count, low, high):
            return
        if not low <= count <= high:
            self.err(path + ".count", f"{count} is outside min_size..max_size ({low}..{high}); EKS keeps the desired size within them")

    def _check_placement(self, path: str, pool: dict, role: str) -> None:
        tier = pool.get("tier")
        tiers = (self.data.get("network") or {}).get("tiers")
        if tier is None or not isinstance(tiers, list):
            return
        if tier not in tiers:
            self.err(path + ".tier", "{!r} is not in network.tiers ({}); add it there or pick one of them".format(tier, ", ".join(t for t in tiers if t)))
        elif role == "bastion" and tier != "public":
            self.err(path + ".tier", "the bastion must be reachable: put it in the public tier")
        elif role != "bastion" and tier == "public":
            self.err(path + ".tier", f"only the bastion lives in the public tier; {role} nodes go in a private tier (app, data, mgmt, mq)")

    def _check_pool_set(self, single: dict, pools: list) -> None:
        roles = {p.get("role") for p in pools if isinstance(p, dict)}
        if self.mode == "kubeadm":
            if "control_plane" not in roles:
                self.err("pools", "kubeadm mode needs a pool with role: control_plane")
            else:
                cp = pools[single["control_plane"]]
                if isinstance(cp.get("count"), int) and not odd_quorum(cp["count"]):
                    self.err("pools[{}].count".format(single["control_plane"]), "{} control-plane nodes: etcd needs a majority, so use 1 or an odd "
                             "number >= 3 (an even count tolerates no more failures than one less)".format(cp["count"]))
        if self.mode in ("kubeadm", "eks") and not any(_untainted_worker(p) for p in pools):
            self.err("pools", "no untainted worker or api pool: cluster add-ons (CoreDNS, metrics-server) and ordinary pods would have "
                     "nowhere to run; add a pool with role: worker and no NoSchedule/NoExecute taint")
        raw_net = self.raw.get("network") if isinstance(self.raw.get("network"), dict) else {}
        if "bastion" in roles and raw_net.get("bastion") is False:
            self.err("network.bastion", f"false, but pools[{single['bastion']}] is a bastion; remove it or set bastion: true")

    def role_counts(self) -> dict:
        counts = {}
        for _dummy, pool in self.pools:
            counts[pool["role"]] = counts.get(pool["role"], 0) + pool["count"]
        return counts
