"""Property: whatever it is fed, the validator never crashes and answers with field-path errors.

Two generators: arbitrary JSON-like values, and valid topologies with random surgery (a value replaced
by junk, a key deleted, an unknown key added) at any depth.
"""
from __future__ import annotations

import copy
import os
import re

from ansible_collections.msa.platform.plugins.module_utils.topology import build_plan
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from topology_cases import eks, kubeadm

# path: `platform`, or dotted words / [index] / ['quoted key'] segments, then ': ' and a message.
ERROR = re.compile(r"^(platform|[A-Za-z_][A-Za-z0-9_]*(\[('.*'|\".*\"|\d+)\])*(\.[A-Za-z_][A-Za-z0-9_]*(\[('.*'|\".*\"|\d+)\])*)*"
                   r"|az_names \(module option\)(\[\d+\])?|platform\[.*\]|\[.*\]): .+", re.DOTALL)

scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 70000), st.floats(allow_nan=False, allow_infinity=False),
                    st.text(max_size=12), st.sampled_from(["10.0.0.0/16", "0.0.0.0/0", "t3.large", "api", "NoSchedule", "1.30",
                                                           "kubeadm", "eks", "none", "public", "worker", "kafka", "", "a/b"]))
json_like = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                          st.dictionaries(st.one_of(st.text(max_size=8), st.integers()), inner, max_size=4)),
                         max_leaves=20)


def _paths(value, prefix=()):
    """Every (container path, key) in a nested value."""
    out = []
    if isinstance(value, dict):
        for key, sub in value.items():
            out.append((*prefix, key))
            out.extend(_paths(sub, (*prefix, key)))
    elif isinstance(value, list):
        for i, sub in enumerate(value):
            out.append((*prefix, i))
            out.extend(_paths(sub, (*prefix, i)))
    return out


@st.composite
def mutated(draw):
    topology = draw(st.sampled_from([kubeadm, eks]))()
    for _dummy in range(draw(st.integers(1, 4))):
        paths = _paths(topology)
        path = draw(st.sampled_from(paths))
        parent = topology
        for key in path[:-1]:
            parent = parent[key]
        action = draw(st.sampled_from(["replace", "delete", "unknown"]))
        if action == "replace":
            parent[path[-1]] = draw(json_like)
        elif action == "delete":
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[draw(st.text(min_size=1, max_size=10))] = draw(scalars)
    return topology


def _check(topology):
    before = copy.deepcopy(topology)
    plan, errors = build_plan(topology)
    assert topology == before  # the input is never modified
    assert isinstance(errors, list)
    if errors:
        assert plan is None
        for error in errors:
            assert isinstance(error, str) and ERROR.match(error), error
    else:
        assert isinstance(plan, dict) and plan["nodes"] is not None


@settings(max_examples=int(os.environ.get("TOPOLOGY_EXAMPLES", "300")), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_topologies_never_crash(topology):
    _check(topology)


@settings(max_examples=200, deadline=None)
@given(json_like)
def test_arbitrary_values_never_crash(value):
    _check(value)


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.sampled_from(["name", "region", "tags", "kubernetes", "network", "pools", "services"]), json_like, max_size=7))
def test_arbitrary_top_level_sections_never_crash(value):
    _check(value)
