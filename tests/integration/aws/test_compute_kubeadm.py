"""network.yml + compute.yml of ecoeco-kubeadm against the emulator, as a kubeadm cluster needs them (issue 13 / 12):
the API NLB with its target group and targets, kubernetes.io/cluster tags, security groups per Calico encapsulation,
instance profiles with cloud-provider-aws's policies, IMDS hop limit 1, the source/destination check, a converged
second run, the aws_compute_api_endpoint fact; teardown leaves no IAM role, profile, policy, NLB or target group, and a
rebuild gives every node a profile holding its role. Everything is asserted through boto3."""
from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pytest
import yaml
from network_harness import REGION, ROOT, URL, ansible_env, recap

sys.path.insert(0, str(ROOT / "tests" / "fakes"))
from aws_fault_proxy import FaultProxy

# benchmarks/aws_calls.py's goal for a converged compute run without an API NLB (subnets, groups, AMI, key pair, IAM, instances)
CONVERGED_CALLS = 10

pytestmark = pytest.mark.emulator

EXAMPLE = ROOT / "inventories" / "examples" / "ecoeco-kubeadm" / "group_vars" / "all" / "topology.yml"
SSM = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
CLUSTER_TAG = "kubernetes.io/cluster/ecoeco"
K8S_ROLES = ("control_plane", "worker", "api")


def client(service):
    return boto3.client(service, endpoint_url=URL, region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing")


def make_inventory(tmp_path, masters: int, **kubernetes) -> Path:
    """ecoeco-kubeadm with `masters` control planes and extra kubernetes settings, pointed at the emulator's AMIs."""
    topo = yaml.safe_load(EXAMPLE.read_text())
    topo["platform"]["pools"][0]["count"] = masters
    topo["platform"]["kubernetes"].update(kubernetes)
    inv = tmp_path / "inventory"
    (inv / "group_vars" / "all").mkdir(parents=True)
    (inv / "group_vars" / "all" / "topology.yml").write_text(yaml.safe_dump(topo))
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "key")], check=True)
    (inv / "group_vars" / "all" / "compute.yml").write_text(yaml.safe_dump({
        "aws_compute_ami_name": "ubuntu/images/hvm-ssd/ubuntu-xenial-16.04-amd64-server-*",
        "aws_compute_ami_owner": "099720109477", "aws_compute_public_key_file": str(tmp_path / "key.pub")}))
    (inv / "hosts.yml").write_text(yaml.safe_dump({"all": {"hosts": {"localhost": {
        "ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"}}}}))
    return inv


def play(inv, name: str, *args: str, endpoint: str = URL) -> subprocess.CompletedProcess:
    path = name if name.startswith("/") else str(ROOT / "playbooks" / name)
    start = time.monotonic()
    run = subprocess.run([str(ROOT / ".venv" / "bin" / "ansible-playbook"), "-i", str(inv), path, *args], cwd=ROOT,
                         env=ansible_env(endpoint), capture_output=True, text=True, timeout=900, check=False)
    print(f"{name} {' '.join(args)}: {time.monotonic() - start:.1f} s")
    fatal = "\n".join(line for line in run.stdout.splitlines() if line.startswith(("fatal", "failed:")))
    assert run.returncode == 0, fatal[-6000:] or run.stdout[-5000:] + run.stderr[-2000:]
    return run


def api_endpoint(inv, tmp_path) -> str:
    """The fact the cluster layers read, through the role's api_endpoint entry point."""
    book = tmp_path / "endpoint.yml"
    book.write_text(yaml.safe_dump([{"hosts": "localhost", "gather_facts": False, "tasks": [
        {"msa.platform.topology": {"topology": "{{ platform }}"}},
        {"ansible.builtin.include_role": {"name": "msa.platform.aws_compute", "tasks_from": "api_endpoint"},
         "vars": {"aws_compute_name": "{{ msa_plan.name }}", "aws_compute_region": "{{ msa_plan.region }}",
                  "aws_compute_kubernetes": "{{ msa_plan.kubernetes }}"}},
        {"ansible.builtin.debug": {"msg": "ENDPOINT={{ aws_compute_api_endpoint | to_json }}"}}]}]))
    out = play(inv, str(book)).stdout
    line = next(line for line in out.splitlines() if "ENDPOINT=" in line)
    return json.loads(json.loads(line.split(": ", 1)[1])[len("ENDPOINT="):])


def instances() -> dict:
    out = {}
    for res in client("ec2").describe_instances(Filters=[{"Name": "tag:msa:platform", "Values": ["ecoeco"]},
                                                         {"Name": "instance-state-name", "Values": ["pending", "running"]}])["Reservations"]:
        for inst in res["Instances"]:
            tags = {t["Key"]: t["Value"] for t in inst.get("Tags", [])}
            out[tags["Name"]] = dict(inst, tags=tags)
    return out


def groups() -> dict:
    found = client("ec2").describe_security_groups(Filters=[{"Name": "tag:msa:platform", "Values": ["ecoeco"]}])["SecurityGroups"]
    return {g["GroupName"]: g for g in found}


def ingress(group: dict) -> set:
    """{(proto, from_port, source group name or CIDR)} of a security group."""
    names = {g["GroupId"]: name for name, g in groups().items()}
    out = set()
    for perm in group["IpPermissions"]:
        for pair in perm.get("UserIdGroupPairs", []):
            out.add((perm["IpProtocol"], perm.get("FromPort", -1), names[pair["GroupId"]]))
        for rng in perm.get("IpRanges", []):
            out.add((perm["IpProtocol"], perm.get("FromPort", -1), rng["CidrIp"]))
    return out


def profile_of(inst: dict) -> str:
    return inst["IamInstanceProfile"]["Arn"].rsplit("/", 1)[-1]


def assert_nodes(count: int, sdc_k8s: bool, hops: dict | None = None, vpn: bool = False) -> dict:
    found = instances()
    assert len(found) == count  # ecoeco: 13 nodes besides the control planes
    iam = client("iam")
    for name, inst in found.items():
        role = inst["tags"]["msa:role"]
        k8s = role in K8S_ROLES
        kind = {"control_plane": "control-plane", "worker": "node", "api": "node"}.get(role, "host")
        assert profile_of(inst) == f"ecoeco-{kind}", name
        profile = iam.get_instance_profile(InstanceProfileName=f"ecoeco-{kind}")["InstanceProfile"]
        assert [r["RoleName"] for r in profile["Roles"]] == [f"ecoeco-{kind}"]
        assert inst["MetadataOptions"]["HttpTokens"] == "required"
        assert inst["MetadataOptions"]["HttpPutResponseHopLimit"] == (hops or {}).get(inst["tags"]["msa:pool"], 1), name
        sdc = client("ec2").describe_instance_attribute(InstanceId=inst["InstanceId"], Attribute="sourceDestCheck")
        assert sdc["SourceDestCheck"]["Value"] is (sdc_k8s if k8s else not (vpn and role == "bastion")), name
        assert inst["tags"].get(CLUSTER_TAG) == ("owned" if k8s else None), name
    return found


def assert_iam() -> None:
    iam = client("iam")
    for kind in ("control-plane", "node", "host"):
        name = f"ecoeco-{kind}"
        assert {t["Key"]: t["Value"] for t in iam.list_role_tags(RoleName=name)["Tags"]}["msa:platform"] == "ecoeco"
        profile = iam.get_instance_profile(InstanceProfileName=name)["InstanceProfile"]
        assert {t["Key"]: t["Value"] for t in profile.get("Tags", [])}["msa:platform"] == "ecoeco"
        assert [p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]] == [SSM]
        inline = iam.list_role_policies(RoleName=name)["PolicyNames"]
        assert inline == {"host": [], "node": ["cloud-provider-aws"], "control-plane": ["cloud-provider-aws", "etcd-backup-upload"]}[kind], name
    # etcd_backup (kubernetes.etcd_backup.s3, default true): the control planes may only put snapshots into their bucket
    upload = iam.get_role_policy(RoleName="ecoeco-control-plane", PolicyName="etcd-backup-upload")["PolicyDocument"]
    upload = json.loads(upload) if isinstance(upload, str) else upload
    assert upload["Statement"] == [{"Sid": "PutEtcdSnapshots", "Effect": "Allow", "Action": "s3:PutObject",
                                    "Resource": "arn:aws:s3:::ecoeco-etcd-*/etcd/*",
                                    "Condition": {"StringEquals": {"s3:ResourceAccount": "${aws:PrincipalAccount}"}}}]
    plane = iam.get_role_policy(RoleName="ecoeco-control-plane", PolicyName="cloud-provider-aws")["PolicyDocument"]
    plane = json.loads(plane) if isinstance(plane, str) else plane
    for statement in plane["Statement"]:
        actions = [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]
        assert all("*" not in a for a in actions)  # no wildcard actions
        if statement["Sid"] == "Read":
            assert all(a.split(":")[1].startswith("Describe") for a in actions)
        if statement["Sid"] == "ChangeClusterResources":
            assert statement["Condition"] == {"StringEquals": {"aws:ResourceTag/" + CLUSTER_TAG: "owned"}}
    node = iam.get_role_policy(RoleName="ecoeco-node", PolicyName="cloud-provider-aws")["PolicyDocument"]
    node = json.loads(node) if isinstance(node, str) else node
    assert all(a.split(":")[1].startswith(("Describe", "Get", "BatchGet", "BatchCheck", "List")) for s in node["Statement"] for a in s["Action"])


def test_ha_control_plane_behind_an_nlb_then_teardown_and_rebuild(aws, tmp_path):
    inv = make_inventory(tmp_path, masters=3)
    play(inv, "network.yml")
    play(inv, "compute.yml")
    found = assert_nodes(16, sdc_k8s=False)
    assert_iam()
    planes = sorted(i["InstanceId"] for n, i in found.items() if i["tags"]["msa:role"] == "control_plane")
    assert len(planes) == 3

    elbv2 = client("elbv2")
    lbs = elbv2.describe_load_balancers(Names=["ecoeco-api"])["LoadBalancers"]
    assert [(lb["Type"], lb["Scheme"]) for lb in lbs] == [("network", "internal")]
    lb = lbs[0]
    subnets = {s["SubnetId"]: s for s in client("ec2").describe_subnets(SubnetIds=[z["SubnetId"] for z in lb["AvailabilityZones"]])["Subnets"]}
    assert sorted({t["Value"] for s in subnets.values() for t in s["Tags"] if t["Key"] == "Name"}) == ["ecoeco-app-a", "ecoeco-app-c"]
    tags = {t["Key"]: t["Value"] for t in elbv2.describe_tags(ResourceArns=[lb["LoadBalancerArn"]])["TagDescriptions"][0]["Tags"]}
    assert tags["msa:platform"] == "ecoeco" and CLUSTER_TAG not in tags
    tg = elbv2.describe_target_groups(Names=["ecoeco-api"])["TargetGroups"][0]
    assert (tg["Protocol"], tg["Port"], tg["HealthCheckProtocol"], tg["TargetType"]) == ("TCP", 6443, "TCP", "instance")
    attrs = {a["Key"]: a["Value"] for a in elbv2.describe_target_group_attributes(TargetGroupArn=tg["TargetGroupArn"])["Attributes"]}
    assert attrs["preserve_client_ip.enabled"] == "false"
    listeners = elbv2.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]
    assert [(x["Protocol"], x["Port"], x["DefaultActions"][0]["TargetGroupArn"]) for x in listeners] == [("TCP", 6443, tg["TargetGroupArn"])]
    targets = elbv2.describe_target_health(TargetGroupArn=tg["TargetGroupArn"])["TargetHealthDescriptions"]
    assert sorted(t["Target"]["Id"] for t in targets) == planes

    sgs = groups()
    assert {t["Key"]: t["Value"] for t in sgs["ecoeco-k8s"]["Tags"]}.get(CLUSTER_TAG) == "owned"
    assert all(CLUSTER_TAG not in {t["Key"] for t in g["Tags"]} for name, g in sgs.items() if name != "ecoeco-k8s")
    assert ingress(sgs["ecoeco-k8s"]) == {("-1", -1, "ecoeco-k8s"), ("-1", -1, "192.168.0.0/16"), ("tcp", 30000, "ecoeco-lb"),
                                          ("tcp", 10256, "ecoeco-lb")}
    assert ingress(sgs["ecoeco-control-plane"]) == {("tcp", 6443, "ecoeco-k8s"), ("tcp", 6443, "10.0.4.0/24"), ("tcp", 6443, "10.0.5.0/24"),
                                                    ("tcp", 2379, "ecoeco-control-plane")}
    app = [s for s in client("ec2").describe_subnets(Filters=[{"Name": "tag:msa:platform", "Values": ["ecoeco"]}])["Subnets"]
           if {t["Key"]: t["Value"] for t in s["Tags"]}.get("msa:tier") in ("app", "public")]
    assert app and all({t["Key"]: t["Value"] for t in s["Tags"]}[CLUSTER_TAG] == "owned" for s in app)

    second = play(inv, "compute.yml")
    assert recap(second)["changed"] == 0, second.stdout[-6000:]
    assert api_endpoint(inv, tmp_path) == lb["DNSName"]

    # a control plane terminated by hand is deregistered and replaced by the next run
    client("ec2").terminate_instances(InstanceIds=[planes[0]])
    play(inv, "compute.yml")
    planes_now = sorted(i["InstanceId"] for i in instances().values() if i["tags"]["msa:role"] == "control_plane")
    assert planes[0] not in planes_now and len(planes_now) == 3
    targets = elbv2.describe_target_health(TargetGroupArn=tg["TargetGroupArn"])["TargetHealthDescriptions"]
    assert sorted(t["Target"]["Id"] for t in targets) == planes_now

    play(inv, "teardown.yml", "-e", "confirm_teardown=ecoeco")
    iam = client("iam")
    assert [r["RoleName"] for r in iam.list_roles()["Roles"] if r["RoleName"].startswith("ecoeco")] == []
    assert [p["InstanceProfileName"] for p in iam.list_instance_profiles()["InstanceProfiles"]] == []
    assert [p["PolicyName"] for p in iam.list_policies(Scope="Local")["Policies"]] == []
    assert elbv2.describe_load_balancers()["LoadBalancers"] == [] and elbv2.describe_target_groups()["TargetGroups"] == []

    play(inv, "network.yml")
    play(inv, "compute.yml")
    assert_nodes(16, sdc_k8s=False)
    assert_iam()


def vpn_routes() -> dict:
    """{route table Name: [(target instance, state) of its 10.250.0.0/24 routes]} of every ecoeco table."""
    tables = client("ec2").describe_route_tables(Filters=[{"Name": "tag:msa:platform", "Values": ["ecoeco"]}])["RouteTables"]
    return {{t["Key"]: t["Value"] for t in table["Tags"]}["Name"]: [(r.get("InstanceId"), r.get("State")) for r in table["Routes"]
                                                                    if r.get("DestinationCidrBlock") == "10.250.0.0/24"]
            for table in tables}


def test_single_control_plane_vxlan_no_nlb_and_drift_repaired(aws, tmp_path):
    """Also access: vpn: the VPC routes the client range to the OpenVPN server (a bastion node, its check off)."""
    inv = make_inventory(tmp_path, masters=1, calico={"encapsulation": "VXLAN"})
    topo_file = inv / "group_vars" / "all" / "topology.yml"
    topo = yaml.safe_load(topo_file.read_text())
    next(p for p in topo["platform"]["pools"] if p["name"] == "ai")["imds_hop_limit"] = 2
    topo["platform"]["network"].update(access="vpn", vpn={"users": ["alice"]})
    topo_file.write_text(yaml.safe_dump(topo))
    network = play(inv, "network.yml")
    assert "routes to ecoeco-bastion-1 left out" in " ".join((network.stdout + network.stderr).split())   # not launched yet
    assert {name: routes for name, routes in vpn_routes().items() if routes} == {}
    play(inv, "compute.yml")
    found = assert_nodes(15, sdc_k8s=True, hops={"ai": 2}, vpn=True)
    server = found["ecoeco-bastion-1"]["InstanceId"]
    routes = vpn_routes()
    assert sorted(routes) == ["ecoeco-data", "ecoeco-private-a", "ecoeco-private-c", "ecoeco-public"]
    assert all(r == [(server, "active")] for r in routes.values()), routes
    # the network layer wants the same routes: it only puts back the one removed by hand
    ec2 = client("ec2")
    data = ec2.describe_route_tables(Filters=[{"Name": "tag:Name", "Values": ["ecoeco-data"]}])["RouteTables"][0]["RouteTableId"]
    ec2.delete_route(RouteTableId=data, DestinationCidrBlock="10.250.0.0/24")
    assert recap(play(inv, "network.yml"))["changed"] == 1
    assert vpn_routes() == routes
    assert_iam()
    elbv2 = client("elbv2")
    assert elbv2.describe_load_balancers()["LoadBalancers"] == [] and elbv2.describe_target_groups()["TargetGroups"] == []
    sgs = groups()
    assert ingress(sgs["ecoeco-k8s"]) == {("tcp", 10250, "ecoeco-k8s"), ("tcp", 5473, "ecoeco-k8s"), ("udp", 4789, "ecoeco-k8s"),
                                          ("tcp", 30000, "ecoeco-k8s"), ("tcp", 30000, "ecoeco-lb"), ("tcp", 10256, "ecoeco-lb")}
    assert ingress(sgs["ecoeco-control-plane"]) == {("tcp", 6443, "ecoeco-k8s"), ("tcp", 2379, "ecoeco-control-plane")}
    assert api_endpoint(inv, tmp_path) == ""

    # drift: a node that lost its profile, one with hop limit 2, one with a changed source/destination check
    auth, chat, storage = found["ecoeco-auth-1"]["InstanceId"], found["ecoeco-chat-1"]["InstanceId"], found["ecoeco-storage-1"]["InstanceId"]
    assoc = ec2.describe_iam_instance_profile_associations(Filters=[{"Name": "instance-id", "Values": [auth]}])["IamInstanceProfileAssociations"]
    ec2.disassociate_iam_instance_profile(AssociationId=assoc[0]["AssociationId"])
    ec2.modify_instance_metadata_options(InstanceId=chat, HttpPutResponseHopLimit=2, HttpTokens="required")
    ec2.modify_instance_attribute(InstanceId=storage, SourceDestCheck={"Value": False})
    repaired = play(inv, "compute.yml")
    assert recap(repaired)["changed"] >= 1
    assert_nodes(15, sdc_k8s=True, hops={"ai": 2}, vpn=True)
    with FaultProxy(URL, rate=0.0) as proxy:   # counting only: a converged compute run reads once per kind
        converged = play(inv, "compute.yml", endpoint=proxy.url)
    assert recap(converged)["changed"] == 0, converged.stdout[-6000:]
    calls = proxy.stats["calls"]
    assert sum(calls.values()) <= CONVERGED_CALLS, calls
    assert not [op for op in calls if not op.split(":", 1)[1].startswith(("Describe", "Get", "List"))], calls


def test_api_endpoint_is_empty_until_the_nlb_exists(aws, tmp_path):
    inv = make_inventory(tmp_path, masters=3)
    assert api_endpoint(inv, tmp_path) == ""
