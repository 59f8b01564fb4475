"""The EKS modules (eks_cluster, eks_nodegroup, eks_addon, eks_access_entry, iam_oidc_provider) against the
emulator (scripts/moto_server.py with scripts/moto_ext): create, second run changed=0, each kind of update on
its own (the `calls` each run reports, and the state read back with boto3), check mode changes nothing, diff
before/after, refusals before any change. The modules run in this process the way Ansible runs them."""
from __future__ import annotations

import sys
import time
from pathlib import Path

import boto3
import emulator  # scripts/emulator.py: tests/conftest.py puts scripts/ on sys.path
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "k8s"))
from k8s_harness import run_module  # the one in-process module runner of the tests

pytestmark = pytest.mark.emulator
REGION = "ap-northeast-2"
ROLE = "arn:aws:iam::123456789012:role/courm-eks-cluster"
NODE_ROLE = "arn:aws:iam::123456789012:role/courm-eks-node"
ADMIN = "arn:aws:iam::123456789012:role/platform-admin"
CLUSTER = dict(name="courm", version="1.33", role_arn=ROLE, subnets=["subnet-a", "subnet-b"], endpoint_private_access=True,
               public_access_cidrs=["203.0.113.0/24"], service_ipv4_cidr="172.20.0.0/16", authentication_mode="API",
               logging=["api", "audit"], tags={"msa:platform": "courm"})
NODEGROUP = dict(cluster_name="courm", name="auth", node_role_arn=NODE_ROLE, subnets=["subnet-a", "subnet-b"], instance_types=["t3.large"],
                 capacity_type="ON_DEMAND", ami_type="AL2023_x86_64_STANDARD", scaling=dict(min_size=1, max_size=3, desired_size=2),
                 labels={"workload": "api", "api": "auth"}, taints=[{"key": "dedicated", "value": "auth", "effect": "NoSchedule"}],
                 update_config={"max_unavailable": 1}, tags={"msa:platform": "courm", "msa:pool": "auth"})


def eks():
    return boto3.client("eks", region_name=REGION)


def ok(result: dict) -> dict:
    assert not result.get("failed"), result.get("msg")
    return result


def converge(name: str, args: dict, calls: list[str], **kwargs) -> dict:
    """Run the module; it must report exactly `calls` (and changed accordingly)."""
    result = ok(run_module(name, args, **kwargs))
    assert result["calls"] == calls, result["calls"]
    assert result["changed"] is bool(calls)
    return result


@pytest.fixture
def cluster(aws):  # pylint: disable=unused-argument
    converge("eks_cluster", CLUSTER, ["create_cluster"])
    return eks().describe_cluster(name="courm")["cluster"]


# ---------------------------------------------------------------- eks_cluster

def test_cluster_check_mode_then_create_then_nothing_to_do(aws):  # pylint: disable=unused-argument
    planned = converge("eks_cluster", CLUSTER, ["create_cluster"], check=True, diff=True)
    assert planned["diff"]["before"] == {} and planned["diff"]["after"]["authentication_mode"] == "API"
    assert eks().list_clusters()["clusters"] == []
    made = converge("eks_cluster", CLUSTER, ["create_cluster"])
    assert made["cluster"]["status"] == "ACTIVE" and made["cluster"]["version"] == "1.33"
    assert made["oidc_issuer"].startswith("https://oidc.eks.ap-northeast-2.amazonaws.com/id/")
    assert made["cluster"]["certificate_authority"]["data"] and made["cluster"]["endpoint"].startswith("https://")
    described = eks().describe_cluster(name="courm")["cluster"]
    assert described["accessConfig"]["authenticationMode"] == "API"
    assert described["resourcesVpcConfig"]["publicAccessCidrs"] == ["203.0.113.0/24"]
    assert described["resourcesVpcConfig"]["endpointPrivateAccess"] is True
    assert described["kubernetesNetworkConfig"]["serviceIpv4Cidr"] == "172.20.0.0/16"
    assert described["tags"] == {"msa:platform": "courm"}
    converge("eks_cluster", CLUSTER, [])


CLUSTER_CHANGES = [  # each applied on top of the previous ones: (change, the one call it needs, what DescribeCluster shows then)
    ({"version": "1.34"}, "update_cluster_version", lambda c: c["version"] == "1.34"),
    ({"endpoint_public_access": False, "public_access_cidrs": None}, "update_cluster_config",
     lambda c: c["resourcesVpcConfig"]["endpointPublicAccess"] is False),
    ({"endpoint_public_access": True, "public_access_cidrs": ["198.51.100.0/24"]}, "update_cluster_config",
     lambda c: c["resourcesVpcConfig"]["publicAccessCidrs"] == ["198.51.100.0/24"]),
    ({"logging": ["api"]}, "update_cluster_config", lambda c: c["logging"]["clusterLogging"][0] == {"types": ["api"], "enabled": True}),
    ({"security_groups": ["sg-1"]}, "update_cluster_config", lambda c: c["resourcesVpcConfig"]["securityGroupIds"] == ["sg-1"]),
    ({"tags": {"msa:platform": "courm", "team": "infra"}}, "tag_resource", lambda c: c["tags"]["team"] == "infra"),
    ({"tags": {}}, "untag_resource", lambda c: c["tags"] == {}),
]


def test_each_cluster_change_is_made_in_place_alone(cluster):  # pylint: disable=redefined-outer-name
    wanted, current = dict(CLUSTER), cluster
    for change, call, check in CLUSTER_CHANGES:
        wanted.update(change)
        planned = converge("eks_cluster", wanted, [call], check=True, diff=True)
        assert planned["diff"]["before"] != planned["diff"]["after"], change
        assert eks().describe_cluster(name="courm")["cluster"] == current, change  # check mode changed nothing
        done = converge("eks_cluster", wanted, [call], diff=True)
        assert done["diff"]["after"] == planned["diff"]["after"], change
        current = eks().describe_cluster(name="courm")["cluster"]
        assert check(current), change
        converge("eks_cluster", wanted, [])


def test_several_cluster_changes_run_one_after_the_other(cluster):  # pylint: disable=redefined-outer-name,unused-argument
    wanted = dict(CLUSTER, version="1.34", logging=[], endpoint_private_access=False, tags={"a": "b"})
    converge("eks_cluster", wanted, ["update_cluster_version", "update_cluster_config", "update_cluster_config", "untag_resource", "tag_resource"])
    assert len(eks().list_updates(name="courm")["updateIds"]) == 3
    converge("eks_cluster", wanted, [])


def test_cluster_refusals_change_nothing(cluster):  # pylint: disable=redefined-outer-name
    for change, field in (({"version": "1.35"}, "skips 1.34"), ({"version": "1.32"}, "downgrade"),
                          ({"role_arn": ROLE + "2"}, "role_arn: cluster courm"), ({"service_ipv4_cidr": "10.100.0.0/16"}, "service_ipv4_cidr: "),
                          ({"authentication_mode": "CONFIG_MAP"}, "authentication_mode: "),
                          ({"public_access_cidrs": ["10.0.0.1/8"]}, "public_access_cidrs[0]: ")):
        result = run_module("eks_cluster", dict(CLUSTER, **change))
        assert result["failed"] and field in result["msg"], result["msg"]
    assert eks().describe_cluster(name="courm")["cluster"] == cluster
    assert eks().list_updates(name="courm")["updateIds"] == []


def test_cluster_wrong_types_fail_cleanly(aws):  # pylint: disable=unused-argument
    for bad in ({"logging": ["kubelet"]}, {"endpoint_public_access": "sometimes"}, {"subnets": {"a": 1}}):
        result = run_module("eks_cluster", dict(CLUSTER, **bad))
        assert result["failed"] and "Traceback" not in result.get("msg", "") and result.get("exception") is None
    result = run_module("eks_cluster", {"name": "new"})
    assert result["failed"] and result["msg"] == "role_arn: required to create cluster new; subnets: required to create cluster new"
    assert eks().list_clusters()["clusters"] == []


def test_cluster_absent(cluster):  # pylint: disable=redefined-outer-name,unused-argument
    converge("eks_cluster", {"name": "courm", "state": "absent"}, ["delete_cluster"], check=True)
    assert eks().list_clusters()["clusters"] == ["courm"]
    converge("eks_cluster", {"name": "courm", "state": "absent"}, ["delete_cluster"])
    assert eks().list_clusters()["clusters"] == []
    converge("eks_cluster", {"name": "courm", "state": "absent"}, [])


# ---------------------------------------------------------------- eks_nodegroup

def updates_of(nodegroup: str) -> list[dict]:
    client = eks()
    return [client.describe_update(name="courm", updateId=u, nodegroupName=nodegroup)["update"]
            for u in client.list_updates(name="courm", nodegroupName=nodegroup)["updateIds"]]


def test_nodegroup_create_then_nothing_to_do(cluster):  # pylint: disable=redefined-outer-name,unused-argument
    converge("eks_nodegroup", NODEGROUP, ["create_nodegroup"], check=True)
    assert eks().list_nodegroups(clusterName="courm")["nodegroups"] == []
    made = converge("eks_nodegroup", NODEGROUP, ["create_nodegroup"])
    assert made["nodegroup"]["labels"] == {"workload": "api", "api": "auth"}
    described = eks().describe_nodegroup(clusterName="courm", nodegroupName="auth")["nodegroup"]
    assert described["taints"] == [{"key": "dedicated", "value": "auth", "effect": "NO_SCHEDULE"}]
    assert described["amiType"] == "AL2023_x86_64_STANDARD" and described["version"] == "1.33"
    assert described["updateConfig"] == {"maxUnavailable": 1}
    assert described["tags"] == {"msa:platform": "courm", "msa:pool": "auth"}
    converge("eks_nodegroup", NODEGROUP, [])


NODEGROUP_CHANGES = [  # each applied on top of the previous ones, with the update params EKS records for it
    ({"labels": {"workload": "api", "api": "auth-v2"}}, {"LabelsToAdd"}),
    ({"labels": {"api": "auth-v2"}}, {"LabelsToRemove"}),
    ({"taints": [{"key": "dedicated", "value": "auth-v2", "effect": "NO_SCHEDULE"}]}, {"TaintsToAdd"}),
    ({"taints": []}, {"TaintsToRemove"}),
    ({"scaling": {"min_size": 1, "max_size": 5, "desired_size": 4}}, {"MinSize", "MaxSize", "DesiredSize"}),
    ({"update_config": {"max_unavailable_percentage": 50}}, {"MaxUnavailablePercentage"}),
]


def test_each_nodegroup_change_is_one_config_update(cluster):  # pylint: disable=redefined-outer-name,unused-argument
    converge("eks_nodegroup", NODEGROUP, ["create_nodegroup"])
    wanted = dict(NODEGROUP)
    for count, (change, params) in enumerate(NODEGROUP_CHANGES, start=1):
        before = eks().describe_nodegroup(clusterName="courm", nodegroupName="auth")["nodegroup"]
        wanted.update(change)
        planned = converge("eks_nodegroup", wanted, ["update_nodegroup_config"], check=True, diff=True)
        assert eks().describe_nodegroup(clusterName="courm", nodegroupName="auth")["nodegroup"] == before, change
        done = converge("eks_nodegroup", wanted, ["update_nodegroup_config"], diff=True)
        assert done["diff"]["after"] == planned["diff"]["after"], change
        updates = updates_of("auth")
        assert len(updates) == count and updates[-1]["status"] == "Successful"
        assert {p["type"] for p in updates[-1]["params"]} == params, change
        converge("eks_nodegroup", wanted, [])


def test_label_taint_and_size_changes_together_are_one_call(cluster):  # pylint: disable=redefined-outer-name,unused-argument
    converge("eks_nodegroup", NODEGROUP, ["create_nodegroup"])
    wanted = dict(NODEGROUP, labels={"api": "orders"}, taints=[{"key": "dedicated", "value": "orders", "effect": "NoExecute"}],
                  scaling={"min_size": 2, "max_size": 3, "desired_size": 3})
    converge("eks_nodegroup", wanted, ["update_nodegroup_config"])
    described = eks().describe_nodegroup(clusterName="courm", nodegroupName="auth")["nodegroup"]
    assert described["labels"] == {"api": "orders"}
    assert described["taints"] == [{"key": "dedicated", "value": "orders", "effect": "NO_EXECUTE"}]
    assert described["scalingConfig"] == {"minSize": 2, "maxSize": 3, "desiredSize": 3}
    assert len(updates_of("auth")) == 1


def test_autoscaler_drift_of_desired_size_can_be_ignored(cluster):  # pylint: disable=redefined-outer-name,unused-argument
    converge("eks_nodegroup", NODEGROUP, ["create_nodegroup"])
    eks().update_nodegroup_config(clusterName="courm", nodegroupName="auth", scalingConfig={"desiredSize": 3})  # the autoscaler
    converge("eks_nodegroup", dict(NODEGROUP, ignore_desired_size=True), [])
    converge("eks_nodegroup", NODEGROUP, ["update_nodegroup_config"])
    assert eks().describe_nodegroup(clusterName="courm", nodegroupName="auth")["nodegroup"]["scalingConfig"]["desiredSize"] == 2


def test_nodegroup_refusals_name_the_field_and_change_nothing(cluster):  # pylint: disable=redefined-outer-name,unused-argument
    converge("eks_nodegroup", NODEGROUP, ["create_nodegroup"])
    for change, field in (({"instance_types": ["m5.large"]}, "instance_types: node group auth has ['t3.large']"),
                          ({"subnets": ["subnet-c"]}, "subnets: "), ({"capacity_type": "SPOT"}, "capacity_type: "),
                          ({"ami_type": "AL2023_ARM_64_STANDARD"}, "ami_type: "), ({"node_role_arn": ROLE}, "node_role_arn: "),
                          ({"version": "1.34"}, "before cluster courm (at 1.33) is upgraded"),
                          ({"scaling": {"min_size": 3, "max_size": 2}}, "scaling.min_size: "),
                          ({"taints": [{"key": "a", "effect": "NoSchedule"}, {"key": "a", "effect": "NO_SCHEDULE"}]}, "taints[1]: ")):
        result = run_module("eks_nodegroup", dict(NODEGROUP, **change))
        assert result["failed"] and field in result["msg"], result["msg"]
    assert updates_of("auth") == []
    result = run_module("eks_nodegroup", dict(NODEGROUP, scaling={"min_size": "two"}))
    assert result["failed"] and "min_size" in result["msg"] and result.get("exception") is None


def test_version_upgrade_in_order_control_plane_then_nodes(cluster):  # pylint: disable=redefined-outer-name,unused-argument
    converge("eks_nodegroup", NODEGROUP, ["create_nodegroup"])
    converge("eks_cluster", dict(CLUSTER, version="1.34"), ["update_cluster_version"])
    converge("eks_nodegroup", dict(NODEGROUP, version="1.34"), ["update_nodegroup_version"])
    described = eks().describe_nodegroup(clusterName="courm", nodegroupName="auth")["nodegroup"]
    assert described["version"] == "1.34" and described["releaseVersion"].startswith("1.34")
    converge("eks_nodegroup", dict(NODEGROUP, version="1.34"), [])
    converge("eks_cluster", dict(CLUSTER, version="1.35"), ["update_cluster_version"])


def test_nodegroup_absent(cluster):  # pylint: disable=redefined-outer-name,unused-argument
    converge("eks_nodegroup", NODEGROUP, ["create_nodegroup"])
    gone = dict(cluster_name="courm", name="auth", state="absent")
    converge("eks_nodegroup", gone, ["delete_nodegroup"], check=True)
    converge("eks_nodegroup", gone, ["delete_nodegroup"])
    assert eks().list_nodegroups(clusterName="courm")["nodegroups"] == []
    converge("eks_nodegroup", gone, [])


# ---------------------------------------------------------------- eks_addon

def test_addon_versions_follow_the_cluster(cluster):  # pylint: disable=redefined-outer-name,unused-argument
    proxy = dict(cluster_name="courm", name="kube-proxy", version="default", tags={"msa:platform": "courm"})
    made = converge("eks_addon", proxy, ["create_addon"])
    assert made["version"] == "v1.33.0-eksbuild.1" and made["addon"]["status"] == "ACTIVE"
    converge("eks_addon", proxy, [])
    converge("eks_addon", dict(proxy, version="latest"), ["update_addon"])
    assert eks().describe_addon(clusterName="courm", addonName="kube-proxy")["addon"]["addonVersion"] == "v1.33.3-eksbuild.2"
    converge("eks_cluster", dict(CLUSTER, version="1.34"), ["update_cluster_version"])
    after = converge("eks_addon", proxy, ["update_addon"])
    assert after["version"] == "v1.34.0-eksbuild.1"


def test_addon_role_configuration_and_check_mode(cluster):  # pylint: disable=redefined-outer-name,unused-argument
    csi = dict(cluster_name="courm", name="aws-ebs-csi-driver", service_account_role_arn="arn:aws:iam::123456789012:role/courm-ebs-csi",
               configuration_values={"controller": {"replicaCount": 2}})
    converge("eks_addon", csi, ["create_addon"])
    converge("eks_addon", dict(csi, configuration_values='{"controller": {"replicaCount": 2}}'), [])
    converge("eks_addon", dict(csi, configuration_values="controller:\n  replicaCount: 2\n"), [])
    result = run_module("eks_addon", dict(csi, service_account_role_arn=""))
    assert result["failed"] and result["msg"].startswith("service_account_role_arn: add-on aws-ebs-csi-driver uses")
    wanted = dict(csi, configuration_values={"controller": {"replicaCount": 3}},
                  service_account_role_arn="arn:aws:iam::123456789012:role/courm-ebs-csi-v2")
    planned = converge("eks_addon", wanted, ["update_addon"], check=True, diff=True)
    assert planned["diff"]["after"]["configuration_values"] == {"controller": {"replicaCount": 3}}
    assert "replicaCount\": 2" in eks().describe_addon(clusterName="courm", addonName="aws-ebs-csi-driver")["addon"]["configurationValues"]
    converge("eks_addon", wanted, ["update_addon"])
    addon = eks().describe_addon(clusterName="courm", addonName="aws-ebs-csi-driver")["addon"]
    assert addon["serviceAccountRoleArn"].endswith("/courm-ebs-csi-v2") and "replicaCount\": 3" in addon["configurationValues"]
    converge("eks_addon", wanted, [])
    result = run_module("eks_addon", dict(csi, version="v0.0.1"))
    assert result["failed"] and result["msg"].startswith("version: add-on aws-ebs-csi-driver has no version v0.0.1")
    gone = dict(cluster_name="courm", name="aws-ebs-csi-driver", state="absent")
    converge("eks_addon", gone, ["delete_addon"])
    converge("eks_addon", gone, [])


# ---------------------------------------------------------------- eks_access_entry

def test_access_entry_and_policies_converge(cluster):  # pylint: disable=redefined-outer-name,unused-argument
    entry = dict(cluster_name="courm", principal_arn=ADMIN, kubernetes_groups=["platform"], tags={"msa:platform": "courm"},
                 policies=[{"policy_arn": "AmazonEKSClusterAdminPolicy"},
                           {"policy_arn": "AmazonEKSEditPolicy", "access_scope": {"type": "namespace", "namespaces": ["orders"]}}])
    converge("eks_access_entry", entry, ["create_access_entry", "associate_access_policy", "associate_access_policy"], check=True)
    assert ADMIN not in eks().list_access_entries(clusterName="courm")["accessEntries"]
    converge("eks_access_entry", entry, ["create_access_entry", "associate_access_policy", "associate_access_policy"])
    converge("eks_access_entry", entry, [])
    rescoped = dict(entry, kubernetes_groups=["platform", "ops"],
                    policies=[{"policy_arn": "AmazonEKSEditPolicy", "access_scope": {"type": "namespace", "namespaces": ["orders", "payments"]}}])
    done = converge("eks_access_entry", rescoped, ["update_access_entry", "associate_access_policy", "disassociate_access_policy"], diff=True)
    assert done["policies"] == [{"policy_arn": "arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy",
                                 "access_scope": {"type": "namespace", "namespaces": ["orders", "payments"]}}]
    assert eks().describe_access_entry(clusterName="courm", principalArn=ADMIN)["accessEntry"]["kubernetesGroups"] == ["platform", "ops"]
    converge("eks_access_entry", rescoped, [])
    converge("eks_access_entry", dict(cluster_name="courm", principal_arn=ADMIN, state="absent"), ["delete_access_entry"])
    assert ADMIN not in eks().list_access_entries(clusterName="courm")["accessEntries"]


def test_access_entry_on_a_config_map_cluster_fails_clearly(aws):  # pylint: disable=unused-argument
    converge("eks_cluster", dict(CLUSTER, authentication_mode="CONFIG_MAP"), ["create_cluster"])
    result = run_module("eks_access_entry", dict(cluster_name="courm", principal_arn=ADMIN))
    assert result["failed"] and "authentication mode must be set to one of [API, API_AND_CONFIG_MAP]" in result["msg"]


# ---------------------------------------------------------------- iam_oidc_provider

def test_oidc_provider_of_the_cluster(cluster):  # pylint: disable=redefined-outer-name
    issuer = cluster["identity"]["oidc"]["issuer"]
    provider = dict(url=issuer, tags={"msa:platform": "courm"})
    converge("iam_oidc_provider", provider, ["create_open_id_connect_provider"], check=True)
    made = converge("iam_oidc_provider", provider, ["create_open_id_connect_provider"])
    assert made["provider"]["arn"] == f"arn:aws:iam::123456789012:oidc-provider/{issuer[len('https://'):]}"
    assert made["provider"]["client_ids"] == ["sts.amazonaws.com"]
    converge("iam_oidc_provider", provider, [])
    converge("iam_oidc_provider", dict(provider, client_ids=["sts.amazonaws.com", "web"], thumbprints=["9E99A48A9960B14926BB7F3B02E22DA2B0AB7280"]),
             ["add_client_id_to_open_id_connect_provider", "update_open_id_connect_provider_thumbprint"])
    converge("iam_oidc_provider", dict(provider, client_ids=["web", "sts.amazonaws.com"], thumbprints=["9e99a48a9960b14926bb7f3b02e22da2b0ab7280"]), [])
    converge("iam_oidc_provider", dict(url=issuer, state="absent"), ["delete_open_id_connect_provider"])
    assert boto3.client("iam", region_name=REGION).list_open_id_connect_providers()["OpenIDConnectProviderList"] == []
    result = run_module("iam_oidc_provider", dict(url="http://insecure.example"))
    assert result["failed"] and result["msg"].startswith("url: ")


# ---------------------------------------------------------------- updates that take time

@pytest.fixture
def slow_emulator(aws, monkeypatch):  # pylint: disable=unused-argument
    """A second emulator whose EKS updates stay InProgress for 1.5 s, as real ones stay for minutes."""
    port = int(aws.rsplit(":", 1)[1]) + 9  # inside this run's own block of ten ports (MSA_EMULATOR_PORT)
    monkeypatch.setenv("MSA_EMULATOR_EKS_UPDATE_SECONDS", "1.5")
    url = emulator.start(port)
    yield url
    emulator.stop(port)


def test_updates_run_one_after_the_other_waiting_for_each(slow_emulator):  # pylint: disable=redefined-outer-name
    client = boto3.client("eks", region_name=REGION, endpoint_url=slow_emulator)
    at = {"endpoint_url": slow_emulator}
    converge("eks_cluster", dict(CLUSTER, **at), ["create_cluster"])
    converge("eks_nodegroup", dict(NODEGROUP, **at), ["create_nodegroup"])
    started = time.monotonic()
    client.update_nodegroup_config(clusterName="courm", nodegroupName="auth", labels={"addOrUpdateLabels": {"x": "y"}})  # someone else's
    converge("eks_nodegroup", dict(NODEGROUP, **at), ["update_nodegroup_config"])  # waits for it, then removes x
    assert time.monotonic() - started >= 1.5
    converge("eks_nodegroup", dict(NODEGROUP, version="1.33", **at), [])
    started = time.monotonic()
    done = converge("eks_cluster", dict(CLUSTER, version="1.34", logging=["api"], **at), ["update_cluster_version", "update_cluster_config"])
    assert time.monotonic() - started >= 3.0  # two updates of 1.5 s, the second only after the first finished
    assert done["cluster"]["version"] == "1.34" and done["cluster"]["status"] == "ACTIVE"  # the last update is waited for too
    statuses = [client.describe_update(name="courm", updateId=u)["update"]["status"] for u in client.list_updates(name="courm")["updateIds"]]
    assert statuses == ["Successful", "Successful"]
