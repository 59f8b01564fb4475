"""The emulator's EC2 fidelity fixes (scripts/moto_ext, applied by scripts/moto_server.py) behave as the EC2 API reference
says, in-process."""
from __future__ import annotations

import boto3
import moto_server
import pytest
from moto import mock_aws
from moto.ec2.models import instances


@pytest.fixture(autouse=True)
def _in_process(monkeypatch):
    """moto's in-process mock, not the session emulator the environment points at."""
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")


def _instance(client, **options):
    image = client.describe_images(Owners=["099720109477"])["Images"][0]["ImageId"]
    return client.run_instances(ImageId=image, MinCount=1, MaxCount=1, MetadataOptions=options)["Instances"][0]["InstanceId"]


def _options(client, instance_id):
    return client.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]["MetadataOptions"]


@mock_aws
def test_modify_metadata_options_keeps_what_the_request_leaves_out():
    assert instances.InstanceBackend.modify_instance_metadata_options is moto_server.moto_ext.ec2_metadata._modify_metadata  # importing it applied the fix
    client = boto3.client("ec2", region_name="ap-northeast-2")
    iid = _instance(client, HttpTokens="required", HttpPutResponseHopLimit=1, HttpEndpoint="enabled", InstanceMetadataTags="enabled")
    client.modify_instance_metadata_options(InstanceId=iid, HttpPutResponseHopLimit=2)
    assert _options(client, iid) == {"State": "applied", "HttpTokens": "required", "HttpPutResponseHopLimit": 2, "HttpEndpoint": "enabled",
                                     "HttpProtocolIpv6": "disabled", "InstanceMetadataTags": "enabled"}
    client.modify_instance_metadata_options(InstanceId=iid, HttpTokens="optional", HttpEndpoint="disabled")
    options = _options(client, iid)
    assert (options["HttpTokens"], options["HttpEndpoint"], options["HttpPutResponseHopLimit"]) == ("optional", "disabled", 2)


@mock_aws
def test_portless_protocol_rule_is_stored_without_ports():
    client = boto3.client("ec2", region_name="ap-northeast-2")
    vpc = client.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    group = client.create_security_group(GroupName="g", Description="g", VpcId=vpc)["GroupId"]
    client.authorize_security_group_ingress(GroupId=group, IpPermissions=[{"IpProtocol": "4", "UserIdGroupPairs": [{"GroupId": group}]}])
    perm = client.describe_security_groups(GroupIds=[group])["SecurityGroups"][0]["IpPermissions"][0]
    assert perm["IpProtocol"] == "4" and "FromPort" not in perm
