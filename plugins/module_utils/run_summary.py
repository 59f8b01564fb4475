# Copyright: msa.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The run summary of site.yml (playbooks/summary.yml): nodes, endpoints, skipped layers, phase times,
certificate expiry and a diagram of the built platform, from the plan and what the run learnt.

Pure functions over plain data (the plan, {node: private IP}, facts other layers leave on localhost),
so playbooks/summary.yml stays a few tasks and tests/unit/plugins/module_utils/test_run_summary.py
checks every node and endpoint against the plan. Nothing here ever sees a secret: endpoints are
addresses and ports only.

Shapes (interfaces.md):
  endpoint  {name, kind, address, port, note}         msa_endpoints_<layer> facts, and derived here
  skipped   {layer, why, instead}                      msa_skipped_<layer> facts
  phase     {phase, seconds}                           msa_phase_times (or made from msa_phase_marks)
  cert      {node, name, expires, days_left}           msa_cert_expiry
"""
from __future__ import annotations

import json
import re

ENDPOINT_KEYS = ("name", "kind", "address", "port", "note")
SKIPPED_KEYS = ("layer", "why", "instead")


def _text(value) -> str:
    return "" if value is None else str(value)


def _ip(ips: dict, node: str) -> str:
    return _text(ips.get(node)) or "(not running)"


def node_rows(plan: dict, ips: dict) -> list:
    """One row per planned node, in plan order: where it runs and what Kubernetes will know of it."""
    rows = []
    for node in plan.get("nodes") or []:
        rows.append({
            "name": node["name"], "pool": node.get("pool"), "role": node.get("role"), "tier": node.get("tier"),
            "az": node.get("az"), "subnet": node.get("subnet"), "instance_type": node.get("instance_type"),
            "private_ip": _ip(ips, node["name"]),
            "labels": dict(node.get("labels") or {}), "taints": list(node.get("taints") or []),
        })
    return rows


def _svc(plan: dict, name: str) -> dict:
    service = (plan.get("services") or {}).get(name)
    return service if isinstance(service, dict) and not service.get("managed") else {}


def derived_endpoints(plan: dict, ips: dict) -> list:
    """Endpoints of the self-managed services, from the plan and the nodes' private IPs."""
    out = []

    def add(name, kind, node, port, note=""):
        out.append({"name": name, "kind": kind, "address": _ip(ips, node), "port": int(port), "note": note})

    k8s = plan.get("kubernetes") or {}
    control = (plan.get("groups") or {}).get("control_plane") or []
    if k8s.get("mode") == "kubeadm" and control:
        add("kubernetes-api", "https", control[0], k8s.get("api_port", 6443),
            f"kube-apiserver of {k8s.get('cluster_name', plan.get('name'))} (endpoint {k8s.get('control_plane_endpoint')})")
    pg = _svc(plan, "postgresql")
    databases = ", ".join(d["name"] for d in pg.get("databases") or []) or "none"
    for node in pg.get("nodes") or []:
        primary = node == pg.get("primary")
        add(f"postgresql-{'primary' if primary else 'replica'}", "postgresql", node, pg["port"],
            f"{'read-write' if primary else 'read-only streaming replica'} ({node}); databases: {databases}")
    redis = _svc(plan, "redis")
    for node in redis.get("nodes") or []:
        primary = node == redis.get("primary")
        add(f"redis-{'primary' if primary else 'replica'}", "redis", node, redis["port"],
            f"{'primary' if primary else 'replica of ' + _text(redis.get('primary'))} ({node})")
    sentinel = redis.get("sentinel") or {}
    for node in sentinel.get("nodes") or []:
        add("redis-sentinel", "redis-sentinel", node, sentinel["port"], f"master name {sentinel.get('master_name')} ({node})")
    mq = _svc(plan, "rabbitmq")
    for node in mq.get("nodes") or []:
        add("rabbitmq-amqp", "amqp", node, mq["port"], f"vhosts {', '.join(mq.get('vhosts') or ['/'])} ({node})")
    if mq.get("management") and mq.get("nodes"):
        add("rabbitmq-management", "http", mq["nodes"][0], mq["management_port"], "management UI and API")
    kafka = _svc(plan, "kafka")
    for node in kafka.get("nodes") or kafka.get("brokers") or []:
        add("kafka-broker", "kafka", node, kafka["port"], node)
    mon = _svc(plan, "monitoring")
    for node in mon.get("nodes") or []:
        add("prometheus", "http", node, mon["port"], "Prometheus UI, targets and alerts")
        if mon.get("alertmanager", True):
            add("alertmanager", "http", node, mon["alertmanager_port"], "Alertmanager")
        if mon.get("grafana"):
            add("grafana", "http", node, mon["grafana_port"], "Grafana")
    ci = _svc(plan, "ci")
    for node in ci.get("nodes") or []:
        add("jenkins", "http", node, ci["port"], f"Jenkins {ci.get('version')} (admin {ci.get('admin_user')}; operators only)")
    return out


def clean_endpoints(items) -> list:
    """Endpoints other layers reported, kept to the agreed keys (anything else, e.g. a password, is dropped)."""
    out = []
    for item in items or []:
        if isinstance(item, dict) and item.get("name") and item.get("address"):
            out.append({key: (item.get(key) if key == "port" else _text(item.get(key))) for key in ENDPOINT_KEYS})
    return out


def skipped_layers(site_skip, reasons, reported) -> list:
    """Every skipped layer once: what layers reported (msa_skipped_*), then msa_site_skip with its reasons."""
    out, seen = [], set()
    for item in reported or []:
        if isinstance(item, dict) and item.get("layer") and item["layer"] not in seen:
            seen.add(item["layer"])
            out.append({key: _text(item.get(key)) for key in SKIPPED_KEYS})
    reasons = reasons if isinstance(reasons, dict) else {}
    for layer in list(site_skip or []) + [name for name in reasons if name not in (site_skip or [])]:
        if layer in seen:
            continue
        seen.add(layer)
        why = reasons.get(layer) if isinstance(reasons.get(layer), dict) else {}
        out.append({"layer": _text(layer), "why": _text(why.get("why")) or "listed in msa_site_skip",
                    "instead": _text(why.get("instead"))})
    return out


def phase_times(marks, end: float) -> list:
    """[{phase, seconds}] from [{phase, start}] marks (epoch seconds) and the run's end time."""
    marks = [m for m in marks or [] if isinstance(m, dict) and m.get("phase") and m.get("start") is not None]
    out = []
    for i, mark in enumerate(marks):
        stop = float(marks[i + 1]["start"]) if i + 1 < len(marks) else float(end)
        out.append({"phase": _text(mark["phase"]), "seconds": round(max(stop - float(mark["start"]), 0.0), 1)})
    return out


def build(plan: dict, ips: dict, endpoints=None, skipped=None, phases=None, certs=None, started: str = "") -> dict:
    """The whole summary as data: what facts.json holds and what the renderers read."""
    return {
        "platform": plan.get("name"), "region": plan.get("region"), "started": started,
        "kubernetes": {k: (plan.get("kubernetes") or {}).get(k) for k in ("mode", "version", "control_plane_endpoint")},
        "vpc": (plan.get("network") or {}).get("cidr"),
        "nodes": node_rows(plan, ips),
        "endpoints": derived_endpoints(plan, ips) + clean_endpoints(endpoints),
        "skipped": list(skipped or []),
        "phases": [{"phase": _text(p.get("phase")), "seconds": p.get("seconds")} for p in phases or [] if isinstance(p, dict)],
        "certificates": [c for c in certs or [] if isinstance(c, dict)],
    }


# ------------------------------------------------------------------------------------------ rendering
def _cell(value) -> str:
    return _text(value).replace("|", "\\|").replace("\n", " ")


def _labels(labels: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(labels.items())) or "-"


def _taints(taints: list) -> str:
    return ", ".join(f"{t.get('key')}={t.get('value', '')}:{t.get('effect')}" for t in taints if isinstance(t, dict)) or "-"


def _table(header: list, rows: list) -> list:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _dummy in header) + "|"]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return lines


def markdown(summary: dict, diagram: bool = True) -> str:
    lines = [f"# Platform {summary['platform']} ({summary['region']})", ""]
    k8s = summary.get("kubernetes") or {}
    lines += [f"Run started {summary.get('started') or '-'}; VPC {summary.get('vpc')}; Kubernetes {k8s.get('mode')} "
              f"{k8s.get('version') or ''}; {len(summary['nodes'])} nodes.", "", "## Nodes", ""]
    lines += _table(["node", "pool", "role", "AZ", "private IP", "labels", "taints"],
                    [[n["name"], n["pool"], n["role"], n["az"], n["private_ip"], _labels(n["labels"]), _taints(n["taints"])]
                     for n in summary["nodes"]])
    lines += ["", "## Endpoints (no secrets: credentials are in your vault, or .cache/secrets/ on the local default)", ""]
    lines += _table(["service", "kind", "address", "port", "note"],
                    [[e["name"], e["kind"], e["address"], e["port"], e["note"]] for e in summary["endpoints"]])
    lines += ["", "## Skipped", ""]
    lines += [f"- **{s['layer']}**: {s['why']}." + (f" A real account runs: {s['instead']}." if s["instead"] else "")
              for s in summary["skipped"]] or ["- nothing"]
    lines += ["", "## Phase wall times", ""]
    total = sum(float(p["seconds"] or 0) for p in summary["phases"])
    lines += _table(["phase", "seconds"], [[p["phase"], p["seconds"]] for p in summary["phases"]] + [["total", round(total, 1)]])
    if summary.get("certificates"):
        lines += ["", "## Certificates", ""]
        lines += _table(["node", "certificate", "expires", "days left"],
                        [[c.get("node"), c.get("name"), c.get("expires"), c.get("days_left")] for c in summary["certificates"]])
    if diagram:
        lines += ["", "## Diagram", "", "```mermaid", mermaid(summary).rstrip("\n"), "```"]
    return "\n".join(lines) + "\n"


def _id(name: str) -> str:
    return "n_" + re.sub(r"[^A-Za-z0-9_]", "_", name)


def _tiers(summary: dict) -> dict:
    tiers: dict = {}
    for node in summary["nodes"]:
        tiers.setdefault(node.get("tier") or "other", []).append(node)
    return tiers


def edges(summary: dict) -> list:
    """(from, to, label) of the built platform: replication, clustering, scraping, API joins."""
    by_role: dict = {}
    for node in summary["nodes"]:
        by_role.setdefault(node["role"], []).append(node["name"])
    primary = {e["kind"]: e for e in summary["endpoints"] if e["name"] in ("postgresql-primary", "redis-primary")}
    out = []
    ip_to_node = {n["private_ip"]: n["name"] for n in summary["nodes"]}
    for kind, label in (("postgresql", "streams WAL"), ("redis", "replicates")):
        if kind in primary:
            src = ip_to_node.get(primary[kind]["address"])
            out += [(src, n, label) for n in by_role.get(kind, []) if src and n != src]
    mq = by_role.get("rabbitmq", [])
    out += [(mq[0], n, "cluster") for n in mq[1:]]
    cps = by_role.get("control_plane", [])
    if cps:
        out += [(n, cps[0], "joins") for role in ("control_plane", "worker", "api") for n in by_role.get(role, []) if n != cps[0]]
    for mon in by_role.get("monitoring", []):
        out += [(mon, n["name"], "scrapes") for n in summary["nodes"] if n["name"] != mon]
    return out


def _node_label(node: dict, sep: str) -> str:
    return sep.join([node["name"], f"{node['role']} · {node['private_ip']}", _text(node["az"])])


def mermaid(summary: dict) -> str:
    lines = ["flowchart LR", f'  subgraph vpc["VPC {summary["platform"]} {summary.get("vpc")}"]']
    for tier, nodes in _tiers(summary).items():
        lines.append(f'    subgraph tier_{re.sub(r"[^A-Za-z0-9_]", "_", tier)}["{tier} tier"]')
        lines += [f'      {_id(n["name"])}["{_node_label(n, "<br/>")}"]' for n in nodes]
        lines.append("    end")
    lines.append("  end")
    for src, dst, label in edges(summary):
        arrow = "-.->" if label == "scrapes" else "-->"
        lines.append(f"  {_id(src)} {arrow}|{label}| {_id(dst)}")
    return "\n".join(lines) + "\n"


def _q(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a DOT string literal: double quotes, backslash escapes


def dot(summary: dict) -> str:
    lines = ["digraph platform {", "  rankdir=LR;", '  node [shape=box, style="rounded,filled", fillcolor="#eef3fb", fontname="Helvetica"];',
             '  edge [fontname="Helvetica", fontsize=10];',
             "  subgraph cluster_vpc {", f"    label={_q('VPC ' + _text(summary['platform']) + ' ' + _text(summary.get('vpc')))};"]
    for tier, nodes in _tiers(summary).items():
        lines.append(f"    subgraph cluster_tier_{re.sub(r'[^A-Za-z0-9_]', '_', tier)} {{")
        lines.append(f"      label={_q(tier + ' tier')};")
        lines += [f"      {_id(n['name'])} [label={_q(_node_label(n, chr(10)))}];" for n in nodes]
        lines.append("    }")
    lines.append("  }")
    for src, dst, label in edges(summary):
        style = ", style=dashed, color=gray50" if label == "scrapes" else ""
        lines.append(f"  {_id(src)} -> {_id(dst)} [label={_q(label)}{style}];")
    lines.append("}")
    return "\n".join(lines) + "\n"
