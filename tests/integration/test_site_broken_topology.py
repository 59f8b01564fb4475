"""site.yml on a broken topology stops in its first task, lists every error, and sends nothing to AWS.

AWS_ENDPOINT_URL points at a local listener that counts requests: any AWS call the run made would
show up there (and a missing call to the emulator would not be noticed otherwise).
"""
from __future__ import annotations

import http.server
import os
import subprocess
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


class _Counter(http.server.BaseHTTPRequestHandler):
    requests: list[str] = []

    def _any(self):
        type(self).requests.append(f"{self.command} {self.path}")
        self.send_response(500)
        self.end_headers()

    do_GET = do_POST = do_PUT = do_DELETE = _any

    def log_message(self, *args):  # keep pytest output clean
        return


def _run_site(inventory: str):
    """(exit code, output, AWS requests seen) of site.yml on a test inventory, AWS pointed at the counter."""
    _Counter.requests = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Counter)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_CACHE_PLUGIN="memory",
                   ANSIBLE_NOCOLOR="1", AWS_ENDPOINT_URL=f"http://127.0.0.1:{server.server_port}")
        run = subprocess.run([str(ROOT / ".venv" / "bin" / "ansible-playbook"), "-i",
                              str(ROOT / "tests" / "integration" / "inventories" / inventory),
                              str(ROOT / "playbooks" / "site.yml")],
                             cwd=ROOT, env=env, capture_output=True, text=True, timeout=180, check=False)
    finally:
        server.shutdown()
    return run.returncode, run.stdout + run.stderr, list(_Counter.requests)


def test_site_fails_first_with_all_errors_and_no_aws_call():
    code, out, requests = _run_site("broken")
    assert code == 2, out
    assert "5 errors in the topology" in out, out
    assert "pools[1].taints[0].effect: 'NoSchedul' is not one of NoSchedule, PreferNoSchedule, NoExecute" in out
    tasks = [line for line in out.splitlines() if line.startswith("TASK [") and "Mark the start of the phase" not in line]
    assert len(tasks) == 1 and tasks[0].startswith("TASK [Build msa_plan]"), tasks  # the phase mark before it touches nothing
    assert requests == []


def test_site_rejects_bad_addon_sections_before_any_aws_call():
    code, out, requests = _run_site("broken-addons")
    assert code == 2, out
    assert "5 errors in the topology" in out, out
    for path in ("ingress.certificate_arn", "ingress.routes[0].service", "domains[0].reach.domains[0]", "domains[0].reach.services[0]",
                 "gitops.repo_url"):
        assert f"- {path}: " in out, (path, out)
    assert len([line for line in out.splitlines() if line.startswith("TASK [") and "Mark the start of the phase" not in line]) == 1
    assert requests == []
