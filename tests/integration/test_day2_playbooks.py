"""The day-2 playbooks (upgrade, scale, remove-node, reset) refuse before touching anything, each naming
why, where no host is needed: an EKS topology, an inventory without control planes, a missing node, the
last control plane (its host unreachable: the refusal needs no answer from it), a destructive run without
its typed confirmation; and reset --check only says what it would do.
(With hosts, molecule/kubeadm's day2.yml runs them on a real cluster of test hosts.)"""
from __future__ import annotations

import os
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "inventories" / "examples"

CASES = {
    # name: (example, playbook, extra args, expected return code, fragments of the output)
    "upgrade-eks": ("courm-eks", "upgrade.yml", ["-e", "target_version=1.36"], 2,
                    ["upgrade.yml upgrades a kubeadm cluster: kubernetes.mode is eks (EKS: change kubernetes.version"]),
    "upgrade-no-cp": ("minimal-kubeadm", "upgrade.yml", ["-e", "target_version=1.37"], 2,
                      ["control-plane hosts in the inventory: 0"]),
    "remove-no-node": ("minimal-kubeadm", "remove-node.yml", [], 2, ["needs -e node=<name> (got '')"]),
    "remove-last-cp": ("minimal-kubeadm", "remove-node.yml", ["-i", "{one_cp}", "-e", "node=mini-cp-1", "-e", "confirm=mini-cp-1"], 2,
                       ["remove-node refused, nothing was changed: node: mini-cp-1 is the last control-plane node; "
                        "removing it destroys the cluster (use reset.yml)"]),
    "reset-unconfirmed": ("minimal-kubeadm", "reset.yml", [], 2,
                          ["reset refused, nothing was changed: confirm: this is destructive and needs confirmation: "
                           "add -e confirm=mini (no prompt answered in a non-interactive run)"]),
    "reset-check": ("minimal-kubeadm", "reset.yml", ["--check"], 0, ["Would reset 0 nodes of mini", "changed=0"]),
}


# One control plane and one worker whose SSH port is closed (port 9 of the controller): unreachable at once.
ONE_CP = """all:
  children:
    k8s_cluster:
      children:
        control_plane: {hosts: {mini-cp-1: {ansible_host: 127.0.0.1, ansible_port: 9}}}
        workers: {hosts: {mini-worker-1: {ansible_host: 127.0.0.1, ansible_port: 9}}}
"""


def run(case: tuple, paths: dict) -> subprocess.CompletedProcess:
    example, playbook, extra, _code, _fragments = case
    extra = [arg.format(**paths) for arg in extra]
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_CACHE_PLUGIN="memory", ANSIBLE_NOCOLOR="1",
               ANSIBLE_STDOUT_CALLBACK="default")
    return subprocess.run([str(ROOT / ".venv" / "bin" / "ansible-playbook"), "-i", str(EXAMPLES / example),
                           str(ROOT / "playbooks" / playbook), *extra], cwd=ROOT, env=env, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=300, check=False)


def test_day2_playbooks_refuse_or_preview_without_touching_anything(tmp_path):
    paths = {"one_cp": str(tmp_path / "one-cp.yml")}
    Path(paths["one_cp"]).write_text(ONE_CP)
    with ThreadPoolExecutor(max_workers=4) as pool:
        runs = dict(zip(CASES, pool.map(lambda case: run(case, paths), CASES.values()), strict=True))
    for name, (_example, _playbook, _extra, code, fragments) in CASES.items():
        out = runs[name].stdout + runs[name].stderr
        assert runs[name].returncode == code, (name, out)
        for fragment in fragments:
            assert fragment in " ".join(out.split()), (name, fragment, out)
        assert "changed=0" in out, (name, out)
