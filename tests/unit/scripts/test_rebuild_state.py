"""auto-rebuild's bookkeeping: site.yml's layers in order, runs folded into one state, where --resume starts."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "scripts" / "lib"))
import rebuild_state  # noqa: E402  pylint: disable=wrong-import-position


def _run(path: Path, phases, failed=None) -> str:
    path.write_text(json.dumps({"phases": [{"phase": p, "seconds": s, "status": st} for p, s, st in phases], "failed": failed}))
    return str(path)


def test_site_phases_follow_the_import_order_of_site_yml():
    phases = rebuild_state.site_phases(str(ROOT / "playbooks" / "site.yml"))
    assert phases[:2] == ["network", "compute"]
    assert phases.index("cluster") < phases.index("data") < phases.index("monitoring")
    imported = [line for line in (ROOT / "playbooks" / "site.yml").read_text().splitlines()
                if "import_playbook:" in line and "phase_mark.yml" not in line]
    assert len(phases) == len(imported)  # every layer import is a phase, none parsed twice or missed
    assert "phase_mark" not in phases


def test_runs_fold_into_one_state_and_the_last_failure_wins(tmp_path):
    state = str(tmp_path / "state.json")
    rebuild_state.record(state, _run(tmp_path / "t.json", [("teardown", 30.5, "ok")]), reset=True)
    folded = rebuild_state.record(state, _run(tmp_path / "s.json", [("network", 12, "ok"), ("compute", 40, "failed")],
                                              {"phase": "compute", "task": "Launch", "host": "localhost"}))
    assert [p["phase"] for p in folded["phases"]] == ["teardown", "network", "compute"]
    assert folded["failed"]["phase"] == "compute"
    table = rebuild_state.times_table(rebuild_state.load(state))
    assert table.splitlines()[-1].split() == ["total", "82.5"] and "compute" in table and "failed" in table


@pytest.mark.parametrize("failed, teardown, added", [
    ("teardown", True, []),
    ("network", False, []),
    ("data", False, ["network", "compute"]),
    ("monitoring", False, ["network", "compute", "data"]),
])
def test_resume_skips_exactly_the_layers_before_the_failed_one(failed, teardown, added):
    phases = ["network", "compute", "cluster", "data", "monitoring"]
    where = rebuild_state.resume({"failed": {"phase": failed}}, phases, ["cluster"])
    assert where["ok"] and where["phase"] == failed and where["teardown"] is teardown
    assert where["skip"] == ["cluster", *added]  # the inventory's own skip list is kept, first


def test_nothing_to_resume_after_a_successful_or_unknown_run(tmp_path):
    assert not rebuild_state.resume(rebuild_state.load(str(tmp_path / "missing.json")), ["network"], [])["ok"]
    (tmp_path / "bad.json").write_text("[1, 2]")
    assert rebuild_state.load(str(tmp_path / "bad.json")) == {"phases": [], "failed": None}


def test_resume_prints_shell_assignments_that_survive_quotes(tmp_path, capsys):
    state = _run(tmp_path / "state.json", [("data", 1, "failed")], {"phase": "data"})
    site = tmp_path / "site.yml"
    site.write_text("- ansible.builtin.import_playbook: network.yml\n- ansible.builtin.import_playbook: data.yml\n")
    assert rebuild_state.main(["resume", state, str(site), json.dumps(["it's"])]) == 0
    out = dict(line.split("=", 1) for line in capsys.readouterr().out.splitlines())
    assert out["resume_phase"] == "'data'" and out["resume_teardown"] == ""
    assert json.loads(out["resume_skip"][1:-1].replace("'\\''", "'")) == {"msa_site_skip": ["it's", "network"]}
