"""The kubeadm role's rendered configs against the v1beta4 / component-config field sets and the plan.

Templates are rendered with the role's own defaults and vars/main.yml (kubeadm_render.py); the field
sets and the semantic checks are the strict stand-in's (molecule/kubeadm/standin/kube_standin.py,
transcribed from the v1beta4 Go types), so what passes here is what the molecule run feeds it.
"""
from __future__ import annotations

import importlib.util
import re
import sys

import pytest
import yaml
from kubeadm_render import ROOT, docs, host_vars, render

_SPEC = importlib.util.spec_from_file_location("kube_standin", ROOT / "molecule" / "kubeadm" / "standin" / "kube_standin.py")
standin = importlib.util.module_from_spec(_SPEC)
sys.modules["kube_standin"] = standin
_SPEC.loader.exec_module(standin)

VERSION = "v1.37.2"


def state(admin=False, kubelet=False):
    return {"versions": {"kubeadm": VERSION, "kubelet": f"Kubernetes {VERSION}", "kubectl": VERSION},
            "admin_conf": admin, "kubelet_conf": kubelet, "listening": [22], "product_uuid": "", "live": {}}


INVENTORY = {
    "shop-master-1": {"groups": ["k8s_cluster", "control_plane"], "msa_private_ip": "10.0.4.10", "ansible_host": "203.0.113.10",
                      "msa_private_dns_name": "ip-10-0-4-10.ap-northeast-2.compute.internal"},
    "shop-master-2": {"groups": ["k8s_cluster", "control_plane"], "msa_private_ip": "10.0.5.10", "ansible_host": "10.0.5.10",
                      "msa_private_dns_name": "ip-10-0-5-10.ap-northeast-2.compute.internal"},
    "shop-master-3": {"groups": ["k8s_cluster", "control_plane"], "msa_private_ip": "10.0.4.11", "ansible_host": "10.0.4.11",
                      "msa_private_dns_name": "ip-10-0-4-11.ap-northeast-2.compute.internal"},
    "shop-auth-1": {"groups": ["k8s_cluster", "workers"], "msa_private_ip": "10.0.4.20", "ansible_host": "10.0.4.20",
                    "msa_private_dns_name": "ip-10-0-4-20.ap-northeast-2.compute.internal"},
}
PLAN_NODES = [
    {"name": "shop-master-1", "labels": {}, "taints": []},
    {"name": "shop-master-2", "labels": {}, "taints": []},
    {"name": "shop-master-3", "labels": {}, "taints": []},
    {"name": "shop-auth-1", "labels": {"workload": "api", "api": "auth", "node-role.kubernetes.io/api": ""},
     "taints": [{"key": "api", "value": "auth", "effect": "NoSchedule"}]},
]
INPUTS = {"kubeadm_cluster_name": "shop", "kubeadm_kubernetes_version": "1.37", "kubeadm_endpoint_mode": "local_proxy",
          "kubeadm_pod_cidr": "192.168.0.0/16", "kubeadm_service_cidr": "10.96.0.0/12", "kubeadm_nodes": PLAN_NODES}
SECRETS = {"token": "abcdef.0123456789abcdef", "ca_hash": "sha256:" + "a" * 64, "certificate_key": "b" * 64}


def variables(host, **inputs):
    return host_vars(INVENTORY, host, {h: state() for h in INVENTORY}, **dict(INPUTS, **inputs))


def field_errors(rendered: dict) -> list:
    out = []
    for doc in rendered.values():
        out += standin.strict(doc, standin.KINDS[(doc["apiVersion"], doc["kind"])], "")
    return out


def test_init_config_has_the_five_documents_and_only_known_fields():
    rendered = docs(render("kubeadm-init.yaml.j2", variables("shop-master-1")))
    assert set(rendered) == {"InitConfiguration", "ClusterConfiguration", "KubeletConfiguration", "KubeProxyConfiguration"}
    assert field_errors(rendered) == []
    standin.validate(rendered)  # the stand-in's semantic checks: version, extraArgs shape, taints, node-labels


def test_init_config_carries_the_plan():
    rendered = docs(render("kubeadm-init.yaml.j2", variables("shop-master-1")))
    cluster, init = rendered["ClusterConfiguration"], rendered["InitConfiguration"]
    assert cluster["kubernetesVersion"] == VERSION  # the installed kubeadm's patch of the plan's minor
    assert cluster["clusterName"] == "shop"
    assert cluster["controlPlaneEndpoint"] == "127.0.0.1:6444"
    assert cluster["networking"] == {"podSubnet": "192.168.0.0/16", "serviceSubnet": "10.96.0.0/12", "dnsDomain": "cluster.local"}
    sans = cluster["apiServer"]["certSANs"]
    assert {"127.0.0.1", "localhost", "10.0.4.10", "10.0.5.10", "10.0.4.11",
            "ip-10-0-5-10.ap-northeast-2.compute.internal"} <= set(sans)
    assert len(sans) == len(set(sans))
    assert cluster["controllerManager"]["extraArgs"] == [{"name": "cloud-provider", "value": "external"}]
    assert init["localAPIEndpoint"] == {"advertiseAddress": "10.0.4.10", "bindPort": 6443}
    reg = init["nodeRegistration"]
    assert reg["name"] == "ip-10-0-4-10.ap-northeast-2.compute.internal"
    assert reg["taints"] == [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]
    assert reg["kubeletExtraArgs"] == [{"name": "cloud-provider", "value": "external"}]
    assert [t["ttl"] for t in init["bootstrapTokens"]] == ["15m"] and "token" not in init["bootstrapTokens"][0]
    assert rendered["KubeletConfiguration"]["cgroupDriver"] == "systemd"
    assert rendered["KubeProxyConfiguration"]["clusterCIDR"] == "192.168.0.0/16"


def test_worker_join_registers_taints_and_only_kubelet_settable_labels():
    rendered = docs(render("kubeadm-join.yaml.j2", variables("shop-auth-1"), _kubeadm_join_secrets=SECRETS))
    assert set(rendered) == {"JoinConfiguration"}
    assert field_errors(rendered) == []
    standin.validate(rendered)
    join = rendered["JoinConfiguration"]
    assert "controlPlane" not in join
    assert join["discovery"]["bootstrapToken"] == {"apiServerEndpoint": "127.0.0.1:6444", "token": SECRETS["token"],
                                                   "caCertHashes": [SECRETS["ca_hash"]]}
    reg = join["nodeRegistration"]
    assert reg["name"] == "ip-10-0-4-20.ap-northeast-2.compute.internal"
    assert reg["taints"] == [{"key": "api", "value": "auth", "effect": "NoSchedule"}]
    # node-role.kubernetes.io/api is refused by the kubelet: node_placement sets it after registration
    assert {"name": "node-labels", "value": "api=auth,workload=api"} in reg["kubeletExtraArgs"]


def test_control_plane_join_carries_its_endpoint_and_the_certificate_key():
    join = docs(render("kubeadm-join.yaml.j2", variables("shop-master-2"), _kubeadm_join_secrets=SECRETS))["JoinConfiguration"]
    assert join["controlPlane"] == {"localAPIEndpoint": {"advertiseAddress": "10.0.5.10", "bindPort": 6443},
                                    "certificateKey": SECRETS["certificate_key"]}
    assert join["nodeRegistration"]["taints"] == [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]


@pytest.mark.parametrize(("mode", "extra", "endpoint"), [
    ("nlb", {"kubeadm_nlb_dns": "shop-api-0123.elb.ap-northeast-2.amazonaws.com"}, "shop-api-0123.elb.ap-northeast-2.amazonaws.com:6443"),
    ("local_proxy", {}, "127.0.0.1:6444"),
])
def test_endpoint_modes(mode, extra, endpoint):
    cluster = docs(render("kubeadm-init.yaml.j2", variables("shop-master-1", **{"kubeadm_endpoint_mode": mode, **extra})))["ClusterConfiguration"]
    assert cluster["controlPlaneEndpoint"] == endpoint
    assert endpoint.rsplit(":", 1)[0] in cluster["apiServer"]["certSANs"]


def test_node_mode_uses_the_single_control_plane_name():
    inventory = {"solo-1": dict(INVENTORY["shop-master-1"]), "solo-w": dict(INVENTORY["shop-auth-1"])}
    inputs = {**INPUTS, "kubeadm_endpoint_mode": "node"}
    hv = host_vars(inventory, "solo-1", {h: state() for h in inventory}, **inputs)
    cluster = docs(render("kubeadm-init.yaml.j2", hv))["ClusterConfiguration"]
    assert cluster["controlPlaneEndpoint"] == "ip-10-0-4-10.ap-northeast-2.compute.internal:6443"


def test_haproxy_forwards_to_every_control_plane():
    text = render("haproxy.cfg.j2", variables("shop-auth-1"))
    assert "bind 127.0.0.1:6444" in text
    servers = [line.split()[1:3] for line in text.splitlines() if line.strip().startswith("server ")]
    assert servers == [["shop-master-1", "10.0.4.10:6443"], ["shop-master-2", "10.0.5.10:6443"], ["shop-master-3", "10.0.4.11:6443"]]


@pytest.mark.parametrize(("kind", "path", "value"), [
    ("ClusterConfiguration", ["certSANs"], ["x"]),                        # belongs under apiServer
    ("InitConfiguration", ["podSubnet"], "10.0.0.0/16"),                   # belongs in ClusterConfiguration.networking
    ("ClusterConfiguration", ["apiServer", "timeoutForControlPlane"], "4m"),  # v1beta3, moved to timeouts in v1beta4
    ("JoinConfiguration", ["discovery", "timeout"], "5m"),                  # v1beta3 too
    ("KubeletConfiguration", ["nodeLabels"], {"a": "b"}),                  # not a kubelet config field
])
def test_strict_stand_in_rejects_a_misplaced_field(tmp_path, kind, path, value):
    template = "kubeadm-join.yaml.j2" if kind == "JoinConfiguration" else "kubeadm-init.yaml.j2"
    rendered = docs(render(template, variables("shop-master-1"), _kubeadm_join_secrets=SECRETS))
    node = rendered[kind]
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node[path[-1]] = value
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump_all(rendered.values()))
    with pytest.raises(standin.Fail, match=re.escape(f'unknown field "{".".join(path)}"')):
        standin.load_config(str(config))


def test_strict_stand_in_rejects_v1beta3_extra_args_maps(tmp_path):
    rendered = docs(render("kubeadm-init.yaml.j2", variables("shop-master-1")))
    rendered["ClusterConfiguration"]["controllerManager"]["extraArgs"] = {"cloud-provider": "external"}
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump_all(rendered.values()))
    with pytest.raises(standin.Fail, match=r"controllerManager\.extraArgs: expected a list"):
        standin.load_config(str(config))


def test_stand_in_refuses_a_label_the_kubelet_refuses():
    rendered = docs(render("kubeadm-join.yaml.j2", variables("shop-auth-1"), _kubeadm_join_secrets=SECRETS))
    rendered["JoinConfiguration"]["nodeRegistration"]["kubeletExtraArgs"].append(
        {"name": "node-labels", "value": "node-role.kubernetes.io/api="})
    rendered["JoinConfiguration"]["nodeRegistration"]["kubeletExtraArgs"].pop(1)
    with pytest.raises(standin.Fail, match=r"node-role\.kubernetes\.io/api"):
        standin.validate(rendered)
