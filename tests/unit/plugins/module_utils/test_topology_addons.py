"""Rules of the ingress, domains, gitops and storage sections: each bad input is reported at its field path,
and never raises (wrong types included)."""
from __future__ import annotations

import pytest
from ansible_collections.msa.platform.plugins.module_utils.topology import build_plan, validate
from topology_cases import eks, full_kubeadm, kubeadm

CERT = "arn:aws:acm:ap-northeast-2:123456789012:certificate/0f4c1d2e-3b4a-4c5d-8e9f-0a1b2c3d4e5f"


def _set(t: dict, dotted: str, value):
    """Set t[a][b][0][c] for 'a.b.0.c'."""
    keys = [int(k) if k.isdigit() else k for k in dotted.split(".")]
    node = t
    for key in keys[:-1]:
        node = node[key]
    node[keys[-1]] = value


CASES = [
    # (field to set in full_kubeadm, value, error path, words of the message)
    ("ingress.certificate_arn", "arn:aws:acm:us-east-1:123456789012:certificate/0f4c1d2e-3b4a-4c5d-8e9f-0a1b2c3d4e5f",
     "ingress.certificate_arn", "regional"),
    ("ingress.certificate_arn", "arn:aws:iam::123456789012:server-certificate/x", "ingress.certificate_arn", "not an ACM certificate ARN"),
    ("ingress.scheme", "public", "ingress.scheme", "not one of"),
    ("ingress.source_cidrs", ["10.0.0.1/8"], "ingress.source_cidrs[0]", "host bits"),
    ("ingress.source_cidrs", [], "ingress.source_cidrs", "empty"),
    ("ingress.routes", [], "ingress.routes", "empty"),
    ("ingress.routes.0.service", "frontend", "ingress.routes[0].service", "neither an API"),
    ("ingress.routes.0.path", "api", "ingress.routes[0].path", "starting with '/'"),
    ("ingress.routes.1.path", "/", "ingress.routes[1].path", "already the path of ingress.routes[0]"),
    ("ingress.services.0.namespace", "elsewhere", "ingress.services[0].namespace", "declare a domain"),
    ("ingress.services.0.name", "auth", "ingress.services[0].name", "is an API"),
    ("ingress.routes.0.port", "80", "ingress.routes[0].port", "expected an integer"),
    ("ingress.hosts", ["a.example.com"], "ingress.hosts", "unknown key"),
    ("domains.0.name", "Orders", "domains[0].name", "lowercase"),
    ("domains.1.name", "orders", "domains[1].name", "already the name of domains[0]"),
    ("domains.1.namespace", "orders-ns", "domains[1].namespace", "already the namespace of domains[0]"),
    ("domains.1.namespace", "kube-system", "domains[1].namespace", "system namespace"),
    ("domains.1.namespace", "argocd", "domains[1].namespace", "ArgoCD's namespace"),
    ("domains.0.reach.domains", ["biling"], "domains[0].reach.domains[0]", "did you mean 'billing'"),
    ("domains.0.reach.domains", ["orders"], "domains[0].reach.domains[0]", "its own namespace"),
    ("domains.0.reach.services", ["postgres"], "domains[0].reach.services[0]", "did you mean 'postgresql'"),
    ("domains.0.quota.requests_cpu", "5", "domains[0].quota.requests_cpu", "more than quota.limits_cpu"),
    ("domains.0.quota.requests_memory", "4GB", "domains[0].quota.requests_memory", "Kubernetes quantity"),
    ("domains.0.limits.default_cpu", "2", "domains[0].limits.default_cpu", "more than limits.max_cpu"),
    ("domains.0.limits.max_memory", "16Gi", "domains[0].limits.max_memory", "never be admitted"),
    ("domains.0.ports", [8080, 8080], "domains[0].ports[1]", "listed twice"),
    ("domains.0.quota", "big", "domains[0].quota", "expected a mapping"),
    ("domains", {"name": "orders"}, "domains", "expected a list"),
    ("gitops.repo_url", "http://git.example.com/shop.git", "gitops.repo_url", "clear text"),
    ("gitops.repo_url", "git.example.com/shop.git", "gitops.repo_url", "not an https or ssh"),
    ("gitops.path", "/apps", "gitops.path", "relative path"),
    ("gitops.path", "apps/../..", "gitops.path", "relative path"),
    ("gitops.revision", "main branch", "gitops.revision", "not a branch"),
    ("gitops.namespace", "kube-system", "gitops.namespace", "system namespace"),
    ("gitops.mode", "appset", "gitops.mode", "not one of"),
    ("storage.type", "gp4", "storage.type", "did you mean 'gp3'"),
    ("storage.kms_key_arn", "alias/aws/ebs", "storage.kms_key_arn", "not a KMS key ARN"),
    ("storage.demote", ["ebs-gp3"], "storage.demote[0]", "default class the platform makes"),
    ("storage.class_name", "GP3", "storage.class_name", "DNS subdomain"),
    ("storage.encrypted", "yes", "storage.encrypted", "expected true or false"),
]


@pytest.mark.parametrize(("field", "value", "path", "words"), CASES, ids=[f"{c[0]}={c[1]!r}"[:60] for c in CASES])
def test_bad_addon_input_is_reported_at_its_path(field, value, path, words):
    topology = full_kubeadm()
    _set(topology, field, value)
    errors = validate(topology)
    at = [e for e in errors if e.split(": ", 1)[0] == path]
    assert at and any(words in e for e in at), errors


def test_the_alb_needs_the_subnets_it_is_discovered_in():
    topology = full_kubeadm()
    topology["network"]["tiers"] = ["app", "data", "mgmt", "mq"]
    topology["network"]["nat"] = "none"
    topology["network"]["access"] = "direct"  # a VPN server (like a bastion) would need the public tier too
    del topology["network"]["vpn"]
    assert [e for e in validate(topology) if e.startswith("ingress.")] == [
        "ingress.scheme: an internet-facing ALB lives in the public subnets (the ones tagged for load balancer discovery), but "
        "network.tiers has no public; add it"]
    topology["ingress"]["scheme"] = "internal"
    assert validate(topology) == []


def test_a_data_service_must_exist_to_be_reached():
    topology = eks()
    topology["domains"] = [{"name": "orders", "reach": {"services": ["redis"]}}]
    assert validate(topology) == ["domains[0].reach.services[0]: the platform has no redis (no pool with role: redis, not managed); "
                                  "add one or remove it"]
    topology["services"] = {"redis": {"managed": True}}  # a managed service (issue 17) counts; its schema is not on this branch
    assert "domains[0].reach.services[0]" not in " ".join(validate(topology))


def test_applicationset_needs_api_pools_and_tool_needs_applicationset():
    topology = kubeadm()
    topology["pools"] = [p for p in topology["pools"] if p["role"] != "api"]
    topology["gitops"] = {"repo_url": "git@github.com:shop/deploy.git", "mode": "applicationset"}
    assert validate(topology) == ["gitops.mode: applicationset makes one Application per API pool, but there is no pool with role: api; "
                                  "use app_of_apps"]
    topology["gitops"] = {"repo_url": "git@github.com:shop/deploy.git", "tool": "helm"}
    assert [e.split(":")[0] for e in validate(topology)] == ["gitops.tool"]


def test_addon_sections_need_a_cluster():
    topology = {"name": "plain", "region": "ap-northeast-2", "kubernetes": {"mode": "none"}, "network": {"admin_cidrs": ["203.0.113.0/24"]},
                "pools": [{"name": "pg", "role": "postgresql"}], "storage": {}, "domains": []}
    errors = validate(topology)
    assert {e.split(":")[0] for e in errors} == {"storage", "domains"}


def test_defaults_and_absent_sections_in_the_plan():
    plan, errors = build_plan(kubeadm())
    assert errors == []
    assert plan["ingress"] is None and plan["gitops"] is None and plan["domains"] == []
    assert plan["storage"] == {"class_name": "gp3", "type": "gp3", "encrypted": True, "kms_key_arn": None, "reclaim_policy": "Delete",
                               "demote": [], "provisioner": "ebs.csi.aws.com"}
    topology = eks()
    topology["gitops"] = {"repo_url": "https://github.com/shop/deploy.git"}
    topology["domains"] = [{"name": "orders-domain"}]
    plan, errors = build_plan(topology)
    assert errors == []
    assert plan["storage"]["demote"] == ["gp2"]
    assert plan["gitops"] == {"repo_url": "https://github.com/shop/deploy.git", "revision": "HEAD", "path": "apps", "mode": "applicationset",
                              "tool": "kustomize", "namespace": "argocd", "project": "default", "prune": True, "self_heal": True}
    [dom] = plan["domains"]
    assert dom["namespace"] == "orders-domain" and dom["pod_security"] == "baseline"
    assert dom["quota"]["requests_cpu"] == "4" and dom["limits"]["default_memory"] == "512Mi"
    assert dom["reach"] == {"domains": [], "services": [], "internet": False}


def test_routes_resolve_namespace_and_ports_and_order_by_specificity():
    plan, errors = build_plan(full_kubeadm())
    assert errors == []
    routes = plan["ingress"]["routes"]
    assert routes == [
        {"path": "/auth", "service": "auth", "namespace": "auth-ns", "port": 8080, "target_port": 8080, "order": 1},
        {"path": "/", "service": "web", "namespace": "orders-ns", "port": 80, "target_port": 3000, "order": 2},
    ]
    assert plan["ingress"]["certificate_arn"] == CERT
    assert plan["ingress"]["target_type"] == "instance"


def _nodes(value, path=()):
    """Every (path, value) below `value`, containers included."""
    yield path, value
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, sub in items:
        yield from _nodes(sub, (*path, key))


ADDON_NODES = [p for section in ("ingress", "domains", "gitops", "storage") for p, _v in _nodes(full_kubeadm()[section], (section,))]


@pytest.mark.parametrize("path", ADDON_NODES, ids=[".".join(map(str, p)) for p in ADDON_NODES])
def test_wrong_types_anywhere_in_the_addon_sections_are_errors_not_exceptions(path):
    for wrong in (None, 7, True, [], {}, "x", [{"a": 1}]):
        topology = full_kubeadm()
        node = topology
        for key in path[:-1]:
            node = node[key]
        original = node[path[-1]]
        node[path[-1]] = wrong
        errors = validate(topology)
        assert isinstance(errors, list)
        if type(wrong) is not type(original):  # same type may be valid (a port 7, an empty list of services)
            assert errors, (path, wrong)
