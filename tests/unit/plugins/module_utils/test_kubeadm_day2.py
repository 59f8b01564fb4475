"""plugins/module_utils/kubeadm_day2.py: upgrade version rules, worker batches, removal and quorum rules."""
from __future__ import annotations

import pytest
from ansible_collections.msa.platform.plugins.module_utils import kubeadm_day2 as day2

CPS = ["cp-1", "cp-2", "cp-3"]
WORKERS = ["w-1", "w-2"]


@pytest.mark.parametrize(("current", "target"), [
    ("v1.36.4", "1.37"), ("v1.36.4", "1.37.2"), ("v1.37.1", "1.37.2"), ("v1.37.2", "1.37"), ("v1.31.0", "1.32"),
])
def test_allowed_upgrades(current, target):
    assert day2.upgrade_problems(current, target) == []


@pytest.mark.parametrize(("current", "target", "words"), [
    ("v1.35.3", "1.37", ["skips a minor", "v1.35.3", "1.37", "1.36 first"]),
    ("v1.37.2", "1.36", ["older than", "v1.37.2", "does not downgrade"]),
    ("v1.37.2", "1.37.1", ["older than", "does not downgrade"]),
    ("v1.37.2", "1.38", ["outside", "1.31 to 1.37"]),
    ("v1.30.9", "1.30", ["outside"]),
    ("v1.37.2", "2.0", ["outside"]),
    ("v1.36.4", "one", ["target_version", "'one'"]),
    ("v1.36.4", "", ["target_version"]),
    ("v1.36.4", None, ["target_version"]),
    ("v1.36.4", 1.37, ["target_version"]),
    ("", "1.37", ["could not be read"]),
])
def test_refused_upgrades_name_both_versions(current, target, words):
    problems = day2.upgrade_problems(current, target)
    assert len(problems) == 1
    for word in words:
        assert word in problems[0]


@pytest.mark.parametrize(("current", "target", "needed"), [
    ("v1.36.4", "1.37", True), ("v1.37.2", "1.37", False), ("v1.37.1", "1.37.2", True), ("v1.37.2", "1.37.2", False),
    ("bad", "1.37", False),
])
def test_upgrade_needed(current, target, needed):
    assert day2.upgrade_needed(current, target) is needed


@pytest.mark.parametrize(("kubelet", "target", "needed"), [
    ("Kubernetes v1.36.4", "1.37", True), ("v1.37.0", "1.37", False), ("v1.37.0", "1.37.2", True),
    ("v1.37.2", "1.37.2", False), ("", "1.37", True), ("v1.38.0", "1.37", False),
])
def test_node_needs_upgrade(kubelet, target, needed):
    assert day2.node_needs_upgrade(kubelet, target) is needed


@pytest.mark.parametrize(("batch", "workers", "size"), [
    ("20%", 10, 2), ("20%", 11, 3), ("20%", 2, 1), ("100%", 7, 7), ("1%", 3, 1), ("3", 10, 3), ("30", 4, 4),
    (5, 10, 5), ("20%", 0, 1),
])
def test_batch_size(batch, workers, size):
    assert day2.batch_size(batch, workers) == size


@pytest.mark.parametrize("batch", ["0", "0%", "101%", "-1", "20 %", "", None, True, 2.5, "a"])
def test_batch_size_refuses_bad_values(batch):
    with pytest.raises(ValueError, match=r"kubernetes\.upgrade\.worker_batch"):
        day2.batch_size(batch, 10)


def test_a_worker_may_always_go():
    assert day2.removal_problems("w-1", CPS, WORKERS, healthy=[]) == []


def test_the_last_control_plane_is_refused():
    problems = day2.removal_problems("cp-1", ["cp-1"], WORKERS, healthy=["cp-1"])
    assert problems and "last control-plane node" in problems[0] and "cp-1" in problems[0]


def test_a_healthy_member_of_three_may_go_with_an_even_warning():
    assert day2.removal_problems("cp-2", CPS, WORKERS, healthy=CPS) == []
    assert "even etcd cluster" in day2.removal_warnings("cp-2", CPS)[0]
    assert day2.removal_warnings("w-1", CPS) == []


def test_removal_that_breaks_quorum_is_refused_and_names_the_silent_member():
    # cp-3 does not answer: removing cp-2 leaves cp-1 + cp-3, quorum 2, only cp-1 answers.
    problems = day2.removal_problems("cp-2", CPS, WORKERS, healthy=["cp-1", "cp-2"])
    assert len(problems) == 1 and "etcd quorum" in problems[0] and "cp-3" in problems[0] and "quorum of 2" in problems[0]


def test_removing_the_dead_member_itself_is_allowed():
    # cp-3 is down: removing it leaves cp-1 + cp-2, both answering.
    assert day2.removal_problems("cp-3", CPS, WORKERS, healthy=["cp-1", "cp-2"]) == []


def test_no_quorum_now_refuses_everything():
    problems = day2.removal_problems("cp-3", CPS, WORKERS, healthy=["cp-1"])
    assert "no quorum now" in problems[0]


def test_five_members_tolerate_one_down_during_a_removal():
    five = [f"cp-{i}" for i in range(1, 6)]
    assert day2.removal_problems("cp-5", five, [], healthy=five[:4]) == []
    assert day2.removal_problems("cp-5", five, [], healthy=[*five[:2], "cp-5"]) != []


@pytest.mark.parametrize("node", ["", None, 3, "nope"])
def test_unknown_or_missing_node(node):
    problems = day2.removal_problems(node, CPS, WORKERS, healthy=CPS)
    assert len(problems) == 1 and problems[0].startswith("node:")


@pytest.mark.parametrize(("given", "answer", "ok"), [
    ("kw-1", None, True), ("", "kw-1", True), (None, " kw-1\n", True), ("kw-2", None, False), (None, None, False),
    ("", "", False), (None, "no", False),
])
def test_confirmation(given, answer, ok):
    assert (day2.confirm_problems("kw-1", given, answer) == []) is ok
