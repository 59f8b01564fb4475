"""The ci pool's instance profile against the emulator: compute.yml's IAM step (tags aws_compute_access; no instance
is launched) gives the ci nodes their own role <platform>-ci holding exactly SSM and the inline policy ecr-push
(an ECR login, and push on exactly the domains' repositories of the role's account), no other role gets ECR push,
and a second run changes nothing. IAM policies are stored, not evaluated, by the emulator: the document is checked."""
from __future__ import annotations

import json
import subprocess
import urllib.parse

import boto3
import pytest
import yaml
from aws_helpers import build_plan, make_network
from network_harness import REGION, ROOT, URL, ansible_env, recap

pytestmark = pytest.mark.emulator

TOPOLOGY = {
    "name": "cishop", "region": REGION,
    "kubernetes": {"mode": "kubeadm"},
    "network": {"cidr": "10.42.0.0/16", "admin_cidrs": ["203.0.113.0/24"]},
    "pools": [{"name": "cp", "role": "control_plane"}, {"name": "w", "role": "worker"}, {"name": "jenkins", "role": "ci"},
              {"name": "mon", "role": "monitoring"}],
    "domains": [{"name": "order", "ecr": {"repositories": ["order-api", "order-worker"]}}, {"name": "user"},
                {"name": "product", "ecr": {"repositories": ["product-api"]}}],
}


def _inventory(tmp_path):
    inv = tmp_path / "inventory"
    (inv / "group_vars" / "all").mkdir(parents=True)
    (inv / "group_vars" / "all" / "topology.yml").write_text(yaml.safe_dump({"platform": TOPOLOGY}))
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "key")], check=True)
    (inv / "group_vars" / "all" / "compute.yml").write_text(yaml.safe_dump({"aws_compute_public_key_file": str(tmp_path / "key.pub")}))
    (inv / "hosts.yml").write_text(yaml.safe_dump({"all": {"hosts": {"localhost": {
        "ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"}}}}))
    return inv


def _compute(inv):
    run = subprocess.run([str(ROOT / ".venv" / "bin" / "ansible-playbook"), "-i", str(inv), str(ROOT / "playbooks" / "compute.yml"),
                          "--tags", "aws_compute_access"], cwd=ROOT, env=ansible_env(URL), capture_output=True, text=True,
                         timeout=600, check=False)
    assert run.returncode == 0, run.stdout[-5000:] + run.stderr[-2000:]
    return run


def test_ci_role_pushes_to_the_domains_repositories_only(aws, tmp_path):
    plan, errors = build_plan(TOPOLOGY)
    assert errors == []
    make_network(plan)
    inv = _inventory(tmp_path)
    _compute(inv)
    iam = boto3.client("iam", endpoint_url=URL, region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing")
    roles = sorted(r["RoleName"] for r in iam.list_roles()["Roles"])
    assert roles == ["cishop-ci", "cishop-control-plane", "cishop-host", "cishop-node"]
    assert iam.list_role_policies(RoleName="cishop-ci")["PolicyNames"] == ["ecr-push"]
    assert [p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName="cishop-ci")["AttachedPolicies"]] == [
        "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"]
    doc = iam.get_role_policy(RoleName="cishop-ci", PolicyName="ecr-push")["PolicyDocument"]
    doc = json.loads(urllib.parse.unquote(doc)) if isinstance(doc, str) else doc
    login, push = doc["Statement"]
    assert (login["Action"], login["Resource"]) == ("ecr:GetAuthorizationToken", "*")
    assert push["Resource"] == [f"arn:aws:ecr:{REGION}:${{aws:PrincipalAccount}}:repository/cishop/{r}"
                                for r in ("order/order-api", "order/order-worker", "product/product-api")]
    assert "ecr:PutImage" in push["Action"] and not any(a.endswith("*") for a in push["Action"])
    for other in ("cishop-control-plane", "cishop-host", "cishop-node"):
        for name in iam.list_role_policies(RoleName=other)["PolicyNames"]:
            assert "ecr:PutImage" not in json.dumps(iam.get_role_policy(RoleName=other, PolicyName=name)["PolicyDocument"]), other
    profile = iam.get_instance_profile(InstanceProfileName="cishop-ci")["InstanceProfile"]
    assert [r["RoleName"] for r in profile["Roles"]] == ["cishop-ci"]
    assert recap(_compute(inv))["changed"] == 0
