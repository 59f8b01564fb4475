"""The ElastiCache extension: replication groups (cluster mode disabled) behave as the API reference says."""
from __future__ import annotations

import sys
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "scripts"))
import moto_ext  # pylint: disable=wrong-import-position
from moto_ext import elasticache as ext  # pylint: disable=wrong-import-position

moto_ext.apply_all()
REGION = "ap-northeast-2"


@pytest.fixture
def aws(monkeypatch):
    for var in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        ec2 = boto3.client("ec2", region_name=REGION)
        vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
        subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.1.{i}.0/24", AvailabilityZone=f"{REGION}{z}")["Subnet"]["SubnetId"]
                   for i, z in ((1, "a"), (2, "b"))]
        sg = ec2.create_security_group(GroupName="redis", Description="redis", VpcId=vpc)["GroupId"]
        cache = boto3.client("elasticache", region_name=REGION)
        cache.create_cache_subnet_group(CacheSubnetGroupName="p-data", CacheSubnetGroupDescription="d", SubnetIds=subnets)
        yield cache, sg


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
