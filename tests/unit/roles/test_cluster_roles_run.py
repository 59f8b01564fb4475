"""The calico and aws_cloud_provider roles run whole by ansible-playbook (argument_specs, preflight,
the controller-side release fetch with its checksum, the apply, the waits), on localhost.

Two stand-ins, because no cluster can run here: the stand-in kubectl of test_cluster_waits.py, and
`msa.platform.common` `k8s_apply` (H4's entry point, not on this branch) replaced by a stub that
only records the content it is given, in a temporary copy of the collection. The Calico release
files are small local files (calico_manifest_dir), held to their real SHA-256: the test proves the
role applies exactly the pinned bytes, CRDs first, and refuses a file whose digest differs before
anything is applied.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from test_cluster_waits import KUBECONFIG, NODES, PODS, ROOT, STAND_IN

CRDS = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: installations.operator.tigera.io\n"
OPERATOR = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: tigera-operator\n"
STUB = """---
- name: Record what would be applied (test stub of k8s_apply; in check mode too)
  ansible.builtin.copy:
    content: "{{ common_k8s_apply_content }}"
    dest: "{{ test_apply_dir }}/{{ common_k8s_apply_name }}.yaml"
    mode: "0600"
  check_mode: false
"""
PLAY = """
- name: "{name}"
  hosts: localhost
  connection: local
  gather_facts: false
  vars:
    test_apply_dir: "{apply_dir}"
  environment:
    PATH: "{bin}:{{{{ lookup('ansible.builtin.env', 'PATH') }}}}"
    KUBECTL_STAND_IN_STATE: "{state}"
  tasks:
    - name: Run the role, a failure kept for the report (json callback)
      block:
        - name: Role
          ansible.builtin.include_role:
            name: msa.platform.{role}
          vars: {vars}
      rescue:
        - name: Failed as expected
          ansible.builtin.debug:
            msg: rescued
"""


def sha256(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def collection_with_stub(tmp: Path) -> Path:
    """ansible_collections/msa/platform: this checkout, but roles/common with the k8s_apply stub."""
    platform = tmp / "collections" / "ansible_collections" / "msa" / "platform"
    platform.mkdir(parents=True)
    for entry in ROOT.iterdir():
        if entry.name not in ("roles", ".git", ".cache", ".venv"):
            (platform / entry.name).symlink_to(entry)
    (platform / "roles").mkdir()
    for role in (ROOT / "roles").iterdir():
        if role.name != "common":
            (platform / "roles" / role.name).symlink_to(role)
    shutil.copytree(ROOT / "roles" / "common", platform / "roles" / "common")
    # Replaces H4's k8s_apply once it is merged, too: this test is about the roles, not the apply.
    (platform / "roles" / "common" / "tasks" / "k8s_apply.yml").write_text(STUB)
    return tmp / "collections"


CALICO_INPUTS = {"calico_pod_cidr": "192.168.0.0/16", "calico_encapsulation": "IPIPCrossSubnet", "calico_mtu": 8981,
                 "calico_wait_timeout": 30}
CCM_INPUTS = {"aws_cloud_provider_kubernetes_version": "1.36", "aws_cloud_provider_cluster_name": "ecoeco",
              "aws_cloud_provider_wait_timeout": 5}


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, dict]:
    tmp = tmp_path_factory.mktemp("roles")
    collections = collection_with_stub(tmp)
    (tmp / "bin").mkdir()
    (tmp / "bin" / "kubectl").write_text(STAND_IN)
    (tmp / "bin" / "kubectl").chmod(0o755)
    manifests = tmp / "manifests"
    manifests.mkdir()
    (manifests / "operator-crds.yaml").write_text(CRDS)
    (manifests / "tigera-operator.yaml").write_text(OPERATOR)
    good = {"operator-crds.yaml": sha256(CRDS), "tigera-operator.yaml": sha256(OPERATOR)}
    cases = {
        "calico": ("calico", {**CALICO_INPUTS, "calico_manifest_dir": str(manifests), "calico_manifest_checksums": good}),
        "calico-tampered": ("calico", {**CALICO_INPUTS, "calico_manifest_dir": str(manifests),
                                       "calico_manifest_checksums": {**good, "tigera-operator.yaml": sha256("other")}}),
        "calico-wrong-type": ("calico", {**CALICO_INPUTS, "calico_mtu": "big", "calico_manifest_checksums": good}),
        "calico-no-checksums": ("calico", CALICO_INPUTS),
        "ccm": ("aws_cloud_provider", CCM_INPUTS),
        # check mode on a cluster without Calico: empty controller cache, the CRDs not served
        "calico-check-fresh": ("calico", {**CALICO_INPUTS, "calico_manifest_url": f"file://{manifests}",
                                          "calico_manifest_checksums": good}),
        # check mode on a cluster with Calico: the Installation is previewed through k8s_apply
        "calico-check-built": ("calico", {**CALICO_INPUTS, "calico_manifest_dir": str(manifests), "calico_manifest_checksums": good}),
    }
    plays = []
    for name, (role, inputs) in cases.items():
        (tmp / f"{name}.json").write_text(json.dumps({"nodes": NODES, "pods": PODS, "kubeconfig": KUBECONFIG,
                                                      "crds": name != "calico-check-fresh"}))
        (tmp / "applied" / name).mkdir(parents=True)
        plays.append(PLAY.format(name=name, role=role, bin=tmp / "bin", state=tmp / f"{name}.json", vars=json.dumps(inputs),
                                 apply_dir=tmp / "applied" / name))
    env = {**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "ANSIBLE_COLLECTIONS_PATH": str(collections),
           "ANSIBLE_NOCOLOR": "1", "ANSIBLE_STDOUT_CALLBACK": "json", "ANSIBLE_FACT_CACHING": "memory", "HOME": str(tmp),
           "ANSIBLE_PYTHON_INTERPRETER": str(ROOT / ".venv" / "bin" / "python")}
    found = {}
    # Two runs: the real ones, then the check-mode cases under --check (what sets ansible_check_mode).
    for run_name, options in (("real", []), ("check", ["--check"])):
        selected = [play for name, play in zip(cases, plays, strict=True) if name.startswith("calico-check") == bool(options)]
        (tmp / f"{run_name}.yml").write_text("\n".join(selected))
        result = subprocess.run([str(ROOT / ".venv" / "bin" / "ansible-playbook"), "-i", "localhost,", *options,
                                 str(tmp / f"{run_name}.yml")],
                                cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
        assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
        # ansible.cfg also enables profile_tasks, whose lines surround the json document.
        report, _end = json.JSONDecoder().raw_decode(result.stdout[result.stdout.index("\n{") + 1:])
        for play in report["plays"]:
            name = play["play"]["name"]
            results = [task["hosts"]["localhost"] for task in play["tasks"] if "localhost" in task["hosts"]]
            found[name] = {"failures": [r for r in results if r.get("failed")], "results": results,
                           "applied": {p.stem: p.read_text() for p in (tmp / "applied" / name).iterdir()}}
    return found


def test_calico_applies_the_pinned_files_then_the_installation(runs):
    run = runs["calico"]
    assert run["failures"] == []
    # The file lookup drops trailing newlines; the documents are joined by a separator line.
    assert run["applied"]["calico-operator"] == CRDS.rstrip() + "\n---\n" + OPERATOR.rstrip()
    installation, apiserver = yaml.safe_load_all(run["applied"]["calico"])
    assert installation["spec"]["calicoNetwork"]["ipPools"][0]["encapsulation"] == "IPIPCrossSubnet"
    assert installation["spec"]["calicoNetwork"]["mtu"] == 8981
    assert apiserver["kind"] == "APIServer"


def test_calico_refuses_a_file_whose_digest_differs_before_applying(runs):
    run = runs["calico-tampered"]
    assert run["applied"] == {}
    [failure] = run["failures"]
    assert "calico (calico_manifest_checksums)" in failure["msg"]
    assert "tigera-operator.yaml has sha256 " + sha256(OPERATOR)[7:] in failure["msg"]


def test_a_wrong_type_is_refused_by_the_argument_spec(runs):
    run = runs["calico-wrong-type"]
    assert run["applied"] == {}
    [failure] = run["failures"]
    assert "calico_mtu" in failure["msg"]


def test_missing_checksums_are_refused_before_anything(runs):
    run = runs["calico-no-checksums"]
    assert run["applied"] == {}
    [failure] = run["failures"]
    assert "missing required arguments: calico_manifest_checksums" in failure["msg"]


def test_ccm_applies_its_manifests_and_waits(runs):
    run = runs["ccm"]
    assert run["failures"] == []
    kinds = [doc["kind"] for doc in yaml.safe_load_all(run["applied"]["aws-cloud-controller-manager"])]
    assert kinds == ["ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding", "RoleBinding", "DaemonSet"]


def test_check_mode_on_a_fresh_cluster_previews_without_failing(runs):
    run = runs["calico-check-fresh"]
    assert run["failures"] == [], [failure.get("msg") for failure in run["failures"]]
    assert run["applied"] == {}  # nothing downloaded to apply; the Installation's kind not served yet
    assert any("The Installation is not previewed" in str(r.get("msg", "")) for r in run["results"])


def test_check_mode_on_a_built_cluster_previews_both_applies(runs):
    run = runs["calico-check-built"]
    assert run["failures"] == []
    assert sorted(run["applied"]) == ["calico", "calico-operator"]
