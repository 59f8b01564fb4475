"""The teardown walk against moto in-process: a messy half-built platform next to one that must survive."""
from __future__ import annotations

import sys
from pathlib import Path

import boto3
import pytest
from ansible_collections.msa.platform.plugins.module_utils import aws_teardown
from ansible_collections.msa.platform.plugins.module_utils.aws_teardown import Clients, Teardown, TeardownError, summary

sys.path.insert(0, str(Path(__file__).resolve().parents[4] / "scripts"))
import moto_ext  # pylint: disable=wrong-import-position

moto_ext.apply_all()  # the emulator's EKS handlers (add-ons, access entries) in-process too

REGION = "ap-northeast-2"
POLICY = '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ssm:*", "Resource": "*"}]}'


def spec(kind: str, platform: str, name: str) -> list:
    return [{"ResourceType": kind, "Tags": [{"Key": "msa:platform", "Value": platform}, {"Key": "Name", "Value": name}]}]


def build(ec2, platform: str, cidr: str) -> dict:
    """A VPC with an untagged subnet (as if tagging was interrupted), NAT with an untagged EIP, an IGW,
    a route table, two security groups naming each other, an instance and a tagged key pair."""
    vpc = ec2.create_vpc(CidrBlock=cidr, TagSpecifications=spec("vpc", platform, platform))["Vpc"]["VpcId"]
    public = ec2.create_subnet(VpcId=vpc, CidrBlock=cidr.replace("0.0/16", "0.0/24"), AvailabilityZone=REGION + "a",
                               TagSpecifications=spec("subnet", platform, f"{platform}-public-a"))["Subnet"]["SubnetId"]
    private = ec2.create_subnet(VpcId=vpc, CidrBlock=cidr.replace("0.0/16", "1.0/24"), AvailabilityZone=REGION + "a")["Subnet"]["SubnetId"]
    igw = ec2.create_internet_gateway(TagSpecifications=spec("internet-gateway", platform, f"{platform}-igw"))["InternetGateway"]
    ec2.attach_internet_gateway(InternetGatewayId=igw["InternetGatewayId"], VpcId=vpc)
    eip = ec2.allocate_address(Domain="vpc")["AllocationId"]
    nat = ec2.create_nat_gateway(SubnetId=public, AllocationId=eip,
                                 TagSpecifications=spec("natgateway", platform, f"{platform}-nat-a"))["NatGateway"]["NatGatewayId"]
    table = ec2.create_route_table(VpcId=vpc, TagSpecifications=spec("route-table", platform, f"{platform}-private-a"))["RouteTable"]
    ec2.create_route(RouteTableId=table["RouteTableId"], DestinationCidrBlock="0.0.0.0/0", NatGatewayId=nat)
    ec2.associate_route_table(RouteTableId=table["RouteTableId"], SubnetId=private)
    app = ec2.create_security_group(GroupName=f"{platform}-app", Description="app", VpcId=vpc,
                                    TagSpecifications=spec("security-group", platform, f"{platform}-app"))["GroupId"]
    db = ec2.create_security_group(GroupName=f"{platform}-db", Description="db", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=db, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "UserIdGroupPairs": [{"GroupId": app}]}])
    ec2.authorize_security_group_ingress(GroupId=app, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080, "UserIdGroupPairs": [{"GroupId": db}]}])
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, SubnetId=private, SecurityGroupIds=[app],
                      TagSpecifications=spec("instance", platform, f"{platform}-auth-1"))
    ec2.create_key_pair(KeyName=f"{platform}-key", TagSpecifications=spec("key-pair", platform, f"{platform}-key"))
    return {"vpc": vpc, "eip": eip}


@pytest.fixture
def aws(moto_in_process):  # pylint: disable=unused-argument,redefined-outer-name
    names = {"ec2": "ec2", "elbv2": "elbv2", "elb": "elb", "iam": "iam", "eks": "eks", "tagging": "resourcegroupstaggingapi",
             "ecr": "ecr", "s3": "s3"}
    return Clients(**{attr: boto3.client(service, region_name=REGION) for attr, service in names.items()})


def test_find_lists_everything_in_the_vpc_tagged_or_not_and_changes_nothing(aws):
    build(aws.ec2, "ecoeco", "10.0.0.0/16")
    found = summary(Teardown(aws, "ecoeco").find())
    assert len(found["subnets"]) == 2 and any("(ecoeco-public-a)" in s for s in found["subnets"])
    assert len(found["addresses"]) == 1, "the NAT's untagged EIP is found through the NAT"
    assert len(found["security_groups"]) == 2 and len(found["instances"]) == 1 and len(found["key_pairs"]) == 1
    assert len(found["nat_gateways"]) == 1 and len(found["route_tables"]) == 1 and len(found["vpcs"]) == 1
    assert list(found) == [kind for kind in aws_teardown.ORDER if kind in found]
    assert len(aws.ec2.describe_addresses()["Addresses"]) == 1


def test_find_lists_untagged_load_balancers_and_target_groups_of_the_vpc_only(aws):
    """What Kubernetes makes (untagged ALBs/NLBs, classic ELBs, target groups) is found by VPC."""
    for platform, cidr in (("ecoeco", "10.0.0.0/16"), ("courm", "10.10.0.0/16")):
        vpc = build(aws.ec2, platform, cidr)["vpc"]
        subnets = [s["SubnetId"] for s in aws.ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]]
        aws.elbv2.create_load_balancer(Name=f"k8s-{platform}-alb", Subnets=subnets)
        aws.elbv2.create_target_group(Name=f"k8s-{platform}-tg", Protocol="HTTP", Port=80, VpcId=vpc)
        aws.elb.create_load_balancer(LoadBalancerName=f"k8s-{platform}-elb", Subnets=subnets[:1],
                                     Listeners=[{"Protocol": "TCP", "LoadBalancerPort": 80, "InstancePort": 30080}])
    found = summary(Teardown(aws, "ecoeco").find())
    assert [len(found[kind]) for kind in ("load_balancers", "classic_load_balancers", "target_groups")] == [1, 1, 1], found
    assert all("ecoeco" in item for kind in ("load_balancers", "classic_load_balancers", "target_groups") for item in found[kind])


def test_untagged_profile_holding_a_platform_role_is_deleted_with_it(aws):
    """Profiles made before they were tagged (issue 12 item 7): found through their role, so a rebuild never reuses one
    emptied by the role's deletion; another platform's untagged profile stays."""
    tag = [{"Key": "msa:platform", "Value": "ecoeco"}]
    aws.iam.create_role(RoleName="ecoeco-node", AssumeRolePolicyDocument="{}", Tags=tag)
    aws.iam.create_instance_profile(InstanceProfileName="ecoeco-node")
    aws.iam.add_role_to_instance_profile(InstanceProfileName="ecoeco-node", RoleName="ecoeco-node")
    aws.iam.create_role(RoleName="courm-node", AssumeRolePolicyDocument="{}")
    aws.iam.create_instance_profile(InstanceProfileName="courm-node")
    aws.iam.add_role_to_instance_profile(InstanceProfileName="courm-node", RoleName="courm-node")
    found = Teardown(aws, "ecoeco").find()
    assert [p["id"] for p in found["instance_profiles"]] == ["ecoeco-node"] and [r["id"] for r in found["iam_roles"]] == ["ecoeco-node"]
    teardown = Teardown(aws, "ecoeco", poll=0)
    teardown.run()
    assert [p["InstanceProfileName"] for p in aws.iam.list_instance_profiles()["InstanceProfiles"]] == ["courm-node"]
    assert [r["RoleName"] for r in aws.iam.list_roles()["Roles"]] == ["courm-node"]
    assert teardown.sweep() == []


def test_run_deletes_the_platform_only_and_a_second_run_does_nothing(aws):
    build(aws.ec2, "ecoeco", "10.0.0.0/16")
    other = build(aws.ec2, "courm", "10.10.0.0/16")
    role = aws.iam.create_role(RoleName="ecoeco-node", AssumeRolePolicyDocument="{}", Tags=[{"Key": "msa:platform", "Value": "ecoeco"}])
    aws.iam.create_instance_profile(InstanceProfileName="ecoeco-node", Tags=[{"Key": "msa:platform", "Value": "ecoeco"}])
    aws.iam.add_role_to_instance_profile(InstanceProfileName="ecoeco-node", RoleName=role["Role"]["RoleName"])
    policy = aws.iam.create_policy(PolicyName="ecoeco-ssm", PolicyDocument=POLICY)
    aws.iam.attach_role_policy(RoleName="ecoeco-node", PolicyArn=policy["Policy"]["Arn"])
    aws.iam.put_role_policy(RoleName="ecoeco-node", PolicyName="inline", PolicyDocument=POLICY)

    teardown = Teardown(aws, "ecoeco", poll=0)
    teardown.run()
    assert teardown.sweep() == []
    assert [a["AllocationId"] for a in aws.ec2.describe_addresses()["Addresses"]] == [other["eip"]]
    assert [v["VpcId"] for v in aws.ec2.describe_vpcs()["Vpcs"] if not v["IsDefault"]] == [other["vpc"]]
    assert aws.iam.list_roles()["Roles"] == [] and aws.iam.list_instance_profiles()["InstanceProfiles"] == []
    # no write that changes nothing: the app <-> db cycle is cut with one ingress revoke per group, no egress revoke;
    # the subnets' route table associations and the instance's root volume went with them
    ops = [a.split()[0] for a in teardown.log]
    assert ops.count("revoke_security_group_ingress") == 2 and "revoke_security_group_egress" not in ops, teardown.log
    assert "disassociate_route_table" not in ops and "delete_volume" not in ops and "disassociate_address" not in ops, teardown.log
    first = {op: next(i for i, a in enumerate(teardown.log) if a.startswith(op))
             for op in ("terminate_instances", "delete_nat_gateway", "release_address", "delete_subnet", "delete_vpc")}
    assert list(first.values()) == sorted(first.values()), teardown.log

    again = Teardown(aws, "ecoeco", poll=0)
    again.run()
    assert again.log == [] and again.sweep() == []
    assert len(summary(Teardown(aws, "courm").find())["subnets"]) == 2


def test_sweep_reports_tagged_resources_teardown_does_not_know(aws):
    sns = boto3.client("sns", region_name=REGION)
    arn = sns.create_topic(Name="ecoeco-alerts", Tags=[{"Key": "msa:platform", "Value": "ecoeco"}])["TopicArn"]
    s3 = boto3.client("s3", region_name=REGION)   # a bucket teardown knows is listed once, by its own kind
    s3.create_bucket(Bucket="ecoeco-state", CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_bucket_tagging(Bucket="ecoeco-state", Tagging={"TagSet": [{"Key": "msa:platform", "Value": "ecoeco"}]})
    left = Teardown(aws, "ecoeco").sweep()
    assert left == ["S3 bucket ecoeco-state", f"tagged resource {arn}"]


def test_wait_times_out_naming_what_is_left():
    teardown = Teardown(Clients(ec2=None), "ecoeco", wait_timeout=0, sleep=lambda _: None)
    with pytest.raises(TeardownError, match="waiting for NAT gateways to be deleted: still there: nat-1"):
        teardown._wait("NAT gateways to be deleted", lambda: ["nat-1"])


def test_strip_keeps_only_what_revoke_accepts():
    perms = [{"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "IpRanges": [], "Ipv6Ranges": [], "PrefixListIds": [],
              "UserIdGroupPairs": [{"GroupId": "sg-1", "UserId": "123", "GroupName": "app"}]}]
    assert aws_teardown._strip(perms) == [{"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "UserIdGroupPairs": [{"GroupId": "sg-1"}]}]


def test_retrying_clients_get_aws_retry():
    seen = {}

    class Client:
        def describe_vpcs(self, **kwargs):
            seen.update(kwargs)
            return {"Vpcs": []}

    aws_teardown.call(Clients(ec2=Client(), retrying=True), Client(), "describe_vpcs", Filters=[])
    assert seen == {"aws_retry": True, "Filters": []}


def test_eks_layer_goes_in_dependency_order_and_leaves_nothing(aws):
    """Add-ons, node groups, access entries, OIDC provider, cluster, launch templates, then the IAM roles."""
    vpc = build(aws.ec2, "courm", "10.10.0.0/16")["vpc"]
    subnets = [s["SubnetId"] for s in aws.ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]]
    tags = {"msa:platform": "courm"}
    role = aws.iam.create_role(RoleName="courm-eks-cluster", AssumeRolePolicyDocument="{}",
                               Tags=[{"Key": "msa:platform", "Value": "courm"}])["Role"]["Arn"]
    aws.eks.create_cluster(name="courm", roleArn=role, resourcesVpcConfig={"subnetIds": subnets}, tags=tags,
                           accessConfig={"authenticationMode": "API", "bootstrapClusterCreatorAdminPermissions": False})
    aws.eks.create_access_entry(clusterName="courm", principalArn="arn:aws:iam::123456789012:role/admins")
    aws.eks.create_nodegroup(clusterName="courm", nodegroupName="general", nodeRole=role, subnets=subnets, tags=tags)
    aws.eks.create_addon(clusterName="courm", addonName="coredns")
    aws.iam.create_open_id_connect_provider(Url="https://oidc.eks.ap-northeast-2.amazonaws.com/id/ABC", ClientIDList=["sts.amazonaws.com"],
                                            ThumbprintList=["9e99a48a9960b14926bb7f3b02e22da2b0ab7280"],
                                            Tags=[{"Key": "msa:platform", "Value": "courm"}])
    aws.iam.create_open_id_connect_provider(Url="https://oidc.eks.ap-northeast-2.amazonaws.com/id/OTHER",
                                            ClientIDList=["sts.amazonaws.com"], ThumbprintList=["9e99a48a9960b14926bb7f3b02e22da2b0ab7280"])
    aws.ec2.create_launch_template(LaunchTemplateName="courm-eks-general", LaunchTemplateData={},
                                   TagSpecifications=spec("launch-template", "courm", "courm-eks-general"))
    aws.ec2.create_launch_template(LaunchTemplateName="other", LaunchTemplateData={})

    found = summary(Teardown(aws, "courm").find())
    kinds = ("eks_addons", "eks_nodegroups", "eks_access_entries", "oidc_providers", "eks_clusters", "launch_templates")
    assert [len(found[k]) for k in kinds] == [1, 1, 1, 1, 1, 1], found
    teardown = Teardown(aws, "courm", poll=0)
    teardown.run()
    assert teardown.sweep() == []
    ops = [entry.split()[0] for entry in teardown.log]
    order = ["delete_addon", "delete_nodegroup", "delete_access_entry", "delete_open_id_connect_provider", "delete_cluster",
             "delete_launch_template", "delete_role"]
    assert [ops.index(op) for op in order] == sorted(ops.index(op) for op in order), teardown.log
    assert aws.eks.list_clusters()["clusters"] == []
    assert [t["LaunchTemplateName"] for t in aws.ec2.describe_launch_templates()["LaunchTemplates"]] == ["other"]
    assert len(aws.iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]) == 1


def test_etcd_bucket_goes_with_every_version_and_a_foreign_same_prefix_bucket_stays(aws):
    s3 = boto3.client("s3", region_name=REGION)
    aws.s3 = s3
    location = {"LocationConstraint": REGION}
    for name, platform in (("ecoeco-etcd-123456789012", "ecoeco"), ("ecoeco-etcd-someone-else", "other"), ("courm-etcd-1", "courm")):
        s3.create_bucket(Bucket=name, CreateBucketConfiguration=location)
        s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": [{"Key": "msa:platform", "Value": platform}]})
    s3.put_bucket_versioning(Bucket="ecoeco-etcd-123456789012", VersioningConfiguration={"Status": "Enabled"})
    for body in (b"one", b"two"):  # two versions of one key, then a delete marker
        s3.put_object(Bucket="ecoeco-etcd-123456789012", Key="etcd/cp-1/etcd-cp-1-20260102T000000Z.db", Body=body)
    s3.delete_object(Bucket="ecoeco-etcd-123456789012", Key="etcd/cp-1/etcd-cp-1-20260102T000000Z.db")

    assert summary(Teardown(aws, "ecoeco").find())["etcd_buckets"] == ["etcd snapshot bucket ecoeco-etcd-123456789012"]
    teardown = Teardown(aws, "ecoeco", poll=0)
    teardown.run()
    assert sorted(b["Name"] for b in s3.list_buckets()["Buckets"]) == ["courm-etcd-1", "ecoeco-etcd-someone-else"]
    assert "delete_bucket ecoeco-etcd-123456789012" in teardown.log and teardown.sweep() == []
    again = Teardown(aws, "ecoeco", poll=0)
    again.run()
    assert again.log == []


def test_load_balancer_controller_leftovers_and_its_iam_go_before_the_vpc(aws):
    """What the AWS Load Balancer Controller leaves (an ALB, a target group and a security group tagged
    elbv2.k8s.aws/cluster, its IRSA role holding our managed policy, a second policy version from an upgrade)
    is deleted; another platform's policy stays."""
    vpc = build(aws.ec2, "courm", "10.10.0.0/16")["vpc"]
    subnets = [s["SubnetId"] for s in aws.ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]]
    controller_tag = [{"Key": "elbv2.k8s.aws/cluster", "Value": "courm"}]
    aws.ec2.create_security_group(GroupName="k8s-traffic-courm-1a2b3c", Description="[k8s] Shared Backend SecurityGroup", VpcId=vpc,
                                  TagSpecifications=[{"ResourceType": "security-group", "Tags": controller_tag}])
    aws.elbv2.create_load_balancer(Name="k8s-order-courm-0123456789", Subnets=subnets, Tags=controller_tag)
    aws.elbv2.create_target_group(Name="k8s-order-order-0123456789", Protocol="HTTP", Port=8080, VpcId=vpc, Tags=controller_tag)
    tag = [{"Key": "msa:platform", "Value": "courm"}]
    arn = aws.iam.create_policy(PolicyName="courm-aws-load-balancer-controller", PolicyDocument=POLICY, Tags=tag)["Policy"]["Arn"]
    aws.iam.create_policy_version(PolicyArn=arn, PolicyDocument=POLICY, SetAsDefault=True)
    aws.iam.create_role(RoleName="courm-aws-load-balancer-controller", AssumeRolePolicyDocument="{}", Tags=tag)
    aws.iam.attach_role_policy(RoleName="courm-aws-load-balancer-controller", PolicyArn=arn)
    other = aws.iam.create_policy(PolicyName="ecoeco-aws-load-balancer-controller", PolicyDocument=POLICY,
                                  Tags=[{"Key": "msa:platform", "Value": "ecoeco"}])["Policy"]["Arn"]
    found = summary(Teardown(aws, "courm").find())
    assert found["iam_policies"] == [f"IAM policy {arn}"]
    teardown = Teardown(aws, "courm", poll=0)
    teardown.run()
    assert [p["Arn"] for p in aws.iam.list_policies(Scope="Local")["Policies"]] == [other]
    assert aws.iam.list_roles()["Roles"] == []
    assert aws.elbv2.describe_load_balancers()["LoadBalancers"] == [] and aws.elbv2.describe_target_groups()["TargetGroups"] == []
    assert aws.ec2.describe_vpcs(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Vpcs"] == []
    assert teardown.sweep() == []


def _domain_resources(aws, platform: str) -> None:
    """Two repositories (one with an image), a versioned bucket with versions and a delete marker, an IRSA role."""
    for repo in ("order/order-api", "user/user-api"):
        aws.ecr.create_repository(repositoryName=f"{platform}/{repo}")
    aws.ecr.put_image(repositoryName=f"{platform}/order/order-api", imageTag="v1",
                      imageManifest='{"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json"}')
    bucket = f"{platform}-order-123456789012"
    aws.s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    aws.s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "msa:platform", "Value": platform}]})
    aws.s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    for body in (b"1", b"2"):
        aws.s3.put_object(Bucket=bucket, Key="documents/a.pdf", Body=body)
    aws.s3.delete_object(Bucket=bucket, Key="documents/a.pdf")
    aws.iam.create_role(RoleName=f"{platform}-order-workload", AssumeRolePolicyDocument="{}",
                        Tags=[{"Key": "msa:platform", "Value": platform}])
    aws.iam.put_role_policy(RoleName=f"{platform}-order-workload", PolicyName="domain-resources", PolicyDocument=POLICY)


def test_domain_repositories_buckets_and_roles_go_and_the_other_platform_stays(aws):
    _domain_resources(aws, "domains")
    _domain_resources(aws, "domains2")   # shares the name prefix "domains" but not "domains/"
    aws.s3.create_bucket(Bucket="untagged-bucket", CreateBucketConfiguration={"LocationConstraint": REGION})
    teardown = Teardown(aws, "domains", wait_timeout=5, sleep=lambda _: None)
    found = summary(teardown.find())
    assert found["ecr_repositories"] == ["ECR repository domains/order/order-api", "ECR repository domains/user/user-api"]
    assert found["s3_buckets"] == ["S3 bucket domains-order-123456789012"]
    teardown.run()
    assert teardown.sweep() == []
    assert sorted(r["repositoryName"] for r in aws.ecr.describe_repositories()["repositories"]) == [
        "domains2/order/order-api", "domains2/user/user-api"]
    assert sorted(b["Name"] for b in aws.s3.list_buckets()["Buckets"]) == ["domains2-order-123456789012", "untagged-bucket"]
    assert [r["RoleName"] for r in aws.iam.list_roles()["Roles"]] == ["domains2-order-workload"]
    assert summary(Teardown(aws, "domains").find()) == {}
