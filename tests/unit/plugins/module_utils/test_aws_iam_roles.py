"""aws_node_roles' reconciler against moto in-process: one read when converged, only the drift written, check mode
writes nothing; and the pure role_changes."""
from __future__ import annotations

import json
from collections import Counter

import boto3
import pytest
from ansible_collections.msa.platform.plugins.module_utils.aws.iam_roles import Roles, role_changes, same_document
from moto import mock_aws

TRUST = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                                                 "Action": "sts:AssumeRole"}]}
READ = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["ec2:DescribeInstances"], "Resource": "*"}]}


@pytest.fixture(autouse=True)
def _in_process(monkeypatch):
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")


class Counting:
    def __init__(self, client):
        self.client, self.calls = client, Counter()

    def __call__(self, operation, **request):
        self.calls[operation] += 1
        return getattr(self.client, operation)(**request)


def wanted(policy_arn: str) -> list:
    return [{"name": "eco-node", "description": "node instances of eco", "assume_role_policy": TRUST, "managed_policies": [policy_arn],
             "inline_policies": {"cloud-provider-aws": READ}, "tags": {"msa:platform": "eco"}, "instance_profile": True},
            {"name": "eco-host", "description": "host instances of eco", "assume_role_policy": TRUST, "managed_policies": [policy_arn],
             "inline_policies": {}, "tags": {"msa:platform": "eco"}, "instance_profile": True}]


@mock_aws
def test_build_converge_and_repair():
    iam = boto3.client("iam", region_name="us-east-1")
    arn = iam.create_policy(PolicyName="ssm", PolicyDocument=json.dumps(READ))["Policy"]["Arn"]
    counting = Counting(iam)
    first = Roles(counting)
    first.reconcile(wanted(arn))
    assert sorted(a.split()[0] for a in first.actions) == sorted(
        ["create_role", "attach_role_policy", "create_instance_profile", "add_role_to_instance_profile"] * 2 + ["put_role_policy"])
    assert iam.get_instance_profile(InstanceProfileName="eco-node")["InstanceProfile"]["Roles"][0]["RoleName"] == "eco-node"
    assert {t["Key"]: t["Value"] for t in iam.list_role_tags(RoleName="eco-host")["Tags"]} == {"msa:platform": "eco"}

    counting.calls.clear()
    converged = Roles(counting)
    before, after = converged.reconcile(wanted(arn))
    assert converged.actions == [] and before == after
    assert counting.calls == Counter({"get_account_authorization_details": 1})

    # drift: an extra inline policy, a detached managed policy, a profile that lost its role, a stray tag
    iam.put_role_policy(RoleName="eco-host", PolicyName="extra", PolicyDocument=json.dumps(READ))
    iam.detach_role_policy(RoleName="eco-node", PolicyArn=arn)
    iam.remove_role_from_instance_profile(InstanceProfileName="eco-host", RoleName="eco-host")
    iam.tag_role(RoleName="eco-node", Tags=[{"Key": "stray", "Value": "1"}])
    preview = Roles(counting, check_mode=True)
    preview.reconcile(wanted(arn))
    assert iam.list_role_policies(RoleName="eco-host")["PolicyNames"] == ["extra"]   # check mode wrote nothing
    repair = Roles(counting)
    repair.reconcile(wanted(arn))
    assert repair.actions == preview.actions
    assert sorted(repair.actions) == sorted(["untag_role eco-node", "attach_role_policy eco-node", "delete_role_policy eco-host",
                                             "create_instance_profile eco-host", "add_role_to_instance_profile eco-host"])
    assert iam.get_instance_profile(InstanceProfileName="eco-host")["InstanceProfile"]["Roles"][0]["RoleName"] == "eco-host"
    again = Roles(counting)
    again.reconcile(wanted(arn))
    assert again.actions == []


def test_role_changes_of_a_missing_role_create_everything_in_order():
    want = wanted("arn:aws:iam::aws:policy/X")[0]
    assert [op for op, _r in role_changes(want, None, None)] == [
        "create_role", "attach_role_policy", "put_role_policy", "create_instance_profile", "add_role_to_instance_profile"]


def test_policy_documents_compare_as_data():
    assert same_document(json.dumps(READ), READ)
    assert same_document("%7B%22a%22%3A%201%7D", {"a": 1})
    assert not same_document(READ, TRUST)


def test_inline_policies_of_another_layer_stay_and_unknown_ones_go():
    """The add-ons layer's controller policies on the kubeadm node role are not drift; anything else unknown is."""
    want = dict(wanted("arn:aws:iam::aws:policy/X")[0], other_inline_policies=["aws-load-balancer-controller"])
    have = {"AssumeRolePolicyDocument": TRUST, "AttachedManagedPolicies": [{"PolicyArn": "arn:aws:iam::aws:policy/X"}],
            "Tags": [{"Key": "msa:platform", "Value": "eco"}],
            "RolePolicyList": [{"PolicyName": name, "PolicyDocument": READ}
                               for name in ("cloud-provider-aws", "aws-load-balancer-controller", "hand-made")]}
    changes = role_changes(dict(want, instance_profile=False), have, None)
    assert changes == [("delete_role_policy", {"RoleName": "eco-node", "PolicyName": "hand-made"})]
