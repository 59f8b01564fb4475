"""The add-on manifests (module_utils/addons.py) of the three example platforms.

Every built-in object passes kubernetes-validate strictly against the plan's Kubernetes minor; ArgoCD objects pass
the strict field sets of the pinned ArgoCD line (argocd_crd_fields.py). The network policies are checked as data:
netpol_eval answers, from the rendered policies only, whether each (source, destination, port) is allowed, and
every pair of namespaces, data services, DNS, the ALB and monitoring is held to the topology's reach.
"""
from __future__ import annotations

import copy
import functools
import ipaddress
import json
import re
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml
from ansible_collections.msa.platform.plugins.module_utils import addons
from ansible_collections.msa.platform.plugins.module_utils.topology import build_plan
from argocd_crd_fields import SCHEMAS
from kubernetes_validate import utils as kv_utils
from netpol_eval import Cluster, Ip, Pod
from topology_cases import full_kubeadm

ROOT = Path(__file__).resolve().parents[4]
EXAMPLES = ("courm-eks", "domains-eks", "ecoeco-kubeadm")


def _topology(name: str) -> dict:
    return yaml.safe_load((ROOT / "inventories" / "examples" / name / "group_vars" / "all" / "topology.yml").read_text())["platform"]


def _plan(topology: dict) -> dict:
    plan, errors = build_plan(topology)
    assert errors == []
    return plan


PLANS = {name: _plan(_topology(name)) for name in EXAMPLES}
PLANS["full-kubeadm"] = _plan(full_kubeadm())


def _all(plan: dict) -> list:
    return [obj for part in addons.PARTS for obj in addons.manifests(plan, part)]


def _host(cidr: str, n: int = 10) -> str:
    return str(ipaddress.ip_network(cidr).network_address + n)


# ---------------------------------------------------------------- schemas

@pytest.fixture(scope="module", autouse=True)
def _schemas_read_once():
    """kubernetes-validate reads its ~4 MB definitions file on every call; read each schema file once here."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(kv_utils, "schema_contents", functools.lru_cache(maxsize=None)(kv_utils.schema_contents))
        yield


@pytest.mark.parametrize("name", PLANS)
def test_every_object_passes_the_real_schemas_strictly(name):
    plan = PLANS[name]
    objs = _all(plan)
    kinds = {o["kind"] for o in objs}
    assert {"Namespace", "ResourceQuota", "LimitRange", "NetworkPolicy", "StorageClass"} <= kinds
    for obj in objs:
        if obj["apiVersion"].startswith("argoproj.io/"):
            jsonschema.validate(obj, SCHEMAS[obj["kind"]])
        elif not addons.is_patch(obj):
            kubernetes_validate.validate(obj, plan["kubernetes"]["version"], strict=True)


def test_the_schemas_here_are_strict():
    plan = PLANS["domains-eks"]
    [appset] = addons.manifests(plan, "gitops")
    broken = copy.deepcopy(appset)
    broken["spec"]["template"]["spec"]["source"]["kustomize"]["patchesJson6902"] = []
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, SCHEMAS["ApplicationSet"])
    quota = next(o for o in addons.manifests(plan, "domains") if o["kind"] == "ResourceQuota")
    broken = copy.deepcopy(quota)
    broken["spec"]["hardd"] = broken["spec"].pop("hard")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, "1.35", strict=True)


def test_same_plan_same_objects():
    assert json.dumps(_all(_plan(_topology("domains-eks")))) == json.dumps(_all(PLANS["domains-eks"]))


def test_every_object_is_labelled_for_the_applier():
    for plan in PLANS.values():
        for obj in _all(plan):
            if not addons.is_patch(obj):
                assert obj["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "msa-platform", obj


# ---------------------------------------------------------------- ingress

def _ingresses(plan):
    return {o["metadata"]["name"]: o for o in addons.manifests(plan, "ingress")}


def test_courm_ingress_sends_api_before_the_catch_all_with_https_on_ip_targets():
    ing = _ingresses(PLANS["courm-eks"])
    assert set(ing) == {"frontend-root", "backend-api"}
    api, root = ing["backend-api"]["metadata"], ing["frontend-root"]["metadata"]
    assert int(api["annotations"]["alb.ingress.kubernetes.io/group.order"]) < int(root["annotations"]["alb.ingress.kubernetes.io/group.order"])
    for meta in (api, root):
        notes = meta["annotations"]
        assert meta["namespace"] == "courm"
        assert notes["alb.ingress.kubernetes.io/target-type"] == "ip"
        assert notes["alb.ingress.kubernetes.io/group.name"] == "courm"
        assert notes["alb.ingress.kubernetes.io/scheme"] == "internet-facing"
        assert json.loads(notes["alb.ingress.kubernetes.io/listen-ports"]) == [{"HTTP": 80}, {"HTTPS": 443}]
        assert notes["alb.ingress.kubernetes.io/certificate-arn"].startswith("arn:aws:acm:ap-northeast-2:")
        assert notes["alb.ingress.kubernetes.io/ssl-redirect"] == "443"
        assert notes["alb.ingress.kubernetes.io/healthcheck-path"] == "/healthz"
        assert notes["alb.ingress.kubernetes.io/inbound-cidrs"] == "0.0.0.0/0"
    path = ing["backend-api"]["spec"]["rules"][0]["http"]["paths"][0]
    assert path == {"path": "/api", "pathType": "Prefix", "backend": {"service": {"name": "backend", "port": {"number": 80}}}}
    assert ing["backend-api"]["spec"]["ingressClassName"] == "alb"


def test_ecoeco_ingress_uses_instance_targets_and_plain_http_without_a_certificate():
    ing = _ingresses(PLANS["ecoeco-kubeadm"])
    assert len(ing) == 7
    for obj in ing.values():
        notes = obj["metadata"]["annotations"]
        assert notes["alb.ingress.kubernetes.io/target-type"] == "instance"
        assert json.loads(notes["alb.ingress.kubernetes.io/listen-ports"]) == [{"HTTP": 80}]
        assert "alb.ingress.kubernetes.io/ssl-redirect" not in notes and "alb.ingress.kubernetes.io/certificate-arn" not in notes
    assert ing["auth-auth"]["metadata"]["namespace"] == "auth"


def test_internal_scheme_defaults_its_sources_to_the_vpc():
    topology = _topology("courm-eks")
    topology["ingress"]["scheme"] = "internal"
    plan = _plan(topology)
    assert plan["ingress"]["source_cidrs"] == ["10.10.0.0/16"]
    app = [s["cidr"] for s in plan["network"]["subnets"] if s["tier"] == "app"]
    assert plan["ingress"]["traffic_sources"] == app  # internal ALBs live in the app subnets (tagged role/internal-elb)


# ---------------------------------------------------------------- storage and gitops

def test_storage_default_gp3_encrypted_wait_for_first_consumer_and_gp2_demoted_on_eks():
    sc, demote = addons.manifests(PLANS["courm-eks"], "storage")
    assert sc["metadata"]["name"] == "gp3" and sc["metadata"]["annotations"] == {"storageclass.kubernetes.io/is-default-class": "true"}
    assert sc["provisioner"] == "ebs.csi.aws.com" and sc["volumeBindingMode"] == "WaitForFirstConsumer"
    assert sc["parameters"]["type"] == "gp3" and sc["parameters"]["encrypted"] == "true"
    assert addons.is_patch(demote) and not addons.is_patch(sc)
    assert demote["metadata"] == {"name": "gp2", "annotations": {"storageclass.kubernetes.io/is-default-class": "false"}}
    assert addons.manifests(PLANS["ecoeco-kubeadm"], "storage")[1:] == []
    [kms] = addons.manifests(PLANS["full-kubeadm"], "storage")[:1]
    assert kms["parameters"]["kmsKeyId"].startswith("arn:aws:kms:") and kms["reclaimPolicy"] == "Retain"


def test_app_of_apps_is_one_root_application():
    [root] = addons.manifests(PLANS["ecoeco-kubeadm"], "gitops")
    assert root["kind"] == "Application" and root["metadata"]["namespace"] == "argocd"
    assert root["spec"]["source"] == {"repoURL": "git@github.com:ecoeco/deploy.git", "targetRevision": "main", "path": "clusters/prod",
                                      "directory": {"recurse": True}}
    assert root["spec"]["syncPolicy"]["automated"] == {"prune": True, "selfHeal": True}


def _pool(plan, api):
    return next(p for p in plan["pools"] if p["api"] == api)


def test_applicationset_places_each_api_on_its_pool_with_kustomize_patches():
    plan = PLANS["domains-eks"]
    [appset] = addons.manifests(plan, "gitops")
    elements = appset["spec"]["generators"][0]["list"]["elements"]
    assert [e["api"] for e in elements] == ["order", "product", "user"]
    for element in elements:
        pool = _pool(plan, element["api"])
        assert element["namespace"] == pool["namespace"] and element["path"] == f"apps/{pool['api']}"
        ops = {op["path"]: op["value"] for op in json.loads(element["patch"])}
        selector, tolerations = ops["/spec/template/spec/nodeSelector"], ops["/spec/template/spec/tolerations"]
        assert selector.items() <= pool["labels"].items()
        for taint in pool["taints"]:
            assert {"key": taint["key"], "operator": "Equal", "value": taint["value"], "effect": taint["effect"]} in tolerations
    patches = appset["spec"]["template"]["spec"]["source"]["kustomize"]["patches"]
    assert {p["target"]["kind"] for p in patches} == {"Deployment", "StatefulSet"}


def test_applicationset_with_helm_passes_placement_as_values():
    plan = PLANS["full-kubeadm"]
    [appset] = addons.manifests(plan, "gitops")
    [element] = appset["spec"]["generators"][0]["list"]["elements"]
    values = yaml.safe_load(element["values"])
    assert values["nodeSelector"] == {"api": "auth"}
    assert values["tolerations"] == [{"key": "api", "operator": "Equal", "value": "auth", "effect": "NoSchedule"}]
    assert appset["spec"]["template"]["spec"]["source"]["helm"] == {"releaseName": "{{.api}}", "values": "{{.values}}"}
    assert appset["spec"]["template"]["spec"]["project"] == "shop"


def test_no_cluster_no_objects():
    plan = copy.deepcopy(PLANS["ecoeco-kubeadm"])
    plan["kubernetes"] = {"mode": "none"}
    assert all(addons.manifests(plan, part) == [] for part in addons.PARTS)
    with pytest.raises(ValueError, match="part 'nope'"):
        addons.manifests(plan, "nope")


# ---------------------------------------------------------------- network policies as data

def _expected(topology: dict, plan: dict) -> dict:
    """{namespace: (reached domain namespaces, reached data services, internet)} straight from the topology."""
    present = {s for s in ("postgresql", "redis", "rabbitmq", "kafka") if s in plan["services"]}
    ns_of = {d["name"]: d.get("namespace", d["name"]) for d in topology.get("domains", [])}
    out = {}
    for dom in topology.get("domains", []):
        reach = dom.get("reach", {})
        out[ns_of[dom["name"]]] = ({ns_of[d] for d in reach.get("domains", [])}, set(reach.get("services", [])), reach.get("internet", False))
    for pool in plan["pools"]:
        if pool["role"] == "api" and pool["namespace"] not in out:
            out[pool["namespace"]] = (set(), present, False)
    return out


@pytest.mark.parametrize("name", (*EXAMPLES, "full-kubeadm"))
def test_network_policies_allow_exactly_what_the_topology_reaches(name):
    plan = PLANS[name]
    topology = full_kubeadm() if name == "full-kubeadm" else _topology(name)
    objs = addons.manifests(plan, "domains")
    cluster = Cluster(objs, {"kube-system": {}, "monitoring": {}, "default": {}})
    expected = _expected(topology, plan)
    spaces = {n["namespace"]: n for n in addons.namespaces(plan)}
    assert set(spaces) == set(expected)
    endpoints = addons.data_endpoints(plan)
    routed = {}
    for route in (plan["ingress"] or {}).get("routes", []):
        routed.setdefault(route["namespace"], set()).add(route["target_port"])
    checked = 0
    for ns, (domains, services, internet) in expected.items():
        pod = Pod(ns, {"app": "x"})
        # own namespace, any port; DNS to CoreDNS only
        assert cluster.allowed(pod, Pod(ns, {"app": "y"}), 12345)
        assert cluster.allowed(pod, Pod("kube-system", {"k8s-app": "kube-dns"}), 53, "UDP")
        assert cluster.allowed(pod, Pod("kube-system", {"k8s-app": "kube-dns"}), 53, "TCP")
        assert not cluster.allowed(pod, Pod("kube-system", {"k8s-app": "other"}), 53, "UDP")
        assert not cluster.allowed(pod, Pod("kube-system", {"k8s-app": "kube-dns"}), 443)
        # other namespaces: their ports only when reached, never other ports; nothing from outside namespaces
        for other, conf in spaces.items():
            if other == ns:
                continue
            for port in conf["ports"]:
                assert cluster.allowed(pod, Pod(other), port) == (other in domains), (ns, other, port)
                checked += 1
            assert not cluster.allowed(pod, Pod(other), 6553)
        assert not cluster.allowed(Pod("default"), pod, spaces[ns]["ports"][0])
        # data services: their subnets and ports only when reached
        for svc, (cidrs, ports) in endpoints.items():
            for port in ports:
                assert cluster.allowed(pod, Ip(_host(cidrs[-1])), port) == (svc in services), (ns, svc, port)
                checked += 1
            assert not cluster.allowed(pod, Ip(_host(cidrs[0])), 22)
        assert cluster.allowed(pod, Ip("8.8.8.8"), 443) == internet
        assert not cluster.allowed(pod, Ip("8.8.8.8"), 80)
        assert not cluster.allowed(pod, Ip(_host(plan["network"]["cidr"], 300)), 443)
        # the ALB reaches routed container ports only, from its traffic sources only
        for port in sorted(routed.get(ns, ())):
            for source in plan["ingress"]["traffic_sources"]:
                assert cluster.allowed(Ip(_host(source)), pod, port)
            assert not cluster.allowed(Ip("203.0.113.9"), pod, port)
        if plan["ingress"]:
            assert not cluster.allowed(Ip(_host(plan["ingress"]["traffic_sources"][0])), pod, 2222)
        # monitoring scrapes the metrics port only
        metrics = spaces[ns]["metrics_port"]
        assert cluster.allowed(Pod("monitoring", {"app": "prometheus"}), pod, metrics)
        assert not cluster.allowed(Pod("monitoring", {"app": "prometheus"}), pod, 6553)
    assert checked


def test_the_evaluator_sees_a_missing_deny():
    """Without the default-deny policy every namespace is open again: the checks above can fail."""
    plan = PLANS["domains-eks"]
    dropped = ("default-deny", "allow-reach", "allow-same-namespace", "allow-dns")
    objs = [o for o in addons.manifests(plan, "domains") if o["metadata"]["name"] not in dropped]
    cluster = Cluster(objs, {"kube-system": {}})
    assert cluster.allowed(Pod("product"), Pod("kube-system"), 443)
    full = Cluster(addons.manifests(plan, "domains"), {"kube-system": {}})
    assert not full.allowed(Pod("product"), Pod("kube-system"), 443)
    assert not full.allowed(Pod("product"), Pod("order"), 8080)
    assert full.allowed(Pod("order"), Pod("product"), 8080)


def test_namespaces_carry_pod_security_quota_and_limits():
    objs = addons.manifests(PLANS["domains-eks"], "domains")
    ns = next(o for o in objs if o["kind"] == "Namespace" and o["metadata"]["name"] == "order")
    labels = ns["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    assert labels["pod-security.kubernetes.io/enforce-version"] == "v1.35"
    quota = next(o for o in objs if o["kind"] == "ResourceQuota" and o["metadata"]["namespace"] == "product")
    assert quota["spec"]["hard"]["requests.cpu"] == "2" and quota["spec"]["hard"]["pods"] == "30"
    limits = next(o for o in objs if o["kind"] == "LimitRange" and o["metadata"]["namespace"] == "product")
    assert limits["spec"]["limits"][0]["max"] == {"cpu": "1", "memory": "2Gi"}


# ---------------------------------------------------------------- data service endpoints

RDS = "courm-postgresql.c9akciq32.ap-northeast-2.rds.amazonaws.com"
MANAGED_ENDPOINTS = [
    {"name": "courm-postgresql", "kind": "postgresql-writer", "address": RDS, "port": 5432, "note": "RDS primary"},
    {"name": "courm-postgresql-replica-1", "kind": "postgresql-reader", "address": "courm-postgresql-replica-1.c9akciq32.ap-northeast-2"
     ".rds.amazonaws.com", "port": 5432, "note": "RDS read replica"},
    {"name": "courm-postgresql-replica-2", "kind": "postgresql-reader", "address": "courm-postgresql-replica-2.c9akciq32.ap-northeast-2"
     ".rds.amazonaws.com", "port": 5432, "note": "second replica: postgresql-ro names the first"},
    {"name": "courm-redis", "kind": "redis-primary", "address": "master.courm-redis.abc123.apn2.cache.amazonaws.com", "port": 6379},
    {"name": "courm-redis-reader", "kind": "redis-reader", "address": "replica.courm-redis.abc123.apn2.cache.amazonaws.com", "port": 6379},
    {"name": "courm-monitoring-1", "kind": "prometheus", "address": "10.0.1.5", "port": 9090},   # not a data service: ignored
]


def _by_key(objs: list) -> dict:
    return {(o["metadata"]["namespace"], o["kind"], o["metadata"]["name"]): o for o in objs}


def test_managed_endpoints_become_external_names_and_connection_settings_that_pass_the_schemas():
    plan = PLANS["courm-eks"]
    objs = addons.endpoint_objects(plan, MANAGED_ENDPOINTS)
    for obj in objs:
        kubernetes_validate.validate(obj, plan["kubernetes"]["version"], strict=True)
        assert obj["metadata"]["labels"] == {**addons.MANAGED_BY, "msa.platform/part": "endpoints"}
    found = _by_key(objs)
    assert sorted(found) == [("courm", "ConfigMap", "postgresql-connection"), ("courm", "ConfigMap", "redis-connection"),
                             ("courm", "Service", "postgresql"), ("courm", "Service", "postgresql-ro"), ("courm", "Service", "redis"),
                             ("courm", "Service", "redis-ro")]
    writer = found[("courm", "Service", "postgresql")]["spec"]
    assert (writer["type"], writer["externalName"], writer["ports"][0]["port"]) == ("ExternalName", RDS, 5432)
    assert found[("courm", "Service", "postgresql-ro")]["spec"]["externalName"].startswith("courm-postgresql-replica-1.")
    assert found[("courm", "ConfigMap", "postgresql-connection")]["data"]["sslmode"] == "require"
    redis = found[("courm", "ConfigMap", "redis-connection")]["data"]
    assert (redis["host"], redis["reader_host"], redis["port"], redis["tls"]) == (
        "master.courm-redis.abc123.apn2.cache.amazonaws.com", "replica.courm-redis.abc123.apn2.cache.amazonaws.com", "6379", "true")
    # no secret, nor a pointer to the master's
    assert not any(k in ("password_secret_arn", "auth_token") for o in objs if o["kind"] == "ConfigMap" for k in o["data"])


def test_self_managed_endpoints_follow_each_namespace_reach_with_its_database():
    plan = PLANS["domains-eks"]
    endpoints = [{"name": "domains-postgresql-1", "kind": "postgresql-writer", "port": 5432,
                  "address": "ip-10-20-3-10.ap-northeast-2.compute.internal"}]
    found = _by_key(addons.endpoint_objects(plan, endpoints))
    # order and user reach PostgreSQL; product has a database but no reach, so nothing (its NetworkPolicy blocks it too)
    assert sorted(found) == [("order", "ConfigMap", "postgresql-connection"), ("order", "Service", "postgresql"),
                             ("user", "ConfigMap", "postgresql-connection"), ("user", "Service", "postgresql")]
    user = found[("user", "ConfigMap", "postgresql-connection")]["data"]
    assert (user["database"], user["user"], user["host"], user["sslmode"]) == (
        "user_db", "user_svc", "ip-10-20-3-10.ap-northeast-2.compute.internal", "prefer")
    assert "reader_host" not in user and ("user", "Service", "postgresql-ro") not in found
    assert addons.endpoint_objects(plan, []) == []


@pytest.mark.parametrize(("endpoints", "fragment"), [
    ([{"kind": "postgresql-writer", "address": "10.0.3.10", "port": 5432}], "endpoints[0].address: '10.0.3.10' is not a DNS name"),
    ([{"kind": "redis-primary", "address": "Master.Redis", "port": 6379}], "endpoints[0].address"),
    ([{"kind": "redis-primary", "address": "master.redis", "port": True}], "endpoints[0].port: True"),
    ([{"kind": "redis-primary", "address": "master.redis", "port": "6379"}], "endpoints[0].port"),
    (["master.redis"], "endpoints[0]: expected a mapping"),
    ({"kind": "redis-primary"}, "endpoints: expected a list"),
])
def test_unusable_endpoints_are_refused_naming_the_entry(endpoints, fragment):
    with pytest.raises(ValueError, match=re.escape(fragment)):
        addons.endpoint_objects(PLANS["courm-eks"], endpoints)
