# Copyright: msa.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ElastiCache replication group logic for msa.platform.elasticache_replication_group (cluster mode disabled).

Pure functions: `problems()` checks the module's parameters (every message names its option) before any
AWS call; `current_view()` reads a replication group and its primary member cluster (the only place the API
reports security groups, parameter group and engine version) into the same shape as `desired_view()`;
`changes()` turns the difference into a ModifyReplicationGroup request, a replica count change, and the
differences ElastiCache cannot make in place (reported, never attempted).
"""
from __future__ import annotations

import re
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

GROUP_ID = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")          # 1-40 characters, no '--', no trailing '-'
NODE_TYPE = re.compile(r"cache\.[a-z][a-z0-9-]*\.[a-z0-9]+")
VERSION = re.compile(r"[0-9]+\.[0-9]+(\.[0-9]+)?")
AUTH_TOKEN = re.compile(r"[\x21-\x7e]{16,128}")                 # printable ASCII, no spaces
AUTH_TOKEN_FORBIDDEN = set('@"/')
PARAMETER_NAME = re.compile(r"[a-z][a-z0-9-]*")
PARAMETER_GROUP = re.compile(r"[a-zA-Z](-?[a-zA-Z0-9])*")       # 1-255 characters, no '--', no trailing '-'
FAMILY = re.compile(r"(redis[0-9]+(\.[0-9x]+)?|valkey[0-9]+)")
MAX_MODIFY = 20                                                   # ModifyCacheParameterGroup: 20 parameters a request
MAX_REPLICAS = 5
IMMUTABLE = {"transit_encryption": "TransitEncryptionEnabled", "at_rest_encryption": "AtRestEncryptionEnabled",
             "subnet_group": "CacheSubnetGroupName", "port": "Port"}


def problems(params: Dict[str, Any]) -> List[str]:
    """Every problem with the parameters, each naming its option; [] when they are usable."""
    out = []
    gid = params.get("replication_group_id") or ""
    if not (GROUP_ID.fullmatch(gid) and len(gid) <= 40):
        out.append(f"replication_group_id: {gid!r} must be 1-40 lowercase letters, digits and single hyphens, starting with a "
                   "letter and not ending with a hyphen")
    if params.get("state") == "absent":
        return out
    if params.get("node_type") is not None and not NODE_TYPE.fullmatch(params["node_type"]):
        out.append(f"node_type: {params['node_type']!r} is not an ElastiCache node type like cache.t4g.small")
    if params.get("engine_version") is not None and not VERSION.fullmatch(params["engine_version"]):
        out.append(f"engine_version: {params['engine_version']!r} is not a version like 8.0 or 7.1")
    replicas = params.get("replicas")
    if replicas is not None and not 0 <= replicas <= MAX_REPLICAS:
        out.append(f"replicas: {replicas} is outside 0..{MAX_REPLICAS} (ElastiCache: at most {MAX_REPLICAS} replicas per shard)")
    failover = automatic_failover(params)
    if failover and replicas == 0:
        out.append("automatic_failover: needs a replica to fail over to, but replicas is 0")
    if params.get("multi_az") and not failover:
        out.append("multi_az: needs automatic_failover (and a replica)")
    token = params.get("auth_token")
    if token is not None:
        if not params.get("transit_encryption"):
            out.append("auth_token: ElastiCache accepts an AUTH token only with transit_encryption: true")
        if not AUTH_TOKEN.fullmatch(token) or AUTH_TOKEN_FORBIDDEN & set(token):
            out.append("auth_token: must be 16-128 printable ASCII characters without spaces, '@', '\"' or '/' (value not shown)")
    if params.get("port") is not None and not 1024 <= params["port"] <= 65535:
        out.append(f"port: {params['port']} is outside 1024..65535")
    if params.get("snapshot_retention_days") is not None and not 0 <= params["snapshot_retention_days"] <= 35:
        out.append(f"snapshot_retention_days: {params['snapshot_retention_days']} is outside 0..35")
    return out + parameter_problems(params)


def parameter_problems(params: Dict[str, Any]) -> List[str]:
    """Problems of parameter_group / parameter_group_family / parameters (the group this module keeps)."""
    out = []
    group, family, parameters = params.get("parameter_group"), params.get("parameter_group_family"), params.get("parameters")
    if group is not None and not (PARAMETER_GROUP.fullmatch(group) and len(group) <= 255):
        out.append(f"parameter_group: {group!r} must be letters, digits and single hyphens, starting with a letter")
    if family is not None and not FAMILY.fullmatch(family):
        out.append(f"parameter_group_family: {family!r} is not a Redis OSS or Valkey family like valkey8, redis7 or redis6.x")
    if parameters is None:
        return out
    if not group or not family:
        out.append("parameters: needs parameter_group and parameter_group_family (the group this module creates and keeps)")
    for name, value in parameters.items():
        if not PARAMETER_NAME.fullmatch(str(name)):
            out.append(f"parameters.{name}: not a parameter name like maxmemory-policy")
        elif isinstance(value, bool) or not isinstance(value, (str, int)):
            out.append(f"parameters.{name}: must be a string or an integer, got {type(value).__name__}")
    return out


def parameter_changes(current: Dict[str, str], desired: Dict[str, Any]) -> Tuple[List[Dict[str, str]], List[Dict[str, str]]]:
    """(ModifyCacheParameterGroup ParameterNameValues, ResetCacheParameterGroup ParameterNameValues) that make the
    group's user-set parameters (`current`, Source user) exactly `desired`: a value set by hand elsewhere is reset to
    the family default, so the group holds only what the topology says."""
    wanted = {k: str(v) for k, v in desired.items()}
    modify = [{"ParameterName": k, "ParameterValue": v} for k, v in sorted(wanted.items()) if current.get(k) != v]
    reset = [{"ParameterName": k} for k in sorted(current) if k not in wanted]
    return modify, reset


def chunks(items: List[Any], size: int = MAX_MODIFY) -> List[List[Any]]:
    return [items[i:i + size] for i in range(0, len(items), size)]


def automatic_failover(params: Dict[str, Any]) -> bool:
    value = params.get("automatic_failover")
    return bool(params.get("replicas")) if value is None else bool(value)


def desired_view(params: Dict[str, Any]) -> Dict[str, Any]:
    """What the parameters ask for, in the shape of current_view (options left out are not compared)."""
    view = {
        "description": params.get("description"),
        "engine": params.get("engine"),
        "engine_version": params.get("engine_version"),
        "node_type": params.get("node_type"),
        "replicas": params.get("replicas"),
        "automatic_failover": automatic_failover(params),
        "multi_az": bool(params.get("multi_az")),
        "snapshot_retention_days": params.get("snapshot_retention_days"),
        "security_group_ids": sorted(params["security_group_ids"]) if params.get("security_group_ids") is not None else None,
        "parameter_group": params.get("parameter_group"),
        "subnet_group": params.get("subnet_group"),
        "port": params.get("port"),
        "transit_encryption": params.get("transit_encryption"),
        "at_rest_encryption": params.get("at_rest_encryption"),
        "auth_token_enabled": True if params.get("auth_token") else None,
    }
    return {k: v for k, v in view.items() if v is not None}


def current_view(group: Dict[str, Any], primary: Optional[Dict[str, Any]]) -> Dict[str, Any]:
    """A replication group (DescribeReplicationGroups) and its primary member (DescribeCacheClusters) as a flat view."""
    node_group = (group.get("NodeGroups") or [{}])[0]
    primary = primary or {}
    return {
        "description": group.get("Description"),
        "engine": group.get("Engine") or primary.get("Engine"),
        "engine_version": primary.get("EngineVersion"),
        "node_type": group.get("CacheNodeType"),
        "replicas": max(len(group.get("MemberClusters") or []) - 1, 0),
        "automatic_failover": group.get("AutomaticFailover") in ("enabled", "enabling"),
        "multi_az": group.get("MultiAZ") == "enabled",
        "snapshot_retention_days": group.get("SnapshotRetentionLimit", 0),
        "security_group_ids": sorted(g["SecurityGroupId"] for g in primary.get("SecurityGroups") or []),
        "parameter_group": (primary.get("CacheParameterGroup") or {}).get("CacheParameterGroupName"),
        "subnet_group": primary.get("CacheSubnetGroupName"),
        "port": (node_group.get("PrimaryEndpoint") or {}).get("Port"),
        "transit_encryption": bool(group.get("TransitEncryptionEnabled")),
        "at_rest_encryption": bool(group.get("AtRestEncryptionEnabled")),
        "auth_token_enabled": bool(group.get("AuthTokenEnabled")),
    }


def version_matches(current: Optional[str], wanted: str) -> bool:
    """8.0 asks for any 8.0.x; a full version must be exact."""
    if current is None:
        return False
    return current == wanted or current.startswith(wanted + ".")


def changes(current: Dict[str, Any], desired: Dict[str, Any], params: Dict[str, Any]) -> Tuple[Dict[str, Any], Optional[int], List[str]]:
    """(ModifyReplicationGroup request without the id ({} when none), new replica count or None, problems)."""
    request: Dict[str, Any] = {}
    fixed = []
    for key, api in IMMUTABLE.items():
        if key in desired and current.get(key) != desired[key]:
            fixed.append(f"{key}: is {current.get(key)!r}, asked {desired[key]!r}; ElastiCache cannot change {api} of an existing "
                         "replication group: create a new one (and migrate) or keep the current value")
    simple = {"description": "ReplicationGroupDescription", "node_type": "CacheNodeType", "parameter_group": "CacheParameterGroupName",
              "snapshot_retention_days": "SnapshotRetentionLimit", "engine": "Engine"}
    for key, api in simple.items():
        if key in desired and current.get(key) != desired[key]:
            if key == "engine" and not (current.get("engine") == "redis" and desired[key] == "valkey"):
                fixed.append(f"engine: is {current.get('engine')!r}, asked {desired[key]!r}; ElastiCache upgrades redis to valkey only")
                continue
            request[api] = desired[key]
    if "engine_version" in desired and not version_matches(current.get("engine_version"), desired["engine_version"]):
        request["EngineVersion"] = desired["engine_version"]
    if "security_group_ids" in desired and current.get("security_group_ids") != desired["security_group_ids"]:
        request["SecurityGroupIds"] = desired["security_group_ids"]
    for key, api in (("automatic_failover", "AutomaticFailoverEnabled"), ("multi_az", "MultiAZEnabled")):
        if current.get(key) != desired[key]:
            request[api] = desired[key]
    if params.get("auth_token") and (not current.get("auth_token_enabled") or params.get("auth_token_update") == "always"):
        request["AuthToken"] = params["auth_token"]
        # ROTATE adds the token (or a new one) while an old one keeps working until the clients moved over.
        request["AuthTokenUpdateStrategy"] = "ROTATE"
    replicas = desired.get("replicas")
    replica_change = replicas if replicas is not None and replicas != current.get("replicas") else None
    return request, replica_change, fixed


def create_request(params: Dict[str, Any], tags: Optional[Dict[str, str]]) -> Dict[str, Any]:
    failover = automatic_failover(params)
    request: Dict[str, Any] = {
        "ReplicationGroupId": params["replication_group_id"],
        "ReplicationGroupDescription": params.get("description") or params["replication_group_id"],
        "Engine": params.get("engine") or "valkey",
        "CacheNodeType": params["node_type"],
        "NumCacheClusters": (params.get("replicas") or 0) + 1,
        "AutomaticFailoverEnabled": failover,
        "MultiAZEnabled": bool(params.get("multi_az")),
        "TransitEncryptionEnabled": bool(params.get("transit_encryption")),
        "AtRestEncryptionEnabled": bool(params.get("at_rest_encryption")),
    }
    optional = {"engine_version": "EngineVersion", "port": "Port", "subnet_group": "CacheSubnetGroupName",
                "parameter_group": "CacheParameterGroupName", "kms_key_id": "KmsKeyId", "auth_token": "AuthToken",
                "snapshot_retention_days": "SnapshotRetentionLimit"}
    request.update((api, params[key]) for key, api in optional.items() if params.get(key) is not None)
    if params.get("security_group_ids") is not None:
        request["SecurityGroupIds"] = list(params["security_group_ids"])
    if tags:
        request["Tags"] = [{"Key": k, "Value": str(v)} for k, v in sorted(tags.items())]
    return request


def endpoints(group: Optional[Dict[str, Any]]) -> Dict[str, Any]:
    """{primary: {address, port}, reader: {address, port}} of a cluster-mode-disabled group ({} when none)."""
    if not group:
        return {}
    node_group = (group.get("NodeGroups") or [{}])[0]
    out = {}
    for key, api in (("primary", "PrimaryEndpoint"), ("reader", "ReaderEndpoint")):
        endpoint = node_group.get(api)
        if endpoint:
            out[key] = {"address": endpoint.get("Address"), "port": endpoint.get("Port")}
    return out


def tag_changes(current: Dict[str, str], desired: Optional[Dict[str, Any]], purge: bool) -> Tuple[Dict[str, str], List[str]]:
    if desired is None:
        return {}, []
    wanted = {k: str(v) for k, v in desired.items()}
    add = {k: v for k, v in wanted.items() if current.get(k) != v}
    remove = sorted(k for k in current if purge and k not in wanted and not k.startswith("aws:"))
    return add, remove


def wait_available(describe: Callable[[], Optional[Dict[str, Any]]], timeout: float, sleep: Callable[[float], None] = time.sleep,
                   gone: bool = False) -> Optional[Dict[str, Any]]:
    """Poll until the group is available (or gone with gone=True); TimeoutError naming its last status."""
    deadline = time.monotonic() + timeout
    while True:
        group = describe()
        if (gone and group is None) or (not gone and group is not None and group.get("Status") == "available"):
            return group
        if time.monotonic() >= deadline:
            raise TimeoutError(f"replication group still {group.get('Status') if group else 'absent'} after {timeout:.0f} s")
        sleep(10)
