"""The RDS fix: DescribeDBParameterGroups by name returns that group, or DBParameterGroupNotFound."""
from __future__ import annotations

import sys
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "scripts"))
import moto_ext  # pylint: disable=wrong-import-position

moto_ext.apply_all()


@pytest.fixture
def rds(moto_in_process):  # pylint: disable=unused-argument
    return boto3.client("rds", region_name="ap-northeast-2")


def test_describe_by_name(rds):
    for name in ("a-pg15", "b-pg15"):
        rds.create_db_parameter_group(DBParameterGroupName=name, DBParameterGroupFamily="postgres15", Description=name)
    groups = rds.describe_db_parameter_groups(DBParameterGroupName="b-pg15")["DBParameterGroups"]
    assert [g["DBParameterGroupName"] for g in groups] == ["b-pg15"]
    assert len(rds.describe_db_parameter_groups()["DBParameterGroups"]) == 2
    with pytest.raises(ClientError, match="DBParameterGroupNotFound"):
        rds.describe_db_parameter_groups(DBParameterGroupName="c-pg15")


def test_parameters_include_engine_defaults_with_user_values_over_them(rds):
    rds.create_db_parameter_group(DBParameterGroupName="a-pg15", DBParameterGroupFamily="postgres15", Description="a")
    params = {p["ParameterName"]: p for p in rds.describe_db_parameters(DBParameterGroupName="a-pg15")["Parameters"]}
    assert params["max_connections"]["Source"] == "engine-default" and "ParameterValue" not in params["max_connections"]
    assert params["max_connections"]["DataType"] == "integer" and params["max_connections"]["IsModifiable"]
    rds.modify_db_parameter_group(DBParameterGroupName="a-pg15", Parameters=[
        {"ParameterName": "max_connections", "ParameterValue": "200", "ApplyMethod": "pending-reboot"}])
    user = rds.describe_db_parameters(DBParameterGroupName="a-pg15", Source="user")["Parameters"]
    assert [(p["ParameterName"], p["ParameterValue"]) for p in user] == [("max_connections", "200")]
    with pytest.raises(ClientError, match="DBParameterGroupNotFound"):
        rds.describe_db_parameters(DBParameterGroupName="nope")
