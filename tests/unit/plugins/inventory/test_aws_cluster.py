"""The aws_cluster inventory plugin through Ansible's own InventoryManager, with DescribeInstances replaced by
fixed records: file names it accepts, the groups and variables it adds, compose/keyed_groups and the cache."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.plugins.loader import init_plugin_loader

# Other unit tests import ansible_collections.* as a plain namespace package from sys.path; Ansible's collection
# loader must own that package to find plugins by FQCN, so forget the plain import first.
for _name in [m for m in sys.modules if m == "ansible_collections" or m.startswith("ansible_collections.")]:
    del sys.modules[_name]
init_plugin_loader()

from ansible.inventory.manager import InventoryManager  # noqa: E402
from ansible.plugins.loader import inventory_loader  # noqa: E402

ROOT = Path(__file__).resolve().parents[4]

RECORDS = [
    {"id": "i-1", "region": "ap-northeast-2", "az": "ap-northeast-2a", "type": "t3.large", "state": "running", "private_ip": "10.0.4.5",
     "public_ip": None, "vpc_id": "vpc-1", "subnet_id": "subnet-1", "launch_time": "2026-01-01T00:00:00+00:00",
     "tags": {"Name": "shop-master-1", "msa:platform": "shop", "msa:pool": "master", "msa:role": "control_plane", "msa:tier": "app"}},
    {"id": "i-2", "region": "ap-northeast-2", "az": "ap-northeast-2c", "type": "t3.small", "state": "running", "private_ip": "10.0.5.6",
     "public_ip": None, "vpc_id": "vpc-1", "subnet_id": "subnet-2", "launch_time": "2026-01-01T00:01:00+00:00",
     "tags": {"Name": "shop-auth-1", "msa:platform": "shop", "msa:pool": "auth", "msa:role": "api", "msa:tier": "app", "msa:api": "auth",
              "msa:labels": "api=auth,workload=api", "msa:taints": "api=auth:NoSchedule"}},
]


@pytest.fixture
def fetches(monkeypatch):
    """Counts DescribeInstances rounds; every round returns RECORDS."""
    calls = []
    plugin_class = type(inventory_loader.get("msa.platform.aws_cluster"))

    def fake_fetch(self, query):
        calls.append(query)
        return [dict(r) for r in RECORDS]
    monkeypatch.setattr(plugin_class, "_fetch", fake_fetch)
    return calls


def config(tmp_path, extra="", name="shop.aws_cluster.yml"):
    path = tmp_path / name
    path.write_text("plugin: msa.platform.aws_cluster\nplatform: shop\nregions: [ap-northeast-2]\n"
                    f"cache: true\ncache_plugin: ansible.builtin.jsonfile\ncache_connection: {tmp_path / 'cache'}\n" + extra)
    return str(path)


def test_verify_file_wants_the_suffix(tmp_path):
    plugin = inventory_loader.get("msa.platform.aws_cluster")
    assert plugin.verify_file(config(tmp_path))
    assert plugin.verify_file(config(tmp_path, name="aws_cluster.yaml"))
    assert not plugin.verify_file(config(tmp_path, name="shop.aws_ec2.yml"))


def test_groups_and_hostvars(tmp_path, fetches):
    inv = InventoryManager(loader=DataLoader(), sources=[config(tmp_path)])
    assert fetches and fetches[0]["filters"][0] == {"Name": "tag:msa:platform", "Values": ["shop"]}
    groups = {name: sorted(h.name for h in group.get_hosts()) for name, group in inv.groups.items()}
    assert groups["k8s_cluster"] == ["shop-auth-1", "shop-master-1"]
    assert groups["control_plane"] == ["shop-master-1"] and groups["workers"] == ["shop-auth-1"]
    assert groups["api_auth"] == ["shop-auth-1"] and groups["pool_master"] == ["shop-master-1"]
    assert groups["az_ap_northeast_2c"] == ["shop-auth-1"] and groups["tier_app"] == ["shop-auth-1", "shop-master-1"]
    assert groups["postgresql"] == [] and groups["bastion"] == []  # fixed groups exist even when empty
    hv = inv.get_host("shop-auth-1").vars
    assert hv["ansible_host"] == "10.0.5.6" and hv["msa_instance_type"] == "t3.small" and hv["msa_api"] == "auth"
    assert hv["msa_node_labels"] == {"api": "auth", "workload": "api"}
    assert hv["msa_node_taints"] == [{"key": "api", "value": "auth", "effect": "NoSchedule"}]
    assert "tags" not in hv


def test_constructed_sees_tags(tmp_path, fetches):
    extra = ("compose:\n  node_ip: msa_private_ip\nkeyed_groups:\n  - key: tags['msa:tier']\n    prefix: t\n"
             "groups:\n  big: msa_instance_type == 't3.large'\n")
    inv = InventoryManager(loader=DataLoader(), sources=[config(tmp_path, extra)])
    assert inv.get_host("shop-master-1").vars["node_ip"] == "10.0.4.5"
    assert sorted(h.name for h in inv.groups["t_app"].get_hosts()) == ["shop-auth-1", "shop-master-1"]
    assert [h.name for h in inv.groups["big"].get_hosts()] == ["shop-master-1"]


def test_cache_hit_skips_aws_and_refresh_rereads(tmp_path, fetches):
    source = config(tmp_path)
    InventoryManager(loader=DataLoader(), sources=[source])
    assert len(fetches) == 1
    warm = InventoryManager(loader=DataLoader(), sources=[source])
    assert len(fetches) == 1 and warm.get_host("shop-master-1") is not None  # served from the cache
    warm.refresh_inventory()  # what `meta: refresh_inventory` does
    assert len(fetches) == 2
    changed = config(tmp_path, "instance_states: [running, stopped]\n")  # another query: the cached answer does not apply
    InventoryManager(loader=DataLoader(), sources=[changed])
    assert len(fetches) == 3


def test_no_region_is_a_clear_error(tmp_path, fetches, monkeypatch):
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    path = tmp_path / "x.aws_cluster.yml"
    path.write_text("plugin: msa.platform.aws_cluster\nplatform: shop\n")
    plugin = inventory_loader.get("msa.platform.aws_cluster")
    with pytest.raises(Exception, match="no region"):
        plugin.parse(InventoryManager(loader=DataLoader(), sources=[])._inventory, DataLoader(), str(path))


def test_tag_values_are_never_rendered_as_templates(tmp_path, fetches, monkeypatch):
    """Anyone who can tag an instance must not run code on the control node: tag values stay data."""
    from ansible.template import Templar  # pylint: disable=import-outside-toplevel

    hostile = [dict(RECORDS[1], tags=dict(RECORDS[1]["tags"], **{"msa:labels": "team={{ 6 * 7 }}"}))]
    monkeypatch.setattr(type(inventory_loader.get("msa.platform.aws_cluster")), "_fetch", lambda self, query: hostile)
    inv = InventoryManager(loader=DataLoader(), sources=[config(tmp_path, "compose:\n  team: msa_node_labels.team\n")])
    hv = inv.get_host("shop-auth-1").vars
    assert hv["msa_node_labels"] == {"team": "{{ 6 * 7 }}"} and hv["team"] == "{{ 6 * 7 }}"
    templar = Templar(loader=DataLoader(), variables=hv)
    assert templar.template(hv["msa_node_labels"]["team"]) == "{{ 6 * 7 }}"
    assert templar.template(hv["team"]) == "{{ 6 * 7 }}"


def test_endpoint_url_may_be_a_template(tmp_path, fetches, monkeypatch):
    """inventories/local follows AWS_ENDPOINT_URL (the emulator of make demo / the test session), 5123 without it."""
    extra = "endpoint_url: \"{{ lookup('ansible.builtin.env', 'AWS_ENDPOINT_URL') or 'http://127.0.0.1:5123' }}\"\n"
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:5999")
    InventoryManager(loader=DataLoader(), sources=[config(tmp_path, extra, name="a.aws_cluster.yml")])
    monkeypatch.delenv("AWS_ENDPOINT_URL")
    InventoryManager(loader=DataLoader(), sources=[config(tmp_path, extra, name="b.aws_cluster.yml")])
    InventoryManager(loader=DataLoader(), sources=[config(tmp_path, "endpoint_url: http://127.0.0.1:6001\n", name="c.aws_cluster.yml")])
    assert [q["endpoint_url"] for q in fetches] == ["http://127.0.0.1:5999", "http://127.0.0.1:5123", "http://127.0.0.1:6001"]


INVENTORIES = sorted(p.parents[2] for p in (ROOT / "inventories").glob("**/group_vars/all/topology.yml"))


@pytest.mark.parametrize("inventory", INVENTORIES, ids=lambda p: p.name)
def test_every_inventory_finds_its_own_platform(inventory):
    """Each inventory's plugin file asks for the platform and region its topology builds (a user copying an example
    gets the nodes the host layers run on)."""
    topology = yaml.safe_load((inventory / "group_vars" / "all" / "topology.yml").read_text())["platform"]
    plugin = yaml.safe_load((inventory / "aws_cluster.yml").read_text())
    assert plugin["plugin"] == "msa.platform.aws_cluster"
    assert (plugin["platform"], plugin["regions"]) == (topology["name"], [topology["region"]])
