#!/usr/bin/python

# Copyright: msa.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: eks_cluster
short_description: Create, converge in place or delete an Amazon EKS cluster
version_added: "0.2.0"
description:
  - Creates an EKS control plane, or converges an existing one in place - endpoint access and public CIDRs,
    subnets and security groups, control-plane logging and the authentication mode through
    C(UpdateClusterConfig) (one call per kind of change, as EKS requires, each waited for); the Kubernetes
    version one minor at a time through C(UpdateClusterVersion); tags through C(TagResource) / C(UntagResource).
  - Refuses, before any change, what EKS cannot do in place - a different O(role_arn) or O(service_ipv4_cidr),
    a version skip or downgrade, an authentication mode step backwards - with a message naming the option and
    what to do.
  - Deletes the cluster with O(state=absent) (its node groups must be gone first, see M(msa.platform.eks_nodegroup)).
author:
  - msa.platform maintainers (@msa-platform)
options:
  name:
    description: Name of the cluster.
    type: str
    required: true
  state:
    description: Whether the cluster should exist.
    type: str
    choices: [present, absent]
    default: present
  version:
    description:
      - Kubernetes minor version, such as C("1.34"). Omitted, EKS picks its default at creation and an existing
        cluster keeps its version.
      - On an existing cluster only the next minor is accepted (C(1.33) to C(1.34)); node groups must run the
        cluster's version before the control plane moves on (EKS refuses otherwise).
    type: str
  role_arn:
    description: ARN of the IAM role the control plane uses (AmazonEKSClusterPolicy). Required to create; immutable.
    type: str
  subnets:
    description: Subnet IDs for the control plane's network interfaces (two AZs at least). Required to create.
    type: list
    elements: str
  security_groups:
    description: Extra security group IDs for the control plane's network interfaces. Omitted, left as they are.
    type: list
    elements: str
  endpoint_private_access:
    description: Whether the API endpoint is reachable from inside the VPC. Omitted, left as it is (EKS default false).
    type: bool
  endpoint_public_access:
    description: Whether the API endpoint is reachable from the internet. Omitted, left as it is (EKS default true).
    type: bool
  public_access_cidrs:
    description:
      - CIDR blocks allowed to reach the public endpoint. An empty list means C(0.0.0.0/0), as in EKS.
      - Only with O(endpoint_public_access) true (or left as true).
    type: list
    elements: str
  service_ipv4_cidr:
    description: CIDR block Kubernetes Services get addresses from. Set at creation only; immutable.
    type: str
  authentication_mode:
    description:
      - How the cluster authenticates IAM principals - C(API) (access entries only), C(API_AND_CONFIG_MAP), or
        C(CONFIG_MAP) (the aws-auth ConfigMap only).
      - EKS moves only from C(CONFIG_MAP) to C(API_AND_CONFIG_MAP) to C(API); the module takes the steps in order.
    type: str
    choices: [API, API_AND_CONFIG_MAP, CONFIG_MAP]
  bootstrap_cluster_creator_admin_permissions:
    description:
      - Whether the IAM principal creating the cluster gets a cluster-admin access entry. Applies at creation only.
    type: bool
  logging:
    description: Control-plane log types sent to CloudWatch Logs; the others are disabled. Omitted, left as they are.
    type: list
    elements: str
    choices: [api, audit, authenticator, controllerManager, scheduler]
  wait:
    description:
      - Wait until the cluster is C(ACTIVE) after creating it (or gone after deleting it).
      - Updates are always waited for, since EKS refuses a second update while one runs.
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait for a creation, deletion or each update.
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
    description: Reports what would change (and the update calls in RV(calls)) without calling any mutating API.
  diff_mode:
    support: full
    description: C(before) and C(after) hold the managed fields of the cluster.
notes:
  - Every call is retried on throttling and transient errors (AWSRetry jittered backoff).
  - An update waits with a poll of C(DescribeUpdate) every 1 s, doubling up to 15 s.
"""

EXAMPLES = r"""
- name: EKS control plane in the app subnets, access entries only, audit logging
  msa.platform.eks_cluster:
    name: courm
    version: "1.34"
    role_arn: arn:aws:iam::123456789012:role/courm-eks-cluster
    subnets: [subnet-0a1, subnet-0b2, subnet-0c3]
    endpoint_private_access: true
    endpoint_public_access: true
    public_access_cidrs: [203.0.113.0/24]
    service_ipv4_cidr: 172.20.0.0/16
    authentication_mode: API
    logging: [api, audit, authenticator]
    tags:
      msa:platform: courm
  register: eks

- name: Upgrade the control plane one minor version
  msa.platform.eks_cluster:
    name: courm
    version: "1.35"

- name: Delete the cluster (node groups first)
  msa.platform.eks_cluster:
    name: courm
    state: absent
"""

RETURN = r"""
cluster:
  description: The cluster as DescribeCluster returns it, keys in snake_case (tags as they are); empty when absent.
  returned: always
  type: dict
  contains:
    arn:
      description: ARN of the cluster.
      type: str
      returned: when present
      sample: arn:aws:eks:ap-northeast-2:123456789012:cluster/courm
    endpoint:
      description: URL of the Kubernetes API server.
      type: str
      returned: when present
      sample: https://0123456789ABCDEF.gr7.ap-northeast-2.eks.amazonaws.com
    certificate_authority:
      description: The cluster CA, C(data) base64-encoded.
      type: dict
      returned: when present
      sample: {"data": "LS0tLS1CRUdJTi..."}
    identity:
      description: The OIDC issuer of the cluster, for IRSA, under C(oidc.issuer).
      type: dict
      returned: when present
      sample: {"oidc": {"issuer": "https://oidc.eks.ap-northeast-2.amazonaws.com/id/0123456789ABCDEF0123456789ABCDEF"}}
    version:
      description: Kubernetes version.
      type: str
      returned: when present
      sample: "1.34"
    status:
      description: Cluster status.
      type: str
      returned: when present
      sample: ACTIVE
    access_config:
      description: Authentication mode and bootstrap setting.
      type: dict
      returned: when present
      sample: {"authentication_mode": "API", "bootstrap_cluster_creator_admin_permissions": true}
    resources_vpc_config:
      description: Subnets, security groups, VPC and endpoint access.
      type: dict
      returned: when present
      sample: {"endpoint_private_access": true, "endpoint_public_access": false, "subnet_ids": ["subnet-0a1"]}
oidc_issuer:
  description: The OIDC issuer URL (C(cluster.identity.oidc.issuer)), for the IAM OIDC provider.
  returned: when present
  type: str
  sample: https://oidc.eks.ap-northeast-2.amazonaws.com/id/0123456789ABCDEF0123456789ABCDEF
calls:
  description: The mutating EKS API calls made (or, in check mode, that would be made), in order.
  returned: always
  type: list
  elements: str
  sample: [update_cluster_version, update_cluster_config, tag_resource]
"""

import functools

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.msa.platform.plugins.module_utils.aws.eks import (
    LOG_TYPES,
    Eks,
    apply_cluster_calls,
    cluster_create_request,
    cluster_problems,
    cluster_updates,
    cluster_view,
    tag_changes,
    wait_for_status,
)

try:
    from botocore.exceptions import BotoCoreError, ClientError
except ImportError:
    pass  # handled by AnsibleAWSModule


def result_of(cluster, calls):
    if not cluster:
        return dict(cluster={}, calls=calls)
    return dict(cluster=camel_dict_to_snake_dict(cluster, ignore_list=["tags"]), calls=calls,
                oidc_issuer=((cluster.get("identity") or {}).get("oidc") or {}).get("issuer"))


def absent(module, eks, cluster):
    if not cluster:
        module.exit_json(changed=False, diff={"before": {}, "after": {}}, **result_of(None, []))
    before = cluster_view(cluster)
    if module.check_mode:
        module.exit_json(changed=True, diff={"before": before, "after": {}}, **result_of(None, ["delete_cluster"]))
    if cluster["status"] != "DELETING":
        eks.change("delete_cluster", name=cluster["name"])
    if module.params["wait"]:
        wait_for_status(functools.partial(eks.describe, "describe_cluster", "cluster", name=cluster["name"]), (), module.params["wait_timeout"])
    module.exit_json(changed=True, diff={"before": before, "after": {}}, **result_of(None, eks.calls))


def create(module, eks):
    request, problems = cluster_create_request(module.params)
    if problems:
        module.fail_json(msg="; ".join(problems))
    after = cluster_view(request)
    if module.check_mode:
        module.exit_json(changed=True, diff={"before": {}, "after": after}, **result_of(None, ["create_cluster"]))
    cluster = eks.change("create_cluster", **request)["cluster"]
    if module.params["wait"]:
        cluster = wait_for_status(describer(eks, request["name"]), ("ACTIVE",), module.params["wait_timeout"])
    module.exit_json(changed=True, diff={"before": {}, "after": cluster_view(cluster)}, **result_of(cluster, eks.calls))


def describer(eks, name):
    return functools.partial(eks.describe, "describe_cluster", "cluster", name=name)


def converge(module, eks, cluster):
    params = module.params
    if cluster["status"] in ("CREATING", "UPDATING"):
        cluster = wait_for_status(describer(eks, cluster["name"]), ("ACTIVE",), params["wait_timeout"])
    if cluster["status"] != "ACTIVE":
        module.fail_json(msg=f"cluster {cluster['name']} is {cluster['status']}; it must be ACTIVE to be converged", **result_of(cluster, []))
    calls, problems = cluster_updates(cluster, params)
    if problems:
        module.fail_json(msg="; ".join(problems), **result_of(cluster, []))
    add, remove = tag_changes(cluster.get("tags"), params["tags"], params["purge_tags"])
    before = cluster_view(cluster)
    if module.check_mode:
        after = apply_cluster_calls(before, calls)
        if params["tags"] is not None:
            after["tags"] = {**{k: v for k, v in before["tags"].items() if k not in remove}, **add}
        planned = [op for op, _r in calls] + (["untag_resource"] if remove else []) + (["tag_resource"] if add else [])
        module.exit_json(changed=bool(planned), diff={"before": before, "after": after}, **result_of(cluster, planned))
    for operation, request in calls:
        eks.run_update(operation, request, params["wait_timeout"])
    eks.sync_tags(cluster["arn"], cluster.get("tags"), params["tags"], params["purge_tags"])
    if eks.calls:
        cluster = eks.describe("describe_cluster", "cluster", name=cluster["name"])
    module.exit_json(changed=bool(eks.calls), diff={"before": before, "after": cluster_view(cluster)}, **result_of(cluster, eks.calls))


def main():
    module = AnsibleAWSModule(
        argument_spec=dict(
            name=dict(type="str", required=True),
            state=dict(type="str", default="present", choices=["present", "absent"]),
            version=dict(type="str"),
            role_arn=dict(type="str"),
            subnets=dict(type="list", elements="str"),
            security_groups=dict(type="list", elements="str"),
            endpoint_private_access=dict(type="bool"),
            endpoint_public_access=dict(type="bool"),
            public_access_cidrs=dict(type="list", elements="str"),
            service_ipv4_cidr=dict(type="str"),
            authentication_mode=dict(type="str", choices=["API", "API_AND_CONFIG_MAP", "CONFIG_MAP"]),
            bootstrap_cluster_creator_admin_permissions=dict(type="bool"),
            logging=dict(type="list", elements="str", choices=list(LOG_TYPES)),
            tags=dict(type="dict", aliases=["resource_tags"]),
            purge_tags=dict(type="bool", default=True),
            wait=dict(type="bool", default=True),
            wait_timeout=dict(type="int", default=1800),
        ),
        supports_check_mode=True,
    )
    problems = cluster_problems(module.params)
    if problems:
        module.fail_json(msg="; ".join(problems))
    eks = Eks(module, AWSRetry)
    name = module.params["name"]
    try:
        cluster = eks.describe("describe_cluster", "cluster", name=name)
        if module.params["state"] == "absent":
            absent(module, eks, cluster)
        elif cluster is None:
            create(module, eks)
        else:
            converge(module, eks, cluster)
    except (BotoCoreError, ClientError) as err:
        module.fail_json_aws(err, msg=f"EKS cluster {name}: {', '.join(eks.calls) or 'describe'} failed", calls=eks.calls)
    except (RuntimeError, TimeoutError) as err:
        module.fail_json(msg=f"EKS cluster {name}: {err}", calls=eks.calls)


if __name__ == "__main__":
    main()
