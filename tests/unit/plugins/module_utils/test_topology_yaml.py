"""Strict YAML reading: syntax errors carry file:line:column, duplicate keys are errors, Ansible's tags load."""
from __future__ import annotations

import pytest
from ansible_collections.msa.platform.plugins.module_utils.topology_yaml import check_file, check_text

PATH = "inv/group_vars/all/topology.yml"

BROKEN = [
    # (case, text, expected problem prefix, fragment)
    ("tab-indent", "platform:\n  name: shop\n\tregion: us-east-1\n", f"{PATH}:3:1: ", "a tab character"),
    ("tab-after-key", "platform:\n  name:\tshop\n", f"{PATH}:2:8: ", "a tab character"),
    ("unclosed-bracket", "platform:\n  tiers: [public, app\n  name: shop\n", f"{PATH}:3:7: ", "flow sequence opened at line 2, column 10"),
    ("unclosed-brace", "platform:\n  network: {admin_cidrs: [203.0.113.0/24]\n", f"{PATH}:3:1: ", "flow mapping opened at line 2, column 12"),
    ("bad-escape", 'platform:\n  name: "sh\\op"\n', f"{PATH}:2:13: ", "unknown escape character 'o'"),
    ("unclosed-quote", "platform:\n  name: 'shop\n  region: x\n", f"{PATH}:4:1: ", "quoted scalar opened at line 2, column 9"),
    ("bad-indent", "platform:\n  name: shop\n   region: x\n", f"{PATH}:3:10: ", "mapping values are not allowed here"),
    ("duplicate-top", "platform:\n  name: a\n  region: us-east-1\n  name: b\n", f"{PATH}:4:3: ", "duplicate key 'name' (first at line 2, column 3)"),
    ("duplicate-flow", "platform:\n  pools:\n    - {name: a, role: worker, name: b}\n", f"{PATH}:3:31: ", "duplicate key 'name' (first at line 3"),
    ("duplicate-deep", "platform:\n  services:\n    redis:\n      port: 1\n      port: 2\n", f"{PATH}:5:7: ", "duplicate key 'port'"),
]


@pytest.mark.parametrize(("case", "text", "prefix", "fragment"), BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_yaml_names_file_line_and_column(case, text, prefix, fragment):
    data, problems = check_text(text, PATH)
    assert data is None
    assert len(problems) == 1, problems
    assert problems[0].startswith(prefix), problems
    assert fragment in problems[0], problems


def test_bad_escape_says_how_to_fix_it():
    assert "use single quotes" in check_text('name: "C:\\path"\n', PATH)[1][0]


def test_every_duplicate_is_reported_at_once():
    text = "platform:\n  name: a\n  name: b\n  pools:\n    - {name: x, name: y}\n    - {name: z}\n  name: c\n"
    problems = check_text(text, PATH)[1]
    assert [p.split(": ")[0] for p in problems] == [f"{PATH}:3:3", f"{PATH}:5:17", f"{PATH}:7:3"]


def test_merge_keys_still_override_as_yaml_defines():
    text = "base: &base {nat: single, azs: 2}\nplatform:\n  network:\n    <<: *base\n    azs: 3\n"
    data, problems = check_text(text, PATH)
    assert problems == []
    assert data["platform"]["network"] == {"nat": "single", "azs": 3}


def test_ansible_tags_and_vaulted_files_are_accepted():
    text = "secret: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  6162\nraw: !unsafe '{{ not_templated }}'\n"
    data, problems = check_text(text, PATH)
    assert problems == [] and data["raw"] == "{{ not_templated }}"
    assert check_text("$ANSIBLE_VAULT;1.1;AES256\n616263\n", PATH) == (None, [])


def test_valid_file_loads(tmp_path):
    path = tmp_path / "topology.yml"
    path.write_text("---\nplatform:\n  name: shop\n  pools: [{name: w, role: worker}]\n")
    assert check_file(str(path)) == ({"platform": {"name": "shop", "pools": [{"name": "w", "role": "worker"}]}}, [])


def test_unreadable_files_are_problems_not_exceptions(tmp_path):
    assert check_file(str(tmp_path / "missing.yml"))[1][0].startswith(f"{tmp_path / 'missing.yml'}: cannot be read")
    binary = tmp_path / "binary.yml"
    binary.write_bytes(b"name: \xff\xfe\n")
    assert "cannot be read" in check_file(str(binary))[1][0]
