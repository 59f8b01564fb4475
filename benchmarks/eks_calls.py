"""Benchmark: the AWS API calls the EKS layer makes on courm-eks, first build and converged run.

Runs playbooks/eks.yml twice on inventories/examples/courm-eks against its own emulator, through a
counting proxy (tests/fakes/aws_fault_proxy.py with no faults) that names every request
"service:Operation". The network is made beforehand with boto3 straight to the emulator (not counted).
Prints, per operation, the calls of each run, then the totals beside the minimum the topology needs:
  first build   the creates a from-scratch build cannot avoid (roles, policy attachments, cluster, access
                entries and policies, OIDC provider, launch templates, node groups, add-ons);
  converged     one read per resource to see drift, and no write at all.

    .venv/bin/python benchmarks/eks_calls.py [--port 5271]

Uses its own emulator port (started and stopped here) so it never resets another user's emulator.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "tests" / "fakes"))
sys.path.insert(0, str(ROOT / "tests" / "integration" / "aws"))

import emulator  # noqa: E402

EXAMPLE = ROOT / "inventories" / "examples" / "courm-eks"
WRITES = ("Create", "Update", "Delete", "Attach", "Detach", "Associate", "Disassociate", "Tag", "Untag", "Put", "Add", "Remove",
          "Modify")
ADDONS = 5


def minimum(plan: dict) -> tuple[Counter, Counter]:
    """(creates of a first build, reads of a converged run) the topology needs at the least."""
    pools = sum(1 for p in plan["pools"] if p["managed"])
    admins = len(plan["kubernetes"]["admin_principals"])
    first = Counter({"iam:CreateRole": 3, "iam:AttachRolePolicy": 1 + 3 + 1, "eks:CreateCluster": 1,
                     "eks:CreateAccessEntry": admins, "eks:AssociateAccessPolicy": admins, "iam:CreateOpenIDConnectProvider": 1,
                     "ec2:CreateLaunchTemplate": pools, "eks:CreateNodegroup": pools, "eks:CreateAddon": ADDONS})
    converged = Counter({"sts:GetCallerIdentity": 1, "ec2:DescribeSubnets": 1, "ec2:DescribeSecurityGroups": 1,
                         "iam:GetRole": 3, "iam:ListAttachedRolePolicies": 3, "eks:DescribeCluster": 1,
                         "eks:ListAssociatedAccessPolicies": admins, "iam:GetOpenIDConnectProvider": 1,
                         "ec2:DescribeLaunchTemplateVersions": pools, "eks:DescribeNodegroup": pools,
                         "eks:DescribeAddonVersions": 1, "eks:DescribeAddon": ADDONS})
    return first, converged


def writes(calls: Counter) -> int:
    return sum(n for op, n in calls.items() if op.split(":", 1)[1].startswith(WRITES))


def run_playbook(env: dict, kubeconfig: Path) -> tuple[float, str]:
    start = time.monotonic()
    result = subprocess.run([str(ROOT / ".venv" / "bin" / "ansible-playbook"), "-i", str(EXAMPLE), str(ROOT / "playbooks" / "eks.yml"),
                             "-e", f"eks_kubeconfig={kubeconfig}"], cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        sys.exit(result.stdout[-3000:] + result.stderr[-2000:])
    recap = next(line for line in result.stdout.splitlines() if line.startswith("localhost") and "changed=" in line)
    return time.monotonic() - start, recap.split(":", 1)[1].strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=5271)
    args = parser.parse_args()
    url = emulator.start(args.port)
    os.environ.update(emulator.client_env(args.port))
    try:
        import aws_helpers  # the plan of the example and its network, made with boto3
        from aws_fault_proxy import FaultProxy

        plan = aws_helpers.plan_of(EXAMPLE)
        aws_helpers.REGION = plan["region"]
        aws_helpers.make_network(plan)
        runs = []
        with FaultProxy(url, rate=0.0) as proxy:
            env = dict(os.environ, AWS_ENDPOINT_URL=proxy.url, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1")
            for _name in ("first build", "converged"):
                proxy.stats["calls"].clear()
                seconds, recap = run_playbook(env, ROOT / ".cache" / "bench-eks-kubeconfig")
                runs.append((seconds, recap, Counter(proxy.stats["calls"])))
    finally:
        emulator.stop(args.port)

    first_min, converged_min = minimum(plan)
    ops = sorted(set(runs[0][2]) | set(runs[1][2]) | set(first_min) | set(converged_min))
    print(f"AWS API calls of playbooks/eks.yml on courm-eks ({sum(p['managed'] for p in plan['pools'])} node groups, "
          f"{len(plan['kubernetes']['admin_principals'])} admin principal, {ADDONS} add-ons)\n")
    print(f"{'operation':42} {'first':>6} {'min':>5} {'conv':>6} {'min':>5}")
    for op in ops:
        print(f"{op:42} {runs[0][2][op]:6} {first_min[op] or '':>5} {runs[1][2][op]:6} {converged_min[op] or '':>5}")
    for (seconds, recap, calls), label, need in ((runs[0], "first build", first_min), (runs[1], "converged", converged_min)):
        print(f"\n{label}: {sum(calls.values())} calls ({writes(calls)} writes, {sum(calls.values()) - writes(calls)} reads) in "
              f"{seconds:.1f} s; {recap}")
        if label == "first build":
            print(f"  minimum writes: {sum(need.values())}; measured {writes(calls)} ({writes(calls) / sum(need.values()):.2f}x)")
        else:
            print(f"  minimum: {sum(need.values())} reads and 0 writes; measured {sum(calls.values()) - writes(calls)} reads "
                  f"({(sum(calls.values()) - writes(calls)) / sum(need.values()):.2f}x) and {writes(calls)} writes")


if __name__ == "__main__":
    main()
