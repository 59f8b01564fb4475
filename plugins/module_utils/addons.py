# Copyright: msa.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kubernetes objects of the add-ons layer, rendered from the plan (docs/plan.md): `manifests(plan, part)`.

Parts (the filter `msa.platform.addons_manifests(plan, part)` returns the same lists):
- domains: per domain namespace and per API namespace outside a domain: Namespace (Pod Security labels),
  ResourceQuota, LimitRange and NetworkPolicies (default deny both ways, then allow: own namespace, DNS,
  the ALB on the routed container ports, monitoring on the metrics port, the data services and domains
  the namespace may reach, HTTPS outside the VPC when asked).
- storage: the default StorageClass, then one merge patch per class to demote (`is_patch()` tells them
  apart: apply those with a merge patch, skipped when the class does not exist).
- ingress: one Ingress per route, all in one ALB group, the most specific path first (group.order).
- gitops: the ArgoCD root Application (app_of_apps) or the ApplicationSet over the API pools.

Every object carries the label `app.kubernetes.io/managed-by: msa-platform` and `msa.platform/part: <part>`,
so the applier can find (and prune) what it made. Pure functions of the plan: same plan, same objects.

`endpoint_objects(plan, endpoints)` (the filter `msa.platform.addons_endpoints`) adds what only exists once the
data layer ran: in every namespace that may reach PostgreSQL or Redis, ExternalName Services (`postgresql` to
the writer, `postgresql-ro` to a reader, `redis` to the primary, `redis-ro` to the reader) and a ConfigMap
`<service>-connection` (host, port, database, user; never a password) - from the endpoints the data layer
publishes (`[{name, kind, address, port, note}]`, kinds postgresql-writer / postgresql-reader / redis-primary /
redis-reader).
"""
from __future__ import annotations

import json
import re

from ansible_collections.msa.platform.plugins.module_utils.topology_addons import domain_defaults

PARTS = ("domains", "storage", "ingress", "gitops")
# ArgoCD release line whose Application / ApplicationSet CRD fields these objects use (argoproj.io/v1alpha1);
# the cluster_addons role pins the chart of that line. The fields used are checked against the CRD field sets
# encoded in tests/unit/plugins/module_utils/argocd_crd_fields.py.
ARGOCD_VERSION = "v3.1"
MANAGED_BY = {"app.kubernetes.io/managed-by": "msa-platform"}
DEFAULT_CLASS = "storageclass.kubernetes.io/is-default-class"
ALB = "alb.ingress.kubernetes.io/"
IN_CLUSTER = "https://kubernetes.default.svc"
DNS_SELECTOR = {"k8s-app": "kube-dns"}  # CoreDNS pods keep the kube-dns label on kubeadm and EKS
MONITORING_NAMESPACE = "monitoring"
NS_LABEL = "kubernetes.io/metadata.name"  # set by the API server on every namespace


def manifests(plan: dict, part: str) -> list:
    if part not in PARTS:
        raise ValueError(f"part {part!r} is not one of {', '.join(PARTS)}")
    if plan.get("kubernetes", {}).get("mode") not in ("kubeadm", "eks"):
        return []
    return {"domains": _domains, "storage": _storage, "ingress": _ingress, "gitops": _gitops}[part](plan)


def is_patch(obj: dict) -> bool:
    """A demote patch of the storage part (metadata only), not a whole object."""
    return obj.get("kind") == "StorageClass" and "provisioner" not in obj


def _meta(name: str, part: str, namespace: str | None = None, **extra) -> dict:
    meta = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    meta["labels"] = dict(MANAGED_BY, **{"msa.platform/part": part})
    meta.update(extra)
    return meta


# ---------------------------------------------------------------- namespaces

def namespaces(plan: dict) -> list:
    """Every namespace the platform manages, resolved: the domains, then API namespaces outside any domain.

    Each: name, namespace, pod_security, ports, metrics_port, quota, limits, reach {domains, services, internet},
    apis (the APIs living in it), domain (true for a declared domain).
    """
    apis = {}
    for pool in plan["pools"]:
        if pool["role"] == "api":
            apis.setdefault(pool["namespace"], []).append(pool["api"])
    out = []
    for dom in plan.get("domains") or []:
        out.append(dict(dom, apis=apis.pop(dom["namespace"], []), domain=True))
    present = sorted(data_endpoints(plan))
    for ns, names in sorted(apis.items()):
        entry = domain_defaults()
        entry.update(name=ns, namespace=ns, apis=names, domain=False,
                     reach={"domains": [], "services": present, "internet": False})
        out.append(entry)
    return out


def data_endpoints(plan: dict) -> dict:
    """{service: (CIDRs, ports)} of every data service: its pool's tier subnets, or the data tier when managed."""
    tiers = {p["role"]: p["tier"] for p in plan["pools"]}
    out = {}
    for svc, conf in (plan.get("services") or {}).items():
        if svc not in ("postgresql", "redis", "rabbitmq", "kafka"):
            continue
        tier = "data" if conf.get("managed") else tiers.get(svc)
        if tier is None:
            continue
        ports = [conf["port"]]
        sentinel = conf.get("sentinel") or {}
        if sentinel.get("enabled"):
            ports.append(sentinel["port"])
        cidrs = [s["cidr"] for s in plan["network"]["subnets"] if s["tier"] == tier]
        out[svc] = (cidrs, ports)
    return out


def _domains(plan: dict) -> list:
    objs = []
    version = "v" + plan["kubernetes"]["version"]
    spaces = namespaces(plan)
    by_name = {n["name"]: n for n in spaces if n["domain"]}
    reached_by = {}
    for ns in spaces:
        for other in ns["reach"]["domains"]:
            reached_by.setdefault(other, []).append(ns["namespace"])
    alb_ports = {}
    ingress = plan.get("ingress")
    for route in (ingress or {}).get("routes", []):
        alb_ports.setdefault(route["namespace"], set()).add(route["target_port"])
    for ns in spaces:
        name = ns["namespace"]
        labels = dict(MANAGED_BY, **{"msa.platform/part": "domains", "msa.platform/domain": ns["name"]})
        level = ns["pod_security"]
        labels.update({"pod-security.kubernetes.io/enforce": level, "pod-security.kubernetes.io/enforce-version": version,
                       "pod-security.kubernetes.io/warn": "restricted", "pod-security.kubernetes.io/warn-version": version,
                       "pod-security.kubernetes.io/audit": "restricted", "pod-security.kubernetes.io/audit-version": version})
        objs.append({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}})
        objs.append(_quota(ns))
        objs.append(_limit_range(ns))
        objs.extend(_policies(plan, ns, by_name, reached_by.get(ns["name"], []), sorted(alb_ports.get(name, ()))))
    return objs


def _quota(ns: dict) -> dict:
    q = ns["quota"]
    hard = {"requests.cpu": q["requests_cpu"], "requests.memory": q["requests_memory"], "limits.cpu": q["limits_cpu"],
            "limits.memory": q["limits_memory"], "pods": str(q["pods"]), "services": str(q["services"]),
            "persistentvolumeclaims": str(q["persistentvolumeclaims"]), "requests.storage": q["requests_storage"]}
    return {"apiVersion": "v1", "kind": "ResourceQuota", "metadata": _meta("quota", "domains", ns["namespace"]), "spec": {"hard": hard}}


def _limit_range(ns: dict) -> dict:
    lim = ns["limits"]
    item = {"type": "Container",
            "default": {"cpu": lim["default_cpu"], "memory": lim["default_memory"]},
            "defaultRequest": {"cpu": lim["default_request_cpu"], "memory": lim["default_request_memory"]},
            "max": {"cpu": lim["max_cpu"], "memory": lim["max_memory"]}}
    return {"apiVersion": "v1", "kind": "LimitRange", "metadata": _meta("limits", "domains", ns["namespace"]), "spec": {"limits": [item]}}


def _policy(name: str, ns: str, types: list, ingress=None, egress=None) -> dict:
    spec = {"podSelector": {}, "policyTypes": types}
    if ingress is not None:
        spec["ingress"] = ingress
    if egress is not None:
        spec["egress"] = egress
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": _meta(name, "domains", ns), "spec": spec}


def _ports(ports, protocol: str = "TCP") -> list:
    return [{"protocol": protocol, "port": p} for p in ports]


def _ns_peer(namespace: str) -> dict:
    return {"namespaceSelector": {"matchLabels": {NS_LABEL: namespace}}}


def _policies(plan: dict, ns: dict, domains: dict, reached_by: list, alb_ports: list) -> list:
    name = ns["namespace"]
    out = [
        _policy("default-deny", name, ["Ingress", "Egress"]),
        _policy("allow-same-namespace", name, ["Ingress", "Egress"], ingress=[{"from": [{"podSelector": {}}]}],
                egress=[{"to": [{"podSelector": {}}]}]),
        _policy("allow-dns", name, ["Egress"], egress=[{
            "to": [{"namespaceSelector": {"matchLabels": {NS_LABEL: "kube-system"}}, "podSelector": {"matchLabels": dict(DNS_SELECTOR)}}],
            "ports": _ports([53], "UDP") + _ports([53])}]),
    ]
    ingress = plan.get("ingress")
    if ingress and alb_ports:
        out.append(_policy("allow-alb", name, ["Ingress"], ingress=[{
            "from": [{"ipBlock": {"cidr": c}} for c in ingress["traffic_sources"]], "ports": _ports(alb_ports)}]))
    scrape = [_ns_peer(MONITORING_NAMESPACE)]
    mon_tier = [p["tier"] for p in plan["pools"] if p["role"] == "monitoring"]
    scrape += [{"ipBlock": {"cidr": s["cidr"]}} for s in plan["network"]["subnets"] if s["tier"] in mon_tier]
    out.append(_policy("allow-monitoring", name, ["Ingress"], ingress=[{"from": scrape, "ports": _ports([ns["metrics_port"]])}]))
    if reached_by:
        out.append(_policy("allow-from-domains", name, ["Ingress"], ingress=[{
            "from": [_ns_peer(other) for other in sorted(reached_by)], "ports": _ports(ns["ports"])}]))
    egress = []
    endpoints = data_endpoints(plan)
    for svc in ns["reach"]["services"]:
        if svc in endpoints:
            cidrs, ports = endpoints[svc]
            egress.append({"to": [{"ipBlock": {"cidr": c}} for c in cidrs], "ports": _ports(ports)})
    for other in ns["reach"]["domains"]:
        target = domains[other]
        egress.append({"to": [_ns_peer(target["namespace"])], "ports": _ports(target["ports"])})
    if egress:
        out.append(_policy("allow-reach", name, ["Egress"], egress=egress))
    if ns["reach"]["internet"]:
        private = [plan["network"]["cidr"]] + [c for c in (plan["kubernetes"].get("pod_cidr"), plan["kubernetes"].get("service_cidr")) if c]
        out.append(_policy("allow-internet", name, ["Egress"], egress=[{
            "to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": private}}], "ports": _ports([443])}]))
    return out


# ---------------------------------------------------------------- data service endpoints

# endpoint kind -> (data service, ExternalName Service name)
ENDPOINT_KINDS = {"postgresql-writer": ("postgresql", "postgresql"), "postgresql-reader": ("postgresql", "postgresql-ro"),
                  "redis-primary": ("redis", "redis"), "redis-reader": ("redis", "redis-ro")}
_DNS_NAME = re.compile(r"(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_IPV4 = re.compile(r"[0-9.]+")


def endpoint_problems(endpoints) -> list:
    """Why `endpoints` ([{name, kind, address, port, ...}]) cannot be used, each naming the entry; [] when usable.
    An ExternalName must be a DNS name (Kubernetes does not resolve an IP address given there)."""
    if not isinstance(endpoints, list):
        return [f"endpoints: expected a list of {{kind, address, port}}, got {type(endpoints).__name__}"]
    out = []
    for i, item in enumerate(endpoints):
        where = f"endpoints[{i}]"
        if not isinstance(item, dict):
            out.append(f"{where}: expected a mapping, got {type(item).__name__}")
            continue
        if item.get("kind") not in ENDPOINT_KINDS:
            continue   # other kinds (monitoring, bastion...) are not data services
        address, port = item.get("address"), item.get("port")
        if not isinstance(address, str) or not _DNS_NAME.fullmatch(address) or _IPV4.fullmatch(address):
            out.append(f"{where}.address: {address!r} is not a DNS name (an ExternalName Service needs one; use the node's private DNS name)")
        if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
            out.append(f"{where}.port: {port!r} is not a port number")
    return out


def endpoint_objects(plan: dict, endpoints: list) -> list:
    """ExternalName Services and connection ConfigMaps in every namespace that may reach PostgreSQL or Redis.

    The first endpoint of each kind is used (RDS read replicas have one endpoint each: `postgresql-ro` names the
    first). Raises ValueError when the endpoints are unusable (endpoint_problems)."""
    problems = endpoint_problems(endpoints)
    if problems:
        raise ValueError("; ".join(problems))
    if plan.get("kubernetes", {}).get("mode") not in ("kubeadm", "eks"):
        return []
    first = {}
    for item in endpoints:
        if item.get("kind") in ENDPOINT_KINDS:
            first.setdefault(item["kind"], item)
    services = plan.get("services") or {}
    objs = []
    for ns in namespaces(plan):
        name = ns["namespace"]
        for svc in ("postgresql", "redis"):
            if svc not in ns["reach"]["services"]:
                continue
            kinds = [k for k, (s, _n) in ENDPOINT_KINDS.items() if s == svc and k in first]
            if not kinds:
                continue
            for kind in kinds:
                target = first[kind]
                port = {"name": svc, "protocol": "TCP", "port": target["port"], "targetPort": target["port"]}
                objs.append({"apiVersion": "v1", "kind": "Service", "metadata": _meta(ENDPOINT_KINDS[kind][1], "endpoints", name),
                             "spec": {"type": "ExternalName", "externalName": target["address"], "ports": [port]}})
            objs.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": _meta(f"{svc}-connection", "endpoints", name),
                         "data": _connection(svc, ns, first, services.get(svc) or {})})
    return objs


def _connection(svc: str, ns: dict, first: dict, conf: dict) -> dict:
    """The non-secret connection settings of a data service for one namespace (strings, as a ConfigMap holds them)."""
    main, reader = first.get(f"{svc}-writer" if svc == "postgresql" else "redis-primary"), first.get(f"{svc}-reader")
    data = {"host": (main or reader)["address"], "port": str((main or reader)["port"]), "service": svc}
    if reader:
        data.update(reader_host=reader["address"], reader_service=f"{svc}-ro")
    managed = bool(conf.get("managed"))
    if svc == "postgresql":
        database = ns.get("database") or {}
        if database:
            data.update(database=database["name"], user=database["owner"])
        data["sslmode"] = "require" if managed else "prefer"
        data["password"] = "not here: the user's password is in the operator's secret source (see docs/topology.md, Managed endpoints)"
    else:
        data["tls"] = "true" if managed else "false"
        data["auth"] = "not here: the AUTH token / password is in the operator's secret source"
    return data


# ---------------------------------------------------------------- storage

def _storage(plan: dict) -> list:
    st = plan["storage"]
    params = {"type": st["type"], "encrypted": "true" if st["encrypted"] else "false", "csi.storage.k8s.io/fstype": "ext4"}
    if st["kms_key_arn"]:
        params["kmsKeyId"] = st["kms_key_arn"]
    objs = [{"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
             "metadata": _meta(st["class_name"], "storage", annotations={DEFAULT_CLASS: "true"}),
             "provisioner": st["provisioner"], "parameters": params, "reclaimPolicy": st["reclaim_policy"],
             "allowVolumeExpansion": True, "volumeBindingMode": "WaitForFirstConsumer"}]
    for name in st["demote"]:
        objs.append({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
                     "metadata": {"name": name, "annotations": {DEFAULT_CLASS: "false"}}})
    return objs


# ---------------------------------------------------------------- ingress

def _slug(path: str) -> str:
    words = "-".join(w for w in path.strip("/").lower().replace("_", "-").replace(".", "-").split("/") if w)
    cleaned = "".join(c for c in words if c.isalnum() or c == "-").strip("-")
    return cleaned or "root"


def _ingress(plan: dict) -> list:
    ing = plan.get("ingress")
    if not ing:
        return []
    common = {ALB + "group.name": ing["group_name"], ALB + "scheme": ing["scheme"], ALB + "target-type": ing["target_type"],
              ALB + "listen-ports": json.dumps(ing["listen_ports"], separators=(",", ":")),
              ALB + "healthcheck-path": ing["health_check_path"], ALB + "inbound-cidrs": ",".join(ing["source_cidrs"]),
              ALB + "tags": f"msa:platform={plan['name']}"}
    if ing["certificate_arn"]:
        common[ALB + "certificate-arn"] = ing["certificate_arn"]
        common[ALB + "ssl-redirect"] = "443"
    objs, used = [], set()
    for route in ing["routes"]:
        name = f"{route['service']}-{_slug(route['path'])}"[:63].rstrip("-")
        if (route["namespace"], name) in used:
            name = f"{name[:58]}-{route['order']}"
        used.add((route["namespace"], name))
        annotations = dict(common, **{ALB + "group.order": str(route["order"])})
        path = {"path": route["path"], "pathType": "Prefix",
                "backend": {"service": {"name": route["service"], "port": {"number": route["port"]}}}}
        objs.append({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
                     "metadata": _meta(name, "ingress", route["namespace"], annotations=annotations),
                     "spec": {"ingressClassName": "alb", "rules": [{"http": {"paths": [path]}}]}})
    return objs


# ---------------------------------------------------------------- gitops

def placement(pool: dict) -> dict:
    """nodeSelector and tolerations that put an API's pods on its pool (its labels, tolerating its taints)."""
    selector = {"api": pool["api"]}  # api pools always carry it (topology.API_LABEL)
    tolerations = []
    for taint in pool["taints"]:
        tol = {"key": taint["key"], "operator": "Equal", "value": taint["value"], "effect": taint["effect"]}
        if taint["value"] == "":
            tol = {"key": taint["key"], "operator": "Exists", "effect": taint["effect"]}
        tolerations.append(tol)
    return {"nodeSelector": selector, "tolerations": tolerations}


def _kustomize_patches(place: dict) -> str:
    """A JSON 6902 patch (as JSON text) setting the pod template's nodeSelector and tolerations."""
    ops = [{"op": "add", "path": "/spec/template/spec/nodeSelector", "value": place["nodeSelector"]},
           {"op": "add", "path": "/spec/template/spec/tolerations", "value": place["tolerations"]}]
    return json.dumps(ops, separators=(",", ":"), sort_keys=True)


def _sync_policy(gitops: dict) -> dict:
    return {"automated": {"prune": gitops["prune"], "selfHeal": gitops["self_heal"]},
            "retry": {"limit": 5, "backoff": {"duration": "10s", "factor": 2, "maxDuration": "3m"}}}


def _gitops(plan: dict) -> list:
    gitops = plan.get("gitops")
    if not gitops:
        return []
    if gitops["mode"] == "app_of_apps":
        return [{"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
                 "metadata": _meta("root", "gitops", gitops["namespace"]),
                 "spec": {"project": gitops["project"],
                          "source": {"repoURL": gitops["repo_url"], "targetRevision": gitops["revision"], "path": gitops["path"],
                                     "directory": {"recurse": True}},
                          "destination": {"server": IN_CLUSTER, "namespace": gitops["namespace"]},
                          "syncPolicy": _sync_policy(gitops)}}]
    elements = []
    for pool in plan["pools"]:
        if pool["role"] != "api":
            continue
        place = placement(pool)
        element = {"api": pool["api"], "namespace": pool["namespace"], "path": f"{gitops['path'].rstrip('/')}/{pool['api']}"}
        if gitops["tool"] == "helm":
            element["values"] = json.dumps(place, separators=(",", ":"), sort_keys=True)  # JSON is YAML: helm reads it as values
        else:
            element["patch"] = _kustomize_patches(place)
        elements.append(element)
    source = {"repoURL": gitops["repo_url"], "targetRevision": gitops["revision"], "path": "{{.path}}"}
    if gitops["tool"] == "helm":
        source["helm"] = {"releaseName": "{{.api}}", "values": "{{.values}}"}
    else:
        source["kustomize"] = {"patches": [{"target": {"group": "apps", "version": "v1", "kind": kind}, "patch": "{{.patch}}"}
                                           for kind in ("Deployment", "StatefulSet")]}
    template = {"metadata": {"name": "{{.api}}", "labels": dict(MANAGED_BY, **{"msa.platform/part": "gitops", "msa.platform/api": "{{.api}}"})},
                "spec": {"project": gitops["project"], "source": source,
                         "destination": {"server": IN_CLUSTER, "namespace": "{{.namespace}}"},
                         "syncPolicy": _sync_policy(gitops)}}
    return [{"apiVersion": "argoproj.io/v1alpha1", "kind": "ApplicationSet",
             "metadata": _meta("apis", "gitops", gitops["namespace"]),
             "spec": {"goTemplate": True, "goTemplateOptions": ["missingkey=error"],
                      "generators": [{"list": {"elements": elements}}], "template": template}}]
