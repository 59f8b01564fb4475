"""EC2 fidelity fix: a launch template's own tags stay out of its data.

CreateLaunchTemplate's request-level TagSpecifications (resource type `launch-template`) tag the
template itself; AWS never copies them into LaunchTemplateData (whose TagSpecifications only take
instance, volume, network-interface and spot-instances-request). moto 5.2.5 appends them to the data of
version 1, so a module comparing the desired data with the latest version sees a difference on every
run until a second version exists. The fix removes the `launch-template` entries from the stored data
after moto's handler ran, and changes nothing else.
"""
from __future__ import annotations

from typing import Any

from moto.ec2.responses.launch_templates import LaunchTemplates

_original = LaunchTemplates.create_launch_template


def _create_launch_template(self: Any) -> Any:
    result = _original(self)
    name = self._get_param("LaunchTemplateName")
    template = self.ec2_backend.launch_template_name_to_ids.get(name)
    if template is not None:
        for version in self.ec2_backend.launch_templates[template].versions:
            specs = version.data.get("TagSpecifications")
            if specs:
                kept = [spec for spec in specs if spec.get("ResourceType") != "launch-template"]
                if kept:
                    version.data["TagSpecifications"] = kept
                else:
                    del version.data["TagSpecifications"]
    return result


_create_launch_template.msa_fix = True


def apply() -> None:
    if not getattr(LaunchTemplates.create_launch_template, "msa_fix", False):
        LaunchTemplates.create_launch_template = _create_launch_template
