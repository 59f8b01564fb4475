"""playbooks/site.yml end to end on the two EKS examples against the emulator: courm-eks (RDS PostgreSQL primary +
read replica, ElastiCache) and domains-eks (three domains with ECR repositories, S3 buckets, IRSA roles). Each is
built, run again with changed=0 on every host of the recap, then torn down by teardown.yml to nothing.

The inventory is the example's own, copied with its msa.platform.aws_cluster file (the emulator's EC2 instances
become hosts, as on an account) and a group_vars/all/site.yml that skips, with reasons, what needs those instances
to be machines: the data services on the nodes (`data_hosts`) and monitoring. The Kubernetes side of the add-ons
layer runs against the API fake (tests/fakes/kube_api.py) with the helm stand-in, as in
tests/integration/k8s/test_addons.py, which tests that layer in detail, as test_eks.py, test_network_build.py and
test_compute*.py test theirs. Here a few things per layer are asserted through boto3 and the fake, and the run
summary (facts.json) is checked to list them. Managed data and the domains' AWS resources are asserted in full:
their own tests (managed_data.yml on courm-eks, domains.yml on domains-eks) built the same resources again and were
folded in here.
"""
from __future__ import annotations

import json
import shutil
import stat
import sys
from urllib.parse import urlsplit

import boto3
import network_harness
import pytest
import yaml
from botocore.exceptions import ClientError
from network_harness import ROOT, URL, recaps

sys.path.insert(0, str(ROOT / "tests" / "fakes"))
import kube_api  # tests/fakes, on sys.path from the line above

ACCOUNT = "123456789012"
TOKEN = "emulator-only-auth-token-0123456789"     # test values; real ones come from the user's secret source
PASSWORD = "correct horse battery staple"
# What the emulator's instances cannot run, and what an account runs instead (the run summary lists both).
SKIP = {
    "data_hosts": {"why": "the EC2 nodes are emulator records, not machines",
                   "instead": "playbooks/data_hosts.yml: the self-managed PostgreSQL, Redis, RabbitMQ and Kafka on their pools' nodes"},
    "ci": {"why": "the EC2 nodes are emulator records, not machines",
           "instead": "playbooks/ci.yml: Jenkins LTS on the ci pool (tested on a real host in molecule/jenkins)"},
    "monitoring": {"why": "the EC2 nodes are emulator records, not machines",
                   "instead": "playbooks/monitoring.yml: exporters on every node, Prometheus, Alertmanager and Grafana"},
}

# The emulator's AMIs include no Debian: the Ubuntu one inventories/local looks up (same lookup path as on AWS).
EMULATOR_COMPUTE = {"aws_compute_ami_name": "ubuntu/images/hvm-ssd/ubuntu-xenial-16.04-amd64-server-*",
                    "aws_compute_ami_owner": "099720109477", "aws_compute_public_key_file": str(ROOT / ".cache" / "ssh" / "id_ed25519.pub")}


def client(service: str, region: str):
    return boto3.client(service, endpoint_url=URL, region_name=region, aws_access_key_id="testing", aws_secret_access_key="testing")


@pytest.fixture
def stage(aws, tmp_path, monkeypatch):
    """(example) -> inventory copy and extra vars for a site.yml run against the emulator and a fresh API fake."""
    with kube_api.serve() as kube:
        kube.objects.add_crd("argoproj.io", "applications", "Application")
        kube.objects.add_crd("argoproj.io", "applicationsets", "ApplicationSet")
        helm = tmp_path / "helm"
        helm.write_text(f"#!/bin/sh\nexec {sys.executable} {ROOT / 'tests' / 'fakes' / 'helm_standin.py'} \"$@\"\n")
        helm.chmod(helm.stat().st_mode | stat.S_IXUSR)
        monkeypatch.setenv("HELM_STANDIN_DIR", str(tmp_path / "helm-state"))

        def make(example: str) -> dict:
            source = ROOT / "inventories" / "examples" / example
            topology = yaml.safe_load((source / "group_vars" / "all" / "topology.yml").read_text())["platform"]
            inventory = tmp_path / example
            shutil.copytree(source / "group_vars", inventory / "group_vars")
            shutil.copy(source / "hosts.yml", inventory / "hosts.yml")
            shutil.copy(source / "aws_cluster.yml", inventory / "aws_cluster.yml")   # uncached; AWS_ENDPOINT_URL is the emulator
            (inventory / "group_vars" / "all" / "site.yml").write_text(yaml.safe_dump(
                {"msa_site_skip": list(SKIP), "msa_site_skip_reasons": SKIP}))
            (inventory / "group_vars" / "all" / "emulator.yml").write_text(yaml.safe_dump(EMULATOR_COMPUTE))
            extra = tmp_path / "extra.json"
            extra.write_text(json.dumps({
                "eks_kubeconfig": str(tmp_path / "eks-kubeconfig"),
                "cluster_addons_kubeconfig": str(kube.write_kubeconfig(tmp_path / "kubeconfig")),
                "cluster_addons_helm_binary": str(helm), "cluster_addons_argocd_admin_password": PASSWORD,
                "managed_data_redis_auth_token": TOKEN, "summary_runs_dir": str(tmp_path / "runs")}))
            monkeypatch.setattr(network_harness, "REGION", topology["region"])   # its boto3 views, in the example's region
            return {"inventory": inventory, "extra": extra, "kube": kube, "tmp": tmp_path, "name": topology["name"],
                    "region": topology["region"]}

        yield make


def site(stage: dict):
    run = network_harness.playbook("site.yml", stage["inventory"], "-e", f"@{stage['extra']}", timeout=1500)
    assert run.returncode == 0, run.stdout[-5000:] + run.stderr[-2000:]
    assert TOKEN not in run.stdout + run.stderr and PASSWORD not in run.stdout + run.stderr
    return run


def user_parameters(cache) -> dict:
    found = cache.describe_cache_parameters(CacheParameterGroupName="courm-redis-valkey8", Source="user")["Parameters"]
    return {p["ParameterName"]: p["ParameterValue"] for p in found}


def summary(stage: dict) -> dict:
    """The run record summary.yml wrote last (facts.json)."""
    latest = sorted((stage["tmp"] / "runs").iterdir())[-1]
    return json.loads((latest / "facts.json").read_text())["summary"]


def second_run_and_teardown(stage: dict, *teardown_args: str) -> None:
    second = site(stage)
    changed = {host: counters["changed"] for host, counters in recaps(second).items()}
    assert set(changed.values()) == {0}, (changed, second.stdout[-6000:])
    run = network_harness.playbook("teardown.yml", stage["inventory"], "-e", f"confirm_teardown={stage['name']}", *teardown_args,
                                   timeout=900)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]


def assert_skips_said(run, stage: dict) -> None:
    said = " ".join(run.stdout.split())
    assert "Data services on the nodes skipped (msa_site_skip: data_hosts): the EC2 nodes are emulator records" in said
    skipped = {s["layer"]: s for s in summary(stage)["skipped"]}
    assert {layer: skipped[layer]["why"] for layer in SKIP} == {layer: reason["why"] for layer, reason in SKIP.items()}


def test_courm_eks_site(stage):
    courm = stage("courm-eks")
    region = courm["region"]
    first = site(courm)
    assert_skips_said(first, courm)

    # network + compute: the VPC, the EC2 pools EKS does not run (kafka, monitoring, bastion, ci) and the inventory of them
    ec2, eks, rds, cache = (client(s, region) for s in ("ec2", "eks", "rds", "elasticache"))
    assert network_harness.counts("courm") == {"vpcs": 1, "subnets": 15, "route_tables": 5, "nat_gateways": 3, "addresses": 3,
                                               "security_groups": 10, "internet_gateways": 1}
    report = summary(courm)
    nodes = {n["name"]: n for n in report["nodes"]}
    assert sorted(nodes) == ["courm-bastion-1", "courm-jenkins-1", "courm-kafka-1", "courm-kafka-2", "courm-kafka-3", "courm-monitoring-1"]
    running = {i["InstanceId"]: i["PrivateIpAddress"] for r in ec2.describe_instances(Filters=[
        {"Name": "tag:msa:platform", "Values": ["courm"]}, {"Name": "instance-state-name", "Values": ["running"]}])["Reservations"]
        for i in r["Instances"]}
    assert sorted(n["private_ip"] for n in nodes.values()) == sorted(running.values())

    # cluster (EKS): the cluster and its two managed node groups; its API endpoint in the summary
    cluster = eks.describe_cluster(name="courm")["cluster"]
    assert cluster["status"] == "ACTIVE"
    endpoints = {e["name"]: e for e in report["endpoints"]}
    assert (endpoints["kubernetes-api"]["address"], endpoints["kubernetes-api"]["port"]) == (urlsplit(cluster["endpoint"]).hostname, 443)
    assert set(eks.list_nodegroups(clusterName="courm")["nodegroups"]) == {"general", "batch"}

    # add-ons: the charts through helm (stand-in), the ALB controller's IRSA role, the layer's objects in the fake
    upgrades = {c["release"] for c in map(json.loads, (courm["tmp"] / "helm-state" / "calls.jsonl").read_text().splitlines())
                if c["command"] == "upgrade"}
    assert upgrades == {"aws-load-balancer-controller", "metrics-server"}          # no gitops section: no ArgoCD
    assert client("iam", region).get_role(RoleName="courm-aws-load-balancer-controller")["Role"]
    kube = courm["kube"]
    assert ("", "courm") in kube.objects.all("namespaces")
    assert set(kube.objects.all("ingresses")) == {("courm", "frontend-root"), ("courm", "backend-api")}
    assert set(kube.objects.all("storageclasses")) == {("", "gp3")}

    # data: RDS PostgreSQL primary + read replica, ElastiCache replication group
    dbs = {d["DBInstanceIdentifier"]: d for d in rds.describe_db_instances()["DBInstances"]}
    assert set(dbs) == {"courm-postgresql", "courm-postgresql-replica-1"}
    primary, replica = dbs["courm-postgresql"], dbs["courm-postgresql-replica-1"]
    groups = {g["GroupName"]: g["GroupId"] for g in ec2.describe_security_groups(Filters=[
        {"Name": "tag:msa:platform", "Values": ["courm"]}])["SecurityGroups"]}
    assert primary["StorageEncrypted"] and primary["DeletionProtection"] and primary["MasterUserSecret"]["SecretArn"]
    assert primary["DBSubnetGroup"]["DBSubnetGroupName"] == "courm-data" and not primary["PubliclyAccessible"]
    assert [g["DBParameterGroupName"] for g in primary["DBParameterGroups"]] == ["courm-postgresql15"]
    assert [g["VpcSecurityGroupId"] for g in primary["VpcSecurityGroups"]] == [groups["courm-postgresql"]]
    assert replica["ReadReplicaSourceDBInstanceIdentifier"] == "courm-postgresql"
    params = {p["ParameterName"]: p.get("ParameterValue") for p in rds.describe_db_parameters(DBParameterGroupName="courm-postgresql15")["Parameters"]}
    assert params["max_connections"] == "100"
    data_subnets = {s["SubnetId"] for s in ec2.describe_subnets(Filters=[{"Name": "tag:Name", "Values": ["courm-data-*"]}])["Subnets"]}
    group_subnets = {s["SubnetIdentifier"] for s in rds.describe_db_subnet_groups(DBSubnetGroupName="courm-data")["DBSubnetGroups"][0]["Subnets"]}
    assert group_subnets == data_subnets and len(data_subnets) == 3
    group = cache.describe_replication_groups(ReplicationGroupId="courm-redis")["ReplicationGroups"][0]
    assert group["MemberClusters"] == ["courm-redis-001", "courm-redis-002"]
    assert group["AutomaticFailover"] == "enabled" and group["MultiAZ"] == "enabled"
    assert group["TransitEncryptionEnabled"] and group["AtRestEncryptionEnabled"] and group["AuthTokenEnabled"]
    member = cache.describe_cache_clusters(CacheClusterId="courm-redis-001")["CacheClusters"][0]
    assert [g["SecurityGroupId"] for g in member["SecurityGroups"]] == [groups["courm-redis"]] and member["Engine"] == "valkey"
    # the cache parameter group of the engine's family holds services.redis.maxmemory_policy, tagged for the teardown
    assert member["CacheParameterGroup"]["CacheParameterGroupName"] == "courm-redis-valkey8"
    cache_pg = cache.describe_cache_parameter_groups(CacheParameterGroupName="courm-redis-valkey8")["CacheParameterGroups"][0]
    assert cache_pg["CacheParameterGroupFamily"] == "valkey8"
    assert {"Key": "msa:platform", "Value": "courm"} in cache.list_tags_for_resource(ResourceName=cache_pg["ARN"])["TagList"]
    assert user_parameters(cache) == {"maxmemory-policy": "noeviction"}
    assert "Skipped against the emulator (no PostgreSQL server behind courm-postgresql): on AWS this step creates courm" in first.stdout

    # summary: the managed endpoints, at the addresses RDS and ElastiCache answer
    assert endpoints["courm-postgresql"]["address"] == primary["Endpoint"]["Address"]
    assert endpoints["courm-postgresql"]["kind"] == "postgresql-writer"
    assert endpoints["courm-postgresql-replica-1"]["address"] == replica["Endpoint"]["Address"]
    assert endpoints["courm-redis"]["address"] == group["NodeGroups"][0]["PrimaryEndpoint"]["Address"]
    assert [p["phase"] for p in report["phases"]] == ["network", "compute", "hosts", "cluster", "addons", "domains", "ci", "data",
                                                      "access", "monitoring", "summary"]

    # A cache parameter changed by hand, one added and the platform tag removed (teardown finds the group by it): the
    # data layer puts the group back as the topology says.
    cache.modify_cache_parameter_group(CacheParameterGroupName="courm-redis-valkey8", ParameterNameValues=[
        {"ParameterName": "maxmemory-policy", "ParameterValue": "allkeys-lru"}, {"ParameterName": "timeout", "ParameterValue": "300"}])
    cache.remove_tags_from_resource(ResourceName=cache_pg["ARN"], TagKeys=["msa:platform"])
    repaired = network_harness.playbook("managed_data.yml", courm["inventory"], "-e", f"@{courm['extra']}", timeout=900)
    assert repaired.returncode == 0, repaired.stdout[-4000:]
    assert recaps(repaired)["localhost"]["changed"] == 1 and user_parameters(cache) == {"maxmemory-policy": "noeviction"}
    assert {"Key": "msa:platform", "Value": "courm"} in cache.list_tags_for_resource(ResourceName=cache_pg["ARN"])["TagList"]

    # Deletion protection holds teardown back until asked; then nothing is left but the final snapshot, kept on purpose.
    refused = network_harness.playbook("teardown.yml", courm["inventory"], "-e", "confirm_teardown=courm", timeout=900)
    assert refused.returncode != 0 and "RDS deletion protection is on for courm-postgresql-replica-1, courm-postgresql" in refused.stdout
    assert len(rds.describe_db_instances()["DBInstances"]) == 2
    second_run_and_teardown(courm, "-e", "teardown_delete_protected=true")
    assert rds.describe_db_instances()["DBInstances"] == [] and cache.describe_replication_groups()["ReplicationGroups"] == []
    assert rds.describe_db_subnet_groups()["DBSubnetGroups"] == [] and cache.describe_cache_subnet_groups()["CacheSubnetGroups"] == []
    assert rds.describe_db_parameter_groups()["DBParameterGroups"] == []
    assert [g["CacheParameterGroupName"] for g in cache.describe_cache_parameter_groups()["CacheParameterGroups"]
            if not g["CacheParameterGroupName"].startswith("default.")] == []
    snapshots = [s["DBSnapshotIdentifier"] for s in rds.describe_db_snapshots()["DBSnapshots"]]
    assert len(snapshots) == 1 and snapshots[0].startswith("courm-postgresql-final-")
    assert eks.list_clusters()["clusters"] == []
    assert [arn for arn in network_harness.leftovers("courm") if f":snapshot:{snapshots[0]}" not in arn] == []


def test_domains_eks_site(stage):
    domains = stage("domains-eks")
    region = domains["region"]
    first = site(domains)
    assert_skips_said(first, domains)
    ecr, s3, iam, eks = (client(s, region) for s in ("ecr", "s3", "iam", "eks"))

    assert network_harness.counts("domains")["subnets"] == 6
    report = summary(domains)
    assert [n["name"] for n in report["nodes"]] == ["domains-postgresql-1"] and report["nodes"][0]["private_ip"] != "(not running)"
    assert set(eks.list_nodegroups(clusterName="domains")["nodegroups"]) == {"system", "order", "product", "user"}

    # add-ons: ArgoCD (gitops), the domains' namespaces and the ApplicationSet in the fake
    kube = domains["kube"]
    assert {("", d) for d in ("order", "product", "user")} <= set(kube.objects.all("namespaces"))
    assert kube.objects.all("applicationsets")

    # domains: ECR repositories, S3 buckets, IRSA workload roles
    issuer = eks.describe_cluster(name="domains")["cluster"]["identity"]["oidc"]["issuer"].removeprefix("https://")
    repos = {r["repositoryName"]: r for r in ecr.describe_repositories()["repositories"]}
    assert sorted(repos) == ["domains/order/order-api", "domains/order/order-worker", "domains/product/product-api",
                             "domains/product/product-search", "domains/user/user-api"]
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
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {"Effect": "Allow", "Principal": {"Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/{issuer}"},
         "Action": "sts:AssumeRoleWithWebIdentity",
         "Condition": {"StringEquals": {f"{issuer}:sub": "system:serviceaccount:order:order", f"{issuer}:aud": "sts.amazonaws.com"}}}]
    assert iam.list_attached_role_policies(RoleName="domains-order-workload")["AttachedPolicies"] == []
    policy = iam.get_role_policy(RoleName="domains-order-workload", PolicyName="domain-resources")["PolicyDocument"]
    assert {s["Sid"]: s["Resource"] for s in policy["Statement"]} == {
        "ListOwnBucket": f"arn:aws:s3:::domains-order-{ACCOUNT}",
        "ObjectsOfOwnBucket": f"arn:aws:s3:::domains-order-{ACCOUNT}/*",
        "EcrLogin": "*",
        "OwnRepositories": [f"arn:aws:ecr:{region}:{ACCOUNT}:repository/domains/order/order-api",
                            f"arn:aws:ecr:{region}:{ACCOUNT}:repository/domains/order/order-worker"]}
    # summary: each repository's URI and each bucket's endpoint
    listed = {e["kind"]: set() for e in summary(domains)["endpoints"]}
    for endpoint in summary(domains)["endpoints"]:
        listed[endpoint["kind"]].add(endpoint["address"])
    assert listed["ecr"] == {repo["repositoryUri"] for repo in repos.values()}
    assert listed["s3"] == {f"{bucket}.s3.{region}.amazonaws.com" for bucket in buckets}
    assert "https" in listed                                            # the EKS API endpoint
    # The bucket policy is enforced: the emulator is plain HTTP, so even the owner cannot write.
    with pytest.raises(ClientError) as denied:
        s3.put_object(Bucket=f"domains-order-{ACCOUNT}", Key="documents/invoice.pdf", Body=b"%PDF")
    assert denied.value.response["Error"]["Code"] in ("403", "AccessDenied")

    second_run_and_teardown(domains)
    assert ecr.describe_repositories()["repositories"] == [] and s3.list_buckets()["Buckets"] == []
    assert [r["RoleName"] for r in iam.list_roles()["Roles"] if r["RoleName"].startswith("domains-")] == []
    assert eks.list_clusters()["clusters"] == [] and network_harness.leftovers("domains") == []
