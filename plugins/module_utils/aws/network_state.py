# Copyright: msa.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reconcile a platform's VPC, internet gateway, security groups and route tables with one describe per type.

The module msa.platform.aws_network_state calls this. Each part given reads its whole kind once (DescribeVpcs,
DescribeInternetGateways, DescribeSecurityGroups, DescribeRouteTables, all filtered to the VPC), compares with the
desired state and writes only the difference: a converged network costs one read per kind and no write. The pure
functions (``*_changes``) take the desired items (the module's snake_case options) and the items as EC2 describes
them, and return the planned writes as ``(operation, request)`` pairs; ``Network`` runs them through a client.

Security group rules are compared one (protocol, ports, source) at a time: missing ones are authorized, extra ones
revoked, a changed description is updated in place. Egress rules are left as EC2 makes them (allow all).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Tuple

Planned = List[Tuple[str, Dict[str, Any]]]
RuleKey = Tuple[str, int, int, str, str]   # (protocol, from, to, kind: cidr|cidr6|group|prefix, source)


def tags_of(resource: Dict[str, Any]) -> Dict[str, str]:
    return {t["Key"]: t["Value"] for t in resource.get("Tags") or []}


def tag_writes(resource_id: str, have: Dict[str, str], want: Dict[str, str]) -> Planned:
    """CreateTags for missing or changed tags, DeleteTags for extra ones (never aws:* tags, which AWS owns)."""
    out: Planned = []
    add = {k: str(v) for k, v in want.items() if have.get(k) != str(v)}
    remove = sorted(k for k in have if k not in want and not k.startswith("aws:"))
    if add:
        out.append(("create_tags", {"Resources": [resource_id], "Tags": [{"Key": k, "Value": v} for k, v in sorted(add.items())]}))
    if remove:
        out.append(("delete_tags", {"Resources": [resource_id], "Tags": [{"Key": k} for k in remove]}))
    return out


def tag_spec(kind: str, tags: Dict[str, Any]) -> List[Dict[str, Any]]:
    return [{"ResourceType": kind, "Tags": [{"Key": k, "Value": str(v)} for k, v in sorted(tags.items())]}]


# ------------------------------------------------------------------ security group rules

def _ports(proto: str, from_port: Any, to_port: Any) -> Tuple[int, int]:
    if proto == "-1":
        return -1, -1
    return int(from_port if from_port is not None else -1), int(to_port if to_port is not None else -1)


def rules_of_permissions(permissions: List[Dict[str, Any]]) -> Dict[RuleKey, str]:
    """{rule key: description} of IpPermissions as DescribeSecurityGroups returns them (one key per source)."""
    out: Dict[RuleKey, str] = {}
    for perm in permissions:
        proto = str(perm.get("IpProtocol", "-1"))
        low, high = _ports(proto, perm.get("FromPort"), perm.get("ToPort"))
        for kind, key, sub in (("cidr", "IpRanges", "CidrIp"), ("cidr6", "Ipv6Ranges", "CidrIpv6"),
                               ("group", "UserIdGroupPairs", "GroupId"), ("prefix", "PrefixListIds", "PrefixListId")):
            for source in perm.get(key) or []:
                out[(proto, low, high, kind, source[sub])] = source.get("Description") or ""
    return out


def desired_rules(rules: List[Dict[str, Any]], group_ids: Dict[str, str]) -> Dict[RuleKey, str]:
    """{rule key: description} of the plan's rules; source groups by id (``new:<name>`` for one not created yet)."""
    out: Dict[RuleKey, str] = {}
    for rule in rules:
        proto = str(rule["proto"])
        low, high = _ports(proto, rule.get("from_port"), rule.get("to_port"))
        if rule.get("cidr"):
            kind, source = ("cidr6" if ":" in rule["cidr"] else "cidr"), rule["cidr"]
        else:
            kind, source = "group", group_ids.get(rule["source_group"], "new:" + rule["source_group"])
        out[(proto, low, high, kind, source)] = rule.get("description") or ""
    return out


def permissions(rules: Dict[RuleKey, str], with_descriptions: bool = True) -> List[Dict[str, Any]]:
    """IpPermissions for Authorize/Revoke/UpdateSecurityGroupRuleDescriptionsIngress, one per rule."""
    out = []
    for (proto, low, high, kind, source), description in sorted(rules.items()):
        perm: Dict[str, Any] = {"IpProtocol": proto}
        if proto != "-1":
            perm.update(FromPort=low, ToPort=high)
        entry: Dict[str, Any] = {{"cidr": "CidrIp", "cidr6": "CidrIpv6", "group": "GroupId", "prefix": "PrefixListId"}[kind]: source}
        if with_descriptions and description:
            entry["Description"] = description
        perm[{"cidr": "IpRanges", "cidr6": "Ipv6Ranges", "group": "UserIdGroupPairs", "prefix": "PrefixListIds"}[kind]] = [entry]
        out.append(perm)
    return out


def rule_changes(group_id: str, have: Dict[RuleKey, str], want: Dict[RuleKey, str]) -> Planned:
    """Revoke extra rules, authorize missing ones, update changed descriptions: one call each at most."""
    out: Planned = []
    extra = {k: v for k, v in have.items() if k not in want}
    missing = {k: v for k, v in want.items() if k not in have}
    described = {k: v for k, v in want.items() if k in have and have[k] != v}
    if extra:
        out.append(("revoke_security_group_ingress", {"GroupId": group_id, "IpPermissions": permissions(extra, False)}))
    if missing:
        out.append(("authorize_security_group_ingress", {"GroupId": group_id, "IpPermissions": permissions(missing)}))
    if described:
        out.append(("update_security_group_rule_descriptions_ingress", {"GroupId": group_id, "IpPermissions": permissions(described)}))
    return out


def rule_text(key: RuleKey, description: str, names: Dict[str, str]) -> str:
    proto, low, high, kind, source = key
    ports = "all" if proto == "-1" else (str(low) if low == high else f"{low}-{high}")
    who = names.get(source, source.replace("new:", "")) if kind == "group" else source
    return f"{'all' if proto == '-1' else proto} {ports} from {who}" + (f" ({description})" if description else "")


# ------------------------------------------------------------------ route tables

# Route targets the module takes (option key -> the key EC2 describes a route's target with).
TARGETS = {"gateway_id": "GatewayId", "nat_gateway_id": "NatGatewayId", "instance_id": "InstanceId"}


def route_target(route: Dict[str, Any]) -> Tuple[str, str]:
    # InstanceId before NetworkInterfaceId: a route created to an instance describes both.
    for key in ("NatGatewayId", "GatewayId", "TransitGatewayId", "VpcPeeringConnectionId", "InstanceId", "NetworkInterfaceId"):
        if route.get(key):
            return key, route[key]
    return "", ""


def wanted_target(route: Dict[str, Any]) -> Tuple[str, str]:
    """(EC2 key, id) of a desired route ({dest, gateway_id | nat_gateway_id | instance_id})."""
    for option, key in TARGETS.items():
        if route.get(option):
            return key, route[option]
    return "", ""


def _managed(route: Dict[str, Any]) -> bool:
    """Routes we own: not the VPC's local route, not a VPC endpoint's, not propagated."""
    target = route_target(route)[1]
    return route.get("Origin") != "CreateRouteTable" and route.get("Origin") != "EnableVgwRoutePropagation" \
        and target != "local" and not target.startswith("vpce-")


def _dest_key(dest: str) -> str:
    return "DestinationIpv6CidrBlock" if ":" in dest else "DestinationCidrBlock"


def route_changes(table_id: str, have: List[Dict[str, Any]], want: List[Dict[str, Any]], purge: bool = True) -> Planned:
    """CreateRoute / ReplaceRoute / DeleteRoute so the table's own routes are exactly ``want`` ({dest, gateway_id |
    nat_gateway_id | instance_id}); with ``purge`` false only the destinations of ``want`` are touched (none deleted).

    A route is compared on the key it was asked with: a route to an instance describes the instance and its ENI."""
    current: Dict[Tuple[str, str], Dict[str, Any]] = {}
    for route in have:
        if _managed(route):
            dest_key = "DestinationCidrBlock" if route.get("DestinationCidrBlock") else "DestinationIpv6CidrBlock"
            current[(dest_key, route.get(dest_key, ""))] = route
    out: Planned = []
    wanted = {(_dest_key(route["dest"]), route["dest"]): wanted_target(route) for route in want}
    for dest_key, dest in sorted(current) if purge else ():
        if (dest_key, dest) not in wanted:
            out.append(("delete_route", {"RouteTableId": table_id, dest_key: dest}))
    for (dest_key, dest), (key, value) in sorted(wanted.items()):
        if (dest_key, dest) not in current:
            out.append(("create_route", {"RouteTableId": table_id, dest_key: dest, key: value}))
        elif current[(dest_key, dest)].get(key) != value or current[(dest_key, dest)].get("State") == "blackhole":
            out.append(("replace_route", {"RouteTableId": table_id, dest_key: dest, key: value}))
    return out


def route_text(route: Dict[str, Any]) -> str:
    return f"{route['dest']} -> {wanted_target(route)[1]}"


def resolve_instance_routes(tables: List[Dict[str, Any]], ids: Dict[str, str]) -> Tuple[List[Dict[str, Any]], List[str]]:
    """Tables whose ``instance_name`` routes name their instance by id (``ids``: Name -> id), and the names not found
    (their routes are left out: the instance is not launched yet; the compute layer adds them when it is)."""
    missing: List[str] = []
    out = []
    for table in tables:
        routes = []
        for route in table.get("routes") or []:
            name = route.get("instance_name")
            if not name:
                routes.append(route)
            elif name in ids:
                routes.append({"dest": route["dest"], "instance_id": ids[name]})
            elif name not in missing:
                missing.append(name)
        out.append(dict(table, routes=routes))
    return out, missing


def association_changes(tables: Dict[str, List[str]], existing: List[Dict[str, Any]], ours: List[str]) -> Planned:
    """Make each subnet's association the plan's: {table id: [subnet ids]} against every table of the VPC.

    A subnet held by another table is moved (ReplaceRouteTableAssociation), a free one associated; a subnet that one
    of ``ours`` holds but the plan puts nowhere is disassociated (it falls back to the main table)."""
    held: Dict[str, Tuple[str, str]] = {}   # subnet -> (table id, association id)
    for table in existing:
        for assoc in table.get("Associations") or []:
            if assoc.get("SubnetId") and not assoc.get("Main") and assoc.get("AssociationState", {}).get("State", "associated") \
                    in ("associated", "associating"):
                held[assoc["SubnetId"]] = (table["RouteTableId"], assoc["RouteTableAssociationId"])
    wanted = {subnet: table for table, subnets in tables.items() for subnet in subnets}
    out: Planned = []
    for subnet, (table, assoc) in sorted(held.items()):
        if subnet not in wanted and table in ours:
            out.append(("disassociate_route_table", {"AssociationId": assoc}))
    for subnet, table in sorted(wanted.items(), key=lambda item: (item[1], item[0])):
        if subnet not in held:
            out.append(("associate_route_table", {"RouteTableId": table, "SubnetId": subnet}))
        elif held[subnet][0] != table:
            out.append(("replace_route_table_association", {"AssociationId": held[subnet][1], "RouteTableId": table}))
    return out


# ------------------------------------------------------------------ the reconciler

@dataclass
class Network:
    """Runs the reconciliation through ``call(operation, fresh, **request)`` (fresh: retry "not found", the resource
    was just created); in check mode ``call`` is only used for reads. ``actions`` lists every write, planned or done."""
    call: Callable[..., Dict[str, Any]]
    check_mode: bool = False
    actions: List[str] = field(default_factory=list)
    before: Dict[str, Any] = field(default_factory=dict)
    after: Dict[str, Any] = field(default_factory=dict)
    pending: List[str] = field(default_factory=list)   # instances named by routes that do not exist (yet)

    def write(self, operation: str, request: Dict[str, Any], label: str, fresh: bool = False) -> Dict[str, Any]:
        self.actions.append(f"{operation} {label}")
        if self.check_mode:
            return {}
        return self.call(operation, fresh, **request)

    def run(self, planned: Planned, label: str, fresh: bool = False) -> None:
        for operation, request in planned:
            self.write(operation, request, label, fresh)

    # -------------------------------------------------------------- VPC
    def vpc(self, want: Dict[str, Any]) -> Dict[str, Any]:
        """The VPC named want['name'] with want['cidr'] (its Name tag and CIDR find it), DNS attributes and tags."""
        found = self.call("describe_vpcs", False, Filters=[{"Name": "tag:Name", "Values": [want["name"]]},
                                                           {"Name": "cidr", "Values": [want["cidr"]]}])["Vpcs"]
        if len(found) > 1:
            raise ValueError(f"vpc: {len(found)} VPCs are named {want['name']} with CIDR {want['cidr']} "
                             f"({', '.join(v['VpcId'] for v in found)}); delete the extra ones")
        tags = dict(want["tags"], Name=want["name"])
        wanted_dns = {"enableDnsSupport": want["dns_support"], "enableDnsHostnames": want["dns_hostnames"]}
        if not found:
            self.before["vpc"] = {}
            self.after["vpc"] = {"cidr": want["cidr"], "tags": tags, **wanted_dns}
            created = self.write("create_vpc", {"CidrBlock": want["cidr"], "TagSpecifications": tag_spec("vpc", tags)}, want["name"])
            if self.check_mode:
                return {}
            vpc_id = created["Vpc"]["VpcId"]
            dns = {"enableDnsSupport": True, "enableDnsHostnames": False}   # what CreateVpc gives
        else:
            vpc_id = found[0]["VpcId"]
            dns = {attr: self.call("describe_vpc_attribute", False, VpcId=vpc_id, Attribute=attr)[attr[0].upper() + attr[1:]]["Value"]
                   for attr in wanted_dns}
            self.before["vpc"] = {"cidr": found[0]["CidrBlock"], "tags": tags_of(found[0]), **dns}
            self.after["vpc"] = {"cidr": want["cidr"], "tags": tags, **wanted_dns}
            self.run(tag_writes(vpc_id, tags_of(found[0]), tags), want["name"])
        for attr, value in wanted_dns.items():
            if dns[attr] != value:
                self.write("modify_vpc_attribute", {"VpcId": vpc_id, attr[0].upper() + attr[1:]: {"Value": value}},
                           f"{want['name']} {attr}={value}", fresh=not found)
        return {"id": vpc_id, "cidr": want["cidr"]}

    # -------------------------------------------------------------- internet gateway
    def internet_gateway(self, vpc_id: str, tags: Dict[str, Any]) -> Dict[str, Any]:
        found = self.call("describe_internet_gateways", False, Filters=[{"Name": "attachment.vpc-id", "Values": [vpc_id]}])["InternetGateways"]
        label = tags.get("Name", "internet gateway")
        self.before["internet_gateway"] = {"tags": tags_of(found[0])} if found else {}
        self.after["internet_gateway"] = {"tags": dict(tags)}
        if found:
            self.run(tag_writes(found[0]["InternetGatewayId"], tags_of(found[0]), tags), label)
            return {"id": found[0]["InternetGatewayId"]}
        created = self.write("create_internet_gateway", {"TagSpecifications": tag_spec("internet-gateway", tags)}, label)
        if self.check_mode:
            return {}
        igw = created["InternetGateway"]["InternetGatewayId"]
        self.write("attach_internet_gateway", {"InternetGatewayId": igw, "VpcId": vpc_id}, label, fresh=True)
        return {"id": igw}

    # -------------------------------------------------------------- security groups
    def security_groups(self, vpc_id: str, groups: List[Dict[str, Any]]) -> Dict[str, str]:
        """Every group of ``groups`` exists in the VPC with exactly its tags and ingress rules: {name: id}."""
        found = {g["GroupName"]: g for g in self._pages("describe_security_groups", "SecurityGroups",
                                                        Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])}
        ids = {name: group["GroupId"] for name, group in found.items()}
        fresh = set()
        for group in groups:
            if group["name"] in found:
                continue
            created = self.write("create_security_group", {"GroupName": group["name"], "Description": group["description"], "VpcId": vpc_id,
                                                           "TagSpecifications": tag_spec("security-group", group["tags"])}, group["name"])
            if created.get("GroupId"):
                ids[group["name"]] = created["GroupId"]
                fresh.add(group["name"])
        names = {gid: name for name, gid in ids.items()}
        before, after = {}, {}
        for group in groups:
            have_group = found.get(group["name"])
            have = rules_of_permissions(have_group.get("IpPermissions") or []) if have_group else {}
            want = desired_rules(group["rules"], ids)
            before[group["name"]] = sorted(rule_text(k, v, names) for k, v in have.items()) if have_group else None
            after[group["name"]] = sorted(rule_text(k, v, names) for k, v in want.items())
            gid = ids.get(group["name"], "new:" + group["name"])
            if have_group:
                self.run(tag_writes(gid, tags_of(have_group), group["tags"]), group["name"])
            self.run(rule_changes(gid, have, want), group["name"], fresh=group["name"] in fresh or any(
                k[3] == "group" and names.get(k[4]) in fresh for k in want))
        self.before["security_groups"] = {k: v for k, v in before.items() if v is not None}
        self.after["security_groups"] = after
        return {group["name"]: ids.get(group["name"], "") for group in groups}

    # -------------------------------------------------------------- route tables
    def route_tables(self, vpc_id: str, tables: List[Dict[str, Any]]) -> Dict[str, str]:
        """Every table of ``tables`` (found by its Name tag) with exactly its tags, routes and subnets: {name: id}.

        A route may name its target instance by ``instance_name`` (its Name tag); one DescribeInstances finds them all."""
        names_wanted = sorted({r["instance_name"] for t in tables for r in t.get("routes") or [] if r.get("instance_name")})
        tables, self.pending = resolve_instance_routes(tables, self.instance_ids(vpc_id, names_wanted))
        existing = self._pages("describe_route_tables", "RouteTables", Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])
        by_name: Dict[str, Dict[str, Any]] = {}
        for table in existing:
            if any(a.get("Main") for a in table.get("Associations") or []):
                continue
            name = tags_of(table).get("Name")
            if name and name not in by_name:
                by_name[name] = table
        ids, fresh = {}, set()
        for table in tables:
            if table["name"] in by_name:
                ids[table["name"]] = by_name[table["name"]]["RouteTableId"]
                continue
            created = self.write("create_route_table", {"VpcId": vpc_id, "TagSpecifications": tag_spec("route-table", table["tags"])},
                                 table["name"])
            ids[table["name"]] = created.get("RouteTable", {}).get("RouteTableId", "new:" + table["name"])
            fresh.add(table["name"])
        before, after = {}, {}
        for table in tables:
            have = by_name.get(table["name"], {})
            tid = ids[table["name"]]
            if have:
                self.run(tag_writes(tid, tags_of(have), table["tags"]), table["name"])
                before[table["name"]] = {"routes": sorted(f"{r.get('DestinationCidrBlock') or r.get('DestinationIpv6CidrBlock')} -> "
                                                          f"{route_target(r)[1]}" for r in have.get("Routes", []) if _managed(r)),
                                         "subnets": sorted(a["SubnetId"] for a in have.get("Associations") or [] if a.get("SubnetId"))}
            after[table["name"]] = {"routes": sorted(route_text(r) for r in table["routes"]),
                                    "subnets": sorted(table["subnets"])}
            self.run(route_changes(tid, have.get("Routes", []), table["routes"]), table["name"], fresh=table["name"] in fresh)
        planned = association_changes({ids[t["name"]]: t["subnets"] for t in tables}, existing, [ids[t["name"]] for t in tables])
        names = {tid: name for name, tid in ids.items()}
        for operation, request in planned:
            table_id = request.get("RouteTableId", "")
            self.write(operation, request, f"{names.get(table_id, table_id)} {request.get('SubnetId', request.get('AssociationId'))}",
                       fresh=names.get(table_id) in fresh)
        self.before["route_tables"], self.after["route_tables"] = before, after
        return {name: tid for name, tid in ids.items() if not tid.startswith("new:")}

    def add_routes(self, vpc_id: str, want: Dict[str, Any]) -> List[str]:
        """The routes of ``want['routes']`` in every route table of the VPC carrying all of ``want['tags']`` (other routes
        stay): the ids of those tables. Routes naming an instance by ``instance_name`` that does not exist are left out."""
        names_wanted = sorted({r["instance_name"] for r in want["routes"] if r.get("instance_name")})
        resolved, self.pending = resolve_instance_routes([{"routes": want["routes"]}], self.instance_ids(vpc_id, names_wanted))
        filters = [{"Name": "vpc-id", "Values": [vpc_id]}] + [{"Name": f"tag:{k}", "Values": [str(v)]} for k, v in sorted(want["tags"].items())]
        tables = self._pages("describe_route_tables", "RouteTables", Filters=filters)
        for table in tables:
            label = tags_of(table).get("Name", table["RouteTableId"])
            self.run(route_changes(table["RouteTableId"], table.get("Routes", []), resolved[0]["routes"], purge=False), label)
        return [t["RouteTableId"] for t in tables]

    def instance_ids(self, vpc_id: str, names: List[str]) -> Dict[str, str]:
        """{Name tag: instance id} of the live instances (not terminated) of the VPC so named; two with one name fail."""
        if not names:
            return {}
        found: Dict[str, str] = {}
        for reservation in self._pages("describe_instances", "Reservations", Filters=[
                {"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "tag:Name", "Values": names},
                {"Name": "instance-state-name", "Values": ["pending", "running", "stopping", "stopped"]}]):
            for instance in reservation.get("Instances", []):
                name = tags_of(instance).get("Name", "")
                if name in found and found[name] != instance["InstanceId"]:
                    raise ValueError(f"route target {name}: two instances carry that Name ({found[name]}, {instance['InstanceId']}); "
                                     "terminate the extra one")
                found[name] = instance["InstanceId"]
        return found

    def _pages(self, operation: str, key: str, **request: Any) -> List[Dict[str, Any]]:
        items: List[Dict[str, Any]] = []
        while True:
            page = self.call(operation, False, **request)
            items.extend(page.get(key, []))
            if not page.get("NextToken"):
                return items
            request["NextToken"] = page["NextToken"]


def reconcile(network: Network, params: Dict[str, Any]) -> Dict[str, Any]:
    """Run the parts ``params`` gives (vpc, internet_gateway, security_groups, route_tables, add_routes) in that order."""
    out: Dict[str, Any] = {}
    vpc_id: Optional[str] = params.get("vpc_id")
    if params.get("vpc"):
        out["vpc"] = network.vpc(params["vpc"])
        vpc_id = out["vpc"].get("id")
    if not vpc_id:   # check mode before the VPC exists: everything else is new too
        return out
    if params.get("internet_gateway") is not None:
        out["internet_gateway"] = network.internet_gateway(vpc_id, params["internet_gateway"]["tags"])
    if params.get("security_groups") is not None:
        out["security_groups"] = network.security_groups(vpc_id, params["security_groups"])
    if params.get("route_tables") is not None:
        out["route_tables"] = network.route_tables(vpc_id, params["route_tables"])
    if params.get("add_routes") is not None:
        out["add_routes"] = network.add_routes(vpc_id, params["add_routes"])
    return out
