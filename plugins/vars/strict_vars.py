# Copyright: msa.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
name: strict_vars
short_description: Load group_vars and host_vars, rejecting YAML errors with file, line and column, and duplicate keys
version_added: "0.2.0"
description:
  - Loads C(group_vars/) and C(host_vars/) exactly as ansible-core's C(host_group_vars) does (same files, same
    extensions, same merging, vault included), after checking each file strictly.
  - A YAML syntax error (a tab, an unclosed bracket or quote, a bad escape) fails with C(file:line:column) and, for
    an unclosed bracket, where it was opened; ansible-core's own message names neither the file nor the line.
  - A duplicate key is an error naming both places; ansible-core keeps the last value with only a warning, so a
    repeated C(name:) in the topology would silently win.
  - The collection's C(ansible.cfg) enables it in place of C(host_group_vars) (C(vars_plugins_enabled)); enable
    only one of the two, or files are loaded twice.
requirements:
  - Enabled in configuration (C(vars_plugins_enabled = msa.platform.strict_vars)).
options:
  stage:
    ini:
      - key: stage
        section: vars_host_group_vars
    env:
      - name: ANSIBLE_VARS_PLUGIN_STAGE
  _valid_extensions:
    default: [".yml", ".yaml", ".json"]
    description:
      - File extensions of vars files, as for C(host_group_vars).
    env:
      - name: ANSIBLE_YAML_FILENAME_EXT
    ini:
      - key: yaml_valid_extensions
        section: defaults
    type: list
    elements: string
extends_documentation_fragment:
  - vars_plugin_staging
author:
  - msa.platform maintainers (@msa-platform)
"""

import os

from ansible.errors import AnsibleParserError
from ansible.plugins.vars.host_group_vars import VarsModule as HostGroupVars
from ansible_collections.msa.platform.plugins.module_utils.topology_yaml import check_file

# (path, mtime, size) -> problems: get_vars runs once per host and play; each file is parsed once.
_CHECKED = {}


def _problems(path: str) -> list:
    try:
        stat = os.stat(path)
    except OSError as err:
        return [f"{path}: cannot be read: {err}"]
    key = (path, stat.st_mtime_ns, stat.st_size)
    if key not in _CHECKED:
        _CHECKED[key] = check_file(path)[1]
    return _CHECKED[key]


class VarsModule(HostGroupVars):
    """host_group_vars with a strict check of every file before ansible-core reads it."""

    @property
    def REQUIRES_ENABLED(self):
        # Hides host_group_vars' flag: ansible-core warns when a collection vars plugin has one.
        raise AttributeError("REQUIRES_ENABLED")

    def load_found_files(self, loader, data, found_files):
        problems = []
        for found in found_files:
            problems.extend(_problems(found))
        if problems:
            raise AnsibleParserError("{} problem{} in the inventory's vars files (nothing was changed):\n{}".format(
                len(problems), "" if len(problems) == 1 else "s", "\n".join("- " + p for p in problems)))
        return super().load_found_files(loader, data, found_files)
