# Copyright: msa.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Delete every AWS resource of one platform, dependents first, then prove nothing tagged is left.

The platform is found by its tag (msa:platform=<name>): its VPCs, then everything inside them whether
tagged or not (a run interrupted between a create and its tagging, load balancers and ENIs that
Kubernetes made), plus tagged resources outside any VPC (Elastic IPs, key pairs, volumes, IAM roles and
instance profiles, EKS clusters) and untagged instance profiles that hold a tagged role. The order walks the build backwards:

    EKS add-ons, node groups, access entries, OIDC provider, clusters, launch templates -> load balancers, target groups -> instances -> NAT gateways
    -> Elastic IPs -> leftover ENIs -> internet gateways -> subnets -> route tables
    -> security groups (cross references revoked first) -> VPC -> volumes, key pairs
    -> the domains' ECR repositories (with their images) and S3 buckets (emptied of every version) -> IAM

Every step re-reads what is there, so a partial build or a second run is fine: absent things are
skipped. `Teardown.find()` only reads (check mode); `Teardown.run()` deletes; `Teardown.sweep()` lists
whatever still carries the tag.

Clients are plain boto3 clients (ec2, elbv2, elb, iam, eks, resourcegroupstaggingapi). Retries come from
the clients: botocore's retry config (standard/adaptive, max_attempts) and, in the module, amazon.aws
AWSRetry. `call()` passes aws_retry=True when the client is wrapped by AWSRetry.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional

try:
    from botocore.exceptions import ClientError
except ImportError:  # the module reports a missing botocore through AnsibleAWSModule before any call
    ClientError = Exception

TAG = "msa:platform"
ORDER = (
    "eks_addons", "eks_nodegroups", "eks_access_entries", "oidc_providers", "eks_clusters", "launch_templates",
    "load_balancers", "classic_load_balancers", "target_groups", "instances", *("rds_replicas", "rds_instances", "elasticache_groups"),
    *("rds_subnet_groups", "rds_parameter_groups", "elasticache_subnet_groups", "elasticache_parameter_groups"),
    "nat_gateways", "addresses", "network_interfaces", "internet_gateways", "subnets", "route_tables",
    "security_groups", "vpcs", "volumes", "key_pairs", "ecr_repositories", "s3_buckets", "instance_profiles", "iam_roles",
    "iam_policies", "etcd_buckets",
)
KIND_LABELS = {
    "eks_addons": "EKS add-on", "eks_access_entries": "EKS access entry", "oidc_providers": "IAM OIDC provider",
    "launch_templates": "launch template", "eks_nodegroups": "EKS node group", "eks_clusters": "EKS cluster", "load_balancers": "load balancer",
    "classic_load_balancers": "classic load balancer", "target_groups": "target group", "instances": "instance",
    "nat_gateways": "NAT gateway", "addresses": "Elastic IP", "network_interfaces": "network interface",
    "internet_gateways": "internet gateway", "subnets": "subnet", "route_tables": "route table",
    "security_groups": "security group", "vpcs": "VPC", "volumes": "volume", "key_pairs": "key pair",
    "instance_profiles": "instance profile", "iam_roles": "IAM role", "iam_policies": "IAM policy",
    "etcd_buckets": "etcd snapshot bucket",
    "rds_replicas": "RDS read replica", "rds_instances": "RDS instance", "elasticache_groups": "ElastiCache replication group",
    "rds_subnet_groups": "RDS subnet group", "rds_parameter_groups": "RDS parameter group",
    "elasticache_subnet_groups": "ElastiCache subnet group", "elasticache_parameter_groups": "ElastiCache parameter group",
    "ecr_repositories": "ECR repository", "s3_buckets": "S3 bucket",
}
_GONE_INSTANCE = ("terminated",)
# Final snapshots teardown takes of RDS primaries / ElastiCache groups (<id>-final-<UTC stamp>) are data, kept on purpose.
FINAL_SNAPSHOT = re.compile(r"arn:aws[a-z-]*:(rds|elasticache):[a-z0-9-]+:[0-9]{12}:snapshot:[a-z0-9-]+-final-[0-9]{14}")
_GONE_NAT = ("deleted", "failed")


class TeardownError(Exception):
    """A step could not finish (a wait timed out, a resource refuses to go); the message says which."""


@dataclass
class Clients:
    ec2: Any
    elbv2: Any = None
    elb: Any = None
    iam: Any = None
    eks: Any = None
    tagging: Any = None
    s3: Any = None
    rds: Any = None
    elasticache: Any = None
    ecr: Any = None
    retrying: bool = False   # clients are amazon.aws RetryingBotoClientWrapper: pass aws_retry=True


def call(clients: Clients, client: Any, operation: str, **params) -> Dict[str, Any]:
    method = getattr(client, operation)
    if clients.retrying:
        return method(aws_retry=True, **params)
    return method(**params)


def pages(clients: Clients, client: Any, operation: str, key: str, token: str = "NextToken", out_token: Optional[str] = None,
          **params) -> List[Dict[str, Any]]:
    """Every item of a paginated list call, through call() so retries apply to each page."""
    items: List[Dict[str, Any]] = []
    out_token = out_token or token
    while True:
        page = call(clients, client, operation, **params)
        items.extend(page.get(key, []))
        nxt = page.get(out_token)
        if not nxt:
            return items
        params[token] = nxt


def tag_filter(name: str) -> Dict[str, Any]:
    return {"Name": f"tag:{TAG}", "Values": [name]}


def tags_of(resource: Dict[str, Any]) -> Dict[str, str]:
    return {t["Key"]: t["Value"] for t in resource.get("Tags") or resource.get("TagList") or []}


def ours(items: List[Dict[str, Any]], platform: str) -> List[Dict[str, Any]]:
    """Re-check a tag-filtered answer: an endpoint that ignores a filter must not widen the teardown."""
    return [item for item in items if tags_of(item).get(TAG) == platform]


def label(kind: str, rid: str, resource: Optional[Dict[str, Any]] = None) -> str:
    name = tags_of(resource or {}).get("Name")
    return f"{kind} {rid}" + (f" ({name})" if name else "")


@dataclass
class Teardown:
    clients: Clients
    platform: str
    wait_timeout: float = 900.0
    poll: float = 2.0
    sleep: Callable[[float], None] = time.sleep
    log: List[str] = field(default_factory=list)
    _terminated: set = field(default_factory=set)   # instances this run terminated (and waited for), and their volumes
    # Managed data: delete RDS instances with deletion protection on (else refuse), and take final snapshots.
    delete_protected: bool = False
    rds_final_snapshot: bool = True
    elasticache_final_snapshot: bool = True
    snapshots: List[str] = field(default_factory=list)

    # ---------------------------------------------------------------- discovery (read only)
    def _ec2(self, operation: str, key: str, **params) -> List[Dict[str, Any]]:
        return pages(self.clients, self.clients.ec2, operation, key, **params)

    def vpcs(self) -> List[Dict[str, Any]]:
        return ours(self._ec2("describe_vpcs", "Vpcs", Filters=[tag_filter(self.platform)]), self.platform)

    def _in_vpcs_or_tagged(self, operation: str, key: str, id_key: str, vpcs: List[str], vpc_filter: str = "vpc-id",
                           extra: Optional[List[Dict[str, Any]]] = None) -> List[Dict[str, Any]]:
        """Resources inside the platform's VPCs (tagged or not) plus tagged ones anywhere, once each."""
        found: Dict[str, Dict[str, Any]] = {}
        for item in ours(self._ec2(operation, key, Filters=[tag_filter(self.platform)] + (extra or [])), self.platform):
            found.setdefault(item[id_key], item)
        if vpcs:
            for item in self._ec2(operation, key, Filters=[{"Name": vpc_filter, "Values": vpcs}] + (extra or [])):
                found.setdefault(item[id_key], item)
        return list(found.values())

    def find(self) -> Dict[str, List[Dict[str, Any]]]:
        """Everything teardown would delete, by kind, as {id, label} dicts (also the check-mode answer)."""
        vpc_list = self.vpcs()
        vpcs = [v["VpcId"] for v in vpc_list]
        out: Dict[str, List[Dict[str, Any]]] = {kind: [] for kind in ORDER}

        def add(kind: str, rid: str, resource: Optional[Dict[str, Any]] = None, **extra: Any) -> None:
            out[kind].append({"id": rid, "label": label(KIND_LABELS[kind], rid, resource), **extra})

        self._find_eks(add)
        self._find_managed_data(add, vpcs)
        elbv2, elb = self.clients.elbv2, self.clients.elb
        for lb in self._elb_in_vpcs(elbv2, "describe_load_balancers", "LoadBalancers", "VpcId", vpcs):
            add("load_balancers", lb["LoadBalancerArn"], name=lb["LoadBalancerName"])
        for lb in self._elb_in_vpcs(elb, "describe_load_balancers", "LoadBalancerDescriptions", "VPCId", vpcs):
            add("classic_load_balancers", lb["LoadBalancerName"])
        for tg in self._elb_in_vpcs(elbv2, "describe_target_groups", "TargetGroups", "VpcId", vpcs):
            add("target_groups", tg["TargetGroupArn"], name=tg["TargetGroupName"])
        for inst in self._instances(vpcs):   # with the volumes EC2 deletes when it terminates the instance
            add("instances", inst["InstanceId"], inst, volumes=[m["Ebs"]["VolumeId"] for m in inst.get("BlockDeviceMappings", [])
                                                                if m.get("Ebs", {}).get("DeleteOnTermination") and m["Ebs"].get("VolumeId")])
        nats = self._nat_gateways(vpcs)
        for nat in nats:
            add("nat_gateways", nat["NatGatewayId"], nat)
        for address in self._addresses(nats):
            add("addresses", address["AllocationId"], address)
        for eni in self._network_interfaces(vpcs):
            add("network_interfaces", eni["NetworkInterfaceId"], eni)
        for igw in self._in_vpcs_or_tagged("describe_internet_gateways", "InternetGateways", "InternetGatewayId", vpcs,
                                           vpc_filter="attachment.vpc-id"):
            add("internet_gateways", igw["InternetGatewayId"], igw,
                vpcs=[a["VpcId"] for a in igw.get("Attachments", []) if a.get("State") != "detached"])
        for subnet in self._in_vpcs_or_tagged("describe_subnets", "Subnets", "SubnetId", vpcs):
            add("subnets", subnet["SubnetId"], subnet)
        for table in self._in_vpcs_or_tagged("describe_route_tables", "RouteTables", "RouteTableId", vpcs):
            if not any(a.get("Main") for a in table.get("Associations", [])):
                add("route_tables", table["RouteTableId"], table,
                    associations=[(a["RouteTableAssociationId"], a.get("SubnetId", "")) for a in table.get("Associations", [])
                                  if not a.get("Main")])
        for group in self._in_vpcs_or_tagged("describe_security_groups", "SecurityGroups", "GroupId", vpcs):
            if group["GroupName"] != "default":
                add("security_groups", group["GroupId"], group, name=group["GroupName"],
                    ingress=group.get("IpPermissions", []), egress=group.get("IpPermissionsEgress", []))
        for vpc in vpc_list:
            add("vpcs", vpc["VpcId"], vpc)
        for volume in ours(self._ec2("describe_volumes", "Volumes", Filters=[tag_filter(self.platform)]), self.platform):
            attachments = [{"InstanceId": a["InstanceId"], "DeleteOnTermination": a.get("DeleteOnTermination", False)}
                           for a in volume.get("Attachments", [])]
            add("volumes", volume["VolumeId"], volume, attachments=attachments)
        pairs = call(self.clients, self.clients.ec2, "describe_key_pairs", Filters=[tag_filter(self.platform)]).get("KeyPairs", [])
        for pair in ours(pairs, self.platform):
            add("key_pairs", pair["KeyName"], pair)
        buckets = self._buckets()
        self._find_domains(add, [b for b in buckets if not b.startswith(f"{self.platform}-etcd-")])
        profiles, roles = self._iam()
        for profile in profiles:
            add("instance_profiles", profile["InstanceProfileName"], roles=[r["RoleName"] for r in profile.get("Roles", [])])
        for role in roles:
            add("iam_roles", role)
        for bucket in buckets:   # <platform>-etcd-<account id> (etcd_backup): deleted after the IAM roles
            if bucket.startswith(f"{self.platform}-etcd-"):
                add("etcd_buckets", bucket)
        for policy in self._iam_policies():
            add("iam_policies", policy["Arn"], name=policy["PolicyName"])
        return out

    # ---------------------------------------------------------------- EKS (discovery)
    def _find_eks(self, add: Callable[..., None]) -> None:
        """The platform's EKS clusters with their add-ons, node groups and access entries, the IAM OIDC
        providers tagged for it (IRSA) and its launch templates (one per managed node group)."""
        for cluster in self._eks_clusters():
            name = cluster["name"]
            eks = self.clients.eks
            for addon in pages(self.clients, eks, "list_addons", "addons", token="nextToken", clusterName=name):
                add("eks_addons", f"{name}/{addon}", cluster=name, name=addon)
            for nodegroup in pages(self.clients, eks, "list_nodegroups", "nodegroups", token="nextToken", clusterName=name):
                add("eks_nodegroups", nodegroup, cluster=name)
            for principal in self._access_entries(name):
                add("eks_access_entries", principal, cluster=name)
            add("eks_clusters", name)
        for arn in self._oidc_providers():
            add("oidc_providers", arn)
        templates = call(self.clients, self.clients.ec2, "describe_launch_templates", Filters=[tag_filter(self.platform)])
        for template in ours(templates.get("LaunchTemplates", []), self.platform):
            add("launch_templates", template["LaunchTemplateId"], template)

    def _eks_clusters(self) -> List[Dict[str, Any]]:
        if self.clients.eks is None:
            return []
        found = []
        for name in pages(self.clients, self.clients.eks, "list_clusters", "clusters", token="nextToken"):
            cluster = call(self.clients, self.clients.eks, "describe_cluster", name=name)["cluster"]
            if (cluster.get("tags") or {}).get(TAG) == self.platform and cluster.get("status") != "DELETING":
                found.append(cluster)
        return found

    def _access_entries(self, cluster: str) -> List[str]:
        """Principals with an access entry; a cluster still in CONFIG_MAP mode has none (and refuses the call)."""
        try:
            return pages(self.clients, self.clients.eks, "list_access_entries", "accessEntries", token="nextToken", clusterName=cluster)
        except ClientError as err:
            if _code(err) == "InvalidRequestException":
                return []
            raise

    def _oidc_providers(self) -> List[str]:
        if self.clients.iam is None:
            return []
        found = []
        for provider in call(self.clients, self.clients.iam, "list_open_id_connect_providers").get("OpenIDConnectProviderList", []):
            # ListOpenIDConnectProviders has no tags; GetOpenIDConnectProvider has them.
            full = self._ignore_missing(self.clients.iam, "get_open_id_connect_provider", OpenIDConnectProviderArn=provider["Arn"]) or {}
            if tags_of(full).get(TAG) == self.platform:
                found.append(provider["Arn"])
        return found

    def _elb_in_vpcs(self, client, operation, key, vpc_field, vpcs):
        """Every item of a Marker-paginated ELB describe call (v2 or classic) that sits in one of ``vpcs``."""
        if client is None or not vpcs:
            return []
        items = pages(self.clients, client, operation, key, token="Marker", out_token="NextMarker")
        return [item for item in items if item.get(vpc_field) in vpcs]

    def _instances(self, vpcs):
        live = {"Name": "instance-state-name", "Values": ["pending", "running", "stopping", "stopped", "shutting-down"]}
        found: Dict[str, Dict[str, Any]] = {}
        queries = [([tag_filter(self.platform), live], True)] + ([([{"Name": "vpc-id", "Values": vpcs}, live], False)] if vpcs else [])
        for filters, check in queries:
            for res in self._ec2("describe_instances", "Reservations", Filters=filters):
                for inst in ours(res["Instances"], self.platform) if check else res["Instances"]:
                    if inst["State"]["Name"] not in _GONE_INSTANCE:
                        found.setdefault(inst["InstanceId"], inst)
        return list(found.values())

    def _nat_gateways(self, vpcs):
        live = {"Name": "state", "Values": ["pending", "available", "deleting"]}
        found: Dict[str, Dict[str, Any]] = {}
        for nat in ours(self._ec2("describe_nat_gateways", "NatGateways", Filter=[tag_filter(self.platform), live]), self.platform):
            found.setdefault(nat["NatGatewayId"], nat)
        if vpcs:
            for nat in self._ec2("describe_nat_gateways", "NatGateways", Filter=[{"Name": "vpc-id", "Values": vpcs}, live]):
                found.setdefault(nat["NatGatewayId"], nat)
        return list(found.values())

    def _addresses(self, nats):
        """Tagged Elastic IPs, and the ones our NAT gateways hold even if their tagging never happened."""
        held = {a["AllocationId"] for nat in nats for a in nat.get("NatGatewayAddresses", []) if a.get("AllocationId")}
        tagged = call(self.clients, self.clients.ec2, "describe_addresses", Filters=[tag_filter(self.platform)]).get("Addresses", [])
        found = {a["AllocationId"]: a for a in ours(tagged, self.platform)}
        if held - set(found):
            for address in call(self.clients, self.clients.ec2, "describe_addresses", AllocationIds=sorted(held - set(found)))["Addresses"]:
                found[address["AllocationId"]] = address
        return list(found.values())

    def _network_interfaces(self, vpcs):
        if not vpcs:
            return []
        return self._ec2("describe_network_interfaces", "NetworkInterfaces", Filters=[{"Name": "vpc-id", "Values": vpcs}])

    def _iam(self):
        """Tagged instance profiles and roles, plus untagged profiles that hold a tagged role (built before
        profiles were tagged: deleting only the role would leave the profile to be reused empty by a rebuild)."""
        if self.clients.iam is None:
            return [], []
        roles = []
        for role in pages(self.clients, self.clients.iam, "list_roles", "Roles", token="Marker", out_token="Marker"):
            tags = call(self.clients, self.clients.iam, "list_role_tags", RoleName=role["RoleName"])
            if tags_of({"Tags": tags.get("Tags", [])}).get(TAG) == self.platform:
                roles.append(role["RoleName"])
        profiles = []
        for profile in pages(self.clients, self.clients.iam, "list_instance_profiles", "InstanceProfiles", token="Marker", out_token="Marker"):
            if any(r["RoleName"] in roles for r in profile.get("Roles", [])):
                profiles.append(profile)
                continue
            # ListInstanceProfiles leaves tags out; GetInstanceProfile has them.
            full = call(self.clients, self.clients.iam, "get_instance_profile", InstanceProfileName=profile["InstanceProfileName"])
            if tags_of(full["InstanceProfile"]).get(TAG) == self.platform:
                profiles.append(profile)
        return profiles, roles

    def _iam_policies(self):
        """Customer managed policies tagged for the platform (the load balancer controller's, cluster_addons)."""
        if self.clients.iam is None:
            return []
        policies = pages(self.clients, self.clients.iam, "list_policies", "Policies", token="Marker", out_token="Marker", Scope="Local")
        return [p for p in policies
                if tags_of(call(self.clients, self.clients.iam, "list_policy_tags", PolicyArn=p["Arn"])).get(TAG) == self.platform]

    # ---------------------------------------------------------------- domains (discovery)
    def _find_domains(self, add: Callable[..., None], buckets: List[str]) -> None:
        """The domains' ECR repositories (named <platform>/<domain>/<repo>: ECR's module sets no tags, the name
        prefix is the platform's) and their S3 buckets (`buckets`: the platform's, the etcd bucket left out)."""
        if self.clients.ecr is not None:
            prefix = self.platform + "/"
            for repo in pages(self.clients, self.clients.ecr, "describe_repositories", "repositories", token="nextToken"):
                if repo["repositoryName"].startswith(prefix):
                    add("ecr_repositories", repo["repositoryName"])
        for bucket in buckets:
            add("s3_buckets", bucket)

    def _buckets(self) -> List[str]:
        """The platform's buckets (domains' and the etcd snapshot bucket): named <platform>-... and tagged
        msa:platform=<platform>, so a same-prefix bucket of someone else's is left alone. One ListBuckets; only
        names the platform builds get a tagging read, never every bucket of the account."""
        if self.clients.s3 is None:
            return []
        found = []
        for bucket in call(self.clients, self.clients.s3, "list_buckets").get("Buckets", []):
            if not bucket["Name"].startswith(self.platform + "-"):
                continue
            tags = self._ignore_missing(self.clients.s3, "get_bucket_tagging", Bucket=bucket["Name"]) or {}
            if tags_of({"Tags": tags.get("TagSet", [])}).get(TAG) == self.platform:
                found.append(bucket["Name"])
        return found

    # ---------------------------------------------------------------- domains (deletion)
    def _delete_domains(self, found: Dict[str, List[Dict[str, Any]]]) -> None:
        """Repositories with their images (force), buckets emptied of every version and delete marker first."""
        for item in found["ecr_repositories"]:
            self._ignore_missing(self.clients.ecr, "delete_repository", repositoryName=item["id"], force=True)
        for item in found["s3_buckets"]:
            self._delete_bucket(item["id"])

    # ---------------------------------------------------------------- deletion
    def run(self, passes: int = 3) -> Dict[str, List[Dict[str, Any]]]:
        """Delete everything find() reports, in ORDER, waiting where a later step depends on it.

        A DependencyViolation means something appeared after find() (a build still finishing a call):
        the walk starts over from a fresh find(), up to `passes` times.
        """
        deleted: Dict[str, List[Dict[str, Any]]] = {kind: [] for kind in ORDER}
        for attempt in range(1, passes + 1):
            try:
                found = self._run_once()
            except ClientError as err:
                if _code(err) != "DependencyViolation" or attempt == passes:
                    raise
                self.log.append(f"restart after {_code(err)}: {err}")
                continue
            for kind in ORDER:
                deleted[kind].extend(found[kind])
            return deleted
        return deleted

    def _run_once(self) -> Dict[str, List[Dict[str, Any]]]:
        found = self.find()
        self._refuse_protected(found)   # before anything is deleted
        ec2 = self.clients.ec2
        self._delete_eks(found)
        self._delete_managed_data(found)
        for item in found["load_balancers"]:
            self._ignore_missing(self.clients.elbv2, "delete_load_balancer", LoadBalancerArn=item["id"])
        for item in found["classic_load_balancers"]:
            self._ignore_missing(self.clients.elb, "delete_load_balancer", LoadBalancerName=item["id"])
        for item in found["target_groups"]:
            self._ignore_missing(self.clients.elbv2, "delete_target_group", TargetGroupArn=item["id"])
        if found["instances"]:
            ids = [i["id"] for i in found["instances"]]
            self._ignore_missing(ec2, "terminate_instances", InstanceIds=ids)
            self._terminated.update(ids)
            self._terminated.update(v for i in found["instances"] for v in i.get("volumes", []))
            self._wait("instances to terminate", lambda: [i["InstanceId"] for i in self._instances_by_id(ids)
                                                          if i["State"]["Name"] not in _GONE_INSTANCE])
        for item in found["nat_gateways"]:
            self._ignore_missing(ec2, "delete_nat_gateway", NatGatewayId=item["id"])
        if found["nat_gateways"]:
            ids = [n["id"] for n in found["nat_gateways"]]
            self._wait("NAT gateways to be deleted", lambda: [n["NatGatewayId"] for n in self._ec2("describe_nat_gateways", "NatGateways",
                                                              NatGatewayIds=ids) if n["State"] not in _GONE_NAT])
        self._release([a["id"] for a in found["addresses"]])
        for item in self._network_interfaces([v["id"] for v in found["vpcs"]]):
            self._delete_eni(item)
        for item in found["internet_gateways"]:
            for vpc in item["vpcs"]:
                self._ignore_missing(ec2, "detach_internet_gateway", InternetGatewayId=item["id"], VpcId=vpc)
            self._ignore_missing(ec2, "delete_internet_gateway", InternetGatewayId=item["id"])
        for item in found["subnets"]:
            self._ignore_missing(ec2, "delete_subnet", SubnetId=item["id"])
        subnets = {item["id"] for item in found["subnets"]}
        for item in found["route_tables"]:   # a deleted subnet's association went with it; others (gateways) are removed
            for association, subnet in item["associations"]:
                if subnet not in subnets:
                    self._ignore_missing(ec2, "disassociate_route_table", AssociationId=association)
            self._ignore_missing(ec2, "delete_route_table", RouteTableId=item["id"])
        self._delete_security_groups(found["security_groups"])
        for item in found["vpcs"]:
            self._ignore_missing(ec2, "delete_vpc", VpcId=item["id"])
        for item in found["volumes"]:   # a volume deleted on termination of an instance terminated above is gone already
            if item["id"] not in self._terminated and (not item["attachments"] or not all(
                    a["InstanceId"] in self._terminated and a.get("DeleteOnTermination") for a in item["attachments"])):
                self._ignore_missing(ec2, "delete_volume", VolumeId=item["id"])
        for item in found["key_pairs"]:
            self._ignore_missing(ec2, "delete_key_pair", KeyName=item["id"])
        self._delete_domains(found)
        for item in found["instance_profiles"]:
            for role in item["roles"]:
                self._ignore_missing(self.clients.iam, "remove_role_from_instance_profile", InstanceProfileName=item["id"], RoleName=role)
            self._ignore_missing(self.clients.iam, "delete_instance_profile", InstanceProfileName=item["id"])
        for item in found["iam_roles"]:
            self._delete_role(item["id"])
        for item in found["etcd_buckets"]:
            self._delete_bucket(item["id"])
        for item in found["iam_policies"]:
            self._delete_policy(item["id"])
        return found

    # ---------------------------------------------------------------- buckets (domains, etcd_backup)
    def _delete_bucket(self, bucket: str) -> None:
        """Every object version and delete marker (the bucket is versioned), 1000 per call, then the bucket."""
        s3 = self.clients.s3
        while True:
            page = self._ignore_missing(s3, "list_object_versions", Bucket=bucket, MaxKeys=1000) or {}
            keys = [{"Key": v["Key"], "VersionId": v["VersionId"]} for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]
            if not keys:
                break
            self._ignore_missing(s3, "delete_objects", Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
        self._ignore_missing(s3, "delete_bucket", Bucket=bucket)

    def _delete_security_groups(self, groups: List[Dict[str, Any]]) -> None:
        """A group named as a source by another one cannot go first: delete in reference order, and revoke rules only
        where references form a cycle (a group naming itself is no obstacle)."""
        left = {item["id"]: item for item in groups}
        while left:
            refs = {gid: _references(item, set(left)) - {gid} for gid, item in left.items()}
            free = [gid for gid in left if not any(gid in r for other, r in refs.items() if other != gid)]
            if not free:   # every group left is named by another: cut the cycle's references, then all can go
                for gid, item in left.items():
                    for direction, perms in (("ingress", item["ingress"]), ("egress", item["egress"])):
                        naming = _naming(perms, set(left) - {gid})
                        if naming:
                            self._ignore_missing(self.clients.ec2, f"revoke_security_group_{direction}", GroupId=gid,
                                                 IpPermissions=naming)
                free = list(left)
            for gid in free:
                self._ignore_missing(self.clients.ec2, "delete_security_group", GroupId=gid)
                del left[gid]

    # ---------------------------------------------------------------- EKS (deletion)
    def _delete_eks(self, found: Dict[str, List[Dict[str, Any]]]) -> None:
        """Add-ons (their pods use IRSA and node groups), node groups, access entries, the OIDC provider,
        the cluster, then the launch templates the node groups used; each kind waited for before the next."""
        eks = self.clients.eks
        for item in found["eks_addons"]:
            self._ignore_missing(eks, "delete_addon", clusterName=item["cluster"], addonName=item["name"])
        self._wait("EKS add-ons to go", lambda: self._eks_left(found["eks_addons"], "addons"))
        for item in found["eks_nodegroups"]:
            self._ignore_missing(eks, "delete_nodegroup", clusterName=item["cluster"], nodegroupName=item["id"])
        self._wait("EKS node groups to go", lambda: self._eks_left(found["eks_nodegroups"], "nodegroups"))
        for item in found["eks_access_entries"]:
            self._ignore_missing(eks, "delete_access_entry", clusterName=item["cluster"], principalArn=item["id"])
        for item in found["oidc_providers"]:
            self._ignore_missing(self.clients.iam, "delete_open_id_connect_provider", OpenIDConnectProviderArn=item["id"])
        for item in found["eks_clusters"]:
            self._ignore_missing(eks, "delete_cluster", name=item["id"])
        self._wait("EKS clusters to go", lambda: self._eks_left(found["eks_clusters"], "clusters"))
        for item in found["launch_templates"]:
            self._ignore_missing(self.clients.ec2, "delete_launch_template", LaunchTemplateId=item["id"])

    def _instances_by_id(self, ids):
        reservations = self._ec2("describe_instances", "Reservations", InstanceIds=ids)
        return [inst for res in reservations for inst in res["Instances"]]

    def _eks_left(self, items, kind: str) -> List[str]:
        left = []
        for item in items:
            try:
                if kind == "addons":
                    call(self.clients, self.clients.eks, "describe_addon", clusterName=item["cluster"], addonName=item["name"])
                elif kind == "nodegroups":
                    call(self.clients, self.clients.eks, "describe_nodegroup", clusterName=item["cluster"], nodegroupName=item["id"])
                else:
                    call(self.clients, self.clients.eks, "describe_cluster", name=item["id"])
                left.append(item["id"])
            except ClientError as err:  # only "not found" means gone; anything else is raised
                if _code(err) != "ResourceNotFoundException":
                    raise
        return left

    def _release(self, allocations: List[str]) -> None:
        """Release the Elastic IPs, read again in one call once their NAT gateways and instances are gone: an address
        still associated (to something else than what was deleted) is disassociated first."""
        if not allocations:
            return
        listed = self._ignore_missing(self.clients.ec2, "describe_addresses", Filters=[
            {"Name": "allocation-id", "Values": sorted(allocations)}]) or {}
        for address in listed.get("Addresses", []):
            if address.get("AssociationId") and address.get("InstanceId") and address["InstanceId"] not in self._terminated:
                self._ignore_missing(self.clients.ec2, "disassociate_address", AssociationId=address["AssociationId"])
            self._ignore_missing(self.clients.ec2, "release_address", AllocationId=address["AllocationId"])

    def _delete_eni(self, eni: Dict[str, Any]) -> None:
        attachment = eni.get("Attachment") or {}
        if attachment.get("InstanceId") and attachment.get("DeviceIndex") == 0:
            return   # an instance's primary interface goes with the (terminated) instance
        if attachment.get("AttachmentId") and not attachment.get("InstanceOwnerId", "").startswith("amazon"):
            self._ignore_missing(self.clients.ec2, "detach_network_interface", AttachmentId=attachment["AttachmentId"], Force=True)
        self._ignore_missing(self.clients.ec2, "delete_network_interface", NetworkInterfaceId=eni["NetworkInterfaceId"])

    def _delete_role(self, role: str) -> None:
        iam = self.clients.iam
        for profile in (self._ignore_missing(iam, "list_instance_profiles_for_role", RoleName=role) or {}).get("InstanceProfiles", []):
            self._ignore_missing(iam, "remove_role_from_instance_profile", InstanceProfileName=profile["InstanceProfileName"], RoleName=role)
        for policy in (self._ignore_missing(iam, "list_attached_role_policies", RoleName=role) or {}).get("AttachedPolicies", []):
            self._ignore_missing(iam, "detach_role_policy", RoleName=role, PolicyArn=policy["PolicyArn"])
        for name in (self._ignore_missing(iam, "list_role_policies", RoleName=role) or {}).get("PolicyNames", []):
            self._ignore_missing(iam, "delete_role_policy", RoleName=role, PolicyName=name)
        self._ignore_missing(iam, "delete_role", RoleName=role)

    def _delete_policy(self, arn: str) -> None:
        """A managed policy of ours: detached from whatever still holds it, its old versions, then itself."""
        iam = self.clients.iam
        entities = self._ignore_missing(iam, "list_entities_for_policy", PolicyArn=arn) or {}
        for role in entities.get("PolicyRoles", []):
            self._ignore_missing(iam, "detach_role_policy", RoleName=role["RoleName"], PolicyArn=arn)
        for user in entities.get("PolicyUsers", []):
            self._ignore_missing(iam, "detach_user_policy", UserName=user["UserName"], PolicyArn=arn)
        for group in entities.get("PolicyGroups", []):
            self._ignore_missing(iam, "detach_group_policy", GroupName=group["GroupName"], PolicyArn=arn)
        for version in (self._ignore_missing(iam, "list_policy_versions", PolicyArn=arn) or {}).get("Versions", []):
            if not version["IsDefaultVersion"]:
                self._ignore_missing(iam, "delete_policy_version", PolicyArn=arn, VersionId=version["VersionId"])
        self._ignore_missing(iam, "delete_policy", PolicyArn=arn)

    def _ignore_missing(self, client: Any, operation: str, **params) -> Optional[Dict[str, Any]]:
        """Call; a resource that is already gone is what we want, so its "not found" error is not a failure."""
        try:
            result = call(self.clients, client, operation, **params)
        except ClientError as err:  # re-raised unless the error code says "already gone"
            if _code(err) in _MISSING:
                return None
            raise
        if operation.startswith(("delete", "terminate", "release", "detach", "revoke", "remove", "disassociate")) and operation != "delete_objects":
            self.log.append(f"{operation} {_first_value(params)}")
        return result

    def _wait(self, what: str, pending: Callable[[], List[str]]) -> None:
        deadline = time.monotonic() + self.wait_timeout
        while True:
            left = pending()
            if not left:
                return
            if time.monotonic() > deadline:
                raise TeardownError(f"timed out after {self.wait_timeout:.0f}s waiting for {what}: still there: {', '.join(left)}")
            self.sleep(self.poll)

    # ---------------------------------------------------------------- managed data (RDS, ElastiCache)
    def _find_managed_data(self, add: Callable[..., None], vpcs: List[str]) -> None:
        """RDS instances (replicas apart: they go first) and parameter groups tagged for the platform, ElastiCache
        replication groups tagged for it, and the RDS / ElastiCache subnet groups inside its VPCs."""
        rds, cache = self.clients.rds, self.clients.elasticache
        if rds is None and cache is None:
            return
        # Subnet groups are untagged by some tools: theirs when they sit in the platform's VPCs or subnets.
        subnets = {sub["SubnetId"] for sub in ours(self._ec2("describe_subnets", "Subnets", Filters=[tag_filter(self.platform)]), self.platform)}

        def in_platform(group: Dict[str, Any]) -> bool:
            return group.get("VpcId") in vpcs or any(sub.get("SubnetIdentifier") in subnets for sub in group.get("Subnets") or [])

        if rds is not None:
            for db in ours(pages(self.clients, rds, "describe_db_instances", "DBInstances", token="Marker"), self.platform):
                kind = "rds_replicas" if db.get("ReadReplicaSourceDBInstanceIdentifier") else "rds_instances"
                add(kind, db["DBInstanceIdentifier"], db, protected=bool(db.get("DeletionProtection")), status=db.get("DBInstanceStatus"))
            for group in pages(self.clients, rds, "describe_db_subnet_groups", "DBSubnetGroups", token="Marker"):
                if in_platform(group):
                    add("rds_subnet_groups", group["DBSubnetGroupName"])
            for group in pages(self.clients, rds, "describe_db_parameter_groups", "DBParameterGroups", token="Marker"):
                if not group["DBParameterGroupName"].startswith("default.") and self._rds_tagged(group["DBParameterGroupArn"]):
                    add("rds_parameter_groups", group["DBParameterGroupName"])
        if cache is not None:
            for group in pages(self.clients, cache, "describe_replication_groups", "ReplicationGroups", token="Marker"):
                tags = call(self.clients, cache, "list_tags_for_resource", ResourceName=group["ARN"]).get("TagList", [])
                if {t["Key"]: t["Value"] for t in tags}.get(TAG) == self.platform:
                    add("elasticache_groups", group["ReplicationGroupId"], status=group.get("Status"))
            for group in pages(self.clients, cache, "describe_cache_subnet_groups", "CacheSubnetGroups", token="Marker"):
                if in_platform(group):
                    add("elasticache_subnet_groups", group["CacheSubnetGroupName"])
            for group in pages(self.clients, cache, "describe_cache_parameter_groups", "CacheParameterGroups", token="Marker"):
                if not group["CacheParameterGroupName"].startswith("default.") and self._cache_tagged(group["ARN"]):
                    add("elasticache_parameter_groups", group["CacheParameterGroupName"])

    def _refuse_protected(self, found: Dict[str, List[Dict[str, Any]]]) -> None:
        protected = [item["id"] for item in found["rds_replicas"] + found["rds_instances"] if item.get("protected")]
        if protected and not self.delete_protected:
            raise TeardownError(f"RDS deletion protection is on for {', '.join(protected)}: nothing was deleted. To delete them "
                                "anyway, re-run with -e teardown_delete_protected=true (protection is turned off first"
                                + (", and the primary gets a final snapshot)" if self.rds_final_snapshot else ")"))

    def _cache_tagged(self, arn: str) -> bool:
        tags = call(self.clients, self.clients.elasticache, "list_tags_for_resource", ResourceName=arn).get("TagList", [])
        return {t["Key"]: t["Value"] for t in tags}.get(TAG) == self.platform

    def _rds_tagged(self, arn: str) -> bool:
        tags = call(self.clients, self.clients.rds, "list_tags_for_resource", ResourceName=arn).get("TagList", [])
        return {t["Key"]: t["Value"] for t in tags}.get(TAG) == self.platform

    def _delete_managed_data(self, found: Dict[str, List[Dict[str, Any]]]) -> None:
        """Read replicas, then primaries (final snapshot as configured), then replication groups (final snapshot as
        configured), then subnet and parameter groups. Deletion protection is honoured: refused, naming the
        instances, unless delete_protected says to turn it off."""
        rds, cache = self.clients.rds, self.clients.elasticache
        databases = found["rds_replicas"] + found["rds_instances"]
        stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime())
        for item in databases:
            if item.get("protected"):
                self._ignore_missing(rds, "modify_db_instance", DBInstanceIdentifier=item["id"], DeletionProtection=False, ApplyImmediately=True)
                self.log.append(f"modify_db_instance {item['id']} DeletionProtection=false")
        for kind in ("rds_replicas", "rds_instances"):
            for item in found[kind]:
                if item.get("status") == "deleting":
                    continue
                request: Dict[str, Any] = {"DBInstanceIdentifier": item["id"], "SkipFinalSnapshot": True}
                if kind == "rds_instances" and self.rds_final_snapshot:   # RDS takes no final snapshot of a read replica
                    snapshot = f"{item['id']}-final-{stamp}"
                    request = {"DBInstanceIdentifier": item["id"], "FinalDBSnapshotIdentifier": snapshot}
                    self.snapshots.append(snapshot)
                self._ignore_missing(rds, "delete_db_instance", **request)
            self._wait(f"{KIND_LABELS[kind]}s to be deleted", lambda kind=kind: self._rds_left(found[kind]))
        for item in found["elasticache_groups"]:
            if item.get("status") == "deleting":
                continue
            request = {"ReplicationGroupId": item["id"]}
            if self.elasticache_final_snapshot:
                request["FinalSnapshotIdentifier"] = f"{item['id']}-final-{stamp}"
                self.snapshots.append(request["FinalSnapshotIdentifier"])
            self._ignore_missing(cache, "delete_replication_group", **request)
        self._wait("ElastiCache replication groups to be deleted", lambda: self._cache_left(found["elasticache_groups"]))
        for item in found["rds_subnet_groups"]:
            self._ignore_missing(rds, "delete_db_subnet_group", DBSubnetGroupName=item["id"])
        for item in found["rds_parameter_groups"]:
            self._ignore_missing(rds, "delete_db_parameter_group", DBParameterGroupName=item["id"])
        for item in found["elasticache_subnet_groups"]:
            self._ignore_missing(cache, "delete_cache_subnet_group", CacheSubnetGroupName=item["id"])
        for item in found["elasticache_parameter_groups"]:
            self._ignore_missing(cache, "delete_cache_parameter_group", CacheParameterGroupName=item["id"])

    def _rds_left(self, items: List[Dict[str, Any]]) -> List[str]:
        left = []
        for item in items:
            if self._ignore_missing(self.clients.rds, "describe_db_instances", DBInstanceIdentifier=item["id"]):
                left.append(item["id"])
        return left

    def _cache_left(self, items: List[Dict[str, Any]]) -> List[str]:
        left = []
        for item in items:
            if self._ignore_missing(self.clients.elasticache, "describe_replication_groups", ReplicationGroupId=item["id"]):
                left.append(item["id"])
        return left

    # ---------------------------------------------------------------- the proof
    def sweep(self) -> List[str]:
        """Every resource still tagged for the platform (per-service describes, then the tagging API)."""
        found = self.find()
        left = [item["label"] for kind in ORDER for item in found[kind]
                if kind not in ("load_balancers", "classic_load_balancers", "target_groups", "network_interfaces")]
        known = {item["id"] for kind in ORDER for item in found[kind]}
        if self.clients.tagging is not None:
            mappings = pages(self.clients, self.clients.tagging, "get_resources", "ResourceTagMappingList", token="PaginationToken",
                             TagFilters=[{"Key": TAG, "Values": [self.platform]}])
            for arn in sorted(m["ResourceARN"] for m in mappings):
                if FINAL_SNAPSHOT.fullmatch(arn):
                    continue   # a final snapshot the topology asked for (this run's are in `snapshots`): kept on purpose
                rid = arn.rsplit("/", 1)[-1]
                rid = arn.split(":::", 1)[1] if arn.startswith("arn:aws:s3:::") or ":s3:::" in arn else arn.rsplit("/", 1)[-1]
                if rid not in known and not self._gone(arn, rid):
                    left.append(f"tagged resource {arn}")
        return left

    def _gone(self, arn: str, rid: str) -> bool:
        """The tagging API keeps listing some deleted EC2 resources for a while; the service itself decides."""
        if ":instance/" in arn:
            return all(i["State"]["Name"] in _GONE_INSTANCE for i in self._instances_by_id([rid]))
        if ":natgateway/" in arn:
            nats = self._ignore_missing(self.clients.ec2, "describe_nat_gateways", NatGatewayIds=[rid]) or {}
            return all(n["State"] in _GONE_NAT for n in nats.get("NatGateways", []))
        return False


_MISSING = {
    "InvalidVpcID.NotFound", "InvalidSubnetID.NotFound", "InvalidRouteTableID.NotFound", "InvalidGroup.NotFound",
    "InvalidInternetGatewayID.NotFound", "Gateway.NotAttached", "InvalidAllocationID.NotFound", "InvalidAssociationID.NotFound",
    "InvalidNetworkInterfaceID.NotFound", "InvalidAttachmentID.NotFound", "NatGatewayNotFound", "InvalidInstanceID.NotFound",
    "InvalidVolume.NotFound", "InvalidKeyPair.NotFound", "InvalidPermission.NotFound", "LoadBalancerNotFound",
    "TargetGroupNotFound", "NoSuchEntity", "ResourceNotFoundException", "AuthFailure.AddressNotFound",
    "InvalidAddress.NotFound", "InvalidAddressID.NotFound", "InvalidLaunchTemplateId.NotFound",
    "InvalidLaunchTemplateId.NotFoundException", "NoSuchBucket", "NoSuchTagSet",
    "DBInstanceNotFound", "DBSubnetGroupNotFoundFault", "DBParameterGroupNotFound", "ReplicationGroupNotFoundFault",
    "CacheSubnetGroupNotFoundFault", "CacheParameterGroupNotFound",
    "RepositoryNotFoundException",
}


def _code(err: Exception) -> str:
    return getattr(err, "response", {}).get("Error", {}).get("Code", "")


def _first_value(params: Dict[str, Any]) -> str:
    value = next(iter(params.values()), "")
    return ",".join(value) if isinstance(value, list) else str(value)


def _strip(permissions: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """IpPermissions as revoke_* accepts them: drop the read-only fields describe adds to group pairs."""
    keep = ("IpProtocol", "FromPort", "ToPort", "IpRanges", "Ipv6Ranges", "PrefixListIds")
    out = []
    for perm in permissions:
        clean = {k: v for k, v in perm.items() if k in keep and v not in (None, [])}
        pairs = [{"GroupId": p["GroupId"]} for p in perm.get("UserIdGroupPairs", []) if p.get("GroupId")]
        if pairs:
            clean["UserIdGroupPairs"] = pairs
        out.append(clean)
    return out


def _references(group: Dict[str, Any], among: set) -> set:
    """Ids of the groups in ``among`` that ``group``'s rules name as a source or destination."""
    return {pair["GroupId"] for perm in group["ingress"] + group["egress"] for pair in perm.get("UserIdGroupPairs", [])
            if pair.get("GroupId") in among}


def _naming(permissions: List[Dict[str, Any]], among: set) -> List[Dict[str, Any]]:
    """The permissions (stripped for a revoke) that name one of ``among``, with only those group pairs."""
    out = []
    for perm in _strip(permissions):
        pairs = [p for p in perm.get("UserIdGroupPairs", []) if p["GroupId"] in among]
        if pairs:
            out.append({k: v for k, v in perm.items() if k not in ("IpRanges", "Ipv6Ranges", "PrefixListIds")} | {"UserIdGroupPairs": pairs})
    return out


def summary(found: Dict[str, List[Dict[str, Any]]]) -> Dict[str, List[str]]:
    """{kind: [labels]} of the non-empty kinds, in teardown order (the module's diff and return value)."""
    return {kind: [item["label"] for item in found[kind]] for kind in ORDER if found[kind]}
