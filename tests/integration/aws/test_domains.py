"""playbooks/domains.yml against the emulator on domains-eks: each domain's ECR repositories, S3 bucket and IRSA
workload role built as the plan says, a second run changes nothing, and teardown.yml leaves none of it.

The EKS cluster the roles trust is made with boto3 (its OIDC issuer is all domains.yml reads of it); the EKS
layer itself is test_eks.py's subject. Everything is asserted through boto3.
"""
from __future__ import annotations

import json

import aws_helpers
import boto3
import network_harness
import pytest
from botocore.exceptions import ClientError
from network_harness import URL, recap

ACCOUNT = "123456789012"
REGION = "us-east-1"


def client(service: str):
    return boto3.client(service, endpoint_url=URL, region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing")


def _cluster() -> str:
    """The EKS cluster domains.yml reads the OIDC issuer of; its issuer host."""
    ec2 = client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.20.{i}.0/24", AvailabilityZone=f"{REGION}{az}")["Subnet"]["SubnetId"]
               for i, az in enumerate("ab")]
    ec2.create_tags(Resources=[vpc, *subnets], Tags=[{"Key": "msa:platform", "Value": "domains"}])
    eks = client("eks")
    eks.create_cluster(name="domains", roleArn=f"arn:aws:iam::{ACCOUNT}:role/domains-cluster",
                       resourcesVpcConfig={"subnetIds": subnets}, tags={"msa:platform": "domains"})
    return eks.describe_cluster(name="domains")["cluster"]["identity"]["oidc"]["issuer"].removeprefix("https://")


def _domains_yml():
    run = network_harness.playbook("domains.yml", "domains-eks", timeout=900)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    return run


def test_domains_build_converge_and_teardown(network_emulator):
    issuer = _cluster()
    plan = aws_helpers.plan_of(network_harness.ROOT / "inventories" / "examples" / "domains-eks")
    assert recap(_domains_yml())["changed"] > 0

    ecr, s3, iam = client("ecr"), client("s3"), client("iam")
    repos = {r["repositoryName"]: r for r in ecr.describe_repositories()["repositories"]}
    wanted = [r for d in plan["domains"] for r in d["ecr"]["repositories"]]
    assert sorted(repos) == sorted(wanted) == sorted(["domains/order/order-api", "domains/order/order-worker", "domains/product/product-api",
                                                      "domains/product/product-search", "domains/user/user-api"])
    for name, repo in repos.items():
        assert repo["imageTagMutability"] == "IMMUTABLE" and repo["imageScanningConfiguration"]["scanOnPush"], name
        rules = json.loads(ecr.get_lifecycle_policy(repositoryName=name)["lifecyclePolicyText"])["rules"]
        assert [(r["selection"]["tagStatus"], r["selection"]["countType"], r["selection"]["countNumber"]) for r in rules] == [
            ("untagged", "sinceImagePushed", 14), ("any", "imageCountMoreThan", 30)]

    buckets = sorted(b["Name"] for b in s3.list_buckets()["Buckets"])
    assert buckets == [f"domains-{d}-{ACCOUNT}" for d in ("order", "product", "user")]
    for bucket in buckets:
        block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
        assert all(block.values()) and len(block) == 4, bucket
        sse = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
        assert sse["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
        assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
        policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
        assert policy["Statement"][0]["Effect"] == "Deny" and policy["Statement"][0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    rules = {r["ID"]: r for r in s3.get_bucket_lifecycle_configuration(Bucket=f"domains-order-{ACCOUNT}")["Rules"]}
    assert rules["order-documents-7y"]["Expiration"] == {"Days": 2555}
    assert rules["order-documents-7y"]["Transitions"] == [{"Days": 90, "StorageClass": "GLACIER"}]
    assert rules["old-versions"]["NoncurrentVersionExpiration"]["NoncurrentDays"] == 30
    rules = s3.get_bucket_lifecycle_configuration(Bucket=f"domains-user-{ACCOUNT}")["Rules"]
    assert [(r["ID"], r["Filter"]["Prefix"], r["Expiration"]["Days"]) for r in rules] == [("profile-backups-14d", "backups/", 14)]

    role = iam.get_role(RoleName="domains-order-workload")["Role"]
    statement = role["AssumeRolePolicyDocument"]["Statement"]
    assert statement == [{"Effect": "Allow", "Principal": {"Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/{issuer}"},
                          "Action": "sts:AssumeRoleWithWebIdentity",
                          "Condition": {"StringEquals": {f"{issuer}:sub": "system:serviceaccount:order:order", f"{issuer}:aud": "sts.amazonaws.com"}}}]
    assert iam.list_attached_role_policies(RoleName="domains-order-workload")["AttachedPolicies"] == []
    policy = iam.get_role_policy(RoleName="domains-order-workload", PolicyName="domain-resources")["PolicyDocument"]
    resources = {s["Sid"]: s["Resource"] for s in policy["Statement"]}
    assert resources == {
        "ListOwnBucket": f"arn:aws:s3:::domains-order-{ACCOUNT}",
        "ObjectsOfOwnBucket": f"arn:aws:s3:::domains-order-{ACCOUNT}/*",
        "EcrLogin": "*",
        "OwnRepositories": [f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/domains/order/order-api",
                            f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/domains/order/order-worker"]}

    assert recap(_domains_yml())["changed"] == 0

    # The bucket policy is enforced: the emulator is plain HTTP, so even the owner cannot write (the unit test of
    # aws_teardown proves versioned buckets are emptied).
    with pytest.raises(ClientError) as denied:
        s3.put_object(Bucket=f"domains-order-{ACCOUNT}", Key="documents/invoice.pdf", Body=b"%PDF")
    assert denied.value.response["Error"]["Code"] in ("403", "AccessDenied")
    run = network_harness.playbook("teardown.yml", "domains-eks", "-e", "confirm_teardown=domains", timeout=900)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert ecr.describe_repositories()["repositories"] == []
    assert s3.list_buckets()["Buckets"] == []
    assert [r["RoleName"] for r in iam.list_roles()["Roles"] if r["RoleName"].startswith("domains-")] == []
