"""Benchmark: the AWS API calls of the network and compute layers and of teardown, beside the minimum the topology needs.

Builds inventories/examples/ecoeco-kubeadm (or --example) against its own emulator through a counting proxy
(tests/fakes/aws_fault_proxy.py with no faults) that names every request "service:Operation":
  network.yml   first build, then converged (second run)
  compute.yml   first build, then converged (second run)
  teardown.yml  once
and prints, per run, the calls by operation, the totals (writes / reads) and the minimum the plan needs:
  first build   the creates a from-scratch build cannot avoid, plus one describe per resource type;
  converged     one describe per resource type and no write;
  teardown      one delete per resource, one TerminateInstances, and the detaches AWS requires before a delete
                (the goal: writes = resources deleted, nothing that changes nothing), plus one discovery.

    .venv/bin/python benchmarks/aws_calls.py [--port 5272] [--example ecoeco-kubeadm]

Uses its own emulator port (started and stopped here) so it never resets another user's emulator.
The minimum is computed from the plan by minimum() below; tests/integration/aws/test_aws_calls.py holds the
converged counts under the goals with the same counting (count_runs()).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "tests" / "fakes"))
sys.path.insert(0, str(ROOT / "tests" / "integration" / "aws"))

import emulator  # noqa: E402

WRITES = ("Create", "Update", "Delete", "Attach", "Detach", "Associate", "Disassociate", "Tag", "Untag", "Put", "Add", "Remove",
          "Modify", "Allocate", "Release", "Authorize", "Revoke", "Replace", "Run", "Terminate", "Import", "Register",
          "Deregister", "Set")
GOALS = {"network converged": 15, "compute converged": 10}


def is_write(op: str) -> bool:
    return op.split(":", 1)[1].startswith(WRITES)


def writes(calls: Counter) -> int:
    return sum(n for op, n in calls.items() if is_write(op))


def make_inventory(tmp: Path, example: str) -> Path:
    """The example with an SSH key and an AMI the emulator has (what test_compute_kubeadm.py does)."""
    source = ROOT / "inventories" / "examples" / example / "group_vars" / "all" / "topology.yml"
    inv = tmp / "inventory"
    (inv / "group_vars" / "all").mkdir(parents=True)
    (inv / "group_vars" / "all" / "topology.yml").write_text(source.read_text())
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp / "key")], check=True)
    (inv / "group_vars" / "all" / "compute.yml").write_text(yaml.safe_dump({
        "aws_compute_ami_name": "ubuntu/images/hvm-ssd/ubuntu-xenial-16.04-amd64-server-*",
        "aws_compute_ami_owner": "099720109477", "aws_compute_public_key_file": str(tmp / "key.pub")}))
    (inv / "hosts.yml").write_text(yaml.safe_dump({"all": {"hosts": {"localhost": {
        "ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"}}}}))
    return inv


def minimum(plan: dict) -> dict[str, tuple[int, int]]:
    """(writes, reads) the plan needs at the least, per run."""
    subnets = plan["network"]["subnets"]
    public = sum(1 for s in subnets if s["public"])
    nats = {"single": 1, "per_az": len({s["az"] for s in subnets}), "none": 0}[plan["network"]["nat"]]
    offline = [] if plan["network"]["data_internet"] else ["data"]
    azs = {s["az"] for s in subnets if not s["public"] and s["tier"] not in offline}
    has_data = any(not s["public"] and s["tier"] in offline for s in subnets)
    tables = 1 + len(azs) + int(has_data)
    routed = 1 + (len(azs) if nats else 0)
    groups = plan["security_groups"]
    # VPC + DNS hostnames, subnets + public IP mapping, IGW + attach, EIP + NAT each, tables + default routes +
    # associations, groups + one authorize per group with rules
    net_writes = (2 + len(subnets) + public + 2 + 2 * nats + tables + routed + len(subnets) + len(groups)
                  + sum(1 for g in groups if g["rules"]))
    # describes: VPC, subnets, IGW, NAT, addresses, route tables, security groups (+1 NAT wait)
    net_reads = 7
    nodes = [n for n in plan["nodes"] if not any(p["name"] == n["pool"] and p.get("managed") for p in plan["pools"])]
    kinds = {{"control_plane": "cp", "worker": "node", "api": "node"}.get(n["role"], "host") for n in nodes}
    kubeadm = plan["kubernetes"]["mode"] == "kubeadm"
    policies = len(kinds - {"host"}) if kubeadm else 0
    # key pair, per kind: role + managed policy + profile + add role, the inline policies; one RunInstances per node and
    # one source/destination check change per node that wants it off (RunInstances cannot set it)
    pools = {p["name"]: p for p in plan["pools"]}
    cmp_writes = 1 + len(kinds) * 4 + policies + len(nodes) + sum(1 for n in nodes if not pools[n["pool"]]["source_dest_check"])
    # subnets, groups, image, key pair, instances (+1 wait), IAM (one read of every role with its policies and profiles)
    cmp_reads = 6 + 1
    cmp_conv_reads = 6
    # teardown: one delete per resource (VPC, subnets, IGW, NAT + EIP, tables, groups, key pair, profiles, roles), one
    # TerminateInstances for every node, and what AWS wants before a delete: the IGW detached, each role's managed
    # policy detached, inline policy deleted and profile emptied
    resources = 1 + len(subnets) + 1 + 2 * nats + tables + len(groups) + 1 + 2 * len(kinds)
    detaches = 1 + len(kinds) * 2 + policies
    down_writes = resources + 1 + detaches
    return {"network first build": (net_writes, net_reads + 1), "network converged": (0, net_reads),
            "compute first build": (cmp_writes, cmp_reads), "compute converged": (0, cmp_conv_reads),
            "teardown": (down_writes, 12)}


def count_runs(url: str, inventory: Path, runs: list[tuple[str, str, list[str]]]) -> list[tuple[str, float, str, Counter]]:
    """Each (label, playbook, extra args) run through one counting proxy: (label, seconds, recap, calls)."""
    from aws_fault_proxy import FaultProxy

    out = []
    with FaultProxy(url, rate=0.0) as proxy:
        env = dict(os.environ, AWS_ENDPOINT_URL=proxy.url, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
                   ANSIBLE_CACHE_PLUGIN="memory")
        for label, book, extra in runs:
            proxy.stats["calls"].clear()
            start = time.monotonic()
            result = subprocess.run([str(ROOT / ".venv" / "bin" / "ansible-playbook"), "-i", str(inventory),
                                     str(ROOT / "playbooks" / book), *extra], cwd=ROOT, env=env, capture_output=True, text=True,
                                    check=False)
            if result.returncode != 0:
                raise RuntimeError(f"{label}: {book} failed\n" + result.stdout[-4000:] + result.stderr[-2000:])
            recap = next(line for line in result.stdout.splitlines() if line.startswith("localhost") and "changed=" in line)
            out.append((label, time.monotonic() - start, recap.split(":", 1)[1].strip(), Counter(proxy.stats["calls"])))
    return out


RUNS = [("network first build", "network.yml", []), ("network converged", "network.yml", []),
        ("compute first build", "compute.yml", []), ("compute converged", "compute.yml", []),
        ("teardown", "teardown.yml", ["-e", "confirm_teardown={platform}"])]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=5272)
    parser.add_argument("--example", default="ecoeco-kubeadm")
    args = parser.parse_args()
    url = emulator.start(args.port)
    os.environ.update(emulator.client_env(args.port))
    try:
        import aws_helpers

        emulator.reset(args.port)
        plan = aws_helpers.plan_of(ROOT / "inventories" / "examples" / args.example)
        with tempfile.TemporaryDirectory() as tmp:
            inventory = make_inventory(Path(tmp), args.example)
            runs = count_runs(url, inventory, [(label, book, [a.format(platform=plan["name"]) for a in extra])
                                               for label, book, extra in RUNS])
    finally:
        emulator.stop(args.port)

    need = minimum(plan)
    print(f"AWS API calls on {args.example} ({len(plan['network']['subnets'])} subnets, {len(plan['security_groups'])} security "
          f"groups, {len(plan['nodes'])} nodes)\n")
    ops = sorted({op for run in runs for op in run[3]})
    print(f"{'operation':46}" + "".join(f"{label.replace('network ', 'net ').replace('compute ', 'cmp ')[:12]:>13}"
                                        for label, *_rest in runs))
    for op in ops:
        print(f"{op:46}" + "".join(f"{run[3][op] or '':>13}" for run in runs))
    print()
    for label, seconds, recap, calls in runs:
        total, wrote = sum(calls.values()), writes(calls)
        min_w, min_r = need[label]
        goal = GOALS.get(label)
        verdict = f"; goal <= {goal}: {'ok' if total <= goal else 'MISSED'}" if goal else ""
        if label.endswith("first build"):
            verdict = f"; goal <= 2x minimum: {total / (min_w + min_r):.2f}x {'ok' if total <= 2 * (min_w + min_r) else 'MISSED'}"
        print(f"{label:20} {total:4} calls ({wrote:3} writes, {total - wrote:3} reads) in {seconds:5.1f} s; "
              f"minimum {min_w + min_r} ({min_w} writes, {min_r} reads){verdict}\n{'':21}{recap}")


if __name__ == "__main__":
    main()
