# Copyright: msa.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""RDS PostgreSQL logic for msa.platform.rds_postgresql: a primary and its read replicas as one desired state.

amazon.aws.rds_instance (10.x) has no ManageMasterUserPassword, the default here (RDS keeps the master
password in Secrets Manager), so this module exists. Pure functions: `problems()` checks the parameters
(messages name the option, never show the password), `view()` reads DescribeDBInstances into the compared
shape, `primary_changes()` / `replica_changes()` return ModifyDBInstance requests and the differences RDS
cannot make in place.
"""
from __future__ import annotations

import re
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

IDENTIFIER = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")     # 1-63, letter first, no '--', no trailing '-'
INSTANCE_CLASS = re.compile(r"db\.[a-z][a-z0-9-]*\.[a-z0-9]+")
VERSION = re.compile(r"[0-9]+(\.[0-9]+)?")
USERNAME = re.compile(r"[a-z][a-z0-9_]{0,62}")
PASSWORD = re.compile(r"[\x21-\x7e]{8,128}")
PASSWORD_FORBIDDEN = set('/"@')
MAX_READ_REPLICAS = 15


def problems(params: Dict[str, Any]) -> List[str]:
    out = []
    ids = [("identifier", params.get("identifier"))] + [(f"read_replicas[{i}]", r) for i, r in enumerate(params.get("read_replicas") or [])]
    for field, value in ids:
        if not (isinstance(value, str) and IDENTIFIER.fullmatch(value) and len(value) <= 63):
            out.append(f"{field}: {value!r} must be 1-63 lowercase letters, digits and single hyphens, starting with a letter")
    replicas = params.get("read_replicas") or []
    if len(replicas) > MAX_READ_REPLICAS:
        out.append(f"read_replicas: {len(replicas)} replicas; RDS allows at most {MAX_READ_REPLICAS} per source instance")
    if len(set(replicas)) != len(replicas) or params.get("identifier") in replicas:
        out.append("read_replicas: identifiers must be unique and differ from identifier")
    if params.get("state") == "absent":
        return out
    if params.get("instance_class") is not None and not INSTANCE_CLASS.fullmatch(params["instance_class"]):
        out.append(f"instance_class: {params['instance_class']!r} is not an RDS instance class like db.t4g.medium")
    if params.get("engine_version") is not None and not VERSION.fullmatch(params["engine_version"]):
        out.append(f"engine_version: {params['engine_version']!r} is not a PostgreSQL version like 15 or 15.7")
    if params.get("master_username") is not None and not USERNAME.fullmatch(params["master_username"]):
        out.append(f"master_username: {params['master_username']!r} must be a lowercase letter, then letters, digits or '_'")
    password = params.get("master_password")
    if password is not None:
        if params.get("manage_master_password"):
            out.append("master_password: give it only with manage_master_password: false (RDS keeps the password otherwise)")
        if not PASSWORD.fullmatch(password) or PASSWORD_FORBIDDEN & set(password):
            out.append("master_password: must be 8-128 printable ASCII characters without spaces, '/', '\"' or '@' (value not shown)")
    elif not params.get("manage_master_password"):
        out.append("master_password: required with manage_master_password: false (from the user's secret source)")
    storage, ceiling = params.get("storage_gb"), params.get("max_storage_gb")
    if isinstance(storage, int) and isinstance(ceiling, int) and 0 < ceiling <= storage:
        out.append(f"max_storage_gb: {ceiling} must be above storage_gb ({storage}), or 0 to turn autoscaling off")
    if replicas and params.get("backup_retention_days") == 0:
        out.append("backup_retention_days: 0 turns backups off, but read replicas need a source with backups")
    return out


def view(instance: Optional[Dict[str, Any]]) -> Dict[str, Any]:
    if not instance:
        return {}
    return {
        "instance_class": instance.get("DBInstanceClass"),
        "engine_version": instance.get("EngineVersion"),
        "storage_gb": instance.get("AllocatedStorage"),
        "max_storage_gb": instance.get("MaxAllocatedStorage") or 0,
        "multi_az": bool(instance.get("MultiAZ")),
        "security_group_ids": sorted(g["VpcSecurityGroupId"] for g in instance.get("VpcSecurityGroups") or []),
        "parameter_group": next((g["DBParameterGroupName"] for g in instance.get("DBParameterGroups") or []), None),
        "subnet_group": (instance.get("DBSubnetGroup") or {}).get("DBSubnetGroupName"),
        "backup_retention_days": instance.get("BackupRetentionPeriod"),
        "deletion_protection": bool(instance.get("DeletionProtection")),
        "storage_encrypted": bool(instance.get("StorageEncrypted")),
        "port": (instance.get("Endpoint") or {}).get("Port") or instance.get("DbInstancePort"),
        "manage_master_password": bool(instance.get("MasterUserSecret")),
    }


def version_matches(current: Optional[str], wanted: str) -> bool:
    return current is not None and (current == wanted or current.startswith(wanted + "."))


def _major(version: Optional[str]) -> Optional[int]:
    head = (version or "").split(".")[0]
    return int(head) if head.isdigit() else None


def primary_changes(current: Dict[str, Any], params: Dict[str, Any]) -> Tuple[Dict[str, Any], List[str]]:
    """(ModifyDBInstance request without the identifier, problems RDS cannot solve in place)."""
    request: Dict[str, Any] = {}
    fixed = []
    simple = {"instance_class": "DBInstanceClass", "multi_az": "MultiAZ", "parameter_group": "DBParameterGroupName",
              "backup_retention_days": "BackupRetentionPeriod", "deletion_protection": "DeletionProtection",
              "max_storage_gb": "MaxAllocatedStorage"}
    for key, api in simple.items():
        if params.get(key) is not None and current.get(key) != params[key]:
            request[api] = params[key]
    if params.get("security_group_ids") is not None and current.get("security_group_ids") != sorted(params["security_group_ids"]):
        request["VpcSecurityGroupIds"] = sorted(params["security_group_ids"])
    if params.get("storage_gb") is not None and current.get("storage_gb") != params["storage_gb"]:
        if params["storage_gb"] < (current.get("storage_gb") or 0):
            fixed.append(f"storage_gb: {params['storage_gb']} is below the allocated {current['storage_gb']}; RDS storage only grows")
        else:
            request["AllocatedStorage"] = params["storage_gb"]
    wanted = params.get("engine_version")
    if wanted and not version_matches(current.get("engine_version"), wanted):
        current_major, wanted_major = _major(current.get("engine_version")), _major(wanted)
        if current_major is not None and wanted_major is not None and wanted_major < current_major:
            fixed.append(f"engine_version: {wanted} is older than the running {current['engine_version']}; RDS does not downgrade")
        else:
            request["EngineVersion"] = wanted
            if wanted_major != current_major:
                request["AllowMajorVersionUpgrade"] = True
    if params.get("subnet_group") is not None and current.get("subnet_group") != params["subnet_group"]:
        fixed.append(f"subnet_group: is {current.get('subnet_group')!r}, asked {params['subnet_group']!r}; move it by hand "
                     "(ModifyDBInstance DBSubnetGroupName, a Multi-AZ maintenance operation) or keep it")
    if params.get("storage_encrypted") is not None and current.get("storage_encrypted") != params["storage_encrypted"]:
        fixed.append("storage_encrypted: RDS cannot encrypt or decrypt an existing instance; restore a snapshot copy instead")
    if params.get("manage_master_password") and not current.get("manage_master_password"):
        request["ManageMasterUserPassword"] = True
    elif params.get("manage_master_password") is False and current.get("manage_master_password"):
        request.update(ManageMasterUserPassword=False, MasterUserPassword=params["master_password"])
    elif params.get("master_password") and params.get("update_password") == "always":
        request["MasterUserPassword"] = params["master_password"]
    return request, fixed


def replica_changes(current: Dict[str, Any], params: Dict[str, Any]) -> Dict[str, Any]:
    """What a read replica follows from the primary's settings: class, security groups, parameter group, deletion protection."""
    request: Dict[str, Any] = {}
    for key, api in (("instance_class", "DBInstanceClass"), ("parameter_group", "DBParameterGroupName"),
                     ("deletion_protection", "DeletionProtection")):
        if params.get(key) is not None and current.get(key) != params[key]:
            request[api] = params[key]
    if params.get("security_group_ids") is not None and current.get("security_group_ids") != sorted(params["security_group_ids"]):
        request["VpcSecurityGroupIds"] = sorted(params["security_group_ids"])
    return request


def _tags(tags: Optional[Dict[str, Any]]) -> List[Dict[str, str]]:
    return [{"Key": k, "Value": str(v)} for k, v in sorted((tags or {}).items())]


def create_primary_request(params: Dict[str, Any]) -> Dict[str, Any]:
    request: Dict[str, Any] = {
        "DBInstanceIdentifier": params["identifier"], "Engine": "postgres", "DBInstanceClass": params["instance_class"],
        "AllocatedStorage": params["storage_gb"], "StorageType": params.get("storage_type") or "gp3", "StorageEncrypted": True,
        "MultiAZ": bool(params.get("multi_az")), "MasterUsername": params["master_username"],
        "BackupRetentionPeriod": params["backup_retention_days"], "DeletionProtection": bool(params.get("deletion_protection")),
        "PubliclyAccessible": False, "CopyTagsToSnapshot": True, "Tags": _tags(params.get("tags")),
    }
    optional = {"engine_version": "EngineVersion", "port": "Port", "subnet_group": "DBSubnetGroupName",
                "parameter_group": "DBParameterGroupName", "kms_key_id": "KmsKeyId"}
    request.update((api, params[key]) for key, api in optional.items() if params.get(key) is not None)
    if params.get("max_storage_gb"):
        request["MaxAllocatedStorage"] = params["max_storage_gb"]
    if params.get("security_group_ids") is not None:
        request["VpcSecurityGroupIds"] = sorted(params["security_group_ids"])
    if params.get("manage_master_password"):
        request["ManageMasterUserPassword"] = True
    else:
        request["MasterUserPassword"] = params["master_password"]
    return request


def create_replica_request(params: Dict[str, Any], replica: str) -> Dict[str, Any]:
    request: Dict[str, Any] = {
        "DBInstanceIdentifier": replica, "SourceDBInstanceIdentifier": params["identifier"],
        "DBInstanceClass": params["instance_class"], "PubliclyAccessible": False,
        "DeletionProtection": bool(params.get("deletion_protection")), "Tags": _tags(params.get("tags")),
    }
    if params.get("parameter_group") is not None:
        request["DBParameterGroupName"] = params["parameter_group"]
    if params.get("security_group_ids") is not None:
        request["VpcSecurityGroupIds"] = sorted(params["security_group_ids"])
    return request


def endpoint(instance: Optional[Dict[str, Any]]) -> Dict[str, Any]:
    point = (instance or {}).get("Endpoint") or {}
    return {"address": point.get("Address"), "port": point.get("Port")} if point else {}


def tag_changes(current: Dict[str, str], desired: Optional[Dict[str, Any]], purge: bool) -> Tuple[Dict[str, str], List[str]]:
    if desired is None:
        return {}, []
    wanted = {k: str(v) for k, v in desired.items()}
    add = {k: v for k, v in wanted.items() if current.get(k) != v}
    return add, sorted(k for k in current if purge and k not in wanted and not k.startswith("aws:"))


def wait_for(describe: Callable[[], Optional[Dict[str, Any]]], timeout: float, gone: bool = False,
             sleep: Callable[[float], None] = time.sleep) -> Optional[Dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        instance = describe()
        if (gone and instance is None) or (not gone and instance is not None and instance.get("DBInstanceStatus") == "available"):
            return instance
        if time.monotonic() >= deadline:
            raise TimeoutError(f"still {instance.get('DBInstanceStatus') if instance else 'absent'} after {timeout:.0f} s")
        sleep(15)
