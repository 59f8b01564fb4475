# Copyright: msa.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The bookkeeping of scripts/auto-rebuild.sh: phase timings, the last run's state, where --resume starts.

The progress callback (plugins/callback/progress.py) writes, for each ansible-playbook run, the phases it
ran (the playbook file each play came from: teardown, network, compute, ...), their wall times and the
first failure. This script folds the teardown and site runs into one state file per environment and
answers auto-rebuild's questions:

    rebuild_state.py phases SITE_YML                     # the layers of site.yml, in order
    rebuild_state.py record STATE RUN_JSON [--reset]     # add one run's phases (teardown or site) to STATE
    rebuild_state.py resume STATE SITE_YML SKIP_JSON     # where --resume starts, as shell assignments
    rebuild_state.py times STATE                         # the phase timings table
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

IMPORT = re.compile(r"\s*(?:-\s+)?ansible\.builtin\.import_playbook:\s*([A-Za-z0-9_-]+)\.ya?ml\s*")


def site_phases(site_yml: str) -> list[str]:
    """The layers site.yml imports, in order (a layer is named by its playbook: network.yml -> network; the
    phase marks imported before each layer are not layers)."""
    phases = []
    for line in Path(site_yml).read_text(encoding="utf-8").splitlines():
        match = IMPORT.fullmatch(line)
        if match and match.group(1) not in phases and match.group(1) != "phase_mark":
            phases.append(match.group(1))
    return phases


def load(path: str) -> dict:
    try:
        state = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"phases": [], "failed": None}
    if not isinstance(state, dict):
        return {"phases": [], "failed": None}
    state.setdefault("phases", [])
    state.setdefault("failed", None)
    return state


def record(state_path: str, run_path: str, reset: bool = False) -> dict:
    """Append the phases of one run to the state; the run's failure (if any) becomes the state's."""
    state = {"phases": [], "failed": None} if reset else load(state_path)
    run = load(run_path)
    state["phases"].extend(p for p in run["phases"] if isinstance(p, dict) and p.get("phase"))
    if run.get("failed"):
        state["failed"] = run["failed"]
    elif run["phases"]:
        state["failed"] = None
    Path(state_path).write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")
    return state


def resume(state: dict, phases: list[str], skip: list[str]) -> dict:
    """Where a resumed rebuild starts.

    teardown failed (or the state knows no failure in a site layer): the teardown runs again, then all of
    site.yml. A site layer failed: no teardown, and site.yml runs with the layers before it added to the
    inventory's own msa_site_skip (the inventory's list is kept: what it skips stays skipped).
    """
    failed = state.get("failed") or {}
    phase = failed.get("phase")
    if not phase:
        return {"ok": False, "why": "the last rebuild did not fail: nothing to resume"}
    if phase == "teardown":
        return {"ok": True, "phase": phase, "teardown": True, "skip": list(skip)}
    if phase not in phases:
        return {"ok": True, "phase": phases[0] if phases else phase, "teardown": False, "skip": list(skip)}
    before = phases[: phases.index(phase)]
    return {"ok": True, "phase": phase, "teardown": False, "skip": list(skip) + [p for p in before if p not in skip]}


def times_table(state: dict) -> str:
    rows = [(p["phase"], float(p.get("seconds") or 0), p.get("status", "ok")) for p in state["phases"]]
    total = sum(r[1] for r in rows)
    width = max([len(r[0]) for r in rows] + [5])
    lines = [f"{'phase':{width}}  {'seconds':>8}  status"]
    lines += [f"{name:{width}}  {secs:8.1f}  {status}" for name, secs, status in rows]
    lines.append(f"{'total':{width}}  {total:8.1f}")
    return "\n".join(lines)


def _shell(value) -> str:
    return "'" + str(value).replace("'", "'\\''") + "'"


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    command, args = argv[0], argv[1:]
    if command == "phases" and len(args) == 1:
        print(" ".join(site_phases(args[0])))
    elif command == "record" and len(args) in (2, 3):
        record(args[0], args[1], reset="--reset" in args[2:])
    elif command == "resume" and len(args) == 3:
        skip = json.loads(args[2] or "[]")
        if not isinstance(skip, list):
            skip = []
        where = resume(load(args[0]), site_phases(args[1]), [str(s) for s in skip])
        if not where["ok"]:
            print(f"resume_why={_shell(where['why'])}")
            return 1
        print(f"resume_phase={_shell(where['phase'])}")
        print(f"resume_teardown={'1' if where['teardown'] else ''}")
        print(f"resume_skip={_shell(json.dumps({'msa_site_skip': where['skip']}))}")
    elif command == "times" and len(args) == 1:
        print(times_table(load(args[0])))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
