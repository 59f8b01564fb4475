# Copyright: msa.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""AWS naming and address math of the topology: regions, AZs, instance types, subnets.

Subnet allocation: tiers are laid out in the order `network.tiers` lists them. Each tier takes one
block of `az_slots` subnets of its prefix length, aligned on the block size, right after the
previous tier's block; AZ i gets slot i of its tier. Adding an AZ (within az_slots) or appending a
tier never moves an existing subnet.
"""
from __future__ import annotations

import difflib
import functools
import ipaddress
import re

try:
    from botocore import __version__ as BOTOCORE_VERSION
    from botocore.loaders import create_loader
except ImportError:  # reported by region_problem, the only user
    BOTOCORE_VERSION = None

_DIRECTIONS = "north|south|east|west|central|northeast|northwest|southeast|southwest"
_REGION = re.compile(rf"[a-z]{{2,4}}(-gov|-iso[a-z]?|-[a-z]{{2}})?-({_DIRECTIONS})-[0-9]{{1,2}}")
_INSTANCE = re.compile(
    r"[a-z][a-z0-9-]*[0-9][a-z0-9-]*\.(nano|micro|small|medium|large|xlarge|[1-9][0-9]*xlarge|metal|metal-[0-9]+xl)")
# AZ letters to use when the topology does not list AZ names, for regions whose AZs are not a, b, c...
_REGION_AZ_LETTERS = {
    "ap-northeast-1": "acd",
    "ap-northeast-2": "acbd",
    "us-west-1": "ac",
    "sa-east-1": "ac",
}
PRIVATE_RANGES = tuple(ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10"))
RFC1918 = PRIVATE_RANGES[:3]


@functools.lru_cache(maxsize=1)
def known_regions() -> dict:
    """{region: partition} of every region in botocore's partition data (shipped with botocore, read offline).

    Partition-wide pseudo regions (aws-global, aws-cn-global...) are left out: they do not match their
    partition's region pattern and hold no VPCs.
    """
    if BOTOCORE_VERSION is None:
        return {}
    regions = {}
    for partition in create_loader().load_data("partitions")["partitions"]:
        shape = re.compile(partition["regionRegex"].removeprefix("^").removesuffix("$"))
        regions.update((name, partition["id"]) for name in partition["regions"] if shape.fullmatch(name))
    return regions


def region_problem(region: str) -> str:
    """'' when `region` is a region of an AWS partition, else why not."""
    regions = known_regions()
    if region in regions:
        return ""
    if not _REGION.fullmatch(region):
        return "is not an AWS region name; write it like ap-northeast-2 or us-east-1"
    if BOTOCORE_VERSION is None:
        return "cannot be checked: botocore is not installed on the controller; run make setup (pip install -r requirements.txt)"
    match = difflib.get_close_matches(region, list(regions), n=1, cutoff=0.8)
    hint = f" (did you mean {match[0]!r}?)" if match else ""
    return (f"is not a region of any AWS partition{hint}; botocore {BOTOCORE_VERSION} knows {len(regions)} regions. If it is a "
            "region AWS opened recently, upgrade botocore")


def instance_type_problem(instance_type: str) -> str:
    if not _INSTANCE.fullmatch(instance_type):
        return "is not an EC2 instance type; write family.size, e.g. t3.large or m6i.2xlarge"
    return ""


def small_memory(instance_type: str) -> bool:
    """nano and micro sizes have less than 2 GiB of memory in every family."""
    return instance_type.endswith((".nano", ".micro"))


def default_az_names(region: str, count: int) -> list:
    letters = _REGION_AZ_LETTERS.get(region, "abcdef")
    return [region + letter for letter in letters[:count]]


def az_name_problem(region: str, name: str) -> str:
    if not re.fullmatch(rf"{re.escape(region)}[a-z]", name):
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


# The most address space an access list (admin_cidrs, public_access_cidrs) may open: a /8's worth,
# 1/256 of IPv4. Offices, VPNs and CI runners fit many times over; a list broader than this is, for
# an SSH or API endpoint, the internet (0.0.0.0/1 + 128.0.0.0/1 is 0.0.0.0/0 in two lines).
MAX_OPEN_ADDRESSES = 2 ** 24


def open_space_problem(cidrs: list) -> str:
    """'' when the CIDRs together cover at most MAX_OPEN_ADDRESSES addresses, else what they cover."""
    nets = list(ipaddress.collapse_addresses(ipaddress.ip_network(c) for c in cidrs))
    total = sum(n.num_addresses for n in nets)
    if total <= MAX_OPEN_ADDRESSES:
        return ""
    share = total / 2 ** 32
    shown = ", ".join(str(n) for n in nets[:4]) + (", ..." if len(nets) > 4 else "")
    return (f"together cover {total} addresses ({share:.1%} of IPv4; collapsed: {shown}), more than the {MAX_OPEN_ADDRESSES} "
            "(a /8) an access list may open; list your office, VPN or CI CIDRs")
