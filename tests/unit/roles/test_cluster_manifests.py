"""The in-cluster manifests of the calico and aws_cloud_provider roles, rendered by a real
ansible-playbook run with the roles' own defaults, vars and templates, for every supported
Kubernetes minor and every encapsulation choice.

Every Kubernetes document is validated with kubernetes-validate in strict mode against the real
upstream schema of that minor. Calico's Installation and APIServer are CRD kinds that
kubernetes-validate has no schema for: they are validated against schemas/operator.tigera.io_v1.yaml,
written here from the operator's documented API and strict on unknown fields. Then the plan-derived
values are asserted (pool CIDR, MTU, encapsulation, BGP, IPAM, image tag per minor, tolerations,
route controller) and the RBAC is held to least privilege (no wildcard, only listed verbs).

The roles' preflight checks run the same way with bad inputs and must name the field.
"""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
CALICO = ROOT / "roles" / "calico"
CCM = ROOT / "roles" / "aws_cloud_provider"
PLAYBOOK_BIN = ROOT / ".venv" / "bin" / "ansible-playbook"
SCHEMAS = yaml.safe_load((Path(__file__).parent / "schemas" / "operator.tigera.io_v1.yaml").read_text())

MINORS = [f"1.{minor}" for minor in range(31, 38)]
ENCAPSULATIONS = ["VXLANCrossSubnet", "VXLAN", "IPIPCrossSubnet", "IPIP", "None"]
# Newest cloud-provider-aws image per minor; 1.37 has no release yet and runs 1.36's.
EXPECTED_TAGS = {"1.31": "v1.31.9", "1.32": "v1.32.8", "1.33": "v1.33.4", "1.34": "v1.34.3",
                 "1.35": "v1.35.2", "1.36": "v1.36.1", "1.37": "v1.36.1"}
VARS_FILES = [CALICO / "defaults/main.yml", CALICO / "vars/main.yml", CCM / "defaults/main.yml", CCM / "vars/main.yml"]
GOOD_CHECKSUMS = {"operator-crds.yaml": "sha256:" + "a" * 64, "tigera-operator.yaml": "sha256:" + "B" * 64}


def calico_cases() -> dict[str, dict]:
    cases = {}
    for encapsulation in ENCAPSULATIONS:
        for mtu in (0, 8951):
            cases[f"calico-{encapsulation}-{mtu}"] = {
                "calico_pod_cidr": "192.168.0.0/16", "calico_encapsulation": encapsulation, "calico_mtu": mtu}
    cases["calico-options"] = {"calico_pod_cidr": "10.244.0.0/16", "calico_encapsulation": "VXLANCrossSubnet",
                               "calico_mtu": 8951, "calico_block_size": 24, "calico_apiserver": False,
                               "calico_registry": "mirror.example.com:5000/"}
    return cases


def ccm_cases() -> dict[str, dict]:
    cases = {}
    for minor in MINORS:
        for routes in (False, True):
            cases[f"ccm-{minor}-{routes}"] = {
                "aws_cloud_provider_kubernetes_version": minor, "aws_cloud_provider_cluster_name": "ecoeco",
                "aws_cloud_provider_configure_routes": routes,
                "aws_cloud_provider_cluster_cidr": "192.168.0.0/16" if routes else ""}
    cases["ccm-patch-version"] = {"aws_cloud_provider_kubernetes_version": "v1.35.4",
                                  "aws_cloud_provider_cluster_name": "ecoeco"}
    return cases


RENDER_PLAY = """
- name: Render the roles' manifests for every case
  hosts: localhost
  connection: local
  gather_facts: false
  vars_files: {vars_files}
  tasks:
    - name: All cases in one module call
      ansible.builtin.copy:
        content: >-
          {{%- set out = {{}} -%}}
          {{%- for case in cases -%}}
          {{%-   set dummy = out.update({{case.id: lookup('ansible.builtin.template', case.template, template_vars=case.vars)}}) -%}}
          {{%- endfor -%}}
          {{{{ out | to_json }}}}
        dest: "{{{{ out_file }}}}"
        mode: "0644"
"""

# One play per case: the role's preflight with the case's inputs (task vars: above the defaults loaded
# as vars_files, as role parameters are above role defaults), failures kept (json callback).
PREFLIGHT_PLAY = """
- name: "{name}"
  hosts: localhost
  connection: local
  gather_facts: false
  vars_files: {vars_files}
  tasks:
    - name: Preflight
      ansible.builtin.include_tasks:
        file: {preflight}
        apply:
          ignore_errors: true
      vars: {vars}
"""


def run(tmp: Path, playbook: str, extra: dict, callback: str = "default") -> subprocess.CompletedProcess:
    (tmp / "play.yml").write_text(playbook)
    (tmp / "extra.json").write_text(json.dumps(extra))
    env = {**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1",
           "ANSIBLE_STDOUT_CALLBACK": callback, "ANSIBLE_FACT_CACHING": "memory",
           "ANSIBLE_PYTHON_INTERPRETER": str(ROOT / ".venv" / "bin" / "python")}
    return subprocess.run([str(PLAYBOOK_BIN), "-i", "localhost,", str(tmp / "play.yml"), "-e", f"@{tmp / 'extra.json'}"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> dict[str, list[dict]]:
    tmp = tmp_path_factory.mktemp("render")
    cases = [{"id": name, "template": str(CALICO / "templates/installation.yaml.j2"),
              "vars": {**vars_, "calico_manifest_checksums": GOOD_CHECKSUMS}} for name, vars_ in calico_cases().items()]
    cases += [{"id": name, "template": str(CCM / "templates/aws-cloud-controller-manager.yaml.j2"), "vars": vars_}
              for name, vars_ in ccm_cases().items()]
    play = RENDER_PLAY.format(vars_files=json.dumps([str(p) for p in VARS_FILES]))
    result = run(tmp, play, {"cases": cases, "out_file": str(tmp / "out.json"),
                             # required inputs: the cases set them; these keep the other role's vars resolvable
                             "calico_pod_cidr": "198.51.100.0/24"})
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    texts = json.loads((tmp / "out.json").read_text())
    return {name: [doc for doc in yaml.safe_load_all(text) if doc is not None] for name, text in texts.items()}


def by_kind(docs: list[dict], kind: str) -> list[dict]:
    return [doc for doc in docs if doc["kind"] == kind]


def validate_operator_kind(doc: dict) -> None:
    schema = {**SCHEMAS["kinds"][doc["kind"]], "$defs": SCHEMAS["$defs"]}
    jsonschema.Draft202012Validator(schema).validate(doc)


# ---------------------------------------------------------------------------- calico
@pytest.mark.parametrize("case", sorted(calico_cases()))
def test_calico_documents_are_valid_operator_resources(rendered, case):
    docs = rendered[case]
    assert [doc["kind"] for doc in docs] == (["Installation"] if case == "calico-options" else ["Installation", "APIServer"])
    for doc in docs:
        validate_operator_kind(doc)


def test_the_operator_schema_is_strict():
    """The schema we validate against rejects what the operator would: unknown or misplaced fields, bad enums."""
    good = {"apiVersion": "operator.tigera.io/v1", "kind": "Installation", "metadata": {"name": "default"},
            "spec": {"calicoNetwork": {"ipPools": [{"cidr": "10.0.0.0/16", "encapsulation": "VXLAN"}]}}}
    validate_operator_kind(good)
    bad_docs = [
        {**good, "spec": {"calicoNetwork": {"ipPools": [{"cidr": "10.0.0.0/16", "encapsulation": "VXLANAlways"}]}}},
        {**good, "spec": {"calicoNetwork": {"ipPool": [{"cidr": "10.0.0.0/16"}]}}},
        {**good, "spec": {"mtu": 1450}},
        {**good, "spec": {"calicoNetwork": {"nodeAddressAutodetectionV4": {"kubernetes": "NodeInternalIP", "firstFound": True}}}},
        {**good, "spec": {"registry": "quay.io"}},
        {**good, "metadata": {"name": "calico"}},
    ]
    for doc in bad_docs:
        with pytest.raises(jsonschema.ValidationError):
            validate_operator_kind(doc)


@pytest.mark.parametrize("encapsulation", ENCAPSULATIONS)
@pytest.mark.parametrize("mtu", [0, 8951])
def test_calico_installation_follows_the_plan(rendered, encapsulation, mtu):
    [installation] = by_kind(rendered[f"calico-{encapsulation}-{mtu}"], "Installation")
    spec = installation["spec"]
    network = spec["calicoNetwork"]
    assert network["ipPools"] == [{"name": "default-ipv4-ippool", "cidr": "192.168.0.0/16", "encapsulation": encapsulation,
                                   "natOutgoing": "Enabled", "nodeSelector": "all()", "blockSize": 26}]
    assert network["bgp"] == ("Disabled" if encapsulation.startswith("VXLAN") else "Enabled")
    assert network["nodeAddressAutodetectionV4"] == {"kubernetes": "NodeInternalIP"}
    # 0 leaves the MTU to Calico's detection: the field is absent, not 0.
    assert network.get("mtu") == (mtu or None)
    assert spec["cni"] == {"type": "Calico", "ipam": {"type": "HostLocal" if encapsulation == "None" else "Calico"}}
    assert spec["variant"] == "Calico"
    assert "registry" not in spec


def test_calico_options(rendered):
    [installation] = rendered["calico-options"]
    spec = installation["spec"]
    assert spec["registry"] == "mirror.example.com:5000/"
    assert spec["calicoNetwork"]["mtu"] == 8951
    assert spec["calicoNetwork"]["ipPools"][0]["cidr"] == "10.244.0.0/16"
    assert spec["calicoNetwork"]["ipPools"][0]["blockSize"] == 24


# ---------------------------------------------------------------------------- aws_cloud_provider
@pytest.mark.parametrize("minor", MINORS)
@pytest.mark.parametrize("routes", [False, True])
def test_ccm_documents_pass_the_upstream_schemas_strictly(rendered, minor, routes):
    docs = rendered[f"ccm-{minor}-{routes}"]
    assert sorted(doc["kind"] for doc in docs) == ["ClusterRole", "ClusterRoleBinding", "DaemonSet", "Role",
                                                   "RoleBinding", "RoleBinding", "ServiceAccount"]
    for doc in docs:
        kubernetes_validate.validate(doc, minor, strict=True)


def test_kubernetes_validate_is_strict_here(rendered):
    """A misplaced field in the DaemonSet fails the same validation the tests above pass."""
    [daemonset] = by_kind(rendered["ccm-1.37-False"], "DaemonSet")
    broken = json.loads(json.dumps(daemonset))
    broken["spec"]["template"]["spec"]["containers"][0]["tolerations"] = []
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, "1.37", strict=True)


@pytest.mark.parametrize("minor", MINORS)
def test_ccm_image_matches_the_kubernetes_minor(rendered, minor):
    [daemonset] = by_kind(rendered[f"ccm-{minor}-False"], "DaemonSet")
    [container] = daemonset["spec"]["template"]["spec"]["containers"]
    assert container["image"] == f"registry.k8s.io/provider-aws/cloud-controller-manager:{EXPECTED_TAGS[minor]}"
    # The controller is never newer than the cluster and at most one minor older.
    tag_minor = int(EXPECTED_TAGS[minor].split(".")[1])
    assert int(minor.split(".")[1]) - 1 <= tag_minor <= int(minor.split(".")[1])


def test_ccm_patch_version_uses_its_minor(rendered):
    [daemonset] = by_kind(rendered["ccm-patch-version"], "DaemonSet")
    assert daemonset["spec"]["template"]["spec"]["containers"][0]["image"].endswith(":v1.35.2")


@pytest.mark.parametrize("routes", [False, True])
def test_ccm_daemonset_runs_on_control_planes_only(rendered, routes):
    [daemonset] = by_kind(rendered[f"ccm-1.37-{routes}"], "DaemonSet")
    pod = daemonset["spec"]["template"]["spec"]
    assert pod["nodeSelector"] == {"node-role.kubernetes.io/control-plane": ""}
    assert pod["hostNetwork"] is True
    assert {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"} in pod["tolerations"]
    assert {"key": "node.cloudprovider.kubernetes.io/uninitialized", "value": "true", "effect": "NoSchedule"} in pod["tolerations"]
    assert all(t.get("operator") != "Exists" or t.get("key") for t in pod["tolerations"]), "no tolerate-everything"
    args = pod["containers"][0]["args"]
    assert "--cloud-provider=aws" in args
    assert "--cluster-name=ecoeco" in args
    assert "--use-service-account-credentials=false" in args
    if routes:
        assert {"--configure-cloud-routes=true", "--allocate-node-cidrs=true", "--cluster-cidr=192.168.0.0/16"} <= set(args)
        assert "--configure-cloud-routes=false" not in args
    else:
        assert "--configure-cloud-routes=false" in args
        assert not [arg for arg in args if arg.startswith(("--allocate-node-cidrs", "--cluster-cidr"))]
    assert pod["serviceAccountName"] == "cloud-controller-manager"


def test_ccm_rbac_is_least_privilege(rendered):
    docs = rendered["ccm-1.37-True"]
    [cluster_role] = by_kind(docs, "ClusterRole")
    [role] = by_kind(docs, "Role")
    allowed = {  # (group, resource): verbs the controllers call, as upstream's explicit-verb role lists them
        ("", "events"): {"create", "patch", "update"},
        ("events.k8s.io", "events"): {"create", "patch", "update"},
        ("", "nodes"): {"get", "list", "watch", "update", "patch", "delete"},
        ("", "nodes/status"): {"patch"},
        ("", "services"): {"list", "watch", "patch", "update"},
        ("", "services/status"): {"patch", "update"},
    }
    granted = {}
    for rule in cluster_role["rules"]:
        assert "*" not in rule["verbs"] and "*" not in rule["resources"] and "*" not in rule["apiGroups"], rule
        assert "nonResourceURLs" not in rule and "resourceNames" not in rule
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                granted.setdefault((group, resource), set()).update(rule["verbs"])
    assert granted == allowed
    # No secrets, configmaps or service accounts cluster-wide; leader election only in kube-system.
    assert role["metadata"]["namespace"] == "kube-system"
    assert role["rules"] == [{"apiGroups": ["coordination.k8s.io"], "resources": ["leases"],
                              "verbs": ["create", "get", "list", "watch", "update"]}]
    subject = {"kind": "ServiceAccount", "name": "cloud-controller-manager", "namespace": "kube-system"}
    bindings = by_kind(docs, "ClusterRoleBinding") + by_kind(docs, "RoleBinding")
    assert all(binding["subjects"] == [subject] for binding in bindings)
    refs = {(b["kind"], b["metadata"].get("namespace"), b["roleRef"]["kind"], b["roleRef"]["name"]) for b in bindings}
    assert refs == {("ClusterRoleBinding", None, "ClusterRole", "system:cloud-controller-manager"),
                    ("RoleBinding", "kube-system", "Role", "cloud-controller-manager:leader-election"),
                    ("RoleBinding", "kube-system", "Role", "extension-apiserver-authentication-reader")}


def test_every_supported_minor_has_an_image_tag():
    defaults = yaml.safe_load((CCM / "defaults/main.yml").read_text())
    assert defaults["aws_cloud_provider_image_tags"] == EXPECTED_TAGS


# ---------------------------------------------------------------------------- preflight
PREFLIGHT_CASES = {
    # name: (role, inputs, expected fragments of the failure; None: passes)
    "calico-good": ("calico", {"calico_pod_cidr": "192.168.0.0/16", "calico_manifest_checksums": GOOD_CHECKSUMS}, None),
    "calico-no-checksums": ("calico", {"calico_pod_cidr": "192.168.0.0/16"},
                            ["calico_manifest_checksums", "operator-crds.yaml and tigera-operator.yaml", "v3.33.1", "sha256sum"]),
    "calico-one-checksum": ("calico", {"calico_pod_cidr": "192.168.0.0/16",
                                       "calico_manifest_checksums": {"operator-crds.yaml": GOOD_CHECKSUMS["operator-crds.yaml"],
                                                                     "tigera-operator.yaml": "md5:abc"}},
                            ["for tigera-operator.yaml of"]),
    "calico-bad-inputs": ("calico", {"calico_pod_cidr": "192.168.1.0/16", "calico_mtu": 500, "calico_registry": "quay.io",
                                     "calico_version": "latest", "calico_manifest_checksums": GOOD_CHECKSUMS},
                          ["calico_pod_cidr must be an IPv4 network", "'192.168.1.0/16'", "calico_mtu must be 0 (detect) or 1280..9001",
                           "calico_registry must end with '/'", "calico_version must be X.Y.Z"]),
    "calico-block-size": ("calico", {"calico_pod_cidr": "10.0.0.0/24", "calico_block_size": 20,
                                     "calico_manifest_checksums": GOOD_CHECKSUMS}, ["calico_block_size 20"]),
    "ccm-good": ("aws_cloud_provider", {"aws_cloud_provider_kubernetes_version": "1.37",
                                        "aws_cloud_provider_cluster_name": "ecoeco"}, None),
    "ccm-bad-inputs": ("aws_cloud_provider", {"aws_cloud_provider_kubernetes_version": "1.30",
                                              "aws_cloud_provider_cluster_name": "Eco_Eco",
                                              "aws_cloud_provider_configure_routes": True},
                       ["Kubernetes '1.30' (aws_cloud_provider_kubernetes_version)", "1.31, 1.32", "1.37",
                        "aws_cloud_provider_cluster_name must be a DNS label", "aws_cloud_provider_cluster_cidr must be"]),
}


@pytest.fixture(scope="module")
def preflight(tmp_path_factory) -> dict[str, dict]:
    tmp = tmp_path_factory.mktemp("preflight")
    plays = []
    for name, (role, inputs, _expected) in PREFLIGHT_CASES.items():
        path = CALICO if role == "calico" else CCM
        plays.append(PREFLIGHT_PLAY.format(
            name=name, vars=json.dumps(inputs), preflight=path / "tasks/preflight.yml",
            vars_files=json.dumps([str(path / "defaults/main.yml"), str(path / "vars/main.yml")])))
    result = run(tmp, "\n".join(plays), {}, callback="json")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    # ansible.cfg also enables profile_tasks, whose lines surround the json document.
    report, _end = json.JSONDecoder().raw_decode(result.stdout[result.stdout.index("\n{") + 1:])
    outcomes = {}
    for play in report["plays"]:
        [check] = [task for task in play["tasks"] if task["task"]["name"] == "Check the inputs"]
        outcomes[play["play"]["name"]] = check["hosts"]["localhost"]
    return outcomes


@pytest.mark.parametrize("case", sorted(PREFLIGHT_CASES))
def test_preflight_names_each_bad_input(preflight, case):
    outcome = preflight[case]
    expected = PREFLIGHT_CASES[case][2]
    if expected is None:
        assert not outcome.get("failed"), outcome.get("msg")
    else:
        assert outcome.get("failed"), outcome
        for fragment in expected:
            assert fragment in outcome["msg"], (fragment, outcome["msg"])
