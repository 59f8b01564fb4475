#!/usr/bin/python

# Copyright: msa.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: eks_addon
short_description: Install, converge or remove an Amazon EKS add-on
version_added: "0.2.0"
description:
  - Installs an EKS add-on (C(vpc-cni), C(coredns), C(kube-proxy), C(aws-ebs-csi-driver), C(eks-pod-identity-agent), ...)
    or converges it in place - version, IRSA role and configuration values in one C(UpdateAddon) call, waited
    for - and its tags; removes it with O(state=absent).
  - O(version) C(latest) or C(default) is resolved with C(DescribeAddonVersions) for the cluster's Kubernetes
    version, so an add-on follows the control plane after an upgrade.
author:
  - msa.platform maintainers (@msa-platform)
options:
  cluster_name:
    description: Name of the EKS cluster.
    type: str
    required: true
  name:
    description: Name of the add-on, as DescribeAddonVersions lists it.
    type: str
    required: true
  state:
    description: Whether the add-on should be installed.
    type: str
    choices: [present, absent]
    default: present
  version:
    description:
      - Add-on version, such as C(v1.19.6-eksbuild.1); C(latest) (the newest for the cluster's Kubernetes version) or
        C(default) (the one EKS marks default for it).
      - Omitted, EKS's default at creation and the installed version afterwards.
    type: str
  service_account_role_arn:
    description:
      - IAM role for the add-on's service account (IRSA). Omitted (or C("") while none is set), left as it is.
      - EKS cannot remove the role of an installed add-on, so C("") on an add-on that has one is refused.
    type: str
  configuration_values:
    description:
      - Add-on configuration, as a dict or a JSON / YAML string of an object; compared as data, sent as JSON.
        C({}) removes it. Omitted, left as it is.
    type: raw
  resolve_conflicts:
    description: How EKS treats fields a user changed on the add-on's Kubernetes objects when it creates or updates them.
    type: str
    choices: [OVERWRITE, PRESERVE, NONE]
    default: OVERWRITE
  preserve:
    description: With O(state=absent), leave the add-on's Kubernetes objects running on the cluster.
    type: bool
    default: false
  wait:
    description: Wait until the add-on is C(ACTIVE) after creating it (or gone after removing it). Updates are always waited for.
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait for a creation, removal or update.
    type: int
    default: 900
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
attributes:
  check_mode:
    support: full
    description: Reports what would change without calling any mutating API (versions are still resolved).
  diff_mode:
    support: full
    description: C(before) and C(after) hold version, role, configuration values and tags.
notes:
  - Every call is retried on throttling and transient errors (AWSRetry jittered backoff).
"""

EXAMPLES = r"""
- name: EBS CSI driver with its IRSA role, at EKS's default version for the cluster
  msa.platform.eks_addon:
    cluster_name: courm
    name: aws-ebs-csi-driver
    version: default
    service_account_role_arn: arn:aws:iam::123456789012:role/courm-ebs-csi
    tags:
      msa:platform: courm

- name: CoreDNS with two replicas, newest version
  msa.platform.eks_addon:
    cluster_name: courm
    name: coredns
    version: latest
    configuration_values:
      replicaCount: 2
"""

RETURN = r"""
addon:
  description: The add-on as DescribeAddon returns it, keys in snake_case (tags as they are); empty when absent.
  returned: always
  type: dict
  contains:
    addon_version:
      description: Installed version.
      type: str
      returned: when present
      sample: v1.19.6-eksbuild.1
    status:
      description: Add-on status.
      type: str
      returned: when present
      sample: ACTIVE
    addon_arn:
      description: ARN of the add-on.
      type: str
      returned: when present
      sample: arn:aws:eks:ap-northeast-2:123456789012:addon/courm/vpc-cni/0a1b2c3d
    configuration_values:
      description: Configuration values as EKS stores them (a JSON string).
      type: str
      returned: when set
      sample: '{"replicaCount": 2}'
version:
  description: The version resolved from O(version) (C(latest) / C(default) turned into a version), if any.
  returned: always
  type: str
  sample: v1.20.4-eksbuild.2
calls:
  description: The mutating EKS API calls made (or, in check mode, that would be made), in order.
  returned: always
  type: list
  elements: str
  sample: [update_addon]
"""

import functools
import json

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.msa.platform.plugins.module_utils.aws.eks import (
    Eks,
    addon_update_request,
    addon_version_choice,
    configuration_values,
    tag_changes,
    wait_for_status,
)

try:
    from botocore.exceptions import BotoCoreError, ClientError
except ImportError:
    pass  # handled by AnsibleAWSModule


def view(addon):
    if not addon:
        return {}
    config, _problems = configuration_values(addon.get("configurationValues") or "")
    return {"name": addon.get("addonName"), "version": addon.get("addonVersion"),
            "service_account_role_arn": addon.get("serviceAccountRoleArn") or "", "configuration_values": config or {},
            "tags": dict(addon.get("tags") or {})}


def result_of(addon, calls, version):
    addon = camel_dict_to_snake_dict(addon, ignore_list=["tags"]) if addon else {}
    return dict(addon=addon, calls=calls, version=version)


def resolve_version(module, eks, cluster_version):
    """The version to install: explicit ones are checked, latest / default looked up, for the cluster's Kubernetes."""
    wanted = module.params["version"]
    if wanted is None:
        return None
    catalogue = []
    request = {"addonName": module.params["name"], "kubernetesVersion": cluster_version}
    paginator = eks.client.get_paginator("describe_addon_versions")
    for page in paginator.paginate(**request):
        catalogue += page.get("addons") or []
    version, problems = addon_version_choice(catalogue, module.params["name"], cluster_version, wanted)
    if problems:
        module.fail_json(msg="; ".join(problems))
    return version


def main():
    module = AnsibleAWSModule(
        argument_spec=dict(
            cluster_name=dict(type="str", required=True),
            name=dict(type="str", required=True),
            state=dict(type="str", default="present", choices=["present", "absent"]),
            version=dict(type="str"),
            service_account_role_arn=dict(type="str"),
            configuration_values=dict(type="raw"),
            resolve_conflicts=dict(type="str", default="OVERWRITE", choices=["OVERWRITE", "PRESERVE", "NONE"]),
            preserve=dict(type="bool", default=False),
            tags=dict(type="dict", aliases=["resource_tags"]),
            purge_tags=dict(type="bool", default=True),
            wait=dict(type="bool", default=True),
            wait_timeout=dict(type="int", default=900),
        ),
        supports_check_mode=True,
    )
    params = module.params
    config, problems = configuration_values(params["configuration_values"])
    if problems:
        module.fail_json(msg="; ".join(problems))
    eks = Eks(module, AWSRetry)
    cluster_name, name = params["cluster_name"], params["name"]
    where = dict(clusterName=cluster_name, addonName=name)
    describe = functools.partial(eks.describe, "describe_addon", "addon", **where)
    try:
        addon = describe()
        before = view(addon)
        if params["state"] == "absent":
            if not addon:
                module.exit_json(changed=False, diff={"before": {}, "after": {}}, **result_of(None, [], None))
            if not module.check_mode:
                if addon["status"] != "DELETING":
                    eks.change("delete_addon", preserve=params["preserve"], **where)
                if params["wait"]:
                    wait_for_status(describe, (), params["wait_timeout"])
            module.exit_json(changed=True, diff={"before": before, "after": {}}, **result_of(None, eks.calls or ["delete_addon"], None))

        cluster = eks.describe("describe_cluster", "cluster", name=cluster_name)
        if cluster is None:
            module.fail_json(msg=f"cluster_name: no EKS cluster {cluster_name}")
        version = resolve_version(module, eks, cluster["version"])
        if addon is None:
            request = dict(where, resolveConflicts=params["resolve_conflicts"])
            if version:
                request["addonVersion"] = version
            if params["service_account_role_arn"]:
                request["serviceAccountRoleArn"] = params["service_account_role_arn"]
            if config:
                request["configurationValues"] = json.dumps(config, sort_keys=True)
            if params["tags"]:
                request["tags"] = {k: str(v) for k, v in params["tags"].items()}
            after = {"name": name, "version": version, "service_account_role_arn": params["service_account_role_arn"] or "",
                     "configuration_values": config or {}, "tags": request.get("tags", {})}
            if module.check_mode:
                module.exit_json(changed=True, diff={"before": {}, "after": after}, **result_of(None, ["create_addon"], version))
            addon = eks.change("create_addon", **request)["addon"]
            if params["wait"]:
                addon = wait_for_status(describe, ("ACTIVE", "DEGRADED"), params["wait_timeout"])
            module.exit_json(changed=True, diff={"before": {}, "after": view(addon)}, **result_of(addon, eks.calls, version))

        if addon["status"] in ("CREATING", "UPDATING"):
            addon = wait_for_status(describe, ("ACTIVE", "DEGRADED"), params["wait_timeout"])
        if params["service_account_role_arn"] == "" and addon.get("serviceAccountRoleArn"):
            module.fail_json(msg=f"service_account_role_arn: add-on {name} uses {addon['serviceAccountRoleArn']}; EKS cannot remove the role "
                                 "of an installed add-on (UpdateAddon takes only a role ARN). Remove the add-on (state=absent) and install "
                                 "it again without the role", **result_of(addon, [], version))
        request = addon_update_request(addon, version, params, config)
        add, remove = tag_changes(addon.get("tags"), params["tags"], params["purge_tags"])
        if module.check_mode:
            after = dict(before)
            if request:
                after.update({k: v for k, v in (("version", request.get("addonVersion")),
                                                ("service_account_role_arn", request.get("serviceAccountRoleArn"))) if v is not None})
                if "configurationValues" in request:
                    after["configuration_values"] = config or {}
            if params["tags"] is not None:
                after["tags"] = {**{k: v for k, v in before["tags"].items() if k not in remove}, **add}
            planned = (["update_addon"] if request else []) + (["untag_resource"] if remove else []) + (["tag_resource"] if add else [])
            module.exit_json(changed=bool(planned), diff={"before": before, "after": after}, **result_of(addon, planned, version))
        if request:
            eks.run_update("update_addon", request, params["wait_timeout"])
        eks.sync_tags(addon["addonArn"], addon.get("tags"), params["tags"], params["purge_tags"])
        if eks.calls:
            addon = describe()
        module.exit_json(changed=bool(eks.calls), diff={"before": before, "after": view(addon)}, **result_of(addon, eks.calls, version))
    except (BotoCoreError, ClientError) as err:
        module.fail_json_aws(err, msg=f"EKS add-on {cluster_name}/{name}: {', '.join(eks.calls) or 'describe'} failed", calls=eks.calls)
    except (RuntimeError, TimeoutError) as err:
        module.fail_json(msg=f"EKS add-on {cluster_name}/{name}: {err}", calls=eks.calls)


if __name__ == "__main__":
    main()
