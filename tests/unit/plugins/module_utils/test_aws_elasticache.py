"""The pure logic of msa.platform.elasticache_replication_group: checks, views, and what to change."""
from __future__ import annotations

import pytest
from ansible_collections.msa.platform.plugins.module_utils.aws import elasticache as ec

PARAMS = {"replication_group_id": "courm-redis", "state": "present", "engine": "valkey", "engine_version": "8.0",
          "node_type": "cache.t4g.small", "replicas": 1, "automatic_failover": None, "multi_az": True, "port": 6379,
          "subnet_group": "courm-data", "security_group_ids": ["sg-2", "sg-1"], "parameter_group": None, "transit_encryption": True,
          "at_rest_encryption": True, "kms_key_id": None, "auth_token": "t" * 20, "auth_token_update": "on_create",
          "snapshot_retention_days": 1, "description": None}
GROUP = {"ReplicationGroupId": "courm-redis", "Status": "available", "Engine": "valkey", "CacheNodeType": "cache.t4g.small",
         "MemberClusters": ["courm-redis-001", "courm-redis-002"], "AutomaticFailover": "enabled", "MultiAZ": "enabled",
         "SnapshotRetentionLimit": 1, "TransitEncryptionEnabled": True, "AtRestEncryptionEnabled": True, "AuthTokenEnabled": True,
         "NodeGroups": [{"PrimaryEndpoint": {"Address": "master.x", "Port": 6379}, "ReaderEndpoint": {"Address": "replica.x", "Port": 6379}}]}
PRIMARY = {"EngineVersion": "8.0.1", "CacheSubnetGroupName": "courm-data", "SecurityGroups": [{"SecurityGroupId": "sg-1"}, {"SecurityGroupId": "sg-2"}],
           "CacheParameterGroup": {"CacheParameterGroupName": "default.valkey8"}}


def _changes(**params):
    p = dict(PARAMS, **params)
    return ec.changes(ec.current_view(GROUP, PRIMARY), ec.desired_view(p), p)


def test_converged_group_needs_nothing():
    assert _changes() == ({}, None, [])


@pytest.mark.parametrize(("params", "request_", "replicas"), [
    ({"node_type": "cache.r7g.large"}, {"CacheNodeType": "cache.r7g.large"}, None),
    ({"engine_version": "8.1"}, {"EngineVersion": "8.1"}, None),
    ({"security_group_ids": ["sg-3"]}, {"SecurityGroupIds": ["sg-3"]}, None),
    ({"replicas": 3}, {}, 3),
    ({"replicas": 0, "multi_az": False}, {"AutomaticFailoverEnabled": False, "MultiAZEnabled": False}, 0),
    ({"auth_token_update": "always"}, {"AuthToken": "t" * 20, "AuthTokenUpdateStrategy": "ROTATE"}, None),
    ({"parameter_group": "courm-valkey8"}, {"CacheParameterGroupName": "courm-valkey8"}, None),
])
def test_changes_become_one_modify_request_and_a_replica_count(params, request_, replicas):
    request, new_replicas, fixed = _changes(**params)
    assert (request, new_replicas, fixed) == (request_, replicas, [])


@pytest.mark.parametrize(("params", "field"), [
    ({"transit_encryption": False, "auth_token": None}, "transit_encryption"),
    ({"subnet_group": "other"}, "subnet_group"),
    ({"port": 6380}, "port"),
])
def test_what_elasticache_cannot_change_is_reported_naming_the_option(params, field):
    _request, _replicas, fixed = _changes(**params)
    assert len(fixed) == 1 and fixed[0].startswith(f"{field}: ")


def test_engine_moves_from_redis_to_valkey_only():
    current = ec.current_view(dict(GROUP, Engine="valkey"), PRIMARY)
    p = dict(PARAMS, engine="redis")
    assert ec.changes(current, ec.desired_view(p), p)[2][0].startswith("engine: ")
    current = ec.current_view(dict(GROUP, Engine="redis"), PRIMARY)
    assert ec.changes(current, ec.desired_view(PARAMS), PARAMS)[0] == {"Engine": "valkey"}


@pytest.mark.parametrize(("params", "field"), [
    ({"replication_group_id": "Courm_Redis"}, "replication_group_id"),
    ({"replication_group_id": "a" * 41}, "replication_group_id"),
    ({"replication_group_id": "courm--redis"}, "replication_group_id"),
    ({"node_type": "t3.small"}, "node_type"),
    ({"engine_version": "eight"}, "engine_version"),
    ({"replicas": 6}, "replicas"),
    ({"replicas": 0, "automatic_failover": True}, "automatic_failover"),
    ({"replicas": 0, "automatic_failover": False}, "multi_az"),
    ({"transit_encryption": False}, "auth_token"),
    ({"auth_token": "short"}, "auth_token"),
    ({"auth_token": "has/slash-in-it-ok"}, "auth_token"),
    ({"port": 80}, "port"),
    ({"snapshot_retention_days": 36}, "snapshot_retention_days"),
    ({"parameters": {"maxmemory-policy": "allkeys-lru"}}, "parameters"),   # no group / family to keep them in
    ({"parameters": {}, "parameter_group": "g", "parameter_group_family": "memcached1.6"}, "parameter_group_family"),
    ({"parameters": {}, "parameter_group": "bad--name", "parameter_group_family": "valkey8"}, "parameter_group"),
    ({"parameters": {"maxmemory-policy": ["allkeys-lru"]}, "parameter_group": "g", "parameter_group_family": "valkey8"},
     "parameters.maxmemory-policy"),
    ({"parameters": {"maxmemory-policy": True}, "parameter_group": "g", "parameter_group_family": "valkey8"},
     "parameters.maxmemory-policy"),
    ({"parameters": {"Max Memory": "1"}, "parameter_group": "g", "parameter_group_family": "valkey8"}, "parameters.Max Memory"),
])
def test_problems_name_the_option(params, field):
    found = ec.problems(dict(PARAMS, **params))
    assert found and all(f.split(":")[0] in (field,) for f in found[:1]), found


def test_problems_never_show_the_token():
    secret = "bad token with spaces"
    assert all(secret not in f for f in ec.problems(dict(PARAMS, auth_token=secret)))
    assert ec.problems(PARAMS) == []


def test_create_request_and_endpoints():
    request = ec.create_request(PARAMS, {"msa:platform": "courm"})
    assert request["NumCacheClusters"] == 2 and request["AutomaticFailoverEnabled"] is True and request["MultiAZEnabled"] is True
    assert request["TransitEncryptionEnabled"] and request["AtRestEncryptionEnabled"] and request["AuthToken"] == "t" * 20
    assert request["Tags"] == [{"Key": "msa:platform", "Value": "courm"}] and request["SecurityGroupIds"] == ["sg-2", "sg-1"]
    assert ec.endpoints(GROUP) == {"primary": {"address": "master.x", "port": 6379}, "reader": {"address": "replica.x", "port": 6379}}
    assert ec.endpoints(None) == {}


def test_tags_and_waiting():
    assert ec.tag_changes({"a": "1", "b": "2", "aws:x": "y"}, {"a": 1, "c": "3"}, True) == ({"c": "3"}, ["b"])
    assert ec.tag_changes({"a": "1"}, None, True) == ({}, [])
    states = iter([{"Status": "modifying"}, {"Status": "available"}])
    assert ec.wait_available(lambda: next(states), 60, sleep=lambda s: None) == {"Status": "available"}
    with pytest.raises(TimeoutError, match="still modifying"):
        ec.wait_available(lambda: {"Status": "modifying"}, 0, sleep=lambda s: None)


def test_parameter_changes_set_what_differs_and_reset_what_was_set_elsewhere():
    current = {"maxmemory-policy": "volatile-lru", "timeout": "300", "maxmemory-samples": "5"}
    modify, reset = ec.parameter_changes(current, {"maxmemory-policy": "allkeys-lru", "maxmemory-samples": 5})
    assert modify == [{"ParameterName": "maxmemory-policy", "ParameterValue": "allkeys-lru"}]
    assert reset == [{"ParameterName": "timeout"}]
    assert ec.parameter_changes({"maxmemory-policy": "allkeys-lru"}, {"maxmemory-policy": "allkeys-lru"}) == ([], [])
    assert [len(c) for c in ec.chunks(list(range(45)))] == [20, 20, 5]
    assert ec.problems(dict(PARAMS, parameters={"maxmemory-policy": "noeviction", "timeout": 0}, parameter_group="courm-redis-valkey8",
                            parameter_group_family="valkey8")) == []
