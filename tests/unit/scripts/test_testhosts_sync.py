"""`testhosts.py sync`: which hosts the emulator's instances become, and which are stopped (plan_sync)."""
from __future__ import annotations

from pathlib import Path

import pytest
import testhosts
from testhosts import HarnessError, Host, plan_sync

ROOT = Path("/checkout/a")
VPCS = {"vpc-1": "10.231.0.0/16"}


def inst(name: str, ip: str, state: str = "running", iid: str = "") -> dict:
    return {"id": iid or "i-" + name, "name": name, "state": state, "private_ip": ip, "vpc_id": "vpc-1"}


def host(name: str, ip: str, iid: str, pid: int | None = 42, platform: str = "p", root: Path = ROOT) -> Host:
    return Host(name, f"{ip}/16", testhosts.platform_bridge(platform, root), pid,
                {"platform": platform, "checkout": str(root), "instance_id": iid})


def test_every_live_instance_becomes_a_host_at_its_private_ip_on_the_vpc_bridge():
    plan = plan_sync("p", [inst("p-db-1", "10.231.8.4"), inst("p-db-2", "10.231.9.4", "pending"),
                           inst("p-old-1", "10.231.8.5", "terminated")], VPCS, [], ROOT)
    suffix = testhosts.platform_digest("p", ROOT)[:4]
    assert plan["start"] == [(f"p-db-1-{suffix}", "10.231.8.4"), (f"p-db-2-{suffix}", "10.231.9.4")]
    assert plan["stop"] == []
    # the VPC router's address (AWS reserves it) is the bridge's, holding the whole VPC range
    assert plan["address"] == "10.231.0.1/16"
    assert plan["meta"][f"p-db-1-{suffix}"] == {"platform": "p", "checkout": str(ROOT), "instance_id": "i-p-db-1",
                                                "instance_name": "p-db-1"}


def test_names_and_bridges_differ_per_platform_and_checkout_and_fit_the_kernel_limits():
    names = {testhosts.platform_bridge(p, r) for p in ("a", "b") for r in (ROOT, Path("/checkout/b"))}
    assert len(names) == 4 and all(len(n) <= 15 and n != testhosts.DEFAULT_BRIDGE for n in names)
    long = testhosts.instance_host_name({"id": "i-1", "name": "x" * 80}, "p", ROOT)
    assert len(long) <= 40 and testhosts._valid_name(long)  # pylint: disable=protected-access
    assert testhosts.instance_host_name({"id": "i-1", "name": "P_Odd.name"}, "p", ROOT).startswith("p-odd-name-")


def test_converged_hosts_are_left_alone_and_gone_or_moved_ones_are_stopped():
    suffix = testhosts.platform_digest("p", ROOT)[:4]
    current = [host(f"p-db-1-{suffix}", "10.231.8.4", "i-p-db-1"),          # as wanted
               host(f"p-db-2-{suffix}", "10.231.9.9", "i-p-db-2"),          # the instance's IP changed
               host(f"p-gone-1-{suffix}", "10.231.8.7", "i-gone"),          # instance terminated
               host(f"p-dead-1-{suffix}", "10.231.8.8", "i-p-dead-1", pid=None),   # host not running
               host("other-1", "10.231.8.9", "i-x", platform="q"),          # another platform: not ours
               host("elsewhere-1", "10.231.8.10", "i-y", root=Path("/checkout/b"))]  # another checkout
    plan = plan_sync("p", [inst("p-db-1", "10.231.8.4"), inst("p-db-2", "10.231.9.4"), inst("p-dead-1", "10.231.8.8")],
                     VPCS, current, ROOT)
    assert plan["stop"] == sorted([f"p-db-2-{suffix}", f"p-gone-1-{suffix}", f"p-dead-1-{suffix}"])
    assert plan["start"] == sorted([(f"p-db-2-{suffix}", "10.231.9.4"), (f"p-dead-1-{suffix}", "10.231.8.8")])
    assert plan_sync("p", [inst("p-db-1", "10.231.8.4")], VPCS, current[:1], ROOT)["start"] == []


def test_no_instance_left_means_every_host_of_the_platform_stops():
    suffix = testhosts.platform_digest("p", ROOT)[:4]
    plan = plan_sync("p", [], VPCS, [host(f"p-db-1-{suffix}", "10.231.8.4", "i-p-db-1")], ROOT)
    assert plan["stop"] == [f"p-db-1-{suffix}"] and plan["start"] == [] and plan["hosts"] == []


@pytest.mark.parametrize(("instances", "vpcs", "message"), [
    ([inst("p-a-1", "")], VPCS, "has no private IP yet"),
    ([inst("p-a-1", "10.231.0.1")], VPCS, "other than the router 10.231.0.1"),
    ([inst("p-a-1", "10.9.0.4")], VPCS, "is not a host address of VPC 10.231.0.0/16"),
    ([inst("p-a-1", "10.231.8.4"), dict(inst("p-b-1", "10.232.8.4"), vpc_id="vpc-2")],
     {**VPCS, "vpc-2": "10.232.0.0/16"}, "sit in 2 VPCs"),
    ([inst("p-a-1", "10.231.8.4"), inst("p-a-1", "10.231.8.5", iid="i-2")], VPCS, "both map to host"),
    ([dict(inst("p-a-1", "10.231.8.4"), vpc_id="vpc-9")], VPCS, "VPC is unknown"),
])
def test_what_cannot_be_a_host_is_refused_with_the_instance_named(instances, vpcs, message):
    with pytest.raises(HarnessError, match=message):
        plan_sync("p", instances, vpcs, [], ROOT)


def test_hosts_are_only_made_from_an_emulator_on_loopback():
    with pytest.raises(HarnessError, match="never from a real AWS account"):
        testhosts.emulator_instances("p", "https://ec2.ap-northeast-2.amazonaws.com", "ap-northeast-2")
