"""The pure logic of msa.platform.rds_postgresql: checks, the compared view, and what to change."""
from __future__ import annotations

import pytest
from ansible_collections.msa.platform.plugins.module_utils.aws import rds

PARAMS = {"identifier": "courm-postgresql", "state": "present", "read_replicas": ["courm-postgresql-replica-1"], "engine_version": "15",
          "instance_class": "db.t4g.medium", "storage_gb": 20, "max_storage_gb": 0, "multi_az": False, "subnet_group": "courm-data",
          "security_group_ids": ["sg-1"], "parameter_group": "courm-postgresql15", "master_username": "postgres",
          "manage_master_password": True, "master_password": None, "update_password": "on_create", "backup_retention_days": 7,
          "deletion_protection": True, "storage_type": "gp3", "tags": {"msa:platform": "courm"}}
INSTANCE = {"DBInstanceIdentifier": "courm-postgresql", "DBInstanceClass": "db.t4g.medium", "EngineVersion": "15.7", "AllocatedStorage": 20,
            "MultiAZ": False, "VpcSecurityGroups": [{"VpcSecurityGroupId": "sg-1"}], "DBParameterGroups": [{"DBParameterGroupName": "courm-postgresql15"}],
            "DBSubnetGroup": {"DBSubnetGroupName": "courm-data"}, "BackupRetentionPeriod": 7, "DeletionProtection": True,
            "StorageEncrypted": True, "Endpoint": {"Address": "w.rds", "Port": 5432}, "MasterUserSecret": {"SecretArn": "arn:s"}}


def test_converged_primary_needs_nothing():
    assert rds.primary_changes(rds.view(INSTANCE), PARAMS) == ({}, [])
    assert rds.replica_changes(rds.view(INSTANCE), PARAMS) == {}


@pytest.mark.parametrize(("params", "request_"), [
    ({"instance_class": "db.r7g.large"}, {"DBInstanceClass": "db.r7g.large"}),
    ({"multi_az": True}, {"MultiAZ": True}),
    ({"storage_gb": 50}, {"AllocatedStorage": 50}),
    ({"engine_version": "16"}, {"EngineVersion": "16", "AllowMajorVersionUpgrade": True}),
    ({"engine_version": "15.8"}, {"EngineVersion": "15.8"}),
    ({"security_group_ids": ["sg-2"]}, {"VpcSecurityGroupIds": ["sg-2"]}),
    ({"deletion_protection": False}, {"DeletionProtection": False}),
    ({"manage_master_password": False, "master_password": "s3cret-pass"}, {"ManageMasterUserPassword": False, "MasterUserPassword": "s3cret-pass"}),
])
def test_primary_changes(params, request_):
    assert rds.primary_changes(rds.view(INSTANCE), dict(PARAMS, **params)) == (request_, [])


@pytest.mark.parametrize(("params", "field"), [
    ({"storage_gb": 10}, "storage_gb"), ({"engine_version": "14"}, "engine_version"), ({"subnet_group": "other"}, "subnet_group"),
])
def test_what_rds_cannot_change_names_the_option(params, field):
    request, fixed = rds.primary_changes(rds.view(INSTANCE), dict(PARAMS, **params))
    assert request == {} and fixed[0].startswith(field + ": ")


@pytest.mark.parametrize(("params", "field"), [
    ({"identifier": "Courm_PG"}, "identifier"),
    ({"read_replicas": ["ok", "bad--id"]}, "read_replicas[1]"),
    ({"read_replicas": [f"r-{i}" for i in range(16)]}, "read_replicas"),
    ({"read_replicas": ["courm-postgresql"]}, "read_replicas"),
    ({"instance_class": "t3.medium"}, "instance_class"),
    ({"engine_version": "fifteen"}, "engine_version"),
    ({"master_username": "Admin"}, "master_username"),
    ({"manage_master_password": False}, "master_password"),
    ({"master_password": "long-enough-pass"}, "master_password"),
    ({"manage_master_password": False, "master_password": "has@sign-pass"}, "master_password"),
    ({"max_storage_gb": 10}, "max_storage_gb"),
    ({"backup_retention_days": 0}, "backup_retention_days"),
])
def test_problems_name_the_option(params, field):
    found = rds.problems(dict(PARAMS, **params))
    assert found and found[0].startswith(field + ": "), found
    assert all("has@sign" not in f and "long-enough" not in f for f in found)


def test_create_requests():
    primary = rds.create_primary_request(PARAMS)
    assert primary["StorageEncrypted"] is True and primary["ManageMasterUserPassword"] is True and "MasterUserPassword" not in primary
    assert primary["PubliclyAccessible"] is False and primary["DeletionProtection"] is True
    assert primary["Tags"] == [{"Key": "msa:platform", "Value": "courm"}]
    user = rds.create_primary_request(dict(PARAMS, manage_master_password=False, master_password="s3cret-pass"))
    assert user["MasterUserPassword"] == "s3cret-pass" and "ManageMasterUserPassword" not in user
    replica = rds.create_replica_request(PARAMS, "courm-postgresql-replica-1")
    assert replica["SourceDBInstanceIdentifier"] == "courm-postgresql" and replica["VpcSecurityGroupIds"] == ["sg-1"]
    assert rds.endpoint(INSTANCE) == {"address": "w.rds", "port": 5432} and rds.endpoint(None) == {}


def test_waiting():
    states = iter([{"DBInstanceStatus": "creating"}, {"DBInstanceStatus": "available"}])
    assert rds.wait_for(lambda: next(states), 60, sleep=lambda s: None) == {"DBInstanceStatus": "available"}
    with pytest.raises(TimeoutError, match="still deleting"):
        rds.wait_for(lambda: {"DBInstanceStatus": "deleting"}, 0, gone=True, sleep=lambda s: None)
