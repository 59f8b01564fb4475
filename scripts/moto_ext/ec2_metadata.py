"""EC2 fidelity fix: ModifyInstanceMetadataOptions keeps the options a request leaves out.

AWS keeps the current value of every option the request does not name (API reference: "If you don't
specify a value, the default is the current state"); moto 5.2 replaces the whole set, so a later
describe shows HttpEndpoint, HttpProtocolIpv6 and InstanceMetadataTags missing, which real EC2 never
does (and amazon.aws.ec2_instance then sends them as null). The fix merges the request into the
current options.
"""
from __future__ import annotations

from moto.ec2.models import instances

_original_modify_metadata = instances.InstanceBackend.modify_instance_metadata_options
# request argument -> attribute of moto's stored metadata options
_STORED = {"http_tokens": "http_tokens", "hop_limit": "http_put_response_hop_limit", "http_endpoint": "http_endpoint",
           "http_protocol": "http_protocol_ipv6", "metadata_tags": "instance_metadata_tags"}


def _modify_metadata(self, instance_id, http_tokens=None, hop_limit=None, http_endpoint=None, dry_run=False, http_protocol=None,
                     metadata_tags=None):
    current = dict(getattr(self.get_instance(instance_id).metadata_options, "__dict__", {}) or {})
    current = {k: v for k, v in current.items() if v is not None}
    given = {"http_tokens": http_tokens, "hop_limit": hop_limit, "http_endpoint": http_endpoint, "http_protocol": http_protocol,
             "metadata_tags": metadata_tags}
    merged = {arg: value if value is not None else current.get(_STORED[arg]) for arg, value in given.items()}
    return _original_modify_metadata(self, instance_id, dry_run=dry_run, **merged)


def apply() -> None:
    if instances.InstanceBackend.modify_instance_metadata_options is not _modify_metadata:
        instances.InstanceBackend.modify_instance_metadata_options = _modify_metadata
