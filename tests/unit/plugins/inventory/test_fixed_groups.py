"""The inventory plugin keeps its own copy of the plan's fixed groups (so loading it imports no topology code);
the two must stay equal: they drifted once (the `ci` group), caught only by an integration test."""
from __future__ import annotations

from ansible_collections.msa.platform.plugins.module_utils import aws_cluster_inventory, topology_plan


def test_the_inventory_makes_the_plans_fixed_groups():
    assert aws_cluster_inventory.FIXED_GROUPS == topology_plan.FIXED_GROUPS
