"""docs/topology.md and the schema cannot drift: every field documented exactly, nothing undocumented."""
from __future__ import annotations

import re
from pathlib import Path

from ansible_collections.msa.platform.plugins.module_utils.topology_schema import (
    role_rows,
    schema_rows,
)

DOC = Path(__file__).resolve().parents[4] / "docs" / "topology.md"


def _cells(line: str) -> list:
    return [c.strip().strip("`") for c in line.strip().strip("|").split("|")]


def _table(header: str) -> list:
    lines = DOC.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header))
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        rows.append(_cells(line))
    return rows


def test_every_field_is_documented_with_its_type_default_and_allowed_values():
    documented = [tuple(r[:4]) for r in _table("| Field |")]
    expected = [tuple(r) for r in schema_rows()]
    missing = sorted({r[0] for r in expected} - {r[0] for r in documented})
    extra = sorted({r[0] for r in documented} - {r[0] for r in expected})
    assert not missing, f"fields missing from docs/topology.md: {missing}"
    assert not extra, f"docs/topology.md documents fields the schema does not have: {extra}"
    assert documented == expected


def test_every_field_has_a_description():
    assert all(r[4] for r in _table("| Field |"))


def test_role_defaults_are_documented():
    assert [tuple(r) for r in _table("| Role |")] == [tuple(r) for r in role_rows()]


def test_documented_paths_look_like_error_paths():
    for row in _table("| Field |"):
        assert re.match(r"^[a-z_]+(\[\])?(\.[a-z][a-z0-9_]*(\[\])?)*$", row[0]), row[0]
