"""The proxy names every AWS call as service:Operation, whatever the protocol (benchmarks count with it)."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "fakes"))
from aws_fault_proxy import api_call  # pylint: disable=wrong-import-position


def signed(service: str) -> dict:
    return {"Authorization": f"AWS4-HMAC-SHA256 Credential=testing/20261202/ap-northeast-2/{service}/aws4_request, SignedHeaders=host"}


@pytest.mark.parametrize(("method", "path", "operation"), [
    ("GET", "/clusters/courm", "DescribeCluster"),
    ("GET", "/clusters", "ListClusters"),
    ("POST", "/clusters/courm/node-groups/general/update-config", "UpdateNodegroupConfig"),
    ("POST", "/clusters/courm/node-groups/general/update-version", "UpdateNodegroupVersion"),
    ("GET", "/clusters/courm/updates?nodegroupName=general", "ListUpdates"),
    ("GET", "/addons/supported-versions?kubernetesVersion=1.35", "DescribeAddonVersions"),
    ("POST", "/clusters/courm/access-entries/arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fa/access-policies", "AssociateAccessPolicy"),
    ("DELETE", "/clusters/courm/addons/coredns", "DeleteAddon"),
])
def test_rest_calls_are_named_from_botocores_model(method, path, operation):
    assert api_call(method, path, signed("eks"), b"") == f"eks:{operation}"


def test_query_and_json_calls():
    assert api_call("POST", "/", signed("iam"), b"Action=GetRole&RoleName=x&Version=2010-05-08") == "iam:GetRole"
    assert api_call("POST", "/", signed("ec2"), b"Action=DescribeSubnets&Version=2016-11-15") == "ec2:DescribeSubnets"
    headers = dict(signed("logs"), **{"X-Amz-Target": "Logs_20140328.DescribeLogGroups"})
    assert api_call("POST", "/", headers, b"{}") == "logs:DescribeLogGroups"


def test_unknown_requests_are_named_by_what_is_known():
    assert api_call("GET", "/moto-api/reset", {}, b"") == "unsigned:GET /moto-api/reset"
