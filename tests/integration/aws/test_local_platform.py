"""The local default end to end (issue 18): site.yml on a local inventory builds the platform for real.

The emulator's EC2 instances become Debian test hosts at their private IPs (playbooks/hosts.yml), the
data and monitoring layers run on them, and the services answer: SQL written on the PostgreSQL primary
is read on the replica, the Redis replicas follow the primary and Sentinel names it, RabbitMQ reports
its cluster, Prometheus reports every generated target up and finds Alertmanager, which takes an alert.
The second run changes nothing on any host; the run summary and diagram hold every node and endpoint
of the plan; teardown leaves no host, no bridge and no emulator record.

Its own platform name and VPC range (10.232.0.0/16), so a `make demo` platform (10.231.0.0/16) of the
same checkout can stay up beside it. One build shared by the tests of the module, in order.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
import testhosts
import yaml
from aws_helpers import build_plan  # the collection on sys.path, as every AWS test has it
from network_harness import ROOT, ansible_env, leftovers

pytestmark = [pytest.mark.emulator, pytest.mark.testhosts, pytest.mark.slow]

PLATFORM = "msa-itest"
LOCAL = ROOT / "inventories" / "local"


def _topology() -> dict:
    """The local default shrunk to what still proves each claim: no Kubernetes nodes (the cluster layer is skipped here
    and node_prep has its own scenario), 2 PostgreSQL (primary + replica), 3 Redis (Sentinel needs an odd quorum of at
    least 3), 3 RabbitMQ (a cluster is 1 or an odd number >= 3), 1 monitoring: 9 hosts instead of 11."""
    topo = yaml.safe_load((LOCAL / "group_vars" / "all" / "topology.yml").read_text())
    platform = topo["platform"]
    platform["name"] = PLATFORM
    platform["network"]["cidr"] = "10.232.0.0/16"
    platform["kubernetes"] = {"mode": "none"}
    platform["pools"] = [p for p in platform["pools"] if p["role"] not in ("control_plane", "worker", "api")]
    assert {p["role"]: p["count"] for p in platform["pools"]} == {"postgresql": 2, "redis": 3, "rabbitmq": 3, "monitoring": 1}
    return topo


def _inventory(path: Path, url: str) -> Path:
    """inventories/local with another platform name, VPC range and the session emulator's URL."""
    group_vars = path / "group_vars" / "all"
    group_vars.mkdir(parents=True)
    for source in (LOCAL / "group_vars" / "all").glob("*.yml"):
        if source.name != "topology.yml":
            shutil.copy(source, group_vars / source.name)
    (group_vars / "topology.yml").write_text(yaml.safe_dump(_topology(), sort_keys=False))
    shutil.copy(LOCAL / "hosts.yml", path / "hosts.yml")
    plugin = yaml.safe_load((LOCAL / "aws_cluster.yml").read_text())
    plugin.update(platform=PLATFORM, endpoint_url=url, cache=False)
    (path / "aws_cluster.yml").write_text(yaml.safe_dump(plugin, sort_keys=False))
    return path


def _site(inventory: Path, url: str, playbook: str = "site.yml", *args: str, log: str = "") -> subprocess.CompletedProcess:
    """ansible-playbook on the inventory; with `log`, its whole output also goes to .cache/logs/local-platform-<log>.log."""
    run = subprocess.run([str(ROOT / ".venv" / "bin" / "ansible-playbook"), "-i", str(inventory), str(ROOT / "playbooks" / playbook),
                          *args], cwd=ROOT, env=ansible_env(url), capture_output=True, text=True, timeout=3600, check=False)
    if log:
        (ROOT / ".cache" / "logs").mkdir(parents=True, exist_ok=True)
        (ROOT / ".cache" / "logs" / f"local-platform-{log}.log").write_text(run.stdout + run.stderr)
    return run


def _recaps(run: subprocess.CompletedProcess) -> dict[str, dict[str, int]]:
    return {m.group(1): {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", m.group(2))}
            for m in re.finditer(r"^(\S+)\s+:\s+(ok=.*)$", run.stdout, re.M)}


def ssh(ip: str, command: str, stdin: str | None = None) -> str:
    out = subprocess.run(["ssh", "-i", str(testhosts.SSH_KEY), "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                          "-o", "LogLevel=ERROR", "-o", "BatchMode=yes", f"root@{ip}", command],
                         input=stdin, capture_output=True, text=True, timeout=120, check=False)
    assert out.returncode == 0, (ip, command, out.stdout[-2000:], out.stderr[-2000:])
    return out.stdout


def http_json(url: str, data: bytes | None = None):
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"} if data else {})
    with urllib.request.urlopen(request, timeout=10) as resp:  # nosec - the local bridge
        body = resp.read()
    return json.loads(body) if body else None


def eventually(check, timeout: float = 90.0, every: float = 2.0):
    deadline = time.monotonic() + timeout
    while True:
        try:
            return check()
        except AssertionError:
            if time.monotonic() > deadline:
                raise
        time.sleep(every)


@pytest.fixture(scope="module")
def built(aws_emulator, tmp_path_factory):
    """site.yml twice on a fresh emulator: (plan, {node: ip}, first run, converged run, inventory, url)."""
    url = aws_emulator
    subprocess.run([str(ROOT / ".venv" / "bin" / "python"), str(ROOT / "scripts" / "emulator.py"), "reset", "--port",
                    url.rsplit(":", 1)[1]], check=True, capture_output=True)
    inventory = _inventory(tmp_path_factory.mktemp("local") / "inventory", url)
    plan, errors = build_plan(_topology()["platform"])
    assert errors == []
    try:
        first = _site(inventory, url, "site.yml", log="first")
        assert first.returncode == 0, first.stdout[-6000:] + first.stderr[-3000:]
        converged = _site(inventory, url, "site.yml", log="converged")
        assert converged.returncode == 0, converged.stdout[-6000:] + converged.stderr[-3000:]
        ips = {h["instance_name"]: h["ip"] for h in (dict(h.meta, ip=h.ip) for h in testhosts.hosts())
               if h.get("platform") == PLATFORM and h.get("checkout") == str(ROOT)}
        yield plan, ips, first, converged, inventory, url
    finally:  # after a failure, or a teardown test that left something: nothing of the platform may outlive the module
        if [h for h in testhosts.hosts() if h.meta.get("platform") == PLATFORM] or leftovers(PLATFORM):
            _site(inventory, url, "teardown.yml", "-e", f"confirm_teardown={PLATFORM}")


def test_every_instance_is_a_host_at_its_private_ip_and_the_second_run_changes_nothing(built):
    plan, ips, first, converged, _inventory_dir, _url = built
    assert sorted(ips) == sorted(n["name"] for n in plan["nodes"])
    assert all(ip.startswith("10.232.") for ip in ips.values())
    recaps = _recaps(converged)
    assert set(recaps) == {"localhost", *ips}, recaps
    assert {host: r["changed"] for host, r in recaps.items() if r["changed"] or r["failed"] or r["unreachable"]} == {}
    assert _recaps(first)[plan["services"]["postgresql"]["primary"]]["changed"] > 0


def test_sql_written_on_the_primary_is_read_on_the_replica(built):
    plan, ips, *_rest = built
    pg = plan["services"]["postgresql"]
    token = f"row-{time.time_ns()}"
    ssh(ips[pg["primary"]], "runuser -u postgres -- psql -v ON_ERROR_STOP=1 -d auth",
        f"CREATE TABLE IF NOT EXISTS itest (v text); INSERT INTO itest VALUES ('{token}');")
    replica = ips[pg["nodes"][1]]
    assert ssh(replica, "runuser -u postgres -- psql -tA -c 'SELECT pg_is_in_recovery()'").strip() == "t"

    def replicated():
        assert ssh(replica, "runuser -u postgres -- psql -tA -d auth -c 'SELECT v FROM itest'").split() == [token]
    eventually(replicated, timeout=30)


def test_redis_replicas_follow_the_primary_and_sentinel_names_it(built):
    plan, ips, *_rest = built
    redis = plan["services"]["redis"]
    password = (ROOT / ".cache" / "secrets" / PLATFORM / "redis").read_text().strip()
    auth = f"REDISCLI_AUTH='{password}' redis-cli"
    primary = ips[redis["primary"]]
    for node in redis["nodes"][1:]:
        info = ssh(ips[node], f"{auth} -h {ips[node]} INFO replication")
        assert "role:slave" in info and f"master_host:{primary}" in info and "master_link_status:up" in info, info
    for node in redis["sentinel"]["nodes"]:
        named = ssh(ips[node], f"redis-cli -h {ips[node]} -p {redis['sentinel']['port']} "
                               f"SENTINEL get-master-addr-by-name {redis['sentinel']['master_name']}")
        assert named.split() == [primary, str(redis["port"])]


def test_rabbitmq_reports_the_whole_cluster(built):
    plan, ips, *_rest = built
    nodes = plan["services"]["rabbitmq"]["nodes"]
    status = json.loads(ssh(ips[nodes[0]], "rabbitmqctl cluster_status --formatter json"))
    assert len(status["running_nodes"]) == len(nodes), status["running_nodes"]


def test_prometheus_has_every_generated_target_up_and_alertmanager_takes_an_alert(built):
    plan, ips, *_rest = built
    monitoring = ips[plan["services"]["monitoring"]["nodes"][0]]
    prometheus, alertmanager = f"http://{monitoring}:9090/api/v1", f"http://{monitoring}:9093/api/v2"
    services = {"postgresql": 9187, "redis": 9121, "rabbitmq": 15692}
    expected = {f"{ips[n['name']]}:9100" for n in plan["nodes"]} | {
        f"{ips[n]}:{port}" for role, port in services.items() for n in plan["services"][role]["nodes"]}

    def all_up():
        targets = http_json(f"{prometheus}/targets?state=active")["data"]["activeTargets"]
        down = [(t["scrapeUrl"], t["lastError"]) for t in targets if t["health"] != "up"]
        assert not down, down
        assert expected <= {t["discoveredLabels"]["__address__"] for t in targets}, targets
    eventually(all_up, timeout=120)
    assert http_json(f"{prometheus}/alertmanagers")["data"]["activeAlertmanagers"]
    alert = [{"labels": {"alertname": "ItestAlert", "severity": "warning", "instance": PLATFORM}}]
    http_json(f"{alertmanager}/alerts", json.dumps(alert).encode())

    def listed():
        assert [a for a in http_json(f"{alertmanager}/alerts") if a["labels"]["alertname"] == "ItestAlert"], "no test alert"
    eventually(listed, timeout=20)


def test_the_summary_and_diagram_hold_every_node_and_endpoint(built):
    plan, ips, _first, converged, *_rest = built
    runs = sorted((ROOT / ".cache" / "runs").glob("*/facts.json"))
    facts = [json.loads(p.read_text()) for p in runs]
    mine = [(p.parent, f) for p, f in zip(runs, facts, strict=True) if f["summary"]["platform"] == PLATFORM]
    assert mine, "no run record of the platform in .cache/runs"
    run_dir, fact = mine[-1]
    summary = fact["summary"]
    assert [(n["name"], n["private_ip"]) for n in summary["nodes"]] == [(n["name"], ips[n["name"]]) for n in plan["nodes"]]
    text, mmd, dot = ((run_dir / f).read_text() for f in ("summary.md", "platform.mmd", "platform.dot"))
    for node in plan["nodes"]:
        assert f"| {node['name']} | {node['pool']} | {node['role']} | {node['az']} | {ips[node['name']]} |" in text
        assert ips[node["name"]] in mmd and ips[node["name"]] in dot
    for name, role in (("postgresql-primary", "postgresql"), ("redis-primary", "redis"), ("prometheus", "monitoring")):
        primary = plan["services"][role].get("primary") or plan["services"][role]["nodes"][0]
        assert any(e["name"] == name and e["address"] == ips[primary] for e in summary["endpoints"]), name
    skipped = {s["layer"]: s for s in summary["skipped"]}
    assert sorted(skipped) == ["addons", "cluster", "grafana", "kafka"], summary["skipped"]
    assert all(s["why"] and s["instead"] for s in skipped.values()), summary["skipped"]
    for layer in skipped:
        assert f"- **{layer}**: {skipped[layer]['why']}" in text
    assert [p["phase"] for p in summary["phases"]] == ["network", "compute", "hosts", "cluster", "addons", "domains", "ci", "data", "access",
                                                       "monitoring", "summary"]
    if shutil.which("dot"):
        assert "<svg" in (run_dir / "platform.svg").read_text()
    for secret in (ROOT / ".cache" / "secrets" / PLATFORM).iterdir():
        value = secret.read_text().split()[0]
        assert value not in text and value not in json.dumps(fact) and value not in converged.stdout


def test_teardown_leaves_no_host_no_bridge_and_no_record(built):
    _plan, _ips, _first, _converged, inventory, url = built
    run = _site(inventory, url, "teardown.yml", "-e", f"confirm_teardown={PLATFORM}")
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert [h.name for h in testhosts.hosts() if h.meta.get("platform") == PLATFORM] == []
    assert subprocess.run(["ip", "link", "show", testhosts.platform_bridge(PLATFORM)], capture_output=True, check=False).returncode != 0
    assert leftovers(PLATFORM) == []
