"""Managed PostgreSQL (RDS) and Redis (ElastiCache) in the topology: the rules, with field paths, and the plan."""
from __future__ import annotations

import pytest
from ansible_collections.msa.platform.plugins.module_utils.topology import build_plan, validate
from topology_cases import drop, eks, kubeadm, net, svc


def managed_eks() -> dict:
    t = eks()
    drop(t, "pg")
    svc(t, "postgresql").update(managed=True, read_replicas=1, databases=[{"name": "orders"}])
    svc(t, "redis").update(managed=True)
    return t


def test_managed_services_need_no_pool_and_get_aws_names():
    plan, errors = build_plan(managed_eks())
    assert errors == []
    pg, redis = plan["services"]["postgresql"], plan["services"]["redis"]
    assert pg["identifier"] == "shop-postgresql" and pg["replica_identifiers"] == ["shop-postgresql-replica-1"]
    assert (pg["subnet_group"], pg["parameter_group"], pg["parameter_family"]) == ("shop-data", "shop-postgresql15", "postgres15")
    assert pg["databases"] == [{"name": "orders", "owner": "orders"}] and pg["nodes"] == [] and pg["replicas"] == 1
    assert pg["master_password"] == "managed" and pg["deletion_protection"] is True and "synchronous_replication" not in pg
    assert redis["replication_group_id"] == "shop-redis" and redis["engine"] == "valkey" and redis["engine_version"] == "8.0"
    assert "sentinel" not in redis and "maxmemory_mb" not in redis
    assert (redis["parameter_group"], redis["parameter_family"], redis["parameters"]) == (
        "shop-redis-valkey8", "valkey8", {"maxmemory-policy": "noeviction"})
    assert not any(n["role"] in ("postgresql", "redis") for n in plan["nodes"])


def test_managed_security_groups_trust_app_and_monitoring_only():
    t = managed_eks()
    t["pools"].append({"name": "mon", "role": "monitoring"})
    plan = build_plan(t)[0]
    groups = {g["name"]: g for g in plan["security_groups"]}
    pg_rules = groups["shop-postgresql"]["rules"]
    assert {(r["from_port"], r["source_group"]) for r in pg_rules} == {(5432, "shop-app"), (5432, "shop-monitoring")}
    assert not any("cidr" in r for r in pg_rules + groups["shop-redis"]["rules"])
    assert {r["source_group"] for r in groups["shop-redis"]["rules"]} == {"shop-app", "shop-monitoring"}
    assert plan["services"]["monitoring"]["exporters"]["postgresql"] == 9187
    assert plan["services"]["monitoring"]["exporters"]["redis"] == 9121


@pytest.mark.parametrize(("engine", "version", "group", "family"), [
    ("redis", None, "shop-redis-redis7", "redis7"), ("redis", "6.2", "shop-redis-redis6-x", "redis6.x"),
    ("redis", "5.0", "shop-redis-redis5-0", "redis5.0"), ("valkey", "7.2", "shop-redis-valkey7", "valkey7")])
def test_redis_settings_go_to_a_parameter_group_of_the_engine_family(engine, version, group, family):
    t = managed_eks()
    svc(t, "redis").update(engine=engine, maxmemory_policy="allkeys-lfu", **({"engine_version": version} if version else {}))
    plan, errors = build_plan(t)
    assert errors == []
    redis = plan["services"]["redis"]
    assert (redis["parameter_group"], redis["parameter_family"], redis["parameters"]) == (group, family, {"maxmemory-policy": "allkeys-lfu"})


def test_self_managed_plan_carries_no_managed_keys():
    pg = build_plan(kubeadm())[0]["services"]["postgresql"]
    assert pg["managed"] is False and "instance_class" not in pg and "read_replicas" not in pg


@pytest.mark.parametrize(("section", "extra", "path"), [
    ("postgresql", {"synchronous_replication": True}, "services.postgresql.synchronous_replication"),
    ("redis", {"maxmemory_mb": 512}, "services.redis.maxmemory_mb"),
    ("redis", {"sentinel": {"enabled": True}}, "services.redis.sentinel"),
])
def test_self_managed_only_fields_are_errors_with_managed(section, extra, path):
    t = managed_eks()
    svc(t, section).update(extra)
    assert any(e.startswith(path + ": only used by a self-managed") for e in validate(t)), validate(t)


@pytest.mark.parametrize(("section", "extra", "path"), [
    ("postgresql", {"read_replicas": 2}, "services.postgresql.read_replicas"),
    ("redis", {"node_type": "cache.t4g.small"}, "services.redis.node_type"),
])
def test_managed_only_fields_are_errors_without_managed(section, extra, path):
    t = kubeadm()
    svc(t, section).update(extra)
    assert any(e.startswith(path + ": only used with services.") for e in validate(t)), validate(t)


def test_a_pool_of_a_managed_role_is_an_error_at_the_pool():
    t = eks()
    svc(t, "postgresql")["managed"] = True
    assert any(e.startswith("pools[2].role: postgresql is managed") for e in validate(t))


@pytest.mark.parametrize(("section", "key", "value", "message"), [
    ("postgresql", "read_replicas", 16, "services.postgresql.read_replicas: 16 is above the maximum 15"),
    ("redis", "replicas", 6, "services.redis.replicas: 6 is above the maximum 5"),
    ("postgresql", "instance_class", "t3.medium", "services.postgresql.instance_class: 't3.medium' is not valid"),
    ("redis", "node_type", "db.t3.small", "services.redis.node_type: 'db.t3.small' is not valid"),
    ("redis", "engine", "memcached", "services.redis.engine: 'memcached' is not one of valkey, redis"),
    ("postgresql", "read_replicas", "1", "services.postgresql.read_replicas: expected an integer"),
    ("redis", "multi_az", "yes", "services.redis.multi_az: expected true or false"),
])
def test_bad_values_name_the_field(section, key, value, message):
    t = managed_eks()
    svc(t, section)[key] = value
    errors = validate(t)
    assert any(e.startswith(message) for e in errors), errors


def test_cross_field_rules():
    t = managed_eks()
    svc(t, "redis").update(replicas=0)
    svc(t, "postgresql").update(backup_retention_days=0, storage_gb=100, max_storage_gb=50)
    errors = validate(t)
    assert any(e.startswith("services.redis.multi_az: Multi-AZ automatic failover needs a replica") for e in errors)
    assert any(e.startswith("services.postgresql.backup_retention_days: 0 turns automated backups off") for e in errors)
    assert any(e.startswith("services.postgresql.max_storage_gb: 50 must be above storage_gb") for e in errors)
    svc(t, "redis").update(multi_az=False)
    svc(t, "postgresql").update(read_replicas=0, max_storage_gb=0)
    assert validate(t) == []


def test_managed_needs_a_data_tier_over_two_azs():
    t = managed_eks()
    net(t).update(azs=1, tiers=["public", "app"])
    errors = validate(t)
    assert "network.tiers: managed postgresql lives in the data tier's subnets, but 'data' is not listed; append it" in errors
    assert any(e.startswith("network.azs: managed redis needs a subnet group over at least 2") for e in errors)


def test_managed_must_be_a_bool():
    t = managed_eks()
    svc(t, "redis")["managed"] = "true"
    errors = validate(t)
    assert any(e.startswith("services.redis.managed: expected true or false") for e in errors)
    assert not any("TypeError" in e for e in errors)
