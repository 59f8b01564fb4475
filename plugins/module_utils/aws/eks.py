# Copyright: msa.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""EKS helpers for the msa.platform.eks_* modules: the pure diff logic (what EKS calls a desired state
needs, which changes EKS cannot make in place) and a few client helpers (describe-or-None, waiting for an
update, tags).

The pure functions take the module's parameters (snake_case, as the argument_spec gives them) and the
resource as DescribeX returns it (camelCase), and return request bodies for boto3. They never raise on bad
input: problems come back as a list of messages, each naming the option, so a module reports every problem
at once before it touches AWS.
"""
from __future__ import annotations

import ipaddress
import json
import re
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

from ansible_collections.msa.platform.plugins.module_utils.aws.client import RecordingClient

try:
    import yaml
    _PARSE_ERRORS: Tuple[type, ...] = (ValueError, yaml.YAMLError)
    _parse = yaml.safe_load
except ImportError:  # without PyYAML, JSON only
    yaml = None  # type: ignore[assignment]
    _PARSE_ERRORS = (ValueError,)
    _parse = json.loads

VERSION_RE = re.compile(r"1\.([1-9]\d)")  # 1.10 .. 1.99; "1.3" is what YAML makes of an unquoted 1.30
LOG_TYPES = ("api", "audit", "authenticator", "controllerManager", "scheduler")
AUTH_MODES = ("CONFIG_MAP", "API_AND_CONFIG_MAP", "API")  # EKS moves only left to right
TAINT_EFFECTS = {
    "NO_SCHEDULE": "NO_SCHEDULE", "NoSchedule": "NO_SCHEDULE",
    "NO_EXECUTE": "NO_EXECUTE", "NoExecute": "NO_EXECUTE",
    "PREFER_NO_SCHEDULE": "PREFER_NO_SCHEDULE", "PreferNoSchedule": "PREFER_NO_SCHEDULE",
}
ACCESS_POLICY_PREFIX = "arn:{partition}:eks::aws:cluster-access-policy/"

Problems = List[str]


# ------------------------------------------------------------------ shared

def minor(version: Any) -> Optional[int]:
    """The minor of a "1.NN" Kubernetes version, or None when it is not one."""
    match = VERSION_RE.fullmatch(str(version)) if isinstance(version, str) else None
    return int(match.group(1)) if match else None


def version_problems(field: str, version: Any) -> Problems:
    if version is None or minor(version) is not None:
        return []
    if re.fullmatch(r"1\.[1-9]", str(version)):
        return [f"{field}: {version!r} is not a Kubernetes version; an unquoted YAML 1.30 reads as the number 1.3: quote it (\"1.30\")"]
    return [f"{field}: {version!r} is not a Kubernetes minor version such as '1.34'"]


def version_step(field: str, current: str, desired: Optional[str]) -> Tuple[Optional[str], Problems]:
    """The version to update to (or None), refusing downgrades and skipped minors."""
    if not desired or desired == current:
        return None, []
    have, want = minor(current), minor(desired)
    if want is None:
        return None, [f"{field}: {desired!r} is not a Kubernetes minor version such as '1.34'"]
    if have is None:
        return None, [f"{field}: the current version {current!r} is not a Kubernetes minor version"]
    if want < have:
        return None, [f"{field}: {current} -> {desired} is a downgrade; EKS cannot downgrade Kubernetes. "
                      f"Keep {field} at {current} or later"]
    if want > have + 1:
        return None, [f"{field}: {current} -> {desired} skips 1.{have + 1}; EKS upgrades one minor version at a time. "
                      f"Set {field} to 1.{have + 1} first, then to {desired}"]
    return desired, []


def tag_changes(current: Optional[Dict[str, str]], desired: Optional[Dict[str, str]], purge: bool) -> Tuple[Dict[str, str], List[str]]:
    """(tags to set, keys to remove). `desired=None` leaves tags alone."""
    current = current or {}
    if desired is None:
        return {}, []
    add = {k: str(v) for k, v in desired.items() if current.get(k) != str(v)}
    remove = sorted(k for k in current if k not in desired and not k.startswith("aws:")) if purge else []
    return add, remove


def immutable(field: str, kind: str, name: str, have: Any, want: Any, what_to_do: str) -> str:
    return (f"{field}: {kind} {name} has {have!r}, wanted {want!r}; EKS cannot change {field} in place. {what_to_do}")


def cidr_problems(field: str, cidrs: Optional[List[Any]]) -> Problems:
    problems = []
    for index, cidr in enumerate(cidrs or []):
        try:
            ipaddress.ip_network(str(cidr), strict=True)
        except ValueError as err:
            problems.append(f"{field}[{index}]: {cidr!r} is not a CIDR block ({err})")
    return problems


# ------------------------------------------------------------------ clusters

def cluster_problems(params: Dict[str, Any]) -> Problems:
    """Input checks of eks_cluster that the argument_spec cannot express."""
    problems = version_problems("version", params.get("version"))
    problems += cidr_problems("public_access_cidrs", params.get("public_access_cidrs"))
    if params.get("service_ipv4_cidr"):
        problems += cidr_problems("service_ipv4_cidr", [params["service_ipv4_cidr"]])
    if params.get("endpoint_public_access") is False and params.get("endpoint_private_access") is False:
        problems.append("endpoint_public_access, endpoint_private_access: at least one endpoint must be enabled")
    if params.get("endpoint_public_access") is False and params.get("public_access_cidrs"):
        problems.append("public_access_cidrs: only allowed while endpoint_public_access is true")
    return problems


def cluster_create_request(params: Dict[str, Any]) -> Tuple[Dict[str, Any], Problems]:
    problems = [f"{field}: required to create cluster {params['name']}" for field in ("role_arn", "subnets") if not params.get(field)]
    vpc: Dict[str, Any] = {"subnetIds": params.get("subnets") or []}
    if params.get("security_groups") is not None:
        vpc["securityGroupIds"] = params["security_groups"]
    for option, key in (("endpoint_public_access", "endpointPublicAccess"), ("endpoint_private_access", "endpointPrivateAccess"),
                        ("public_access_cidrs", "publicAccessCidrs")):
        if params.get(option) is not None:
            vpc[key] = params[option]
    request: Dict[str, Any] = {"name": params["name"], "roleArn": params.get("role_arn"), "resourcesVpcConfig": vpc}
    if params.get("version"):
        request["version"] = params["version"]
    if params.get("service_ipv4_cidr"):
        request["kubernetesNetworkConfig"] = {"serviceIpv4Cidr": params["service_ipv4_cidr"]}
    if params.get("logging") is not None:
        request["logging"] = logging_request(params["logging"])
    access = {}
    if params.get("authentication_mode"):
        access["authenticationMode"] = params["authentication_mode"]
    if params.get("bootstrap_cluster_creator_admin_permissions") is not None:
        access["bootstrapClusterCreatorAdminPermissions"] = params["bootstrap_cluster_creator_admin_permissions"]
    if access:
        request["accessConfig"] = access
    if params.get("tags"):
        request["tags"] = {k: str(v) for k, v in params["tags"].items()}
    return request, problems


def enabled_logs(logging: Optional[Dict[str, Any]]) -> List[str]:
    enabled = set()
    for setup in (logging or {}).get("clusterLogging", []):
        if setup.get("enabled"):
            enabled.update(setup.get("types", []))
    return [t for t in LOG_TYPES if t in enabled]


def logging_request(enabled: List[str]) -> Dict[str, Any]:
    setups = [{"types": [t for t in LOG_TYPES if t in enabled], "enabled": True},
              {"types": [t for t in LOG_TYPES if t not in enabled], "enabled": False}]
    return {"clusterLogging": [s for s in setups if s["types"]]}


def cluster_updates(cluster: Dict[str, Any], params: Dict[str, Any]) -> Tuple[List[Tuple[str, Dict[str, Any]]], Problems]:
    """The update calls (operation, request) that bring `cluster` to `params`, in the order they must run,
    or the problems that stop it (immutable fields, version skips). Tags are separate (`tag_changes`)."""
    name = cluster["name"]
    problems: Problems = []
    calls: List[Tuple[str, Dict[str, Any]]] = []
    todo = "Delete the cluster and create it again (teardown and rebuild) to change it."
    if params.get("role_arn") and params["role_arn"] != cluster.get("roleArn"):
        problems.append(immutable("role_arn", "cluster", name, cluster.get("roleArn"), params["role_arn"], todo))
    network = cluster.get("kubernetesNetworkConfig") or {}
    if params.get("service_ipv4_cidr") and params["service_ipv4_cidr"] != network.get("serviceIpv4Cidr"):
        problems.append(immutable("service_ipv4_cidr", "cluster", name, network.get("serviceIpv4Cidr"), params["service_ipv4_cidr"], todo))
    version, version_problems = version_step("version", cluster.get("version", ""), params.get("version"))
    problems += version_problems
    vpc = cluster.get("resourcesVpcConfig") or {}
    mode = (cluster.get("accessConfig") or {}).get("authenticationMode", "CONFIG_MAP")
    want_mode = params.get("authentication_mode")
    if want_mode and want_mode != mode and AUTH_MODES.index(want_mode) < AUTH_MODES.index(mode):
        problems.append(f"authentication_mode: cluster {name} uses {mode}; EKS moves only CONFIG_MAP -> API_AND_CONFIG_MAP -> API, "
                        f"never back to {want_mode}. Keep {mode} or rebuild the cluster")
    want_bootstrap = params.get("bootstrap_cluster_creator_admin_permissions")
    have_bootstrap = (cluster.get("accessConfig") or {}).get("bootstrapClusterCreatorAdminPermissions")
    if want_bootstrap is not None and have_bootstrap is not None and want_bootstrap != have_bootstrap:
        problems.append(f"bootstrap_cluster_creator_admin_permissions: cluster {name} was created with {have_bootstrap}; it only "
                        "applies at creation. Manage the creator's access with msa.platform.eks_access_entry instead")
    if problems:
        return [], problems
    if version:
        calls.append(("update_cluster_version", {"name": name, "version": version}))
    endpoint = {}
    for option, key in (("endpoint_public_access", "endpointPublicAccess"), ("endpoint_private_access", "endpointPrivateAccess")):
        if params.get(option) is not None and params[option] != vpc.get(key):
            endpoint[key] = params[option]
    public = params["endpoint_public_access"] if params.get("endpoint_public_access") is not None else vpc.get("endpointPublicAccess", True)
    if params.get("public_access_cidrs") is not None and public:
        if sorted(params["public_access_cidrs"] or ["0.0.0.0/0"]) != sorted(vpc.get("publicAccessCidrs") or ["0.0.0.0/0"]):
            endpoint["publicAccessCidrs"] = params["public_access_cidrs"] or ["0.0.0.0/0"]
    if endpoint:
        calls.append(("update_cluster_config", {"name": name, "resourcesVpcConfig": endpoint}))
    placement = {}
    if params.get("subnets") and sorted(params["subnets"]) != sorted(vpc.get("subnetIds") or []):
        placement["subnetIds"] = params["subnets"]
    if params.get("security_groups") is not None and sorted(params["security_groups"]) != sorted(vpc.get("securityGroupIds") or []):
        placement["securityGroupIds"] = params["security_groups"]
    if placement:
        placement.setdefault("subnetIds", vpc.get("subnetIds") or [])
        calls.append(("update_cluster_config", {"name": name, "resourcesVpcConfig": placement}))
    if params.get("logging") is not None and sorted(params["logging"]) != sorted(enabled_logs(cluster.get("logging"))):
        calls.append(("update_cluster_config", {"name": name, "logging": logging_request(params["logging"])}))
    if want_mode and want_mode != mode:
        for step in AUTH_MODES[AUTH_MODES.index(mode) + 1:AUTH_MODES.index(want_mode) + 1]:
            calls.append(("update_cluster_config", {"name": name, "accessConfig": {"authenticationMode": step}}))
    return calls, []


def cluster_view(cluster: Optional[Dict[str, Any]]) -> Dict[str, Any]:
    """The managed fields of a cluster, for diff mode."""
    if not cluster:
        return {}
    vpc = cluster.get("resourcesVpcConfig") or {}
    access = cluster.get("accessConfig") or {}
    return {
        "name": cluster.get("name"), "version": cluster.get("version"), "role_arn": cluster.get("roleArn"),
        "subnets": sorted(vpc.get("subnetIds") or []), "security_groups": sorted(vpc.get("securityGroupIds") or []),
        "endpoint_public_access": vpc.get("endpointPublicAccess"), "endpoint_private_access": vpc.get("endpointPrivateAccess"),
        "public_access_cidrs": sorted(vpc.get("publicAccessCidrs") or []),
        "service_ipv4_cidr": (cluster.get("kubernetesNetworkConfig") or {}).get("serviceIpv4Cidr"),
        "authentication_mode": access.get("authenticationMode"), "logging": enabled_logs(cluster.get("logging")),
        "tags": dict(cluster.get("tags") or {}),
    }


def apply_cluster_calls(view: Dict[str, Any], calls: List[Tuple[str, Dict[str, Any]]]) -> Dict[str, Any]:
    """What `cluster_view` will show once `calls` ran (diff mode 'after' without calling AWS)."""
    after = json.loads(json.dumps(view))
    for operation, request in calls:
        if operation == "update_cluster_version":
            after["version"] = request["version"]
        vpc = request.get("resourcesVpcConfig") or {}
        for key, option in (("endpointPublicAccess", "endpoint_public_access"), ("endpointPrivateAccess", "endpoint_private_access"),
                            ("publicAccessCidrs", "public_access_cidrs"), ("subnetIds", "subnets"), ("securityGroupIds", "security_groups")):
            if key in vpc:
                after[option] = sorted(vpc[key]) if isinstance(vpc[key], list) else vpc[key]
        if "logging" in request:
            after["logging"] = enabled_logs(request["logging"])
        if "accessConfig" in request:
            after["authentication_mode"] = request["accessConfig"]["authenticationMode"]
    return after


# ------------------------------------------------------------------ node groups

def taint_key(taint: Dict[str, Any]) -> Tuple[str, str]:
    return taint["key"], taint["effect"]


def normalize_taints(taints: Optional[List[Dict[str, Any]]], field: str = "taints") -> Tuple[List[Dict[str, str]], Problems]:
    """Taints with EKS effect names (Kubernetes names mapped) and "" for a missing value."""
    result, problems, seen = [], [], set()
    for index, taint in enumerate(taints or []):
        if not isinstance(taint, dict):
            problems.append(f"{field}[{index}]: must be a dict with key, value and effect")
            continue
        effect = TAINT_EFFECTS.get(str(taint.get("effect")))
        if not taint.get("key"):
            problems.append(f"{field}[{index}].key: required")
        if effect is None:
            problems.append(f"{field}[{index}].effect: {taint.get('effect')!r} is not one of NO_SCHEDULE, NO_EXECUTE, "
                            "PREFER_NO_SCHEDULE (or NoSchedule, NoExecute, PreferNoSchedule)")
        if not taint.get("key") or effect is None:
            continue
        item = {"key": str(taint["key"]), "value": "" if taint.get("value") is None else str(taint["value"]), "effect": effect}
        if taint_key(item) in seen:
            problems.append(f"{field}[{index}]: a second taint with key {item['key']!r} and effect {effect}")
        seen.add(taint_key(item))
        result.append(item)
    return result, problems


def _eks_taint(taint: Dict[str, str]) -> Dict[str, str]:
    return {k: v for k, v in taint.items() if not (k == "value" and v == "")}


def nodegroup_problems(params: Dict[str, Any]) -> Problems:
    problems = version_problems("version", params.get("version"))
    _taints, taint_problems = normalize_taints(params.get("taints"))
    problems += taint_problems
    scaling = params.get("scaling") or {}
    low, high, desired = scaling.get("min_size"), scaling.get("max_size"), scaling.get("desired_size")
    if high is not None and high < 1:
        problems.append("scaling.max_size: must be at least 1")
    if low is not None and high is not None and low > high:
        problems.append(f"scaling.min_size: {low} is greater than scaling.max_size {high}")
    if desired is not None and ((low is not None and desired < low) or (high is not None and desired > high)):
        problems.append(f"scaling.desired_size: {desired} is outside min_size..max_size ({low}..{high})")
    update = params.get("update_config") or {}
    if update and (update.get("max_unavailable") is None) == (update.get("max_unavailable_percentage") is None):
        problems.append("update_config: set exactly one of max_unavailable and max_unavailable_percentage")
    template = params.get("launch_template") or {}
    if template and bool(template.get("id")) == bool(template.get("name")):
        problems.append("launch_template: set exactly one of id and name")
    for key, value in (params.get("labels") or {}).items():
        if not isinstance(value, (str, int, float, bool)):
            problems.append(f"labels.{key}: must be a string, not {type(value).__name__}")
    return problems


def _scaling_request(scaling: Dict[str, Any]) -> Dict[str, int]:
    keys = (("min_size", "minSize"), ("max_size", "maxSize"), ("desired_size", "desiredSize"))
    return {key: scaling[option] for option, key in keys if scaling.get(option) is not None}


def _update_config_request(update: Dict[str, Any]) -> Dict[str, int]:
    if update.get("max_unavailable") is not None:
        return {"maxUnavailable": update["max_unavailable"]}
    return {"maxUnavailablePercentage": update["max_unavailable_percentage"]}


def _template_request(template: Dict[str, Any]) -> Dict[str, str]:
    request = {"id": template["id"]} if template.get("id") else {"name": template["name"]}
    if template.get("version") is not None:
        request["version"] = str(template["version"])
    return request


def nodegroup_create_request(params: Dict[str, Any]) -> Tuple[Dict[str, Any], Problems]:
    name = params["name"]
    problems = [f"{field}: required to create node group {name}" for field in ("node_role_arn", "subnets") if not params.get(field)]
    taints, _problems = normalize_taints(params.get("taints"))
    request: Dict[str, Any] = {
        "clusterName": params["cluster_name"], "nodegroupName": name, "nodeRole": params.get("node_role_arn"),
        "subnets": params.get("subnets") or [],
        "scalingConfig": {"minSize": 1, "maxSize": 2, "desiredSize": 2, **_scaling_request(params.get("scaling") or {})},
        "labels": {k: str(v) for k, v in (params.get("labels") or {}).items()},
        "taints": [_eks_taint(t) for t in taints],
    }
    scaling = request["scalingConfig"]
    scaling["desiredSize"] = min(max(scaling["desiredSize"], scaling["minSize"]), scaling["maxSize"])
    for option, key in (("instance_types", "instanceTypes"), ("capacity_type", "capacityType"), ("ami_type", "amiType"),
                        ("version", "version"), ("release_version", "releaseVersion"), ("disk_size", "diskSize")):
        if params.get(option) is not None:
            request[key] = params[option]
    if params.get("launch_template"):
        request["launchTemplate"] = _template_request(params["launch_template"])
    if params.get("update_config"):
        request["updateConfig"] = _update_config_request(params["update_config"])
    if params.get("tags"):
        request["tags"] = {k: str(v) for k, v in params["tags"].items()}
    return request, problems


def nodegroup_updates(nodegroup: Dict[str, Any], params: Dict[str, Any],
                      cluster_version: Optional[str] = None) -> Tuple[List[Tuple[str, Dict[str, Any]]], Problems]:
    """The update calls that bring `nodegroup` to `params`: at most one UpdateNodegroupConfig (labels, taints,
    scaling, update config together) and one UpdateNodegroupVersion; or the problems that stop it."""
    name, cluster_name = nodegroup["nodegroupName"], nodegroup["clusterName"]
    problems: Problems = []
    todo = "Create a node group with the new value, move the workloads, then delete this one."
    for option, key in (("instance_types", "instanceTypes"), ("capacity_type", "capacityType"), ("ami_type", "amiType"),
                        ("node_role_arn", "nodeRole"), ("disk_size", "diskSize")):
        want, have = params.get(option), nodegroup.get(key)
        if want is None or have is None:
            continue
        same = sorted(want) == sorted(have) if isinstance(want, list) else str(want) == str(have)
        if not same:
            problems.append(immutable(option, "node group", name, have, want, todo))
    if params.get("subnets") and sorted(params["subnets"]) != sorted(nodegroup.get("subnets") or []):
        problems.append(immutable("subnets", "node group", name, sorted(nodegroup.get("subnets") or []), sorted(params["subnets"]), todo))
    template, have_template = params.get("launch_template") or {}, nodegroup.get("launchTemplate") or {}
    if template and not have_template:
        problems.append(immutable("launch_template", "node group", name, None, template, todo))
    elif template and (template.get("id") or template.get("name")) not in (have_template.get("id"), have_template.get("name")):
        problems.append(immutable("launch_template", "node group", name, have_template.get("name") or have_template.get("id"),
                                  template.get("name") or template.get("id"), todo))
    version, version_problems = version_step("version", nodegroup.get("version", ""), params.get("version"))
    problems += version_problems
    if version and cluster_version and minor(version) is not None and minor(cluster_version) is not None \
            and minor(version) > minor(cluster_version):
        problems.append(f"version: node group {name} cannot run {version} before cluster {cluster_name} (at {cluster_version}) is upgraded")
    if problems:
        return [], problems

    config: Dict[str, Any] = {}
    if params.get("labels") is not None:
        have = nodegroup.get("labels") or {}
        want = {k: str(v) for k, v in params["labels"].items()}
        add = {k: v for k, v in want.items() if have.get(k) != v}
        remove = sorted(k for k in have if k not in want)
        if add or remove:
            config["labels"] = {key: value for key, value in (("addOrUpdateLabels", add), ("removeLabels", remove)) if value}
    if params.get("taints") is not None:
        have_taints, _p = normalize_taints(nodegroup.get("taints") or [])
        want_taints, _p = normalize_taints(params["taints"])
        have_by = {taint_key(t): t for t in have_taints}
        want_by = {taint_key(t): t for t in want_taints}
        add_t = [_eks_taint(t) for k, t in want_by.items() if have_by.get(k) != t]
        remove_t = [_eks_taint(t) for k, t in have_by.items() if k not in want_by]
        if add_t or remove_t:
            config["taints"] = {key: value for key, value in (("addOrUpdateTaints", add_t), ("removeTaints", remove_t)) if value}
    scaling = dict(params.get("scaling") or {})
    have_scaling = nodegroup.get("scalingConfig") or {}
    if params.get("ignore_desired_size"):
        low = scaling.get("min_size", have_scaling.get("minSize", 0))
        high = scaling.get("max_size", have_scaling.get("maxSize", 1))
        current = have_scaling.get("desiredSize", low)
        scaling["desired_size"] = min(max(current, low), high)  # keep the autoscaler's value unless out of bounds
    want_scaling = _scaling_request(scaling)
    if any(have_scaling.get(k) != v for k, v in want_scaling.items()):
        config["scalingConfig"] = {**{k: have_scaling[k] for k in ("minSize", "maxSize", "desiredSize") if k in have_scaling},
                                   **want_scaling}
    if params.get("update_config"):
        want_update = _update_config_request(params["update_config"])
        have_update = {k: v for k, v in (nodegroup.get("updateConfig") or {}).items() if k in ("maxUnavailable", "maxUnavailablePercentage")}
        if want_update != have_update:
            config["updateConfig"] = want_update
    calls: List[Tuple[str, Dict[str, Any]]] = []
    if config:
        calls.append(("update_nodegroup_config", {"clusterName": cluster_name, "nodegroupName": name, **config}))
    version_request: Dict[str, Any] = {}
    if version:
        version_request["version"] = version
    if params.get("release_version") and params["release_version"] != nodegroup.get("releaseVersion"):
        version_request["releaseVersion"] = params["release_version"]
        version_request.setdefault("version", nodegroup.get("version"))
    if template and template.get("version") is not None and str(template["version"]) != str(have_template.get("version")):
        version_request["launchTemplate"] = _template_request(template)
    if version_request:
        calls.append(("update_nodegroup_version", {"clusterName": cluster_name, "nodegroupName": name, **version_request}))
    return calls, []


def nodegroup_view(nodegroup: Optional[Dict[str, Any]]) -> Dict[str, Any]:
    if not nodegroup:
        return {}
    taints, _p = normalize_taints(nodegroup.get("taints") or [])
    scaling = nodegroup.get("scalingConfig") or {}
    update = nodegroup.get("updateConfig") or {}
    template = nodegroup.get("launchTemplate") or {}
    return {
        "name": nodegroup.get("nodegroupName"), "version": nodegroup.get("version"), "release_version": nodegroup.get("releaseVersion"),
        "instance_types": nodegroup.get("instanceTypes"), "capacity_type": nodegroup.get("capacityType"),
        "ami_type": nodegroup.get("amiType"), "subnets": sorted(nodegroup.get("subnets") or []),
        "labels": dict(nodegroup.get("labels") or {}), "taints": sorted(taints, key=taint_key),
        "scaling": {"min_size": scaling.get("minSize"), "max_size": scaling.get("maxSize"), "desired_size": scaling.get("desiredSize")},
        "update_config": {"max_unavailable": update.get("maxUnavailable"), "max_unavailable_percentage": update.get("maxUnavailablePercentage")},
        "launch_template": {"id": template.get("id"), "name": template.get("name"), "version": template.get("version")} if template else None,
        "tags": dict(nodegroup.get("tags") or {}),
    }


def apply_nodegroup_calls(nodegroup: Dict[str, Any], calls: List[Tuple[str, Dict[str, Any]]]) -> Dict[str, Any]:
    """The node group as DescribeNodegroup will show it once `calls` ran (for check and diff mode)."""
    after = json.loads(json.dumps(nodegroup, default=str))
    for _operation, request in calls:
        labels = request.get("labels") or {}
        after.setdefault("labels", {}).update(labels.get("addOrUpdateLabels") or {})
        for key in labels.get("removeLabels") or []:
            after["labels"].pop(key, None)
        taints = request.get("taints") or {}
        current, _p = normalize_taints(after.get("taints") or [])
        changed = {taint_key(t) for t in normalize_taints(taints.get("removeTaints") or [])[0] + normalize_taints(taints.get("addOrUpdateTaints") or [])[0]}
        after["taints"] = [t for t in current if taint_key(t) not in changed] + normalize_taints(taints.get("addOrUpdateTaints") or [])[0]
        if "scalingConfig" in request:
            after["scalingConfig"] = {**(after.get("scalingConfig") or {}), **request["scalingConfig"]}
        if "updateConfig" in request:
            after["updateConfig"] = request["updateConfig"]
        for key in ("version", "releaseVersion"):
            if key in request:
                after[key] = request[key]
        if "launchTemplate" in request:
            after["launchTemplate"] = {**(after.get("launchTemplate") or {}), **request["launchTemplate"]}
    return after


# ------------------------------------------------------------------ add-ons

def configuration_values(value: Any, field: str = "configuration_values") -> Tuple[Optional[Dict[str, Any]], Problems]:
    """configuration_values as a dict: given as a dict, or a JSON / YAML string of an object."""
    if value is None:
        return None, []
    if isinstance(value, dict):
        return value, []
    if isinstance(value, str):
        if not value.strip():
            return {}, []
        try:
            parsed = _parse(value)
        except _PARSE_ERRORS as err:
            return None, [f"{field}: not valid JSON or YAML ({err})"]
        if isinstance(parsed, dict):
            return parsed, []
    return None, [f"{field}: must be a dict, or a JSON or YAML string of an object"]


def addon_version_choice(catalogue: List[Dict[str, Any]], name: str, cluster_version: str, wanted: Optional[str]) -> Tuple[Optional[str], Problems]:
    """Resolve `latest` / `default` / an explicit version against DescribeAddonVersions' `addons` for the
    cluster's Kubernetes version."""
    if wanted is None:
        return None, []
    versions = []
    for info in catalogue:
        if info.get("addonName") != name:
            continue
        for item in info.get("addonVersions") or []:
            for compat in item.get("compatibilities") or []:
                if compat.get("clusterVersion") == cluster_version:
                    versions.append((item["addonVersion"], bool(compat.get("defaultVersion"))))
    if not versions:
        return None, [f"name: EKS offers no version of add-on {name!r} for Kubernetes {cluster_version}"]
    if wanted == "latest":
        return max(versions, key=lambda v: semver(v[0]))[0], []
    if wanted == "default":
        defaults = [v for v, default in versions if default]
        return (defaults[0] if defaults else max(versions, key=lambda v: semver(v[0]))[0]), []
    if wanted not in [v for v, _d in versions]:
        offered = ", ".join(sorted((v for v, _d in versions), key=semver, reverse=True))
        return None, [f"version: add-on {name} has no version {wanted} for Kubernetes {cluster_version}; offered: {offered}"]
    return wanted, []


def semver(version: str) -> Tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version))


def addon_update_request(addon: Dict[str, Any], version: Optional[str], params: Dict[str, Any],
                         config: Optional[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
    request: Dict[str, Any] = {}
    if version and version != addon.get("addonVersion"):
        request["addonVersion"] = version
    role = params.get("service_account_role_arn")
    if role and role != addon.get("serviceAccountRoleArn"):
        request["serviceAccountRoleArn"] = role
    if config is not None:
        have, _p = configuration_values(addon.get("configurationValues") or "")
        if have != config:
            request["configurationValues"] = json.dumps(config, sort_keys=True) if config else ""
    if not request:
        return None
    request.update({"clusterName": addon["clusterName"], "addonName": addon["addonName"]})
    if params.get("resolve_conflicts"):
        request["resolveConflicts"] = params["resolve_conflicts"]
    return request


# ------------------------------------------------------------------ access entries

def policy_arn(name_or_arn: str, partition: str = "aws") -> str:
    if name_or_arn.startswith("arn:"):
        return name_or_arn
    return ACCESS_POLICY_PREFIX.format(partition=partition) + name_or_arn


def access_policies(policies: Optional[List[Dict[str, Any]]], partition: str = "aws") -> Tuple[Dict[str, Dict[str, Any]], Problems]:
    """policy ARN -> accessScope, from the module's `policies` option."""
    result: Dict[str, Dict[str, Any]] = {}
    problems = []
    for index, policy in enumerate(policies or []):
        field = f"policies[{index}]"
        arn = policy_arn(str(policy.get("policy_arn") or ""), partition)
        if not policy.get("policy_arn"):
            problems.append(f"{field}.policy_arn: required")
            continue
        scope = policy.get("access_scope") or {"type": "cluster"}
        kind, namespaces = scope.get("type") or "cluster", list(scope.get("namespaces") or [])
        if kind == "namespace" and not namespaces:
            problems.append(f"{field}.access_scope.namespaces: required when access_scope.type is namespace")
        if kind == "cluster" and namespaces:
            problems.append(f"{field}.access_scope.namespaces: only allowed when access_scope.type is namespace")
        if arn in result:
            problems.append(f"{field}.policy_arn: {arn} is listed twice")
        result[arn] = {"type": kind, "namespaces": sorted(namespaces)}
    return result, problems


def policy_changes(current: List[Dict[str, Any]], desired: Dict[str, Dict[str, Any]], purge: bool) -> Tuple[Dict[str, Dict[str, Any]], List[str]]:
    """(policies to associate with their scope, policy ARNs to disassociate)."""
    have = {p["policyArn"]: {"type": p["accessScope"]["type"], "namespaces": sorted(p["accessScope"].get("namespaces") or [])}
            for p in current}
    associate = {arn: scope for arn, scope in desired.items() if have.get(arn) != scope}
    remove = sorted(arn for arn in have if arn not in desired) if purge else []
    return associate, remove


# ------------------------------------------------------------------ client helpers

def wait_for_update(client: Any, update: Dict[str, Any], timeout: float, sleep: Callable[[float], None] = time.sleep,
                    **where: str) -> Dict[str, Any]:
    """Poll DescribeUpdate until the update is no longer InProgress; 1 s, then doubling up to 15 s."""
    deadline, delay = time.monotonic() + timeout, 1.0
    while update["status"] == "InProgress":
        if time.monotonic() >= deadline:
            raise TimeoutError(f"update {update['id']} ({update['type']}) still InProgress after {timeout:.0f}s")
        sleep(delay)
        delay = min(delay * 2, 15.0)
        update = client.describe_update(updateId=update["id"], **where)["update"]
    return update


def wait_for_status(describe: Callable[[], Optional[Dict[str, Any]]], ready: Tuple[str, ...], timeout: float,
                    sleep: Callable[[float], None] = time.sleep) -> Optional[Dict[str, Any]]:
    """Poll `describe` until it reports a status in `ready` (or None: gone), failing on *_FAILED."""
    deadline, delay = time.monotonic() + timeout, 1.0
    while True:
        current = describe()
        status = (current or {}).get("status")
        if current is None or status in ready:
            return current
        if status and status.endswith("FAILED"):
            raise RuntimeError(f"status {status}: {json.dumps((current.get('health') or {}).get('issues') or [], default=str)}")
        if time.monotonic() >= deadline:
            raise TimeoutError(f"status still {status} after {timeout:.0f}s")
        sleep(delay)
        delay = min(delay * 2, 15.0)


RETRY_CODES = ["Throttling", "ThrottlingException", "TooManyRequestsException", "ServiceUnavailable",
               "ServiceUnavailableException", "ServerException", "InternalError"]


class Eks(RecordingClient):
    """The EKS client of one module run (client.RecordingClient: AWSRetry, mutating calls recorded, absent as None);
    updates run one after the other (EKS refuses a second update while one runs)."""

    def __init__(self, module: Any, retry: Any):
        super().__init__(module, "eks", retry, RETRY_CODES, not_found=("ResourceNotFoundException",))

    def run_update(self, operation: str, request: Dict[str, Any], timeout: float) -> Dict[str, Any]:
        """Start one update and wait until EKS reports it finished; fail if it did not succeed."""
        where = {"name": request.get("name") or request["clusterName"]}
        for key in ("nodegroupName", "addonName"):
            if request.get(key):
                where[key] = request[key]
        update = self.change(operation, **request)["update"]
        update = wait_for_update(self.client, update, timeout, **where)
        if update["status"] != "Successful":
            raise RuntimeError(f"{operation} {update['id']} ended {update['status']}: {json.dumps(update.get('errors') or [], default=str)}")
        return update

    def sync_tags(self, arn: str, current: Optional[Dict[str, str]], desired: Optional[Dict[str, str]], purge: bool) -> bool:
        add, remove = tag_changes(current, desired, purge)
        if self.module.check_mode:
            return bool(add or remove)
        if remove:
            self.change("untag_resource", resourceArn=arn, tagKeys=remove)
        if add:
            self.change("tag_resource", resourceArn=arn, tags=add)
        return bool(add or remove)
