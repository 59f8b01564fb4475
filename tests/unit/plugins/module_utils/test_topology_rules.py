"""Every validation rule of the topology, each with a failing and a passing case.

A case is (mutation that breaks a valid topology, field path of the expected error, a fragment of its
message, mutation that stays valid near the same boundary). The failing case must report that error
at that path; the passing case must report nothing at all.
"""
from __future__ import annotations

import pytest
from ansible_collections.msa.platform.plugins.module_utils.topology import validate
from topology_cases import drop, eks, k8s, kubeadm, net, pool, svc


def _set(getter, **values):
    return lambda t: getter(t).update(values)


def _pool(pool_name, **values):
    return _set(lambda t: pool(t, pool_name), **values)


def _net(**values):
    return _set(net, **values)


def _k8s(**values):
    return _set(k8s, **values)


def _svc(service, **values):
    return _set(lambda t: svc(t, service), **values)


def _all(*mutations):
    def apply(t):
        for m in mutations:
            m(t)
    return apply


def _add_pool(**p):
    return lambda t: t["pools"].append(p)


def _noop(t):
    return None


def _del(key):
    return lambda t: t.pop(key)


def _tags(**tags):
    return lambda t: t.update(tags=tags)


KUBEADM = [
    # ---- names, tags, unknown keys, types
    ("name-pattern", lambda t: t.update(name="Shop"), "name", "is not valid", lambda t: t.update(name="shop-2")),
    ("name-length", lambda t: t.update(name="a" * 24), "name", "is not valid", lambda t: t.update(name="a" * 23)),
    ("name-trailing-dash", lambda t: t.update(name="shop-"), "name", "not ending with '-'", lambda t: t.update(name="s2")),
    ("name-required", _del("name"), "name", "required", _noop),
    ("region", lambda t: t.update(region="ap-northest-2"), "region", "not an AWS region", lambda t: t.update(region="us-gov-west-1")),
    ("region-unknown", lambda t: t.update(region="ap-northeast-9"), "region", "not a region of any AWS partition",
     lambda t: t.update(region="ap-northeast-3")),
    ("region-unknown-gov", _all(lambda t: t.update(region="us-gov-north-1"), _net(az_names=["us-gov-north-1a", "us-gov-north-1b"])), "region",
     "not a region of any AWS partition", _all(lambda t: t.update(region="us-gov-east-1"), _net(az_names=["us-gov-east-1a", "us-gov-east-1b"]))),
    ("tag-key-chars", _tags(**{"team\n": "x"}), "tags['team\\n']", "no newline", _tags(**{"team:owner @x": "x"})),
    ("tag-value-chars", _tags(team="a\tb"), "tags['team']", "letters, digits", _tags(team="")),
    ("tag-name", _tags(Name="x"), "tags['Name']", "set by the platform", _tags(Owner="x")),
    ("tag-msa", lambda t: t.update(tags={"msa:pool": "x"}), "tags['msa:pool']", "set by the platform", _tags(team="x")),
    ("tag-aws", lambda t: t.update(tags={"aws:x": "x"}), "tags['aws:x']", "set by the platform", _tags(x="aws:x")),
    ("tag-key-length", lambda t: t.update(tags={"k" * 129: "v"}), "tags['%s']" % ("k" * 129), "1 to 128",
     lambda t: t.update(tags={"k" * 128: "v"})),
    ("tag-value-length", _tags(Owner="v" * 257), "tags['Owner']", "at most 256", _tags(Owner="v" * 256)),
    ("tag-count", lambda t: t.update(tags={f"k{i}": "v" for i in range(41)}), "tags", "keep it to 40",
     lambda t: t.update(tags={f"k{i}": "v" for i in range(40)})),
    ("tag-value-type", lambda t: t.update(tags={"Cost": 12}), "tags.Cost", "quote it", _tags(Cost="12")),
    ("unknown-top", lambda t: t.update(regoin="x"), "regoin", "did you mean 'region'?", _noop),
    ("unknown-pool-key", _pool("auth", instnce_type="t3.small"), "pools[1].instnce_type", "did you mean 'instance_type'?",
     _pool("auth", instance_type="t3.small")),
    ("unknown-nested", _svc("redis", sentinel={"enable": True}), "services.redis.sentinel.enable", "did you mean 'enabled'?",
     _svc("redis", sentinel={"enabled": False})),
    ("int-as-string", _pool("pg", count="2"), "pools[3].count", "expected an integer", _pool("pg", count=2)),
    ("bool-as-int", _pool("pg", count=True), "pools[3].count", "expected an integer", _pool("pg", count=1)),
    ("count-minimum", _pool("pg", count=0), "pools[3].count", "below the minimum 1", _pool("pg", count=1)),
    ("bool-as-string", _net(data_internet="yes"), "network.data_internet", "expected true or false", _net(data_internet=True)),
    ("choices", _net(nat="perAZ"), "network.nat", "is not one of single, per_az, none", _net(nat="per_az")),
    ("list-expected", _net(admin_cidrs="203.0.113.0/24"), "network.admin_cidrs", "expected a list", _net(admin_cidrs=["198.51.100.7/32"])),
    ("mapping-expected", lambda t: t.update(network=[]), "network", "expected a mapping", lambda t: t.update(network=dict(net(t)))),
    ("pools-empty", lambda t: t.update(pools=[]), "pools", "at least one pool", _noop),
    # ---- kubernetes
    ("version-float", _k8s(version=1.3), "kubernetes.version", "quote it", _k8s(version="1.31")),
    ("version-range", _k8s(version="1.20"), "kubernetes.version", "not supported", _k8s(version="1.35")),
    ("version-v1beta4", _k8s(version="1.30"), "kubernetes.version", 'use "1.31" to "1.37"', _k8s(version="1.31")),
    ("version-newest", _k8s(version="1.38"), "kubernetes.version", "not supported in kubeadm mode", _k8s(version="1.37")),
    ("version-shape", _k8s(version="v1.30"), "kubernetes.version", "is not valid", _k8s(version="1.33")),
    ("endpoint-choice", _k8s(control_plane_endpoint="elb"), "kubernetes.control_plane_endpoint", "is not one of auto, node, nlb, local_proxy",
     _k8s(control_plane_endpoint="nlb")),
    ("endpoint-node-ha", _all(_pool("cp", count=3), _k8s(control_plane_endpoint="node")), "kubernetes.control_plane_endpoint",
     "take the API down", _all(_pool("cp", count=3), _k8s(control_plane_endpoint="local_proxy"))),
    ("endpoint-even-ha", _all(_pool("cp", count=4), _k8s(control_plane_endpoint="nlb")), "pools[0].count", "odd number",
     _all(_pool("cp", count=5), _k8s(control_plane_endpoint="nlb"))),
    ("api-port-range", _k8s(api_port=443), "kubernetes.api_port", "below the minimum 1024", _k8s(api_port=8443)),
    ("node-name-choice", _k8s(node_name="hostname"), "kubernetes.node_name", "is not one of private_dns", _k8s(node_name="private_dns")),
    ("calico-encapsulation", _k8s(calico={"encapsulation": "VXLANCrosSubnet"}), "kubernetes.calico.encapsulation",
     "did you mean 'VXLANCrossSubnet'?", _k8s(calico={"encapsulation": "IPIPCrossSubnet"})),
    ("calico-mtu-overhead", _k8s(calico={"encapsulation": "VXLAN", "mtu": 8952}), "kubernetes.calico.mtu", "use at most 8951",
     _k8s(calico={"encapsulation": "VXLAN", "mtu": 8951})),
    ("calico-mtu-range", _k8s(calico={"mtu": 1000}), "kubernetes.calico.mtu", "below the minimum 1280", _k8s(calico={"mtu": 1500})),
    ("calico-unknown", _k8s(calico={"ipip": True}), "kubernetes.calico.ipip", "unknown key", _k8s(calico={})),
    ("calico-none-subnets", _all(_k8s(calico={"encapsulation": "None"}), _pool("general", count=2)), "kubernetes.calico.encapsulation",
     "span 2 subnets", _all(_k8s(calico={"encapsulation": "None"}), _pool("general", count=2), _net(azs=1))),
    ("imds-hop-limit", _pool("general", imds_hop_limit=0), "pools[2].imds_hop_limit", "below the minimum 1",
     _pool("general", imds_hop_limit=2)),
    ("mode-typo", _k8s(mode="kubeadmm"), "kubernetes.mode", "did you mean 'kubeadm'?", _k8s(mode="kubeadm")),
    ("kubeadm-eks-field", _k8s(endpoint_public_access=True), "kubernetes.endpoint_public_access", "only used in eks mode",
     _k8s(cni="calico")),
    ("none-version", _all(_k8s(mode="none", version="1.30"), *[lambda t, n=n: drop(t, n) for n in ("cp", "auth", "general")]),
     "kubernetes.version", "only used in kubeadm or eks mode", _all(_k8s(mode="none"), *[lambda t, n=n: drop(t, n) for n in ("cp", "auth", "general")])),
    ("none-k8s-pool", _all(_k8s(mode="none"), lambda t: drop(t, "cp"), lambda t: drop(t, "auth")), "pools[0].role",
     "kubernetes.mode is none", _all(_k8s(mode="none"), *[lambda t, n=n: drop(t, n) for n in ("cp", "auth", "general")])),
    ("no-control-plane", lambda t: drop(t, "cp"), "pools", "needs a pool with role: control_plane", _noop),
    ("control-plane-even", _pool("cp", count=2), "pools[0].count", "odd number", _pool("cp", count=3)),
    ("control-plane-memory", _pool("cp", instance_type="t3.micro"), "pools[0].instance_type", "less than 2 GiB",
     _pool("cp", instance_type="t3.small")),
    ("no-untainted-worker", _pool("general", taints=[{"key": "x", "value": "y", "effect": "NoExecute"}]), "pools",
     "no untainted worker", _pool("general", taints=[{"key": "x", "value": "y", "effect": "PreferNoSchedule"}])),
    ("pod-cidr-vpc", _k8s(pod_cidr="10.0.128.0/17"), "kubernetes.pod_cidr", "overlaps the VPC", _k8s(pod_cidr="10.244.0.0/16")),
    ("pod-cidr-small", _k8s(pod_cidr="192.168.0.0/25"), "kubernetes.pod_cidr", "smaller than a /24", _k8s(pod_cidr="192.168.0.0/22")),
    ("pod-cidr-nodes", _k8s(pod_cidr="192.168.0.0/23"), "kubernetes.pod_cidr", "has 3 nodes", _k8s(pod_cidr="192.168.0.0/22")),
    ("pod-cidr-public", _k8s(pod_cidr="8.8.0.0/16"), "kubernetes.pod_cidr", "not a private range", _k8s(pod_cidr="172.16.0.0/16")),
    ("service-pod-overlap", _k8s(service_cidr="192.168.16.0/20"), "kubernetes.service_cidr", "overlaps kubernetes.pod_cidr",
     _k8s(service_cidr="10.96.0.0/12")),
    ("service-vpc-overlap", _k8s(service_cidr="10.0.0.0/12"), "kubernetes.service_cidr", "overlaps the VPC",
     _k8s(service_cidr="10.16.0.0/12")),
    ("service-too-big", _k8s(service_cidr="10.64.0.0/11"), "kubernetes.service_cidr", "/12 to /28", _k8s(service_cidr="10.96.0.0/28")),
    ("service-not-rfc1918", _k8s(service_cidr="100.64.0.0/16"), "kubernetes.service_cidr", "not inside", _k8s(service_cidr="172.20.0.0/16")),
    # ---- network
    ("cidr-host-bits", _net(cidr="10.0.0.1/16"), "network.cidr", "did you mean 10.0.0.0/16?", _net(cidr="10.0.0.0/16")),
    ("cidr-garbage", _net(cidr="10.0.0/33"), "network.cidr", "is not a CIDR", _net(cidr="10.1.0.0/16")),
    ("cidr-ipv6", _net(cidr="fd00::/48"), "network.cidr", "IPv6", _net(cidr="172.31.0.0/16")),
    ("cidr-no-prefix", _net(cidr="10.0.0.0"), "network.cidr", "no prefix length", _net(cidr="10.0.0.0/16")),
    ("vpc-size", _net(cidr="10.0.0.0/15"), "network.cidr", "/16 to /28", _net(cidr="10.2.0.0/16")),
    ("vpc-private", _net(cidr="11.0.0.0/16"), "network.cidr", "not a private range", _net(cidr="100.64.0.0/16")),
    ("az-slots", _net(azs=3, az_slots=2), "network.az_slots", "less than network.azs", _net(azs=3, az_slots=3)),
    ("tier-prefix-vpc", _net(cidr="10.0.0.0/20", tier_prefix={"app": 19}), "network.tier_prefix.app", "larger than the VPC",
     _net(cidr="10.0.0.0/17", tier_prefix={"app": 20})),
    ("address-space", _net(cidr="10.0.0.0/20"), "network.cidr", "not enough address space", _net(cidr="10.0.0.0/20", az_slots=2)),
    ("tiers-duplicate", _net(tiers=["public", "app", "app", "data", "mgmt", "mq"]), "network.tiers[2]", "listed twice", _noop),
    ("tiers-empty", _net(tiers=[]), "network.tiers", "empty", _noop),
    ("nat-public", _net(tiers=["app", "data", "mgmt", "mq"]), "network.nat", "public tier", _net(tiers=["app", "data", "mgmt", "mq"], nat="none")),
    ("bastion-public", _net(tiers=["app", "data", "mgmt", "mq"], nat="none", bastion=True), "network.bastion", "public tier",
     _net(nat="none", bastion=True)),
    ("admin-world", _net(admin_cidrs=["0.0.0.0/0"]), "network.admin_cidrs[0]", "open SSH to the world", _net(admin_cidrs=["172.16.0.0/12"])),
    ("admin-world-halves", _net(admin_cidrs=["0.0.0.0/1", "128.0.0.0/1"]), "network.admin_cidrs", "collapsed: 0.0.0.0/0",
     _net(admin_cidrs=["172.16.0.0/13", "172.24.0.0/13"])),
    ("admin-too-broad", _net(admin_cidrs=["10.0.0.0/8", "203.0.113.0/24"]), "network.admin_cidrs", "more than the 16777216 (a /8)",
     _net(admin_cidrs=["10.0.0.0/9", "172.16.0.0/12", "203.0.113.0/24"])),
    ("data-internet-no-nat", _net(data_internet=True, nat="none"), "network.data_internet", "nat is none",
     _net(data_internet=True, nat="per_az")),
    ("admin-duplicate", _net(admin_cidrs=["203.0.113.0/24", "203.0.113.0/24"]), "network.admin_cidrs[1]", "listed twice",
     _net(admin_cidrs=["203.0.113.0/24", "198.51.100.0/24"])),
    ("admin-empty", _net(admin_cidrs=[]), "network.admin_cidrs", "nothing could reach the nodes", _net(admin_cidrs=["198.51.100.7/32"])),
    ("admin-empty-bastion", _net(admin_cidrs=[], bastion=True), "network.admin_cidrs", "or the bastion", _net(bastion=True)),
    ("az-names-region", _net(az_names=["us-east-1a", "us-east-1b"]), "network.az_names[0]", "not an AZ of ap-northeast-2",
     _net(az_names=["ap-northeast-2b", "ap-northeast-2d"])),
    ("az-names-duplicate", _net(az_names=["ap-northeast-2a", "ap-northeast-2a"]), "network.az_names[1]", "listed twice",
     _net(az_names=["ap-northeast-2a", "ap-northeast-2b", "ap-northeast-2c"])),
    ("az-names-few", _net(azs=3, az_names=["ap-northeast-2a", "ap-northeast-2b"]), "network.az_names", "2 names for 3 AZs",
     _net(azs=3, az_names=["ap-northeast-2a", "ap-northeast-2b", "ap-northeast-2c"])),
    ("azs-known", _all(lambda t: t.update(region="ap-northeast-1"), _net(azs=4)), "network.azs", "only 3 AZs",
     _all(lambda t: t.update(region="ap-northeast-1"), _net(azs=3))),
    # ---- pools
    ("pool-name", _pool("auth", name="Auth_1", api="auth"), "pools[1].name", "lowercase letters", _pool("auth", name="auth-1", api="auth")),
    ("pool-duplicate", _pool("general", name="auth"), "pools[2].name", "already the name of pools[1]", _pool("general", name="auth2")),
    ("node-name-length", _pool("general", name="w" * 57), "pools[2].name", "63", _pool("general", name="w" * 56)),
    ("single-role", _add_pool(name="pg2", role="postgresql"), "pools[8].role", "a second postgresql pool",
     _add_pool(name="w2", role="worker")),
    ("api-duplicate", _add_pool(name="auth2", role="api", api="auth"), "pools[8].api", "already the API of pools[1]",
     _add_pool(name="auth2", role="api")),
    ("tier-unlisted", _all(_net(tiers=["public", "app", "data"]), _pool("mon", tier="mgmt")), "pools[7].tier", "not in network.tiers",
     _net(tiers=["public", "app", "data"])),
    ("tier-public", _pool("general", tier="public"), "pools[2].tier", "only the bastion", _pool("general", tier="mgmt")),
    ("bastion-tier", _all(_net(bastion=True), _add_pool(name="jump", role="bastion", tier="app")), "pools[8].tier", "public tier",
     _all(_net(bastion=True), _add_pool(name="jump", role="bastion"))),
    ("bastion-flag", _all(_net(bastion=False), _add_pool(name="jump", role="bastion")), "network.bastion", "set bastion: true",
     _add_pool(name="jump", role="bastion")),
    ("tier-default", _net(tiers=["public", "app"]), "pools[3].tier", "none of the tiers", _net(tiers=["public", "app", "data"])),
    ("instance-type", _pool("general", instance_type="t3large"), "pools[2].instance_type", "not an EC2 instance type",
     _pool("general", instance_type="m6i.2xlarge")),
    ("instance-type-metal", _pool("general", instance_type="u-6tb1"), "pools[2].instance_type", "family.size",
     _pool("general", instance_type="u-6tb1.metal")),
    ("api-on-worker", _pool("general", api="x"), "pools[2].api", "only api pools", _noop),
    ("namespace-on-worker", _pool("general", namespace="x"), "pools[2].namespace", "only api pools", _pool("auth", namespace="x")),
    ("labels-on-data", _pool("pg", labels={"a": "b"}), "pools[3].labels", "take no labels", _pool("general", labels={"a": "b"})),
    ("taints-on-data", _pool("pg", taints=[]), "pools[3].taints", "take no taints", _pool("general", taints=[])),
    ("kubeadm-eks-pool-field", _pool("general", min_size=1), "pools[2].min_size", "only used in eks mode", _noop),
    ("kubeadm-eks-admins", _k8s(admin_principals=[]), "kubernetes.admin_principals", "only used in eks mode", _noop),
    ("api-namespace-system", _pool("auth", namespace="kube-system"), "pools[1].namespace", "system namespace", _pool("auth", namespace="auth-ns")),
    ("api-namespace-default", _pool("auth", namespace="default"), "pools[1].namespace", "system namespace", _pool("auth", namespace="cube-x")),
    ("api-named-kube-system", _pool("auth", api="kube-system"), "pools[1].api", "defaults to the API name",
     _pool("auth", api="kube-system", namespace="auth", labels={"api": "kube-system"})),
    ("api-pool-named-default", _pool("auth", name="default"), "pools[1].name", "defaults to the API name (the pool name)",
     _pool("auth", name="default", namespace="auth")),
    ("api-label-on-worker", _pool("general", labels={"api": "auth"}), "pools[2].labels['api']", "would attract",
     _pool("general", labels={"workload": "batch"})),
    ("api-label-on-tainted-worker", _all(_pool("general", labels={"api": "auth"}, taints=[{"key": "api", "value": "auth", "effect": "NoSchedule"}]),
                                         _add_pool(name="w2", role="worker")),
     "pools[2].labels['api']", "would attract",
     _all(_pool("general", labels={"dedicated": "batch"}, taints=[{"key": "dedicated", "value": "batch", "effect": "NoSchedule"}]),
          _add_pool(name="w2", role="worker"))),
    ("empty-instance-type", _pool("cp", instance_type=""), "pools[0].instance_type", "empty string", _pool("cp", instance_type="t3.large")),
    ("empty-api", _pool("auth", api=""), "pools[1].api", "empty string", _pool("auth", api="auth")),
    ("empty-namespace", _pool("auth", namespace=""), "pools[1].namespace", "empty string", _pool("auth", namespace="auth")),
    ("api-name", _pool("auth", api="Auth"), "pools[1].api", "lowercase", _pool("auth", api="auth-v2")),
    # ---- labels and taints (Kubernetes rules)
    ("label-key-chars", _pool("general", labels={"-bad": "x"}), "pools[2].labels['-bad']", "name part", _pool("general", labels={"b-a_d.1": "x"})),
    ("label-key-slashes", _pool("general", labels={"a/b/c": "x"}), "pools[2].labels['a/b/c']", "more than one '/'",
     _pool("general", labels={"a.example.com/c": "x"})),
    ("label-key-name-63", _pool("general", labels={"k" * 64: "x"}), "pools[2].labels['%s']" % ("k" * 64), "limit is 63",
     _pool("general", labels={"k" * 63: "x"})),
    ("label-prefix-253", _pool("general", labels={("a" * 63 + ".") * 3 + "a" * 62 + "/k": "x"}),
     "pools[2].labels['%s/k']" % (("a" * 63 + ".") * 3 + "a" * 62), "limit is 253",
     _pool("general", labels={("a" * 63 + ".") * 3 + "a" * 61 + "/k": "x"})),
    ("label-prefix-case", _pool("general", labels={"Example.com/k": "x"}), "pools[2].labels['Example.com/k']", "DNS subdomain",
     _pool("general", labels={"example.com/K": "x"})),
    ("label-empty-name", _pool("general", labels={"example.com/": "x"}), "pools[2].labels['example.com/']", "empty name",
     _pool("general", labels={"example.com/n": "x"})),
    ("label-reserved", _pool("general", labels={"kubernetes.io/hostname": "x"}), "pools[2].labels['kubernetes.io/hostname']",
     "reserved", _pool("general", labels={"node-role.kubernetes.io/ingress": ""})),
    ("label-reserved-sub", _pool("general", labels={"node.kubernetes.io/instance-type": "x"}),
     "pools[2].labels['node.kubernetes.io/instance-type']", "reserved", _pool("general", labels={"kubernetes.example.io/x": "y"})),
    ("label-reserved-k8s", _pool("general", labels={"foo.k8s.io/x": "y"}), "pools[2].labels['foo.k8s.io/x']", "k8s.io prefix",
     _pool("general", labels={"k8s.example/x": "y"})),
    ("label-control-plane-role", _pool("general", labels={"node-role.kubernetes.io/control-plane": ""}),
     "pools[2].labels['node-role.kubernetes.io/control-plane']", "marks a control-plane node",
     _pool("cp", labels={"node-role.kubernetes.io/control-plane": ""})),
    ("label-value", _pool("general", labels={"tier": "-x"}), "pools[2].labels['tier']", "label value", _pool("general", labels={"tier": ""})),
    ("label-value-63", _pool("general", labels={"tier": "v" * 64}), "pools[2].labels['tier']", "limit is 63",
     _pool("general", labels={"tier": "v" * 63})),
    ("label-value-type", _pool("general", labels={"gpu": True}), "pools[2].labels.gpu", "quote it", _pool("general", labels={"gpu": "true"})),
    ("taint-effect", _pool("auth", taints=[{"key": "api", "value": "auth", "effect": "NoSchedul"}]), "pools[1].taints[0].effect",
     "did you mean 'NoSchedule'?", _pool("auth", taints=[{"key": "api", "value": "auth", "effect": "NoExecute"}])),
    ("taint-effect-required", _pool("general", taints=[{"key": "a"}]), "pools[2].taints[0].effect", "required",
     _pool("general", taints=[{"key": "a", "effect": "PreferNoSchedule"}])),
    ("taint-key", _pool("general", taints=[{"key": "a b", "effect": "PreferNoSchedule"}]), "pools[2].taints[0].key", "taint key",
     _pool("general", taints=[{"key": "a.b", "effect": "PreferNoSchedule"}])),
    ("taint-reserved", _pool("general", taints=[{"key": "node.kubernetes.io/not-ready", "effect": "PreferNoSchedule"}]),
     "pools[2].taints[0].key", "reserved", _pool("cp", taints=[{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}])),
    ("taint-control-plane-elsewhere", _pool("general", taints=[{"key": "node-role.kubernetes.io/control-plane", "effect": "PreferNoSchedule"}]),
     "pools[2].taints[0].key", "reserved", _pool("general", taints=[{"key": "node-role", "effect": "PreferNoSchedule"}])),
    ("taint-duplicate", _pool("general", taints=[{"key": "a", "effect": "PreferNoSchedule"}, {"key": "a", "value": "b", "effect": "PreferNoSchedule"}]),
     "pools[2].taints[1]", "key/effect pair once",
     _pool("auth", taints=[{"key": "api", "value": "auth", "effect": "NoSchedule"}, {"key": "api", "value": "auth", "effect": "NoExecute"}])),
    ("taint-value", _pool("general", taints=[{"key": "a", "value": "x" * 64, "effect": "PreferNoSchedule"}]),
     "pools[2].taints[0].value", "limit is 63", _pool("general", taints=[{"key": "a", "value": "x" * 63, "effect": "PreferNoSchedule"}])),
    ("api-taint-label", _pool("auth", taints=[{"key": "dedicated", "value": "auth", "effect": "NoSchedule"}]), "pools[1].taints[0]",
     "has no matching label", _pool("auth", taints=[{"key": "dedicated", "value": "auth", "effect": "NoSchedule"}], labels={"dedicated": "auth"})),
    ("api-untainted", _pool("auth", taints=[]), "pools[1].taints", "needs a NoSchedule or NoExecute taint",
     _pool("auth", taints=[{"key": "api", "value": "auth", "effect": "NoExecute"}])),
    ("api-label-mismatch", _pool("auth", labels={"api": "chat"}), "pools[1].labels['api']", "serves API 'auth'",
     _pool("auth", labels={"api": "auth", "team": "id"})),
    # ---- services and quorums
    ("service-without-pool", _all(lambda t: drop(t, "kafka"), _svc("kafka", partitions=6)), "services.kafka", "no pool has role kafka",
     lambda t: drop(t, "kafka")),
    ("sentinel-small", _svc("redis", sentinel={"enabled": True}), "services.redis.sentinel.enabled", "odd number",
     _all(_svc("redis", sentinel={"enabled": True}), _pool("cache", count=3))),
    ("sentinel-even", _all(_svc("redis", sentinel={"enabled": True}), _pool("cache", count=4)), "services.redis.sentinel.enabled",
     "odd number", _all(_svc("redis", sentinel={"enabled": True}), _pool("cache", count=5))),
    ("sentinel-quorum", _all(_svc("redis", sentinel={"enabled": True, "quorum": 4}), _pool("cache", count=3)),
     "services.redis.sentinel.quorum", "more than the 3 sentinels",
     _all(_svc("redis", sentinel={"enabled": True, "quorum": 3}), _pool("cache", count=3))),
    ("kraft-even", _pool("kafka", count=2), "services.kafka.controllers", "odd number", _pool("kafka", count=4)),
    ("kraft-small", _pool("kafka", count=1), "services.kafka.controllers", "allow_single_node",
     _all(_pool("kafka", count=1), _svc("kafka", allow_single_node=True))),
    ("kraft-controllers-even", _all(_pool("kafka", count=5), _svc("kafka", controllers=4)), "services.kafka.controllers", "odd number",
     _all(_pool("kafka", count=5), _svc("kafka", controllers=5))),
    ("kraft-controllers-count", _svc("kafka", controllers=5), "services.kafka.controllers", "pool has 3 nodes", _svc("kafka", controllers=3)),
    ("kraft-single-flag", _svc("kafka", allow_single_node=True), "services.kafka.allow_single_node", "remove it",
     _svc("kafka", allow_single_node=False)),
    ("kafka-rf", _svc("kafka", replication_factor=4), "services.kafka.replication_factor", "more than the 3 brokers",
     _svc("kafka", replication_factor=3)),
    ("kafka-isr", _svc("kafka", replication_factor=2, min_insync_replicas=3), "services.kafka.min_insync_replicas", "no write could succeed",
     _svc("kafka", replication_factor=2, min_insync_replicas=2)),
    ("kafka-ports", _svc("kafka", controller_port=9092), "services.kafka.controller_port", "also services.kafka.port",
     _svc("kafka", controller_port=9094)),
    ("service-port-ssh-range", _svc("redis", port=22), "services.redis.port", "below the minimum 1024", _svc("redis", port=6380)),
    ("service-port-exporter", _svc("postgresql", port=9100), "services.postgresql.port", "node exporter", _svc("postgresql", port=5433)),
    ("service-port-own-exporter", _svc("postgresql", port=9187), "services.postgresql.port", "postgresql exporter port on the postgresql nodes",
     _svc("postgresql", port=9121)),
    ("rabbitmq-port-erlang", _svc("rabbitmq", port=25672), "services.rabbitmq.port", "Erlang distribution", _svc("rabbitmq", port=25673)),
    ("rabbitmq-port-epmd", _svc("rabbitmq", port=4369), "services.rabbitmq.port", "epmd", _svc("rabbitmq", port=4370)),
    ("rabbitmq-port-cli", _svc("rabbitmq", port=35680), "services.rabbitmq.port", "CLI tools", _svc("rabbitmq", port=35683)),
    ("rabbitmq-port-exporter", _svc("rabbitmq", port=15692), "services.rabbitmq.port", "rabbitmq exporter", _svc("rabbitmq", port=15693)),
    ("kafka-port-exporter", _svc("kafka", port=9308), "services.kafka.port", "kafka exporter", _svc("kafka", port=9309)),
    ("kafka-controller-port-exporter", _svc("kafka", controller_port=9308), "services.kafka.controller_port", "kafka exporter",
     _svc("kafka", controller_port=9095)),
    ("redis-sentinel-port-exporter", _all(_svc("redis", sentinel={"enabled": True, "port": 9121}), _pool("cache", count=3)),
     "services.redis.sentinel.port", "redis exporter", _all(_svc("redis", sentinel={"enabled": True, "port": 26380}), _pool("cache", count=3))),
    ("monitoring-port-cluster", _svc("monitoring", grafana_port=9094), "services.monitoring.grafana_port", "Alertmanager cluster",
     _svc("monitoring", grafana_port=9095)),
    ("rabbitmq-even", _pool("mq", count=2), "services.rabbitmq", "odd number", _pool("mq", count=3)),
    ("rabbitmq-port", _svc("rabbitmq", port=15672), "services.rabbitmq.management (fixed)", "also services.rabbitmq.port",
     _svc("rabbitmq", port=15672, management=False)),
    ("vhost-duplicate", _svc("rabbitmq", vhosts=["/", "/"]), "services.rabbitmq.vhosts[1]", "listed twice", _svc("rabbitmq", vhosts=["/", "shop"])),
    ("vhost-chars", _svc("rabbitmq", vhosts=["a b"]), "services.rabbitmq.vhosts[0]", "use letters", _svc("rabbitmq", vhosts=["a-b"])),
    ("pg-sync", _all(_pool("pg", count=1), _svc("postgresql", synchronous_replication=True)), "services.postgresql.synchronous_replication",
     "needs a replica", _svc("postgresql", synchronous_replication=True)),
    ("pg-db-name", _svc("postgresql", databases=[{"name": "Orders"}]), "services.postgresql.databases[0].name", "PostgreSQL identifier",
     _svc("postgresql", databases=[{"name": "orders"}])),
    ("pg-db-owner", _svc("postgresql", databases=[{"name": "o", "owner": "1x"}]), "services.postgresql.databases[0].owner", "identifier",
     _svc("postgresql", databases=[{"name": "o", "owner": "x1"}])),
    ("pg-db-duplicate", _svc("postgresql", databases=[{"name": "o"}, {"name": "o"}]), "services.postgresql.databases[1].name", "unique",
     _svc("postgresql", databases=[{"name": "o"}, {"name": "p"}])),
    ("duration", _svc("monitoring", retention="15 days"), "services.monitoring.retention", "a duration like 15d", _svc("monitoring", retention="90d")),
    ("monitoring-ports", _svc("monitoring", grafana_port=9090), "services.monitoring.grafana_port", "also services.monitoring.port",
     _svc("monitoring", grafana_port=3001)),
]

EKS = [
    ("eks-cni", _k8s(cni="calico"), "kubernetes.cni", "only used in kubeadm mode", _noop),
    ("eks-pod-cidr", _k8s(pod_cidr="192.168.0.0/16"), "kubernetes.pod_cidr", "only used in kubeadm mode", _noop),
    ("eks-public-no-cidrs", _k8s(endpoint_public_access=True), "kubernetes.public_access_cidrs", "list the CIDRs",
     _k8s(endpoint_public_access=True, public_access_cidrs=["203.0.113.0/24"])),
    ("eks-public-world", _k8s(endpoint_public_access=True, public_access_cidrs=["0.0.0.0/0"]), "kubernetes.public_access_cidrs[0]",
     "to the world", _k8s(endpoint_public_access=True, public_access_cidrs=["198.51.100.0/24"])),
    ("eks-public-halves", _k8s(endpoint_public_access=True, public_access_cidrs=["0.0.0.0/1", "128.0.0.0/2", "192.0.0.0/2"]),
     "kubernetes.public_access_cidrs", "collapsed: 0.0.0.0/0",
     _k8s(endpoint_public_access=True, public_access_cidrs=["203.0.113.0/24", "198.51.100.0/24"])),
    ("eks-private-cidrs", _k8s(public_access_cidrs=["203.0.113.0/24"]), "kubernetes.public_access_cidrs", "endpoint_public_access is false",
     _k8s(endpoint_public_access=False)),
    ("eks-endpoint", _k8s(control_plane_endpoint="nlb"), "kubernetes.control_plane_endpoint", "only used in kubeadm mode", _noop),
    ("eks-calico", _k8s(calico={"encapsulation": "VXLAN"}), "kubernetes.calico", "only used in kubeadm mode", _noop),
    ("eks-one-az", _net(azs=1), "network.azs", "at least 2 AZs", _net(azs=3)),
    ("eks-control-plane", _add_pool(name="cp", role="control_plane"), "pools[3].role", "EKS manages the control plane", _noop),
    ("eks-service-cidr", _k8s(service_cidr="172.20.0.0/25"), "kubernetes.service_cidr", "/12 to /24", _k8s(service_cidr="172.20.0.0/24")),
    ("eks-scaling", _pool("orders", min_size=3), "pools[1].count", "outside min_size..max_size", _pool("orders", min_size=2)),
    ("eks-field-data-pool", _pool("pg", capacity_type="SPOT"), "pools[2].capacity_type", "only Kubernetes pools are EKS node groups",
     _pool("general", capacity_type="SPOT")),
    ("eks-capacity-choice", _pool("general", capacity_type="spot"), "pools[0].capacity_type", "did you mean 'SPOT'?",
     _pool("general", capacity_type="ON_DEMAND")),
    ("eks-version-gone", _k8s(version="1.31"), "kubernetes.version", "use \"1.32\" to \"1.36\"", _k8s(version="1.32")),
    ("eks-version-future", _k8s(version="1.37"), "kubernetes.version", "the minors EKS still runs", _k8s(version="1.36")),
    ("eks-no-endpoint", _k8s(endpoint_private_access=False), "kubernetes.endpoint_private_access", "nothing could reach",
     _k8s(endpoint_private_access=False, endpoint_public_access=True, public_access_cidrs=["203.0.113.0/24"])),
    ("eks-logging-twice", _k8s(logging=["api", "api"]), "kubernetes.logging[1]", "listed twice", _k8s(logging=["api", "scheduler"])),
    ("eks-logging-choice", _k8s(logging=["API"]), "kubernetes.logging[0]", "did you mean 'api'?", _k8s(logging=[])),
    ("eks-admin-not-arn", _k8s(admin_principals=["admins"]), "kubernetes.admin_principals[0]", "not an IAM role or user ARN",
     _k8s(admin_principals=["arn:aws:iam::123456789012:role/admins"])),
    ("eks-admin-session", _k8s(admin_principals=["arn:aws:sts::123456789012:assumed-role/admins/bob"]), "kubernetes.admin_principals[0]",
     "a session", _k8s(admin_principals=["arn:aws:iam::123456789012:user/bob"])),
    ("eks-admin-twice", _k8s(admin_principals=["arn:aws:iam::123456789012:role/a"] * 2), "kubernetes.admin_principals[1]", "listed twice",
     _k8s(admin_principals=["arn:aws-cn:iam::123456789012:role/a"])),
    ("eks-ami-arch", _pool("general", ami_type="AL2023_ARM_64_STANDARD"), "pools[0].ami_type", "does not run on",
     _pool("general", instance_type="m7g.large", ami_type="AL2023_ARM_64_STANDARD")),
    ("eks-hop-limit", _pool("general", imds_hop_limit=0), "pools[0].imds_hop_limit", "below the minimum", _pool("general", imds_hop_limit=2)),
    ("eks-field-data-pool-ami", _pool("pg", max_unavailable=2), "pools[2].max_unavailable", "only Kubernetes pools are EKS node groups",
     _pool("general", max_unavailable=2)),
]


def _errors(base, mutate):
    topology = base()
    mutate(topology)
    return validate(topology)


@pytest.mark.parametrize(("name", "bad", "path", "fragment", "good"),
                         [pytest.param(*c, id=c[0]) for c in KUBEADM] + [pytest.param(*c, id=c[0]) for c in EKS])
def test_rule_rejects(name, bad, path, fragment, good):
    base = eks if name.startswith("eks-") else kubeadm
    errors = _errors(base, bad)
    matching = [e for e in errors if e.startswith(path + ": ")]
    assert matching, f"no error at {path}; got {errors}"
    assert any(fragment in e for e in matching), f"{fragment!r} not in {matching}"


@pytest.mark.parametrize(("name", "bad", "path", "fragment", "good"),
                         [pytest.param(*c, id=c[0]) for c in KUBEADM] + [pytest.param(*c, id=c[0]) for c in EKS])
def test_rule_accepts(name, bad, path, fragment, good):
    base = eks if name.startswith("eks-") else kubeadm
    assert _errors(base, good) == []


def test_bases_are_valid():
    assert validate(kubeadm()) == []
    assert validate(eks()) == []


def test_every_error_is_reported_at_once():
    topology = kubeadm()
    for mutate in (c[1] for c in KUBEADM if c[0] in ("region", "taint-effect", "kraft-even", "admin-world", "unknown-pool-key")):
        mutate(topology)
    errors = validate(topology)
    for path in ("region", "pools[1].taints[0].effect", "services.kafka.controllers", "network.admin_cidrs[0]", "pools[1].instnce_type"):
        assert any(e.startswith(path + ": ") for e in errors), (path, errors)


def test_not_a_mapping():
    assert validate(["pools"]) == ["platform: expected a mapping, got list"]
    assert validate(None) == ["platform: expected a mapping, got null"]


def test_az_names_option_overrides_and_is_checked():
    assert validate(kubeadm(), az_names=["ap-northeast-2b", "ap-northeast-2d", "ap-northeast-2a"]) == []
    errors = validate(kubeadm(), az_names=["eu-west-1a", "eu-west-1b"])
    assert errors[0].startswith("az_names (module option)[0]: 'eu-west-1a' is not an AZ of ap-northeast-2"), errors
