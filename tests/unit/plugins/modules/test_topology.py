"""The msa.platform.topology module: exit with the plan as a fact, or fail listing every error."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from ansible.module_utils.testing import patch_module_args
from ansible_collections.msa.platform.plugins.modules import topology as module

ROOT = Path(__file__).resolve().parents[4]
MINIMAL = ROOT / "inventories" / "examples" / "minimal-kubeadm" / "group_vars" / "all" / "topology.yml"


def run(args: dict, capsys, check_mode: bool = False) -> tuple:
    if check_mode:
        args = dict(args, _ansible_check_mode=True)
    with patch_module_args(args), pytest.raises(SystemExit) as exit_info:
        module.main()
    return exit_info.value.code, json.loads(capsys.readouterr().out)


def topology() -> dict:
    return yaml.safe_load(MINIMAL.read_text())["platform"]


@pytest.mark.parametrize("check_mode", [False, True])
def test_valid_topology_sets_the_plan_fact(capsys, check_mode):
    code, result = run({"topology": topology()}, capsys, check_mode)
    assert code == 0
    assert result["changed"] is False
    assert result["ansible_facts"]["msa_plan"] == result["plan"]
    assert [n["name"] for n in result["plan"]["nodes"]] == ["mini-cp-1", "mini-worker-1"]


def test_invalid_topology_fails_with_every_error(capsys):
    bad = topology()
    bad["region"] = "nowhere"
    bad["pools"][0]["count"] = 2
    bad["pools"][1]["taints"] = [{"key": "k", "effect": "NoSchedul"}]
    code, result = run({"topology": bad}, capsys)
    assert code == 1
    assert result["failed"] is True and result["changed"] is False
    assert "ansible_facts" not in result and "plan" not in result
    lines = result["msg"].splitlines()
    assert lines[0] == "3 errors in the topology (nothing was changed):"
    assert lines[1:] == ["- " + e for e in result["errors"]]
    assert [e.split(":")[0] for e in result["errors"]] == ["pools[1].taints[0].effect", "region", "pools[0].count"]


def test_az_names_option(capsys):
    code, result = run({"topology": topology(), "az_names": ["ap-northeast-2b", "ap-northeast-2d"]}, capsys)
    assert code == 0
    assert result["plan"]["network"]["azs"] == ["ap-northeast-2b", "ap-northeast-2d"]


def test_one_error_is_singular(capsys):
    bad = topology()
    bad["name"] = "X"
    code, result = run({"topology": bad}, capsys)
    assert code == 1 and result["msg"].startswith("1 error in the topology")


def test_documentation_matches_argument_spec():
    doc = yaml.safe_load(module.DOCUMENTATION)
    assert set(doc["options"]) == {"topology", "az_names"}
    assert doc["options"]["topology"]["required"] is True
    yaml.safe_load(module.EXAMPLES)
    ret = yaml.safe_load(module.RETURN)
    assert set(ret["plan"]["contains"]) == {"name", "region", "tags", "kubernetes", "network", "pools", "nodes", "groups",
                                            "security_groups", "services"}
