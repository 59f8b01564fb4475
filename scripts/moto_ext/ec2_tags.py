"""EC2 emulator speed: a resource's own tags by direct lookup, not by scanning every tag of the region.

moto 5.2 answers `TaggedEC2Resource.get_tags()` with `describe_tags(filters={"resource-id": [id]})`, which runs a
regular expression over every tag of every resource in the region. Describing instances calls it once per instance
for the response and once more per `tag:` filter, so DescribeInstances grows with the square of the instance count:
at 10,000 instances one paginated describe took the emulator 887 s (15 minutes; 4 s at 300) and clients timed out.
The tags are already kept per resource id (`TagBackend.tags`); reading that entry gives the same list, in the same
order and shape (resource id, key, value, resource type), as the scan: an id has no wildcard, so the scan's pattern
matches exactly that id. Nothing a client sees changes except the time.
"""
from __future__ import annotations

from moto.ec2.models import core
from moto.ec2.utils import EC2_PREFIX_TO_RESOURCE, get_prefix


def _get_tags(self) -> list[dict[str, str]]:
    resource_id = self.id
    if not resource_id:
        return []
    tags = self.ec2_backend.tags
    own = tags.get(resource_id) if resource_id in tags else None   # .get on the defaultdict would add an entry
    if not own:
        return []
    kind = EC2_PREFIX_TO_RESOURCE.get(get_prefix(resource_id), "")
    return [{"resource_id": resource_id, "key": key, "value": value, "resource_type": kind} for key, value in own.items()]


def apply() -> None:
    if core.TaggedEC2Resource.get_tags is not _get_tags:
        core.TaggedEC2Resource.get_tags = _get_tags
