#!/usr/bin/python

# Copyright: msa.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: iam_oidc_provider
short_description: Create, converge or delete an IAM OpenID Connect identity provider (for EKS IRSA)
version_added: "0.2.0"
description:
  - Makes an IAM OIDC identity provider for an issuer URL - typically an EKS cluster's OIDC issuer, so pods can
    assume IAM roles through their service accounts (IRSA) - or converges its client IDs (audiences), thumbprints
    and tags; deletes it with O(state=absent).
  - amazon.aws 10 and community.aws 10 have no module for it.
author:
  - msa.platform maintainers (@msa-platform)
options:
  url:
    description: Issuer URL, C(https://...), such as the RV(msa.platform.eks_cluster#module:oidc_issuer) of a cluster.
    type: str
    required: true
  state:
    description: Whether the provider should exist.
    type: str
    choices: [present, absent]
    default: present
  client_ids:
    description: Audiences allowed to use the provider; C(sts.amazonaws.com) for IRSA.
    type: list
    elements: str
    default: [sts.amazonaws.com]
  thumbprints:
    description:
      - SHA-1 thumbprints (40 hex digits) of the issuer's certificate chain. Omitted, IAM's own at creation (IAM
        validates well-known issuers such as EKS's itself) and left as they are afterwards.
    type: list
    elements: str
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
    description: C(before) and C(after) hold client IDs, thumbprints and tags.
notes:
  - Every call is retried on throttling and transient errors (AWSRetry jittered backoff).
"""

EXAMPLES = r"""
- name: OIDC provider of the EKS cluster, for IRSA
  msa.platform.iam_oidc_provider:
    url: "{{ eks.oidc_issuer }}"
    tags:
      msa:platform: courm
  register: oidc
"""

RETURN = r"""
provider:
  description: The provider after the run; empty when absent.
  returned: always
  type: dict
  contains:
    arn:
      description: ARN of the provider, for role trust policies.
      type: str
      returned: when present
      sample: arn:aws:iam::123456789012:oidc-provider/oidc.eks.ap-northeast-2.amazonaws.com/id/0123456789ABCDEF
    url:
      description: Issuer without the scheme, as IAM stores it (the C(Federated) principal's suffix and the condition key prefix).
      type: str
      returned: when present
      sample: oidc.eks.ap-northeast-2.amazonaws.com/id/0123456789ABCDEF
    client_ids:
      description: Audiences.
      type: list
      returned: when present
      sample: [sts.amazonaws.com]
    thumbprints:
      description: Thumbprints.
      type: list
      returned: when present
      sample: [9e99a48a9960b14926bb7f3b02e22da2b0ab7280]
    tags:
      description: Tags.
      type: dict
      returned: when present
      sample: {"msa:platform": "courm"}
calls:
  description: The mutating IAM API calls made (or, in check mode, that would be made), in order.
  returned: always
  type: list
  elements: str
  sample: [create_open_id_connect_provider]
"""

import re

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.msa.platform.plugins.module_utils.aws.client import error_code
from ansible_collections.msa.platform.plugins.module_utils.aws.eks import tag_changes

try:
    from botocore.exceptions import BotoCoreError, ClientError
except ImportError:
    pass  # handled by AnsibleAWSModule

THUMBPRINT = re.compile(r"[0-9a-fA-F]{40}")


def find(iam, url):
    for item in iam.list_open_id_connect_providers(aws_retry=True).get("OpenIDConnectProviderList", []):
        if item["Arn"].split(":oidc-provider/", 1)[-1] == url:
            try:
                provider = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=item["Arn"], aws_retry=True)
            except ClientError as err:
                if error_code(err) == "NoSuchEntity":
                    return None
                raise
            return {"arn": item["Arn"], "url": url, "client_ids": sorted(provider.get("ClientIDList") or []),
                    "thumbprints": sorted(t.lower() for t in provider.get("ThumbprintList") or []),
                    "tags": {t["Key"]: t["Value"] for t in provider.get("Tags") or []}}
    return None


def main():
    module = AnsibleAWSModule(
        argument_spec=dict(
            url=dict(type="str", required=True),
            state=dict(type="str", default="present", choices=["present", "absent"]),
            client_ids=dict(type="list", elements="str", default=["sts.amazonaws.com"]),
            thumbprints=dict(type="list", elements="str"),
            tags=dict(type="dict", aliases=["resource_tags"]),
            purge_tags=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )
    params = module.params
    if not params["url"].startswith("https://") or len(params["url"]) <= len("https://"):
        module.fail_json(msg=f"url: {params['url']!r} must be an https:// issuer URL")
    bad = [t for t in params["thumbprints"] or [] if not THUMBPRINT.fullmatch(t)]
    if bad:
        module.fail_json(msg=f"thumbprints: not 40 hex digits: {', '.join(bad)}")
    url = params["url"][len("https://"):].rstrip("/")
    iam = module.client("iam", retry_decorator=AWSRetry.jittered_backoff(retries=8))
    calls = []
    try:
        provider = find(iam, url)
        before = {k: v for k, v in (provider or {}).items() if k != "arn"}
        if params["state"] == "absent":
            if provider and not module.check_mode:
                iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=provider["arn"], aws_retry=True)
            module.exit_json(changed=bool(provider), provider={}, calls=["delete_open_id_connect_provider"] if provider else [],
                             diff={"before": before, "after": {}})
        client_ids = sorted(set(params["client_ids"]))
        thumbprints = sorted({t.lower() for t in params["thumbprints"]}) if params["thumbprints"] is not None else None
        if provider is None:
            after = {"url": url, "client_ids": client_ids, "thumbprints": thumbprints or [], "tags": dict(params["tags"] or {})}
            if not module.check_mode:
                request = {"Url": "https://" + url, "ClientIDList": client_ids}
                if thumbprints:
                    request["ThumbprintList"] = thumbprints
                if params["tags"]:
                    request["Tags"] = [{"Key": k, "Value": str(v)} for k, v in params["tags"].items()]
                iam.create_open_id_connect_provider(aws_retry=True, **request)
                after = find(iam, url)
            module.exit_json(changed=True, provider=after or {}, calls=["create_open_id_connect_provider"],
                             diff={"before": {}, "after": {k: v for k, v in (after or {}).items() if k != "arn"}})
        arn = provider["arn"]
        planned = [("add_client_id_to_open_id_connect_provider", {"ClientID": c}) for c in client_ids if c not in provider["client_ids"]]
        planned += [("remove_client_id_from_open_id_connect_provider", {"ClientID": c}) for c in provider["client_ids"] if c not in client_ids]
        if thumbprints is not None and thumbprints != provider["thumbprints"]:
            planned.append(("update_open_id_connect_provider_thumbprint", {"ThumbprintList": thumbprints}))
        add, remove = tag_changes(provider["tags"], params["tags"], params["purge_tags"])
        if remove:
            planned.append(("untag_open_id_connect_provider", {"TagKeys": remove}))
        if add:
            planned.append(("tag_open_id_connect_provider", {"Tags": [{"Key": k, "Value": v} for k, v in add.items()]}))
        after = dict(before, client_ids=client_ids, thumbprints=thumbprints if thumbprints is not None else provider["thumbprints"],
                     tags={**{k: v for k, v in provider["tags"].items() if k not in remove}, **add})
        if not module.check_mode:
            for operation, request in planned:
                calls.append(operation)
                getattr(iam, operation)(OpenIDConnectProviderArn=arn, aws_retry=True, **request)
            if planned:
                provider = find(iam, url)
                after = {k: v for k, v in provider.items() if k != "arn"}
        module.exit_json(changed=bool(planned), provider=provider if not module.check_mode else dict(after, arn=arn),
                         calls=[op for op, _r in planned], diff={"before": before, "after": after})
    except (BotoCoreError, ClientError) as err:
        module.fail_json_aws(err, msg=f"IAM OIDC provider {url}: {', '.join(calls) or 'lookup'} failed", calls=calls)


if __name__ == "__main__":
    main()
