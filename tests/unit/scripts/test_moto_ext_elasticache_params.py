"""The ElastiCache parameter group extension: Redis OSS / Valkey cache parameter groups as the API reference describes."""
from __future__ import annotations

import sys
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "scripts"))
import moto_ext  # pylint: disable=wrong-import-position
from moto_ext.elasticache import allowed, family_of  # pylint: disable=wrong-import-position

moto_ext.apply_all()
REGION = "ap-northeast-2"


@pytest.fixture
def cache(monkeypatch):
    for var in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        yield boto3.client("elasticache", region_name=REGION)


def code(err) -> str:
    return err.value.response["Error"]["Code"]


def values(cache, name, source=None) -> dict:
    kw = {"Source": source} if source else {}
    return {p["ParameterName"]: (p["ParameterValue"], p["Source"])
            for p in cache.describe_cache_parameters(CacheParameterGroupName=name, **kw)["Parameters"]}


@pytest.mark.parametrize("engine, version, family", [("valkey", "8.0", "valkey8"), ("valkey", "7.2.4", "valkey7"),
                                                      ("redis", "7.1", "redis7"), ("redis", "6.2", "redis6.x"),
                                                      ("redis", "5.0.6", "redis5.0")])
def test_family_of_engine_versions(engine, version, family):
    assert family_of(engine, version) == family


def test_allowed_values_follow_the_catalog_syntax():
    assert allowed("allkeys-lru", "string", "volatile-lru,allkeys-lru") and not allowed("lru", "string", "volatile-lru,allkeys-lru")
    assert allowed("0", "integer", "0,20-") and allowed("25", "integer", "0,20-") and not allowed("5", "integer", "0,20-")
    assert allowed("100", "integer", "0-100") and not allowed("101", "integer", "0-100") and not allowed("x", "integer", "1-")


def test_create_describe_modify_reset_delete(cache):
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


@pytest.mark.parametrize("call, kwargs, expected", [
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
def test_refusals(cache, call, kwargs, expected):
    cache.create_cache_parameter_group(CacheParameterGroupName="g", CacheParameterGroupFamily="valkey8", Description="d")
    with pytest.raises(ClientError) as err:
        getattr(cache, call)(**kwargs)
    assert code(err) == expected


def test_replication_groups_need_an_existing_group_of_their_family_and_keep_it_from_deletion(cache):
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
