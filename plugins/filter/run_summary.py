# Copyright: msa.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of playbooks/summary.yml; the logic is in module_utils/run_summary.py.

- run_summary(plan, ips, endpoints, skipped, phases, certs, started): the summary as data
- run_summary_skipped(site_skip, reasons, reported): [{layer, why, instead}], each layer once
- run_summary_phases(marks, end): [{phase, seconds}] from [{phase, start}] and the end (epoch seconds)
- run_summary_markdown(summary), run_summary_mermaid(summary), run_summary_dot(summary): the renderings
"""
from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible_collections.msa.platform.plugins.module_utils import run_summary


def _summary(plan, ips, endpoints=None, skipped=None, phases=None, certs=None, started=""):
    if not isinstance(plan, dict) or not isinstance(ips, dict):
        raise AnsibleFilterError("run_summary: expects the plan (msa_plan) and {node: private IP} as dicts")
    return run_summary.build(plan, ips, endpoints, skipped, phases, certs, str(started or ""))


def _phases(marks, end):
    try:
        return run_summary.phase_times(marks, float(end))
    except (TypeError, ValueError) as exc:
        raise AnsibleFilterError(f"run_summary_phases: marks need numeric 'start' and end must be a number ({exc})") from exc


class FilterModule:
    def filters(self):
        return {
            "run_summary": _summary,
            "run_summary_skipped": run_summary.skipped_layers,
            "run_summary_phases": _phases,
            "run_summary_markdown": run_summary.markdown,
            "run_summary_mermaid": run_summary.mermaid,
            "run_summary_dot": run_summary.dot,
        }
