"""The shared client of the RDS, ElastiCache and EKS modules: retry decorator asked for, changes recorded, absent as None."""
from __future__ import annotations

import boto3
import pytest
from ansible_collections.msa.platform.plugins.module_utils.aws.client import RecordingClient, error_code
from botocore.exceptions import ClientError


class Retry:
    """Stands for amazon.aws's AWSRetry: records the backoff asked for."""
    asked: dict = {}

    @classmethod
    def jittered_backoff(cls, **kwargs):
        cls.asked = kwargs
        return "decorator"


class Module:
    """What RecordingClient uses of AnsibleAWSModule: client(service, retry_decorator) whose calls take aws_retry."""

    def __init__(self):
        self.decorators = []

    def client(self, service, retry_decorator=None):
        self.decorators.append(retry_decorator)
        real = boto3.client(service, region_name="ap-northeast-2")

        class Wrapped:
            def __getattr__(self, name):
                method = getattr(real, name)
                return lambda aws_retry=False, **kw: method(**kw)
        return Wrapped()


@pytest.fixture
def rds(moto_in_process):
    module = Module()
    return module, RecordingClient(module, "rds", Retry, ["InvalidDBInstanceState"], not_found=("DBInstanceNotFound",))


def test_describe_reads_absent_as_none_and_other_errors_raise(rds):
    module, client = rds
    assert Retry.asked == {"retries": 8, "catch_extra_error_codes": ["InvalidDBInstanceState"]} and module.decorators == ["decorator"]
    assert client.describe("describe_db_instances", "DBInstances", first=True, DBInstanceIdentifier="nope") is None
    with pytest.raises(ClientError) as err:
        client.describe("describe_db_subnet_groups", "DBSubnetGroups", DBSubnetGroupName="nope")
    assert error_code(err.value) == "DBSubnetGroupNotFoundFault" and client.calls == []


def test_changes_are_recorded_with_their_label(rds):
    _module, client = rds
    client.change("create_db_parameter_group", "p-pg15", DBParameterGroupName="p-pg15", DBParameterGroupFamily="postgres15",
                  Description="d")
    client.change("add_tags_to_resource", ResourceName="arn:aws:rds:ap-northeast-2:123456789012:pg:p-pg15", Tags=[])
    assert client.calls == ["create_db_parameter_group p-pg15", "add_tags_to_resource"]
    found = client.describe("describe_db_parameter_groups", "DBParameterGroups", first=True, DBParameterGroupName="p-pg15")
    assert found["DBParameterGroupFamily"] == "postgres15"
    assert error_code(ValueError("not a ClientError")) == ""
