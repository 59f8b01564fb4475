"""playbooks/managed_data.yml on courm-eks against the emulator: RDS PostgreSQL primary + read replica, parameter and
subnet groups, an ElastiCache replication group and its parameter group, converged (second run changed=0), a parameter
changed by hand put back, then torn down to nothing.

The network comes from boto3 (aws_helpers.make_network: the subnets and the security groups of the plan, which
include courm-postgresql / courm-redis for the managed services). Everything is asserted through boto3. The
emulator runs no PostgreSQL server, so the SQL step only reports what it would create (asserted).
"""
from __future__ import annotations

from pathlib import Path

import aws_helpers
import boto3
import network_harness
from network_harness import URL, recap

ROOT = Path(__file__).resolve().parents[3]
TOKEN = "emulator-only-auth-token-0123456789"   # a test value; real tokens come from the user's secret source


def client(service: str):
    return boto3.client(service, endpoint_url=URL, region_name="ap-northeast-2", aws_access_key_id="testing",
                        aws_secret_access_key="testing")


def user_parameters(cache) -> dict:
    found = cache.describe_cache_parameters(CacheParameterGroupName="courm-redis-valkey8", Source="user")["Parameters"]
    return {p["ParameterName"]: p["ParameterValue"] for p in found}


def managed_data(tmp_path: Path, *args: str):
    secrets = tmp_path / "secrets.yml"
    secrets.write_text(f"managed_data_redis_auth_token: {TOKEN}\n")
    return network_harness.playbook("managed_data.yml", "courm-eks", "-e", f"@{secrets}", *args, timeout=900)


def test_courm_managed_data_build_converge_teardown(network_emulator, tmp_path, monkeypatch):
    plan = aws_helpers.plan_of(ROOT / "inventories" / "examples" / "courm-eks")
    monkeypatch.setattr(aws_helpers, "REGION", plan["region"])
    ids = aws_helpers.make_network(plan)

    first = managed_data(tmp_path)
    assert first.returncode == 0, first.stdout[-4000:] + first.stderr[-2000:]
    assert recap(first)["changed"] == 5              # 2 subnet groups, parameter group, RDS set, replication group
    assert TOKEN not in first.stdout + first.stderr
    assert "Skipped against the emulator (no PostgreSQL server behind courm-postgresql): on AWS this step creates courm" in first.stdout

    rds, cache = client("rds"), client("elasticache")
    dbs = {d["DBInstanceIdentifier"]: d for d in rds.describe_db_instances()["DBInstances"]}
    assert set(dbs) == {"courm-postgresql", "courm-postgresql-replica-1"}
    primary, replica = dbs["courm-postgresql"], dbs["courm-postgresql-replica-1"]
    assert primary["StorageEncrypted"] and primary["DeletionProtection"] and primary["MasterUserSecret"]["SecretArn"]
    assert primary["DBSubnetGroup"]["DBSubnetGroupName"] == "courm-data" and not primary["PubliclyAccessible"]
    assert [g["DBParameterGroupName"] for g in primary["DBParameterGroups"]] == ["courm-postgresql15"]
    assert [g["VpcSecurityGroupId"] for g in primary["VpcSecurityGroups"]] == [ids["courm-postgresql"]]
    assert replica["ReadReplicaSourceDBInstanceIdentifier"] == "courm-postgresql"
    params = {p["ParameterName"]: p.get("ParameterValue") for p in rds.describe_db_parameters(DBParameterGroupName="courm-postgresql15")["Parameters"]}
    assert params["max_connections"] == "100"
    data_subnets = {ids[s["name"]] for s in plan["network"]["subnets"] if s["tier"] == "data"}
    group_subnets = {s["SubnetIdentifier"] for s in rds.describe_db_subnet_groups(DBSubnetGroupName="courm-data")["DBSubnetGroups"][0]["Subnets"]}
    assert group_subnets == data_subnets

    group = cache.describe_replication_groups(ReplicationGroupId="courm-redis")["ReplicationGroups"][0]
    assert group["MemberClusters"] == ["courm-redis-001", "courm-redis-002"]
    assert group["AutomaticFailover"] == "enabled" and group["MultiAZ"] == "enabled"
    assert group["TransitEncryptionEnabled"] and group["AtRestEncryptionEnabled"] and group["AuthTokenEnabled"]
    member = cache.describe_cache_clusters(CacheClusterId="courm-redis-001")["CacheClusters"][0]
    assert [g["SecurityGroupId"] for g in member["SecurityGroups"]] == [ids["courm-redis"]] and member["Engine"] == "valkey"
    # the parameter group of the engine's family holds services.redis.maxmemory_policy, tagged for the teardown
    assert member["CacheParameterGroup"]["CacheParameterGroupName"] == "courm-redis-valkey8"
    pg = cache.describe_cache_parameter_groups(CacheParameterGroupName="courm-redis-valkey8")["CacheParameterGroups"][0]
    assert pg["CacheParameterGroupFamily"] == "valkey8"
    assert {"Key": "msa:platform", "Value": "courm"} in cache.list_tags_for_resource(ResourceName=pg["ARN"])["TagList"]
    assert user_parameters(cache) == {"maxmemory-policy": "noeviction"}

    second = managed_data(tmp_path)
    assert second.returncode == 0, second.stdout[-4000:]
    assert recap(second)["changed"] == 0

    # drift by hand: another policy and an extra parameter; the next run puts the group back as the topology says
    cache.modify_cache_parameter_group(CacheParameterGroupName="courm-redis-valkey8", ParameterNameValues=[
        {"ParameterName": "maxmemory-policy", "ParameterValue": "allkeys-lru"}, {"ParameterName": "timeout", "ParameterValue": "300"}])
    repaired = managed_data(tmp_path)
    assert repaired.returncode == 0, repaired.stdout[-4000:]
    assert recap(repaired)["changed"] == 1 and user_parameters(cache) == {"maxmemory-policy": "noeviction"}

    refused = network_harness.playbook("teardown.yml", "courm-eks", "-e", "confirm_teardown=courm", timeout=900)
    assert refused.returncode != 0 and "RDS deletion protection is on for courm-postgresql-replica-1, courm-postgresql" in refused.stdout
    assert len(rds.describe_db_instances()["DBInstances"]) == 2       # nothing deleted

    run = network_harness.playbook("teardown.yml", "courm-eks", "-e", "confirm_teardown=courm", "-e", "teardown_delete_protected=true",
                                   timeout=900)
    assert run.returncode == 0, run.stdout[-4000:]
    assert rds.describe_db_instances()["DBInstances"] == []
    assert cache.describe_replication_groups()["ReplicationGroups"] == []
    assert rds.describe_db_subnet_groups()["DBSubnetGroups"] == [] and cache.describe_cache_subnet_groups()["CacheSubnetGroups"] == []
    assert [g["CacheParameterGroupName"] for g in cache.describe_cache_parameter_groups()["CacheParameterGroups"]
            if not g["CacheParameterGroupName"].startswith("default.")] == []
    assert [g["DBParameterGroupName"] for g in rds.describe_db_parameter_groups()["DBParameterGroups"]] == []
    snapshots = [s["DBSnapshotIdentifier"] for s in rds.describe_db_snapshots()["DBSnapshots"]]
    assert len(snapshots) == 1 and snapshots[0].startswith("courm-postgresql-final-")   # final_snapshot: true (default)
    # the sweep's view: only the final snapshot (data kept on purpose) is still tagged for the platform
    assert [arn for arn in network_harness.leftovers("courm") if f":snapshot:{snapshots[0]}" not in arn] == []
