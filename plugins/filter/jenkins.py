# Copyright: msa.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the jenkins role; the logic is in module_utils/jenkins.py.

- jenkins_plugins(update_center, wanted, core): the wanted plugins and their required dependencies as the update
  center lists them ([{name, version, url, sha256 (hex)}]); an unknown plugin or one needing a newer core fails.
"""
from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible_collections.msa.platform.plugins.module_utils.jenkins import plugin_set


def jenkins_plugins(update_center, wanted, core):
    try:
        return plugin_set(update_center, list(wanted), str(core))
    except ValueError as err:
        raise AnsibleFilterError(f"jenkins_plugins: {err}") from None


class FilterModule:
    def filters(self):
        return {"jenkins_plugins": jenkins_plugins}
