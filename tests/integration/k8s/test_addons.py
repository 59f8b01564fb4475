"""playbooks/addons.yml on courm-eks: the AWS side against the emulator, the Kubernetes side against the
API fake (tests/fakes/kube_api.py), helm through the stand-in (tests/fakes/helm_standin.py).

The EKS cluster and the tagged VPC are made with boto3 (the eks layer has its own tests), the ArgoCD CRDs
are put in the fake as the argo-cd chart would install them (the stand-in renders no manifests). The
objects are the ones msa.platform.addons_manifests renders from the example's plan (validated against
the real schemas by tests/unit/plugins/module_utils/test_addons.py); every one must be in the fake after
the run, except the demoted StorageClass, which is patched only where it exists.
Asserted: helm calls (chart, pinned version, repo, namespace, values) from the stand-in's record, the
IAM policy / IRSA role through boto3, the objects in the fake, check mode changing nothing, the
second run changed=0, and a missing ArgoCD password refused before anything is touched.
"""
from __future__ import annotations

import json
import os
import stat
import sys

import boto3
import pytest
import yaml
from ansible_collections.msa.platform.plugins.module_utils import addons as addon_manifests
from ansible_collections.msa.platform.plugins.module_utils import k8s_objects
from k8s_harness import ROOT, kube_api, recap, run_playbook

sys.path.insert(0, str(ROOT / "tests" / "integration" / "aws"))
import aws_helpers
import network_harness

REGION = "ap-northeast-2"
DEFAULTS = yaml.safe_load((ROOT / "roles" / "cluster_addons" / "defaults" / "main.yml").read_text())["cluster_addons_charts"]
PASSWORD = "correct horse battery staple"


def client(service: str):
    return boto3.client(service, endpoint_url=network_harness.URL, region_name=REGION,
                        aws_access_key_id="testing", aws_secret_access_key="testing")


# courm-eks has no gitops section: the plan gets one (normalized, as docs/plan.md shows it) so ArgoCD is exercised too.
GITOPS = {"repo_url": "https://git.example.com/courm/deploy.git", "revision": "main", "path": "apps", "mode": "app_of_apps",
          "tool": "kustomize", "namespace": "argocd", "project": "default", "prune": True, "self_heal": True}


def rendered(plan: dict) -> list[dict]:
    """Every object the layer applies for the plan, in order (the filter's logic, imported)."""
    return [obj for part in addon_manifests.PARTS for obj in addon_manifests.manifests(plan, part)]


def assert_applied(kube, plan: dict) -> int:
    """Every rendered object is in the fake with the fields it declares; the demote patches are not created."""
    count = 0
    for obj in rendered(plan):
        plural = k8s_objects.RESOURCES[(obj["apiVersion"], obj["kind"])][0]
        stored = kube.objects.all(plural).get((obj["metadata"].get("namespace", ""), obj["metadata"]["name"]))
        if addon_manifests.is_patch(obj):
            assert stored is None, obj
            continue
        assert stored is not None and k8s_objects.is_subset(obj, stored), (obj, stored)
        count += 1
    return count


@pytest.fixture
def stage(aws, kube, tmp_path):
    """The emulator with the VPC and EKS cluster of courm, the API fake with ArgoCD's CRDs, a helm stand-in."""
    plan = aws_helpers.plan_of(ROOT / "inventories" / "examples" / "courm-eks")
    ec2 = client("ec2")
    vpc = ec2.create_vpc(CidrBlock=plan["network"]["cidr"], TagSpecifications=[
        {"ResourceType": "vpc", "Tags": [{"Key": "msa:platform", "Value": "courm"}]}])["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock=plan["network"]["subnets"][0]["cidr"])["Subnet"]["SubnetId"]
    client("eks").create_cluster(name="courm", version="1.35", roleArn="arn:aws:iam::123456789012:role/courm-eks-cluster",
                                 resourcesVpcConfig={"subnetIds": [subnet]})
    kube.objects.add_crd("argoproj.io", "applications", "Application")
    kube.objects.add_crd("argoproj.io", "applicationsets", "ApplicationSet")
    helm = tmp_path / "helm"
    helm.write_text(f"#!/bin/sh\nexec {sys.executable} {ROOT / 'tests' / 'fakes' / 'helm_standin.py'} \"$@\"\n")
    helm.chmod(helm.stat().st_mode | stat.S_IXUSR)
    extra = {"cluster_addons_kubeconfig": str(kube.write_kubeconfig(tmp_path / "kubeconfig")),
             "cluster_addons_helm_binary": str(helm), "cluster_addons_plan": dict(plan, gitops=GITOPS),
             "cluster_addons_argocd_admin_password": PASSWORD}
    (tmp_path / "extra.json").write_text(json.dumps(extra))
    os.environ["HELM_STANDIN_DIR"] = str(tmp_path / "helm-state")
    yield {"vpc": vpc, "tmp": tmp_path, "extra": tmp_path / "extra.json", "plan": plan}
    os.environ.pop("HELM_STANDIN_DIR", None)


def addons(stage, *args: str):
    return network_harness.playbook("addons.yml", "courm-eks", "-e", f"@{stage['extra']}", *args, timeout=600)


def calls(stage) -> list[dict]:
    path = stage["tmp"] / "helm-state" / "calls.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_addons_on_eks_install_apply_and_converge(stage, kube):
    check = addons(stage, "--check")
    assert check.returncode == 0, check.stdout[-4000:] + check.stderr[-2000:]
    assert not [c for c in calls(stage) if c["command"] == "upgrade"], "check mode ran helm upgrade"
    assert set(kube.objects.all("namespaces")) == {("", n) for n in kube_api.BUILTIN_NAMESPACES}

    first = addons(stage)
    assert first.returncode == 0, first.stdout[-4000:] + first.stderr[-2000:]
    assert network_harness.recap(first)["changed"] > 0

    upgrades = {c["release"]: c for c in calls(stage) if c["command"] == "upgrade"}
    assert set(upgrades) == {"aws-load-balancer-controller", "metrics-server", "argocd"}  # EBS CSI: the EKS add-on
    for key, release in (("aws_load_balancer_controller", "aws-load-balancer-controller"), ("metrics_server", "metrics-server"),
                         ("argocd", "argocd")):
        call, pinned = upgrades[release], DEFAULTS[key]
        assert (call["chart"], call["version"], call["repo"], call["namespace"]) == (
            pinned["chart"], pinned["version"], pinned["repo"], pinned["namespace"])
        assert call["install"] and call["create_namespace"] and call["wait"]
    alb = upgrades["aws-load-balancer-controller"]["values"]
    assert (alb["clusterName"], alb["region"], alb["vpcId"], alb["defaultTargetType"]) == ("courm", REGION, stage["vpc"], "ip")
    assert alb["image"] == {"repository": "public.ecr.aws/eks/aws-load-balancer-controller", "tag": "v2.14.0"}
    role_arn = alb["serviceAccount"]["annotations"]["eks.amazonaws.com/role-arn"]
    assert role_arn == "arn:aws:iam::123456789012:role/courm-aws-load-balancer-controller"
    admin_hash = upgrades["argocd"]["values"]["configs"]["secret"]["argocdServerAdminPassword"]
    assert admin_hash.startswith("$2b$") and PASSWORD not in json.dumps(calls(stage))
    assert PASSWORD not in first.stdout + first.stderr

    iam = client("iam")
    trust = iam.get_role(RoleName="courm-aws-load-balancer-controller")["Role"]["AssumeRolePolicyDocument"]
    statement = (json.loads(trust) if isinstance(trust, str) else trust)["Statement"][0]
    issuer = client("eks").describe_cluster(name="courm")["cluster"]["identity"]["oidc"]["issuer"].removeprefix("https://")
    assert statement["Principal"]["Federated"] == f"arn:aws:iam::123456789012:oidc-provider/{issuer}"
    assert statement["Condition"]["StringEquals"] == {f"{issuer}:sub": "system:serviceaccount:kube-system:aws-load-balancer-controller",
                                                      f"{issuer}:aud": "sts.amazonaws.com"}
    attached = iam.list_attached_role_policies(RoleName="courm-aws-load-balancer-controller")["AttachedPolicies"]
    assert [p["PolicyName"] for p in attached] == ["courm-aws-load-balancer-controller"]
    version = iam.get_policy(PolicyArn=attached[0]["PolicyArn"])["Policy"]["DefaultVersionId"]
    document = iam.get_policy_version(PolicyArn=attached[0]["PolicyArn"], VersionId=version)["PolicyVersion"]["Document"]
    published = json.loads((ROOT / "roles" / "cluster_addons" / "files" / "aws-load-balancer-controller-iam-policy.json").read_text())
    assert (json.loads(document) if isinstance(document, str) else document) == published

    with_gitops = dict(stage["plan"], gitops=GITOPS)
    assert assert_applied(kube, with_gitops) == len([o for o in rendered(with_gitops) if not addon_manifests.is_patch(o)])
    assert kube.objects.all("applications") and kube.objects.all("ingresses")
    assert set(kube.objects.all("storageclasses")) == {("", "gp3")}  # gp2 is patch-only: not created where it does not exist

    second = addons(stage)
    assert second.returncode == 0, second.stdout[-4000:] + second.stderr[-2000:]
    assert network_harness.recap(second)["changed"] == 0, second.stdout[-6000:]
    assert len([c for c in calls(stage) if c["command"] == "upgrade"]) == 3


def test_gitops_without_the_argocd_password_is_refused_before_aws(stage, kube):
    extra = json.loads(stage["extra"].read_text())
    del extra["cluster_addons_argocd_admin_password"]
    stage["extra"].write_text(json.dumps(extra))
    run = addons(stage)
    assert run.returncode != 0
    assert "cluster_addons_argocd_admin_password is required" in run.stdout
    assert client("iam").list_policies(Scope="Local")["Policies"] == []
    assert calls(stage) == []


def test_addons_on_kubeadm_use_the_node_role_and_instance_targets(aws, kube, tmp_path):
    """kubeadm mode (ecoeco): no IRSA - the controllers' policies inline on the nodes' role (aws_compute's
    `<platform>-node`), the EBS CSI chart installed, instance targets, no role annotation."""
    plan = aws_helpers.plan_of(ROOT / "inventories" / "examples" / "ecoeco-kubeadm")
    name = plan["name"]
    client("ec2").create_vpc(CidrBlock=plan["network"]["cidr"], TagSpecifications=[
        {"ResourceType": "vpc", "Tags": [{"Key": "msa:platform", "Value": name}]}])
    iam = client("iam")
    iam.create_role(RoleName=f"{name}-node", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}))
    helm = tmp_path / "helm"
    helm.write_text(f"#!/bin/sh\nexec {sys.executable} {ROOT / 'tests' / 'fakes' / 'helm_standin.py'} \"$@\"\n")
    helm.chmod(helm.stat().st_mode | stat.S_IXUSR)
    kube.objects.add_crd("argoproj.io", "applications", "Application")
    kube.objects.add_crd("argoproj.io", "applicationsets", "ApplicationSet")
    extra = tmp_path / "extra.json"
    extra.write_text(json.dumps({"cluster_addons_kubeconfig": str(kube.write_kubeconfig(tmp_path / "kubeconfig")),
                                 "cluster_addons_helm_binary": str(helm), "cluster_addons_argocd_admin_password": PASSWORD}))
    os.environ["HELM_STANDIN_DIR"] = str(tmp_path / "helm-state")
    try:
        run = network_harness.playbook("addons.yml", "ecoeco-kubeadm", "-e", f"@{extra}", timeout=600)
    finally:
        os.environ.pop("HELM_STANDIN_DIR", None)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    upgrades = {c["release"]: c for c in calls({"tmp": tmp_path}) if c["command"] == "upgrade"}
    assert set(upgrades) == {"aws-load-balancer-controller", "aws-ebs-csi-driver", "metrics-server", "argocd"}
    assert upgrades["aws-ebs-csi-driver"]["version"] == DEFAULTS["aws_ebs_csi_driver"]["version"]
    alb = upgrades["aws-load-balancer-controller"]["values"]
    assert alb["defaultTargetType"] == "instance" and alb["serviceAccount"]["annotations"] == {}
    assert sorted(iam.list_role_policies(RoleName=f"{name}-node")["PolicyNames"]) == ["aws-ebs-csi-driver", "aws-load-balancer-controller"]
    assert iam.list_attached_role_policies(RoleName=f"{name}-node")["AttachedPolicies"] == []  # aws_compute purges managed ones
    assert iam.list_policies(Scope="Local")["Policies"] == [] and [r["RoleName"] for r in iam.list_roles()["Roles"]] == [f"{name}-node"]
    assert assert_applied(kube, plan) == len(rendered(plan)) > 60


def test_data_endpoints_become_external_names_and_follow_a_moved_endpoint(kube, kubeconfig):
    """The endpoints entry point (playbooks/data.yml runs it after the data layer) on courm: created once, converged,
    and patched when the writer moves (a restored or replaced RDS instance gets another endpoint)."""
    plan = aws_helpers.plan_of(ROOT / "inventories" / "examples" / "courm-eks")
    kube.objects.create("namespaces", None, {"metadata": {"name": "courm"}})   # the add-ons layer made it
    endpoints = [
        {"name": "courm-postgresql", "kind": "postgresql-writer", "address": "courm-postgresql.c9a.ap-northeast-2.rds.amazonaws.com",
         "port": 5432, "note": "RDS primary"},
        {"name": "courm-redis", "kind": "redis-primary", "address": "master.courm-redis.abc123.apn2.cache.amazonaws.com", "port": 6379}]
    book = ROOT / "tests" / "integration" / "k8s" / "playbooks" / "endpoints.yml"
    args = {"cluster_addons_kubeconfig": str(kubeconfig), "cluster_addons_plan": plan, "cluster_addons_endpoints": endpoints}
    first = run_playbook(book, args)
    assert first.returncode == 0, first.stdout[-4000:] + first.stderr[-2000:]
    expected = addon_manifests.endpoint_objects(plan, endpoints)
    assert sorted((o["kind"], o["metadata"]["name"]) for o in expected) == [
        ("ConfigMap", "postgresql-connection"), ("ConfigMap", "redis-connection"), ("Service", "postgresql"), ("Service", "redis")]
    for obj in expected:
        plural = k8s_objects.RESOURCES[(obj["apiVersion"], obj["kind"])][0]
        stored = kube.objects.all(plural)[("courm", obj["metadata"]["name"])]
        assert k8s_objects.is_subset(obj, stored), (obj, stored)
    stored = kube.objects.all("services")[("courm", "postgresql")]
    assert stored["spec"]["sessionAffinity"] == "None" and "clusterIP" not in stored["spec"]   # the server's defaults, no IP

    again = run_playbook(book, args)
    assert again.returncode == 0 and recap(again.stdout)["changed"] == 0, again.stdout[-4000:]

    endpoints[0]["address"] = "courm-postgresql.x7b.ap-northeast-2.rds.amazonaws.com"
    moved = run_playbook(book, args)
    assert moved.returncode == 0 and recap(moved.stdout)["changed"] == 1, moved.stdout[-4000:]
    assert kube.objects.all("services")[("courm", "postgresql")]["spec"]["externalName"] == endpoints[0]["address"]
    assert kube.objects.all("configmaps")[("courm", "postgresql-connection")]["data"]["host"] == endpoints[0]["address"]

    refused = run_playbook(book, dict(args, cluster_addons_endpoints=[dict(endpoints[0], address="10.0.3.10")]))
    assert refused.returncode != 0 and "endpoints[0].address: '10.0.3.10' is not a DNS name" in refused.stdout
