#!/usr/bin/python

# Copyright: msa.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: aws_node_roles
short_description: IAM roles of EC2 nodes and their instance profiles, from one read of the account's roles
version_added: "0.2.0"
description:
  - Reads every role once (IAM GetAccountAuthorizationDetails with the C(Role) filter - trust policy, description, tags,
    managed and inline policies and the instance profiles holding each role), then writes only what differs - a
    converged set of roles costs that one (paginated) read.
  - Each role gets exactly the given trust policy, description, tags, managed policies and inline policies; with
    O(roles[].instance_profile) an instance profile of the same name, with the same tags, holds exactly that role.
author:
  - msa.platform maintainers (@msa-platform)
options:
  roles:
    description: The roles.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: Role name (and instance profile name).
        type: str
        required: true
      description:
        description: Role description.
        type: str
        default: ""
      assume_role_policy:
        description: Trust policy document.
        type: dict
        required: true
      managed_policies:
        description: ARNs of the managed policies attached, exactly.
        type: list
        elements: str
        default: []
      inline_policies:
        description:
          - Inline policy name -> document, exactly, except the names in O(roles[].other_inline_policies).
        type: dict
        default: {}
      other_inline_policies:
        description:
          - Names of inline policies another layer puts on this role (e.g. the add-ons layer's controller
            policies on the kubeadm node role), left as they are and never deleted here.
        type: list
        elements: str
        default: []
      tags:
        description: Tags of the role and of its instance profile, exactly.
        type: dict
        default: {}
      instance_profile:
        description: Keep an instance profile of the same name holding the role.
        type: bool
        default: true
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
attributes:
  check_mode:
    support: full
    description: Reads, plans and reports the writes in RV(actions) without making them.
  diff_mode:
    support: full
    description: C(before) and C(after) of each role (policies by name, tags, profile).
notes:
  - Needs C(iam:GetAccountAuthorizationDetails) (read-only, account-wide) instead of per-role reads.
  - Every input is checked before any AWS call; a problem fails naming the option path.
"""

EXAMPLES = r"""
- name: Node roles with SSM and their instance profiles
  msa.platform.aws_node_roles:
    roles:
      - name: ecoeco-node
        description: node instances of ecoeco
        assume_role_policy:
          Version: "2012-10-17"
          Statement: [{Effect: Allow, Principal: {Service: ec2.amazonaws.com}, Action: sts:AssumeRole}]
        managed_policies: [arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore]
        tags: {"msa:platform": ecoeco}
"""

RETURN = r"""
actions:
  description: The writes made (or, in check mode, planned), each "operation role".
  returned: always
  type: list
  elements: str
  sample: ["create_role ecoeco-node", "attach_role_policy ecoeco-node"]
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.msa.platform.plugins.module_utils.aws.iam_roles import Roles
from ansible_collections.msa.platform.plugins.module_utils.module_args import build_module, problem_of, url
from ansible_collections.msa.platform.plugins.module_utils.topology_net import region_problem

try:
    from botocore.exceptions import BotoCoreError, ClientError
except ImportError:
    pass  # handled by AnsibleAWSModule

RETRY_CODES = ["Throttling", "ThrottlingException", "ServiceUnavailable", "ServiceFailure", "InternalError"]
# a role just created may not be visible to the next call yet (IAM is eventually consistent)
FRESH_CODES = [*RETRY_CODES, "NoSuchEntity"]


def problems(roles):
    out = []
    names = [r.get("name") for r in roles]
    if len(set(names)) != len(names):
        out.append("roles: names must be unique")
    for i, role in enumerate(roles):
        for key in ("assume_role_policy",):
            if not isinstance(role.get(key), dict) or not role[key].get("Statement"):
                out.append(f"roles[{i}].{key}: must be a policy document with a Statement")
        for policy, doc in (role.get("inline_policies") or {}).items():
            if not isinstance(doc, dict) or not doc.get("Statement"):
                out.append(f"roles[{i}].inline_policies.{policy}: must be a policy document with a Statement")
        for key, value in (role.get("tags") or {}).items():
            if not isinstance(value, (str, int, float)) or isinstance(value, bool):
                out.append(f"roles[{i}].tags.{key}: must be a string")
    return out


def main():
    module = build_module(
        AnsibleAWSModule,
        dict(roles=dict(type="list", elements="dict", required=True, options=dict(
            name=dict(type="str", required=True), description=dict(type="str", default=""),
            assume_role_policy=dict(type="dict", required=True), managed_policies=dict(type="list", elements="str", default=[]),
            inline_policies=dict(type="dict", default={}), other_inline_policies=dict(type="list", elements="str", default=[]),
            tags=dict(type="dict", default={}),
            instance_profile=dict(type="bool", default=True)))),
        rules=dict(region=problem_of(region_problem), endpoint_url=url),
        supports_check_mode=True,
    )
    defaults = dict(description="", managed_policies=[], inline_policies={}, other_inline_policies=[], tags={}, instance_profile=True)
    wanted = [dict(defaults, **{k: v for k, v in role.items() if v is not None}) for role in module.params["roles"]]
    found = problems(wanted)
    if found:
        module.fail_json(msg="aws_node_roles: " + "; ".join(found))
    iam = module.client("iam", retry_decorator=AWSRetry.jittered_backoff(retries=8, catch_extra_error_codes=FRESH_CODES))
    reads = module.client("iam", retry_decorator=AWSRetry.jittered_backoff(retries=8, catch_extra_error_codes=RETRY_CODES))

    def call(operation, **request):
        return getattr(reads if operation.startswith("get_") else iam, operation)(aws_retry=True, **request)

    roles = Roles(call, check_mode=module.check_mode)
    try:
        before, after = roles.reconcile(wanted)
    except (BotoCoreError, ClientError) as err:
        module.fail_json_aws(err, msg=f"aws_node_roles stopped after: {', '.join(roles.actions) or 'the lookup'}", actions=roles.actions)
    module.exit_json(changed=bool(roles.actions), actions=roles.actions, diff={"before": before, "after": after})


if __name__ == "__main__":
    main()
