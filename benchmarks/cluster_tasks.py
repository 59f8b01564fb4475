"""Tasks executed per host and wall time per run, from an Ansible log file (ANSIBLE_LOG_PATH).

    python benchmarks/cluster_tasks.py LOG [--control-plane HOST] [--worker HOST]

Each ansible-playbook run in the log (one process id: molecule's prepare, converge, idempotence and
verify) is one phase: its first play names it, its first and last lines give its wall time. A task
counts for a host when the host reports ok / changed / failed for it (a loop counts once; skipped
tasks do not count: they cost next to nothing). molecule/kubeadm writes such a log
(${MOLECULE_EPHEMERAL_DIRECTORY}/ansible.log); on a real account set ANSIBLE_LOG_PATH for site.yml.
"""
from __future__ import annotations

import argparse
import re
import sys
from collections import Counter, defaultdict
from datetime import datetime

LINE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+) p=(\d+) u=\S+ n=\S+\s*(?:\w+)?\s*\|\s?(.*)$")
RESULT = re.compile(r"^(ok|changed|failed|fatal): \[([^\]\s]+)(?: -> [^\]]+)?\]")
INCLUDED = re.compile(r"^included: .* for (.*?)(?: => \(item=.*\))?$")


def parse(lines):
    """{pid: {'first_play', 'start', 'end', 'tasks': Counter(host -> tasks)}} in log order."""
    runs = {}
    seen = defaultdict(set)  # (pid, task number) -> hosts already counted
    task_no = Counter()
    for raw in lines:
        match = LINE.match(raw.rstrip("\n"))
        if not match:
            continue
        stamp, pid, msg = match.groups()
        when = datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S,%f")
        run = runs.setdefault(pid, {"first_play": "", "start": when, "end": when, "tasks": Counter()})
        run["end"] = when
        if msg.startswith("PLAY [") and not run["first_play"]:
            run["first_play"] = msg[6:msg.index("]")]
        elif msg.startswith("TASK ["):
            task_no[pid] += 1
        hosts = []
        result = RESULT.match(msg)
        if result:
            hosts = [result.group(2)]
        included = INCLUDED.match(msg)
        if included:
            hosts = [h.strip() for h in included.group(1).split(",")]
        for host in hosts:
            key = (pid, task_no[pid])
            if host not in seen[key]:
                seen[key].add(host)
                run["tasks"][host] += 1
    return runs


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("log")
    parser.add_argument("--control-plane", default="kcp-1", help="the control plane to report (default kcp-1, the one that inits)")
    parser.add_argument("--worker", default="kw-1")
    args = parser.parse_args(argv)
    with open(args.log, encoding="utf-8", errors="replace") as handle:
        runs = parse(handle)
    if not runs:
        print(f"{args.log}: no Ansible log lines found", file=sys.stderr)
        return 1
    names = Counter()
    print(f"{'run (first play)':<48} {'wall s':>7} {args.control_plane:>8} {args.worker:>8}  all hosts")
    for run in (r for r in runs.values() if r["first_play"]):  # a --syntax-check run has no play
        names[run["first_play"]] += 1
        label = run["first_play"] + (f" #{names[run['first_play']]}" if names[run["first_play"]] > 1 else "")
        secs = (run["end"] - run["start"]).total_seconds()
        tasks = run["tasks"]
        print(f"{label[:48]:<48} {secs:7.1f} {tasks.get(args.control_plane, 0):8d} {tasks.get(args.worker, 0):8d}  "
              + " ".join(f"{h}={n}" for h, n in sorted(tasks.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
