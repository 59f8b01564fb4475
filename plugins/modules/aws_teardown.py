#!/usr/bin/python

# Copyright: msa.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: aws_teardown
short_description: Delete every AWS resource of one platform and prove nothing tagged is left
version_added: "0.1.0"
description:
  - Finds the platform by its C(msa:platform) tag - its VPCs and everything inside them, tagged or not, plus tagged
    Elastic IPs, volumes, key pairs, IAM roles and instance profiles, IAM OIDC providers, launch templates and EKS
    clusters - and deletes it all in reverse dependency order, in one call - EKS add-ons, node groups, access entries,
    the OIDC provider, clusters and launch templates, load balancers and target groups (such as those
    Kubernetes Services leave), instances (waits until terminated), NAT gateways (waits until deleted), Elastic IPs,
    leftover network interfaces, internet gateways, subnets, route tables, security groups (their rules revoked
    first, since groups name each other), VPCs, volumes, key pairs, instance profiles and IAM roles.
  - Also the etcd snapshot bucket C(<platform>-etcd-<account id>) of the kubeadm etcd backups (tagged C(msa:platform)),
    every object version and delete marker first.
  - Ends with a sweep (per-service describe calls and the Resource Groups Tagging API) and fails, listing them, if any
    resource still carries the platform tag.
  - Works after a partial build and is safe to run again - missing resources are skipped.
  - Refuses to run unless O(confirm) equals O(platform).
author:
  - msa.platform maintainers (@msa-platform)
options:
  platform:
    description: Platform name, the value of the C(msa:platform) tag; a DNS label (lowercase letters, digits, C(-)).
    type: str
    required: true
  confirm:
    description: Must equal O(platform); a guard against tearing down the wrong platform.
    type: str
    required: true
  wait_timeout:
    description: Seconds to wait for each step that must finish before the next (instances, NAT gateways, EKS); 1 to 86400.
    type: int
    default: 900
  retry_mode:
    description: botocore retry mode used unless O(aws_config) sets C(retries).
    type: str
    choices: [standard, adaptive, legacy]
    default: adaptive
  retry_max_attempts:
    description: botocore maximum attempts per call (1 to 50), unless O(aws_config) sets C(retries).
    type: int
    default: 10
  delete_protected:
    description:
      - Delete RDS instances that have deletion protection on (turning it off first). Without it the teardown
        refuses, naming them, before deleting anything.
    type: bool
    default: false
  rds_final_snapshot:
    description: Take a final snapshot of each RDS primary (read replicas have none); kept, listed in RV(snapshots).
    type: bool
    default: true
  elasticache_final_snapshot:
    description: Take a final snapshot of each ElastiCache replication group; kept, listed in RV(snapshots).
    type: bool
    default: true
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
attributes:
  check_mode:
    support: full
    description: Lists what would be deleted and changes nothing.
  diff_mode:
    support: full
    description: C(before) lists the resources by kind, C(after) what is left (nothing on success).
notes:
  - Arguments are checked before any AWS call - a wrong type, a value out of range or a string holding a control
    character (a trailing newline) fails naming the option.
  - Every call is retried on throttling and transient errors (botocore retries plus amazon.aws AWSRetry backoff).
"""

EXAMPLES = r"""
- name: Tear the platform down
  msa.platform.aws_teardown:
    platform: "{{ msa_plan.name }}"
    confirm: "{{ confirm_teardown }}"
    region: "{{ msa_plan.region }}"

- name: What would be deleted
  msa.platform.aws_teardown:
    platform: ecoeco
    confirm: ecoeco
  check_mode: true
  register: doomed
"""

RETURN = r"""
resources:
  description: What was (or in check mode, would be) deleted, by kind in teardown order, each as a label.
  returned: always
  type: dict
  sample: {"nat_gateways": ["nat gateway nat-0a1b2c (ecoeco-nat-a)"], "vpcs": ["vpc vpc-0a1b2c (ecoeco)"]}
actions:
  description: The delete calls made, in order.
  returned: always
  type: list
  elements: str
  sample: ["terminate_instances i-0a1b2c", "delete_nat_gateway nat-0a1b2c"]
left:
  description: Resources still tagged for the platform after the teardown (the module fails when not empty).
  returned: always
  type: list
  elements: str
  sample: []
snapshots:
  description: Final snapshots taken (RDS primaries, ElastiCache groups); the sweep does not count them as left over.
  returned: success
  type: list
  elements: str
  sample: ["courm-postgresql-final-20261202063000"]
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.msa.platform.plugins.module_utils.aws_teardown import Clients, Teardown, TeardownError, summary
from ansible_collections.msa.platform.plugins.module_utils.module_args import build_module, int_range, problem_of, url
from ansible_collections.msa.platform.plugins.module_utils.topology_k8s import dns_label_problem
from ansible_collections.msa.platform.plugins.module_utils.topology_net import region_problem

try:
    from botocore.exceptions import BotoCoreError, ClientError
except ImportError:
    pass  # handled by AnsibleAWSModule

SERVICES = {"ec2": "ec2", "elbv2": "elbv2", "elb": "elb", "iam": "iam", "eks": "eks", "tagging": "resourcegroupstaggingapi",
            "s3": "s3", "rds": "rds", "elasticache": "elasticache", "ecr": "ecr"}
RULES = dict(
    platform=problem_of(dns_label_problem),
    wait_timeout=int_range(1, 86400),
    retry_max_attempts=int_range(1, 50),
    region=problem_of(region_problem),
    endpoint_url=url,
)
RETRY_CODES = ["RequestLimitExceeded", "Throttling", "ThrottlingException", "ServiceUnavailable", "InternalError", "Unavailable"]


def clients(module: AnsibleAWSModule) -> Clients:
    retry = AWSRetry.jittered_backoff(retries=8, catch_extra_error_codes=RETRY_CODES)
    return Clients(retrying=True, **{attr: module.client(service, retry_decorator=retry) for attr, service in SERVICES.items()})


def main() -> None:
    module = build_module(
        AnsibleAWSModule,
        dict(
            platform=dict(type="str", required=True),
            confirm=dict(type="str", required=True, no_log=False),
            wait_timeout=dict(type="int", default=900),
            retry_mode=dict(type="str", default="adaptive", choices=["standard", "adaptive", "legacy"]),
            retry_max_attempts=dict(type="int", default=10),
            delete_protected=dict(type="bool", default=False),
            rds_final_snapshot=dict(type="bool", default=True),
            elasticache_final_snapshot=dict(type="bool", default=True),
        ),
        rules=RULES,
        supports_check_mode=True,
    )
    platform = module.params["platform"]
    if module.params["confirm"] != platform:
        module.fail_json(msg=f"refusing to tear down {platform!r}: confirm is {module.params['confirm']!r}; "
                             f"pass confirm={platform!r} (the playbook: -e confirm_teardown={platform})")
    config = dict(module.params.get("aws_config") or {})
    config.setdefault("retries", {"mode": module.params["retry_mode"], "max_attempts": module.params["retry_max_attempts"]})
    module.params["aws_config"] = config

    try:
        teardown = Teardown(clients(module), platform, wait_timeout=module.params["wait_timeout"],
                            delete_protected=module.params["delete_protected"], rds_final_snapshot=module.params["rds_final_snapshot"],
                            elasticache_final_snapshot=module.params["elasticache_final_snapshot"])
    except (BotoCoreError, ClientError, ValueError, TypeError) as err:
        # botocore refuses a bad aws_config (retries, unknown keys) only when the client is made
        module.fail_json(msg=f"cannot create the AWS clients (check region, aws_config, retry_mode, retry_max_attempts): {err}")
    try:
        if module.check_mode:
            doomed = summary(teardown.find())
            module.exit_json(changed=bool(doomed), resources=doomed, actions=[], left=[], diff={"before": doomed, "after": {}})
        doomed = summary(teardown.run())
        left = teardown.sweep()
    except TeardownError as err:
        module.fail_json(msg=str(err), actions=teardown.log, left=[])
    except (BotoCoreError, ClientError) as err:
        module.fail_json_aws(err, msg=f"teardown of {platform} stopped after {len(teardown.log)} deletions", actions=teardown.log)
    result = dict(changed=bool(teardown.log), resources=doomed, actions=teardown.log, left=left, snapshots=teardown.snapshots,
                  diff={"before": doomed, "after": {"left": left} if left else {}})
    if left:
        module.fail_json(msg=f"teardown of {platform} left {len(left)} tagged resources: " + "; ".join(left), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
