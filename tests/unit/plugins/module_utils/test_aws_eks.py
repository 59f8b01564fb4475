"""The pure EKS diff logic of plugins/module_utils/aws/eks.py: what calls a desired state needs, and which
changes are refused (naming the option) before anything in AWS is touched."""
from __future__ import annotations

import pytest
from ansible_collections.msa.platform.plugins.module_utils.aws import eks

CLUSTER = {
    "name": "courm", "version": "1.33", "roleArn": "arn:aws:iam::1:role/cluster", "status": "ACTIVE",
    "resourcesVpcConfig": {"subnetIds": ["s-1", "s-2"], "securityGroupIds": [], "endpointPublicAccess": True,
                           "endpointPrivateAccess": False, "publicAccessCidrs": ["0.0.0.0/0"]},
    "kubernetesNetworkConfig": {"serviceIpv4Cidr": "172.20.0.0/16"},
    "logging": {"clusterLogging": [{"types": ["api"], "enabled": True},
                                   {"types": ["audit", "authenticator", "controllerManager", "scheduler"], "enabled": False}]},
    "accessConfig": {"authenticationMode": "API_AND_CONFIG_MAP", "bootstrapClusterCreatorAdminPermissions": True},
    "tags": {"msa:platform": "courm"},
}
NODEGROUP = {
    "clusterName": "courm", "nodegroupName": "auth", "version": "1.33", "releaseVersion": "1.33.0-1", "status": "ACTIVE",
    "instanceTypes": ["t3.large"], "capacityType": "ON_DEMAND", "amiType": "AL2023_x86_64_STANDARD", "nodeRole": "arn:aws:iam::1:role/node",
    "subnets": ["s-1", "s-2"], "scalingConfig": {"minSize": 1, "maxSize": 3, "desiredSize": 2},
    "labels": {"api": "auth", "workload": "api"},
    "taints": [{"key": "dedicated", "value": "auth", "effect": "NO_SCHEDULE"}, {"key": "gpu", "effect": "NO_EXECUTE"}],
}


def fields(problems):
    """The option each problem names (the text before its first colon)."""
    return [p.split(":", maxsplit=1)[0] for p in problems]


def cluster_params(**overrides):
    base = {key: None for key in ("version", "role_arn", "subnets", "security_groups", "endpoint_private_access", "endpoint_public_access",
                                  "public_access_cidrs", "service_ipv4_cidr", "authentication_mode",
                                  "bootstrap_cluster_creator_admin_permissions", "logging", "tags")}
    return {"name": "courm", **base, **overrides}


def nodegroup_params(**overrides):
    base = {key: None for key in ("node_role_arn", "subnets", "instance_types", "capacity_type", "ami_type", "disk_size", "scaling",
                                  "labels", "taints", "launch_template", "version", "release_version", "update_config", "tags")}
    return {"cluster_name": "courm", "name": "auth", "ignore_desired_size": False, **base, **overrides}


# ---------------------------------------------------------------- versions

@pytest.mark.parametrize(("current", "desired", "step", "problem"), [
    ("1.33", None, None, None),
    ("1.33", "1.33", None, None),
    ("1.33", "1.34", "1.34", None),
    ("1.33", "1.35", None, "skips 1.34"),
    ("1.33", "1.32", None, "downgrade"),
    ("1.33", "2.0", None, "not a Kubernetes minor"),
    ("1.33", "1.3x", None, "not a Kubernetes minor"),
])
def test_version_step(current, desired, step, problem):
    got, problems = eks.version_step("version", current, desired)
    assert got == step
    assert (problem in problems[0]) if problem else problems == []
    if problem:
        assert problems[0].startswith("version: ")


def test_an_unquoted_yaml_version_is_caught():
    assert eks.minor("1.3") is None and eks.minor("1.30") == 30
    problems = eks.cluster_problems(cluster_params(version="1.3"))
    assert problems[0].startswith("version: '1.3' is not a Kubernetes version") and '"1.30"' in problems[0]
    assert eks.nodegroup_problems(nodegroup_params(version="1.3"))[0].startswith("version: '1.3'")


def test_a_skip_names_both_versions_and_the_next_step():
    _step, problems = eks.version_step("version", "1.31", "1.34")
    assert "1.31 -> 1.34" in problems[0] and "Set version to 1.32 first" in problems[0]


# ---------------------------------------------------------------- clusters

def test_converged_cluster_needs_no_call():
    params = cluster_params(version="1.33", role_arn=CLUSTER["roleArn"], subnets=["s-2", "s-1"], endpoint_public_access=True,
                            public_access_cidrs=[], service_ipv4_cidr="172.20.0.0/16", authentication_mode="API_AND_CONFIG_MAP",
                            logging=["api"])
    assert eks.cluster_updates(CLUSTER, params) == ([], [])


def test_each_kind_of_cluster_change_is_its_own_call_in_order():
    params = cluster_params(version="1.34", endpoint_private_access=True, public_access_cidrs=["203.0.113.0/24"],
                            security_groups=["sg-1"], logging=["api", "audit"], authentication_mode="API")
    calls, problems = eks.cluster_updates(CLUSTER, params)
    assert problems == []
    assert calls == [
        ("update_cluster_version", {"name": "courm", "version": "1.34"}),
        ("update_cluster_config", {"name": "courm", "resourcesVpcConfig": {"endpointPrivateAccess": True, "publicAccessCidrs": ["203.0.113.0/24"]}}),
        ("update_cluster_config", {"name": "courm", "resourcesVpcConfig": {"securityGroupIds": ["sg-1"], "subnetIds": ["s-1", "s-2"]}}),
        ("update_cluster_config", {"name": "courm", "logging": {"clusterLogging": [
            {"types": ["api", "audit"], "enabled": True}, {"types": ["authenticator", "controllerManager", "scheduler"], "enabled": False}]}}),
        ("update_cluster_config", {"name": "courm", "accessConfig": {"authenticationMode": "API"}}),
    ]
    after = eks.apply_cluster_calls(eks.cluster_view(CLUSTER), calls)
    assert after["version"] == "1.34" and after["logging"] == ["api", "audit"] and after["authentication_mode"] == "API"
    assert after["security_groups"] == ["sg-1"] and after["endpoint_private_access"] is True


def test_config_map_to_api_takes_both_steps():
    cluster = dict(CLUSTER, accessConfig={"authenticationMode": "CONFIG_MAP"})
    calls, _problems = eks.cluster_updates(cluster, cluster_params(authentication_mode="API"))
    assert [c[1]["accessConfig"]["authenticationMode"] for c in calls] == ["API_AND_CONFIG_MAP", "API"]


def test_immutable_cluster_fields_are_refused_all_at_once_naming_each_option():
    params = cluster_params(role_arn="arn:aws:iam::1:role/other", service_ipv4_cidr="10.100.0.0/16", version="1.35",
                            authentication_mode="CONFIG_MAP", bootstrap_cluster_creator_admin_permissions=False)
    calls, problems = eks.cluster_updates(CLUSTER, params)
    assert calls == []
    assert fields(problems) == ["role_arn", "service_ipv4_cidr", "version", "authentication_mode", "bootstrap_cluster_creator_admin_permissions"]


def test_public_cidrs_empty_means_everywhere_and_are_ignored_on_a_private_endpoint():
    assert eks.cluster_updates(CLUSTER, cluster_params(public_access_cidrs=[]))[0] == []
    private = cluster_params(endpoint_public_access=False, endpoint_private_access=True, public_access_cidrs=["10.0.0.0/8"])
    calls, _p = eks.cluster_updates(CLUSTER, private)
    vpc = {"endpointPublicAccess": False, "endpointPrivateAccess": True}
    assert calls == [("update_cluster_config", {"name": "courm", "resourcesVpcConfig": vpc})]


def test_cluster_input_problems():
    problems = eks.cluster_problems(cluster_params(version="latest", public_access_cidrs=["10.0.0.1/8", "nope"],
                                                   endpoint_public_access=False, endpoint_private_access=False))
    assert fields(problems) == [
        "version", "public_access_cidrs[0]", "public_access_cidrs[1]", "endpoint_public_access, endpoint_private_access", "public_access_cidrs",
    ]


def test_create_request_requires_role_and_subnets():
    request, problems = eks.cluster_create_request(cluster_params(version="1.34", authentication_mode="API", logging=[],
                                                                  bootstrap_cluster_creator_admin_permissions=True))
    assert problems == ["role_arn: required to create cluster courm", "subnets: required to create cluster courm"]
    assert request["accessConfig"] == {"authenticationMode": "API", "bootstrapClusterCreatorAdminPermissions": True}
    assert request["logging"] == {"clusterLogging": [{"types": list(eks.LOG_TYPES), "enabled": False}]}


# ---------------------------------------------------------------- tags

def test_tag_changes():
    assert eks.tag_changes({"a": "1", "b": "2", "aws:x": "y"}, {"a": "1", "c": 3}, purge=True) == ({"c": "3"}, ["b"])
    assert eks.tag_changes({"a": "1", "b": "2"}, {"a": "9"}, purge=False) == ({"a": "9"}, [])
    assert eks.tag_changes({"a": "1"}, None, purge=True) == ({}, [])


# ---------------------------------------------------------------- node groups

def test_taints_map_kubernetes_effects_and_missing_value_equals_empty():
    taints, problems = eks.normalize_taints([{"key": "a", "effect": "NoSchedule"}, {"key": "b", "value": None, "effect": "PREFER_NO_SCHEDULE"}])
    assert problems == []
    assert taints == [{"key": "a", "value": "", "effect": "NO_SCHEDULE"}, {"key": "b", "value": "", "effect": "PREFER_NO_SCHEDULE"}]


def test_taint_problems_name_the_item():
    _t, problems = eks.normalize_taints([{"key": "a", "effect": "Never"}, {"effect": "NoSchedule"}, "x",
                                         {"key": "c", "effect": "NoSchedule"}, {"key": "c", "value": "2", "effect": "NO_SCHEDULE"}])
    assert fields(problems) == ["taints[0].effect", "taints[1].key", "taints[2]", "taints[4]"]


def test_converged_nodegroup_needs_no_call_even_without_update_config():
    params = nodegroup_params(instance_types=["t3.large"], subnets=["s-2", "s-1"], labels={"api": "auth", "workload": "api"},
                              taints=[{"key": "dedicated", "value": "auth", "effect": "NoSchedule"}, {"key": "gpu", "value": "", "effect": "NoExecute"}],
                              scaling={"min_size": 1, "max_size": 3, "desired_size": 2}, version="1.33")
    assert "updateConfig" not in NODEGROUP
    assert eks.nodegroup_updates(NODEGROUP, params) == ([], [])


def test_label_taint_scaling_and_update_config_changes_go_in_one_call():
    params = nodegroup_params(labels={"api": "orders", "tier": "app"}, taints=[{"key": "dedicated", "value": "orders", "effect": "NoSchedule"}],
                              scaling={"min_size": 1, "max_size": 5, "desired_size": 4}, update_config={"max_unavailable_percentage": 25})
    calls, problems = eks.nodegroup_updates(NODEGROUP, params)
    assert problems == []
    assert calls == [("update_nodegroup_config", {
        "clusterName": "courm", "nodegroupName": "auth",
        "labels": {"addOrUpdateLabels": {"api": "orders", "tier": "app"}, "removeLabels": ["workload"]},
        "taints": {"addOrUpdateTaints": [{"key": "dedicated", "value": "orders", "effect": "NO_SCHEDULE"}],
                   "removeTaints": [{"key": "gpu", "effect": "NO_EXECUTE"}]},
        "scalingConfig": {"minSize": 1, "maxSize": 5, "desiredSize": 4},
        "updateConfig": {"maxUnavailablePercentage": 25},
    })]
    after = eks.nodegroup_view(eks.apply_nodegroup_calls(NODEGROUP, calls))
    assert after["labels"] == {"api": "orders", "tier": "app"}
    assert after["taints"] == [{"key": "dedicated", "value": "orders", "effect": "NO_SCHEDULE"}]
    assert after["scaling"]["desired_size"] == 4


def test_only_a_label_value_change_is_detected():
    calls, _p = eks.nodegroup_updates(NODEGROUP, nodegroup_params(labels={"api": "auth2", "workload": "api"}))
    assert calls[0][1]["labels"] == {"addOrUpdateLabels": {"api": "auth2"}}
    assert "taints" not in calls[0][1] and "scalingConfig" not in calls[0][1]


def test_a_taint_effect_change_removes_the_old_and_adds_the_new():
    params = nodegroup_params(taints=[{"key": "dedicated", "value": "auth", "effect": "NoExecute"}, {"key": "gpu", "effect": "NoExecute"}])
    calls, _p = eks.nodegroup_updates(NODEGROUP, params)
    assert calls[0][1]["taints"] == {"addOrUpdateTaints": [{"key": "dedicated", "value": "auth", "effect": "NO_EXECUTE"}],
                                     "removeTaints": [{"key": "dedicated", "value": "auth", "effect": "NO_SCHEDULE"}]}


def test_ignore_desired_size_keeps_the_autoscaler_value_unless_out_of_bounds():
    scaled = dict(NODEGROUP, scalingConfig={"minSize": 1, "maxSize": 3, "desiredSize": 3})
    params = nodegroup_params(scaling={"min_size": 1, "max_size": 3, "desired_size": 1}, ignore_desired_size=True)
    assert eks.nodegroup_updates(scaled, params) == ([], [])
    calls, _p = eks.nodegroup_updates(scaled, dict(params, scaling={"min_size": 1, "max_size": 2, "desired_size": 1}))
    assert calls[0][1]["scalingConfig"] == {"minSize": 1, "maxSize": 2, "desiredSize": 2}
    calls, _p = eks.nodegroup_updates(scaled, dict(params, ignore_desired_size=False))
    assert calls[0][1]["scalingConfig"]["desiredSize"] == 1


def test_immutable_nodegroup_fields_are_refused_naming_each_option():
    params = nodegroup_params(instance_types=["m5.large"], subnets=["s-9"], capacity_type="SPOT", ami_type="AL2023_ARM_64_STANDARD",
                              node_role_arn="arn:aws:iam::1:role/other", launch_template={"name": "lt"}, labels={"x": "y"})
    calls, problems = eks.nodegroup_updates(NODEGROUP, params)
    assert calls == []
    assert fields(problems) == ["instance_types", "capacity_type", "ami_type", "node_role_arn", "subnets", "launch_template"]
    assert all("cannot change" in p and "Create a node group" in p for p in problems)


def test_nodegroup_version_follows_the_cluster_only():
    calls, problems = eks.nodegroup_updates(NODEGROUP, nodegroup_params(version="1.34"), cluster_version="1.33")
    assert calls == [] and "before cluster courm (at 1.33) is upgraded" in problems[0]
    calls, problems = eks.nodegroup_updates(NODEGROUP, nodegroup_params(version="1.34"), cluster_version="1.34")
    assert calls == [("update_nodegroup_version", {"clusterName": "courm", "nodegroupName": "auth", "version": "1.34"})]


def test_launch_template_version_change_is_a_version_update():
    group = dict(NODEGROUP, launchTemplate={"id": "lt-1", "name": "auth", "version": "1"})
    calls, problems = eks.nodegroup_updates(group, nodegroup_params(launch_template={"name": "auth", "version": "2"}))
    assert problems == []
    assert calls == [("update_nodegroup_version", {"clusterName": "courm", "nodegroupName": "auth",
                                                   "launchTemplate": {"name": "auth", "version": "2"}})]


def test_nodegroup_input_problems():
    problems = eks.nodegroup_problems(nodegroup_params(
        version="x", taints=[{"key": "a", "effect": "Bad"}], scaling={"min_size": 3, "max_size": 2, "desired_size": 5},
        update_config={"max_unavailable": 1, "max_unavailable_percentage": 5}, launch_template={"version": "1"},
        labels={"a": {"nested": 1}}))
    assert fields(problems) == ["version", "taints[0].effect", "scaling.min_size", "scaling.desired_size", "update_config", "launch_template", "labels.a"]


def test_nodegroup_create_request():
    request, problems = eks.nodegroup_create_request(nodegroup_params(
        node_role_arn="arn:aws:iam::1:role/node", subnets=["s-1"], taints=[{"key": "a", "value": "", "effect": "NoSchedule"}],
        labels={"n": 1}, scaling={"min_size": 3, "max_size": 4}, launch_template={"id": "lt-1", "version": 5},
        update_config={"max_unavailable": 2}, ami_type="AL2023_x86_64_STANDARD"))
    assert problems == []
    assert request["taints"] == [{"key": "a", "effect": "NO_SCHEDULE"}]
    assert request["labels"] == {"n": "1"}
    assert request["scalingConfig"] == {"minSize": 3, "maxSize": 4, "desiredSize": 3}
    assert request["launchTemplate"] == {"id": "lt-1", "version": "5"}
    assert request["updateConfig"] == {"maxUnavailable": 2}
    _request, problems = eks.nodegroup_create_request(nodegroup_params())
    assert problems == ["node_role_arn: required to create node group auth", "subnets: required to create node group auth"]


# ---------------------------------------------------------------- add-ons

CATALOGUE = [{"addonName": "coredns", "addonVersions": [
    {"addonVersion": "v1.12.4-eksbuild.14", "compatibilities": [{"clusterVersion": "1.34", "defaultVersion": False}]},
    {"addonVersion": "v1.12.3-eksbuild.1", "compatibilities": [
        {"clusterVersion": "1.34", "defaultVersion": True}, {"clusterVersion": "1.33", "defaultVersion": True}]},
    {"addonVersion": "v1.11.4-eksbuild.2", "compatibilities": [{"clusterVersion": "1.33", "defaultVersion": False}]},
]}]


@pytest.mark.parametrize(("wanted", "cluster", "version"), [
    ("latest", "1.34", "v1.12.4-eksbuild.14"), ("default", "1.34", "v1.12.3-eksbuild.1"),
    ("latest", "1.33", "v1.12.3-eksbuild.1"), ("v1.11.4-eksbuild.2", "1.33", "v1.11.4-eksbuild.2"), (None, "1.34", None),
])
def test_addon_version_choice(wanted, cluster, version):
    assert eks.addon_version_choice(CATALOGUE, "coredns", cluster, wanted) == (version, [])


def test_addon_version_problems_name_the_option():
    _v, problems = eks.addon_version_choice(CATALOGUE, "coredns", "1.34", "v1.11.4-eksbuild.2")
    assert problems[0].startswith("version: ") and "offered: v1.12.4-eksbuild.14, v1.12.3-eksbuild.1" in problems[0]
    _v, problems = eks.addon_version_choice(CATALOGUE, "coredns", "1.29", "latest")
    assert problems[0].startswith("name: ")


def test_configuration_values_as_dict_json_or_yaml():
    assert eks.configuration_values({"a": 1}) == ({"a": 1}, [])
    assert eks.configuration_values('{"a": 1}') == ({"a": 1}, [])
    assert eks.configuration_values("a: 1") == ({"a": 1}, [])
    assert eks.configuration_values("") == ({}, [])
    for bad in ("[1, 2]", "a: [", 5):
        value, problems = eks.configuration_values(bad)
        assert value is None and problems[0].startswith("configuration_values: ")


def test_addon_update_request_compares_configuration_as_data():
    addon = {"clusterName": "c", "addonName": "coredns", "addonVersion": "v1", "configurationValues": '{"b": 2, "a": 1}'}
    params = {"service_account_role_arn": None, "resolve_conflicts": "OVERWRITE"}
    assert eks.addon_update_request(addon, "v1", params, {"a": 1, "b": 2}) is None
    assert eks.addon_update_request(addon, "v1", dict(params, service_account_role_arn=""), None) is None
    request = eks.addon_update_request(addon, "v2", dict(params, service_account_role_arn="arn:aws:iam::1:role/r"), {})
    assert request == {"clusterName": "c", "addonName": "coredns", "addonVersion": "v2", "serviceAccountRoleArn": "arn:aws:iam::1:role/r",
                       "configurationValues": "", "resolveConflicts": "OVERWRITE"}


# ---------------------------------------------------------------- access entries

def test_access_policies_and_changes():
    desired, problems = eks.access_policies([
        {"policy_arn": "AmazonEKSClusterAdminPolicy", "access_scope": None},
        {"policy_arn": "arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy", "access_scope": {"type": "namespace", "namespaces": ["b", "a"]}},
    ])
    assert problems == []
    admin = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
    edit = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy"
    view = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy"
    assert desired == {admin: {"type": "cluster", "namespaces": []}, edit: {"type": "namespace", "namespaces": ["a", "b"]}}
    current = [{"policyArn": edit, "accessScope": {"type": "namespace", "namespaces": ["a"]}},
               {"policyArn": view, "accessScope": {"type": "cluster", "namespaces": []}}]
    associate, remove = eks.policy_changes(current, desired, purge=True)
    assert associate == desired and remove == [view]
    assert eks.policy_changes(current, desired, purge=False)[1] == []


def test_access_policy_problems():
    _d, problems = eks.access_policies([{"policy_arn": "A", "access_scope": {"type": "namespace", "namespaces": []}},
                                        {"policy_arn": "B", "access_scope": {"type": "cluster", "namespaces": ["x"]}},
                                        {"policy_arn": "B"}, {"policy_arn": ""}])
    assert fields(problems) == [
        "policies[0].access_scope.namespaces", "policies[1].access_scope.namespaces", "policies[2].policy_arn", "policies[3].policy_arn",
    ]


# ---------------------------------------------------------------- waiting

def test_wait_for_update_polls_until_done_and_times_out():
    answers = iter([{"id": "u", "type": "ConfigUpdate", "status": "InProgress"}, {"id": "u", "type": "ConfigUpdate", "status": "Successful"}])

    class Client:
        def describe_update(self, **kwargs):
            assert kwargs == {"updateId": "u", "name": "c", "nodegroupName": "ng"}
            return {"update": next(answers)}

    slept = []
    start = {"id": "u", "type": "ConfigUpdate", "status": "InProgress"}
    assert eks.wait_for_update(Client(), start, 60, sleep=slept.append, name="c", nodegroupName="ng")["status"] == "Successful"
    assert slept == [1.0, 2.0]
    with pytest.raises(TimeoutError, match="still InProgress"):
        eks.wait_for_update(Client(), start, 0, sleep=slept.append)


def test_wait_for_status_fails_on_a_failed_status():
    with pytest.raises(RuntimeError, match="CREATE_FAILED"):
        eks.wait_for_status(lambda: {"status": "CREATE_FAILED", "health": {"issues": [{"code": "X"}]}}, ("ACTIVE",), 5, sleep=lambda s: None)
    assert eks.wait_for_status(lambda: None, ("ACTIVE",), 5) is None
