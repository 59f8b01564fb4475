#!/usr/bin/python

# Copyright: msa.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: rds_postgresql
short_description: An Amazon RDS for PostgreSQL primary and its read replicas, as one desired state
version_added: "0.3.0"
description:
  - Creates or converges an encrypted RDS PostgreSQL primary (Multi-AZ optional) and the read replicas
    O(read_replicas) names, in one task - missing replicas are created, unlisted replicas of the primary
    deleted, settings converged in place with C(ModifyDBInstance) (applied immediately).
  - The master password is kept by RDS in Secrets Manager (C(ManageMasterUserPassword)) unless
    O(manage_master_password=false), then it is O(master_password) from the user's secret source.
    C(amazon.aws.rds_instance) 10.x cannot ask for an RDS-managed secret, so this module exists.
  - What RDS cannot change in place (subnet group, encryption, shrinking storage, downgrades) is an error
    naming the option, before any change.
author:
  - msa.platform maintainers (@msa-platform)
options:
  identifier:
    description: DB instance identifier of the primary.
    type: str
    required: true
  state:
    description: C(absent) deletes the replicas, then the primary (see O(final_snapshot_identifier)).
    type: str
    choices: [present, absent]
    default: present
  read_replicas:
    description: Identifiers of the primary's read replicas (at most 15).
    type: list
    elements: str
    default: []
  engine_version:
    description: PostgreSQL version, C(15) (RDS picks the minor) or C(15.7). Omitted, RDS's default on creation.
    type: str
  instance_class:
    description: Instance class of the primary and the replicas, such as C(db.t4g.medium). Required to create.
    type: str
  storage_gb:
    description: Allocated storage (GiB, gp3, encrypted); only grows.
    type: int
    default: 20
  max_storage_gb:
    description: Storage autoscaling ceiling (GiB), 0 for none.
    type: int
    default: 0
  storage_type:
    description: Storage type on creation.
    type: str
    choices: [gp2, gp3, io1, io2]
    default: gp3
  multi_az:
    description: A Multi-AZ standby for the primary.
    type: bool
    default: false
  port:
    description: Port. Omitted, 5432.
    type: int
  subnet_group:
    description: DB subnet group (on creation; a different one later is an error).
    type: str
  security_group_ids:
    description: VPC security group IDs of the primary and replicas. Omitted, left as they are.
    type: list
    elements: str
  parameter_group:
    description: DB parameter group of the primary and replicas. Omitted, the family's default on creation.
    type: str
  kms_key_id:
    description: KMS key for storage encryption. Omitted, the RDS service key.
    type: str
  master_username:
    description: Master user name (on creation).
    type: str
    default: postgres
  manage_master_password:
    description: Let RDS generate the master password and keep it in Secrets Manager.
    type: bool
    default: true
  master_password:
    description: Master password with O(manage_master_password=false), from the user's secret source. Never logged.
    type: str
  update_password:
    description: C(on_create) sets O(master_password) only on creation; C(always) sets it on every run (reports a change).
    type: str
    choices: [on_create, always]
    default: on_create
  backup_retention_days:
    description: Automated backups kept, days (read replicas need at least 1).
    type: int
    default: 7
  deletion_protection:
    description: Deletion protection of the primary and replicas.
    type: bool
    default: true
  final_snapshot_identifier:
    description: With O(state=absent), the final snapshot of the primary. Omitted, no final snapshot.
    type: str
  wait:
    description: Wait until every instance is available (or gone).
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait per instance.
    type: int
    default: 3600
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
attributes:
  check_mode:
    support: full
    description: Reports what would change without calling any mutating API.
  diff_mode:
    support: full
    description: C(before) and C(after) hold the compared settings of each instance (never a password).
notes:
  - Every call is retried on throttling and transient errors (AWSRetry jittered backoff).
  - With O(state=absent) and deletion protection on, the module refuses; turn it off first (a converge with
    O(deletion_protection=false)).
"""

EXAMPLES = r"""
- name: Primary and one read replica, RDS-managed master secret
  msa.platform.rds_postgresql:
    identifier: courm-postgresql
    read_replicas: [courm-postgresql-replica-1]
    engine_version: "15"
    instance_class: db.t4g.medium
    subnet_group: courm-data
    parameter_group: courm-postgresql15
    security_group_ids: [sg-0123456789abcdef0]
    tags: {msa:platform: courm}
"""

RETURN = r"""
endpoints:
  description: The writer (primary) and each reader (replica) endpoint.
  returned: always
  type: dict
  sample: {writer: {address: courm-postgresql.abc.ap-northeast-2.rds.amazonaws.com, port: 5432},
           readers: [{identifier: courm-postgresql-replica-1, address: courm-postgresql-replica-1.abc..., port: 5432}]}
master_user_secret_arn:
  description: ARN of the Secrets Manager secret RDS keeps the master password in (never the password); null without one.
  returned: always
  type: str
  sample: arn:aws:secretsmanager:ap-northeast-2:123456789012:secret:rds!db-1234-abcd
calls:
  description: Mutating API calls made (or, in check mode, that would be made), with the instance they act on.
  returned: always
  type: list
  elements: str
  sample: ["modify_db_instance courm-postgresql", "create_db_instance_read_replica courm-postgresql-replica-1"]
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.msa.platform.plugins.module_utils.aws.client import RecordingClient
from ansible_collections.msa.platform.plugins.module_utils.aws.rds import (
    create_primary_request,
    create_replica_request,
    endpoint,
    primary_changes,
    problems,
    replica_changes,
    tag_changes,
    view,
    wait_for,
)
from ansible_collections.msa.platform.plugins.module_utils.module_args import build_module, int_range, problem_of, url
from ansible_collections.msa.platform.plugins.module_utils.topology_net import region_problem

try:
    from botocore.exceptions import BotoCoreError, ClientError
except ImportError:
    pass  # AnsibleAWSModule reports it

RETRY_CODES = ["InvalidDBInstanceState"]
RULES = dict(
    storage_gb=int_range(20, 65536),
    max_storage_gb=int_range(0, 65536),
    port=int_range(1150, 65535),
    backup_retention_days=int_range(0, 35),
    wait_timeout=int_range(1, 86400),
    region=problem_of(region_problem),
    endpoint_url=url,
)


class Rds(RecordingClient):
    """Calls recorded as "operation identifier"; in check mode a change is recorded, not made."""

    def __init__(self, module):
        super().__init__(module, "rds", AWSRetry, RETRY_CODES, not_found=("DBInstanceNotFound",))

    def change(self, operation, label="", **request):
        if self.module.check_mode:
            self.calls.append(f"{operation} {label}")
            return None
        return super().change(operation, label, **request)

    def get(self, identifier):
        return self.describe("describe_db_instances", "DBInstances", first=True, DBInstanceIdentifier=identifier)

    def wait(self, identifier, gone=False):
        if self.module.params["wait"] and not self.module.check_mode:
            return wait_for(lambda: self.get(identifier), self.module.params["wait_timeout"], gone=gone)
        return self.get(identifier)

    def sync_tags(self, instance, desired, purge):
        listed = self.call("list_tags_for_resource", ResourceName=instance["DBInstanceArn"])["TagList"]
        add, remove = tag_changes({t["Key"]: t["Value"] for t in listed}, desired, purge)
        target = instance["DBInstanceIdentifier"]
        if remove:
            self.change("remove_tags_from_resource", target, ResourceName=instance["DBInstanceArn"], TagKeys=remove)
        if add:
            self.change("add_tags_to_resource", target, ResourceName=instance["DBInstanceArn"],
                        Tags=[{"Key": k, "Value": v} for k, v in sorted(add.items())])


def _result(rds, primary, replicas):
    readers = [dict(endpoint(r), identifier=r["DBInstanceIdentifier"]) for r in replicas if r]
    secret = ((primary or {}).get("MasterUserSecret") or {}).get("SecretArn")
    return {"endpoints": {"writer": endpoint(primary), "readers": readers}, "master_user_secret_arn": secret, "calls": rds.calls}


def _absent(module, rds, primary):
    params = module.params
    ids = list(params["read_replicas"]) + list((primary or {}).get("ReadReplicaDBInstanceIdentifiers") or [])
    instances = [i for i in (rds.get(r) for r in dict.fromkeys(ids)) if i] + ([primary] if primary else [])
    protected = [i["DBInstanceIdentifier"] for i in instances if i.get("DeletionProtection")]
    if protected:
        module.fail_json(msg=f"deletion_protection: {', '.join(protected)} are protected against deletion; converge with "
                             "deletion_protection: false first (on purpose), then delete", calls=[])
    before = {i["DBInstanceIdentifier"]: view(i) for i in instances}
    for instance in instances:
        ident = instance["DBInstanceIdentifier"]
        if instance.get("DBInstanceStatus") == "deleting":
            continue
        request = {"DBInstanceIdentifier": ident, "DeleteAutomatedBackups": False}
        if instance is primary and params["final_snapshot_identifier"]:
            request["FinalDBSnapshotIdentifier"] = params["final_snapshot_identifier"]
        else:
            request["SkipFinalSnapshot"] = True
        rds.change("delete_db_instance", ident, **request)
    for instance in instances:
        rds.wait(instance["DBInstanceIdentifier"], gone=True)
    module.exit_json(changed=bool(instances), diff={"before": before, "after": {}}, **_result(rds, None, []))


def main():
    module = build_module(
        AnsibleAWSModule,
        dict(
            identifier=dict(type="str", required=True),
            state=dict(type="str", default="present", choices=["present", "absent"]),
            read_replicas=dict(type="list", elements="str", default=[]),
            engine_version=dict(type="str"),
            instance_class=dict(type="str"),
            storage_gb=dict(type="int", default=20),
            max_storage_gb=dict(type="int", default=0),
            storage_type=dict(type="str", default="gp3", choices=["gp2", "gp3", "io1", "io2"]),
            multi_az=dict(type="bool", default=False),
            port=dict(type="int"),
            subnet_group=dict(type="str"),
            security_group_ids=dict(type="list", elements="str"),
            parameter_group=dict(type="str"),
            kms_key_id=dict(type="str"),
            master_username=dict(type="str", default="postgres"),
            manage_master_password=dict(type="bool", default=True, no_log=False),
            master_password=dict(type="str", no_log=True),
            update_password=dict(type="str", default="on_create", choices=["on_create", "always"], no_log=False),
            backup_retention_days=dict(type="int", default=7),
            deletion_protection=dict(type="bool", default=True),
            final_snapshot_identifier=dict(type="str"),
            tags=dict(type="dict", aliases=["resource_tags"]),
            purge_tags=dict(type="bool", default=True),
            wait=dict(type="bool", default=True),
            wait_timeout=dict(type="int", default=3600),
        ),
        rules=RULES,
        supports_check_mode=True,
    )
    params = module.params
    found = problems(params)
    if found:
        module.fail_json(msg="; ".join(found))
    rds = Rds(module)
    ident = params["identifier"]
    try:
        primary = rds.get(ident)
        if params["state"] == "absent":
            _absent(module, rds, primary)
        before, after = {}, {}
        if primary is None:
            if not params["instance_class"]:
                module.fail_json(msg="instance_class: required to create the primary")
            rds.change("create_db_instance", ident, **create_primary_request(params))
            after[ident] = {k: params.get(k) for k in ("instance_class", "engine_version", "storage_gb", "multi_az", "subnet_group",
                                                       "parameter_group", "deletion_protection")}
            primary = rds.wait(ident) if not module.check_mode else None
        else:
            if primary.get("DBInstanceStatus") != "available":
                primary = rds.wait(ident)
            before[ident] = view(primary)
            request, fixed = primary_changes(before[ident], params)
            if fixed:
                module.fail_json(msg="; ".join(fixed), **_result(rds, primary, []))
            if request:
                rds.change("modify_db_instance", ident, DBInstanceIdentifier=ident, ApplyImmediately=True, **request)
                after[ident] = dict(before[ident], **{k: v for k, v in params.items() if k in before[ident] and v is not None})
                primary = rds.wait(ident) if not module.check_mode else primary
            else:
                after[ident] = before[ident]
            rds.sync_tags(primary, params["tags"], params["purge_tags"])
        replicas = []
        for replica_id in params["read_replicas"]:
            replica = rds.get(replica_id)
            if replica is None:
                rds.change("create_db_instance_read_replica", replica_id, **create_replica_request(params, replica_id))
                after[replica_id] = {"instance_class": params["instance_class"], "source": ident}
                replicas.append(rds.wait(replica_id) if not module.check_mode else None)
                continue
            before[replica_id] = view(replica)
            request = replica_changes(before[replica_id], params)
            if request:
                rds.change("modify_db_instance", replica_id, DBInstanceIdentifier=replica_id, ApplyImmediately=True, **request)
                replica = rds.wait(replica_id) if not module.check_mode else replica
            after[replica_id] = dict(before[replica_id], **{k: params[k] for k in ("instance_class", "deletion_protection")})
            rds.sync_tags(replica, params["tags"], params["purge_tags"])
            replicas.append(replica)
        for extra in (primary or {}).get("ReadReplicaDBInstanceIdentifiers") or []:
            if extra not in params["read_replicas"]:
                instance = rds.get(extra)
                if instance and instance.get("DeletionProtection"):
                    rds.change("modify_db_instance", extra, DBInstanceIdentifier=extra, DeletionProtection=False, ApplyImmediately=True)
                rds.change("delete_db_instance", extra, DBInstanceIdentifier=extra, SkipFinalSnapshot=True)
                before.setdefault(extra, view(instance))
                rds.wait(extra, gone=True)
        if rds.calls and not module.check_mode:
            primary = rds.get(ident)
        module.exit_json(changed=bool(rds.calls), diff={"before": before, "after": after}, **_result(rds, primary, replicas))
    except (BotoCoreError, ClientError) as err:
        module.fail_json_aws(err, msg=f"RDS PostgreSQL {ident}: {', '.join(rds.calls) or 'describe'} failed", calls=rds.calls)
    except TimeoutError as err:
        module.fail_json(msg=f"RDS PostgreSQL {ident}: {err}", calls=rds.calls)


if __name__ == "__main__":
    main()
