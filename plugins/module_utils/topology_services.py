# Copyright: msa.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Service settings: quorum rules and the `services` part of the plan.

A service is in the plan when a pool has its role; a `services.<x>` section without such a pool is an
error (it would silently do nothing).
"""
from __future__ import annotations

import re

from ansible_collections.msa.platform.plugins.module_utils.topology_managed import add_managed, is_managed
from ansible_collections.msa.platform.plugins.module_utils.topology_schema import (
    SERVICE_ROLES,
)
from ansible_collections.msa.platform.plugins.module_utils.topology_sg import (
    EXPORTER_PORTS,
    FIXED_PORTS,
    JENKINS_PORT,
)

_PG_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
_VHOST = re.compile(r"[A-Za-z0-9/_.-]{1,255}")
RESERVED_PORTS = {22: "SSH", EXPORTER_PORTS["node"]: "node exporter"}
RABBITMQ_MANAGEMENT_PORT = 15672


def odd_quorum(n: int) -> bool:
    return n == 1 or (n >= 3 and n % 2 == 1)


def node_ports(section: str) -> dict:
    """{port or (low, high): what} the platform already listens on, on the nodes of service `section`."""
    taken = {}
    if section in EXPORTER_PORTS:
        taken[EXPORTER_PORTS[section]] = f"{section} exporter"
    taken.update(FIXED_PORTS.get(section, {}))
    return taken


def _taken(port: int, taken: dict) -> str:
    for ports, what in taken.items():
        low, high = ports if isinstance(ports, tuple) else (ports, ports)
        if low <= port <= high:
            return what
    return ""


def _ports(section: str, ports: dict, errors: list) -> None:
    """Ports of one service must differ from each other and from every port the platform already uses on its nodes."""
    seen = {}
    taken = node_ports(section)
    for key, port in ports.items():
        if port is None:
            continue
        path = f"services.{section}.{key}"
        if port in RESERVED_PORTS:
            errors.append(f"{path}: {port} is the {RESERVED_PORTS[port]} port of every node; pick another port")
        elif _taken(port, taken):
            errors.append(f"{path}: {port} is already the {_taken(port, taken)} port on the {section} nodes; pick another port")
        elif port in seen:
            errors.append(f"{path}: {port} is also services.{section}.{seen[port]}; give each listener its own port")
        else:
            seen[port] = key


def check_services(svc: dict, raw: dict, counts: dict, errors: list) -> None:
    """Semantic checks of `services`; `counts` maps a role to its node count (absent: no pool)."""
    raw = raw if isinstance(raw, dict) else {}
    for section in (*SERVICE_ROLES, "ci"):
        if section in raw and section not in counts and not is_managed(raw, section):
            errors.append(f"services.{section}: no pool has role {section}, so these settings would do nothing; add a pool with role: {section} "
                          f"or remove services.{section}")
    if not isinstance(svc, dict):
        return
    _check_postgresql(svc.get("postgresql"), counts.get("postgresql"), errors)
    _check_redis(svc.get("redis"), counts.get("redis"), errors)
    _check_rabbitmq(svc.get("rabbitmq"), counts.get("rabbitmq"), errors)
    _check_kafka(svc.get("kafka"), counts.get("kafka"), errors)
    mon = svc.get("monitoring")
    if isinstance(mon, dict):
        _ports("monitoring", {k: mon.get(k) for k in ("port", "alertmanager_port", "grafana_port")}, errors)


def _check_postgresql(pg, count, errors: list) -> None:
    if not isinstance(pg, dict) or count is None:
        return
    if pg.get("synchronous_replication") and count < 2:
        errors.append(f"services.postgresql.synchronous_replication: needs a replica, but the postgresql pool has {count} node; "
                      "set its count to 2 or more, or turn this off")
    seen = {}
    for i, db in enumerate(pg.get("databases") or []):
        if not isinstance(db, dict):
            continue
        path = f"services.postgresql.databases[{i}]"
        for key in ("name", "owner"):
            value = db.get(key)
            if isinstance(value, str) and not _PG_NAME.fullmatch(value):
                errors.append(f"{path}.{key}: {value!r} is not a PostgreSQL identifier we accept: lowercase letters, digits and '_', "
                              "not starting with a digit, at most 63 characters")
        name = db.get("name")
        if isinstance(name, str):
            if name in seen:
                errors.append(f"{path}.name: {name!r} is already services.postgresql.databases[{seen[name]}]; database names must be unique")
            seen.setdefault(name, i)
    _ports("postgresql", {"port": pg.get("port")}, errors)


def _check_redis(redis, count, errors: list) -> None:
    if not isinstance(redis, dict) or count is None:
        return
    sentinel = redis.get("sentinel")
    ports = {"port": redis.get("port")}
    if isinstance(sentinel, dict) and sentinel.get("enabled"):
        ports["sentinel.port"] = sentinel.get("port")
        if not (count >= 3 and count % 2 == 1):
            errors.append("services.redis.sentinel.enabled: Sentinel runs one sentinel per Redis node and needs an odd number, "
                          f"at least 3, but the redis pool has {count}; set its count to 3 (or 5) or disable sentinel")
        quorum = sentinel.get("quorum")
        if isinstance(quorum, int) and quorum > count:
            errors.append(f"services.redis.sentinel.quorum: {quorum} is more than the {count} sentinels, so a failover could never be agreed; "
                          f"use at most {count} (majority: {count // 2 + 1})")
    _ports("redis", ports, errors)


def _check_rabbitmq(mq, count, errors: list) -> None:
    if not isinstance(mq, dict) or count is None:
        return
    if not odd_quorum(count):
        errors.append(f"services.rabbitmq: a {count}-node RabbitMQ cluster loses its quorum queues' majority with one node down; "
                      "set the rabbitmq pool count to 1 or an odd number >= 3")
    seen = set()
    for i, vhost in enumerate(mq.get("vhosts") or []):
        if not isinstance(vhost, str):
            continue
        if not _VHOST.fullmatch(vhost):
            errors.append(f"services.rabbitmq.vhosts[{i}]: {vhost!r}: use letters, digits, '/', '_', '.', '-'")
        if vhost in seen:
            errors.append(f"services.rabbitmq.vhosts[{i}]: {vhost!r} is listed twice")
        seen.add(vhost)
    ports = {"port": mq.get("port")}
    if mq.get("management"):
        ports["management (fixed)"] = RABBITMQ_MANAGEMENT_PORT
    _ports("rabbitmq", ports, errors)


def kafka_controllers(kafka: dict, count: int) -> int:
    value = kafka.get("controllers")
    return value if isinstance(value, int) else (min(3, count))


def _check_kafka(kafka, count, errors: list) -> None:
    if not isinstance(kafka, dict) or count is None:
        return
    controllers = kafka_controllers(kafka, count)
    single = kafka.get("allow_single_node")
    if controllers > count:
        errors.append(f"services.kafka.controllers: {controllers} controllers but the kafka pool has {count} nodes (controllers run on kafka nodes); "
                      "lower controllers or raise the pool count")
    elif controllers == 1 and single:
        pass
    elif controllers < 3 or controllers % 2 == 0:
        hint = " (or set services.kafka.allow_single_node: true with 1 node, for development only)" if controllers < 3 else ""
        errors.append(f"services.kafka.controllers: a KRaft quorum needs an odd number of controllers, at least 3, got {controllers}; "
                      f"use 3 or 5 and a kafka pool at least that big{hint}")
    if single and controllers != 1:
        errors.append(f"services.kafka.allow_single_node: set, but there are {controllers} controllers; remove it")
    rf = kafka.get("replication_factor")
    rf = rf if isinstance(rf, int) else min(3, count)
    if rf > count:
        errors.append(f"services.kafka.replication_factor: {rf} is more than the {count} brokers; use at most {count}")
    isr = kafka.get("min_insync_replicas")
    if isinstance(isr, int) and isr > rf:
        errors.append(f"services.kafka.min_insync_replicas: {isr} is more than replication_factor {rf}, so no write could succeed; "
                      f"use at most {rf}")
    _ports("kafka", {"port": kafka.get("port"), "controller_port": kafka.get("controller_port")}, errors)


def build_services(name: str, svc: dict, nodes_by_role: dict) -> dict:
    """The plan's `services`: one entry per service role that has nodes, defaults resolved."""
    out = {}
    if "postgresql" in nodes_by_role:
        nodes = nodes_by_role["postgresql"]
        pg = dict(svc["postgresql"])
        pg["databases"] = [{"name": d["name"], "owner": d["owner"] or d["name"]} for d in pg["databases"]]
        pg.update(nodes=nodes, primary=nodes[0], replicas=len(nodes) - 1)
        out["postgresql"] = pg
    if "redis" in nodes_by_role:
        nodes = nodes_by_role["redis"]
        redis = dict(svc["redis"])
        sentinel = dict(redis["sentinel"])
        if sentinel["quorum"] is None:
            sentinel["quorum"] = len(nodes) // 2 + 1
        sentinel["master_name"] = sentinel["master_name"] or name
        sentinel["nodes"] = nodes if sentinel["enabled"] else []
        redis.update(sentinel=sentinel, nodes=nodes, primary=nodes[0], replicas=len(nodes) - 1)
        out["redis"] = redis
    if "rabbitmq" in nodes_by_role:
        nodes = nodes_by_role["rabbitmq"]
        mq = dict(svc["rabbitmq"])
        mq.update(management_port=RABBITMQ_MANAGEMENT_PORT, nodes=nodes, cluster=len(nodes) > 1)
        out["rabbitmq"] = mq
    if "kafka" in nodes_by_role:
        nodes = nodes_by_role["kafka"]
        kafka = dict(svc["kafka"])
        controllers = kafka_controllers(kafka, len(nodes))
        rf = kafka["replication_factor"] or min(3, len(nodes))
        kafka.update(controllers=controllers, replication_factor=rf,
                     min_insync_replicas=kafka["min_insync_replicas"] or max(1, rf - 1),
                     nodes=nodes, controller_nodes=nodes[:controllers])
        out["kafka"] = kafka
    if "monitoring" in nodes_by_role:
        mon = dict(svc["monitoring"])
        exporters = {"node": EXPORTER_PORTS["node"]}
        exporters.update((role, EXPORTER_PORTS[role]) for role in ("postgresql", "redis", "rabbitmq", "kafka") if role in nodes_by_role)
        mon.update(exporters=exporters, nodes=nodes_by_role["monitoring"])
        out["monitoring"] = mon
    if "ci" in nodes_by_role:
        ci = dict(svc["ci"])
        ci.update(plugins=["configuration-as-code"] + [p for p in ci["plugins"] if p != "configuration-as-code"],
                  port=JENKINS_PORT, nodes=nodes_by_role["ci"])
        out["ci"] = ci
    add_managed(name, svc, out)
    return out
