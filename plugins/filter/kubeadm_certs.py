# Copyright: msa.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Certificate expiry filters; the parser is in module_utils/kubeadm_certs.py.

- kubeadm_cert_expiry(outputs): {node: `kubeadm certs check-expiration` stdout} -> rows
  {node, name, kind, expires, days_left, authority, externally_managed, missing}, nodes in order
- kubeadm_cert_warning(rows, days=30): one line per certificate under `days` days or missing, '' if none
"""
from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible_collections.msa.platform.plugins.module_utils import kubeadm_certs


def _expiry(outputs):
    if not isinstance(outputs, dict):
        raise AnsibleFilterError(f"kubeadm_cert_expiry expects {{node: stdout}}, got {type(outputs).__name__}")
    rows = []
    for node in sorted(outputs):
        try:
            rows += kubeadm_certs.parse_check_expiration(outputs[node], str(node))
        except kubeadm_certs.ParseError as exc:
            raise AnsibleFilterError(str(exc)) from exc
    return rows


def _warning(rows, days=kubeadm_certs.WARN_DAYS):
    if not isinstance(rows, list) or not isinstance(days, int):
        raise AnsibleFilterError("kubeadm_cert_warning expects the rows of kubeadm_cert_expiry and an int")
    return kubeadm_certs.warning(rows, days)


class FilterModule:
    def filters(self):
        return {"kubeadm_cert_expiry": _expiry, "kubeadm_cert_warning": _warning}
