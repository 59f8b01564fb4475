"""The harness refuses any address range the machine already routes (so test traffic stays local)."""
from __future__ import annotations

import ipaddress
import json
import subprocess

import pytest
import testhosts


def _routed_networks() -> list[tuple[str, ipaddress.IPv4Network]]:
    routes = json.loads(subprocess.run(["ip", "-j", "-4", "route"], check=True, capture_output=True, text=True).stdout)
    return [(r["dev"], ipaddress.ip_network(r["dst"], strict=False))
            for r in routes if r.get("dst") not in (None, "default")]


def test_a_range_inside_a_routed_network_is_refused():
    dev, net = next((d, n) for d, n in _routed_networks() if d != testhosts.DEFAULT_BRIDGE)
    inside = ipaddress.ip_network(f"{net.network_address}/{min(net.prefixlen + 1, 32)}")
    with pytest.raises(testhosts.HarnessError, match=f"overlaps {net} routed via {dev}"):
        testhosts.check_range_free(inside, testhosts.DEFAULT_BRIDGE)


def test_a_range_covering_a_routed_network_is_refused():
    _dummy, net = next((d, n) for d, n in _routed_networks() if d != testhosts.DEFAULT_BRIDGE)
    wider = net.supernet(new_prefix=max(net.prefixlen - 4, 0))
    with pytest.raises(testhosts.HarnessError, match="refusing"):
        testhosts.check_range_free(wider, testhosts.DEFAULT_BRIDGE)


def test_the_harness_range_is_free_on_this_machine():
    own = ipaddress.ip_interface(testhosts.DEFAULT_CIDR).network
    testhosts.check_range_free(own, testhosts.DEFAULT_BRIDGE)  # raises if the machine routes it elsewhere


def test_bad_host_specs_are_refused_before_anything_boots():
    with pytest.raises(testhosts.HarnessError, match="not a free host address"):
        testhosts.up([("h1", "10.213.0.1")])  # the bridge's own address


def test_inotify_instances_are_raised_never_lowered(tmp_path):
    """Each host's systemd holds several inotify instances: Linux's default 128 ran out near twenty hosts."""
    knob = tmp_path / "max_user_instances"
    knob.write_text("128\n")
    testhosts.inotify_room(knob)
    assert int(knob.read_text()) == testhosts.INOTIFY_INSTANCES
    knob.write_text("65536\n")
    testhosts.inotify_room(knob)
    assert knob.read_text() == "65536\n"


def test_inotify_that_cannot_be_raised_says_how():
    class ReadOnlyKnob:  # /proc/sys in a container without the right: readable, not writable
        def read_text(self):
            return "128\n"

        def write_text(self, _text):
            raise PermissionError(30, "Read-only file system")

    with pytest.raises(testhosts.HarnessError, match=r"sysctl -w fs\.inotify\.max_user_instances=1024"):
        testhosts.inotify_room(ReadOnlyKnob())
