"""Checks of molecule/kubeadm/day2.yml that read better in Python than in Jinja (TEST ONLY).

    day2_check.py upgrade T0 T1 OUT.json < {"fake": <API fake /fake/state>, "nodes": {host: <probe output>}}

The probe output of each node: its stand-in calls.log (one JSON object a line: t, argv), then lines
VERSIONS ..., HELD ..., image: ... . T0: the first upgrade run began; T1: the resumed run began.
Prints the per-node times and writes them to OUT.json (read by benchmarks/day2.py); exits 1 naming
every broken expectation.
"""
from __future__ import annotations

import itertools
import json
import sys
from pathlib import Path

NODES = ["kcp-1", "kcp-2", "kcp-3", "kw-1", "kw-2"]


def upgrade(t0: float, t1: float, out: Path, data: dict) -> list:
    fake, problems, times = data["fake"], [], []
    calls, extra = {}, {}
    for node in NODES:
        lines = data["nodes"][node].splitlines()
        calls[node] = [json.loads(line) for line in lines if line.startswith("{")]
        extra[node] = [line for line in lines if not line.startswith("{")]
    for node in NODES:
        first = [c for c in calls[node] if t0 < c["t"] < t1]
        start = next((c["t"] for c in first if c["argv"] == ["kubelet", "--version"]), None)
        end = next((c["t"] for c in fake["cordons"] if c["node"] == node and not c["unschedulable"] and c["t"] > t0), None)
        ups = [" ".join(c["argv"]) for c in calls[node] if c["t"] > t0 and c["argv"][:2] == ["kubeadm", "upgrade"]]
        want = ["kubeadm upgrade plan v1.37.2", "kubeadm upgrade apply v1.37.2 --yes"] if node == "kcp-1" else ["kubeadm upgrade node"]
        if node == "kw-2":  # stopped at its drain, after `upgrade node`; the resumed run goes through it again
            want = want * 2
        if ups != want:
            problems.append(f"{node}: kubeadm upgrade calls {ups}, expected {want}")
        times.append({"node": node, "start": start, "end": end,
                      "seconds": round(end - start, 1) if start and end else None})
    order = [t["node"] for t in sorted(times, key=lambda t: t["start"] or 0)]
    if order != NODES:
        problems.append(f"nodes started in the order {order}, expected {NODES} (control planes first)")
    for before, after in itertools.pairwise(times):
        if before["end"] and after["start"] and before["end"] > after["start"]:
            problems.append(f"{after['node']} started before {before['node']} was uncordoned: not one node at a time")
    kw2 = [c["unschedulable"] for c in fake["cordons"] if c["node"] == "kw-2"]
    if kw2 != [True, False, True, False]:
        problems.append(f"kw-2 cordon history {kw2}: expected cordoned, uncordoned by the rescue, cordoned, uncordoned")
    if 429 not in [e["code"] for e in fake["evictions"]]:
        problems.append("no eviction was refused with 429: the PodDisruptionBudget was not exercised")
    if fake["unschedulable"]:
        problems.append(f"nodes left cordoned: {fake['unschedulable']}")
    resumed = [n for n in NODES if any(c["t"] > t1 and c["argv"][:2] == ["kubeadm", "upgrade"] for c in calls[n])]
    if resumed != ["kw-2"]:
        problems.append(f"the resumed run upgraded {resumed}, expected only kw-2")
    for node in NODES:
        lines = dict(line.split(" ", 1) for line in extra[node] if " " in line)
        if lines.get("VERSIONS") != "v1.37.2 Kubernetes v1.37.2 1.37.2-1.1":
            problems.append(f"{node}: versions {lines.get('VERSIONS')!r}, expected kubeadm/kubelet/kubectl 1.37.2")
        if (lines.get("HELD") or "").split() != ["kubeadm", "kubectl", "kubelet"]:
            problems.append(f"{node}: held packages {lines.get('HELD')!r}")
        image = lines.get("image:", "none")
        if node.startswith("kcp") and image != "registry.k8s.io/kube-apiserver:v1.37.2":
            problems.append(f"{node}: kube-apiserver manifest image {image!r}")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"nodes": times, "first_run_seconds": round(t1 - t0, 1)}, indent=2))
    print(json.dumps(times))
    return problems


def main() -> int:
    kind = sys.argv[1]
    data = json.load(sys.stdin)
    if kind == "upgrade":
        problems = upgrade(float(sys.argv[2]), float(sys.argv[3]), Path(sys.argv[4]), data)
    else:
        problems = [f"unknown check {kind!r}"]
    for problem in problems:
        print("FAILED:", problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
