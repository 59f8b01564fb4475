"""The ElastiCache extension: replication groups (cluster mode disabled) behave as the API reference says."""
from __future__ import annotations

import sys
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "scripts"))
import moto_ext  # pylint: disable=wrong-import-position
from moto_ext import elasticache as ext  # pylint: disable=wrong-import-position

moto_ext.apply_all()
REGION = "ap-northeast-2"


@pytest.fixture
def aws(moto_in_process):
    ec2 = boto3.client("ec2", region_name=REGION)
    vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.1.{i}.0/24", AvailabilityZone=f"{REGION}{z}")["Subnet"]["SubnetId"]
               for i, z in ((1, "a"), (2, "b"))]
    sg = ec2.create_security_group(GroupName="redis", Description="redis", VpcId=vpc)["GroupId"]
    cache = boto3.client("elasticache", region_name=REGION)
    cache.create_cache_subnet_group(CacheSubnetGroupName="p-data", CacheSubnetGroupDescription="d", SubnetIds=subnets)
    return cache, sg


def _create(cache, sg, **kw):
    args = {"ReplicationGroupId": "p-redis", "ReplicationGroupDescription": "d", "Engine": "valkey", "EngineVersion": "8.0",
            "CacheNodeType": "cache.t4g.small", "NumCacheClusters": 3, "AutomaticFailoverEnabled": True, "MultiAZEnabled": True,
            "CacheSubnetGroupName": "p-data", "SecurityGroupIds": [sg]}
    args.update(kw)
    return cache.create_replication_group(**args)["ReplicationGroup"]


def test_num_cache_clusters_makes_a_primary_and_replicas_in_the_region(aws):
    cache, sg = aws
    group = _create(cache, sg)
    members = group["NodeGroups"][0]["NodeGroupMembers"]
    assert [m["CurrentRole"] for m in members] == ["primary", "replica", "replica"]
    assert group["MemberClusters"] == ["p-redis-001", "p-redis-002", "p-redis-003"]
    assert {m["PreferredAvailabilityZone"][:-1] for m in members} == {REGION}
    assert group["NodeGroups"][0]["ReaderEndpoint"]["Address"].startswith("replica.")


def test_member_clusters_report_security_groups_and_parameter_group(aws):
    cache, sg = aws
    _create(cache, sg)
    cluster = cache.describe_cache_clusters(CacheClusterId="p-redis-002")["CacheClusters"][0]
    assert cluster["ReplicationGroupId"] == "p-redis"
    assert [g["SecurityGroupId"] for g in cluster["SecurityGroups"]] == [sg]
    assert cluster["CacheParameterGroup"]["CacheParameterGroupName"] == "default.valkey8"
    assert cluster["EngineVersion"] == "8.0" and cluster["CacheSubnetGroupName"] == "p-data"
    assert len(cache.describe_cache_clusters()["CacheClusters"]) == 3


def test_modify_and_replica_counts(aws):
    cache, sg = aws
    _create(cache, sg)
    cache.modify_replication_group(ReplicationGroupId="p-redis", SecurityGroupIds=[], SnapshotRetentionLimit=3, ApplyImmediately=True)
    assert cache.describe_cache_clusters(CacheClusterId="p-redis-001")["CacheClusters"][0]["SecurityGroups"] == []
    cache.decrease_replica_count(ReplicationGroupId="p-redis", NewReplicaCount=1, ApplyImmediately=True)
    group = cache.describe_replication_groups(ReplicationGroupId="p-redis")["ReplicationGroups"][0]
    assert group["MemberClusters"] == ["p-redis-001", "p-redis-002"] and group["SnapshotRetentionLimit"] == 3
    with pytest.raises(ClientError, match="InvalidReplicationGroupState"):
        cache.decrease_replica_count(ReplicationGroupId="p-redis", NewReplicaCount=0, ApplyImmediately=True)
    with pytest.raises(ClientError, match="InvalidParameterValue"):
        cache.increase_replica_count(ReplicationGroupId="p-redis", NewReplicaCount=6, ApplyImmediately=True)
    cache.increase_replica_count(ReplicationGroupId="p-redis", NewReplicaCount=2, ApplyImmediately=True)
    assert len(cache.describe_replication_groups(ReplicationGroupId="p-redis")["ReplicationGroups"][0]["MemberClusters"]) == 3


def test_auth_token_strategy(aws):
    cache, sg = aws
    _create(cache, sg, TransitEncryptionEnabled=True, AuthToken="a" * 32)
    with pytest.raises(ClientError, match="InvalidParameterValue"):
        cache.modify_replication_group(ReplicationGroupId="p-redis", AuthTokenUpdateStrategy="ROTATE", ApplyImmediately=True)
    cache.modify_replication_group(ReplicationGroupId="p-redis", AuthTokenUpdateStrategy="DELETE", ApplyImmediately=True)
    assert cache.describe_replication_groups(ReplicationGroupId="p-redis")["ReplicationGroups"][0]["AuthTokenEnabled"] is False


def test_delete_removes_the_group_and_frees_the_subnet_group(aws):
    cache, sg = aws
    _create(cache, sg)
    with pytest.raises(ClientError, match="CacheSubnetGroupInUse"):
        cache.delete_cache_subnet_group(CacheSubnetGroupName="p-data")
    answer = cache.delete_replication_group(ReplicationGroupId="p-redis", FinalSnapshotIdentifier="p-redis-final")
    assert answer["ReplicationGroup"]["Status"] == "deleting" and "p-redis-final" in ext.final_snapshots
    with pytest.raises(ClientError, match="ReplicationGroupNotFoundFault"):
        cache.describe_replication_groups(ReplicationGroupId="p-redis")
    cache.delete_cache_subnet_group(CacheSubnetGroupName="p-data")
    with pytest.raises(ClientError, match="CacheSubnetGroupNotFoundFault"):
        cache.delete_cache_subnet_group(CacheSubnetGroupName="p-data")


# ------------------------------------------------------------------ cache parameter groups

def code(err) -> str:
    return err.value.response["Error"]["Code"]


def values(cache, name, source=None) -> dict:
    kw = {"Source": source} if source else {}
    return {p["ParameterName"]: (p["ParameterValue"], p["Source"])
            for p in cache.describe_cache_parameters(CacheParameterGroupName=name, **kw)["Parameters"]}


@pytest.mark.parametrize(("engine", "version", "family"), [
    ("valkey", "8.0", "valkey8"), ("valkey", "7.2.4", "valkey7"), ("redis", "7.1", "redis7"), ("redis", "6.2", "redis6.x"),
    ("redis", "5.0.6", "redis5.0")])
def test_family_of_engine_versions(engine, version, family):
    assert ext.family_of(engine, version) == family


def test_allowed_parameter_values_follow_the_catalog_syntax():
    assert ext.allowed("allkeys-lru", "string", "volatile-lru,allkeys-lru") and not ext.allowed("lru", "string", "volatile-lru,allkeys-lru")
    assert ext.allowed("0", "integer", "0,20-") and ext.allowed("25", "integer", "0,20-") and not ext.allowed("5", "integer", "0,20-")
    assert ext.allowed("100", "integer", "0-100") and not ext.allowed("101", "integer", "0-100") and not ext.allowed("x", "integer", "1-")


def test_parameter_groups_create_describe_modify_reset_delete(aws):
    cache, _sg = aws
    arn = cache.create_cache_parameter_group(CacheParameterGroupName="p-redis-valkey8", CacheParameterGroupFamily="valkey8",
                                             Description="p", Tags=[{"Key": "msa:platform", "Value": "p"}])["CacheParameterGroup"]["ARN"]
    assert arn.endswith(":parametergroup:p-redis-valkey8")
    assert cache.list_tags_for_resource(ResourceName=arn)["TagList"] == [{"Key": "msa:platform", "Value": "p"}]
    names = [g["CacheParameterGroupName"] for g in cache.describe_cache_parameter_groups()["CacheParameterGroups"]]
    assert "p-redis-valkey8" in names and "default.valkey8" in names
    assert values(cache, "p-redis-valkey8")["maxmemory-policy"] == ("volatile-lru", "system")   # ElastiCache's default
    assert values(cache, "p-redis-valkey8", "user") == {}

    cache.modify_cache_parameter_group(CacheParameterGroupName="p-redis-valkey8", ParameterNameValues=[
        {"ParameterName": "maxmemory-policy", "ParameterValue": "allkeys-lru"}, {"ParameterName": "timeout", "ParameterValue": "300"}])
    assert values(cache, "p-redis-valkey8", "user") == {"maxmemory-policy": ("allkeys-lru", "user"), "timeout": ("300", "user")}
    cache.reset_cache_parameter_group(CacheParameterGroupName="p-redis-valkey8", ParameterNameValues=[{"ParameterName": "timeout"}])
    assert values(cache, "p-redis-valkey8", "user") == {"maxmemory-policy": ("allkeys-lru", "user")}
    cache.reset_cache_parameter_group(CacheParameterGroupName="p-redis-valkey8", ResetAllParameters=True)
    assert values(cache, "p-redis-valkey8", "user") == {}

    cache.delete_cache_parameter_group(CacheParameterGroupName="p-redis-valkey8")
    with pytest.raises(ClientError) as err:
        cache.describe_cache_parameters(CacheParameterGroupName="p-redis-valkey8")
    assert code(err) == "CacheParameterGroupNotFound"


@pytest.mark.parametrize(("call", "kwargs", "expected"), [
    ("create_cache_parameter_group", {"CacheParameterGroupName": "g", "CacheParameterGroupFamily": "memcached1.6", "Description": "d"},
     "InvalidParameterValue"),
    ("create_cache_parameter_group", {"CacheParameterGroupName": "g", "CacheParameterGroupFamily": "valkey8", "Description": "d"},
     "CacheParameterGroupAlreadyExists"),
    ("modify_cache_parameter_group", {"CacheParameterGroupName": "g", "ParameterNameValues": [
        {"ParameterName": "maxmemory-policy", "ParameterValue": "lru"}]}, "InvalidParameterValue"),
    ("modify_cache_parameter_group", {"CacheParameterGroupName": "g", "ParameterNameValues": [
        {"ParameterName": "no-such-thing", "ParameterValue": "1"}]}, "InvalidParameterValue"),
    ("modify_cache_parameter_group", {"CacheParameterGroupName": "default.valkey8", "ParameterNameValues": [
        {"ParameterName": "timeout", "ParameterValue": "0"}]}, "InvalidCacheParameterGroupState"),
    ("delete_cache_parameter_group", {"CacheParameterGroupName": "default.valkey8"}, "InvalidCacheParameterGroupState"),
    ("delete_cache_parameter_group", {"CacheParameterGroupName": "nope"}, "CacheParameterGroupNotFound"),
    ("describe_cache_parameter_groups", {"CacheParameterGroupName": "nope"}, "CacheParameterGroupNotFound"),
])
def test_parameter_group_refusals(aws, call, kwargs, expected):
    cache, _sg = aws
    cache.create_cache_parameter_group(CacheParameterGroupName="g", CacheParameterGroupFamily="valkey8", Description="d")
    with pytest.raises(ClientError) as err:
        getattr(cache, call)(**kwargs)
    assert code(err) == expected


def test_replication_groups_need_an_existing_group_of_their_family_and_keep_it_from_deletion(aws):
    cache, _sg = aws
    cache.create_cache_parameter_group(CacheParameterGroupName="r7", CacheParameterGroupFamily="redis7", Description="d")
    cache.create_cache_parameter_group(CacheParameterGroupName="v8", CacheParameterGroupFamily="valkey8", Description="d")
    base = {"ReplicationGroupId": "p-redis", "ReplicationGroupDescription": "d", "Engine": "valkey", "EngineVersion": "8.0",
            "CacheNodeType": "cache.t4g.small", "NumCacheClusters": 2}
    for group, expected in (("missing", "CacheParameterGroupNotFound"), ("r7", "InvalidParameterCombination")):
        with pytest.raises(ClientError) as err:
            cache.create_replication_group(CacheParameterGroupName=group, **base)
        assert code(err) == expected
    cache.create_replication_group(CacheParameterGroupName="v8", **base)
    with pytest.raises(ClientError) as err:
        cache.modify_replication_group(ReplicationGroupId="p-redis", CacheParameterGroupName="r7", ApplyImmediately=True)
    assert code(err) == "InvalidParameterCombination"
    with pytest.raises(ClientError) as err:
        cache.delete_cache_parameter_group(CacheParameterGroupName="v8")
    assert code(err) == "InvalidCacheParameterGroupState"
    member = cache.describe_cache_clusters(CacheClusterId="p-redis-001")["CacheClusters"][0]
    assert member["CacheParameterGroup"]["CacheParameterGroupName"] == "v8"
