"""Roles check their inputs with patterns that match the whole value.

Jinja's `match` test is Python's re.match: it anchors only the start, and `$` also matches before a
final newline, so `name is match('^[a-z]+$')` accepts "shop\\n". A whole-value check is written
`is regex('...', match_type='fullmatch')`; `match` / `search` stay for prefix checks and for scanning
command output with (?m).
"""
from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
SOURCES = sorted([*ROOT.glob("roles/*/tasks/*.yml"), *ROOT.glob("roles/*/handlers/*.yml"), *ROOT.glob("roles/*/vars/*.yml"),
                  *ROOT.glob("playbooks/*.yml")])
TESTED = re.compile(r"""(?:is(?:\s+not)?|\|)\s*(match|search|regex|regex_search)\(\s*(['"])(.*?)(?<!\\)\2\s*(,[^)]*)?\)""")


def _patterns():
    for source in SOURCES:
        for n, line in enumerate(source.read_text().splitlines(), 1):
            for m in TESTED.finditer(line):
                yield f"{source.relative_to(ROOT)}:{n}", m.group(1), m.group(3), m.group(4) or ""


def test_the_scan_finds_the_role_checks():
    found = [p for p in _patterns() if "aws_network/tasks/preflight.yml" in p[0]]
    assert found and found[0][1] == "regex" and "fullmatch" in found[0][3]


@pytest.mark.parametrize(("where", "test", "pattern", "args"), list(_patterns()), ids=lambda v: v if ":" in str(v) else None)
def test_no_check_ends_with_a_dollar_that_lets_a_newline_through(where, test, pattern, args):
    multiline = pattern.startswith("(?m)")
    anchored_end = re.search(r"(?<!\\)\$\)*$", pattern) is not None
    if test == "regex" and "fullmatch" in args:
        assert not pattern.startswith("^") and not anchored_end, f"{where}: fullmatch needs no ^/$ anchors: {pattern}"
    else:
        assert multiline or not anchored_end, (f"{where}: {test}({pattern!r}) accepts a trailing newline; write "
                                               f"is regex({pattern.strip('^$')!r}, match_type='fullmatch')")


def test_aws_network_rejects_a_name_with_a_trailing_newline(tmp_path):
    """The real assert, run by ansible-playbook: the name check of the network role full-matches."""
    playbook = tmp_path / "preflight.yml"
    playbook.write_text("""
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Network preflight
      ansible.builtin.include_role:
        name: msa.platform.aws_network
        tasks_from: preflight
      vars:
        aws_network_subnets: [{name: a, tier: app, az: ap-northeast-2a, az_index: 0, cidr: 10.0.4.0/24, public: false}]
        aws_network_nat: none
        aws_network_security_groups: []
""")
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_CACHE_PLUGIN="memory", ANSIBLE_NOCOLOR="1")
    results = {}
    for name in ("shop", "shop\n"):
        run = subprocess.run([str(ROOT / ".venv" / "bin" / "ansible-playbook"), "-i", "localhost,", "-c", "local", str(playbook),
                              "-e", json.dumps({"aws_network_name": name})],
                             cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
        results[name] = (run.returncode, run.stdout + run.stderr)
    assert results["shop"][0] == 0, results["shop"][1]
    assert results["shop\n"][0] == 2 and "aws_network_name is regex(" in results["shop\n"][1], results["shop\n"][1]
