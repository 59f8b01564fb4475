# Copyright: msa.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Managed data services: `services.postgresql.managed` (Amazon RDS) and `services.redis.managed` (ElastiCache).

A managed service has no pool: its settings come from the managed fields of topology_schema, and the plan
gets the AWS names the managed_data role uses (docs/plan.md). Checks name the field path; they run with
the other service checks, before anything in AWS is touched.
"""
from __future__ import annotations

from ansible_collections.msa.platform.plugins.module_utils.topology_schema import (
    MANAGED_ONLY,
    SELF_MANAGED_ONLY,
)

MANAGED_SECTIONS = ("postgresql", "redis")
ENGINE_VERSIONS = {"valkey": "8.0", "redis": "7.1"}
EXPORTER_PORTS = {"postgresql": 9187, "redis": 9121}


# services.redis settings that are Redis/Valkey parameters: {plan key: ElastiCache parameter name}.
CACHE_PARAMETERS = {"maxmemory_policy": "maxmemory-policy"}


def cache_family(engine: str, version: str) -> str:
    """ElastiCache parameter group family of an engine version: valkey 8.0 -> valkey8, redis 7.1 -> redis7,
    6.2 -> redis6.x, 5.0.6 -> redis5.0 (the families DescribeCacheEngineVersions lists)."""
    major, _dot, rest = version.partition(".")
    if engine == "valkey" or int(major) >= 7:
        return f"{engine}{major}"
    return "redis6.x" if major == "6" else f"redis{major}.{rest.split('.')[0]}"


def is_managed(raw_services, section: str) -> bool:
    """Whether the raw topology asks for the managed flavour of `section` (exactly `managed: true`)."""
    if not isinstance(raw_services, dict) or not isinstance(raw_services.get(section), dict):
        return False
    return raw_services[section].get("managed") is True


def check_managed(data: dict, raw: dict, errors: list) -> None:
    """Semantic checks of the managed services (`data`: the shaped topology; `raw`: as written)."""
    raw = raw if isinstance(raw, dict) else {}
    raw_svc = raw.get("services") if isinstance(raw.get("services"), dict) else {}
    svc = data.get("services") if isinstance(data.get("services"), dict) else {}
    raw_pools = raw.get("pools") if isinstance(raw.get("pools"), list) else []
    for section in MANAGED_SECTIONS:
        given = raw_svc.get(section) if isinstance(raw_svc.get(section), dict) else {}
        path = f"services.{section}"
        if is_managed(raw_svc, section):
            for i, pool in enumerate(raw_pools):
                if isinstance(pool, dict) and pool.get("role") == section:
                    errors.append(f"pools[{i}].role: {section} is managed (services.{section}.managed: true), so no pool runs it; "
                                  f"remove this pool or set services.{section}.managed: false")
            for key in SELF_MANAGED_ONLY[section]:
                if key in given:
                    errors.append(f"{path}.{key}: only used by a self-managed {section} pool, not with managed: true; remove it")
            _check_network(data.get("network"), section, errors)
        else:
            for key in MANAGED_ONLY[section]:
                if key in given:
                    errors.append(f"{path}.{key}: only used with {path}.managed: true; remove it or set managed: true")
    pg, redis = svc.get("postgresql"), svc.get("redis")
    if is_managed(raw_svc, "postgresql") and isinstance(pg, dict):
        if isinstance(pg.get("read_replicas"), int) and pg["read_replicas"] > 0 and pg.get("backup_retention_days") == 0:
            errors.append("services.postgresql.backup_retention_days: 0 turns automated backups off, but RDS creates read replicas "
                          "only from a source with backups; use at least 1 or set read_replicas: 0")
        storage, ceiling = pg.get("storage_gb"), pg.get("max_storage_gb")
        if isinstance(storage, int) and isinstance(ceiling, int) and 0 < ceiling <= storage:
            errors.append(f"services.postgresql.max_storage_gb: {ceiling} must be above storage_gb ({storage}) for storage "
                          "autoscaling, or 0 to turn it off")
    if is_managed(raw_svc, "redis") and isinstance(redis, dict):
        if redis.get("multi_az") and redis.get("replicas") == 0:
            errors.append("services.redis.multi_az: Multi-AZ automatic failover needs a replica to fail over to, but replicas is 0; "
                          "set replicas: 1 or more, or multi_az: false")


def _check_network(net, section: str, errors: list) -> None:
    if not isinstance(net, dict):
        return
    tiers = net.get("tiers")
    if isinstance(tiers, list) and "data" not in tiers:
        errors.append(f"network.tiers: managed {section} lives in the data tier's subnets, but 'data' is not listed; append it")
    if isinstance(net.get("azs"), int) and net["azs"] < 2:
        errors.append(f"network.azs: managed {section} needs a subnet group over at least 2 availability zones (an AWS rule); "
                      "use azs: 2 or more")


def add_managed(name: str, svc: dict, out: dict) -> None:
    """Put the managed services into the plan's `services` (`out`), and drop managed-only keys from self-managed ones."""
    for section in MANAGED_SECTIONS:
        if section in out and not out[section].get("managed"):
            out[section] = {k: v for k, v in out[section].items() if k not in MANAGED_ONLY[section]}
    pg = svc.get("postgresql") or {}
    if pg.get("managed"):
        plan = dict(pg)
        plan.pop("synchronous_replication", None)
        plan["databases"] = [{"name": d["name"], "owner": d["owner"] or d["name"]} for d in pg["databases"]]
        plan.update(identifier=f"{name}-postgresql",
                    replica_identifiers=[f"{name}-postgresql-replica-{i}" for i in range(1, pg["read_replicas"] + 1)],
                    subnet_group=f"{name}-data", parameter_group=f"{name}-postgresql{pg['version']}",
                    parameter_family=f"postgres{pg['version']}", security_group=f"{name}-postgresql",
                    nodes=[], primary=None, replicas=pg["read_replicas"])
        out["postgresql"] = plan
    redis = svc.get("redis") or {}
    if redis.get("managed"):
        plan = {k: v for k, v in redis.items() if k not in SELF_MANAGED_ONLY["redis"]}
        version = redis["engine_version"] or ENGINE_VERSIONS[redis["engine"]]
        family = cache_family(redis["engine"], version)
        # Named after the family: a major upgrade gets a new group (ElastiCache cannot change a group's family).
        plan.update(engine_version=version, replication_group_id=f"{name}-redis", subnet_group=f"{name}-data",
                    security_group=f"{name}-redis", parameter_group=f"{name}-redis-{family.replace('.', '-')}",
                    parameter_family=family, parameters={p: redis[k] for k, p in CACHE_PARAMETERS.items()},
                    nodes=[], primary=None)
        out["redis"] = plan
    if "monitoring" in out:
        managed = {s: EXPORTER_PORTS[s] for s in MANAGED_SECTIONS if (svc.get(s) or {}).get("managed")}
        if managed:
            out["monitoring"] = dict(out["monitoring"], exporters=dict(out["monitoring"]["exporters"], **managed))
