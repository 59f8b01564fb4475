"""Kubernetes and AWS naming rules and the subnet allocator, at their boundaries."""
from __future__ import annotations

import pytest
from ansible_collections.msa.platform.plugins.module_utils import topology_k8s as k8s
from ansible_collections.msa.platform.plugins.module_utils import topology_net as net

LABEL_OK = ["a", "A", "api", "a_b.c-d", "x" * 63, "example.com/x", "a.b-c.d/Name_1", "node-role.kubernetes.io/worker",
            ("a" * 63 + ".") * 3 + "a" * 61 + "/k"]
LABEL_BAD = ["", "-a", "a-", "_a", "a b", "x" * 64, "/a", "a/", "a/b/c", "Example.com/a", "ex_ample.com/a", "-ex.com/a",
             ("a" * 63 + ".") * 3 + "a" * 62 + "/k", "example.com/" + "x" * 64]


@pytest.mark.parametrize("key", LABEL_OK)
def test_valid_qualified_names(key):
    assert k8s.qualified_name_problem(key) == ""


@pytest.mark.parametrize("key", LABEL_BAD)
def test_invalid_qualified_names(key):
    assert k8s.qualified_name_problem(key) != ""


@pytest.mark.parametrize(("value", "ok"), [("", True), ("a", True), ("1.2_3-x", True), ("v" * 63, True), ("v" * 64, False),
                                           ("-v", False), ("v.", False), ("a b", False), ("ä", False)])
def test_label_values(value, ok):
    assert (k8s.label_value_problem(value) == "") is ok


@pytest.mark.parametrize(("key", "reserved"), [
    ("kubernetes.io/hostname", True), ("k8s.io/x", True), ("node.kubernetes.io/instance-type", True),
    ("topology.kubernetes.io/zone", True), ("x.k8s.io/y", True), ("node-role.kubernetes.io/worker", False),
    ("kubernetes.io", False), ("mykubernetes.io/x", False), ("example.com/kubernetes.io", False), ("api", False)])
def test_reserved_label_prefixes(key, reserved):
    assert k8s.label_key_reserved(key) is reserved


def test_reserved_taints():
    assert k8s.taint_key_reserved("node.kubernetes.io/not-ready", control_plane=True)
    assert k8s.taint_key_reserved(k8s.CONTROL_PLANE_KEY, control_plane=False)
    assert not k8s.taint_key_reserved(k8s.CONTROL_PLANE_KEY, control_plane=True)
    assert k8s.taint_key_reserved("node-role.kubernetes.io/worker", control_plane=True)
    assert not k8s.taint_key_reserved("dedicated", control_plane=False)


@pytest.mark.parametrize(("name", "ok"), [("a", True), ("a-1", True), ("x" * 63, True), ("x" * 64, False), ("A", False),
                                          ("a_b", False), ("-a", False), ("a-", False)])
def test_dns_labels(name, ok):
    assert (k8s.dns_label_problem(name) == "") is ok


@pytest.mark.parametrize(("region", "ok"), [("ap-northeast-2", True), ("us-east-1", True), ("us-gov-west-1", True),
                                            ("eu-central-2", True), ("il-central-1", True), ("cn-north-1", True),
                                            ("ap-northest-2", False), ("us-east", False), ("US-EAST-1", False), ("useast1", False)])
def test_regions(region, ok):
    assert (net.region_problem(region) == "") is ok


@pytest.mark.parametrize(("itype", "ok"), [("t3.micro", True), ("m6i.2xlarge", True), ("c7gn.16xlarge", True), ("u-6tb1.metal", True),
                                           ("m7i.metal-24xl", True), ("mac2-m2pro.metal", True), ("p4de.24xlarge", True),
                                           ("t3large", False), ("t3.huge", False), ("T3.large", False), ("t.large", False),
                                           ("t3.0xlarge", False)])
def test_instance_types(itype, ok):
    assert (net.instance_type_problem(itype) == "") is ok


def test_allocation_packs_in_tier_order_with_slots():
    subnets, used = net.allocate("10.0.0.0/16", ["public", "app"], {"public": 24, "app": 22}, 2, 4)
    assert subnets == {"public": ["10.0.0.0/24", "10.0.1.0/24"], "app": ["10.0.4.0/22", "10.0.8.0/22"]}
    assert used == 4 * 256 + 4 * 1024


def test_allocation_reports_overflow():
    subnets, used = net.allocate("10.0.0.0/24", ["public", "app"], {"public": 26, "app": 26}, 2, 4)
    assert subnets == {} and used == 512


def test_default_azs():
    assert net.default_az_names("ap-northeast-2", 2) == ["ap-northeast-2a", "ap-northeast-2c"]
    assert net.default_az_names("eu-west-1", 3) == ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
    assert net.default_az_names("ap-northeast-1", 6) == ["ap-northeast-1a", "ap-northeast-1c", "ap-northeast-1d"]
