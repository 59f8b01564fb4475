"""ElastiCache extension: replication groups (cluster mode disabled) as ElastiCache keeps them.

moto 5.2.5 gets these wrong or lacks them; each behaviour follows the ElastiCache API reference:
- CreateReplicationGroup: `NumCacheClusters` ("the number of clusters this replication group initially has")
  makes one primary and N-1 replicas (moto made one node); members sit in the group's region's AZs (moto:
  us-east-1a) or `PreferredCacheClusterAZs`; the node group has a `ReaderEndpoint` (NodeGroup.ReaderEndpoint:
  "the endpoint of the replica nodes in this node group"); `PrimaryClusterId` is the primary member.
- DescribeCacheClusters also lists the member clusters of replication groups (CacheCluster.ReplicationGroupId),
  with their SecurityGroups, CacheParameterGroup, CacheSubnetGroupName and EngineVersion: the only place the
  API reports them (the ReplicationGroup shape has none of these).
- ModifyReplicationGroup: SecurityGroupIds, CacheParameterGroupName, EngineVersion, SnapshotRetentionLimit,
  AuthToken with AuthTokenUpdateStrategy (SET/ROTATE keep a token, DELETE removes it), besides what moto does.
- IncreaseReplicaCount / DecreaseReplicaCount (NewReplicaCount) for cluster mode disabled: moto has neither.
- DeleteReplicationGroup: the group is answered with Status "deleting" and is gone afterwards (moto kept it
  "deleting" forever); `FinalSnapshotIdentifier` records a snapshot name the emulator lists in
  `final_snapshots` (it stores no data). DescribeReplicationGroups of a deleted group: ReplicationGroupNotFoundFault.
- DeleteCacheSubnetGroup (missing): CacheSubnetGroupNotFoundFault for an unknown group,
  CacheSubnetGroupInUse while a replication group uses it.

Cache parameter groups of the Redis OSS / Valkey families (moto has none), also from the API reference:
- CreateCacheParameterGroup (CacheParameterGroupName, CacheParameterGroupFamily, Description, Tags): returns the
  CacheParameterGroup (name, family, description, IsGlobal, ARN `...:parametergroup:<name>`);
  CacheParameterGroupAlreadyExists for a taken name; InvalidParameterValue for a family the emulator does not know
  (it knows the Redis OSS and Valkey families, not Memcached's).
- DescribeCacheParameterGroups (optional name): the groups, the families' `default.<family>` groups included;
  CacheParameterGroupNotFound for an unknown name.
- DescribeCacheParameters (CacheParameterGroupName, optional Source user | system | engine-default): every parameter
  with ParameterName, ParameterValue, Description, Source, DataType, AllowedValues, IsModifiable,
  MinimumEngineVersion, ChangeType. The emulator's catalog is a handful of real parameters (maxmemory-policy and
  its allowed policies, maxmemory-samples, reserved-memory-percent, timeout, activedefrag) with ElastiCache's
  defaults; a value set by ModifyCacheParameterGroup has Source "user".
- ModifyCacheParameterGroup (ParameterNameValues, at most 20): InvalidParameterValue for an unknown parameter or a
  value outside AllowedValues; default groups cannot be modified (InvalidCacheParameterGroupState).
- ResetCacheParameterGroup (ResetAllParameters or ParameterNameValues): back to the family defaults.
- DeleteCacheParameterGroup: CacheParameterGroupNotFound; InvalidCacheParameterGroupState for a default group or
  one a replication group uses.
- CreateReplicationGroup / ModifyReplicationGroup with CacheParameterGroupName: CacheParameterGroupNotFound for an
  unknown group, InvalidParameterCombination when its family is not the engine version's.
- Tags on parameter groups (ListTagsForResource / AddTagsToResource by their ARN): moto refuses these ARNs.
"""
from __future__ import annotations

import re

from moto.core.responses import ActionResult, EmptyResult, PaginatedResult
from moto.elasticache.exceptions import (
    CacheSubnetGroupNotFound,
    ElastiCacheException,
    InvalidParameterCombinationException,
    InvalidParameterValueException,
    ReplicationGroupNotFound,
)
from moto.elasticache.models import ElastiCacheBackend, ReplicationGroup
from moto.elasticache.responses import ElastiCacheResponse

DEFAULT_VERSIONS = {"valkey": "8.0.1", "redis": "7.1.0"}
MAX_REPLICAS = 5  # cluster mode disabled: "up to 5 read replicas" per replication group
final_snapshots: list[str] = []  # FinalSnapshotIdentifier of every deleted group, for tests

_original_init = ReplicationGroup.__init__


class CacheSubnetGroupInUse(ElastiCacheException):
    code = "CacheSubnetGroupInUse"


class InvalidReplicationGroupState(ElastiCacheException):
    code = "InvalidReplicationGroupState"


def _azs(group, count: int) -> list:
    preferred = list(getattr(group, "_msa_preferred_azs", None) or [])
    region = group.arn.split(":")[3]
    return [preferred[i] if i < len(preferred) else f"{region}{'abc'[i % 3]}" for i in range(count)]


def _set_members(group, count: int) -> None:
    """Primary `<id>-001` and replicas `<id>-00N` in the single node group (cluster mode disabled)."""
    node_group = group.node_groups[0]
    domain = node_group["primary_endpoint_address"].split(".", 1)[1]
    members = []
    for i, az in enumerate(_azs(group, count)):
        cluster_id = f"{group.replication_group_id}-{i + 1:0>3}"
        members.append({"cache_cluster_id": cluster_id, "cache_node_id": "0001", "preferred_availability_zone": az,
                        "read_endpoint": {"address": f"{cluster_id}.{domain}", "port": group.port},
                        "current_role": "primary" if i == 0 else "replica"})
    node_group["node_group_members"] = members
    node_group["reader_endpoint"] = {"address": f"replica.{domain}", "port": group.port}
    group.member_clusters[:] = [m["cache_cluster_id"] for m in members]
    group.primary_cluster_id = members[0]["cache_cluster_id"]


def _init(self, *args, **kwargs):
    _original_init(self, *args, **kwargs)
    self._msa_preferred_azs = kwargs.get("preferred_cache_cluster_azs") or []
    if self.cluster_mode != "enabled":
        replicas = kwargs.get("replicas_per_node_group")
        count = replicas + 1 if replicas else (kwargs.get("num_cache_clusters") or 1)
        _set_members(self, count)
    self.engine_version = kwargs.get("engine_version") or DEFAULT_VERSIONS.get(self.engine, "7.1.0")


def _group(response, group_id: str):
    groups = response.elasticache_backend.replication_groups
    if group_id not in groups:
        raise ReplicationGroupNotFound(group_id)
    return groups[group_id]


def _member_cluster(group, member: dict) -> dict:
    major = group.engine_version.split(".")[0]
    return {
        "CacheClusterId": member["cache_cluster_id"], "ReplicationGroupId": group.replication_group_id,
        "CacheClusterStatus": "available", "NumCacheNodes": 1, "CacheNodeType": group.cache_node_type,
        "Engine": group.engine, "EngineVersion": group.engine_version,
        "PreferredAvailabilityZone": member["preferred_availability_zone"],
        "CacheSubnetGroupName": group.cache_subnet_group_name,
        "SecurityGroups": [{"SecurityGroupId": sg, "Status": "active"} for sg in group.security_group_ids or []],
        "CacheParameterGroup": {"CacheParameterGroupName": group.cache_parameter_group_name or f"default.{group.engine}{major}",
                                "ParameterApplyStatus": "in-sync", "CacheNodeIdsToReboot": []},
        "TransitEncryptionEnabled": group.transit_encryption_enabled, "AtRestEncryptionEnabled": group.at_rest_encryption_enabled,
        "AuthTokenEnabled": group.auth_token_enabled, "SnapshotRetentionLimit": group.snapshot_retention_limit,
        "ARN": group.arn.replace(f"replicationgroup:{group.replication_group_id}", f"cluster:{member['cache_cluster_id']}"),
    }


_original_describe_clusters = ElastiCacheResponse.describe_cache_clusters


def describe_cache_clusters(self):
    wanted = self._get_param("CacheClusterId")
    members = [_member_cluster(g, m) for g in self.elasticache_backend.replication_groups.values() if g.cluster_mode != "enabled"
               for m in g.node_groups[0]["node_group_members"]]
    if wanted:
        named = [m for m in members if m["CacheClusterId"] == wanted]
        if named:
            return PaginatedResult({"CacheClusters": named})
        return _original_describe_clusters(self)
    own = self.elasticache_backend.describe_cache_clusters(cache_cluster_id=None)
    return PaginatedResult({"CacheClusters": list(own) + members})


_original_modify = ElastiCacheResponse.modify_replication_group


def modify_replication_group(self):
    group = _group(self, self._get_param("ReplicationGroupId"))
    _check_group_for(self, self._get_param("CacheParameterGroupName"), self._get_param("Engine") or group.engine,
                     self._get_param("EngineVersion") or group.engine_version)
    if self._get_param("AutomaticFailoverEnabled") in ("true", True) and len(group.member_clusters) < 2:
        raise InvalidParameterValueException("Automatic failover needs at least one replica (NumCacheClusters >= 2).")
    sgs = self._get_param("SecurityGroupIds")
    if sgs is not None:
        group.security_group_ids = list(sgs)
    for param, attr in (("CacheParameterGroupName", "cache_parameter_group_name"), ("EngineVersion", "engine_version")):
        value = self._get_param(param)
        if value:
            setattr(group, attr, value)
    token, strategy = self._get_param("AuthToken"), self._get_param("AuthTokenUpdateStrategy")
    if strategy:
        if strategy in ("SET", "ROTATE") and not token:
            raise InvalidParameterValueException("AuthToken is required with AuthTokenUpdateStrategy SET or ROTATE.")
        group.auth_token_enabled = strategy != "DELETE"
    return _original_modify(self)


def _change_replicas(self, increase: bool):
    group = _group(self, self._get_param("ReplicationGroupId"))
    if group.cluster_mode == "enabled":
        raise InvalidParameterValueException("This emulator changes replica counts of cluster-mode-disabled groups only.")
    wanted = self._get_int_param("NewReplicaCount")
    current = len(group.member_clusters) - 1
    if wanted is None or wanted < 0 or wanted > MAX_REPLICAS or (wanted <= current if increase else wanted >= current):
        raise InvalidParameterValueException(f"NewReplicaCount {wanted} must be {'above' if increase else 'below'} the current "
                                             f"{current} and within 0..{MAX_REPLICAS}.")
    if wanted == 0 and group.automatic_failover == "enabled":
        raise InvalidReplicationGroupState("Cannot remove every replica while automatic failover is enabled.")
    _set_members(group, wanted + 1)
    return ActionResult({"ReplicationGroup": group})


def increase_replica_count(self):
    return _change_replicas(self, True)


def decrease_replica_count(self):
    return _change_replicas(self, False)


def delete_replication_group(self):
    group = _group(self, self._get_param("ReplicationGroupId"))
    snapshot = self._get_param("FinalSnapshotIdentifier")
    if snapshot:
        final_snapshots.append(snapshot)
    del self.elasticache_backend.replication_groups[group.replication_group_id]
    group.status = "deleting"
    return ActionResult({"ReplicationGroup": group})


def delete_cache_subnet_group(self):
    name = self._get_param("CacheSubnetGroupName")
    backend = self.elasticache_backend
    if name not in backend.cache_subnet_groups:
        raise CacheSubnetGroupNotFound(name)
    users = [g.replication_group_id for g in backend.replication_groups.values() if g.cache_subnet_group_name == name]
    if users:
        raise CacheSubnetGroupInUse(f"Cache subnet group {name} is currently in use by replication group {users[0]}.")
    del backend.cache_subnet_groups[name]
    return EmptyResult()


# ------------------------------------------------------------------ cache parameter groups

FAMILIES = ("redis2.6", "redis2.8", "redis3.2", "redis4.0", "redis5.0", "redis6.x", "redis7", "valkey7", "valkey8")
MAX_MODIFY = 20
POLICIES = "volatile-lru,allkeys-lru,volatile-lfu,allkeys-lfu,volatile-random,allkeys-random,volatile-ttl,noeviction"
# name: (default, data type, allowed values, change type, description)
CATALOG = {
    "maxmemory-policy": ("volatile-lru", "string", POLICIES, "immediate", "Max memory policy."),
    "maxmemory-samples": ("3", "integer", "1-", "immediate", "Max memory samples."),
    "reserved-memory-percent": ("25", "integer", "0-100", "immediate", "The percent of memory to reserve for non-cache memory usage."),
    "timeout": ("0", "integer", "0,20-", "immediate", "Close connection if client is idle for a given number of seconds, or never if 0."),
    "activedefrag": ("no", "string", "yes,no", "immediate", "Enabled active memory defragmentation."),
}


class CacheParameterGroupNotFound(ElastiCacheException):
    code = "CacheParameterGroupNotFound"


class CacheParameterGroupAlreadyExists(ElastiCacheException):
    code = "CacheParameterGroupAlreadyExists"


class InvalidCacheParameterGroupState(ElastiCacheException):
    code = "InvalidCacheParameterGroupState"


def family_of(engine: str, version: str) -> str:
    """The parameter group family of an engine version (redis 6.2 -> redis6.x, 7.1 -> redis7, valkey 8.0 -> valkey8)."""
    major, _dot, minor = version.partition(".")
    if engine == "valkey" or int(major) >= 7:
        return f"{engine}{major}"
    return "redis6.x" if major == "6" else f"redis{major}.{minor.split('.')[0]}"


def allowed(value: str, data_type: str, values: str) -> bool:
    if data_type == "string":
        return value in values.split(",")
    if not re.fullmatch(r"-?[0-9]+", value):
        return False
    number = int(value)
    for part in values.split(","):
        low, dash, high = part.partition("-")
        if (not dash and number == int(low)) or (dash and number >= int(low) and (not high or number <= int(high))):
            return True
    return False


def _store(backend) -> dict:
    if not hasattr(backend, "_msa_parameter_groups"):
        backend._msa_parameter_groups = {}
    return backend._msa_parameter_groups


def _arn(response, name: str) -> str:
    return f"arn:aws:elasticache:{response.region}:{response.current_account}:parametergroup:{name}"


def _shape(response, name: str, group: dict) -> dict:
    return {"CacheParameterGroupName": name, "CacheParameterGroupFamily": group["family"], "Description": group["description"],
            "IsGlobal": False, "ARN": _arn(response, name)}


def _find(response, name: str) -> dict:
    """A group by name: ours, or a family's default group (read only)."""
    groups = _store(response.elasticache_backend)
    if name in groups:
        return groups[name]
    family = name.removeprefix("default.")
    if name.startswith("default.") and family in FAMILIES:
        return {"family": family, "description": f"Default parameter group for {family}", "values": {}, "default": True}
    raise CacheParameterGroupNotFound(f"CacheParameterGroup {name} not found.")


def _pairs(response) -> list:
    pairs = response._get_param("ParameterNameValues", []) or []
    return [(p.get("ParameterName"), p.get("ParameterValue")) for p in pairs]


def create_cache_parameter_group(self):
    name, family = self._get_param("CacheParameterGroupName"), self._get_param("CacheParameterGroupFamily")
    groups = _store(self.elasticache_backend)
    if family not in FAMILIES:
        raise InvalidParameterValueException(f"Family {family} is not a Redis OSS or Valkey family this emulator knows: {', '.join(FAMILIES)}.")
    if name in groups or name.startswith("default."):
        raise CacheParameterGroupAlreadyExists(f"CacheParameterGroup {name} already exists.")
    groups[name] = {"family": family, "description": self._get_param("Description") or "", "values": {}}
    tags = self._get_param("Tags", []) or []
    if tags:
        self.elasticache_backend.tagging_service.tag_resource(_arn(self, name), tags)
    return ActionResult({"CacheParameterGroup": _shape(self, name, groups[name])})


def describe_cache_parameter_groups(self):
    name = self._get_param("CacheParameterGroupName")
    if name:
        return ActionResult({"CacheParameterGroups": [_shape(self, name, _find(self, name))]})
    groups = {f"default.{f}": _find(self, f"default.{f}") for f in FAMILIES}
    groups.update(_store(self.elasticache_backend))
    return ActionResult({"CacheParameterGroups": [_shape(self, n, g) for n, g in groups.items()]})


def describe_cache_parameters(self):
    group = _find(self, self._get_param("CacheParameterGroupName"))
    source = self._get_param("Source")
    out = []
    for pname, (default, data_type, values, change, description) in CATALOG.items():
        given = pname in group["values"]
        item = {"ParameterName": pname, "ParameterValue": group["values"].get(pname, default), "Description": description,
                "Source": "user" if given else "system", "DataType": data_type, "AllowedValues": values, "IsModifiable": True,
                "MinimumEngineVersion": "2.8.6", "ChangeType": change}
        if source in (None, "", item["Source"]) or (source == "engine-default" and not given):
            out.append(item)
    return ActionResult({"Parameters": out, "CacheNodeTypeSpecificParameters": []})


def modify_cache_parameter_group(self):
    name = self._get_param("CacheParameterGroupName")
    group = _find(self, name)
    if group.get("default"):
        raise InvalidCacheParameterGroupState(f"Default parameter group {name} cannot be modified.")
    pairs = _pairs(self)
    if not 1 <= len(pairs) <= MAX_MODIFY:
        raise InvalidParameterValueException(f"ParameterNameValues must hold 1 to {MAX_MODIFY} parameters, got {len(pairs)}.")
    for pname, value in pairs:
        if pname not in CATALOG:
            raise InvalidParameterValueException(f"Unknown parameter {pname} for family {group['family']}.")
        _default, data_type, values, _change, _description = CATALOG[pname]
        if value is None or not allowed(str(value), data_type, values):
            raise InvalidParameterValueException(f"Value {value} for parameter {pname} is not allowed: {values}.")
    group["values"].update((p, str(v)) for p, v in pairs)
    return ActionResult({"CacheParameterGroupName": name})


def reset_cache_parameter_group(self):
    name = self._get_param("CacheParameterGroupName")
    group = _find(self, name)
    if group.get("default"):
        raise InvalidCacheParameterGroupState(f"Default parameter group {name} cannot be modified.")
    if self._get_bool_param("ResetAllParameters"):
        group["values"].clear()
    else:
        pairs = _pairs(self)
        if not pairs:
            raise InvalidParameterValueException("Either ResetAllParameters or ParameterNameValues is required.")
        for pname, _value in pairs:
            group["values"].pop(pname, None)
    return ActionResult({"CacheParameterGroupName": name})


def delete_cache_parameter_group(self):
    name = self._get_param("CacheParameterGroupName")
    group = _find(self, name)
    users = [g.replication_group_id for g in self.elasticache_backend.replication_groups.values() if g.cache_parameter_group_name == name]
    if group.get("default") or users:
        why = "is a default group" if group.get("default") else f"is used by replication group {users[0]}"
        raise InvalidCacheParameterGroupState(f"Cache parameter group {name} {why}.")
    del _store(self.elasticache_backend)[name]
    return EmptyResult()


def _check_group_for(response, name, engine: str, version: str) -> None:
    if not name:
        return
    group = _find(response, name)
    if engine and version and group["family"] != family_of(engine, version):
        raise InvalidParameterCombinationException(f"Cache parameter group {name} is family {group['family']}; engine {engine} {version} "
                                                   f"needs {family_of(engine, version)}.")


_original_backend_init = ElastiCacheBackend.__init__


def create_replication_group(self):
    _check_group_for(self, self._get_param("CacheParameterGroupName"), self._get_param("Engine") or "redis",
                     self._get_param("EngineVersion") or "")
    return _original_create_group(self)


def _backend_init(self, *args, **kwargs):
    _original_backend_init(self, *args, **kwargs)
    self.arn_regex = re.compile(r"^arn:aws:elasticache:.*:[0-9]*:(cluster|snapshot|subnetgroup|replicationgroup|user|parametergroup):.*$")


_original_create_group = ElastiCacheResponse.create_replication_group


def apply() -> None:
    if ReplicationGroup.__init__ is _init:
        return
    ReplicationGroup.__init__ = _init
    ElastiCacheBackend.__init__ = _backend_init
    for handler in (create_cache_parameter_group, describe_cache_parameter_groups, describe_cache_parameters,
                    modify_cache_parameter_group, reset_cache_parameter_group, delete_cache_parameter_group,
                    create_replication_group):
        setattr(ElastiCacheResponse, handler.__name__, handler)
    ElastiCacheResponse.describe_cache_clusters = describe_cache_clusters
    ElastiCacheResponse.modify_replication_group = modify_replication_group
    ElastiCacheResponse.increase_replica_count = increase_replica_count
    ElastiCacheResponse.decrease_replica_count = decrease_replica_count
    ElastiCacheResponse.delete_replication_group = delete_replication_group
    ElastiCacheResponse.delete_cache_subnet_group = delete_cache_subnet_group
