"""Every string field of the schema, derived from the schema itself: a trailing newline is rejected at its
path (full-match semantics everywhere), and an empty string is an error unless the schema allows it.

The string fields are found by walking SCHEMA, so a field added later is tested too: the `full_*`
topologies of topology_cases must give it a value, which test_full_topologies_cover_every_string_field
demands by name.
"""
from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest
from ansible_collections.msa.platform.plugins.module_utils import k8s_nodes, topology_k8s, topology_net
from ansible_collections.msa.platform.plugins.module_utils.topology import validate
from ansible_collections.msa.platform.plugins.module_utils.topology_schema import SCHEMA, join
from topology_cases import full_eks, full_kubeadm

PLUGINS = Path(__file__).resolve().parents[4] / "plugins"


def _string_fields(field=SCHEMA, segments=(), modes=()):
    """(segments, field, modes) of every str/cidr leaf; segments are keys, '[]' (list item) and '{}' (map value);
    modes holds the `modes` of every field on the way down."""
    out = []
    for key, sub in field.fields:
        path, sub_modes = (*segments, key), (*modes, sub.modes)
        if sub.kind == "dict":
            out += _string_fields(sub, path, sub_modes)
        elif sub.kind in ("list", "map"):
            item_path = (*path, "[]" if sub.kind == "list" else "{}")
            if sub.item.kind == "dict":
                out += _string_fields(sub.item, item_path, sub_modes)
            elif sub.item.kind in ("str", "cidr"):
                out.append((item_path, sub.item, sub_modes))
        elif sub.kind in ("str", "cidr"):
            out.append((path, sub, sub_modes))
    return out


def _map_fields(field=SCHEMA, segments=(), modes=()):
    """(segments, modes) of every map (labels, tags): free-form keys the checks must also full-match."""
    out = []
    for key, sub in field.fields:
        path, sub_modes = (*segments, key), (*modes, sub.modes)
        if sub.kind == "map":
            out.append((path, sub_modes))
        elif sub.kind == "dict":
            out += _map_fields(sub, path, sub_modes)
        elif sub.kind == "list" and sub.item.kind == "dict":
            out += _map_fields(sub.item, (*path, "[]"), sub_modes)
    return out


def _locate(value, segments, path=""):
    """(container, key, error path) of the first place `segments` reaches in `value`, or None."""
    head, rest = segments[0], segments[1:]
    if head in ("[]", "{}"):
        keys = range(len(value)) if head == "[]" and isinstance(value, list) else list(value) if isinstance(value, dict) else []
    else:
        keys = [head] if isinstance(value, dict) and head in value else []
    for key in keys:
        if not rest:
            return value, key, join(path, key)
        found = _locate(value[key], rest, join(path, key))
        if found:
            return found
    return None


def _eks_only(modes) -> bool:
    return any(m and "kubeadm" not in m for m in modes)


def _base(modes, segments=()):
    """full_eks() for eks-only fields and for fields only it sets (the managed data services), else full_kubeadm()."""
    if _eks_only(modes) or (segments and not _locate(full_kubeadm(), segments)):
        return full_eks()
    return full_kubeadm()


def _at(path: str, errors: list) -> list:
    """Errors at `path`; a map key may also be written quoted (tags['team'] for tags.team)."""
    head, _dot, key = path.rpartition(".")
    paths = {path, f"{head}[{key!r}]"} if head else {path}
    return [e for e in errors if e.split(": ", 1)[0] in paths]


def _ids(fields):
    return [".".join(f[0]).replace(".[]", "[]").replace(".{}", "{}") for f in fields]


STRINGS = _string_fields()
MAPS = _map_fields()


def test_the_schema_walk_finds_the_string_fields():
    ids = _ids(STRINGS)
    for expected in ("name", "region", "tags{}", "kubernetes.version", "network.admin_cidrs[]", "pools[].instance_type", "pools[].api",
                     "pools[].namespace", "pools[].labels{}", "pools[].taints[].value", "services.rabbitmq.vhosts[]",
                     "services.postgresql.databases[].owner"):
        assert expected in ids
    assert len(ids) >= 30


def test_full_topologies_are_valid():
    assert validate(full_kubeadm()) == []
    assert validate(full_eks()) == []


@pytest.mark.parametrize(("segments", "field", "modes"), STRINGS, ids=_ids(STRINGS))
def test_full_topologies_cover_every_string_field(segments, field, modes):
    assert _locate(_base(modes, segments), segments), f"give {'.'.join(segments)} a value in topology_cases.full_{'eks' if _eks_only(modes) else 'kubeadm'}()"


@pytest.mark.parametrize(("segments", "field", "modes"), STRINGS, ids=_ids(STRINGS))
def test_trailing_newline_is_rejected_at_the_field(segments, field, modes):
    topology = _base(modes, segments)
    container, key, path = _locate(topology, segments)
    assert isinstance(container[key], str)
    container[key] += "\n"
    errors = validate(topology)
    assert _at(path, errors), f"{path} accepted a trailing newline; errors: {errors}"


@pytest.mark.parametrize(("segments", "field", "modes"), STRINGS, ids=_ids(STRINGS))
def test_empty_string_is_an_error_naming_the_field_unless_allowed(segments, field, modes):
    topology = _base(modes, segments)
    container, key, path = _locate(topology, segments)
    container[key] = ""
    errors = validate(topology)
    if field.allow_empty:
        assert errors == []
    else:
        assert any(": empty string; " in e for e in _at(path, errors)), f"{path}: '' gave {errors}"


@pytest.mark.parametrize(("segments", "modes"), MAPS, ids=[".".join(m[0]) for m in MAPS])
def test_map_keys_with_a_trailing_newline_are_rejected(segments, modes):
    topology = _base(modes, segments)
    container, key, path = _locate(topology, segments)
    bad = "team\n"
    container[key] = dict(copy.deepcopy(container[key]), **{bad: "x"})
    errors = validate(topology)
    assert any(e.startswith(join(path, bad) + ": ") for e in errors), errors


@pytest.mark.parametrize(("problem", "args"), [
    (topology_k8s.dns_label_problem, ("auth",)),
    (topology_k8s.qualified_name_problem, ("example.com/role",)),
    (topology_k8s.label_value_problem, ("v1",)),
    (topology_net.region_problem, ("us-east-1",)),
    (topology_net.instance_type_problem, ("t3.large",)),
    (topology_net.az_name_problem, ("us-east-1", "us-east-1a")),
    (k8s_nodes.node_name_error, ("ip-10-0-4-12.ap-northeast-2.compute.internal",)),
], ids=lambda v: getattr(v, "__name__", None))
def test_name_checks_the_modules_share_match_whole_values(problem, args):
    assert not problem(*args)
    assert problem(*args[:-1], args[-1] + "\n")
    assert problem(*args[:-1], args[-1] + "\r\n")
    assert problem(*args[:-1], "\n" + args[-1])


def test_no_anchored_partial_match_left_in_the_plugins():
    """`$` matches before a final newline and `.match` only anchors the start: every check uses fullmatch."""
    anchored, partial = [], []
    for source in sorted(PLUGINS.rglob("*.py")):
        text = source.read_text()
        if re.search(r"[^\\\"]\$\"", text):
            anchored.append(str(source.relative_to(PLUGINS)))
        if re.search(r"\.(match|search)\(", text):
            partial.append(str(source.relative_to(PLUGINS)))
    assert not anchored, f"a pattern ends with '$' in {anchored}; drop it and use fullmatch"
    assert not partial, f"use re.fullmatch / pattern.fullmatch in {partial}"
