# Copyright: msa.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the add-ons layer; the logic is in module_utils/addons.py.

- addons_manifests(plan, part): the Kubernetes objects of `part` (domains, storage, ingress, gitops) for the plan
- addons_is_patch(obj): true for a storage demote patch (apply it as a merge patch), false for a whole object
- addons_namespaces(plan): every namespace the platform manages, with its resolved quota, limits and reach
- addons_endpoints(plan, endpoints): ExternalName Services and connection ConfigMaps of the data services, in
  every namespace that may reach them, from the data layer's endpoints ([{name, kind, address, port, note}])
"""
from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible_collections.msa.platform.plugins.module_utils import addons


def addons_manifests(plan, part):
    if not isinstance(plan, dict) or "kubernetes" not in plan:
        raise AnsibleFilterError("addons_manifests: the first argument must be the plan (msa_plan)")
    if part not in addons.PARTS:
        raise AnsibleFilterError(f"addons_manifests: part {part!r} is not one of {', '.join(addons.PARTS)}")
    return addons.manifests(plan, part)


def addons_endpoints(plan, endpoints):
    if not isinstance(plan, dict) or "kubernetes" not in plan:
        raise AnsibleFilterError("addons_endpoints: the first argument must be the plan (msa_plan)")
    try:
        return addons.endpoint_objects(plan, endpoints)
    except ValueError as err:
        raise AnsibleFilterError(f"addons_endpoints: {err}") from err


class FilterModule:
    def filters(self):
        return {
            "addons_manifests": addons_manifests,
            "addons_is_patch": addons.is_patch,
            "addons_namespaces": addons.namespaces,
            "addons_endpoints": addons_endpoints,
        }
