"""Helpers for the Kubernetes node module tests: run a module in this process or through
ansible-playbook. The modules talk to the API fake of tests/fakes/kube_api.py."""
from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "tests" / "fakes"))
sys.path.insert(0, str(ROOT / ".cache" / "collections"))

import kube_api  # noqa: E402  (tests/fakes, on sys.path from here)
from ansible.module_utils.testing import patch_module_args  # noqa: E402

__all__ = ["ROOT", "kube_api", "recap", "run_module", "run_playbook"]


def run_module(name: str, args: dict, check: bool = False, diff: bool = False) -> dict:
    """Run msa.platform.<name> in this process the way Ansible would; return its result dict."""
    module = __import__(f"ansible_collections.msa.platform.plugins.modules.{name}", fromlist=["main"])
    args = dict(args, _ansible_check_mode=check, _ansible_diff=diff)
    out = io.StringIO()
    with patch_module_args(args), contextlib.redirect_stdout(out):
        try:
            module.main()
        except SystemExit:  # exit_json / fail_json end the module; its result is what it printed
            pass
        else:
            raise AssertionError(f"{name} returned without exit_json or fail_json")
    return json.loads(out.getvalue())


def run_playbook(playbook: Path, extra_vars: dict, *options: str) -> subprocess.CompletedProcess:
    """ansible-playbook from the checkout (ANSIBLE_CONFIG=ansible.cfg), JSON extra vars."""
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_STDOUT_CALLBACK="default")
    command = [str(ROOT / ".venv" / "bin" / "ansible-playbook"), "-i", "localhost,", str(playbook),
               "-e", json.dumps(extra_vars), *options]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)


def recap(output: str) -> dict[str, int]:
    """The counters of the localhost line of the PLAY RECAP."""
    line = next(line for line in output.splitlines() if line.startswith("localhost") and "ok=" in line)
    return {key: int(value) for key, value in (field.split("=") for field in line.split()[2:])}
