"""The RDS fix: DescribeDBParameterGroups by name returns that group, or DBParameterGroupNotFound."""
from __future__ import annotations

import sys
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "scripts"))
import moto_ext  # pylint: disable=wrong-import-position

moto_ext.apply_all()


@pytest.fixture
def rds(monkeypatch):
    for var in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        yield boto3.client("rds", region_name="ap-northeast-2")


def test_describe_by_name(rds):
    for name in ("a-pg15", "b-pg15"):
        rds.create_db_parameter_group(DBParameterGroupName=name, DBParameterGroupFamily="postgres15", Description=name)
    groups = rds.describe_db_parameter_groups(DBParameterGroupName="b-pg15")["DBParameterGroups"]
    assert [g["DBParameterGroupName"] for g in groups] == ["b-pg15"]
    assert len(rds.describe_db_parameter_groups()["DBParameterGroups"]) == 2
    with pytest.raises(ClientError, match="DBParameterGroupNotFound"):
        rds.describe_db_parameter_groups(DBParameterGroupName="c-pg15")
