"""The node modules and the node_placement role through ansible-playbook, against the API fake."""
from __future__ import annotations

from k8s_harness import ROOT, recap, run_playbook

PLAYBOOKS = ROOT / "tests" / "integration" / "k8s" / "playbooks"
CONTROL_PLANE = {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}
DEDICATED = {"key": "dedicated", "value": "auth", "effect": "NoSchedule"}
GPU_PLAN = {"key": "gpu", "value": "", "effect": "NoSchedule"}


def test_modules_through_ansible_playbook(kube, kubeconfig):
    kube.add_node("auth-1", labels={"team": "sre"}, taints=[CONTROL_PLANE])
    kube.add_node("orders-1")
    for namespace in ("auth", "monitoring"):
        kube.add_service_account(namespace)
    kube.add_pod("auth", "auth-api-0", "auth-1", {"api": "auth"})
    kube.add_pod("monitoring", "node-exporter-x", "auth-1", owner_kind="DaemonSet")
    run = run_playbook(PLAYBOOKS / "modules.yml", {"kubeconfig": str(kubeconfig)})
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert recap(run.stdout)["failed"] == 0
    assert kube.node("auth-1")["metadata"]["labels"] == {
        "kubernetes.io/hostname": "auth-1", "team": "sre", "api": "auth", "workload": "api"}


def plan_nodes() -> list[dict]:
    """Plan nodes as msa_plan.nodes gives them (extra keys included; the role ignores them)."""
    return [
        {"name": "ecoeco-auth-1", "pool": "auth", "role": "api", "index": 1, "az": "ap-northeast-2a",
         "labels": {"workload": "api", "api": "auth"}, "taints": [DEDICATED]},
        {"name": "ecoeco-worker-1", "pool": "worker", "role": "worker", "index": 1, "az": "ap-northeast-2a",
         "labels": {"workload": "general"}, "taints": []},
        # a pool taint written {key: gpu, effect: NoSchedule}: the plan gives it value ''
        {"name": "ecoeco-gpu-1", "pool": "gpu", "role": "worker", "index": 1, "az": "ap-northeast-2a",
         "labels": {"workload": "gpu"}, "taints": [GPU_PLAN]},
    ]


def test_role_applies_converges_checks_and_reports_violations(kube, kubeconfig):
    kube.add_node("ecoeco-auth-1")
    kube.add_node("ecoeco-worker-1", labels={"team": "sre"})
    kube.add_node("ecoeco-cp-1", taints=[CONTROL_PLANE])
    kube.add_node("ecoeco-gpu-1")
    for namespace in ("auth", "default"):
        kube.add_service_account(namespace)
    kube.add_pod("auth", "auth-api-0", "ecoeco-auth-1", {"api": "auth"})
    extra = {"node_placement_kubeconfig": str(kubeconfig), "node_placement_nodes": plan_nodes()}
    before = kube.node("ecoeco-auth-1")

    preview = run_playbook(PLAYBOOKS / "node_placement.yml", extra, "--check", "--diff")
    assert preview.returncode == 0, preview.stdout[-3000:]
    assert kube.node("ecoeco-auth-1") == before
    assert recap(preview.stdout)["changed"] == 2

    first = run_playbook(PLAYBOOKS / "node_placement.yml", extra)
    assert first.returncode == 0, first.stdout[-3000:]
    assert recap(first.stdout)["changed"] == 2
    auth = kube.node("ecoeco-auth-1")
    assert auth["metadata"]["labels"] == {"kubernetes.io/hostname": "ecoeco-auth-1", "workload": "api", "api": "auth"}
    assert auth["spec"]["taints"] == [{"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"}, DEDICATED]
    assert kube.node("ecoeco-worker-1")["metadata"]["labels"]["team"] == "sre"
    assert kube.node("ecoeco-cp-1")["spec"]["taints"][0] == CONTROL_PLANE
    assert kube.node("ecoeco-gpu-1")["spec"]["taints"][1] == {"key": "gpu", "effect": "NoSchedule"}  # value dropped

    kube.reset_counts()
    second = run_playbook(PLAYBOOKS / "node_placement.yml", extra)
    assert second.returncode == 0, second.stdout[-3000:]
    assert recap(second.stdout)["changed"] == 0
    assert (kube.count("list"), kube.count("patch"), kube.count("list", "pods")) == (3, 0, 1)

    kube.add_pod("default", "nginx", "ecoeco-auth-1")
    broken = run_playbook(PLAYBOOKS / "node_placement.yml", extra, "--tags", "node_placement_verify")
    assert broken.returncode != 0
    assert "placement check failed: 1 pod(s)" in broken.stdout
    assert "auth  default    nginx  ecoeco-auth-1  foreign pod on a dedicated node (belongs to no API)" in broken.stdout


def test_role_preflight_names_bad_entries(kube, kubeconfig):
    extra = {"node_placement_kubeconfig": str(kubeconfig),
             "node_placement_nodes": [{"name": "n1", "labels": ["api"]}]}
    run = run_playbook(PLAYBOOKS / "node_placement.yml", extra)
    assert run.returncode != 0
    assert "node_placement_nodes must be plan nodes with name, labels (dict) and taints (list)" in run.stdout
    assert sum(kube.counts.values()) == 0
