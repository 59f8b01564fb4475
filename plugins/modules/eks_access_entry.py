#!/usr/bin/python

# Copyright: msa.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: eks_access_entry
short_description: Grant an IAM principal access to an Amazon EKS cluster with an access entry and access policies
version_added: "0.2.0"
description:
  - Creates or converges an EKS access entry (Kubernetes groups, username, tags) for an IAM role or user, and
    converges the access policies associated with it - associates missing ones, re-associates one whose scope
    changed, and (with O(purge_policies)) disassociates the others.
  - The cluster's authentication mode must be C(API) or C(API_AND_CONFIG_MAP) (see M(msa.platform.eks_cluster)).
  - Removes the entry (and with it its policy associations) with O(state=absent).
author:
  - msa.platform maintainers (@msa-platform)
options:
  cluster_name:
    description: Name of the EKS cluster.
    type: str
    required: true
  principal_arn:
    description: ARN of the IAM role or user.
    type: str
    required: true
  state:
    description: Whether the access entry should exist.
    type: str
    choices: [present, absent]
    default: present
  type:
    description: Type of the entry; immutable. Only C(STANDARD) entries take groups, a username or policies.
    type: str
    choices: [STANDARD, EC2_LINUX, EC2_WINDOWS, FARGATE_LINUX, EC2, HYBRID_LINUX, HYPERPOD_LINUX]
    default: STANDARD
  kubernetes_groups:
    description: Kubernetes groups the principal is in (for RBAC bindings); not C(system:*). Omitted, left as they are.
    type: list
    elements: str
  username:
    description: Kubernetes username of the principal. Omitted, EKS's default at creation and left as it is afterwards.
    type: str
  policies:
    description:
      - Access policies to associate. Omitted, left as they are.
    type: list
    elements: dict
    suboptions:
      policy_arn:
        description: ARN of the access policy, or its name (C(AmazonEKSClusterAdminPolicy)).
        type: str
        required: true
      access_scope:
        description: Where the policy applies.
        type: dict
        suboptions:
          type:
            description: C(cluster), or C(namespace) with O(policies[].access_scope.namespaces).
            type: str
            choices: [cluster, namespace]
            default: cluster
          namespaces:
            description: Namespaces, only with C(type=namespace).
            type: list
            elements: str
  purge_policies:
    description: Disassociate the entry's policies that O(policies) does not list.
    type: bool
    default: true
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
    description: C(before) and C(after) hold type, groups, username, policies and tags.
notes:
  - Every call is retried on throttling and transient errors (AWSRetry jittered backoff).
"""

EXAMPLES = r"""
- name: Platform admins get cluster-admin
  msa.platform.eks_access_entry:
    cluster_name: courm
    principal_arn: arn:aws:iam::123456789012:role/platform-admin
    policies:
      - policy_arn: AmazonEKSClusterAdminPolicy
        access_scope: {type: cluster}

- name: A team may edit its namespaces
  msa.platform.eks_access_entry:
    cluster_name: courm
    principal_arn: arn:aws:iam::123456789012:role/team-orders
    kubernetes_groups: [orders-devs]
    policies:
      - policy_arn: arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy
        access_scope: {type: namespace, namespaces: [orders, orders-staging]}
"""

RETURN = r"""
access_entry:
  description: The entry as DescribeAccessEntry returns it, keys in snake_case (tags as they are); empty when absent.
  returned: always
  type: dict
  contains:
    access_entry_arn:
      description: ARN of the access entry.
      type: str
      returned: when present
      sample: arn:aws:eks:ap-northeast-2:123456789012:access-entry/courm/role/123456789012/platform-admin/0a1b2c3d
    username:
      description: Kubernetes username.
      type: str
      returned: when present
      sample: arn:aws:sts::123456789012:assumed-role/platform-admin/{{SessionName}}
    kubernetes_groups:
      description: Kubernetes groups.
      type: list
      returned: when present
      sample: [orders-devs]
policies:
  description: The associated access policies after the run, each with C(policy_arn) and C(access_scope).
  returned: always
  type: list
  elements: dict
  sample: [{"policy_arn": "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy", "access_scope": {"type": "cluster", "namespaces": []}}]
calls:
  description: The mutating EKS API calls made (or, in check mode, that would be made), in order.
  returned: always
  type: list
  elements: str
  sample: [create_access_entry, associate_access_policy]
"""

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.msa.platform.plugins.module_utils.aws.eks import (
    Eks,
    access_policies,
    policy_changes,
    tag_changes,
)

try:
    from botocore.exceptions import BotoCoreError, ClientError
except ImportError:
    pass  # handled by AnsibleAWSModule


def policy_list(policies):
    return [{"policy_arn": arn, "access_scope": scope} for arn, scope in sorted(policies.items())]


def current_policies(eks, where):
    policies = []
    for page in eks.client.get_paginator("list_associated_access_policies").paginate(**where):
        policies += page.get("associatedAccessPolicies") or []
    return {p["policyArn"]: {"type": p["accessScope"]["type"], "namespaces": sorted(p["accessScope"].get("namespaces") or [])}
            for p in policies}


def view(entry, policies):
    if not entry:
        return {}
    return {"principal_arn": entry["principalArn"], "type": entry.get("type"), "kubernetes_groups": sorted(entry.get("kubernetesGroups") or []),
            "username": entry.get("username"), "policies": policy_list(policies), "tags": dict(entry.get("tags") or {})}


def main():
    module = AnsibleAWSModule(
        argument_spec=dict(
            cluster_name=dict(type="str", required=True),
            principal_arn=dict(type="str", required=True),
            state=dict(type="str", default="present", choices=["present", "absent"]),
            type=dict(type="str", default="STANDARD",
                      choices=["STANDARD", "EC2_LINUX", "EC2_WINDOWS", "FARGATE_LINUX", "EC2", "HYBRID_LINUX", "HYPERPOD_LINUX"]),
            kubernetes_groups=dict(type="list", elements="str"),
            username=dict(type="str"),
            policies=dict(type="list", elements="dict", options=dict(
                policy_arn=dict(type="str", required=True),
                access_scope=dict(type="dict", options=dict(
                    type=dict(type="str", default="cluster", choices=["cluster", "namespace"]),
                    namespaces=dict(type="list", elements="str"))))),
            purge_policies=dict(type="bool", default=True),
            tags=dict(type="dict", aliases=["resource_tags"]),
            purge_tags=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )
    params = module.params
    cluster_name, principal = params["cluster_name"], params["principal_arn"]
    partition = principal.split(":")[1] if principal.count(":") >= 5 else "aws"
    if not principal.startswith("arn:") or ":iam::" not in principal:
        module.fail_json(msg=f"principal_arn: {principal!r} is not the ARN of an IAM role or user")
    desired, problems = access_policies(params["policies"], partition)
    if params["type"] != "STANDARD":
        for option in ("kubernetes_groups", "username", "policies"):
            if params[option]:
                problems.append(f"{option}: only STANDARD access entries take it, not type {params['type']}")
    bad = [g for g in params["kubernetes_groups"] or [] if g.startswith("system:")]
    if bad:
        problems.append(f"kubernetes_groups: EKS refuses groups starting with 'system:' ({', '.join(bad)})")
    if problems:
        module.fail_json(msg="; ".join(problems))
    eks = Eks(module, AWSRetry)
    where = dict(clusterName=cluster_name, principalArn=principal)
    try:
        entry = eks.describe("describe_access_entry", "accessEntry", **where)
        have = current_policies(eks, where) if entry else {}
        before = view(entry, have)
        if params["state"] == "absent":
            if entry and not module.check_mode:
                eks.change("delete_access_entry", **where)
            module.exit_json(changed=bool(entry), diff={"before": before, "after": {}}, access_entry={}, policies=[],
                             calls=(["delete_access_entry"] if entry else []))
        planned = []
        if entry is None:
            request = dict(where, type=params["type"])
            if params["kubernetes_groups"]:
                request["kubernetesGroups"] = params["kubernetes_groups"]
            if params["username"]:
                request["username"] = params["username"]
            if params["tags"]:
                request["tags"] = {k: str(v) for k, v in params["tags"].items()}
            planned.append(("create_access_entry", request))
            add, remove = {}, []
        else:
            if entry.get("type") != params["type"]:
                module.fail_json(msg=f"type: the access entry of {principal} is {entry.get('type')}, wanted {params['type']}; EKS cannot "
                                     "change the type in place. Delete the entry (state=absent) and create it again")
            update = {}
            if params["kubernetes_groups"] is not None and sorted(params["kubernetes_groups"]) != sorted(entry.get("kubernetesGroups") or []):
                update["kubernetesGroups"] = params["kubernetes_groups"]
            if params["username"] and params["username"] != entry.get("username"):
                update["username"] = params["username"]
            if update:
                planned.append(("update_access_entry", dict(where, **update)))
            add, remove = tag_changes(entry.get("tags"), params["tags"], params["purge_tags"])
        associate, disassociate = ({}, []) if params["policies"] is None else policy_changes(
            [{"policyArn": arn, "accessScope": scope} for arn, scope in have.items()], desired, params["purge_policies"])
        planned += [("associate_access_policy", dict(where, policyArn=arn, accessScope=scope)) for arn, scope in sorted(associate.items())]
        planned += [("disassociate_access_policy", dict(where, policyArn=arn)) for arn in disassociate]
        names = [op for op, _r in planned] + (["untag_resource"] if remove else []) + (["tag_resource"] if add else [])
        after_policies = {**{k: v for k, v in have.items() if k not in disassociate}, **associate}
        if module.check_mode:
            after = dict(before) if entry else {"principal_arn": principal, "type": params["type"], "username": params["username"],
                                                "tags": dict(params["tags"] or {})}
            after.update({"kubernetes_groups": sorted(params["kubernetes_groups"] if params["kubernetes_groups"] is not None
                                                      else after.get("kubernetes_groups") or []),
                          "policies": policy_list(after_policies)})
            if params["username"]:
                after["username"] = params["username"]
            if entry and params["tags"] is not None:
                after["tags"] = {**{k: v for k, v in before["tags"].items() if k not in remove}, **add}
            module.exit_json(changed=bool(names), diff={"before": before, "after": after},
                             access_entry=camel_dict_to_snake_dict(entry or {}, ignore_list=["tags"]),
                             policies=policy_list(after_policies), calls=names)
        for operation, request in planned:
            answer = eks.change(operation, **request)
            if operation == "create_access_entry":
                entry = answer["accessEntry"]
        if entry:
            eks.sync_tags(entry["accessEntryArn"], entry.get("tags"), params["tags"], params["purge_tags"] if before else False)
        if eks.calls:
            entry = eks.describe("describe_access_entry", "accessEntry", **where)
            after_policies = current_policies(eks, where)
        module.exit_json(changed=bool(eks.calls), diff={"before": before, "after": view(entry, after_policies)},
                         access_entry=camel_dict_to_snake_dict(entry, ignore_list=["tags"]), policies=policy_list(after_policies), calls=eks.calls)
    except (BotoCoreError, ClientError) as err:
        module.fail_json_aws(err, msg=f"EKS access entry {cluster_name}/{principal}: {', '.join(eks.calls) or 'describe'} failed", calls=eks.calls)


if __name__ == "__main__":
    main()
