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
"""
from __future__ import annotations

from moto.core.responses import ActionResult, EmptyResult, PaginatedResult
from moto.elasticache.exceptions import (
    CacheSubnetGroupNotFound,
    ElastiCacheException,
    InvalidParameterValueException,
    ReplicationGroupNotFound,
)
from moto.elasticache.models import ReplicationGroup
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


def apply() -> None:
    if ReplicationGroup.__init__ is _init:
        return
    ReplicationGroup.__init__ = _init
    ElastiCacheResponse.describe_cache_clusters = describe_cache_clusters
    ElastiCacheResponse.modify_replication_group = modify_replication_group
    ElastiCacheResponse.increase_replica_count = increase_replica_count
    ElastiCacheResponse.decrease_replica_count = decrease_replica_count
    ElastiCacheResponse.delete_replication_group = delete_replication_group
    ElastiCacheResponse.delete_cache_subnet_group = delete_cache_subnet_group
