"""The emulator's EKS and IAM OIDC extensions (scripts/moto_ext), each handler on its own through boto3 against
moto's in-process mock with the extensions applied: request/response fields and error codes as the AWS EKS
API reference documents them."""
from __future__ import annotations

import os
import time

import boto3
import moto_ext
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.eks.models import eks_backends
from moto_ext import eks as ext

ROLE = "arn:aws:iam::123456789012:role/eks-cluster"
NODE_ROLE = "arn:aws:iam::123456789012:role/eks-node"
ADMIN = "arn:aws:iam::123456789012:role/platform/admin"
VIEW = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy"
CLUSTER_ADMIN = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"

moto_ext.apply_all()


@pytest.fixture(scope="module")
def mocked():
    """One in-process mock for the file (starting one costs seconds); each test resets the EKS backend."""
    endpoint = os.environ.pop("AWS_ENDPOINT_URL", None)
    with mock_aws():
        yield
    if endpoint:
        os.environ["AWS_ENDPOINT_URL"] = endpoint


@pytest.fixture
def eks(mocked, monkeypatch):  # pylint: disable=redefined-outer-name,unused-argument
    monkeypatch.setattr(ext, "UPDATE_SECONDS", 0.0)
    eks_backends["123456789012"]["ap-northeast-2"].reset()
    return boto3.client("eks", region_name="ap-northeast-2")


def code(err: pytest.ExceptionInfo) -> str:
    return err.value.response["Error"]["Code"]


def cluster(eks, name="c1", version="1.33", mode="API", **extra):
    return eks.create_cluster(name=name, version=version, roleArn=ROLE, resourcesVpcConfig={"subnetIds": ["subnet-1"]},
                              accessConfig={"authenticationMode": mode}, **extra)["cluster"]


def nodegroup(eks, name="ng", **extra):
    args = dict(clusterName="c1", nodegroupName=name, nodeRole=NODE_ROLE, subnets=["subnet-1"], amiType="AL2023_x86_64_STANDARD")
    return eks.create_nodegroup(**{**args, **extra})["nodegroup"]


# ---------------------------------------------------------------- CreateCluster / DescribeCluster

def test_create_cluster_stores_and_returns_access_config_and_endpoint_defaults(eks):
    created = cluster(eks, mode="API_AND_CONFIG_MAP")
    described = eks.describe_cluster(name="c1")["cluster"]
    for answer in (created, described):
        assert answer["accessConfig"] == {"authenticationMode": "API_AND_CONFIG_MAP", "bootstrapClusterCreatorAdminPermissions": True}
        assert answer["resourcesVpcConfig"]["endpointPublicAccess"] is True
        assert answer["resourcesVpcConfig"]["endpointPrivateAccess"] is False
        assert answer["resourcesVpcConfig"]["publicAccessCidrs"] == ["0.0.0.0/0"]
    assert described["version"] == "1.33"


def test_each_cluster_gets_its_own_oidc_issuer(eks):
    one, two = cluster(eks, "a"), cluster(eks, "b")
    issuers = {c["identity"]["oidc"]["issuer"] for c in (one, two)}
    assert len(issuers) == 2
    assert all(i.startswith("https://oidc.eks.ap-northeast-2.amazonaws.com/id/") and len(i.rsplit("/", 1)[1]) == 32 for i in issuers)


def test_default_authentication_mode_is_config_map_and_refuses_no_bootstrap(eks):
    made = eks.create_cluster(name="c0", roleArn=ROLE, resourcesVpcConfig={})["cluster"]
    assert made["accessConfig"]["authenticationMode"] == "CONFIG_MAP"
    with pytest.raises(ClientError) as err:
        eks.create_cluster(name="c9", roleArn=ROLE, resourcesVpcConfig={},
                           accessConfig={"authenticationMode": "CONFIG_MAP", "bootstrapClusterCreatorAdminPermissions": False})
    assert code(err) == "InvalidParameterException"


def test_unsupported_version_and_closed_endpoints_are_refused(eks):
    with pytest.raises(ClientError) as err:
        cluster(eks, version="1.20")
    assert code(err) == "InvalidParameterException" and "1.20" in str(err.value)
    with pytest.raises(ClientError) as err:
        eks.create_cluster(name="c2", roleArn=ROLE, resourcesVpcConfig={"endpointPublicAccess": False, "endpointPrivateAccess": False})
    assert code(err) == "InvalidParameterException"


def test_bootstrap_gives_the_creator_a_cluster_admin_entry_in_api_mode_only(eks):
    cluster(eks, "api", mode="API")
    cluster(eks, "cm", mode="CONFIG_MAP")
    creator = eks.list_access_entries(clusterName="api")["accessEntries"]
    assert creator == ["arn:aws:iam::123456789012:user/moto"]
    policies = eks.list_associated_access_policies(clusterName="api", principalArn=creator[0])["associatedAccessPolicies"]
    assert [p["policyArn"] for p in policies] == [CLUSTER_ADMIN]
    with pytest.raises(ClientError) as err:
        eks.list_access_entries(clusterName="cm")
    assert code(err) == "InvalidRequestException"


# ---------------------------------------------------------------- UpdateClusterConfig

def test_update_cluster_config_endpoint_access(eks):
    cluster(eks)
    update = eks.update_cluster_config(name="c1", resourcesVpcConfig={"endpointPrivateAccess": True, "publicAccessCidrs": ["203.0.113.0/24"]})["update"]
    assert update["type"] == "EndpointAccessUpdate" and update["status"] == "InProgress"
    assert {p["type"] for p in update["params"]} == {"EndpointPublicAccess", "EndpointPrivateAccess", "PublicAccessCidrs"}
    vpc = eks.describe_cluster(name="c1")["cluster"]["resourcesVpcConfig"]
    assert vpc["endpointPrivateAccess"] is True and vpc["publicAccessCidrs"] == ["203.0.113.0/24"]
    with pytest.raises(ClientError) as err:  # the same again: nothing to do
        eks.update_cluster_config(name="c1", resourcesVpcConfig={"endpointPrivateAccess": True})
    assert code(err) == "InvalidParameterException"
    with pytest.raises(ClientError) as err:
        eks.update_cluster_config(name="c1", resourcesVpcConfig={"endpointPrivateAccess": False, "endpointPublicAccess": False})
    assert code(err) == "InvalidParameterException"


def test_update_cluster_config_takes_one_kind_of_update(eks):
    cluster(eks)
    with pytest.raises(ClientError) as err:
        eks.update_cluster_config(name="c1", resourcesVpcConfig={"endpointPrivateAccess": True},
                                  logging={"clusterLogging": [{"types": ["api"], "enabled": True}]})
    assert code(err) == "InvalidParameterException" and "Only one type of update" in str(err.value)


def test_update_cluster_config_logging(eks):
    cluster(eks)
    update = eks.update_cluster_config(name="c1", logging={"clusterLogging": [{"types": ["api", "audit"], "enabled": True}]})["update"]
    assert update["type"] == "LoggingUpdate"
    logging = eks.describe_cluster(name="c1")["cluster"]["logging"]["clusterLogging"]
    assert {"types": ["api", "audit"], "enabled": True} in logging
    with pytest.raises(ClientError) as err:
        eks.update_cluster_config(name="c1", logging={"clusterLogging": [{"types": ["kubelet"], "enabled": True}]})
    assert code(err) == "InvalidParameterException"


def test_authentication_mode_moves_only_towards_api(eks):
    cluster(eks, mode="CONFIG_MAP")
    update = eks.update_cluster_config(name="c1", accessConfig={"authenticationMode": "API_AND_CONFIG_MAP"})["update"]
    assert update["type"] == "AccessConfigUpdate" and update["params"] == [{"type": "AuthenticationMode", "value": "API_AND_CONFIG_MAP"}]
    assert eks.describe_cluster(name="c1")["cluster"]["accessConfig"]["authenticationMode"] == "API_AND_CONFIG_MAP"
    with pytest.raises(ClientError) as err:
        eks.update_cluster_config(name="c1", accessConfig={"authenticationMode": "CONFIG_MAP"})
    assert code(err) == "InvalidParameterException" and "API_AND_CONFIG_MAP to CONFIG_MAP" in str(err.value)


# ---------------------------------------------------------------- UpdateClusterVersion, DescribeUpdate, ListUpdates

def test_update_cluster_version_one_minor_at_a_time(eks):
    cluster(eks)
    with pytest.raises(ClientError) as err:
        eks.update_cluster_version(name="c1", version="1.35")
    assert code(err) == "InvalidParameterException" and "1.33 to 1.35" in str(err.value)
    with pytest.raises(ClientError) as err:
        eks.update_cluster_version(name="c1", version="1.32")
    assert code(err) == "InvalidParameterException"
    update = eks.update_cluster_version(name="c1", version="1.34")["update"]
    assert update["type"] == "VersionUpdate" and {"type": "Version", "value": "1.34"} in update["params"]
    assert eks.describe_cluster(name="c1")["cluster"]["version"] == "1.34"
    assert eks.describe_update(name="c1", updateId=update["id"])["update"]["status"] == "Successful"
    assert eks.list_updates(name="c1")["updateIds"] == [update["id"]]


def test_a_running_update_blocks_the_next_and_shows_updating(eks, monkeypatch):
    cluster(eks)
    monkeypatch.setattr(ext, "UPDATE_SECONDS", 60.0)
    update = eks.update_cluster_version(name="c1", version="1.34")["update"]
    assert eks.describe_cluster(name="c1")["cluster"]["status"] == "UPDATING"
    assert eks.describe_update(name="c1", updateId=update["id"])["update"]["status"] == "InProgress"
    with pytest.raises(ClientError) as err:
        eks.update_cluster_config(name="c1", resourcesVpcConfig={"endpointPrivateAccess": True})
    assert code(err) == "ResourceInUseException"
    monkeypatch.setattr(ext, "UPDATE_SECONDS", 0.2)
    cluster(eks, "c2")
    update = eks.update_cluster_version(name="c2", version="1.34")["update"]
    assert eks.describe_cluster(name="c2")["cluster"]["status"] == "UPDATING"
    time.sleep(0.3)
    assert eks.describe_cluster(name="c2")["cluster"]["status"] == "ACTIVE"
    assert eks.describe_update(name="c2", updateId=update["id"])["update"]["status"] == "Successful"


def test_control_plane_waits_for_node_groups_to_catch_up(eks):
    cluster(eks)
    nodegroup(eks)
    eks.update_cluster_version(name="c1", version="1.34")
    with pytest.raises(ClientError) as err:
        eks.update_cluster_version(name="c1", version="1.35")
    assert code(err) == "InvalidRequestException" and "Nodegroup ng" in str(err.value)


def test_describe_update_of_unknown_id_is_not_found(eks):
    cluster(eks)
    with pytest.raises(ClientError) as err:
        eks.describe_update(name="c1", updateId="nope")
    assert code(err) == "ResourceNotFoundException"


# ---------------------------------------------------------------- node groups

def test_create_nodegroup_keeps_update_config_and_follows_the_cluster_version(eks):
    cluster(eks)
    made = nodegroup(eks, updateConfig={"maxUnavailablePercentage": 25})
    described = eks.describe_nodegroup(clusterName="c1", nodegroupName="ng")["nodegroup"]
    assert made["updateConfig"] == described["updateConfig"] == {"maxUnavailablePercentage": 25}
    assert described["version"] == "1.33"
    other = nodegroup(eks, "default-update")
    assert other["updateConfig"] == {"maxUnavailable": 1}


def test_node_groups_do_not_share_scaling_config(eks):
    cluster(eks)
    nodegroup(eks, "a")
    nodegroup(eks, "b")
    eks.update_nodegroup_config(clusterName="c1", nodegroupName="a", scalingConfig={"minSize": 1, "maxSize": 5, "desiredSize": 4})
    assert eks.describe_nodegroup(clusterName="c1", nodegroupName="b")["nodegroup"]["scalingConfig"]["desiredSize"] == 2


def test_create_nodegroup_refuses_al2_on_133_bad_taints_and_bad_sizes(eks):
    cluster(eks)
    for extra in ({"amiType": "AL2_x86_64"}, {"taints": [{"key": "a", "effect": "NoSchedule"}]},
                  {"scalingConfig": {"minSize": 3, "maxSize": 2, "desiredSize": 2}},
                  {"updateConfig": {"maxUnavailable": 1, "maxUnavailablePercentage": 10}}, {"version": "1.34"}):
        with pytest.raises(ClientError) as err:
            nodegroup(eks, **extra)
        assert code(err) == "InvalidParameterException", extra


def test_update_nodegroup_config_labels_taints_scaling_in_one_update(eks):
    cluster(eks)
    nodegroup(eks, labels={"api": "auth", "old": "x"}, taints=[{"key": "dedicated", "value": "auth", "effect": "NO_SCHEDULE"}])
    update = eks.update_nodegroup_config(
        clusterName="c1", nodegroupName="ng",
        labels={"addOrUpdateLabels": {"api": "orders"}, "removeLabels": ["old"]},
        taints={"addOrUpdateTaints": [{"key": "dedicated", "value": "orders", "effect": "NO_SCHEDULE"}],
                "removeTaints": [{"key": "gpu", "effect": "NO_EXECUTE"}]},
        scalingConfig={"desiredSize": 1}, updateConfig={"maxUnavailable": 2})["update"]
    assert update["type"] == "ConfigUpdate" and update["status"] == "InProgress"
    assert {p["type"] for p in update["params"]} >= {"LabelsToAdd", "LabelsToRemove", "TaintsToAdd", "TaintsToRemove", "DesiredSize", "MaxUnavailable"}
    described = eks.describe_nodegroup(clusterName="c1", nodegroupName="ng")["nodegroup"]
    assert described["labels"] == {"api": "orders"}
    assert described["taints"] == [{"key": "dedicated", "value": "orders", "effect": "NO_SCHEDULE"}]
    assert described["scalingConfig"]["desiredSize"] == 1 and described["updateConfig"] == {"maxUnavailable": 2}
    assert eks.list_updates(name="c1", nodegroupName="ng")["updateIds"] == [update["id"]]
    assert eks.describe_update(name="c1", updateId=update["id"], nodegroupName="ng")["update"]["status"] == "Successful"


def test_update_nodegroup_config_refuses_nothing_and_bad_sizes(eks):
    cluster(eks)
    nodegroup(eks)
    with pytest.raises(ClientError) as err:
        eks.update_nodegroup_config(clusterName="c1", nodegroupName="ng")
    assert code(err) == "InvalidParameterException"
    with pytest.raises(ClientError) as err:
        eks.update_nodegroup_config(clusterName="c1", nodegroupName="ng", scalingConfig={"desiredSize": 9})
    assert code(err) == "InvalidParameterException"


def test_update_nodegroup_version_only_to_the_cluster_version(eks):
    cluster(eks)
    nodegroup(eks)
    with pytest.raises(ClientError) as err:  # already there
        eks.update_nodegroup_version(clusterName="c1", nodegroupName="ng")
    assert code(err) == "InvalidParameterException"
    eks.update_cluster_version(name="c1", version="1.34")
    with pytest.raises(ClientError) as err:
        eks.update_nodegroup_version(clusterName="c1", nodegroupName="ng", version="1.35")
    assert code(err) == "InvalidParameterException"
    update = eks.update_nodegroup_version(clusterName="c1", nodegroupName="ng", version="1.34")["update"]
    assert update["type"] == "VersionUpdate"
    described = eks.describe_nodegroup(clusterName="c1", nodegroupName="ng")["nodegroup"]
    assert described["version"] == "1.34" and described["releaseVersion"].startswith("1.34.")


def test_a_running_nodegroup_update_blocks_the_next(eks, monkeypatch):
    cluster(eks)
    nodegroup(eks)
    monkeypatch.setattr(ext, "UPDATE_SECONDS", 60.0)
    eks.update_nodegroup_config(clusterName="c1", nodegroupName="ng", labels={"addOrUpdateLabels": {"a": "b"}})
    assert eks.describe_nodegroup(clusterName="c1", nodegroupName="ng")["nodegroup"]["status"] == "UPDATING"
    with pytest.raises(ClientError) as err:
        eks.update_nodegroup_config(clusterName="c1", nodegroupName="ng", labels={"addOrUpdateLabels": {"c": "d"}})
    assert code(err) == "ResourceInUseException"


# ---------------------------------------------------------------- add-ons

def test_describe_addon_versions_per_kubernetes_version(eks):
    addons = eks.describe_addon_versions(kubernetesVersion="1.34")["addons"]
    assert {a["addonName"] for a in addons} == {"vpc-cni", "coredns", "kube-proxy", "aws-ebs-csi-driver", "eks-pod-identity-agent"}
    proxy = next(a for a in addons if a["addonName"] == "kube-proxy")
    assert proxy["owner"] == "aws" and proxy["type"] == "networking"
    defaults = [v["addonVersion"] for v in proxy["addonVersions"] for c in v["compatibilities"] if c["defaultVersion"]]
    assert defaults == ["v1.34.0-eksbuild.1"]
    assert all(c["clusterVersion"] == "1.34" for v in proxy["addonVersions"] for c in v["compatibilities"])
    one = eks.describe_addon_versions(addonName="coredns")["addons"]
    assert [a["addonName"] for a in one] == ["coredns"]


def test_addon_lifecycle(eks):
    cluster(eks)
    made = eks.create_addon(clusterName="c1", addonName="aws-ebs-csi-driver", serviceAccountRoleArn=ROLE,
                            configurationValues='{"controller": {"replicaCount": 1}}', tags={"msa:platform": "x"})["addon"]
    assert made["status"] == "CREATING" and made["addonVersion"] == "v1.48.0-eksbuild.2"
    described = eks.describe_addon(clusterName="c1", addonName="aws-ebs-csi-driver")["addon"]
    assert described["status"] == "ACTIVE" and described["serviceAccountRoleArn"] == ROLE and described["tags"] == {"msa:platform": "x"}
    assert eks.list_addons(clusterName="c1")["addons"] == ["aws-ebs-csi-driver"]
    update = eks.update_addon(clusterName="c1", addonName="aws-ebs-csi-driver", addonVersion="v1.50.1-eksbuild.1",
                              resolveConflicts="OVERWRITE")["update"]
    assert update["type"] == "AddonUpdate" and {"type": "AddonVersion", "value": "v1.50.1-eksbuild.1"} in update["params"]
    assert eks.describe_update(name="c1", updateId=update["id"], addonName="aws-ebs-csi-driver")["update"]["status"] == "Successful"
    deleted = eks.delete_addon(clusterName="c1", addonName="aws-ebs-csi-driver")["addon"]
    assert deleted["status"] == "DELETING"
    with pytest.raises(ClientError) as err:
        eks.describe_addon(clusterName="c1", addonName="aws-ebs-csi-driver")
    assert code(err) == "ResourceNotFoundException"


def test_addon_errors(eks):
    cluster(eks)
    eks.create_addon(clusterName="c1", addonName="coredns")
    cases = [
        (dict(addonName="coredns"), "ResourceInUseException"),
        (dict(addonName="not-an-addon"), "InvalidParameterException"),
        (dict(addonName="kube-proxy", addonVersion="v1.20.0-eksbuild.1"), "InvalidParameterException"),
        (dict(addonName="vpc-cni", configurationValues="[1, 2]"), "InvalidParameterException"),
        (dict(addonName="vpc-cni", serviceAccountRoleArn="role"), "InvalidParameterException"),
        (dict(addonName="vpc-cni", clusterName="c9"), "ResourceNotFoundException"),
    ]
    for request, expected in cases:
        with pytest.raises(ClientError) as err:
            eks.create_addon(**{"clusterName": "c1", **request})
        assert code(err) == expected, request


def test_a_running_addon_update_blocks_the_next(eks, monkeypatch):
    cluster(eks)
    eks.create_addon(clusterName="c1", addonName="coredns")
    monkeypatch.setattr(ext, "UPDATE_SECONDS", 60.0)
    eks.update_addon(clusterName="c1", addonName="coredns", configurationValues='{"replicaCount": 3}')
    assert eks.describe_addon(clusterName="c1", addonName="coredns")["addon"]["status"] == "UPDATING"
    with pytest.raises(ClientError) as err:
        eks.update_addon(clusterName="c1", addonName="coredns", configurationValues='{"replicaCount": 4}')
    assert code(err) == "ResourceInUseException"


# ---------------------------------------------------------------- access entries

def test_access_entry_lifecycle(eks):
    cluster(eks)
    made = eks.create_access_entry(clusterName="c1", principalArn=ADMIN, kubernetesGroups=["ops"], tags={"t": "1"})["accessEntry"]
    assert made["type"] == "STANDARD" and made["kubernetesGroups"] == ["ops"]
    assert made["username"] == "arn:aws:sts::123456789012:assumed-role/admin/{{SessionName}}"
    assert made["accessEntryArn"].startswith("arn:aws:eks:ap-northeast-2:123456789012:access-entry/c1/role/123456789012/admin/")
    assert eks.describe_access_entry(clusterName="c1", principalArn=ADMIN)["accessEntry"]["tags"] == {"t": "1"}
    updated = eks.update_access_entry(clusterName="c1", principalArn=ADMIN, kubernetesGroups=["ops", "dev"], username="admin")["accessEntry"]
    assert updated["kubernetesGroups"] == ["ops", "dev"] and updated["username"] == "admin"
    assert ADMIN in eks.list_access_entries(clusterName="c1")["accessEntries"]
    eks.delete_access_entry(clusterName="c1", principalArn=ADMIN)
    with pytest.raises(ClientError) as err:
        eks.describe_access_entry(clusterName="c1", principalArn=ADMIN)
    assert code(err) == "ResourceNotFoundException"


def test_access_entry_errors(eks):
    cluster(eks)
    eks.create_access_entry(clusterName="c1", principalArn=ADMIN)
    cases = [
        (dict(principalArn=ADMIN), "ResourceInUseException"),
        (dict(principalArn="arn:aws:s3:::bucket"), "InvalidParameterException"),
        (dict(principalArn=NODE_ROLE, type="EC2_LINUX", kubernetesGroups=["x"]), "InvalidParameterException"),
        (dict(principalArn=NODE_ROLE, kubernetesGroups=["system:masters"]), "InvalidParameterException"),
    ]
    for request, expected in cases:
        with pytest.raises(ClientError) as err:
            eks.create_access_entry(clusterName="c1", **request)
        assert code(err) == expected, request
    node = eks.create_access_entry(clusterName="c1", principalArn=NODE_ROLE, type="EC2_LINUX")["accessEntry"]
    assert node["username"] == "system:node:{{EC2PrivateDNSName}}"


def test_access_policies_associate_rescope_list_disassociate(eks):
    cluster(eks)
    eks.create_access_entry(clusterName="c1", principalArn=ADMIN)
    first = eks.associate_access_policy(clusterName="c1", principalArn=ADMIN, policyArn=VIEW,
                                        accessScope={"type": "namespace", "namespaces": ["a"]})
    assert first["clusterName"] == "c1" and first["principalArn"] == ADMIN
    assert first["associatedAccessPolicy"]["accessScope"] == {"type": "namespace", "namespaces": ["a"]}
    again = eks.associate_access_policy(clusterName="c1", principalArn=ADMIN, policyArn=VIEW, accessScope={"type": "cluster"})
    assert again["associatedAccessPolicy"]["associatedAt"] == first["associatedAccessPolicy"]["associatedAt"]
    listed = eks.list_associated_access_policies(clusterName="c1", principalArn=ADMIN)["associatedAccessPolicies"]
    assert [(p["policyArn"], p["accessScope"]["type"]) for p in listed] == [(VIEW, "cluster")]
    assert eks.list_access_entries(clusterName="c1", associatedPolicyArn=VIEW)["accessEntries"] == [ADMIN]
    eks.disassociate_access_policy(clusterName="c1", principalArn=ADMIN, policyArn=VIEW)
    with pytest.raises(ClientError) as err:
        eks.disassociate_access_policy(clusterName="c1", principalArn=ADMIN, policyArn=VIEW)
    assert code(err) == "ResourceNotFoundException"
    for policy, scope in ((VIEW, {"type": "namespace"}), (VIEW, {"type": "cluster", "namespaces": ["a"]}),
                          ("arn:aws:eks::aws:cluster-access-policy/NoSuchPolicy", {"type": "cluster"})):
        with pytest.raises(ClientError) as err:
            eks.associate_access_policy(clusterName="c1", principalArn=ADMIN, policyArn=policy, accessScope=scope)
        assert code(err) == "InvalidParameterException", (policy, scope)


def test_list_access_policies(eks):
    policies = eks.list_access_policies()["accessPolicies"]
    assert {"name": "AmazonEKSClusterAdminPolicy", "arn": CLUSTER_ADMIN} in policies


# ---------------------------------------------------------------- tags

def test_tags_on_cluster_nodegroup_addon_and_access_entry(eks):
    arns = [cluster(eks)["arn"], nodegroup(eks)["nodegroupArn"],
            eks.create_addon(clusterName="c1", addonName="vpc-cni")["addon"]["addonArn"],
            eks.create_access_entry(clusterName="c1", principalArn=ADMIN)["accessEntry"]["accessEntryArn"]]
    for arn in arns:
        eks.tag_resource(resourceArn=arn, tags={"a": "1", "b": "2"})
        eks.untag_resource(resourceArn=arn, tagKeys=["a"])
        assert eks.list_tags_for_resource(resourceArn=arn)["tags"] == {"b": "2"}, arn
    assert eks.describe_nodegroup(clusterName="c1", nodegroupName="ng")["nodegroup"]["tags"] == {"b": "2"}
    with pytest.raises(ClientError) as err:
        eks.tag_resource(resourceArn=arns[0], tags={"aws:reserved": "x"})
    assert code(err) == "InvalidParameterException"
    with pytest.raises(ClientError) as err:
        eks.list_tags_for_resource(resourceArn="arn:aws:eks:ap-northeast-2:123456789012:cluster/none")
    assert code(err) == "ResourceNotFoundException"


# ---------------------------------------------------------------- IAM OIDC client IDs

def test_oidc_provider_client_ids(mocked):  # pylint: disable=redefined-outer-name,unused-argument
    iam = boto3.client("iam", region_name="ap-northeast-2")
    arn = iam.create_open_id_connect_provider(Url="https://oidc.example/id/1", ClientIDList=["sts.amazonaws.com"],
                                              ThumbprintList=["a" * 40])["OpenIDConnectProviderArn"]
    iam.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="web")
    iam.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="web")
    assert iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)["ClientIDList"] == ["sts.amazonaws.com", "web"]
    iam.remove_client_id_from_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="sts.amazonaws.com")
    assert iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)["ClientIDList"] == ["web"]
    with pytest.raises(ClientError) as err:
        iam.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=arn + "x", ClientID="web")
    assert code(err) == "NoSuchEntity"


def test_cluster_vpc_id_comes_from_its_subnets(eks):
    ec2 = boto3.client("ec2", region_name="ap-northeast-2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    made = eks.create_cluster(name="c1", roleArn=ROLE, resourcesVpcConfig={"subnetIds": [subnet]})["cluster"]
    assert made["resourcesVpcConfig"]["vpcId"] == vpc
