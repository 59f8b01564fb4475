"""msa.platform.strict_vars: host_group_vars behind a strict check of every file it loads."""
from __future__ import annotations

import pytest
from ansible.errors import AnsibleParserError
from ansible.parsing.dataloader import DataLoader
from ansible_collections.msa.platform.plugins.vars.strict_vars import VarsModule


@pytest.fixture
def plugin():
    return VarsModule()


def test_clean_files_load_exactly_as_host_group_vars(plugin, tmp_path):
    first, second = tmp_path / "a.yml", tmp_path / "b.yml"
    first.write_text("platform: {name: shop}\nkeep: 1\n")
    second.write_text("platform: {name: other}\n")
    data = plugin.load_found_files(DataLoader(), {}, [str(first), str(second)])
    assert data == {"platform": {"name": "other"}, "keep": 1}


def test_every_problem_of_every_file_is_reported_before_anything_loads(plugin, tmp_path):
    tab, dup = tmp_path / "tab.yml", tmp_path / "dup.yml"
    tab.write_text("platform:\n\tname: shop\n")
    dup.write_text("platform:\n  name: a\n  name: b\n")
    with pytest.raises(AnsibleParserError) as err:
        plugin.load_found_files(DataLoader(), {}, [str(tab), str(dup)])
    message = str(err.value)
    assert message.startswith("2 problems in the inventory's vars files (nothing was changed):")
    assert f"- {tab}:2:1: a tab character" in message
    assert f"- {dup}:3:3: duplicate key 'name' (first at line 2, column 3)" in message


def test_a_fixed_file_is_checked_again(plugin, tmp_path):
    path = tmp_path / "topology.yml"
    path.write_text("platform:\n  name: a\n  name: b\n")
    with pytest.raises(AnsibleParserError):
        plugin.load_found_files(DataLoader(), {}, [str(path)])
    path.write_text("platform:\n  name: fixed\n")
    assert plugin.load_found_files(DataLoader(), {}, [str(path)]) == {"platform": {"name": "fixed"}}


def test_the_collection_plugin_does_not_carry_requires_enabled(plugin):
    assert not hasattr(plugin, "REQUIRES_ENABLED")
