"""RDS fidelity fix: DescribeDBParameterGroups filters by DBParameterGroupName and reports a missing group.

AWS API reference, DescribeDBParameterGroups: "DBParameterGroupName - The name of a specific DB parameter
group to return details for"; Errors: "DBParameterGroupNotFound - DBParameterGroupName doesn't refer to an
existing DB parameter group" (HTTP 404). moto 5.2.5 looks the name up under a snake_case key the request
never carries, so it returns every group whatever the name, and an empty list (200) for a group that does
not exist; amazon.aws.rds_instance_param_group then fails with "list index out of range".
"""
from __future__ import annotations

from moto.rds.exceptions import DBParameterGroupNotFoundError
from moto.rds.models import RDSBackend

_original_describe_groups = RDSBackend.describe_db_parameter_groups


def _describe_db_parameter_groups(self, db_parameter_group_kwargs):
    kwargs = db_parameter_group_kwargs or {}
    name = kwargs.get("DBParameterGroupName") or kwargs.get("db_parameter_group_name")
    groups = _original_describe_groups(self, {})
    if not name:
        return groups
    named = [group for group in groups if group.name == name]
    if not named:
        raise DBParameterGroupNotFoundError(name)
    return named


def apply() -> None:
    if RDSBackend.describe_db_parameter_groups is not _describe_db_parameter_groups:
        RDSBackend.describe_db_parameter_groups = _describe_db_parameter_groups
