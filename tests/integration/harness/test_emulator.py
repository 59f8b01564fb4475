"""The AWS emulator fixture: loopback only, dummy credentials, state forgotten between tests."""
from __future__ import annotations

import os

import boto3
import pytest

pytestmark = pytest.mark.emulator


def test_clients_reach_only_the_loopback_emulator(aws):
    assert os.environ["AWS_ENDPOINT_URL"] == aws
    assert aws.startswith("http://127.0.0.1:")
    ec2 = boto3.client("ec2")
    assert ec2.meta.endpoint_url == aws
    assert boto3.Session().get_credentials().access_key == "testing"


def test_a_test_starts_from_an_empty_emulator(aws):
    ec2 = boto3.client("ec2")
    ec2.create_vpc(CidrBlock="10.9.0.0/16", TagSpecifications=[
        {"ResourceType": "vpc", "Tags": [{"Key": "msa:platform", "Value": "leftover"}]}])
    assert _tagged_vpcs(ec2) == 1


def test_the_vpc_of_the_previous_test_is_gone(aws):
    assert _tagged_vpcs(boto3.client("ec2")) == 0


def _tagged_vpcs(ec2) -> int:
    return len(ec2.describe_vpcs(Filters=[{"Name": "tag-key", "Values": ["msa:platform"]}])["Vpcs"])
