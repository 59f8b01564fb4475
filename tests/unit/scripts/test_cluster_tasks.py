"""benchmarks/cluster_tasks.py: runs by process, tasks per host (a loop once, skips not), wall time."""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "benchmarks"))

import cluster_tasks

LOG = """\
2026-12-02 03:27:06,239 p=10 u=root n=ansible INFO| playbook: converge.yml
2026-12-02 03:28:00,000 p=11 u=root n=ansible INFO| PLAY [Converge] ****
2026-12-02 03:28:00,100 p=11 u=root n=ansible INFO| TASK [a : Read state] ***
2026-12-02 03:28:01,000 p=11 u=root n=ansible INFO| ok: [cp-1]
2026-12-02 03:28:01,000 p=11 u=root n=ansible INFO| ok: [w-1]
2026-12-02 03:28:01,100 p=11 u=root n=ansible INFO| TASK [a : Loop] ***
2026-12-02 03:28:02,000 p=11 u=root n=ansible INFO| changed: [cp-1] => (item=x)
2026-12-02 03:28:02,000 p=11 u=root n=ansible INFO| changed: [cp-1] => (item=y)
2026-12-02 03:28:02,000 p=11 u=root n=ansible INFO| skipping: [w-1]
2026-12-02 03:28:02,100 p=11 u=root n=ansible INFO| TASK [a : Include] ***
2026-12-02 03:28:03,000 p=11 u=root n=ansible INFO| included: /r/join.yml for cp-1, w-1 => (item=w-1)
2026-12-02 03:28:03,100 p=11 u=root n=ansible INFO| TASK [a : Delegated] ***
2026-12-02 03:28:10,500 p=11 u=root n=ansible INFO| ok: [cp-1 -> localhost]
2026-12-02 03:29:00,000 p=12 u=root n=ansible INFO| PLAY [Converge] ****
2026-12-02 03:29:00,100 p=12 u=root n=ansible INFO| TASK [a : Read state] ***
2026-12-02 03:29:04,000 p=12 u=root n=ansible INFO| ok: [cp-1]
not a log line
"""


def test_counts_tasks_per_host_and_run(tmp_path, capsys):
    runs = cluster_tasks.parse(LOG.splitlines())
    assert [r["first_play"] for r in runs.values()] == ["", "Converge", "Converge"]
    first = runs["11"]
    assert dict(first["tasks"]) == {"cp-1": 4, "w-1": 2}
    assert (first["end"] - first["start"]).total_seconds() == 10.5
    log = tmp_path / "ansible.log"
    log.write_text(LOG)
    assert cluster_tasks.main([str(log), "--control-plane", "cp-1", "--worker", "w-1"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1].split()[:4] == ["Converge", "10.5", "4", "2"]
    assert out[2].split()[:5] == ["Converge", "#2", "4.0", "1", "0"]
