"""moto_server with one fidelity fix: what scripts/emulator.py runs (a script, like moto_server).

Real EC2 accepts an ingress rule for a protocol number other than tcp/udp/icmp (Calico's IP-in-IP is
protocol 4) without ports, and describes it without ports. moto 5.2 raises a TypeError (HTTP 500) on
such a rule because it casts the missing ports to int. The fix stores the rule without ports, as AWS
does, and changes nothing else.
"""
from __future__ import annotations

import sys

from moto.ec2.models import instances, security_groups
from moto.server import main

_PORTED = {"tcp", "udp", "icmp", "icmpv6", "6", "17", "1", "58", "-1", "all"}
_original_init = security_groups.SecurityGroupRule.__init__


def _init(self, ec2_backend, ip_protocol, group_id, from_port, to_port, *args, **kwargs):
    portless = ip_protocol is not None and str(ip_protocol).lower() not in _PORTED and from_port is None
    _original_init(self, ec2_backend, ip_protocol, group_id, -1 if portless else from_port, -1 if portless else to_port, *args, **kwargs)
    if portless:
        self.from_port = self.to_port = None


security_groups.SecurityGroupRule.__init__ = _init


# ---------------------------------------------------------------- compute fidelity (aws_compute, issue 12/13)
# ModifyInstanceMetadataOptions: AWS keeps the current value of every option the request leaves out (API
# reference: "If you don't specify a value, the default is the current state"); moto 5.2 replaces the whole set,
# so a later describe shows HttpEndpoint, HttpProtocolIpv6 and InstanceMetadataTags missing, which real EC2
# never does (and amazon.aws.ec2_instance then sends them as null). The fix merges the request into the current options.
_original_modify_metadata = instances.InstanceBackend.modify_instance_metadata_options


def _modify_metadata(self, instance_id, http_tokens=None, hop_limit=None, http_endpoint=None, dry_run=False, http_protocol=None,
                     metadata_tags=None):
    current = dict(getattr(self.get_instance(instance_id).metadata_options, "__dict__", {}) or {})
    current = {k: v for k, v in current.items() if v is not None}
    given = {"http_tokens": http_tokens, "hop_limit": hop_limit, "http_endpoint": http_endpoint, "http_protocol": http_protocol,
             "metadata_tags": metadata_tags}
    keys = {"http_tokens": "http_tokens", "hop_limit": "http_put_response_hop_limit", "http_endpoint": "http_endpoint",
            "http_protocol": "http_protocol_ipv6", "metadata_tags": "instance_metadata_tags"}
    merged = {arg: value if value is not None else current.get(keys[arg]) for arg, value in given.items()}
    return _original_modify_metadata(self, instance_id, dry_run=dry_run, **merged)


instances.InstanceBackend.modify_instance_metadata_options = _modify_metadata

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
