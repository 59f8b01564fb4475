"""node_prep's filters: the Kubernetes version to pin, the preflight verdict on a node's probe."""
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.msa.platform.plugins.filter.node_prep import (
    FilterModule,
    node_prep_duplicates,
    node_prep_kube_version,
    node_prep_preflight,
)

PINNED = ["kubelet", "kubeadm", "kubectl"]


def madison(rows: dict[str, list[str]]) -> str:
    return "\n".join(f"{pkg:>10} | {ver} | https://pkgs.k8s.io/core:/stable:/v1.37/deb  Packages"
                     for pkg, versions in rows.items() for ver in versions)


ALL = madison({p: ["1.37.1-1.1", "1.37.2-1.1", "1.37.10-1.1", "1.37.2-1.2"] for p in PINNED})


def test_filters_are_exported():
    assert set(FilterModule().filters()) == {"node_prep_kube_version", "node_prep_preflight", "node_prep_duplicates"}


def test_minor_takes_the_newest_patch_numerically_not_as_text():
    assert node_prep_kube_version(ALL, "1.37", PINNED) == "1.37.10-1.1"


def test_exact_patch_takes_its_newest_revision():
    assert node_prep_kube_version(ALL, "1.37.2", PINNED) == "1.37.2-1.2"


def test_minor_keeps_the_patch_a_node_already_runs():
    installed = {p: "1.37.1-1.1" for p in PINNED}
    assert node_prep_kube_version(ALL, "1.37", PINNED, installed) == "1.37.1-1.1"


def test_minor_change_moves_off_the_installed_patch():
    rows = madison({p: ["1.38.0-1.1", "1.38.1-1.1"] for p in PINNED})
    installed = {p: "1.37.2-1.1" for p in PINNED}
    assert node_prep_kube_version(rows, "1.38", PINNED, installed) == "1.38.1-1.1"


def test_explicit_patch_overrides_the_installed_one():
    installed = {p: "1.37.1-1.1" for p in PINNED}
    assert node_prep_kube_version(ALL, "1.37.2", PINNED, installed) == "1.37.2-1.2"


def test_mixed_installed_versions_are_not_kept():
    installed = {"kubelet": "1.37.1-1.1", "kubeadm": "1.37.2-1.1", "kubectl": "1.37.1-1.1"}
    assert node_prep_kube_version(ALL, "1.37", PINNED, installed) == "1.37.10-1.1"


def test_only_versions_every_package_offers_count():
    rows = madison({"kubelet": ["1.37.1-1.1", "1.37.2-1.1"], "kubeadm": ["1.37.1-1.1", "1.37.2-1.1"],
                    "kubectl": ["1.37.1-1.1"]})
    assert node_prep_kube_version(rows, "1.37", PINNED) == "1.37.1-1.1"


def test_another_minor_is_never_taken():
    rows = madison({p: ["1.36.9-1.1", "1.370.0-1.1"] for p in PINNED})
    with pytest.raises(AnsibleFilterError, match=r"no version 1\.37\.x .*offer: 1\.36\.9-1\.1, 1\.370\.0-1\.1"):
        node_prep_kube_version(rows, "1.37", PINNED)


def test_missing_patch_lists_what_is_there():
    with pytest.raises(AnsibleFilterError, match=r"no version 1\.37\.3 of kubelet, kubeadm, kubectl"):
        node_prep_kube_version(ALL, "1.37.3", PINNED)


def test_missing_package_names_the_repository_option():
    with pytest.raises(AnsibleFilterError, match="offers no kubectl: check node_prep_kubernetes_repo_url"):
        node_prep_kube_version(madison({"kubelet": ["1.37.1-1.1"], "kubeadm": ["1.37.1-1.1"]}), "1.37", PINNED)


@pytest.mark.parametrize("wanted", ["", "1", "v1.37", "1.37.x", None, 1.37, "1.37.2-1.1"])
def test_bad_version_is_refused_with_the_field_name(wanted):
    if wanted == 1.37:
        assert node_prep_kube_version(ALL, wanted, PINNED) == "1.37.10-1.1"  # YAML float 1.37 reads as "1.37"
        return
    with pytest.raises(AnsibleFilterError, match=r"node_prep_kubernetes_version must be X\.Y or X\.Y\.Z"):
        node_prep_kube_version(ALL, wanted, PINNED)


def test_empty_package_list_is_an_error_not_a_crash():
    with pytest.raises(AnsibleFilterError):
        node_prep_kube_version(ALL, "1.37", [])


MIN = {"control_plane": {"cpus": 2, "memory_mb": 1700}, "worker": {"cpus": 1, "memory_mb": 1000}}
PORTS = {"control_plane": [6443, 10250], "worker": [10250]}


def probe(**kw):
    base = {"cpus": 2, "memory_mb": 3800, "listening": [22], "joined": False, "swaps": [], "container": ""}
    return {**base, **kw}


def test_a_good_node_passes():
    assert node_prep_preflight(probe(), "cp-1", "control_plane", MIN, PORTS) == []


def test_each_failure_names_host_and_check():
    errors = node_prep_preflight(probe(cpus=1, memory_mb=900, listening=[22, 6443]), "cp-1", "control_plane", MIN, PORTS)
    assert errors == [
        "cp-1: cpus: 1 CPU(s), a control_plane node needs at least 2",
        "cp-1: memory: 900 MB, a control_plane node needs at least 1700 MB",
        "cp-1: ports: 6443 already in use (a control_plane node needs them free)",
    ]


def test_ports_are_not_checked_once_the_node_has_joined():
    assert node_prep_preflight(probe(listening=[6443, 10250], joined=True), "cp-1", "control_plane", MIN, PORTS) == []


def test_swap_in_a_container_is_refused():
    errors = node_prep_preflight(probe(swaps=["/swapfile"], container="systemd-nspawn"), "w-1", "worker", MIN, PORTS)
    assert errors and errors[0].startswith("w-1: swap: /swapfile active")


def test_swap_on_a_machine_is_left_to_the_role_to_turn_off():
    assert node_prep_preflight(probe(swaps=["/dev/xvdb"]), "w-1", "worker", MIN, PORTS) == []


def test_unknown_role_and_missing_probe_are_errors_not_exceptions():
    assert node_prep_preflight(probe(), "w-1", "etcd", MIN, PORTS)[0].startswith("w-1: role: unknown node role 'etcd'")
    assert node_prep_preflight(None, "w-1", "worker", MIN, PORTS) == ["w-1: probe: no result from the node (got NoneType)"]


def ident(host, **kw):
    return {"hostname": host, "machine_id": f"id-{host}", "product_uuid": f"uuid-{host}", "macs": [f"02:00:00:00:00:{host[-1]}0"],
            "container": "", **kw}


def test_unique_nodes_have_no_duplicates():
    assert node_prep_duplicates({h: ident(h) for h in ("n-1", "n-2", "n-3")}) == {}


def test_cloned_image_is_reported_on_every_host_sharing_it():
    probes = {h: ident(h, machine_id="cloned") for h in ("n-1", "n-2", "n-3")}
    problems = node_prep_duplicates(probes)
    assert problems["n-2"] == ["n-2: machine_id: cloned is also on n-1, n-3"]
    assert set(problems) == {"n-1", "n-2", "n-3"}


def test_hostname_uuid_and_mac_duplicates_compare_case_insensitively():
    probes = {"a-1": ident("a-1", product_uuid="EC2-ABC", macs=["02:AA:00:00:00:01"]),
              "b-1": ident("A-1", machine_id="other", product_uuid="ec2-abc", macs=["02:aa:00:00:00:01"])}
    problems = node_prep_duplicates(probes)
    assert problems["a-1"] == ["a-1: hostname: a-1 is also on b-1", "a-1: mac: 02:aa:00:00:00:01 is also on b-1",
                               "a-1: product_uuid: ec2-abc is also on b-1"]


def test_product_uuid_is_not_compared_in_containers():
    probes = {h: ident(h, product_uuid="machine", container="systemd-nspawn") for h in ("c-1", "c-2")}
    assert node_prep_duplicates(probes) == {}


def test_duplicates_ignore_hosts_without_a_probe():
    assert node_prep_duplicates({"a": None, "b": ident("b")}) == {}
