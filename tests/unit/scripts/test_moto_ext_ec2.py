"""The emulator's EC2 fixes of this change: ImportKeyPair reports the documented fingerprint (the one aws_compute computes
locally); DeleteSubnet removes the subnet's route table association."""
from __future__ import annotations

import subprocess

import boto3
import moto_ext
import pytest
from ansible_collections.msa.platform.plugins.module_utils.aws.keys import imported_fingerprint, same_fingerprint
from moto import mock_aws

moto_ext.apply_all()


@pytest.fixture(autouse=True)
def _in_process(monkeypatch):
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")


@pytest.mark.parametrize("kind,shape", [("ed25519", r"[A-Za-z0-9+/]{43}="), ("rsa", r"([0-9a-f]{2}:){15}[0-9a-f]{2}")])
@mock_aws
def test_imported_key_fingerprint_is_the_documented_one(tmp_path, kind, shape):
    subprocess.run(["ssh-keygen", "-q", "-t", kind, "-N", "", "-f", str(tmp_path / "key")], check=True)
    public = (tmp_path / "key.pub").read_text()
    # ssh-keygen prints the same digests: SHA256 base64 without padding, MD5 as hex pairs
    digest = "md5" if kind == "rsa" else "sha256"
    printed = subprocess.run(["ssh-keygen", "-l", "-E", digest, "-f", str(tmp_path / "key.pub")], check=True, capture_output=True,
                             text=True).stdout.split()[1].split(":", 1)[1]
    assert imported_fingerprint(public).rstrip("=") == printed
    ec2 = boto3.client("ec2", region_name="ap-northeast-2")
    reported = ec2.import_key_pair(KeyName="k", PublicKeyMaterial=public.encode())["KeyFingerprint"]
    assert reported == imported_fingerprint(public)
    import re
    assert re.fullmatch(shape, reported)
    assert same_fingerprint(ec2.describe_key_pairs(KeyNames=["k"])["KeyPairs"][0]["KeyFingerprint"], public)


def test_unsupported_material_has_no_fingerprint():
    assert imported_fingerprint("ecdsa-sha2-nistp256 AAAA") == ""
    assert imported_fingerprint("ssh-ed25519 not-base64!") == ""
    assert imported_fingerprint(5) == ""
    assert not same_fingerprint("", "ssh-ed25519 AAAA")


@mock_aws
def test_deleting_a_subnet_removes_its_route_table_association():
    ec2 = boto3.client("ec2", region_name="ap-northeast-2")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.1.0/24")["Subnet"]["SubnetId"]
    other = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.2.0/24")["Subnet"]["SubnetId"]
    table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.associate_route_table(RouteTableId=table, SubnetId=subnet)
    kept = ec2.associate_route_table(RouteTableId=table, SubnetId=other)["AssociationId"]
    ec2.delete_subnet(SubnetId=subnet)
    left = ec2.describe_route_tables(RouteTableIds=[table])["RouteTables"][0]["Associations"]
    assert [(a["RouteTableAssociationId"], a["SubnetId"]) for a in left] == [(kept, other)]
    ec2.delete_subnet(SubnetId=other)
    ec2.delete_route_table(RouteTableId=table)   # no DependencyViolation, no disassociation needed


@mock_aws
def test_tags_read_directly_are_the_scan_s_tags_and_filters_still_select(monkeypatch):
    """ec2_tags: each resource's tags equal what moto's region-wide scan returns for it, in order; tag filters select the
    same instances; and no per-resource read scans the region any more (DescribeInstances was quadratic)."""
    from moto.ec2.models import core
    from moto_ext import ec2_tags

    ec2 = boto3.client("ec2", region_name="ap-northeast-2")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.0.0/24")["Subnet"]["SubnetId"]
    image = ec2.describe_images()["Images"][0]["ImageId"]
    ids = [i["InstanceId"] for i in ec2.run_instances(ImageId=image, MinCount=6, MaxCount=6, SubnetId=subnet)["Instances"]]
    for n, instance in enumerate(ids):
        ec2.create_tags(Resources=[instance], Tags=[{"Key": "msa:pool", "Value": f"p{n % 2}"}, {"Key": "Name", "Value": f"n{n}"}])
    ec2.create_tags(Resources=[vpc, subnet], Tags=[{"Key": "msa:pool", "Value": "p0"}])

    backend = __import__("moto.ec2.models", fromlist=["ec2_backends"]).ec2_backends["123456789012"]["ap-northeast-2"]
    resources = [backend.get_vpc(vpc), backend.get_subnet(subnet), *(backend.get_instance(i) for i in ids),
                 backend.describe_security_groups()[0]]  # the default group has no tags
    scanned = [backend.describe_tags(filters={"resource-id": [r.id]}) for r in resources]
    assert [r.get_tags() for r in resources] == scanned
    assert scanned[-1] == [] and [t["key"] for t in scanned[2]] == ["msa:pool", "Name"]
    assert scanned[0][0]["resource_type"] == "vpc" and scanned[2][0]["resource_type"] == "instance"

    def no_scan(*_args, **_kwargs):
        raise AssertionError("a resource's tags read by scanning the region")
    monkeypatch.setattr(type(backend), "describe_tags", no_scan)
    reservations = ec2.describe_instances(Filters=[{"Name": "tag:msa:pool", "Values": ["p1"]}])["Reservations"]
    found = {i["InstanceId"]: {t["Key"]: t["Value"] for t in i["Tags"]} for r in reservations for i in r["Instances"]}
    assert sorted(found) == sorted(ids[1::2]) and all(tags["msa:pool"] == "p1" for tags in found.values())
    assert core.TaggedEC2Resource.get_tags is ec2_tags._get_tags  # pylint: disable=protected-access
