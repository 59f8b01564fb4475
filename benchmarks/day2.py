"""Day-2 figures of a molecule/kubeadm run (its verify runs molecule/kubeadm/day2.yml):

- scale.yml: tasks run per host when one node is added (goal for the nodes already in the cluster: 0),
  from the run's ansible.posix.json stats (.cache/day2/scale.json). The plays after the first target
  only the new nodes (group msa_scale_new), so the count on an existing node does not grow with the
  cluster: the same holds when one node is added to ecoeco-kubeadm (14 nodes), which the script also
  states from the playbook's plays;
- upgrade.yml: per-node wall time of the rolling upgrade, from a node's first step (`kubelet --version`)
  to its uncordon (.cache/day2/upgrade.json), control planes first.

    molecule test -s kubeadm            # writes .cache/day2/*.json
    python benchmarks/day2.py
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / ".cache" / "day2"
EXISTING = ["kcp-1", "kcp-2", "kcp-3", "kw-1", "kw-2"]


def main() -> int:
    plays = yaml.safe_load((ROOT / "playbooks" / "scale.yml").read_text())
    patterns = [p["hosts"] for p in plays]
    print("scale.yml plays target:", ", ".join(patterns))
    reach = [p for p in patterns[1:] if "msa_scale_new" not in p]
    print(f"  plays that can reach a node already in the cluster (ecoeco-kubeadm or any size): {len(reach)}"
          + (f" ({', '.join(reach)}: the controller only)" if reach else ""))
    try:
        stats = json.loads((CACHE / "scale.json").read_text())
        upgrade = json.loads((CACHE / "upgrade.json").read_text())
    except FileNotFoundError as exc:
        print(f"no molecule figures yet ({exc.filename}): run `molecule test -s kubeadm` first", file=sys.stderr)
        return 1
    for host in EXISTING:
        counts = stats.get(host, {})
        total = sum(counts.get(k, 0) for k in ("ok", "changed", "failures", "skipped", "unreachable"))
        print(f"  {host} (in the cluster): {total} tasks (goal 0)")
    for host in sorted(set(stats) - set(EXISTING)):
        print(f"  {host}: ok={stats[host].get('ok', 0)} changed={stats[host].get('changed', 0)} "
              f"skipped={stats[host].get('skipped', 0)}")
    print(f"upgrade.yml 1.36 -> 1.37, first run {upgrade['first_run_seconds']} s (stopped on kw-2 by its PodDisruptionBudget):")
    for node in upgrade["nodes"]:
        print(f"  {node['node']}: {node['seconds']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
