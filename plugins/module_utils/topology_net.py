# Copyright: msa.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""AWS naming and address math of the topology: regions, AZs, instance types, subnets.

Subnet allocation: tiers are laid out in the order `network.tiers` lists them. Each tier takes one
block of `az_slots` subnets of its prefix length, aligned on the block size, right after the
previous tier's block; AZ i gets slot i of its tier. Adding an AZ (within az_slots) or appending a
tier never moves an existing subnet.
"""
from __future__ import annotations

import ipaddress
import re

_DIRECTIONS = "north|south|east|west|central|northeast|northwest|southeast|southwest"
_REGION = re.compile(rf"^[a-z]{{2}}(-gov|-iso[a-z]?)?-({_DIRECTIONS})-[0-9]{{1,2}}$")
_INSTANCE = re.compile(
    r"^[a-z][a-z0-9-]*[0-9][a-z0-9-]*\.(nano|micro|small|medium|large|xlarge|[1-9][0-9]*xlarge|metal|metal-[0-9]+xl)$")
# AZ letters to use when the topology does not list AZ names, for regions whose AZs are not a, b, c...
_REGION_AZ_LETTERS = {
    "ap-northeast-1": "acd",
    "ap-northeast-2": "acbd",
    "us-west-1": "ac",
    "sa-east-1": "ac",
}
PRIVATE_RANGES = tuple(ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10"))
RFC1918 = PRIVATE_RANGES[:3]


def region_problem(region: str) -> str:
    if not _REGION.match(region):
        return "is not an AWS region name; write it like ap-northeast-2 or us-east-1"
    return ""


def instance_type_problem(instance_type: str) -> str:
    if not _INSTANCE.match(instance_type):
        return "is not an EC2 instance type; write family.size, e.g. t3.large or m6i.2xlarge"
    return ""


def small_memory(instance_type: str) -> bool:
    """nano and micro sizes have less than 2 GiB of memory in every family."""
    return instance_type.endswith((".nano", ".micro"))


def default_az_names(region: str, count: int) -> list:
    letters = _REGION_AZ_LETTERS.get(region, "abcdef")
    return [region + letter for letter in letters[:count]]


def az_name_problem(region: str, name: str) -> str:
    if not re.match(rf"^{re.escape(region)}[a-z]$", name):
        return f"is not an AZ of {region}; write {region}a, {region}b..."
    return ""


def az_suffix(region: str, az: str) -> str:
    return az.removeprefix(region)


def is_private(cidr: str) -> bool:
    net = ipaddress.ip_network(cidr)
    return any(net.subnet_of(r) for r in PRIVATE_RANGES)


def is_rfc1918(cidr: str) -> bool:
    net = ipaddress.ip_network(cidr)
    return any(net.subnet_of(r) for r in RFC1918)


def overlaps(a: str, b: str) -> bool:
    return ipaddress.ip_network(a).overlaps(ipaddress.ip_network(b))


def allocate(vpc: str, tiers: list, prefixes: dict, azs: int, slots: int):
    """Subnet CIDRs per tier, as ({tier: [cidr of AZ 0, AZ 1, ...]}, addresses used); ({}, used) if they do not fit."""
    net = ipaddress.ip_network(vpc)
    start = int(net.network_address)
    offset = 0
    starts = {}
    for tier in tiers:
        size = 2 ** (32 - prefixes[tier])
        offset = -(-offset // size) * size
        starts[tier] = (offset, size)
        offset += size * slots
    if offset > net.num_addresses:
        return {}, offset
    out = {}
    for tier, (first, size) in starts.items():
        out[tier] = [str(ipaddress.ip_network((start + first + i * size, prefixes[tier]))) for i in range(azs)]
    return out, offset
