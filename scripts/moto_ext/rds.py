"""RDS fidelity fix: DescribeDBParameterGroups filters by DBParameterGroupName and reports a missing group.

AWS API reference, DescribeDBParameterGroups: "DBParameterGroupName - The name of a specific DB parameter
group to return details for"; Errors: "DBParameterGroupNotFound - DBParameterGroupName doesn't refer to an
existing DB parameter group" (HTTP 404). moto 5.2.5 looks the name up under a snake_case key the request
never carries, so it returns every group whatever the name, and an empty list (200) for a group that does
not exist; amazon.aws.rds_instance_param_group then fails with "list index out of range".

DescribeDBParameters lists every parameter of the group's family, engine defaults included (Parameter.Source
engine-default | system | user, with DataType, IsModifiable and ApplyType); moto lists only the values a user
set, so amazon.aws.rds_instance_param_group reports "not an available parameter" and sets nothing. The fix
answers a small catalog of postgres* parameters (the ones the platform sets) as engine defaults, with the
user's values over them.
"""
from __future__ import annotations

from moto.core.responses import ActionResult
from moto.rds.exceptions import DBParameterGroupNotFoundError
from moto.rds.models import RDSBackend
from moto.rds.responses import RDSResponse

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


# name -> (DataType, ApplyType, AllowedValues) of the PostgreSQL parameters the platform sets (RDS parameter reference).
POSTGRES_CATALOG = {
    "max_connections": ("integer", "static", "6-8388607"),
    "rds.force_ssl": ("boolean", "dynamic", "0,1"),
    "log_min_duration_statement": ("integer", "dynamic", "-1-2147483647"),
}


def _describe_db_parameters(self):
    name = self._get_param("DBParameterGroupName")
    group = _describe_db_parameters_group(self, name)
    source = self._get_param("Source")
    catalog = POSTGRES_CATALOG if (group.family or "").startswith("postgres") else {}
    out = []
    for pname, (data_type, apply_type, allowed) in catalog.items():
        value = group.parameters.get(pname, {}).get("ParameterValue")
        out.append({"ParameterName": pname, "DataType": data_type, "ApplyType": apply_type, "AllowedValues": allowed,
                    "IsModifiable": True, "Source": "user" if value is not None else "engine-default",
                    **({"ParameterValue": value} if value is not None else {})})
    for pname, param in group.parameters.items():
        if pname not in catalog:
            out.append(dict(param, Source="user", IsModifiable=True, DataType=param.get("DataType", "string")))
    if source:
        out = [p for p in out if p["Source"] == source]
    return ActionResult({"Parameters": out})


def _describe_db_parameters_group(self, name):
    return _describe_db_parameter_groups(self.backend, {"DBParameterGroupName": name})[0]


def apply() -> None:
    if RDSBackend.describe_db_parameter_groups is not _describe_db_parameter_groups:
        RDSBackend.describe_db_parameter_groups = _describe_db_parameter_groups
        RDSResponse.describe_db_parameters = _describe_db_parameters
