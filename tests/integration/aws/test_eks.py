"""playbooks/eks.yml against the emulator: courm-eks and domains-eks built, converged (changed=0), changed
day 2 (one node group per changed pool, version +1 in order) and torn down to nothing.

The network comes from boto3 (aws_helpers.make_network: the subnets and security groups eks.yml looks
up by Name), so these tests exercise the EKS layer only. Everything is asserted through boto3; the
emulator's EKS handlers are scripts/moto_ext/eks.py. Update calls are counted with ListUpdates, which
the emulator records per cluster, node group and add-on as EKS does.
"""
from __future__ import annotations

import json
import stat
from pathlib import Path

import aws_helpers
import boto3
import network_harness
import yaml
from network_harness import URL, recap

ROOT = Path(__file__).resolve().parents[3]
ADMIN = "arn:aws:iam::123456789012:role/courm-platform-admins"
ADMIN_POLICY = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
ADDONS = {"vpc-cni", "coredns", "kube-proxy", "aws-ebs-csi-driver", "eks-pod-identity-agent"}


def client(service: str, region: str):
    return boto3.client(service, endpoint_url=URL, region_name=region, aws_access_key_id="testing", aws_secret_access_key="testing")


def topology(example: str) -> dict:
    return yaml.safe_load((ROOT / "inventories" / "examples" / example / "group_vars" / "all" / "topology.yml").read_text())["platform"]


def network(example: str, monkeypatch) -> dict:
    plan = aws_helpers.plan_of(ROOT / "inventories" / "examples" / example)
    monkeypatch.setattr(aws_helpers, "REGION", plan["region"])
    aws_helpers.make_network(plan)
    return plan


def _override(tmp_path: Path, platform: dict) -> Path:
    """Extra vars replacing the example's topology (extra vars win over group_vars)."""
    override = tmp_path / "topology.json"
    override.write_text(json.dumps({"platform": platform}))
    return override


def _pool(platform: dict, name: str) -> dict:
    return next(p for p in platform["pools"] if p["name"] == name)


def eks_yml(example: str, tmp_path: Path, platform: dict | None = None):
    """eks.yml on the example (or on `platform`, a changed copy of its topology); the kubeconfig under tmp_path."""
    args = ["-e", f"eks_kubeconfig={tmp_path / 'kubeconfig'}"]
    if platform is not None:
        args += ["-e", f"@{_override(tmp_path, platform)}"]
    run = network_harness.playbook("eks.yml", example, *args, timeout=900)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    return run


def teardown(example: str, name: str) -> None:
    run = network_harness.playbook("teardown.yml", example, "-e", f"confirm_teardown={name}", timeout=900)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]


def updates(eks, cluster: str) -> dict:
    """Every update of the cluster, its node groups and add-ons: {scope: [(type, createdAt, params)]}."""
    scopes = {"cluster": {}}
    scopes.update({f"nodegroup/{n}": {"nodegroupName": n} for n in eks.list_nodegroups(clusterName=cluster)["nodegroups"]})
    scopes.update({f"addon/{a}": {"addonName": a} for a in eks.list_addons(clusterName=cluster)["addons"]})
    out = {}
    for scope, where in scopes.items():
        out[scope] = []
        for update_id in eks.list_updates(name=cluster, **where)["updateIds"]:
            update = eks.describe_update(name=cluster, updateId=update_id, **where)["update"]
            out[scope].append((update["type"], update["createdAt"], {p["type"]: p["value"] for p in update["params"]}))
    return out


def default_versions(eks, kubernetes_version: str) -> dict:
    """{add-on: the version DescribeAddonVersions marks default for that Kubernetes minor} of the five add-ons."""
    catalogue = eks.describe_addon_versions(kubernetesVersion=kubernetes_version)["addons"]
    return {a["addonName"]: next(v["addonVersion"] for v in a["addonVersions"] if any(c["defaultVersion"] for c in v["compatibilities"]))
            for a in catalogue if a["addonName"] in ADDONS}


def eks_left(name: str, region: str) -> list:
    """EKS, IAM and launch-template resources of the platform still there (teardown must leave none)."""
    eks, iam, ec2 = client("eks", region), client("iam", region), client("ec2", region)
    left = [f"cluster {c}" for c in eks.list_clusters()["clusters"]]
    left += [f"oidc {p['Arn']}" for p in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]]
    left += [f"role {r['RoleName']}" for r in iam.list_roles()["Roles"] if r["RoleName"].startswith(name + "-")]
    left += [f"launch template {t['LaunchTemplateName']}" for t in ec2.describe_launch_templates()["LaunchTemplates"]]
    left += [f"vpc {v['VpcId']}" for v in ec2.describe_vpcs(Filters=[{"Name": "tag:msa:platform", "Values": [name]}])["Vpcs"]]
    return left


def test_courm_eks_builds_everything_converges_and_tears_down(network_emulator, monkeypatch, tmp_path):
    plan = network("courm-eks", monkeypatch)
    region = plan["region"]
    first = eks_yml("courm-eks", tmp_path)
    assert recap(first)["changed"] > 0

    eks, iam, ec2 = client("eks", region), client("iam", region), client("ec2", region)
    cluster = eks.describe_cluster(name="courm")["cluster"]
    assert cluster["version"] == "1.35" and cluster["status"] == "ACTIVE"
    assert cluster["accessConfig"]["authenticationMode"] == "API"
    vpc_config = cluster["resourcesVpcConfig"]
    assert vpc_config["endpointPrivateAccess"] and vpc_config["endpointPublicAccess"]
    assert vpc_config["publicAccessCidrs"] == ["203.0.113.0/24"]
    app_subnets = {s["SubnetId"] for s in ec2.describe_subnets(Filters=[{"Name": "tag:Name", "Values": ["courm-app-*"]}])["Subnets"]}
    assert set(vpc_config["subnetIds"]) == app_subnets and len(app_subnets) == 3
    assert cluster["kubernetesNetworkConfig"]["serviceIpv4Cidr"] == "172.20.0.0/16"
    enabled = {t for entry in cluster["logging"]["clusterLogging"] if entry["enabled"] for t in entry["types"]}
    assert enabled == {"api", "audit", "authenticator"}
    assert cluster["tags"]["msa:platform"] == "courm"
    assert cluster["roleArn"].endswith(":role/courm-eks-cluster")

    groups = {n: eks.describe_nodegroup(clusterName="courm", nodegroupName=n)["nodegroup"] for n in ("general", "batch")}
    assert set(eks.list_nodegroups(clusterName="courm")["nodegroups"]) == {"general", "batch"}
    assert groups["general"]["scalingConfig"] == {"minSize": 2, "maxSize": 4, "desiredSize": 2}
    assert groups["batch"]["scalingConfig"] == {"minSize": 0, "maxSize": 3, "desiredSize": 1}
    assert groups["batch"]["capacityType"] == "SPOT" and groups["general"]["capacityType"] == "ON_DEMAND"
    assert groups["batch"]["labels"] == {"workload": "batch"}
    assert groups["batch"]["taints"] == [{"key": "workload", "value": "batch", "effect": "NO_SCHEDULE"}]
    assert {g["amiType"] for g in groups.values()} == {"AL2023_x86_64_STANDARD"}
    assert {g["version"] for g in groups.values()} == {"1.35"}
    assert {g["instanceTypes"][0] for g in groups.values()} == {"t3.medium"}
    assert set(groups["general"]["subnets"]) == app_subnets
    assert groups["general"]["launchTemplate"]["name"] == "courm-eks-general"
    assert groups["general"]["nodeRole"].endswith(":role/courm-eks-node")
    assert groups["general"]["updateConfig"] == {"maxUnavailable": 1}

    template = ec2.describe_launch_template_versions(LaunchTemplateName="courm-eks-general", Versions=["$Latest"])
    data = template["LaunchTemplateVersions"][0]["LaunchTemplateData"]
    assert data["MetadataOptions"]["HttpTokens"] == "required" and data["MetadataOptions"]["HttpPutResponseHopLimit"] == 1
    root = data["BlockDeviceMappings"][0]["Ebs"]
    assert (root["VolumeType"], root["Encrypted"], root["VolumeSize"]) == ("gp3", True, 30)
    k8s_sg = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": ["courm-k8s"]}])["SecurityGroups"][0]["GroupId"]
    assert k8s_sg in data["SecurityGroupIds"]

    addons = {a: eks.describe_addon(clusterName="courm", addonName=a)["addon"] for a in eks.list_addons(clusterName="courm")["addons"]}
    assert set(addons) == ADDONS
    assert {a: addons[a]["addonVersion"] for a in addons} == default_versions(eks, "1.35")
    assert addons["aws-ebs-csi-driver"]["serviceAccountRoleArn"].endswith(":role/courm-eks-ebs-csi")

    issuer = cluster["identity"]["oidc"]["issuer"].removeprefix("https://")
    providers = [p["Arn"] for p in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]]
    assert providers == [f"arn:aws:iam::123456789012:oidc-provider/{issuer}"]
    trust = iam.get_role(RoleName="courm-eks-ebs-csi")["Role"]["AssumeRolePolicyDocument"]
    statement = (json.loads(trust) if isinstance(trust, str) else trust)["Statement"][0]
    assert statement["Principal"]["Federated"] == providers[0]
    assert statement["Condition"]["StringEquals"][f"{issuer}:sub"] == "system:serviceaccount:kube-system:ebs-csi-controller-sa"
    policies = {r: {p["PolicyName"] for p in iam.list_attached_role_policies(RoleName=f"courm-eks-{r}")["AttachedPolicies"]}
                for r in ("cluster", "node", "ebs-csi")}
    assert policies == {"cluster": {"AmazonEKSClusterPolicy"},
                        "node": {"AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryReadOnly"},
                        "ebs-csi": {"AmazonEBSCSIDriverPolicy"}}

    assert ADMIN in eks.list_access_entries(clusterName="courm")["accessEntries"]
    associated = eks.list_associated_access_policies(clusterName="courm", principalArn=ADMIN)["associatedAccessPolicies"]
    assert [(p["policyArn"], p["accessScope"]["type"]) for p in associated] == [(ADMIN_POLICY, "cluster")]

    kubeconfig = tmp_path / "kubeconfig"
    assert stat.S_IMODE(kubeconfig.stat().st_mode) == 0o600
    config = yaml.safe_load(kubeconfig.read_text())
    assert config["clusters"][0]["cluster"]["server"] == cluster["endpoint"]
    assert config["users"][0]["user"]["exec"]["args"][:4] == ["eks", "get-token", "--cluster-name", "courm"]

    before = updates(eks, "courm")
    second = eks_yml("courm-eks", tmp_path)
    assert recap(second)["changed"] == 0, second.stdout[-3000:]
    assert updates(eks, "courm") == before
    preview = network_harness.playbook("eks.yml", "courm-eks", "--check", "--diff", "-e", f"eks_kubeconfig={kubeconfig}", timeout=900)
    assert preview.returncode == 0 and recap(preview)["changed"] == 0, preview.stdout[-3000:]

    # What EKS cannot change in place fails naming the field, and changes nothing.
    platform = topology("courm-eks")
    _pool(platform, "batch")["instance_type"] = "t3.large"
    refused = network_harness.playbook("eks.yml", "courm-eks", "-e", f"eks_kubeconfig={kubeconfig}", "-e",
                                       f"@{_override(tmp_path, platform)}", timeout=900)
    assert refused.returncode != 0
    assert "instance_types" in refused.stdout and "batch" in refused.stdout, refused.stdout[-3000:]
    assert eks.describe_nodegroup(clusterName="courm", nodegroupName="batch")["nodegroup"]["instanceTypes"] == ["t3.medium"]
    assert updates(eks, "courm") == before

    teardown("courm-eks", "courm")
    assert eks_left("courm", region) == []
    assert network_harness.leftovers("courm") == []


def test_domains_eks_day2_changes_only_the_changed_node_groups_and_upgrades_in_order(network_emulator, monkeypatch, tmp_path):
    plan = network("domains-eks", monkeypatch)
    eks = client("eks", plan["region"])
    eks_yml("domains-eks", tmp_path)
    assert {g: eks.describe_nodegroup(clusterName="domains", nodegroupName=g)["nodegroup"]["taints"]
            for g in ("order", "system")} == {"order": [{"key": "api", "value": "order", "effect": "NO_SCHEDULE"}], "system": []}
    built = updates(eks, "domains")
    assert all(not calls for calls in built.values()), built

    # A label value, a taint and a size: three pools, one UpdateNodegroupConfig each, nothing else.
    platform = topology("domains-eks")
    _pool(platform, "system")["labels"] = {"workload": "platform"}
    _pool(platform, "order")["taints"] = [{"key": "api", "value": "order", "effect": "NoExecute"}]
    _pool(platform, "product")["count"] = 3
    eks_yml("domains-eks", tmp_path, platform)
    changed = updates(eks, "domains")
    calls = {scope: [(kind, params) for kind, _at, params in items] for scope, items in changed.items() if items}
    assert set(calls) == {"nodegroup/system", "nodegroup/order", "nodegroup/product"}, calls
    assert all(len(items) == 1 and items[0][0] == "ConfigUpdate" for items in calls.values()), calls
    assert set(calls["nodegroup/system"][0][1]) == {"LabelsToAdd"}
    assert "TaintsToAdd" in calls["nodegroup/order"][0][1] and set(calls["nodegroup/order"][0][1]) <= {"TaintsToAdd", "TaintsToRemove"}
    product = calls["nodegroup/product"][0][1]
    assert product["DesiredSize"] == "3" and not any(k.startswith(("Labels", "Taints")) for k in product)
    groups = {g: eks.describe_nodegroup(clusterName="domains", nodegroupName=g)["nodegroup"] for g in ("system", "order", "product")}
    assert groups["system"]["labels"] == {"workload": "platform"}
    assert groups["order"]["taints"] == [{"key": "api", "value": "order", "effect": "NO_EXECUTE"}]
    assert groups["product"]["scalingConfig"]["desiredSize"] == 3

    # Version +1: control plane, then every node group, then the add-ons.
    platform["kubernetes"]["version"] = "1.36"
    eks_yml("domains-eks", tmp_path, platform)
    after = updates(eks, "domains")
    new = {scope: items[len(changed[scope]):] for scope, items in after.items()}
    assert [kind for kind, _at, _params in new["cluster"]] == ["VersionUpdate"]
    nodegroup_updates = [items for scope, items in new.items() if scope.startswith("nodegroup/")]
    assert len(nodegroup_updates) == 4 and all([k for k, _a, _p in items] == ["VersionUpdate"] for items in nodegroup_updates)
    # Each add-on moves to the default version of 1.36 when that differs from what runs (one update), else stays.
    moved = {a for a, version in default_versions(eks, "1.36").items() if version != default_versions(eks, "1.35")[a]}
    assert moved, "the emulator's catalogue must move at least one add-on between 1.35 and 1.36"
    addon_updates = [items for scope, items in new.items() if scope.startswith("addon/") and items]
    assert {scope.removeprefix("addon/") for scope, items in new.items() if scope.startswith("addon/") and items} == moved, new
    assert all([k for k, _a, _p in items] == ["AddonUpdate"] for items in addon_updates), new
    assert {a: eks.describe_addon(clusterName="domains", addonName=a)["addon"]["addonVersion"] for a in ADDONS} == default_versions(eks, "1.36")
    cluster_at = new["cluster"][0][1]
    last_nodegroup = max(items[0][1] for items in nodegroup_updates)
    first_addon = min(items[0][1] for items in addon_updates)
    assert cluster_at < min(items[0][1] for items in nodegroup_updates) and last_nodegroup < first_addon
    assert eks.describe_cluster(name="domains")["cluster"]["version"] == "1.36"
    assert {eks.describe_nodegroup(clusterName="domains", nodegroupName=g)["nodegroup"]["version"]
            for g in eks.list_nodegroups(clusterName="domains")["nodegroups"]} == {"1.36"}

    teardown("domains-eks", "domains")
    assert eks_left("domains", plan["region"]) == []
