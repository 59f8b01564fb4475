"""EC2 fidelity fix: security group rules for protocols without ports.

Real EC2 accepts an ingress rule for a protocol number other than tcp/udp/icmp (Calico's IP-in-IP is
protocol 4) without ports, and describes it without ports. moto 5.2 raises a TypeError (HTTP 500) on
such a rule because it casts the missing ports to int. The fix stores the rule without ports, as AWS
does, and changes nothing else.
"""
from __future__ import annotations

from moto.ec2.models import security_groups

_PORTED = {"tcp", "udp", "icmp", "icmpv6", "6", "17", "1", "58", "-1", "all"}
_original_init = security_groups.SecurityGroupRule.__init__


def _init(self, ec2_backend, ip_protocol, group_id, from_port, to_port, *args, **kwargs):
    portless = ip_protocol is not None and str(ip_protocol).lower() not in _PORTED and from_port is None
    _original_init(self, ec2_backend, ip_protocol, group_id, -1 if portless else from_port, -1 if portless else to_port, *args, **kwargs)
    if portless:
        self.from_port = self.to_port = None


def apply() -> None:
    if security_groups.SecurityGroupRule.__init__ is not _init:
        security_groups.SecurityGroupRule.__init__ = _init
