"""Every role declares each input once: defaults/main.yml and meta/argument_specs.yml agree.

A secret has no default anywhere and is declared no_log; public inputs are role-prefixed;
internal constants in vars/main.yml are prefixed with an underscore.
"""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
# `common` is a library of task files, each with its own entry point and no defaults.
ROLES = sorted(p.name for p in (ROOT / "roles").iterdir() if (p / "meta" / "argument_specs.yml").exists() and p.name != "common")


def test_every_role_is_checked():
    assert {"aws_network", "aws_compute", "postgresql", "redis", "rabbitmq", "kafka", "monitoring"} <= set(ROLES)


@pytest.mark.parametrize("role", ROLES)
def test_defaults_and_argument_specs_declare_the_same_inputs(role):
    path = ROOT / "roles" / role
    defaults = yaml.safe_load((path / "defaults" / "main.yml").read_text()) or {}
    entry_points = yaml.safe_load((path / "meta" / "argument_specs.yml").read_text())["argument_specs"]
    assert "main" in entry_points
    options = {name: spec for entry in entry_points.values() for name, spec in entry.get("options", {}).items()}
    secrets = sorted(name for name, spec in options.items() if spec.get("no_log"))
    required = sorted(name for name, spec in options.items() if spec.get("required"))
    assert sorted(defaults) == sorted(set(options) - set(secrets) - set(required))
    for name, spec in options.items():
        assert spec.get("description") and spec.get("type"), f"{role}: {name}"
        assert name.startswith(f"{role}_"), name
        if name in secrets or name in required:
            assert "default" not in spec, f"{role}: {name} is a secret or required and has a default"
        else:
            assert spec.get("default") == defaults[name], f"{role}: {name} default differs"
    vars_file = path / "vars" / "main.yml"
    internal = (yaml.safe_load(vars_file.read_text()) or {}) if vars_file.exists() else {}
    assert all(name.startswith(f"_{role}_") for name in internal), sorted(internal)
