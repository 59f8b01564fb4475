"""network.yml through a proxy that answers 20% of EC2 calls with RequestLimitExceeded / 503
(tests/fakes/aws_fault_proxy.py): retries make it converge, with no duplicate resources."""
from __future__ import annotations

import sys

import pytest
from network_harness import ROOT, counts, ec2, playbook

sys.path.insert(0, str(ROOT / "tests" / "fakes"))
from aws_fault_proxy import FaultProxy

pytestmark = pytest.mark.emulator


def test_network_converges_through_throttling_without_duplicates(network_emulator):
    with FaultProxy(network_emulator, rate=0.2, seed=7) as proxy:
        # standard retry mode: adaptive (the default, for real AWS) also rate-limits itself after each fault
        run = playbook("network.yml", "ecoeco-kubeadm", "-e", "aws_network_retry_mode=standard", endpoint=proxy.url)
    faulted = sum(proxy.stats["faulted"].values())
    assert run.returncode == 0, run.stdout[-5000:] + run.stderr[-2000:]
    assert faulted >= 5, proxy.stats
    assert faulted / (faulted + sum(proxy.stats["forwarded"].values())) > 0.1
    assert counts("ecoeco") == {"vpcs": 1, "subnets": 8, "route_tables": 4, "nat_gateways": 1, "addresses": 1,
                                "security_groups": 9, "internet_gateways": 1}
    client = ec2()
    assert len([v for v in client.describe_vpcs()["Vpcs"] if not v["IsDefault"]]) == 1   # nothing untagged either
    assert len(client.describe_nat_gateways()["NatGateways"]) == 1
