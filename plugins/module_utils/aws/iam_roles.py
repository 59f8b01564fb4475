# Copyright: msa.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reconcile IAM roles and their same-named instance profiles from one read of the account's roles.

IAM's GetAccountAuthorizationDetails (Filter=Role) returns every role with its trust policy, description, tags,
attached managed policies, inline policies (documents included) and the instance profiles holding it (with their
tags): one paginated read proves the state of all node roles, where the per-role reads (GetRole, ListAttachedRolePolicies,
ListRolePolicies, GetRolePolicy, GetInstanceProfile) cost five or more calls per role. ``role_changes`` returns the
writes that make one role (and its profile) exactly the desired one; ``Roles`` runs them through a client.
"""
from __future__ import annotations

import json
import urllib.parse
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Tuple

try:
    from botocore.exceptions import ClientError
except ImportError:  # the module reports a missing botocore through AnsibleAWSModule before any call
    ClientError = Exception  # type: ignore[misc,assignment]

Planned = List[Tuple[str, Dict[str, Any]]]


def document(value: Any) -> Any:
    """A policy document as data, whether given as a mapping, JSON, or the URL-encoded JSON IAM sometimes returns."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("%7B") or text.startswith("%7b"):
            text = urllib.parse.unquote(text)
        return json.loads(text)
    return value


def same_document(have: Any, want: Any) -> bool:
    return json.dumps(document(have), sort_keys=True) == json.dumps(document(want), sort_keys=True)


def tag_list(tags: Dict[str, Any]) -> List[Dict[str, str]]:
    return [{"Key": k, "Value": str(v)} for k, v in sorted(tags.items())]


def tags_of(item: Dict[str, Any]) -> Dict[str, str]:
    return {t["Key"]: t["Value"] for t in item.get("Tags") or []}


def role_changes(want: Dict[str, Any], have: Optional[Dict[str, Any]], profile: Optional[Dict[str, Any]]) -> Planned:
    """Writes that make role ``want`` (name, description, assume_role_policy, managed_policies, inline_policies, tags,
    instance_profile) exist exactly; ``have`` is its RoleDetail (None when missing), ``profile`` the same-named instance
    profile (None when missing; {"Roles": [...], "Tags": [...]} as IAM lists it)."""
    name = want["name"]
    out: Planned = []
    if have is None:
        out.append(("create_role", {"RoleName": name, "AssumeRolePolicyDocument": json.dumps(want["assume_role_policy"]),
                                    "Description": want["description"], "Tags": tag_list(want["tags"])}))
        have = {"AttachedManagedPolicies": [], "RolePolicyList": [], "Tags": tag_list(want["tags"]),
                "AssumeRolePolicyDocument": want["assume_role_policy"], "Description": want["description"]}
    else:
        if not same_document(have.get("AssumeRolePolicyDocument") or {}, want["assume_role_policy"]):
            out.append(("update_assume_role_policy", {"RoleName": name, "PolicyDocument": json.dumps(want["assume_role_policy"])}))
        # RoleDetail has no Description; the Role entries of its instance profiles do (a role in no profile: not compared)
        described = [r for p in have.get("InstanceProfileList") or [] for r in p.get("Roles") or [] if r.get("RoleName") == name]
        if described and (described[0].get("Description") or "") != want["description"]:
            out.append(("update_role", {"RoleName": name, "Description": want["description"]}))
        have_tags = tags_of(have)
        add = {k: str(v) for k, v in want["tags"].items() if have_tags.get(k) != str(v)}
        remove = sorted(k for k in have_tags if k not in want["tags"])
        if add:
            out.append(("tag_role", {"RoleName": name, "Tags": tag_list(add)}))
        if remove:
            out.append(("untag_role", {"RoleName": name, "TagKeys": remove}))
    attached = {p["PolicyArn"] for p in have.get("AttachedManagedPolicies") or []}
    out += [("attach_role_policy", {"RoleName": name, "PolicyArn": arn}) for arn in want["managed_policies"] if arn not in attached]
    out += [("detach_role_policy", {"RoleName": name, "PolicyArn": arn}) for arn in sorted(attached) if arn not in want["managed_policies"]]
    inline = {p["PolicyName"]: p.get("PolicyDocument") for p in have.get("RolePolicyList") or []}
    for policy, doc in sorted(want["inline_policies"].items()):
        if policy not in inline or not same_document(inline[policy], doc):
            out.append(("put_role_policy", {"RoleName": name, "PolicyName": policy, "PolicyDocument": json.dumps(doc)}))
    others = set(want.get("other_inline_policies") or [])
    out += [("delete_role_policy", {"RoleName": name, "PolicyName": policy}) for policy in sorted(inline)
            if policy not in want["inline_policies"] and policy not in others]
    if want.get("instance_profile", True):
        out += profile_changes(name, want["tags"], profile)
    return out


def profile_changes(name: str, tags: Dict[str, Any], profile: Optional[Dict[str, Any]]) -> Planned:
    out: Planned = []
    if profile is None:
        out.append(("create_instance_profile", {"InstanceProfileName": name, "Tags": tag_list(tags)}))
        out.append(("add_role_to_instance_profile", {"InstanceProfileName": name, "RoleName": name}))
        return out
    held = [r["RoleName"] for r in profile.get("Roles") or []]
    out += [("remove_role_from_instance_profile", {"InstanceProfileName": name, "RoleName": r}) for r in held if r != name]
    if name not in held:
        out.append(("add_role_to_instance_profile", {"InstanceProfileName": name, "RoleName": name}))
    have_tags = tags_of(profile)
    add = {k: str(v) for k, v in tags.items() if have_tags.get(k) != str(v)}
    remove = sorted(k for k in have_tags if k not in tags)
    if add:
        out.append(("tag_instance_profile", {"InstanceProfileName": name, "Tags": tag_list(add)}))
    if remove:
        out.append(("untag_instance_profile", {"InstanceProfileName": name, "TagKeys": remove}))
    return out


def summary(detail: Optional[Dict[str, Any]], profile: Optional[Dict[str, Any]]) -> Dict[str, Any]:
    """A role as the module's diff shows it."""
    if detail is None:
        return {}
    described = [r for p in detail.get("InstanceProfileList") or [] for r in p.get("Roles") or [] if r.get("RoleName") == detail["RoleName"]]
    return {"description": (described[0].get("Description") or "") if described else None, "tags": tags_of(detail),
            "managed_policies": sorted(p["PolicyArn"] for p in detail.get("AttachedManagedPolicies") or []),
            "inline_policies": sorted(p["PolicyName"] for p in detail.get("RolePolicyList") or []),
            "instance_profile": sorted(r["RoleName"] for r in (profile or {}).get("Roles") or []) if profile else None}


@dataclass
class Roles:
    """``call(operation, **request)`` runs one IAM call (with retries); in check mode only reads are made."""
    call: Callable[..., Dict[str, Any]]
    check_mode: bool = False
    actions: List[str] = field(default_factory=list)

    def read(self) -> Tuple[Dict[str, Dict[str, Any]], Dict[str, Dict[str, Any]]]:
        """({role name: RoleDetail}, {instance profile name: profile}) of the account, one paginated call."""
        roles: Dict[str, Dict[str, Any]] = {}
        profiles: Dict[str, Dict[str, Any]] = {}
        request: Dict[str, Any] = {"Filter": ["Role"]}
        while True:
            page = self.call("get_account_authorization_details", **request)
            for detail in page.get("RoleDetailList", []):
                roles[detail["RoleName"]] = detail
                for profile in detail.get("InstanceProfileList") or []:
                    profiles[profile["InstanceProfileName"]] = profile
            if not page.get("IsTruncated"):
                return roles, profiles
            request["Marker"] = page["Marker"]

    def reconcile(self, wanted: List[Dict[str, Any]]) -> Tuple[Dict[str, Any], Dict[str, Any]]:
        roles, profiles = self.read()
        before, after = {}, {}
        for want in wanted:
            have, profile = roles.get(want["name"]), profiles.get(want["name"])
            before[want["name"]] = summary(have, profile)
            known = before[want["name"]].get("description", "") is not None
            after[want["name"]] = {"description": want["description"] if known else None, "tags": {k: str(v) for k, v in want["tags"].items()},
                                   "managed_policies": sorted(want["managed_policies"]), "inline_policies": sorted(want["inline_policies"]),
                                   "instance_profile": [want["name"]] if want.get("instance_profile", True) else None}
            for operation, request in role_changes(want, have, profile):
                self.actions.append(f"{operation} {want['name']}")
                if not self.check_mode:
                    self._write(operation, request)
        return before, after

    def _write(self, operation: str, request: Dict[str, Any]) -> None:
        try:
            self.call(operation, **request)
        except ClientError as err:   # only EntityAlreadyExists of a profile that holds no role is absorbed
            code = getattr(err, "response", {}).get("Error", {}).get("Code", "")
            if operation != "create_instance_profile" or code != "EntityAlreadyExists":
                raise
            # a profile that holds no role is not in the role details: it exists, so make its tags right
            self.call("tag_instance_profile", InstanceProfileName=request["InstanceProfileName"], Tags=request["Tags"])


# ECR actions of a push (and the pulls a build does of its own base images in the same repositories).
ECR_PUSH_ACTIONS = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:CompleteLayerUpload", "ecr:DescribeImages",
                    "ecr:GetDownloadUrlForLayer", "ecr:InitiateLayerUpload", "ecr:PutImage", "ecr:UploadLayerPart"]


def ecr_push_policy(region: str, repositories: List[str], partition: str = "aws") -> Dict[str, Any]:
    """The CI node role's inline policy: an ECR login (GetAuthorizationToken cannot be scoped: Resource "*") and push
    on exactly these repositories of the role's own account (the ${aws:PrincipalAccount} policy variable, so the plan
    needs no account id); {} when there is no repository (a login alone would push nowhere)."""
    names = sorted(set(repositories))
    if not names:
        return {}
    arns = [f"arn:{partition}:ecr:{region}:${{aws:PrincipalAccount}}:repository/{name}" for name in names]
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "EcrLogin", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
        {"Sid": "PushToDomainRepositories", "Effect": "Allow", "Action": list(ECR_PUSH_ACTIONS), "Resource": arns},
    ]}
