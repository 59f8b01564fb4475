"""domains[] (ECR, S3, database, IAM), network.access / network.vpn and the ci pool: plan keys and rejections with field paths."""
from __future__ import annotations

import copy

import pytest
from ansible_collections.msa.platform.plugins.module_utils.topology import build_plan
from ansible_collections.msa.platform.plugins.module_utils.topology_domains import bucket_name_problem
from topology_cases import eks, kubeadm, net

ORDER = {"name": "order", "ecr": {"repositories": ["order-api"]},
         "bucket": {"lifecycle": [{"id": "docs-7y", "prefix": "documents/", "expire_days": 2555}]},
         "database": {}}


def _eks(*domains) -> dict:
    t = eks()
    t["domains"] = [copy.deepcopy(d) for d in domains]
    return t


def _plan(t):
    plan, errors = build_plan(t)
    assert errors == []
    return plan


def _errors(t) -> list:
    plan, errors = build_plan(t)
    assert plan is None
    return errors


def test_domain_plan_names_every_resource():
    plan = _plan(_eks(ORDER))
    dom = plan["domains"][0]
    assert dom["namespace"] == "order"
    assert dom["ecr"] == {"repositories": ["shop/order/order-api"], "keep_images": 30, "untagged_days": 14,
                          "scan_on_push": True, "immutable_tags": True}
    assert dom["bucket"]["name"] == "shop-order-{account_id}"
    assert dom["bucket"]["lifecycle"] == [{"id": "docs-7y", "prefix": "documents/", "expire_days": 2555,
                                           "glacier_days": None, "noncurrent_days": None}]
    assert dom["database"] == {"name": "order", "owner": "order"}
    assert dom["iam"] == {"role": "shop-order-workload", "mode": "irsa", "service_account": "order", "namespace": "order"}
    assert {"name": "order", "owner": "order"} in plan["services"]["postgresql"]["databases"]


def test_a_domain_without_aws_resources_has_null_keys_and_no_role():
    dom = _plan(_eks({"name": "catalog-x"}))["domains"][0]
    aws = {k: dom[k] for k in ("name", "namespace", "ecr", "bucket", "database", "iam")}
    assert aws == {"name": "catalog-x", "namespace": "catalog-x", "ecr": None, "bucket": None, "database": None, "iam": None}


def test_database_default_name_and_no_duplicate_in_postgresql():
    t = _eks({"name": "user-prefs", "database": {}})
    t["services"] = {"postgresql": {"databases": [{"name": "user_prefs"}]}}
    plan = _plan(t)
    assert plan["domains"][0]["database"] == {"name": "user_prefs", "owner": "user_prefs"}
    assert [d["name"] for d in plan["services"]["postgresql"]["databases"]] == ["user_prefs"]


def test_kubeadm_domains_get_no_irsa_role():
    t = kubeadm()
    t["domains"] = [copy.deepcopy(ORDER)]
    assert _plan(t)["domains"][0]["iam"] is None


@pytest.mark.parametrize("domain, path, fragment", [
    ({"name": "order", "colour": 1}, "domains[0].colour", "unknown key"),
    ({"name": "Order"}, "domains[0].name", "lowercase"),
    ({"name": "o", "namespace": "kube-system"}, "domains[0].namespace", "system namespace"),
    ({"name": "o", "ecr": {"repositories": []}}, "domains[0].ecr.repositories", "empty"),
    ({"name": "o", "ecr": {}}, "domains[0].ecr.repositories", "required"),
    ({"name": "o", "ecr": {"repositories": ["Api"]}}, "domains[0].ecr.repositories[0]", "not an ECR repository name"),
    ({"name": "o", "ecr": {"repositories": ["a/b"]}}, "domains[0].ecr.repositories[0]", "no '/'"),
    ({"name": "o", "ecr": {"repositories": ["api", "api"]}}, "domains[0].ecr.repositories[1]", "twice"),
    ({"name": "o", "ecr": {"repositories": ["api"], "keep_images": "30"}}, "domains[0].ecr.keep_images", "expected an integer"),
    ({"name": "o", "bucket": {"suffix": "My_Bucket"}}, "domains[0].bucket.suffix", "lowercase letters, digits and '-'"),
    ({"name": "o", "bucket": {"suffix": "a.b"}}, "domains[0].bucket.suffix", "contains '.'"),
    ({"name": "o", "bucket": {"suffix": "x" * 60}}, "domains[0].bucket.suffix", "3 to 63"),
    ({"name": "o", "bucket": {"suffix": "data-s3alias"}}, "domains[0].bucket.suffix", "reserves"),
    ({"name": "o", "bucket": {"suffix": "data-"}}, "domains[0].bucket.suffix", "begin and end"),
    ({"name": "o" * 50, "bucket": {}}, "domains[0].name", "3 to 63"),
    ({"name": "o", "bucket": {"lifecycle": [{"id": "r"}]}}, "domains[0].bucket.lifecycle[0]", "does nothing"),
    ({"name": "o", "bucket": {"lifecycle": [{"id": "r", "expire_days": 0}]}}, "domains[0].bucket.lifecycle[0].expire_days", "below"),
    ({"name": "o", "bucket": {"lifecycle": [{"id": "r", "expire_days": 30, "glacier_days": 90}]}},
     "domains[0].bucket.lifecycle[0].glacier_days", "not before"),
    ({"name": "o", "bucket": {"lifecycle": [{"id": "r", "expire_days": 3}, {"id": "r", "expire_days": 4}]}},
     "domains[0].bucket.lifecycle[1].id", "unique"),
    ({"name": "o", "bucket": {"versioning": False, "lifecycle": [{"id": "r", "noncurrent_days": 3}]}},
     "domains[0].bucket.lifecycle[0].noncurrent_days", "versioning"),
    ({"name": "o", "database": {"name": "Order"}}, "domains[0].database.name", "PostgreSQL identifier"),
    ({"name": "o", "iam": {"service_account": "SA"}}, "domains[0].iam.service_account", "lowercase"),
    ({"name": "o" * 52, "ecr": {"repositories": ["a1"]}}, "domains[0].name", "64"),
])
def test_bad_domains_are_rejected_with_their_path(domain, path, fragment):
    errors = _errors(_eks(domain))
    assert any(e.startswith(path + ":") and fragment in e for e in errors), errors


def test_duplicate_domains_and_databases():
    errors = _errors(_eks({"name": "a", "database": {"name": "x"}}, {"name": "a", "namespace": "b", "database": {"name": "x"}}))
    assert any(e.startswith("domains[1].name:") and "unique" in e for e in errors), errors
    assert any(e.startswith("domains[1].database.name:") for e in errors), errors


def test_database_needs_postgresql():
    t = _eks({"name": "order", "database": {}})
    t["pools"] = [p for p in t["pools"] if p["role"] != "postgresql"]
    assert any(e.startswith("domains[0].database:") and "no PostgreSQL" in e for e in _errors(t))


def test_database_owner_conflict_with_services_list():
    t = _eks({"name": "order", "database": {"owner": "a"}})
    t["services"] = {"postgresql": {"databases": [{"name": "order", "owner": "b"}]}}
    assert any(e.startswith("domains[0].database:") and "one owner" in e for e in _errors(t))


def test_irsa_asked_on_kubeadm_is_an_error():
    t = kubeadm()
    t["domains"] = [{"name": "order", "iam": {}}]
    assert any(e.startswith("domains[0].iam:") and "eks mode" in e for e in _errors(t))


def test_wrong_types_give_messages_not_exceptions():
    for bad in (None, 3, "x", [1], {"name": 3}, {"name": "o", "ecr": []}, {"name": "o", "bucket": {"lifecycle": {}}}):
        t = eks()
        t["domains"] = [bad] if not isinstance(bad, str) else bad
        assert _errors(t)


def test_bucket_name_rules_count_the_account_id():
    assert bucket_name_problem("shop-order-{account_id}") == ""
    assert "3 to 63" in bucket_name_problem("p" * 50 + "-order-{account_id}")
    assert "reserves" in bucket_name_problem("xn--shop-order")
    assert bucket_name_problem("shop-order-data") == ""


# ------------------------------------------------------------------ access

def test_access_defaults_follow_the_bastion_flag():
    assert _plan(eks())["network"]["access"] == "direct"
    t = eks()
    net(t)["bastion"] = True
    assert _plan(t)["network"]["access"] == "bastion"


def test_ssm_access_opens_no_operator_ingress():
    t = kubeadm()
    net(t)["access"] = "ssm"
    plan = _plan(t)
    groups = {g["name"]: g for g in plan["security_groups"]}
    assert not [r for r in groups["shop-node"]["rules"] if r["from_port"] == 22]
    assert not [r for r in groups["shop-monitoring"]["rules"] if r["from_port"] == 9090]
    assert plan["network"]["vpn"] is None and not plan["network"]["bastion"]


def test_vpn_access_runs_on_the_bastion_and_opens_its_port_to_admins_only():
    t = kubeadm()
    net(t).update(access="vpn", vpn={"users": ["alice", "bob"], "port": 1195})
    plan = _plan(t)
    assert plan["network"]["bastion"] is True
    assert plan["network"]["vpn"] == {"client_cidr": "10.250.0.0/24", "port": 1195, "protocol": "udp", "users": ["alice", "bob"],
                                      "server": "shop-bastion-1"}
    assert [(p["role"], p["tier"], p["source_dest_check"]) for p in plan["pools"] if p["role"] == "bastion"] == [
        ("bastion", "public", False)]   # the server forwards its clients' own addresses
    assert all(p["source_dest_check"] for p in plan["pools"] if p["role"] != "bastion" and not p["kubernetes"])
    bastion = next(g for g in plan["security_groups"] if g["name"] == "shop-bastion")
    assert {"proto": "udp", "from_port": 1195, "to_port": 1195, "cidr": "203.0.113.0/24",
            "description": "OpenVPN from admin network"} in bastion["rules"]
    groups = {g["name"]: g for g in plan["security_groups"]}
    # every operator port (SSH, the UIs) admits the client range besides the bastion; nothing else does
    assert [r.get("source_group") or r["cidr"] for r in groups["shop-node"]["rules"] if r["from_port"] == 22] == [
        "shop-bastion", "10.250.0.0/24"]
    assert [(r["from_port"], r["description"]) for r in groups["shop-monitoring"]["rules"] if r.get("cidr") == "10.250.0.0/24"] == [
        (9090, "Prometheus UI from VPN clients")]
    assert [g for g in groups if any(r.get("cidr") == "10.250.0.0/24" for r in groups[g]["rules"])] == [
        "shop-node", "shop-rabbitmq", "shop-monitoring"]   # SSH, RabbitMQ management UI, Prometheus UI


def test_bastion_access_keeps_operator_ingress_to_the_bastion_and_the_check_on():
    t = kubeadm()
    net(t)["access"] = "bastion"
    plan = _plan(t)
    node = next(g for g in plan["security_groups"] if g["name"] == "shop-node")
    assert [r["source_group"] for r in node["rules"] if r["from_port"] == 22] == ["shop-bastion"]
    assert all(p["source_dest_check"] for p in plan["pools"] if not p["kubernetes"])   # (Calico's native routing turns it off)
    assert any(p["role"] == "bastion" for p in plan["pools"])


@pytest.mark.parametrize("network, path, fragment", [
    ({"access": "vpn", "vpn": {"users": ["a"], "client_cidr": "10.0.5.0/24"}}, "network.vpn.client_cidr", "overlaps the VPC"),
    ({"access": "vpn", "vpn": {"users": ["a"], "client_cidr": "8.8.8.0/24"}}, "network.vpn.client_cidr", "not a private"),
    ({"access": "vpn", "vpn": {"users": ["a"], "client_cidr": "10.250.0.0/30"}}, "network.vpn.client_cidr", "/16 to /29"),
    ({"access": "vpn", "vpn": {"users": ["a"], "client_cidr": "203.0.113.128/25"}}, "network.vpn.client_cidr", "not a private"),
    ({"access": "vpn", "admin_cidrs": ["10.250.0.0/16"], "vpn": {"users": ["a"]}}, "network.vpn.client_cidr",
     "overlaps admin_cidrs 10.250.0.0/16"),
    ({"access": "vpn", "vpn": {"users": ["Al"]}}, "network.vpn.users[0]", "lowercase"),
    ({"access": "vpn", "vpn": {"users": ["a", "a"]}}, "network.vpn.users[1]", "twice"),
    ({"access": "vpn", "vpn": {"users": []}}, "network.vpn.users", "at least one"),
    ({"access": "ssm", "vpn": {"users": ["a"]}}, "network.vpn", "access is ssm"),
    ({"access": "ssm", "bastion": True}, "network.bastion", "access is ssm"),
    ({"access": "telnet"}, "network.access", "not one of"),
])
def test_bad_access_is_rejected_with_its_path(network, path, fragment):
    t = kubeadm()
    net(t).update(network)
    errors = _errors(t)
    assert any(e.startswith(path + ":") and fragment in e for e in errors), errors


def test_ci_pool_lands_in_mgmt_with_its_own_group():
    t = kubeadm()
    t["pools"].append({"name": "jenkins", "role": "ci"})
    plan = _plan(t)
    pool = next(p for p in plan["pools"] if p["role"] == "ci")
    assert pool["tier"] == "mgmt" and pool["security_groups"] == ["shop-node", "shop-ci"]
    group = next(g for g in plan["security_groups"] if g["name"] == "shop-ci")
    assert [(r["from_port"], r["cidr"]) for r in group["rules"]] == [(8080, "203.0.113.0/24")]
    assert plan["groups"]["ci"] == ["shop-jenkins-1"]


def test_a_second_ci_pool_is_rejected():
    t = kubeadm()
    t["pools"] += [{"name": "ci1", "role": "ci"}, {"name": "ci2", "role": "ci"}]
    assert any(e.startswith("pools[9].role:") for e in _errors(t))
