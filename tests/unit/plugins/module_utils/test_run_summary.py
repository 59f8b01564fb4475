"""The run summary (playbooks/summary.yml): every node and endpoint of the plan, no secret, the diagrams."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from ansible.errors import AnsibleFilterError
from ansible_collections.msa.platform.plugins.filter.run_summary import FilterModule
from ansible_collections.msa.platform.plugins.module_utils import run_summary
from ansible_collections.msa.platform.plugins.module_utils.topology import build_plan

ROOT = Path(__file__).resolve().parents[4]


def plan_of(path: Path) -> dict:
    plan, errors = build_plan(yaml.safe_load(path.read_text())["platform"])
    assert errors == []
    return plan


@pytest.fixture(name="plan")
def local_plan() -> dict:
    return plan_of(ROOT / "inventories" / "local" / "group_vars" / "all" / "topology.yml")


def ips_of(plan: dict) -> dict:
    return {n["name"]: f"10.231.{i}.4" for i, n in enumerate(plan["nodes"], start=4)}


def test_every_node_of_the_plan_is_a_row_with_its_ip_az_pool_and_placement(plan):
    ips = ips_of(plan)
    summary = run_summary.build(plan, ips)
    assert [r["name"] for r in summary["nodes"]] == [n["name"] for n in plan["nodes"]]
    for row, node in zip(summary["nodes"], plan["nodes"], strict=True):
        assert (row["pool"], row["role"], row["az"], row["private_ip"]) == (node["pool"], node["role"], node["az"], ips[node["name"]])
        assert row["labels"] == node["labels"] and row["taints"] == node["taints"]
    # a node the inventory does not know (not running yet) says so instead of failing
    assert run_summary.build(plan, {})["nodes"][0]["private_ip"] == "(not running)"


def test_every_service_endpoint_of_the_plan_is_listed(plan):
    ips = ips_of(plan)
    eps = run_summary.derived_endpoints(plan, ips)
    got = {(e["name"], e["address"], e["port"]) for e in eps}
    svc = plan["services"]
    assert ("postgresql-primary", ips[svc["postgresql"]["primary"]], 5432) in got
    assert {("postgresql-replica", ips[n], 5432) for n in svc["postgresql"]["nodes"][1:]} <= got
    assert ("redis-primary", ips[svc["redis"]["primary"]], 6379) in got
    assert {("redis-sentinel", ips[n], 26379) for n in svc["redis"]["sentinel"]["nodes"]} <= got
    assert {("rabbitmq-amqp", ips[n], 5672) for n in svc["rabbitmq"]["nodes"]} <= got
    mon = ips[svc["monitoring"]["nodes"][0]]
    assert {("prometheus", mon, 9090), ("alertmanager", mon, 9093), ("rabbitmq-management", ips[svc["rabbitmq"]["nodes"][0]], 15672),
            ("kubernetes-api", ips[plan["groups"]["control_plane"][0]], 6443)} <= got
    assert all(set(e) == set(run_summary.ENDPOINT_KEYS) for e in eps)


def test_endpoints_of_other_layers_are_kept_to_the_agreed_keys(plan):
    reported = [{"name": "rds-writer", "kind": "postgresql", "address": "db.example", "port": 5432, "note": "RDS",
                 "password": "s3cret"}, {"name": "broken"}, "junk"]
    summary = run_summary.build(plan, ips_of(plan), endpoints=reported)
    assert summary["endpoints"][-1] == {"name": "rds-writer", "kind": "postgresql", "address": "db.example", "port": 5432, "note": "RDS"}
    assert "s3cret" not in run_summary.markdown(summary) and "broken" not in str(summary["endpoints"])


def test_managed_services_are_not_derived_from_nodes(plan):
    plan["services"]["postgresql"]["managed"] = True
    assert not [e for e in run_summary.derived_endpoints(plan, ips_of(plan)) if e["kind"] == "postgresql"]


def test_skipped_layers_are_listed_once_with_why_and_what_runs_instead():
    reported = [{"layer": "data", "why": "managed", "instead": "RDS"}]
    out = run_summary.skipped_layers(["cluster", "data"], {"cluster": {"why": "no kubeadm", "instead": "cluster.yml"},
                                                           "kafka": {"why": "no binary"}}, reported)
    assert out == [{"layer": "data", "why": "managed", "instead": "RDS"},
                   {"layer": "cluster", "why": "no kubeadm", "instead": "cluster.yml"},
                   {"layer": "kafka", "why": "no binary", "instead": ""}]
    assert run_summary.skipped_layers(["x"], None, None) == [{"layer": "x", "why": "listed in msa_site_skip", "instead": ""}]


def test_phase_times_run_from_each_mark_to_the_next_and_the_last_to_the_end():
    marks = [{"phase": "network", "start": 100.0}, {"phase": "compute", "start": 130.25}, {"phase": "summary", "start": 200}]
    assert run_summary.phase_times(marks, 201.0) == [{"phase": "network", "seconds": 30.2}, {"phase": "compute", "seconds": 69.8},
                                                     {"phase": "summary", "seconds": 1.0}]
    with pytest.raises(AnsibleFilterError, match="numeric 'start'"):
        FilterModule().filters()["run_summary_phases"]([{"phase": "a", "start": "soon"}], 1)


def test_markdown_has_every_section_and_node(plan):
    summary = run_summary.build(plan, ips_of(plan), skipped=[{"layer": "cluster", "why": "w", "instead": "i"}],
                                phases=[{"phase": "network", "seconds": 3.5}],
                                certs=[{"node": "cp-1", "name": "apiserver", "expires": "2027-12-01", "days_left": 364}])
    text = run_summary.markdown(summary)
    for heading in ("## Nodes", "## Endpoints", "## Skipped", "## Phase wall times", "## Certificates", "## Diagram"):
        assert heading in text
    assert all(f"| {n['name']} |" in text for n in plan["nodes"])
    assert "- **cluster**: w. A real account runs: i." in text and "| total | 3.5 |" in text
    assert "## Diagram" not in run_summary.markdown(summary, diagram=False)  # what the play prints


def test_diagrams_hold_every_node_and_the_replication_edges(plan):
    ips = ips_of(plan)
    summary = run_summary.build(plan, ips)
    mmd, dot = run_summary.mermaid(summary), run_summary.dot(summary)
    for node in plan["nodes"]:
        assert ips[node["name"]] in mmd and ips[node["name"]] in dot
    pg = plan["services"]["postgresql"]
    edge = f"{run_summary._id(pg['primary'])} -->|streams WAL| {run_summary._id(pg['nodes'][1])}"  # pylint: disable=protected-access
    assert edge in mmd
    assert len(re.findall(r"-\.->\|scrapes\|", mmd)) == len(plan["nodes"]) - 1
    assert mmd.count("subgraph tier_") == len({n["tier"] for n in plan["nodes"]})


@pytest.mark.skipif(not shutil.which("dot"), reason="Graphviz is not installed")
def test_graphviz_renders_the_dot_file(plan):
    ips = ips_of(plan)
    dot = run_summary.dot(run_summary.build(plan, ips))
    svg = subprocess.run(["dot", "-Tsvg"], input=dot, capture_output=True, text=True, check=True).stdout
    assert "<svg" in svg and all(ip in svg for ip in ips.values())


def test_filter_refuses_wrong_types_with_a_message():
    with pytest.raises(AnsibleFilterError, match="expects the plan"):
        FilterModule().filters()["run_summary"]("not a plan", {})


def test_jenkins_is_listed_for_a_ci_pool():
    plan = plan_of(ROOT / "inventories" / "examples" / "courm-eks" / "group_vars" / "all" / "topology.yml")
    ips = ips_of(plan)
    node = plan["services"]["ci"]["nodes"][0]
    jenkins = [e for e in run_summary.derived_endpoints(plan, ips) if e["name"] == "jenkins"]
    assert jenkins == [{"name": "jenkins", "kind": "http", "address": ips[node], "port": 8080,
                        "note": "Jenkins 2.541.3 (admin admin; operators only)"}]
