"""site.yml --check on ecoeco-kubeadm (a new account): the cluster layer sits between compute and data,
says which phases a real run performs, and changes nothing; the local default skips it with one line."""
from __future__ import annotations

import re
import subprocess

import pytest
from network_harness import ROOT, URL, ansible_env, leftovers, playbook, recap

pytestmark = pytest.mark.emulator


def plays(stdout: str) -> list[str]:
    return re.findall(r"^PLAY \[(.*?)\]", stdout, re.M)


def test_site_check_lists_the_cluster_phases(network_emulator):
    run = playbook("site.yml", "ecoeco-kubeadm", "--check")
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-3000:]
    said = " ".join(run.stdout.split())
    assert ("Cluster layer, kubeadm mode, Kubernetes 1.37: node_prep on 10 nodes; kubeadm init on ecoeco-master-1 "
            "(endpoint node), 0 more control planes joining one at a time, 9 workers joining in parallel; calico; "
            "cloud_provider; placement of 10 nodes' labels and taints.") in said, said[-3000:]
    order = plays(run.stdout)
    phases = ["Run the platform's EC2 nodes", "Prepare the Kubernetes nodes (containerd, kubelet, kubeadm, kubectl, kernel settings)",
              "Initialize and join the cluster with kubeadm", "Pod network (Calico)", "AWS cloud controller manager",
              "Node labels, taints and the placement check", "PostgreSQL primary and streaming replicas"]
    positions = [order.index(p) for p in phases]
    assert positions == sorted(positions), order
    assert recap(run)["changed"] >= 0 and leftovers("ecoeco") == []  # check mode created nothing


def test_tags_select_one_cluster_phase():
    run = playbook("cluster.yml", "ecoeco-kubeadm", "--tags", "kubeadm", "--list-tasks")
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-3000:]
    listed = {m.group(1): m.group(2) for m in re.finditer(r"play #\d+ \([^)]*\): (.*?)\tTAGS.*?\n    tasks:\n((?:      .*\n)*)", run.stdout)}
    assert "msa.platform.kubeadm : Preflight" in listed["Initialize and join the cluster with kubeadm"]
    # --tags kubeadm selects no task of the other phases
    for other in ("Prepare the Kubernetes nodes (containerd, kubelet, kubeadm, kubectl, kernel settings)",
                  "Pod network (Calico)", "AWS cloud controller manager", "Node labels, taints and the placement check"):
        assert listed[other].strip() == "", (other, listed[other])


def test_local_default_skips_the_cluster_layer_with_one_line(network_emulator):
    env = ansible_env(URL)
    run = subprocess.run([str(ROOT / ".venv" / "bin" / "ansible-playbook"), "-i", str(ROOT / "inventories" / "local"),
                          str(ROOT / "playbooks" / "site.yml"), "--check"], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=900, check=False)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-3000:]
    said = " ".join(run.stdout.split())
    assert "Cluster layer skipped (msa_site_skip)" in said and "On a real account site.yml runs playbooks/cluster.yml" in said
    assert "msa.platform.kubeadm :" not in run.stdout and "Cluster layer, kubeadm mode" not in said  # nothing of it ran
