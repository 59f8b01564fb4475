# Copyright: msa.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cluster add-on sections of the topology: `ingress`, `domains`, `gitops`, `storage`.

`check_addons(ctx)` adds every problem of those sections to ctx.errors (cross-references to pools,
services and each other included); `add_addons(ctx, plan)` puts their resolved form in the plan
(`ingress`, `domains`, `gitops`, `storage`, docs/plan.md). The Kubernetes objects made from them are
rendered by module_utils/addons.py.
"""
from __future__ import annotations

import re

from ansible_collections.msa.platform.plugins.module_utils.topology_k8s import dns_label_problem
from ansible_collections.msa.platform.plugins.module_utils.topology_schema import DATA_SERVICES, SCHEMA, closest, shape

# ACM certificate: arn:<partition>:acm:<region>:<account>:certificate/<id>
_CERT_ARN = re.compile(r"arn:aws(-[a-z]+)*:acm:([a-z0-9-]+):[0-9]{12}:certificate/[0-9a-f-]{36}")
_KMS_ARN = re.compile(r"arn:aws(-[a-z]+)*:kms:([a-z0-9-]+):[0-9]{12}:(key/[0-9a-f-]{36}|key/mrk-[0-9a-f]{32}|alias/[A-Za-z0-9/_-]{1,250})")
# Git remotes ArgoCD accepts that keep credentials off the wire: https://host/..., ssh://[user@]host[:port]/..., user@host:path
_GIT_HTTPS = re.compile(r"https://[A-Za-z0-9.-]+(:[0-9]{1,5})?/[^\s]+")
_GIT_SSH = re.compile(r"(ssh://([A-Za-z0-9._-]+@)?[A-Za-z0-9.-]+(:[0-9]{1,5})?/[^\s]+|[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[^\s/][^\s]*)")
_REVISION = re.compile(r"[A-Za-z0-9._/+-]{1,255}")
_REPO_PATH = re.compile(r"[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*|\.")
_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_UNITS = {"m": 1e-3, "": 1, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18,
          "Ki": 2 ** 10, "Mi": 2 ** 20, "Gi": 2 ** 30, "Ti": 2 ** 40, "Pi": 2 ** 50, "Ei": 2 ** 60}
_QUANTITY = re.compile(r"([0-9]+(?:\.[0-9]+)?)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?")
EBS_CSI_PROVISIONER = "ebs.csi.aws.com"
API_PORT = 80  # Service port of an API when a route does not say
API_TARGET_PORT = 8080  # its container port
MONITORING_NAMESPACE = "monitoring"  # where in-cluster monitoring (kube-prometheus-stack) runs
SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


def quantity(text: str) -> float:
    """The value of a Kubernetes quantity string that matched topology_schema.QUANTITY."""
    number, unit = _QUANTITY.fullmatch(text).groups()
    return float(number) * _UNITS[unit or ""]


def _reserved_namespace(namespace: str, gitops_ns) -> str:
    if namespace in SYSTEM_NAMESPACES or namespace.startswith("kube-"):
        return "is a Kubernetes system namespace"
    if namespace == gitops_ns:
        return "is ArgoCD's namespace (gitops.namespace)"
    if namespace == MONITORING_NAMESPACE:
        return "is the in-cluster monitoring namespace"
    return ""


def _api_pools(ctx) -> list:
    return [(i, p) for i, p in ctx.pools if p["role"] == "api" and isinstance(p.get("api"), str) and isinstance(p.get("namespace"), str)]


def check_addons(ctx) -> None:
    """Semantic checks of ingress, domains, gitops and storage (their shape is already checked)."""
    data, raw = ctx.data, ctx.raw if isinstance(ctx.raw, dict) else {}
    if ctx.mode not in ("kubeadm", "eks"):
        return
    gitops = data.get("gitops") if isinstance(data.get("gitops"), dict) else None
    gitops_ns = gitops.get("namespace") if gitops else None
    domains = data.get("domains") if isinstance(data.get("domains"), list) else []
    api_ns = {p["namespace"]: p["api"] for _i, p in _api_pools(ctx)}
    domain_ns = _check_domains(ctx, domains, raw, gitops_ns)
    if isinstance(data.get("ingress"), dict):
        _check_ingress(ctx, data["ingress"], set(domain_ns) | set(api_ns))
    if gitops:
        _check_gitops(ctx, gitops, raw.get("gitops") if isinstance(raw.get("gitops"), dict) else {}, set(domain_ns))
    if isinstance(data.get("storage"), dict):
        _check_storage(ctx, data["storage"], raw.get("storage") if isinstance(raw.get("storage"), dict) else {})


def _data_services(ctx) -> set:
    """Data services the platform has: a pool of that role, or `services.<x>.managed: true` (issue 17)."""
    present = set(ctx.role_counts()) & set(DATA_SERVICES)
    raw_svc = ctx.raw.get("services") if isinstance(ctx.raw.get("services"), dict) else {}
    present |= {s for s in DATA_SERVICES if isinstance(raw_svc.get(s), dict) and raw_svc[s].get("managed") is True}
    return present


def _check_domains(ctx, domains: list, raw: dict, gitops_ns) -> dict:
    """Check every domain; {namespace: domain index} of the valid ones."""
    raw_domains = raw.get("domains") if isinstance(raw.get("domains"), list) else []
    names, namespaces = {}, {}
    for i, dom in enumerate(domains):
        if not isinstance(dom, dict):
            continue
        path = f"domains[{i}]"
        name = dom.get("name")
        raw_dom = raw_domains[i] if i < len(raw_domains) and isinstance(raw_domains[i], dict) else {}
        if isinstance(name, str):
            problem = dns_label_problem(name)
            if problem:
                ctx.err(path + ".name", f"{name!r} {problem}")
            elif name in names:
                ctx.err(path + ".name", f"{name!r} is already the name of domains[{names[name]}]; domain names must be unique")
            names.setdefault(name, i)
        if dom.get("namespace") is None and "namespace" not in raw_dom:
            dom["namespace"] = name
        namespace = dom.get("namespace")
        if isinstance(namespace, str):
            where = ".namespace" if "namespace" in raw_dom else ".name"
            problem = dns_label_problem(namespace) if "namespace" in raw_dom else ""
            reserved = _reserved_namespace(namespace, gitops_ns)
            if problem:
                ctx.err(path + ".namespace", f"{namespace!r} {problem}")
            elif reserved:
                ctx.err(path + where, f"namespace {namespace!r} {reserved}; give the domain a namespace of its own")
            elif namespace in namespaces:
                ctx.err(path + where, f"namespace {namespace!r} is already the namespace of domains[{namespaces[namespace]}]; one namespace "
                        "per domain")
            else:
                namespaces[namespace] = i
        _check_ports(ctx, path, dom)
        _check_quota(ctx, path, dom)
    present = _data_services(ctx)
    for i, dom in enumerate(domains):
        if not isinstance(dom, dict) or not isinstance(dom.get("reach"), dict):
            continue
        path = f"domains[{i}].reach"
        seen = set()
        for j, other in enumerate(dom["reach"].get("domains") or []):
            if not isinstance(other, str):
                continue
            if other not in names:
                ctx.err(f"{path}.domains[{j}]", f"{other!r} is not a domain of this topology{closest(other, names)}; list domains by name")
            elif other == dom.get("name"):
                ctx.err(f"{path}.domains[{j}]", "a domain always reaches its own namespace; remove it")
            elif other in seen:
                ctx.err(f"{path}.domains[{j}]", f"{other!r} is listed twice")
            seen.add(other)
        seen = set()
        for j, svc in enumerate(dom["reach"].get("services") or []):
            if svc is None:
                continue
            if svc not in present:
                ctx.err(f"{path}.services[{j}]", f"the platform has no {svc} (no pool with role: {svc}, not managed); add one or remove it")
            elif svc in seen:
                ctx.err(f"{path}.services[{j}]", f"{svc!r} is listed twice")
            seen.add(svc)
    return namespaces


def _check_ports(ctx, path: str, dom: dict) -> None:
    ports = [p for p in dom.get("ports") or [] if p is not None]
    for j, port in enumerate(ports):
        if port in ports[:j]:
            ctx.err(f"{path}.ports[{j}]", f"{port} is listed twice")
    if dom.get("ports") == []:
        ctx.err(f"{path}.ports", "empty; list the ports the domain serves on (other domains reach it there)")


def _check_quota(ctx, path: str, dom: dict) -> None:
    """Requests within limits, in the quota and in the limit range; a container default within the max."""
    quota, limits = dom.get("quota"), dom.get("limits")
    if isinstance(quota, dict):
        for kind in ("cpu", "memory"):
            req, lim = quota.get(f"requests_{kind}"), quota.get(f"limits_{kind}")
            if req is not None and lim is not None and quantity(req) > quantity(lim):
                ctx.err(f"{path}.quota.requests_{kind}", f"{req} is more than quota.limits_{kind} {lim}; requests never exceed limits")
    if isinstance(limits, dict):
        for kind in ("cpu", "memory"):
            req, default, high = (limits.get(f"default_request_{kind}"), limits.get(f"default_{kind}"), limits.get(f"max_{kind}"))
            if req is not None and default is not None and quantity(req) > quantity(default):
                ctx.err(f"{path}.limits.default_request_{kind}", f"{req} is more than limits.default_{kind} {default}")
            if default is not None and high is not None and quantity(default) > quantity(high):
                ctx.err(f"{path}.limits.default_{kind}", f"{default} is more than limits.max_{kind} {high}")
            if isinstance(quota, dict) and high is not None and quota.get(f"limits_{kind}") is not None \
                    and quantity(high) > quantity(quota[f"limits_{kind}"]):
                ctx.err(f"{path}.limits.max_{kind}", f"{high} is more than quota.limits_{kind} {quota[f'limits_{kind}']}: such a container "
                        "could never be admitted")


def _check_ingress(ctx, ing: dict, managed_ns: set) -> None:
    tiers = [t for t in (ctx.data.get("network") or {}).get("tiers") or [] if t]
    need = {"internet-facing": "public", "internal": "app"}.get(ing.get("scheme"))
    if need and tiers and need not in tiers:
        ctx.err("ingress.scheme", f"an {ing['scheme']} ALB lives in the {need} subnets (the ones tagged for load balancer discovery), "
                f"but network.tiers has no {need}; add it")
    arn = ing.get("certificate_arn")
    if isinstance(arn, str):
        match = _CERT_ARN.fullmatch(arn)
        if not match:
            ctx.err("ingress.certificate_arn", f"{arn!r} is not an ACM certificate ARN; write it like "
                    "arn:aws:acm:ap-northeast-2:123456789012:certificate/1234abcd-12ab-34cd-56ef-1234567890ab")
        elif ctx.region is not None and match.group(2) != ctx.region:
            ctx.err("ingress.certificate_arn", f"the certificate is in {match.group(2)} but the ALB is in {ctx.region}; ACM certificates "
                    "are regional, use one issued or imported in the platform's region")
    cidrs = ing.get("source_cidrs")
    if cidrs == []:
        ctx.err("ingress.source_cidrs", "empty: nothing could reach the ALB; list who may (0.0.0.0/0 for everyone)")
    for i, cidr in enumerate(cidrs or []):
        if cidr is not None and cidr in cidrs[:i]:
            ctx.err(f"ingress.source_cidrs[{i}]", f"{cidr} is listed twice")
    apis = {p["api"]: p for _i, p in _api_pools(ctx)}
    declared = {}
    for i, svc in enumerate(ing.get("services") or []):
        if not isinstance(svc, dict):
            continue
        path, name, ns = f"ingress.services[{i}]", svc.get("name"), svc.get("namespace")
        if isinstance(name, str):
            problem = dns_label_problem(name)
            if problem:
                ctx.err(path + ".name", f"{name!r} {problem}")
            elif name in declared:
                ctx.err(path + ".name", f"{name!r} is already ingress.services[{declared[name][0]}]")
            elif name in apis:
                ctx.err(path + ".name", f"{name!r} is an API (pools[].api); routes name APIs directly, remove it here")
            else:
                declared[name] = (i, svc)
        if isinstance(ns, str) and ns not in managed_ns:
            ctx.err(path + ".namespace", f"{ns!r} is not a domain's or an API pool's namespace{closest(ns, managed_ns)}: the platform gives "
                    "only those the network policy that lets the ALB in; declare a domain with that namespace")
        if svc.get("target_port") is None and svc.get("port") is not None:
            svc["target_port"] = svc["port"]
    paths = {}
    routes = ing.get("routes")
    if routes == []:
        ctx.err("ingress.routes", "empty; route at least one path, e.g. {path: /, service: frontend}")
    for i, route in enumerate(routes or []):
        if not isinstance(route, dict):
            continue
        path, svc, prefix = f"ingress.routes[{i}]", route.get("service"), route.get("path")
        if isinstance(prefix, str):
            norm = prefix.rstrip("/") or "/"
            if norm in paths:
                ctx.err(path + ".path", f"{prefix!r} is already the path of ingress.routes[{paths[norm]}]")
            paths.setdefault(norm, i)
        if not isinstance(svc, str):
            continue
        if svc in declared:
            backend = declared[svc][1]
            route["namespace"] = backend.get("namespace")
            route["port"] = route.get("port") or backend.get("port")
            route["target_port"] = route.get("target_port") or backend.get("target_port")
        elif svc in apis:
            route["namespace"] = apis[svc]["namespace"]
            route["port"] = route.get("port") or API_PORT
            route["target_port"] = route.get("target_port") or API_TARGET_PORT
        else:
            ctx.err(path + ".service", f"{svc!r} is neither an API (pools[].api) nor in ingress.services{closest(svc, list(apis) + list(declared))}; "
                    "declare it in ingress.services with its namespace and port")


def _check_gitops(ctx, gitops: dict, raw: dict, domain_ns: set) -> None:
    url = gitops.get("repo_url")
    if isinstance(url, str) and not (_GIT_HTTPS.fullmatch(url) or _GIT_SSH.fullmatch(url)):
        hint = " (plain http sends the repository and its credentials in clear text)" if url.startswith("http://") else ""
        ctx.err("gitops.repo_url", f"{url!r} is not an https or ssh Git URL{hint}; write https://github.com/org/repo.git or "
                "git@github.com:org/repo.git")
    rev = gitops.get("revision")
    if isinstance(rev, str) and (not _REVISION.fullmatch(rev) or ".." in rev):
        ctx.err("gitops.revision", f"{rev!r} is not a branch, tag or commit name")
    repo_path = gitops.get("path")
    if isinstance(repo_path, str) and (not _REPO_PATH.fullmatch(repo_path) or ".." in repo_path.split("/")):
        ctx.err("gitops.path", f"{repo_path!r}: a relative path inside the repository (no leading '/', no '..')")
    for key in ("namespace", "project"):
        value = gitops.get(key)
        if isinstance(value, str) and dns_label_problem(value):
            ctx.err(f"gitops.{key}", f"{value!r} {dns_label_problem(value)}")
    ns = gitops.get("namespace")
    if isinstance(ns, str) and (ns in SYSTEM_NAMESPACES or ns.startswith("kube-")):
        ctx.err("gitops.namespace", f"{ns!r} is a Kubernetes system namespace; ArgoCD gets its own (argocd)")
    has_apis = bool(_api_pools(ctx))
    if "mode" not in raw:
        gitops["mode"] = "applicationset" if has_apis else "app_of_apps"
    elif gitops.get("mode") == "applicationset" and not has_apis:
        ctx.err("gitops.mode", "applicationset makes one Application per API pool, but there is no pool with role: api; use app_of_apps")
    if gitops.get("mode") == "app_of_apps" and "tool" in raw:
        ctx.err("gitops.tool", "only used with mode applicationset (the root Application's children carry their own placement); remove it")


def _check_storage(ctx, storage: dict, raw: dict) -> None:
    if storage.get("class_name") is None and "class_name" not in raw:
        storage["class_name"] = storage.get("type")
    name = storage.get("class_name")
    if isinstance(name, str) and (len(name) > 253 or not _DNS_SUBDOMAIN.fullmatch(name)):
        ctx.err("storage.class_name", f"{name!r} must be a DNS subdomain: lowercase letters, digits, '-' and '.', at most 253 characters")
    arn = storage.get("kms_key_arn")
    if isinstance(arn, str):
        match = _KMS_ARN.fullmatch(arn)
        if not match:
            ctx.err("storage.kms_key_arn", f"{arn!r} is not a KMS key ARN; write arn:aws:kms:<region>:<account>:key/<key id>")
        elif ctx.region is not None and match.group(2) != ctx.region:
            ctx.err("storage.kms_key_arn", f"the key is in {match.group(2)} but the volumes are in {ctx.region}; use a key of that region")
        if storage.get("encrypted") is False:
            ctx.err("storage.kms_key_arn", "set but encrypted is false; remove it or encrypt")
    if storage.get("demote") is None and "demote" not in raw:
        storage["demote"] = ["gp2"] if ctx.mode == "eks" else []
    demote = [d for d in storage.get("demote") or [] if isinstance(d, str)]
    for i, cls in enumerate(demote):
        if len(cls) > 253 or not _DNS_SUBDOMAIN.fullmatch(cls):
            ctx.err(f"storage.demote[{i}]", f"{cls!r} is not a StorageClass name (a DNS subdomain)")
        elif cls == name:
            ctx.err(f"storage.demote[{i}]", f"{cls!r} is the default class the platform makes (storage.class_name); remove it")
        elif cls in demote[:i]:
            ctx.err(f"storage.demote[{i}]", f"{cls!r} is listed twice")


# ---------------------------------------------------------------- plan

def _tier_cidrs(plan: dict, tiers) -> list:
    return [s["cidr"] for s in plan["network"]["subnets"] if s["tier"] in tiers]


def add_addons(ctx, plan: dict) -> dict:
    """The plan with `ingress`, `domains`, `gitops` and `storage` resolved (null / [] where absent or mode none)."""
    data = ctx.data
    k8s = ctx.mode in ("kubeadm", "eks")
    plan["ingress"] = _plan_ingress(ctx, data["ingress"], plan) if k8s and data.get("ingress") else None
    # The domains' AWS resources (ecr, bucket, database, iam: topology_domains.plan_domains) are already in the
    # plan; the Kubernetes side joins them, domain by domain.
    aws = {d["name"]: d for d in plan.get("domains") or []}
    plan["domains"] = [dict(_plan_domain(d), **{k: v for k, v in aws.get(d["name"], {}).items() if k not in ("name", "namespace")})
                       for d in data.get("domains") or []] if k8s else []
    plan["gitops"] = dict(data["gitops"]) if k8s and data.get("gitops") else None
    plan["storage"] = dict(data["storage"], provisioner=EBS_CSI_PROVISIONER) if k8s else None
    return plan


def domain_defaults() -> dict:
    """A domain's settings with every default: what an API namespace outside any domain gets (reach aside)."""
    item = dict(SCHEMA.fields)["domains"].item
    return _plan_domain(dict(shape({"name": "defaults"}, item, "", [], "kubeadm"), namespace="defaults"))


def _plan_domain(dom: dict) -> dict:
    out = {k: dom[k] for k in ("name", "namespace", "pod_security", "ports", "metrics_port")}
    out.update(quota=dict(dom["quota"]), limits=dict(dom["limits"]),
               reach={"domains": list(dom["reach"]["domains"]), "services": list(dom["reach"]["services"]),
                      "internet": dom["reach"]["internet"]})
    return out


def _plan_ingress(ctx, ing: dict, plan: dict) -> dict:
    eks = ctx.mode == "eks"
    internet = ing["scheme"] == "internet-facing"
    cidrs = ing["source_cidrs"] if ing["source_cidrs"] is not None else (["0.0.0.0/0"] if internet else [plan["network"]["cidr"]])
    if eks:
        # IP targets: the ALB's own addresses reach the pods directly, from the subnets it lives in: those aws_network
        # tags for load balancer discovery (kubernetes.io/role/elb on public, role/internal-elb on app).
        sources = _tier_cidrs(plan, ["public"] if internet else ["app"])
    else:
        # Instance targets: the ALB sends to a NodePort and kube-proxy forwards from the node, so pods see the nodes' addresses.
        sources = _tier_cidrs(plan, sorted({p["tier"] for p in plan["pools"] if p["kubernetes"]}))
    # Most specific path first: one Ingress per route, ordered in the ALB group by path length.
    ranked = sorted(ing["routes"], key=lambda r: (-len(r["path"].rstrip("/")), r["path"]))
    routes = [{"path": r["path"], "service": r["service"], "namespace": r["namespace"], "port": r["port"],
               "target_port": r["target_port"], "order": n} for n, r in enumerate(ranked, start=1)]
    https = ing["certificate_arn"] is not None
    return {"scheme": ing["scheme"], "certificate_arn": ing["certificate_arn"], "source_cidrs": list(cidrs),
            "health_check_path": ing["health_check_path"], "group_name": ctx.name, "target_type": "ip" if eks else "instance",
            "listen_ports": [{"HTTP": 80}, {"HTTPS": 443}] if https else [{"HTTP": 80}],
            "traffic_sources": sources, "routes": routes}
