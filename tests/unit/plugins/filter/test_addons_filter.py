"""The addons filters: the plan's parts through Ansible's filter interface, bad arguments as filter errors."""
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.msa.platform.plugins.filter.addons import FilterModule
from ansible_collections.msa.platform.plugins.module_utils.topology import build_plan

FILTERS = FilterModule().filters()
TOPOLOGY = {"name": "shop", "region": "us-east-1", "kubernetes": {"mode": "eks"}, "network": {"admin_cidrs": ["203.0.113.0/24"]},
            "pools": [{"name": "general", "role": "worker", "count": 2}, {"name": "orders", "role": "api"}],
            "ingress": {"routes": [{"path": "/", "service": "orders"}]}}


def test_filters_render_every_part():
    plan, errors = build_plan(TOPOLOGY)
    assert errors == []
    kinds = {part: [o["kind"] for o in FILTERS["addons_manifests"](plan, part)] for part in ("domains", "storage", "ingress", "gitops")}
    assert kinds["storage"] == ["StorageClass", "StorageClass"] and kinds["ingress"] == ["Ingress"] and kinds["gitops"] == []
    assert kinds["domains"][:3] == ["Namespace", "ResourceQuota", "LimitRange"]
    patches = [FILTERS["addons_is_patch"](o) for o in FILTERS["addons_manifests"](plan, "storage")]
    assert patches == [False, True]
    assert [n["namespace"] for n in FILTERS["addons_namespaces"](plan)] == ["orders"]


@pytest.mark.parametrize(("plan", "part", "words"), [({}, "domains", "must be the plan"), (None, "domains", "must be the plan"),
                                                     ({"kubernetes": {"mode": "eks"}}, "volumes", "not one of")])
def test_bad_arguments_are_filter_errors(plan, part, words):
    with pytest.raises(AnsibleFilterError, match=words):
        FILTERS["addons_manifests"](plan, part)
