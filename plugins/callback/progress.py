# Copyright: msa.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
name: progress
type: stdout
short_description: One line per phase and play, full detail for failures
description:
  - A compact view of a long run such as C(site.yml). Every play ends with one line (its name, hosts
    done out of hosts in the play, tasks run, hosts changed, elapsed time) and every phase ends with a
    line of its wall time. A phase is a layer of C(site.yml), named by the phase mark it imports before
    each layer (C(phase_mark.yml) with C(msa_phase)); in a playbook without marks, the playbook file a
    play comes from (C(teardown) for C(playbooks/teardown.yml)).
  - A failed or unreachable host is shown in full (task, file and line, the result as the default
    callback would print it, C(no_log) results censored), as are the messages of C(debug) tasks (the
    lines that say why a layer is skipped; a list of strings, such as the run summary, as plain lines),
    diffs when C(--diff) is given, and warnings.
  - The recap at the end has the default callback's format, so tools that read C(changed=0) keep working.
  - On a terminal a status line shows the task running and how many hosts have finished it.
  - With O(state_file) set, the phases (name, seconds, status) and the first failure (phase, play,
    task, host) are written there as JSON when the run ends; C(scripts/auto-rebuild.sh) reads it to
    print phase timings and to resume from the phase that failed.
version_added: "0.2.0"
author:
  - msa.platform maintainers (@msa-platform)
options:
  state_file:
    description:
      - Where to write the run's phases and first failure as JSON (not written when empty).
      - A string, not a path option, because Ansible turns an empty path into the current directory.
    type: str
    default: ''
    env:
      - name: MSA_PROGRESS_STATE
    ini:
      - section: callback_progress
        key: state_file
"""

import json
import os
import sys
import time

from ansible import constants as C
from ansible.plugins.callback import CallbackBase

MARK = "phase_mark"   # playbooks/phase_mark.yml: site.yml imports it before each layer with msa_phase


def phase_of(path):
    """The phase a play belongs to: the base name of its playbook file (`.../network.yml:3` -> network)."""
    if not path:
        return "playbook"
    name = os.path.basename(str(path).rsplit(":", 1)[0])
    for ext in (".yml", ".yaml"):
        if name.endswith(ext):
            return name[: -len(ext)]
    return name


def seconds(value):
    return f"{value:.1f}s" if value < 60 else f"{int(value // 60)}m{value % 60:04.1f}s"


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "stdout"
    CALLBACK_NAME = "msa.platform.progress"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._tty = sys.stdout.isatty()
        self._status_shown = False
        self._run_start = time.monotonic()
        self._phases = []          # [{phase, seconds, status, plays}]
        self._phase = None
        self._phase_start = None
        self._play = None
        self._play_start = None
        self._play_hosts = []
        self._play_tasks = 0
        self._play_changed = set()
        self._play_failed = set()
        self._task = None
        self._task_done = set()
        self._failure = None
        self._check = False
        self._dead = set()         # hosts that failed or went unreachable: later plays leave them out
        self._layer = None         # the phase named by the last phase mark (site.yml), if any
        self._quiet = False

    # ------------------------------------------------------------ output helpers

    def _clear_status(self):
        if self._status_shown:
            sys.stdout.write("\r\033[K")
            sys.stdout.flush()
            self._status_shown = False

    def _say(self, text, color=None):
        self._clear_status()
        self._display.display(text, color=color)

    def _status(self):
        if not self._tty or self._task is None:
            return
        total = len(self._play_hosts) or len(self._task_done)
        line = f"  ... {self._task.get_name()[:70]} ({len(self._task_done)}/{total} hosts, {seconds(time.monotonic() - self._play_start)})"
        sys.stdout.write("\r\033[K" + line)
        sys.stdout.flush()
        self._status_shown = True

    # ------------------------------------------------------------ phases and plays

    def _end_play(self):
        if self._play is None:
            return
        if self._quiet and not self._play_failed:
            self._play = None
            return
        total = len(self._play_hosts)
        done = total - len(self._play_failed & set(self._play_hosts))
        changed = len(self._play_changed)
        mark = "FAILED" if self._play_failed else "ok"
        color = C.COLOR_ERROR if self._play_failed else (C.COLOR_CHANGED if changed else C.COLOR_OK)
        self._say(
            f"  {mark:6} {self._play.get_name()[:60]:60} {done}/{total} hosts  {self._play_tasks} tasks  "
            f"{changed} changed  {seconds(time.monotonic() - self._play_start)}",
            color=color,
        )
        self._phases[-1]["plays"] += 1
        if self._play_failed:
            self._phases[-1]["status"] = "failed"
        self._play = None

    def _end_phase(self):
        if self._phase is None:
            return
        entry = self._phases[-1]
        entry["seconds"] = round(time.monotonic() - self._phase_start, 1)
        self._say(f"== {entry['phase']}: {entry['status']} in {seconds(entry['seconds'])}",
                  color=C.COLOR_ERROR if entry["status"] == "failed" else None)
        self._phase = None

    def v2_playbook_on_start(self, playbook):
        self._playbook = os.path.basename(playbook._file_name)

    def v2_playbook_on_play_start(self, play):
        self._end_play()
        self._check = bool(getattr(play, "check_mode", False))
        # site.yml marks each layer with a play of phase_mark.yml carrying msa_phase: that names the phase
        # until the next mark, whatever files the layer imports; without marks a playbook file is a phase.
        path = play.get_path()
        marked = (play.vars or {}).get("msa_phase") if phase_of(path) == MARK else None
        if isinstance(marked, str) and marked:
            self._layer = marked
        phase = self._layer or phase_of(path)
        if phase != self._phase:
            self._end_phase()
            self._phase, self._phase_start = phase, time.monotonic()
            self._phases.append({"phase": phase, "seconds": 0.0, "status": "ok", "plays": 0})
            self._say(f"== {phase}{' (check mode)' if self._check else ''}", color=C.COLOR_HIGHLIGHT)
        self._play, self._play_start = play, time.monotonic()
        self._quiet = phase_of(path) == MARK   # a phase mark is bookkeeping: no line of its own
        self._play_hosts = [h for h in self._hosts_of(play) if h not in self._dead]
        self._play_tasks = 0
        self._play_changed, self._play_failed = set(), set()
        self._task = None

    @staticmethod
    def _hosts_of(play):
        try:
            inventory = play.get_variable_manager()._inventory  # pylint: disable=protected-access
            return [h.get_name() for h in inventory.get_hosts(play.hosts)]
        except Exception:  # pylint: disable=broad-exception-caught
            return []

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._task, self._task_done = task, set()
        self._play_tasks += 1
        self._status()

    v2_playbook_on_handler_task_start = v2_playbook_on_task_start

    # ------------------------------------------------------------ results

    def _host_done(self, result):
        name = result._host.get_name()
        self._task_done.add(name)
        if name not in self._play_hosts:
            self._play_hosts.append(name)
        self._status()
        return name

    def v2_runner_on_ok(self, result):
        host = self._host_done(result)
        self._handle_warnings_and_exception(result)
        if result._result.get("changed", False):
            self._play_changed.add(host)
        if result._task.action in ("debug", "ansible.builtin.debug") and "msg" in result._result:
            msg = result._result["msg"]
            if isinstance(msg, list) and all(isinstance(line, str) for line in msg):
                text = "\n".join(msg)   # lines of text (the run summary's table): printed as lines, not as JSON
            else:
                text = msg if isinstance(msg, str) else json.dumps(msg, indent=2, default=str)
            self._say("\n".join(f"     {line}" for line in text.splitlines()) or "     ")

    def v2_runner_on_skipped(self, result):
        self._host_done(result)

    @staticmethod
    def _rescued(task):
        """True when a block around `task` has a rescue section: the failure may be handled there."""
        parent = getattr(task, "_parent", None)
        while parent is not None:
            if getattr(parent, "rescue", None):
                return True
            parent = getattr(parent, "_parent", None)
        return False

    def _fail(self, result, kind, color):
        host = result._host.get_name()
        task = result._task
        if kind == "FAILED" and self._rescued(task):
            msg = result._result.get("msg", "")
            self._say(f"  failed, rescue follows: {host} | {task.get_name()}: {msg if isinstance(msg, str) else ''}"[:300],
                      color=C.COLOR_WARN)
            return
        self._say(f"  {kind}: {host} | {task.get_name()} ({task.get_path() or 'no path'})", color=color)
        self._handle_exception(result._result)
        self._handle_warnings(result._result)
        self._say(self._dump_results(result._result, indent=4), color=color)
        self._play_failed.add(host)
        self._dead.add(host)
        if self._failure is None:
            self._failure = {"phase": self._phase, "play": self._play.get_name() if self._play else None,
                             "task": task.get_name(), "host": host, "kind": kind.lower()}

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._host_done(result)
        if ignore_errors:
            self._say(f"  ignored: {result._host.get_name()} | {result._task.get_name()} failed (ignore_errors)",
                      color=C.COLOR_SKIP)
            return
        self._fail(result, "FAILED", C.COLOR_ERROR)

    def v2_runner_on_unreachable(self, result):
        self._host_done(result)
        self._fail(result, "UNREACHABLE", C.COLOR_UNREACHABLE)

    def v2_on_file_diff(self, result):
        if result._task.loop and "results" in result._result:
            diffs = [r["diff"] for r in result._result["results"] if r.get("diff") and r.get("changed")]
        else:
            diffs = [result._result["diff"]] if result._result.get("diff") and result._result.get("changed") else []
        for diff in diffs:
            text = self._get_diff(diff)
            if text:
                self._say(f"  diff: {result._host.get_name()} | {result._task.get_name()}")
                self._say(text)

    # ------------------------------------------------------------ the end

    def v2_playbook_on_stats(self, stats):
        self._end_play()
        self._end_phase()
        if not any(stats.failures.values()) and not any(stats.dark.values()):
            # Every failure seen was rescued (block/rescue): the run did not fail.
            self._failure = None
            for entry in self._phases:
                entry["status"] = "ok" if entry["status"] == "failed" else entry["status"]
        self._say("")
        for host in sorted(stats.processed.keys()):
            t = stats.summarize(host)
            self._say(
                f"{host:26} : ok={t['ok']:<4} changed={t['changed']:<4} unreachable={t['unreachable']:<4} "
                f"failed={t['failures']:<4} skipped={t['skipped']:<4} rescued={t['rescued']:<4} ignored={t['ignored']}",
                color=C.COLOR_ERROR if t["failures"] or t["unreachable"] else (C.COLOR_CHANGED if t["changed"] else C.COLOR_OK),
            )
        total = time.monotonic() - self._run_start
        self._say(f"\n{self._playbook if hasattr(self, '_playbook') else 'run'}: {len(self._phases)} phases in {seconds(total)}"
                  + ("" if self._failure is None else f"; failed in phase {self._failure['phase']}"))
        self._write_state(total)

    def _write_state(self, total):
        path = self.get_option("state_file")
        if not path:
            return
        path = os.path.abspath(os.path.expanduser(path))
        state = {"playbook": getattr(self, "_playbook", None), "seconds": round(total, 1), "check_mode": self._check,
                 "phases": self._phases, "failed": self._failure}
        directory = os.path.dirname(os.path.abspath(path))
        os.makedirs(directory, exist_ok=True)
        tmp = f"{path}.tmp"
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump(state, handle, indent=2)
            handle.write("\n")
        os.replace(tmp, path)
