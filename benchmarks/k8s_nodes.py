"""Benchmark: one k8s_node_labels and one k8s_node_taints call over 1000 nodes in the API fake.

Prints the requests the API fake received (LIST / GET / PATCH) and the wall time of each module
call (run in this process, as Ansible's module runner would, without Ansible's per-task overhead),
for the first run (every node changes), a converged run (nothing changes) and a run where a few
nodes drifted. Expected: exactly 1 LIST + one PATCH per node that needs a change; 0 PATCH when
converged.

    .venv/bin/python benchmarks/k8s_nodes.py [--nodes 1000] [--drift 25]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "integration" / "k8s"))

from k8s_harness import kube_api, run_module  # noqa: E402  (the API fake and the module runner of the tests)

DEDICATED = [{"key": "dedicated", "value": "api", "effect": "NoSchedule"}]


def measure(kube: kube_api.KubeApiFake, label: str, module: str, args: dict) -> dict:
    kube.reset_counts()
    start = time.perf_counter()
    result = run_module(module, args)
    elapsed = time.perf_counter() - start
    if result.get("failed"):
        raise SystemExit(f"{label}: {result['msg']}")
    print(f"{label:<34} LIST={kube.count('list'):<3} GET={kube.count('get'):<3} PATCH={kube.count('patch'):<5} "
          f"changed_nodes={len(result['changed_nodes']):<5} wall={elapsed:.2f}s")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=1000)
    parser.add_argument("--drift", type=int, default=25, help="nodes whose labels someone else changes")
    options = parser.parse_args()
    names = [f"bench-api-{i:04d}" for i in range(options.nodes)]
    with kube_api.serve() as kube, tempfile.TemporaryDirectory() as tmp:
        for name in names:
            kube.add_node(name, taints=[{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}])
        config = str(kube.write_kubeconfig(Path(tmp) / "kubeconfig"))
        labels = {"kubeconfig": config, "nodes": {n: {"api": f"api-{i % 20}", "workload": "api"} for i, n in enumerate(names)}}
        taints = {"kubeconfig": config, "nodes": {n: DEDICATED for n in names}}
        print(f"{options.nodes} nodes in the API fake at {kube.url}")
        measure(kube, "k8s_node_labels first run", "k8s_node_labels", labels)
        measure(kube, "k8s_node_labels converged", "k8s_node_labels", labels)
        for name in names[:options.drift]:
            kube.modify_node(name, lambda node: node["metadata"]["labels"].pop("api"))
        measure(kube, f"k8s_node_labels {options.drift} drifted", "k8s_node_labels", labels)
        measure(kube, "k8s_node_taints first run", "k8s_node_taints", taints)
        measure(kube, "k8s_node_taints converged", "k8s_node_taints", taints)


if __name__ == "__main__":
    main()
