#!/usr/bin/python

# Copyright: msa.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: elasticache_replication_group
short_description: Create, converge or delete an ElastiCache (Valkey / Redis OSS) replication group
version_added: "0.3.0"
description:
  - Keeps one ElastiCache replication group with cluster mode disabled - a primary and O(replicas) read
    replicas, Multi-AZ automatic failover, in-transit and at-rest encryption, an AUTH token - as asked.
  - Converges in place what ElastiCache can change (description, node type, engine version, parameter group,
    security groups, snapshot retention, failover, Multi-AZ, AUTH token, replica count with
    C(IncreaseReplicaCount) / C(DecreaseReplicaCount), tags); what it cannot (subnet group, port, encryption)
    is reported as an error naming the option, before any call.
  - With O(parameters), it also keeps the cache parameter group O(parameter_group) (created when missing, its parameters
    exactly those given), since C(community.aws.elasticache_parameter_group) knows no family after redis6.x and no
    check mode.
  - C(community.aws.elasticache) manages single cache clusters only, so this module exists.
author:
  - msa.platform maintainers (@msa-platform)
options:
  replication_group_id:
    description: Replication group identifier, 1-40 lowercase letters, digits and hyphens.
    type: str
    required: true
    aliases: [name]
  state:
    description: Whether the replication group should exist.
    type: str
    choices: [present, absent]
    default: present
  description:
    description: Description of the group. Omitted, the identifier on creation and left as it is afterwards.
    type: str
  engine:
    description: Engine; a C(redis) group can be moved to C(valkey), not back.
    type: str
    choices: [valkey, redis]
    default: valkey
  engine_version:
    description: Engine version; C(8.0) accepts any 8.0.x. Omitted, ElastiCache's default on creation.
    type: str
  node_type:
    description: Node type such as C(cache.t4g.small). Required to create the group.
    type: str
  replicas:
    description: Read replicas of the primary, 0-5.
    type: int
    default: 1
  automatic_failover:
    description: Automatic failover to a replica. Omitted, on when there is a replica.
    type: bool
  multi_az:
    description: Multi-AZ (needs automatic failover).
    type: bool
    default: true
  port:
    description: Port of the nodes (fixed at creation).
    type: int
    default: 6379
  subnet_group:
    description: Cache subnet group of the nodes (fixed at creation).
    type: str
  security_group_ids:
    description: VPC security group IDs of the nodes. Omitted, left as they are.
    type: list
    elements: str
  parameter_group:
    description:
      - Cache parameter group. Omitted, the engine family's default on creation and left as it is afterwards.
      - With O(parameters), the module creates this group (family O(parameter_group_family)) when missing and keeps its
        parameters exactly O(parameters) and its tags O(tags) (with O(purge_tags)) before it creates or converges the
        replication group.
    type: str
  parameter_group_family:
    description: Family of O(parameter_group) when the module keeps it, such as C(valkey8), C(redis7) or C(redis6.x).
    type: str
  parameters:
    description:
      - Parameters of O(parameter_group), such as C(maxmemory-policy). Given (even empty), the group's user-set parameters
        are made exactly these - one set by hand elsewhere is reset to the family default. Omitted, the group is not read.
      - The group is left in place by O(state=absent) (teardown deletes it after the replication group).
    type: dict
  transit_encryption:
    description: TLS in transit (fixed at creation; required for an AUTH token).
    type: bool
    default: true
  at_rest_encryption:
    description: Encryption at rest (fixed at creation).
    type: bool
    default: true
  kms_key_id:
    description: KMS key for encryption at rest. Omitted, the ElastiCache service key.
    type: str
  auth_token:
    description:
      - AUTH token (16-128 printable characters, no spaces, C(@), C(") or C(/)), from the user's secret source. Never logged.
      - ElastiCache does not reveal a token, so an existing one is changed only with O(auth_token_update=always).
    type: str
  auth_token_update:
    description: C(on_create) sets the token when the group has none; C(always) rotates it on every run (reports a change).
    type: str
    choices: [on_create, always]
    default: on_create
  snapshot_retention_days:
    description: Days of automatic daily snapshots, 0-35. Omitted, left as it is.
    type: int
  final_snapshot_identifier:
    description: With O(state=absent), the name of a final snapshot taken before deletion. Omitted, none.
    type: str
  wait:
    description: Wait until the group is available (or gone) after a change.
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait.
    type: int
    default: 1800
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
    description: C(before) and C(after) hold the compared settings (never the AUTH token) and the tags.
notes:
  - Every call is retried on throttling and transient errors (AWSRetry jittered backoff).
  - Cluster mode enabled (sharded) groups are not managed.
"""

EXAMPLES = r"""
- name: Valkey primary and one replica, Multi-AZ, TLS, AUTH from the vault
  msa.platform.elasticache_replication_group:
    replication_group_id: courm-redis
    node_type: cache.t4g.small
    engine_version: "8.0"
    replicas: 1
    subnet_group: courm-data
    parameter_group: courm-redis-valkey8
    parameter_group_family: valkey8
    parameters: {maxmemory-policy: allkeys-lru}
    security_group_ids: [sg-0123456789abcdef0]
    auth_token: "{{ vault_redis_auth_token }}"
    tags: {"msa:platform": courm}

- name: Delete it, keeping a final snapshot
  msa.platform.elasticache_replication_group:
    replication_group_id: courm-redis
    state: absent
    final_snapshot_identifier: courm-redis-final
"""

RETURN = r"""
replication_group:
  description: The group as DescribeReplicationGroups returns it (snake_case); empty when absent.
  returned: always
  type: dict
  sample: {replication_group_id: courm-redis, status: available, member_clusters: [courm-redis-001, courm-redis-002]}
endpoints:
  description: Primary (writer) and reader endpoints.
  returned: always
  type: dict
  sample: {primary: {address: master.courm-redis.abc123.apn2.cache.amazonaws.com, port: 6379},
           reader: {address: replica.courm-redis.abc123.apn2.cache.amazonaws.com, port: 6379}}
calls:
  description: Mutating API calls made (or, in check mode, that would be made).
  returned: always
  type: list
  elements: str
  sample: [modify_cache_parameter_group, modify_replication_group, increase_replica_count]
"""

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.msa.platform.plugins.module_utils.aws.client import RecordingClient
from ansible_collections.msa.platform.plugins.module_utils.aws.elasticache import (
    changes,
    chunks,
    create_request,
    current_view,
    desired_view,
    endpoints,
    parameter_changes,
    problems,
    tag_changes,
    wait_available,
)
from ansible_collections.msa.platform.plugins.module_utils.module_args import build_module, int_range, problem_of, url
from ansible_collections.msa.platform.plugins.module_utils.topology_net import region_problem

try:
    from botocore.exceptions import BotoCoreError, ClientError
except ImportError:
    pass  # AnsibleAWSModule reports it

RETRY_CODES = ["InvalidReplicationGroupState"]
RULES = dict(
    replicas=int_range(0, 5),
    port=int_range(1024, 65535),
    snapshot_retention_days=int_range(0, 35),
    wait_timeout=int_range(1, 86400),
    region=problem_of(region_problem),
    endpoint_url=url,
)


class Client(RecordingClient):
    def __init__(self, module):
        super().__init__(module, "elasticache", AWSRetry, RETRY_CODES,
                         not_found=("ReplicationGroupNotFoundFault", "CacheParameterGroupNotFound"))

    def group(self, group_id):
        return self.describe("describe_replication_groups", "ReplicationGroups", first=True, ReplicationGroupId=group_id)

    def primary(self, group):
        members = (group.get("NodeGroups") or [{}])[0].get("NodeGroupMembers") or []
        primary = next((m["CacheClusterId"] for m in members if m.get("CurrentRole") == "primary"), None)
        primary = primary or (group.get("MemberClusters") or [None])[0]
        if not primary:
            return None
        return self.call("describe_cache_clusters", CacheClusterId=primary)["CacheClusters"][0]

    def parameter_group(self, name):
        return self.describe("describe_cache_parameter_groups", "CacheParameterGroups", first=True, CacheParameterGroupName=name)

    def user_parameters(self, name):
        """{name: value} of the parameters set in the group (Source user)."""
        out, marker = {}, None
        while True:
            page = self.call("describe_cache_parameters", CacheParameterGroupName=name, Source="user", **({"Marker": marker} if marker else {}))
            out.update((p["ParameterName"], p.get("ParameterValue")) for p in page.get("Parameters", []))
            marker = page.get("Marker")
            if not marker:
                return out

    def tags(self, arn):
        listed = self.call("list_tags_for_resource", ResourceName=arn)["TagList"]
        return {t["Key"]: t["Value"] for t in listed}

    def retag(self, arn, add, remove):
        """Apply tag_changes' (add, remove) to ARN (a replication group or a cache parameter group)."""
        if remove:
            self.change("remove_tags_from_resource", ResourceName=arn, TagKeys=remove)
        if add:
            self.change("add_tags_to_resource", ResourceName=arn, Tags=[{"Key": k, "Value": v} for k, v in sorted(add.items())])


def _tag_calls(add, remove):
    """The calls Client.retag makes for tag_changes' (add, remove)."""
    return (["remove_tags_from_resource"] if remove else []) + (["add_tags_to_resource"] if add else [])


def _parameters(module, aws):
    """Create the parameter group when missing and make its parameters exactly O(parameters); (calls, before, after)."""
    params = module.params
    if params["parameters"] is None or params["state"] == "absent":
        return [], None, None
    name, family = params["parameter_group"], params["parameter_group_family"]
    group = aws.parameter_group(name)
    if group and group.get("CacheParameterGroupFamily") != family:
        module.fail_json(msg=f"parameter_group_family: {name} is family {group.get('CacheParameterGroupFamily')}, asked {family}; "
                             "ElastiCache cannot change a group's family: name a new group")
    current = aws.user_parameters(name) if group else {}
    modify, reset = parameter_changes(current, params["parameters"])
    # A new group gets its tags with CreateCacheParameterGroup; an existing one has them put back like the replication group's.
    tag_add, tag_remove = tag_changes(aws.tags(group["ARN"]), params["tags"], params["purge_tags"]) if group else ({}, [])
    planned = ([] if group else ["create_cache_parameter_group"]) + (["modify_cache_parameter_group"] if modify else []) \
        + (["reset_cache_parameter_group"] if reset else []) + _tag_calls(tag_add, tag_remove)
    after = {k: str(v) for k, v in params["parameters"].items()}
    if module.check_mode:
        return planned, current, after
    if not group:
        request = {"CacheParameterGroupName": name, "CacheParameterGroupFamily": family,
                   "Description": params.get("description") or f"{params['replication_group_id']} parameters"}
        if params["tags"]:
            request["Tags"] = [{"Key": k, "Value": str(v)} for k, v in sorted(params["tags"].items())]
        aws.change("create_cache_parameter_group", **request)
    for batch in chunks(modify):
        aws.change("modify_cache_parameter_group", CacheParameterGroupName=name, ParameterNameValues=batch)
    for batch in chunks(reset):
        aws.change("reset_cache_parameter_group", CacheParameterGroupName=name, ResetAllParameters=False, ParameterNameValues=batch)
    if group:
        aws.retag(group["ARN"], tag_add, tag_remove)
    return planned, current, after


def _result(group, calls):
    return {"replication_group": camel_dict_to_snake_dict(group or {}), "endpoints": endpoints(group), "calls": list(calls)}


def _absent(module, aws, group, before):
    params = module.params
    if group is None:
        module.exit_json(changed=False, diff={"before": {}, "after": {}}, **_result(None, []))
    if not module.check_mode:
        if group.get("Status") != "deleting":
            request = {"ReplicationGroupId": params["replication_group_id"]}
            if params["final_snapshot_identifier"]:
                request["FinalSnapshotIdentifier"] = params["final_snapshot_identifier"]
            aws.change("delete_replication_group", **request)
        if params["wait"]:
            wait_available(lambda: aws.group(params["replication_group_id"]), params["wait_timeout"], gone=True)
    module.exit_json(changed=True, diff={"before": before, "after": {}}, **_result(None, aws.calls or ["delete_replication_group"]))


def _create(module, aws, pg_planned, pg_after):
    params = module.params
    request = create_request(params, params["tags"])
    after = desired_view(params)
    after.pop("auth_token_enabled", None)
    if pg_after is not None:
        after["parameters"] = pg_after
    if module.check_mode:
        module.exit_json(changed=True, diff={"before": {}, "after": after}, **_result(None, [*pg_planned, "create_replication_group"]))
    aws.change("create_replication_group", **request)
    group = aws.group(params["replication_group_id"])
    if params["wait"]:
        group = wait_available(lambda: aws.group(params["replication_group_id"]), params["wait_timeout"])
    view = current_view(group, aws.primary(group))
    if pg_after is not None:
        view["parameters"] = pg_after
    module.exit_json(changed=True, diff={"before": {}, "after": view}, **_result(group, aws.calls))


def main():
    module = build_module(
        AnsibleAWSModule,
        dict(
            replication_group_id=dict(type="str", required=True, aliases=["name"]),
            state=dict(type="str", default="present", choices=["present", "absent"]),
            description=dict(type="str"),
            engine=dict(type="str", default="valkey", choices=["valkey", "redis"]),
            engine_version=dict(type="str"),
            node_type=dict(type="str"),
            replicas=dict(type="int", default=1),
            automatic_failover=dict(type="bool"),
            multi_az=dict(type="bool", default=True),
            port=dict(type="int", default=6379),
            subnet_group=dict(type="str"),
            security_group_ids=dict(type="list", elements="str"),
            parameter_group=dict(type="str"),
            parameter_group_family=dict(type="str"),
            parameters=dict(type="dict"),
            transit_encryption=dict(type="bool", default=True),
            at_rest_encryption=dict(type="bool", default=True),
            kms_key_id=dict(type="str"),
            auth_token=dict(type="str", no_log=True),
            auth_token_update=dict(type="str", default="on_create", choices=["on_create", "always"], no_log=False),
            snapshot_retention_days=dict(type="int"),
            final_snapshot_identifier=dict(type="str"),
            tags=dict(type="dict", aliases=["resource_tags"]),
            purge_tags=dict(type="bool", default=True),
            wait=dict(type="bool", default=True),
            wait_timeout=dict(type="int", default=1800),
        ),
        rules=RULES,
        supports_check_mode=True,
    )
    params = module.params
    found = problems(params)
    if found:
        module.fail_json(msg="; ".join(found))
    aws = Client(module)
    gid = params["replication_group_id"]
    try:
        group = aws.group(gid)
        primary = aws.primary(group) if group else None
        before = current_view(group, primary) if group else {}
        if params["state"] == "absent":
            _absent(module, aws, group, before)
        if group is None and not params["node_type"]:
            module.fail_json(msg="node_type: required to create a replication group")
        # The parameter group first: a new replication group names it, a changed one is applied to the running nodes.
        pg_planned, pg_before, pg_after = _parameters(module, aws)
        if group is None:
            _create(module, aws, pg_planned, pg_after)
        if group.get("Status") != "available":
            group = wait_available(lambda: aws.group(gid), params["wait_timeout"])
            primary = aws.primary(group)
            before = current_view(group, primary)
        desired = desired_view(params)
        request, replicas, fixed = changes(before, desired, params)
        if fixed:
            module.fail_json(msg="; ".join(fixed), **_result(group, []))
        add, remove = tag_changes(aws.tags(group["ARN"]), params["tags"], params["purge_tags"])
        planned = (["modify_replication_group"] if request else [])
        if replicas is not None:
            planned.append("increase_replica_count" if replicas > before["replicas"] else "decrease_replica_count")
        planned += _tag_calls(add, remove)
        planned = pg_planned + planned
        after = dict(before, **{k: v for k, v in desired.items() if k != "auth_token_enabled"})
        if pg_after is not None:
            before, after = dict(before, parameters=pg_before), dict(after, parameters=pg_after)
        if module.check_mode or not planned:
            module.exit_json(changed=bool(planned), diff={"before": before, "after": after}, **_result(group, planned))
        # Fewer replicas first (so failover settings stay valid), then settings, then more replicas.
        if replicas is not None and replicas < before["replicas"]:
            aws.change("decrease_replica_count", ReplicationGroupId=gid, NewReplicaCount=replicas, ApplyImmediately=True)
            if params["wait"]:
                wait_available(lambda: aws.group(gid), params["wait_timeout"])
        if request:
            aws.change("modify_replication_group", ReplicationGroupId=gid, ApplyImmediately=True, **request)
            if params["wait"]:
                wait_available(lambda: aws.group(gid), params["wait_timeout"])
        if replicas is not None and replicas > before["replicas"]:
            aws.change("increase_replica_count", ReplicationGroupId=gid, NewReplicaCount=replicas, ApplyImmediately=True)
            if params["wait"]:
                wait_available(lambda: aws.group(gid), params["wait_timeout"])
        aws.retag(group["ARN"], add, remove)
        group = aws.group(gid)
        view = current_view(group, aws.primary(group))
        if pg_after is not None:
            view["parameters"] = pg_after
        module.exit_json(changed=True, diff={"before": before, "after": view}, **_result(group, aws.calls))
    except (BotoCoreError, ClientError) as err:
        module.fail_json_aws(err, msg=f"ElastiCache replication group {gid}: {', '.join(aws.calls) or 'describe'} failed", calls=aws.calls)
    except TimeoutError as err:
        module.fail_json(msg=f"ElastiCache replication group {gid}: {err}", calls=aws.calls)


if __name__ == "__main__":
    main()
