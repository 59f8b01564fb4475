"""EKS extensions: what moto 5.2.5 lacks or gets wrong, shaped from the AWS EKS API reference.

moto 5.2.5 answers CreateCluster, CreateNodegroup, Describe*/List*/Delete*, UpdateClusterConfig and
UpdateNodegroupConfig, and tags clusters only. Checked against its code, it:
- ignores `accessConfig` on CreateCluster and never returns it; gives every cluster the same OIDC issuer;
  stores `resourcesVpcConfig` as sent (no endpoint defaults, no vpcId) and accepts any version;
- applies UpdateClusterConfig without validation, with no update record, and ignores accessConfig;
- has no UpdateClusterVersion, UpdateNodegroupVersion, DescribeUpdate or ListUpdates;
- drops `updateConfig` on CreateNodegroup, defaults a node group's version to 1.19 whatever the
  cluster's, shares one scaling-config dict between node groups (an update of one changes all), accepts
  any AMI type / taint effect, answers UpdateNodegroupConfig "Successful" with no record;
- has no add-on (Create/Describe/Update/Delete/ListAddons, DescribeAddonVersions) or access entry
  (Create/Describe/List/Update/DeleteAccessEntry, Associate/Disassociate/ListAssociatedAccessPolicies,
  ListAccessPolicies) API;
- tags only clusters (TagResource on a node group answers NotFound).

This module replaces those handlers on moto's EKSResponse and keeps the extra state on moto's own
Cluster objects, so `moto-api/reset` forgets it with everything else.

Updates run for UPDATE_SECONDS (env MSA_EMULATOR_EKS_UPDATE_SECONDS, default 0): the change is applied
at once, the update is `InProgress` and the cluster / node group / add-on `UPDATING` until that time has
passed, and a second update meanwhile is refused with ResourceInUseException, as EKS does. With 0 an
update is reported `InProgress` in its own response and `Successful` on every later read.

The add-on catalogue (ADDON_CATALOGUE) is illustrative: names, owners and version *shapes* follow EKS,
the version numbers are not a copy of what AWS publishes on a given day.
"""
from __future__ import annotations

import json
import os
import re
import time
import uuid
from typing import Any
from urllib.parse import unquote

import yaml
from moto.core.responses import ActionResult, EmptyResult
from moto.core.utils import utcnow
from moto.eks import models, urls
from moto.eks.exceptions import (
    InvalidParameterException,
    InvalidRequestException,
    ResourceInUseException,
    ResourceNotFoundException,
)
from moto.eks.responses import EKSResponse

UPDATE_SECONDS = float(os.environ.get("MSA_EMULATOR_EKS_UPDATE_SECONDS", "0"))

SUPPORTED_VERSIONS = tuple(f"1.{minor}" for minor in range(29, 38))
DEFAULT_VERSION = "1.34"
PLATFORM_VERSION = "eks.1"
AL2_LAST_MINOR = 32  # EKS publishes no AL2 AMIs for 1.33 and later
LOG_TYPES = ("api", "audit", "authenticator", "controllerManager", "scheduler")
AUTH_MODES = ("CONFIG_MAP", "API_AND_CONFIG_MAP", "API")  # the only allowed direction is left to right
TAINT_EFFECTS = ("NO_SCHEDULE", "NO_EXECUTE", "PREFER_NO_SCHEDULE")
ACCESS_ENTRY_TYPES = ("STANDARD", "FARGATE_LINUX", "EC2_LINUX", "EC2_WINDOWS", "EC2", "HYBRID_LINUX", "HYPERPOD_LINUX")
ACCESS_POLICIES = (
    "AmazonEKSAdminPolicy", "AmazonEKSAdminViewPolicy", "AmazonEKSClusterAdminPolicy", "AmazonEKSEditPolicy",
    "AmazonEKSViewPolicy", "AmazonEKSAutoNodePolicy", "AmazonEKSBlockStoragePolicy", "AmazonEKSLoadBalancingPolicy",
    "AmazonEKSNetworkingPolicy", "AmazonEKSComputePolicy",
)
ADMIN_POLICY = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
AMI_TYPES = (
    "AL2_x86_64", "AL2_x86_64_GPU", "AL2_ARM_64", "CUSTOM", "BOTTLEROCKET_ARM_64", "BOTTLEROCKET_x86_64",
    "BOTTLEROCKET_ARM_64_NVIDIA", "BOTTLEROCKET_x86_64_NVIDIA", "WINDOWS_CORE_2022_x86_64", "WINDOWS_FULL_2022_x86_64",
    "AL2023_x86_64_STANDARD", "AL2023_ARM_64_STANDARD", "AL2023_x86_64_NEURON", "AL2023_x86_64_NVIDIA",
    "AL2023_ARM_64_NVIDIA",
)
ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$")
PRINCIPAL_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:(role|user)/[\w+=,.@/-]+$")


def _addon_versions(name: str, minor: int) -> list[tuple[str, bool]]:
    """(version, default?) of one add-on for Kubernetes 1.<minor>, newest first as EKS lists them."""
    if name == "kube-proxy":
        return [(f"v1.{minor}.3-eksbuild.2", False), (f"v1.{minor}.0-eksbuild.1", True)]
    if name == "coredns":
        base = "v1.11" if minor < 32 else "v1.12"
        return [(f"{base}.4-eksbuild.14", False), (f"{base}.3-eksbuild.1", True)]
    if name == "vpc-cni":
        return [("v1.20.4-eksbuild.2", False), ("v1.19.6-eksbuild.1", True)]
    if name == "aws-ebs-csi-driver":
        return [("v1.50.1-eksbuild.1", False), ("v1.48.0-eksbuild.2", True)]
    return [("v1.3.9-eksbuild.3", False), ("v1.3.8-eksbuild.2", True)]  # eks-pod-identity-agent


ADDON_CATALOGUE = {
    "vpc-cni": "networking", "coredns": "networking", "kube-proxy": "networking",
    "aws-ebs-csi-driver": "storage", "eks-pod-identity-agent": "security",
}
ADDON_NEEDS_IAM = {"vpc-cni", "aws-ebs-csi-driver"}


# ---------------------------------------------------------------- helpers

def _invalid(message: str) -> InvalidParameterException:
    return InvalidParameterException(message=message)


def _not_found(message: str) -> ResourceNotFoundException:
    return ResourceNotFoundException(message=message)


def _in_use(message: str) -> ResourceInUseException:
    return ResourceInUseException(message=message)


def _minor(version: str) -> int:
    return int(str(version).split(".")[1])


class _Update:
    """One EKS update record; InProgress until UPDATE_SECONDS have passed."""

    def __init__(self, kind: str, params: list[dict[str, str]], nodegroup: str | None = None, addon: str | None = None):
        self.id = str(uuid.uuid4())
        self.type = kind
        self.params = params
        self.nodegroup = nodegroup
        self.addon = addon
        self.created_at = utcnow()
        self.ends = time.monotonic() + UPDATE_SECONDS

    @property
    def running(self) -> bool:
        return time.monotonic() < self.ends

    def view(self, fresh: bool = False) -> dict[str, Any]:
        status = "InProgress" if fresh or self.running else "Successful"
        return {"id": self.id, "status": status, "type": self.type, "params": self.params,
                "createdAt": self.created_at, "errors": []}


def _state(cluster: Any) -> dict[str, Any]:
    """The extension's state of one cluster, kept on moto's own Cluster object."""
    if not hasattr(cluster, "_msa"):
        cluster._msa = {"updates": [], "addons": {}, "access": {}}
    return cluster._msa


def _running(cluster: Any, nodegroup: str | None = None, addon: str | None = None) -> list[_Update]:
    return [u for u in _state(cluster)["updates"] if u.running and u.nodegroup == nodegroup and u.addon == addon]


def _record(cluster: Any, kind: str, params: list[dict[str, str]], nodegroup: str | None = None,
            addon: str | None = None) -> dict[str, Any]:
    update = _Update(kind, params, nodegroup, addon)
    _state(cluster)["updates"].append(update)
    return update.view(fresh=True)


def _refuse_if_updating(cluster: Any, nodegroup: str | None = None, addon: str | None = None) -> None:
    if _running(cluster, nodegroup, addon):
        what = f"Nodegroup {nodegroup}" if nodegroup else f"Addon {addon}" if addon else f"Cluster {cluster.name}"
        raise _in_use(f"{what} has an update in progress. Wait for it to complete before starting another.")


# The status shown to clients: UPDATING while an update of that resource runs.
def _cluster_status(self: Any) -> str:
    if self._status == "ACTIVE" and _running(self):
        return "UPDATING"
    return self._status


def _nodegroup_status(self: Any) -> str:
    cluster = getattr(self, "_cluster", None)
    if self._status == "ACTIVE" and cluster is not None and _running(cluster, nodegroup=self.nodegroup_name):
        return "UPDATING"
    return self._status


def _set_status(self: Any, value: str) -> None:
    self._status = value


# ---------------------------------------------------------------- handlers

class _Handlers:
    """Methods copied onto moto's EKSResponse (self is that response)."""

    # -- request access
    def _uri(self: Any, key: str) -> str | None:
        value = self.uri_match.get(key)
        return unquote(value) if isinstance(value, str) else value

    def _body(self: Any) -> dict[str, Any]:
        if not self.body:
            return {}
        try:
            data = json.loads(self.body)
        except (TypeError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _query(self: Any, key: str) -> str | None:
        values = self.querystring.get(key)
        return values[0] if values else None

    def _cluster(self: Any, name: str | None = None) -> Any:
        name = name or self._uri("name")
        try:
            return self.eks_backend.clusters[name]
        except KeyError:
            raise _not_found(f"No cluster found for name: {name}.") from None

    def _nodegroup(self: Any, cluster: Any, name: str) -> Any:
        try:
            return cluster.nodegroups[name]
        except KeyError:
            raise _not_found(f"No node group found for name: {name}.") from None

    # -- clusters
    def create_cluster(self: Any) -> ActionResult:
        body = self._body()
        version = body.get("version") or DEFAULT_VERSION
        if version not in SUPPORTED_VERSIONS:
            raise _invalid(f"unsupported Kubernetes version {version}")
        access = body.get("accessConfig") or {}
        mode = access.get("authenticationMode", "CONFIG_MAP")
        if mode not in AUTH_MODES:
            raise _invalid(f"Unsupported authentication mode: {mode}")
        bootstrap = access.get("bootstrapClusterCreatorAdminPermissions", True)
        if mode == "CONFIG_MAP" and not bootstrap:
            raise _invalid("bootstrapClusterCreatorAdminPermissions must be true if cluster authentication mode is set to CONFIG_MAP")
        vpc = dict(body.get("resourcesVpcConfig") or {})
        _check_endpoint(vpc.get("endpointPublicAccess", True), vpc.get("endpointPrivateAccess", False))
        _check_logging(body.get("logging"))
        vpc.setdefault("endpointPublicAccess", True)
        vpc.setdefault("endpointPrivateAccess", False)
        vpc.setdefault("publicAccessCidrs", ["0.0.0.0/0"])
        vpc.setdefault("securityGroupIds", [])
        vpc_id = self._vpc_of(vpc.get("subnetIds") or [])
        if vpc_id:
            vpc["vpcId"] = vpc_id
        network = dict(body.get("kubernetesNetworkConfig") or models.DEFAULT_KUBERNETES_NETWORK_CONFIG)
        network.setdefault("serviceIpv4Cidr", "172.20.0.0/16")
        network.setdefault("ipFamily", "ipv4")
        logging = body.get("logging") or {"clusterLogging": [{"types": list(LOG_TYPES), "enabled": False}]}
        cluster = self.eks_backend.create_cluster(
            name=body.get("name"), version=version, role_arn=body.get("roleArn") or "",
            resources_vpc_config=vpc, kubernetes_network_config=network, logging=logging,
            client_request_token=body.get("clientRequestToken"), tags=dict(body.get("tags") or {}),
            encryption_config=body.get("encryptionConfig"),
        )
        cluster.access_config = {"authenticationMode": mode, "bootstrapClusterCreatorAdminPermissions": bootstrap}
        cluster.identity = {"oidc": {"issuer": f"https://oidc.eks.{self.region}.amazonaws.com/id/{uuid.uuid4().hex.upper()}"}}
        cluster.platformVersion = PLATFORM_VERSION
        if bootstrap and mode != "CONFIG_MAP":
            creator = f"arn:{self.partition}:iam::{self.current_account}:user/moto"
            entry = _new_access_entry(cluster, creator, "STANDARD", [], None, {})
            entry["policies"][ADMIN_POLICY] = {"policyArn": ADMIN_POLICY, "accessScope": {"type": "cluster", "namespaces": []},
                                               "associatedAt": utcnow(), "modifiedAt": utcnow()}
        return ActionResult({"cluster": cluster})

    def _vpc_of(self: Any, subnet_ids: list[str]) -> str | None:
        from moto.ec2.models import ec2_backends  # pylint: disable=import-outside-toplevel

        # dict.get, not [...]: indexing would create the EC2 backend (default VPC, AMIs: seconds, and again on every
        # moto-api reset) just to learn that subnets nobody made through EC2 do not exist there
        ec2 = (dict.get(ec2_backends, self.current_account) or {}).get(self.region)
        if ec2 is None:
            return None
        for subnet_id in subnet_ids:
            for subnets in ec2.subnets.values():
                if subnet_id in subnets:
                    return subnets[subnet_id].vpc_id
        return None

    def update_cluster_config(self: Any) -> ActionResult:
        cluster = self._cluster()
        body = self._body()
        kinds = [key for key in ("resourcesVpcConfig", "logging", "accessConfig") if body.get(key)]
        if len(kinds) != 1:
            raise _invalid("Only one type of update can be allowed." if kinds else "No changes needed for the provided cluster configuration.")
        _refuse_if_updating(cluster)
        kind = kinds[0]
        if kind == "resourcesVpcConfig":
            wanted = body["resourcesVpcConfig"]
            current = cluster.resources_vpc_config
            merged = {**current, **{k: v for k, v in wanted.items() if v is not None}}
            if "subnetIds" in wanted or "securityGroupIds" in wanted:
                params = [{"type": "Subnets", "value": json.dumps(merged.get("subnetIds", []))},
                          {"type": "SecurityGroups", "value": json.dumps(merged.get("securityGroupIds", []))}]
                update_type = "VpcConfigUpdate"
            else:
                _check_endpoint(merged.get("endpointPublicAccess", True), merged.get("endpointPrivateAccess", False))
                if not merged.get("publicAccessCidrs"):
                    merged["publicAccessCidrs"] = ["0.0.0.0/0"]
                if all(merged.get(k) == current.get(k) for k in ("endpointPublicAccess", "endpointPrivateAccess", "publicAccessCidrs")):
                    raise _invalid("Cluster is already at the desired configuration with endpointPrivateAccess: "
                                   f"{current.get('endpointPrivateAccess')}, endpointPublicAccess: {current.get('endpointPublicAccess')}, "
                                   f"and publicAccessCidrs: {current.get('publicAccessCidrs')}")
                params = [{"type": "EndpointPublicAccess", "value": json.dumps(merged["endpointPublicAccess"])},
                          {"type": "EndpointPrivateAccess", "value": json.dumps(merged["endpointPrivateAccess"])},
                          {"type": "PublicAccessCidrs", "value": json.dumps(merged["publicAccessCidrs"])}]
                update_type = "EndpointAccessUpdate"
            cluster.resources_vpc_config = merged
        elif kind == "logging":
            _check_logging(body["logging"])
            enabled = _enabled_logs(cluster.logging)
            after = set(enabled)
            for setup in body["logging"].get("clusterLogging", []):
                (after.update if setup.get("enabled") else after.difference_update)(setup.get("types", []))
            if after == enabled:
                raise _invalid("No changes needed for the logging config provided")
            cluster.logging = _logging_of(after)
            params = [{"type": "ClusterLogging", "value": json.dumps(body["logging"])}]
            update_type = "LoggingUpdate"
        else:
            mode = body["accessConfig"].get("authenticationMode")
            current = cluster.access_config["authenticationMode"] if hasattr(cluster, "access_config") else "CONFIG_MAP"
            if mode not in AUTH_MODES:
                raise _invalid(f"Unsupported authentication mode: {mode}")
            if mode == current:
                raise _invalid(f"Cluster already has authentication mode {mode}")
            if AUTH_MODES.index(mode) < AUTH_MODES.index(current):
                raise _invalid(f"Unsupported authentication mode update from {current} to {mode}")
            cluster.access_config = {**getattr(cluster, "access_config", {}), "authenticationMode": mode}
            params = [{"type": "AuthenticationMode", "value": mode}]
            update_type = "AccessConfigUpdate"
        return ActionResult({"update": _record(cluster, update_type, params)})

    def update_cluster_version(self: Any) -> ActionResult:
        cluster = self._cluster()
        version = str(self._body().get("version") or "")
        _refuse_if_updating(cluster)
        if version not in SUPPORTED_VERSIONS:
            raise _invalid(f"unsupported Kubernetes version {version}")
        if _minor(version) != _minor(cluster.version) + 1:
            raise _invalid(f"Unsupported Kubernetes minor version update from {cluster.version} to {version}")
        behind = sorted(n for n, ng in cluster.nodegroups.items() if ng.version != cluster.version)
        if behind:
            raise InvalidRequestException(
                message=f"Nodegroup {behind[0]} must be updated to match cluster version {cluster.version} before updating cluster version")
        cluster.version = version
        return ActionResult({"update": _record(cluster, "VersionUpdate", [
            {"type": "Version", "value": version}, {"type": "PlatformVersion", "value": PLATFORM_VERSION}])})

    def describe_update(self: Any) -> ActionResult:
        cluster = self._cluster()
        update_id = self._uri("updateId")
        nodegroup, addon = self._query("nodegroupName"), self._query("addonName")
        for update in _state(cluster)["updates"]:
            if update.id == update_id and update.nodegroup == nodegroup and update.addon == addon:
                return ActionResult({"update": update.view()})
        raise _not_found(f"No update found for ID: {update_id}.")

    def list_updates(self: Any) -> ActionResult:
        cluster = self._cluster()
        nodegroup, addon = self._query("nodegroupName"), self._query("addonName")
        if nodegroup:
            self._nodegroup(cluster, nodegroup)
        ids = [u.id for u in _state(cluster)["updates"] if u.nodegroup == nodegroup and u.addon == addon]
        return ActionResult({"updateIds": ids})

    # -- node groups
    def create_nodegroup(self: Any) -> ActionResult:
        cluster = self._cluster()
        body = self._body()
        version = body.get("version") or cluster.version
        if _minor(version) > _minor(cluster.version):
            raise _invalid(f"Requested Nodegroup version {version} is newer than the cluster version {cluster.version}")
        ami_type = body.get("amiType") or ("AL2_x86_64" if _minor(version) <= AL2_LAST_MINOR else "AL2023_x86_64_STANDARD")
        if ami_type not in AMI_TYPES:
            raise _invalid(f"Unsupported amiType {ami_type}")
        if ami_type.startswith("AL2_") and _minor(version) > AL2_LAST_MINOR:
            raise _invalid(f"AMI Type {ami_type} is only supported for kubernetes versions 1.{AL2_LAST_MINOR} or earlier")
        scaling = dict(body.get("scalingConfig") or {"minSize": 1, "maxSize": 2, "desiredSize": 2})
        _check_scaling(scaling)
        for taint in body.get("taints") or []:
            _check_taint(taint)
        update_config = dict(body.get("updateConfig") or {"maxUnavailable": 1})
        _check_update_config(update_config)
        nodegroup = self.eks_backend.create_nodegroup(
            cluster_name=cluster.name, nodegroup_name=body.get("nodegroupName"), scaling_config=scaling,
            disk_size=body.get("diskSize"), subnets=body.get("subnets") or [], instance_types=body.get("instanceTypes"),
            ami_type=ami_type, remote_access=body.get("remoteAccess"), node_role=body.get("nodeRole") or "",
            labels=dict(body.get("labels") or {}), taints=list(body.get("taints") or []), tags=dict(body.get("tags") or {}),
            client_request_token=body.get("clientRequestToken"), launch_template=body.get("launchTemplate"),
            capacity_type=body.get("capacityType"), version=version,
            release_version=body.get("releaseVersion") or _release(version),
        )
        nodegroup.update_config = update_config
        nodegroup._cluster = cluster
        if not body.get("launchTemplate"):
            nodegroup.launch_template = None
        return ActionResult({"nodegroup": nodegroup})

    def update_nodegroup_config(self: Any) -> ActionResult:
        cluster = self._cluster()
        name = self._uri("nodegroupName")
        nodegroup = self._nodegroup(cluster, name)
        body = self._body()
        _refuse_if_updating(cluster, nodegroup=name)
        params: list[dict[str, str]] = []
        labels = body.get("labels") or {}
        add, remove = labels.get("addOrUpdateLabels") or {}, labels.get("removeLabels") or []
        if set(add) & set(remove):
            raise _invalid(f"The following labels are both added and removed: {sorted(set(add) & set(remove))}")
        taints = body.get("taints") or {}
        add_t, remove_t = taints.get("addOrUpdateTaints") or [], taints.get("removeTaints") or []
        for taint in add_t + remove_t:
            _check_taint(taint)
        scaling = body.get("scalingConfig")
        merged_scaling = {**nodegroup.scaling_config, **(scaling or {})}
        if scaling:
            _check_scaling(merged_scaling)
        update_config = body.get("updateConfig")
        if update_config:
            _check_update_config(update_config)
        if not (add or remove or add_t or remove_t or scaling or update_config or body.get("nodeRepairConfig")):
            raise _invalid("No changes needed for the provided nodegroup configuration.")
        if add:
            nodegroup.labels.update(add)
            params.append({"type": "LabelsToAdd", "value": json.dumps(add)})
        for key in remove:
            nodegroup.labels.pop(key, None)
        if remove:
            params.append({"type": "LabelsToRemove", "value": json.dumps(remove)})
        for taint in remove_t:
            nodegroup.taints = [t for t in nodegroup.taints if (t["key"], t.get("effect")) != (taint["key"], taint.get("effect"))]
        for taint in add_t:
            nodegroup.taints = [t for t in nodegroup.taints if (t["key"], t.get("effect")) != (taint["key"], taint.get("effect"))]
            nodegroup.taints.append({k: v for k, v in taint.items() if v not in (None, "")})
        if add_t:
            params.append({"type": "TaintsToAdd", "value": json.dumps(add_t)})
        if remove_t:
            params.append({"type": "TaintsToRemove", "value": json.dumps(remove_t)})
        if scaling:
            nodegroup.scaling_config = merged_scaling
            params += [{"type": t, "value": str(merged_scaling[k])} for t, k in
                       (("MinSize", "minSize"), ("MaxSize", "maxSize"), ("DesiredSize", "desiredSize")) if k in scaling]
        if update_config:
            nodegroup.update_config = dict(update_config)
            params += [{"type": "MaxUnavailable" if k == "maxUnavailable" else "MaxUnavailablePercentage", "value": str(v)}
                       for k, v in update_config.items() if k in ("maxUnavailable", "maxUnavailablePercentage")]
        if body.get("nodeRepairConfig"):
            nodegroup.node_repair_config = body["nodeRepairConfig"]
            params.append({"type": "NodeRepairEnabled", "value": json.dumps(body["nodeRepairConfig"].get("enabled", False))})
        nodegroup.modified_at = utcnow()
        return ActionResult({"update": _record(cluster, "ConfigUpdate", params, nodegroup=name)})

    def update_nodegroup_version(self: Any) -> ActionResult:
        cluster = self._cluster()
        name = self._uri("nodegroupName")
        nodegroup = self._nodegroup(cluster, name)
        body = self._body()
        _refuse_if_updating(cluster, nodegroup=name)
        _refuse_if_updating(cluster)
        version = body.get("version") or cluster.version
        if version != cluster.version:
            raise _invalid(f"Requested Nodegroup version {version} does not match the cluster version {cluster.version}; "
                           "a node group can only be updated to the cluster's version")
        release = body.get("releaseVersion") or _release(version)
        if version == nodegroup.version and release == nodegroup.release_version and not body.get("launchTemplate"):
            raise _invalid(f"Nodegroup {name} is already at version {version} with release version {release}")
        if nodegroup.ami_type.startswith("AL2_") and _minor(version) > AL2_LAST_MINOR:
            raise _invalid(f"AMI Type {nodegroup.ami_type} is only supported for kubernetes versions 1.{AL2_LAST_MINOR} or earlier")
        nodegroup.version, nodegroup.release_version = version, release
        params = [{"type": "Version", "value": version}, {"type": "ReleaseVersion", "value": release}]
        template = body.get("launchTemplate")
        if template:
            if not nodegroup.launch_template:
                raise InvalidRequestException(message="A launch template cannot be added to a node group that was created without one")
            nodegroup.launch_template = {**nodegroup.launch_template, **template}
            params.append({"type": "LaunchTemplateVersion", "value": str(template.get("version", ""))})
        return ActionResult({"update": _record(cluster, "VersionUpdate", params, nodegroup=name)})

    # -- add-ons
    def describe_addon_versions(self: Any) -> ActionResult:
        wanted_version, wanted_name = self._query("kubernetesVersion"), self._query("addonName")
        minors = [_minor(v) for v in SUPPORTED_VERSIONS if not wanted_version or v == wanted_version]
        addons = []
        for name, kind in ADDON_CATALOGUE.items():
            if wanted_name and name != wanted_name:
                continue
            versions: dict[str, list[dict[str, Any]]] = {}
            for minor in minors:
                for version, default in _addon_versions(name, minor):
                    versions.setdefault(version, []).append(
                        {"clusterVersion": f"1.{minor}", "platformVersions": ["*"], "defaultVersion": default})
            addons.append({
                "addonName": name, "type": kind, "owner": "aws", "publisher": "eks", "marketplaceInformation": {},
                "addonVersions": [
                    {"addonVersion": version, "architecture": ["amd64", "arm64"], "computeTypes": ["ec2"],
                     "compatibilities": compat, "requiresConfiguration": False,
                     "requiresIamPermissions": name in ADDON_NEEDS_IAM}
                    for version, compat in sorted(versions.items(), key=lambda item: _semver(item[0]), reverse=True)],
            })
        return ActionResult({"addons": addons})

    def create_addon(self: Any) -> ActionResult:
        cluster = self._cluster()
        body = self._body()
        name = body.get("addonName")
        if name not in ADDON_CATALOGUE:
            raise _invalid(f"Addon {name} specified is not supported in {cluster.version} kubernetes version")
        addons = _state(cluster)["addons"]
        if name in addons:
            raise _in_use("Addon already exists.")
        version = _addon_version(name, body.get("addonVersion"), cluster.version)
        _check_addon_inputs(body)
        addon = {
            "addonName": name, "clusterName": cluster.name, "addonVersion": version, "health": {"issues": []},
            "addonArn": f"arn:{self.partition}:eks:{self.region}:{self.current_account}:addon/{cluster.name}/{name}/{uuid.uuid4()}",
            "createdAt": utcnow(), "modifiedAt": utcnow(), "tags": dict(body.get("tags") or {}),
            "owner": "aws", "publisher": "eks",
        }
        for key in ("serviceAccountRoleArn", "configurationValues"):
            if body.get(key):
                addon[key] = body[key]
        addon["_ready_at"] = time.monotonic() + UPDATE_SECONDS
        addons[name] = addon
        return ActionResult({"addon": _addon_view(addon, cluster, "CREATING")})

    def describe_addon(self: Any) -> ActionResult:
        cluster = self._cluster()
        return ActionResult({"addon": _addon_view(self._addon(cluster), cluster)})

    def _addon(self: Any, cluster: Any) -> dict[str, Any]:
        name = self._uri("addonName")
        try:
            return _state(cluster)["addons"][name]
        except KeyError:
            raise _not_found(f"No addon: {name} found in cluster: {cluster.name}") from None

    def list_addons(self: Any) -> ActionResult:
        return ActionResult({"addons": sorted(_state(self._cluster())["addons"])})

    def update_addon(self: Any) -> ActionResult:
        cluster = self._cluster()
        addon = self._addon(cluster)
        body = self._body()
        _refuse_if_updating(cluster, addon=addon["addonName"])
        _check_addon_inputs(body)
        params = []
        if body.get("addonVersion"):
            addon["addonVersion"] = _addon_version(addon["addonName"], body["addonVersion"], cluster.version)
            params.append({"type": "AddonVersion", "value": addon["addonVersion"]})
        if "serviceAccountRoleArn" in body:
            if body["serviceAccountRoleArn"]:
                addon["serviceAccountRoleArn"] = body["serviceAccountRoleArn"]
            else:
                addon.pop("serviceAccountRoleArn", None)
            params.append({"type": "ServiceAccountRoleArn", "value": body["serviceAccountRoleArn"] or ""})
        if "configurationValues" in body:
            if body["configurationValues"]:
                addon["configurationValues"] = body["configurationValues"]
            else:
                addon.pop("configurationValues", None)
            params.append({"type": "ConfigurationValues", "value": body["configurationValues"] or ""})
        if body.get("resolveConflicts"):
            params.append({"type": "ResolveConflicts", "value": body["resolveConflicts"]})
        addon["modifiedAt"] = utcnow()
        return ActionResult({"update": _record(cluster, "AddonUpdate", params, addon=addon["addonName"])})

    def delete_addon(self: Any) -> ActionResult:
        cluster = self._cluster()
        addon = self._addon(cluster)
        del _state(cluster)["addons"][addon["addonName"]]
        return ActionResult({"addon": _addon_view(addon, cluster, "DELETING")})

    # -- access entries
    def _access_entry(self: Any, cluster: Any) -> dict[str, Any]:
        principal = self._uri("principalArn")
        try:
            return _state(cluster)["access"][principal]
        except KeyError:
            raise _not_found("The specified principalArn could not be found. You can view your available access entries "
                             f"with 'list-access-entries'. ({principal})") from None

    def _api_mode(self: Any, cluster: Any) -> None:
        mode = getattr(cluster, "access_config", {}).get("authenticationMode", "CONFIG_MAP")
        if mode == "CONFIG_MAP":
            raise InvalidRequestException(
                message="The cluster's authentication mode must be set to one of [API, API_AND_CONFIG_MAP] to perform this operation.")

    def create_access_entry(self: Any) -> ActionResult:
        cluster = self._cluster()
        self._api_mode(cluster)
        body = self._body()
        principal = body.get("principalArn") or ""
        if not PRINCIPAL_ARN.match(principal):
            raise _invalid(f"The principalArn parameter format is not valid: {principal}")
        if principal in _state(cluster)["access"]:
            raise _in_use("The specified access entry resource is already in use on this cluster.")
        kind = body.get("type") or "STANDARD"
        if kind not in ACCESS_ENTRY_TYPES:
            raise _invalid(f"The type parameter value {kind} is not valid")
        groups = body.get("kubernetesGroups") or []
        _check_groups(kind, groups, body.get("username"))
        entry = _new_access_entry(cluster, principal, kind, groups, body.get("username"), dict(body.get("tags") or {}),
                                  self.partition, self.region, self.current_account)
        return ActionResult({"accessEntry": _entry_view(entry)})

    def describe_access_entry(self: Any) -> ActionResult:
        return ActionResult({"accessEntry": _entry_view(self._access_entry(self._cluster()))})

    def list_access_entries(self: Any) -> ActionResult:
        cluster = self._cluster()
        self._api_mode(cluster)
        policy = self._query("associatedPolicyArn")
        entries = [p for p, e in _state(cluster)["access"].items() if not policy or policy in e["policies"]]
        return ActionResult({"accessEntries": sorted(entries)})

    def update_access_entry(self: Any) -> ActionResult:
        cluster = self._cluster()
        entry = self._access_entry(cluster)
        body = self._body()
        groups = body.get("kubernetesGroups")
        _check_groups(entry["type"], groups or [], body.get("username"))
        if groups is not None:
            entry["kubernetesGroups"] = list(groups)
        if body.get("username"):
            entry["username"] = body["username"]
        entry["modifiedAt"] = utcnow()
        return ActionResult({"accessEntry": _entry_view(entry)})

    def delete_access_entry(self: Any) -> ActionResult:
        cluster = self._cluster()
        entry = self._access_entry(cluster)
        del _state(cluster)["access"][entry["principalArn"]]
        return EmptyResult()

    def associate_access_policy(self: Any) -> ActionResult:
        cluster = self._cluster()
        entry = self._access_entry(cluster)
        body = self._body()
        policy = body.get("policyArn") or ""
        if policy.rsplit("/", 1)[-1] not in ACCESS_POLICIES or not policy.startswith("arn:aws:eks::aws:cluster-access-policy/"):
            raise _invalid(f"The policyArn parameter value is not valid: {policy}")
        if entry["type"] != "STANDARD":
            raise InvalidRequestException(message=f"Access policies can only be associated with access entries of type STANDARD, not {entry['type']}")
        scope = body.get("accessScope") or {}
        namespaces = scope.get("namespaces") or []
        if scope.get("type") not in ("cluster", "namespace"):
            raise _invalid(f"The accessScope type must be one of [cluster, namespace], not {scope.get('type')}")
        if scope["type"] == "namespace" and not namespaces:
            raise _invalid("At least one namespace must be specified when the accessScope type is namespace")
        if scope["type"] == "cluster" and namespaces:
            raise _invalid("Namespaces cannot be specified when the accessScope type is cluster")
        now = utcnow()
        known = entry["policies"].get(policy)
        entry["policies"][policy] = {"policyArn": policy, "accessScope": {"type": scope["type"], "namespaces": list(namespaces)},
                                     "associatedAt": known["associatedAt"] if known else now, "modifiedAt": now}
        return ActionResult({"clusterName": cluster.name, "principalArn": entry["principalArn"],
                             "associatedAccessPolicy": entry["policies"][policy]})

    def disassociate_access_policy(self: Any) -> ActionResult:
        cluster = self._cluster()
        entry = self._access_entry(cluster)
        policy = self._uri("policyArn")
        if policy not in entry["policies"]:
            raise _not_found(f"The access policy {policy} is not associated with the access entry {entry['principalArn']}")
        del entry["policies"][policy]
        return EmptyResult()

    def list_associated_access_policies(self: Any) -> ActionResult:
        cluster = self._cluster()
        entry = self._access_entry(cluster)
        return ActionResult({"clusterName": cluster.name, "principalArn": entry["principalArn"],
                             "associatedAccessPolicies": sorted(entry["policies"].values(), key=lambda p: p["policyArn"])})

    def list_access_policies(self: Any) -> ActionResult:
        return ActionResult({"accessPolicies": [
            {"name": name, "arn": f"arn:aws:eks::aws:cluster-access-policy/{name}"} for name in sorted(ACCESS_POLICIES)]})

    # -- tags on every taggable EKS resource
    def _tagged(self: Any) -> dict[str, str]:
        arn = "/".join(unquote(self.path).split("/")[2:])
        for cluster in self.eks_backend.clusters.values():
            if cluster.arn == arn:
                return cluster.tags
            for nodegroup in cluster.nodegroups.values():
                if nodegroup.arn == arn:
                    return nodegroup.tags
            for addon in _state(cluster)["addons"].values():
                if addon["addonArn"] == arn:
                    return addon["tags"]
            for entry in _state(cluster)["access"].values():
                if entry["accessEntryArn"] == arn:
                    return entry["tags"]
        raise _not_found(f"Resource was not found: {arn}")

    def tag_resource(self: Any) -> ActionResult:
        tags = self._tagged()
        new = self._body().get("tags") or {}
        bad = sorted(k for k in new if k.lower().startswith("aws:"))
        if bad:
            raise _invalid(f"Tag keys starting with aws: are reserved: {bad}")
        tags.update(new)
        return EmptyResult()

    def untag_resource(self: Any) -> ActionResult:
        tags = self._tagged()
        for key in self.querystring.get("tagKeys", []):
            tags.pop(key, None)
        return EmptyResult()

    def list_tags_for_resource(self: Any) -> ActionResult:
        return ActionResult({"tags": dict(self._tagged())})


# ---------------------------------------------------------------- validation and views

def _check_endpoint(public: Any, private: Any) -> None:
    if not public and not private:
        raise _invalid("Cluster must have either public or private API endpoint access enabled")


def _check_logging(logging: Any) -> None:
    for setup in (logging or {}).get("clusterLogging", []):
        bad = [t for t in setup.get("types", []) if t not in LOG_TYPES]
        if bad:
            raise _invalid(f"Unsupported log types: {bad}; valid types are {list(LOG_TYPES)}")


def _enabled_logs(logging: Any) -> set[str]:
    enabled: set[str] = set()
    for setup in (logging or {}).get("clusterLogging", []):
        if setup.get("enabled"):
            enabled.update(setup.get("types", []))
    return enabled


def _logging_of(enabled: set[str]) -> dict[str, Any]:
    setups = [{"types": [t for t in LOG_TYPES if t in enabled], "enabled": True},
              {"types": [t for t in LOG_TYPES if t not in enabled], "enabled": False}]
    return {"clusterLogging": [s for s in setups if s["types"]]}


def _check_scaling(scaling: dict[str, Any]) -> None:
    low, high, desired = scaling.get("minSize", 0), scaling.get("maxSize", 1), scaling.get("desiredSize", 0)
    if high < 1:
        raise _invalid("Maximum capacity must be at least 1")
    if not low <= desired <= high:
        raise _invalid(f"Minimum capacity {low} can't be greater than desired size {desired}" if low > desired
                       else f"Desired capacity {desired} can't be greater than max size {high}")


def _check_taint(taint: dict[str, Any]) -> None:
    if taint.get("effect") not in TAINT_EFFECTS:
        raise _invalid(f"Invalid taint effect {taint.get('effect')}; valid effects are {list(TAINT_EFFECTS)}")
    if not taint.get("key"):
        raise _invalid("A taint key is required")


def _check_update_config(config: dict[str, Any]) -> None:
    if ("maxUnavailable" in config) == ("maxUnavailablePercentage" in config):
        raise _invalid("Exactly one of maxUnavailable and maxUnavailablePercentage must be specified in updateConfig")
    if "maxUnavailablePercentage" in config and not 1 <= config["maxUnavailablePercentage"] <= 100:
        raise _invalid("maxUnavailablePercentage must be between 1 and 100")
    if "maxUnavailable" in config and not 1 <= config["maxUnavailable"] <= 100:
        raise _invalid("maxUnavailable must be between 1 and 100")


def _release(version: str) -> str:
    return f"{version}.0-20261115"


def _semver(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version))


def _addon_version(name: str, version: str | None, cluster_version: str) -> str:
    offered = _addon_versions(name, _minor(cluster_version))
    if not version:
        return next(v for v, default in offered if default)
    if version not in [v for v, _default in offered]:
        raise _invalid(f"Addon version specified is not supported for {name} on Kubernetes {cluster_version}: {version}")
    return version


def _check_addon_inputs(body: dict[str, Any]) -> None:
    role = body.get("serviceAccountRoleArn")
    if role and not ROLE_ARN.match(role):
        raise _invalid(f"Invalid Role Arn: '{role}'")
    if body.get("resolveConflicts") not in (None, "OVERWRITE", "NONE", "PRESERVE"):
        raise _invalid(f"Invalid resolveConflicts value: {body['resolveConflicts']}")
    values = body.get("configurationValues")
    if values:
        try:
            parsed = yaml.safe_load(values)
        except yaml.YAMLError as err:
            raise _invalid(f"ConfigurationValue provided in request is not supported: {err}") from None
        if not isinstance(parsed, dict):
            raise _invalid("ConfigurationValue provided in request is not supported: it must be a JSON or YAML object")


def _addon_view(addon: dict[str, Any], cluster: Any, status: str | None = None) -> dict[str, Any]:
    view = {k: v for k, v in addon.items() if not k.startswith("_")}
    if status is None:
        status = "CREATING" if time.monotonic() < addon["_ready_at"] else "ACTIVE"
        if status == "ACTIVE" and _running(cluster, addon=addon["addonName"]):
            status = "UPDATING"
    view["status"] = status
    return view


def _check_groups(kind: str, groups: list[str], username: str | None) -> None:
    if kind != "STANDARD" and (groups or username):
        raise _invalid(f"kubernetesGroups and username cannot be specified for access entries of type {kind}")
    bad = [g for g in groups if g.startswith("system:")]
    if bad:
        raise _invalid(f"The kubernetesGroups parameter cannot contain groups starting with 'system:': {bad}")


def _new_access_entry(cluster: Any, principal: str, kind: str, groups: list[str], username: str | None,
                      tags: dict[str, str], partition: str = "aws", region: str | None = None,
                      account: str | None = None) -> dict[str, Any]:
    arn_parts = cluster.arn.split(":")
    region, account = region or arn_parts[3], account or arn_parts[4]
    account_of_principal, rest = principal.split(":", 5)[4], principal.split(":", 5)[5]
    if username is None:
        if kind == "STANDARD" and rest.startswith("role/"):
            username = f"arn:{partition}:sts::{account_of_principal}:assumed-role/{rest.rsplit('/', 1)[-1]}/{{{{SessionName}}}}"
        elif kind == "STANDARD":
            username = principal
        elif kind in ("EC2_LINUX", "EC2_WINDOWS", "EC2"):
            username = "system:node:{{EC2PrivateDNSName}}"
        else:
            username = "system:node:{{SessionName}}"
    now = utcnow()
    entry = {
        "clusterName": cluster.name, "principalArn": principal, "kubernetesGroups": list(groups),
        "accessEntryArn": f"arn:{partition}:eks:{region}:{account}:access-entry/{cluster.name}/{rest.split('/', 1)[0]}/"
                          f"{account_of_principal}/{rest.rsplit('/', 1)[-1]}/{uuid.uuid4().hex[:8]}",
        "createdAt": now, "modifiedAt": now, "tags": tags, "username": username, "type": kind, "policies": {},
    }
    _state(cluster)["access"][principal] = entry
    return entry


def _entry_view(entry: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in entry.items() if k != "policies"}


# ---------------------------------------------------------------- install

_ROUTES = {
    "{0}/clusters/(?P<name>[^/]+)/(?P<subresource>.+)$": None,
    "{0}/addons/supported-versions$": None,
    "{0}/access-policies$": None,
}


def apply() -> None:
    """Install the handlers on moto's EKSResponse and the routes moto's server needs; idempotent."""
    if getattr(EKSResponse, "_msa_extended", False):
        return
    for name, member in vars(_Handlers).items():
        if callable(member) and not name.startswith("__"):
            setattr(EKSResponse, name, member)
    for cls, getter in ((models.Cluster, _cluster_status), (models.Nodegroup, _nodegroup_status)):
        cls.status = property(getter, _set_status)
    for route in _ROUTES:
        urls.url_paths.setdefault(route, urls.response.dispatch)
    EKSResponse._msa_extended = True
