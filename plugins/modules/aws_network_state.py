#!/usr/bin/python

# Copyright: msa.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: aws_network_state
short_description: Reconcile a VPC, its internet gateway, security groups and route tables with one read per kind
version_added: "0.2.0"
description:
  - Reads each kind given once for the whole VPC (DescribeVpcs, DescribeInternetGateways, DescribeSecurityGroups,
    DescribeRouteTables), compares with the desired state and writes only what differs. A converged network costs one
    read per kind (two more for the VPC's DNS attributes) and no write.
  - Security groups are found by name in the VPC and get exactly the given tags and ingress rules - missing rules are
    authorized, extra ones revoked, a changed rule description updated in place. Egress rules are left as EC2 makes them.
  - Route tables are found by their C(Name) tag in the VPC and get exactly the given tags, routes (besides the local
    route and VPC endpoint routes) and subnets - a subnet another table holds is moved to this one.
  - Parts are optional; each runs only when given, in the order vpc, internet_gateway, security_groups, route_tables,
    add_routes.
author:
  - msa.platform maintainers (@msa-platform)
options:
  vpc:
    description: The VPC, found by its C(Name) tag and CIDR; created when missing (more than one match fails).
    type: dict
    suboptions:
      name:
        description: The C(Name) tag.
        type: str
        required: true
      cidr:
        description: Primary IPv4 CIDR block.
        type: str
        required: true
      tags:
        description: Tags besides C(Name); other tags are removed (except C(aws:*)).
        type: dict
        default: {}
      dns_support:
        description: enableDnsSupport.
        type: bool
        default: true
      dns_hostnames:
        description: enableDnsHostnames.
        type: bool
        default: true
  vpc_id:
    description: The VPC of the other parts when O(vpc) is not given.
    type: str
  internet_gateway:
    description: The internet gateway attached to the VPC; created and attached when missing.
    type: dict
    suboptions:
      tags:
        description: Its exact tags (C(Name) included).
        type: dict
        default: {}
  security_groups:
    description: Security groups of the VPC to reconcile (groups not listed are left alone).
    type: list
    elements: dict
    suboptions:
      name:
        description: Group name.
        type: str
        required: true
      description:
        description: Group description (used when creating; EC2 cannot change it).
        type: str
        required: true
      tags:
        description: Exact tags.
        type: dict
        default: {}
      rules:
        description:
          - Exact ingress rules; each has C(proto) (C(tcp), C(udp), C(icmp) or C(-1) for all), C(from_port), C(to_port),
            either C(cidr) or C(source_group) (the name of a group of this list or of the VPC), and an optional C(description).
        type: list
        elements: dict
        default: []
  route_tables:
    description: Route tables of the VPC to reconcile, found by C(Name) tag (tables not listed are left alone).
    type: list
    elements: dict
    suboptions:
      name:
        description: The C(Name) tag.
        type: str
        required: true
      tags:
        description: Exact tags (C(Name) included).
        type: dict
        default: {}
      subnets:
        description: Ids of the subnets the table holds, exactly.
        type: list
        elements: str
        default: []
      routes:
        description:
          - Exact routes, each C(dest) (a CIDR) and one target, C(gateway_id), C(nat_gateway_id), C(instance_id) or
            C(instance_name) (the C(Name) tag of a live instance of the VPC, e.g. the OpenVPN server; while no such
            instance exists the route is left out and the name listed in RV(pending_routes)).
        type: list
        elements: dict
        default: []
  add_routes:
    description:
      - Routes to put in every route table of the VPC that carries all of O(add_routes.tags), leaving their other
        routes alone (a table's exact routes are O(route_tables)'s job), e.g. the compute layer's route to an
        instance the network layer could not name yet.
    type: dict
    suboptions:
      tags:
        description: Tags a table must carry (all of them).
        type: dict
        required: true
      routes:
        description: Routes as in O(route_tables[].routes).
        type: list
        elements: dict
        required: true
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
attributes:
  check_mode:
    support: full
    description: Reads, plans and reports the writes in RV(actions) without making them.
  diff_mode:
    support: full
    description: C(before) and C(after) of each part (rules and routes as readable lines).
notes:
  - Every input is checked before any AWS call; a problem fails naming the option path.
  - Calls are retried on throttling and transient errors (botocore retries plus amazon.aws AWSRetry backoff); a write right
    after a create also retries the "not found" of EC2's eventual consistency.
"""

EXAMPLES = r"""
- name: VPC, internet gateway and security groups
  msa.platform.aws_network_state:
    vpc: {name: ecoeco, cidr: 10.0.0.0/16, tags: {"msa:platform": ecoeco}}
    internet_gateway: {tags: {"msa:platform": ecoeco, Name: ecoeco-igw}}
    security_groups:
      - name: ecoeco-lb
        description: Load balancers
        tags: {"msa:platform": ecoeco, Name: ecoeco-lb}
        rules:
          - {proto: tcp, from_port: 443, to_port: 443, cidr: 0.0.0.0/0, description: HTTPS}
  register: network

- name: Route tables
  msa.platform.aws_network_state:
    vpc_id: "{{ network.vpc.id }}"
    route_tables:
      - name: ecoeco-public
        tags: {"msa:platform": ecoeco, Name: ecoeco-public}
        subnets: [subnet-0a1b2c]
        routes:
          - {dest: 0.0.0.0/0, gateway_id: "{{ network.internet_gateway.id }}"}
          - {dest: 10.250.0.0/24, instance_name: ecoeco-bastion-1}   # VPN clients, through the OpenVPN server

- name: The route to the VPN server in every table of the platform, once it runs (other routes untouched)
  msa.platform.aws_network_state:
    vpc_id: "{{ network.vpc.id }}"
    add_routes:
      tags: {"msa:platform": ecoeco, "msa:layer": network}
      routes: [{dest: 10.250.0.0/24, instance_name: ecoeco-bastion-1}]
"""

RETURN = r"""
vpc:
  description: The VPC (empty in check mode when it does not exist yet).
  returned: when O(vpc) is given
  type: dict
  sample: {"id": "vpc-0a1b2c", "cidr": "10.0.0.0/16"}
internet_gateway:
  description: The internet gateway (empty in check mode when it does not exist yet).
  returned: when O(internet_gateway) is given and the VPC exists
  type: dict
  sample: {"id": "igw-0a1b2c"}
security_groups:
  description: Group name -> id (empty id for a group check mode would create).
  returned: when O(security_groups) is given and the VPC exists
  type: dict
  sample: {"ecoeco-lb": "sg-0a1b2c"}
route_tables:
  description: Table name -> id (tables check mode would create are left out).
  returned: when O(route_tables) is given and the VPC exists
  type: dict
  sample: {"ecoeco-public": "rtb-0a1b2c"}
add_routes:
  description: Ids of the route tables O(add_routes) matched.
  returned: when O(add_routes) is given and the VPC exists
  type: list
  elements: str
  sample: ["rtb-0a1b2c", "rtb-0d1e2f"]
pending_routes:
  description: Instance names routes asked for that no live instance of the VPC carries (their routes were left out).
  returned: always
  type: list
  elements: str
  sample: ["ecoeco-bastion-1"]
actions:
  description: The writes made (or, in check mode, planned), each "operation resource".
  returned: always
  type: list
  elements: str
  sample: ["authorize_security_group_ingress ecoeco-lb"]
"""

import ipaddress

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.msa.platform.plugins.module_utils.aws.network_state import TARGETS, Network, reconcile
from ansible_collections.msa.platform.plugins.module_utils.module_args import build_module, problem_of, url
from ansible_collections.msa.platform.plugins.module_utils.topology_net import region_problem

try:
    from botocore.exceptions import BotoCoreError, ClientError
except ImportError:
    pass  # handled by AnsibleAWSModule

RETRY_CODES = ["RequestLimitExceeded", "Throttling", "ThrottlingException", "ServiceUnavailable", "InternalError", "Unavailable"]
FRESH_CODES = [*RETRY_CODES, "InvalidGroup.NotFound", "InvalidRouteTableID.NotFound", "InvalidVpcID.NotFound",
               "InvalidInternetGatewayID.NotFound", "InvalidSubnetID.NotFound", "InvalidNatGatewayID.NotFound"]
PROTOCOLS = ("tcp", "udp", "icmp", "-1")
ROUTE_TARGETS = (*TARGETS, "instance_name")


def _cidr_problem(value):
    try:
        ipaddress.ip_network(value, strict=True)
    except (TypeError, ValueError):
        return f"{value!r} is not a CIDR block such as 10.0.0.0/16"
    return ""


def problems(params):
    """Every problem of the inputs, each naming its option path (nothing in AWS is touched while any)."""
    out = []
    if params.get("vpc") and _cidr_problem(params["vpc"]["cidr"]):
        out.append("vpc.cidr: " + _cidr_problem(params["vpc"]["cidr"]))
    parts = ("internet_gateway", "security_groups", "route_tables", "add_routes")
    if not params.get("vpc") and not params.get("vpc_id") and any(params.get(p) is not None for p in parts):
        out.append("vpc_id: required when vpc is not given")
    for part, spec in (("security_groups", GROUP), ("route_tables", TABLE)):
        for i, item in enumerate(params.get(part) or []):
            unknown = sorted(set(item) - set(spec))
            if unknown:
                out.append(f"{part}[{i}]: unknown keys {', '.join(map(str, unknown))}; allowed: {', '.join(spec)}")
            out.extend(f"{part}[{i}].{key}: required" for key, option in spec.items() if option.get("required") and not item.get(key))
    names = [g.get("name") for g in params.get("security_groups") or []]
    for i, group in enumerate(params.get("security_groups") or []):
        for j, rule in enumerate(group.get("rules") or []):
            where = f"security_groups[{i}].rules[{j}]"
            if not isinstance(rule, dict):
                out.append(f"{where}: must be a mapping, got {type(rule).__name__}")
                continue
            if str(rule.get("proto")) not in PROTOCOLS:
                out.append(f"{where}.proto: {rule.get('proto')!r} must be one of {', '.join(PROTOCOLS)}")
            for port in ("from_port", "to_port"):
                value = rule.get(port, -1 if str(rule.get("proto")) == "-1" else None)
                if isinstance(value, bool) or not isinstance(value, int) or not -1 <= value <= 65535:
                    out.append(f"{where}.{port}: {value!r} must be an integer from -1 to 65535")
            if bool(rule.get("cidr")) == bool(rule.get("source_group")):
                out.append(f"{where}: give exactly one of cidr and source_group")
            elif rule.get("cidr") and _cidr_problem(rule["cidr"]):
                out.append(f"{where}.cidr: " + _cidr_problem(rule["cidr"]))
            elif rule.get("source_group") and not isinstance(rule["source_group"], str):
                out.append(f"{where}.source_group: must be a group name")
            if not isinstance(rule.get("description", ""), str):
                out.append(f"{where}.description: must be a string")
    if len(set(names)) != len(names):
        out.append("security_groups: names must be unique")
    route_lists = [(f"route_tables[{i}].routes", table.get("routes") or []) for i, table in enumerate(params.get("route_tables") or [])]
    if params.get("add_routes") is not None:
        route_lists.append(("add_routes.routes", params["add_routes"]["routes"]))
    for path, routes in route_lists:
        out.extend(_route_problems(path, routes))
    return out


def _route_problems(path, routes):
    out = []
    for j, route in enumerate(routes):
        where = f"{path}[{j}]"
        if not isinstance(route, dict):
            out.append(f"{where}: must be a mapping, got {type(route).__name__}")
            continue
        unknown = sorted(set(route) - {"dest", *ROUTE_TARGETS})
        if unknown:
            out.append(f"{where}: unknown keys {', '.join(map(str, unknown))}; allowed: dest, {', '.join(ROUTE_TARGETS)}")
        if not isinstance(route.get("dest"), str) or _cidr_problem(route["dest"]):
            out.append(f"{where}.dest: {route.get('dest')!r} must be a CIDR block")
        targets = [key for key in ROUTE_TARGETS if route.get(key)]
        if len(targets) != 1:
            out.append(f"{where}: give exactly one of {', '.join(ROUTE_TARGETS)}" + (f" (got {', '.join(targets)})" if targets else ""))
        elif not isinstance(route[targets[0]], str):
            out.append(f"{where}.{targets[0]}: must be a string")
    return out


GROUP = dict(name=dict(type="str", required=True), description=dict(type="str", required=True),
             tags=dict(type="dict", default={}), rules=dict(type="list", elements="dict", default=[]))
TABLE = dict(name=dict(type="str", required=True), tags=dict(type="dict", default={}),
             subnets=dict(type="list", elements="str", default=[]), routes=dict(type="list", elements="dict", default=[]))


def main():
    module = build_module(
        AnsibleAWSModule,
        dict(
            vpc=dict(type="dict", options=dict(name=dict(type="str", required=True), cidr=dict(type="str", required=True),
                                               tags=dict(type="dict", default={}), dns_support=dict(type="bool", default=True),
                                               dns_hostnames=dict(type="bool", default=True))),
            vpc_id=dict(type="str"),
            internet_gateway=dict(type="dict", options=dict(tags=dict(type="dict", default={}))),
            security_groups=dict(type="list", elements="dict", options=GROUP),
            route_tables=dict(type="list", elements="dict", options=TABLE),
            add_routes=dict(type="dict", options=dict(tags=dict(type="dict", required=True),
                                                      routes=dict(type="list", elements="dict", required=True))),
        ),
        rules=dict(region=problem_of(region_problem), endpoint_url=url),
        supports_check_mode=True,
    )
    found = problems(module.params)
    if found:
        module.fail_json(msg="aws_network_state: " + "; ".join(found))
    ec2 = module.client("ec2", retry_decorator=AWSRetry.jittered_backoff(retries=8, catch_extra_error_codes=RETRY_CODES))
    fresh = module.client("ec2", retry_decorator=AWSRetry.jittered_backoff(retries=8, catch_extra_error_codes=FRESH_CODES))

    def call(operation, just_created, **request):
        return getattr(fresh if just_created else ec2, operation)(aws_retry=True, **request)

    network = Network(call, check_mode=module.check_mode)
    try:
        result = reconcile(network, module.params)
    except ValueError as err:
        module.fail_json(msg=str(err), actions=network.actions)
    except (BotoCoreError, ClientError) as err:
        module.fail_json_aws(err, msg=f"aws_network_state stopped after: {', '.join(network.actions) or 'the lookups'}",
                             actions=network.actions)
    if network.pending:
        module.warn(f"routes to {', '.join(network.pending)} left out: no live instance of the VPC carries that Name yet")
    module.exit_json(changed=bool(network.actions), actions=network.actions, diff={"before": network.before, "after": network.after},
                     pending_routes=network.pending, **result)


if __name__ == "__main__":
    main()
