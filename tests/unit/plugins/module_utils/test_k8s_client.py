"""How k8s_client turns kubernetes.core-style auth options into a client configuration."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[4] / ".cache" / "collections"))

from ansible_collections.msa.platform.plugins.module_utils import k8s_client as kc

KUBECONFIG = {
    "apiVersion": "v1", "kind": "Config", "current-context": "a",
    "clusters": [{"name": "c1", "cluster": {"server": "https://a.example:6443"}},
                 {"name": "c2", "cluster": {"server": "https://b.example:6443", "insecure-skip-tls-verify": True}}],
    "users": [{"name": "u1", "user": {"token": "token-a"}}, {"name": "u2", "user": {"token": "token-b"}}],
    "contexts": [{"name": "a", "context": {"cluster": "c1", "user": "u1"}},
                 {"name": "b", "context": {"cluster": "c2", "user": "u2"}}],
}


def authorization(config) -> str:
    """The Authorization header the client will send."""
    return config.auth_settings()["BearerToken"]["value"]


def test_environment_fills_unset_options_only():
    env = {"K8S_AUTH_HOST": "https://env:6443", "K8S_AUTH_VERIFY_SSL": "no", "K8S_AUTH_CONTEXT": "b",
           "K8S_AUTH_IMPERSONATE_GROUPS": "ops, dev"}
    options = kc.auth_options({"context": "a"}, env)
    assert options["host"] == "https://env:6443"
    assert options["validate_certs"] is False
    assert options["context"] == "a"
    assert options["impersonate_groups"] == ["ops", "dev"]


def test_kubeconfig_dict_and_context():
    config = kc.build_configuration(kc.auth_options({"kubeconfig": KUBECONFIG, "context": "b"}, {}))
    assert config.host == "https://b.example:6443"
    assert authorization(config) == "Bearer token-b"
    assert config.verify_ssl is False


def test_kubeconfig_file_with_explicit_overrides(tmp_path):
    import json
    path = tmp_path / "config"
    path.write_text(json.dumps(KUBECONFIG))
    config = kc.build_configuration(kc.auth_options(
        {"kubeconfig": str(path), "host": "https://override:6443", "api_key": "explicit", "validate_certs": False}, {}))
    assert (config.host, authorization(config), config.verify_ssl) == (
        "https://override:6443", "Bearer explicit", False)


def test_host_and_token_need_no_kubeconfig(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    config = kc.build_configuration(kc.auth_options({"host": "https://h:6443", "api_key": "t"}, {}))
    assert (config.host, authorization(config)) == ("https://h:6443", "Bearer t")
    basic = kc.build_configuration(kc.auth_options({"host": "https://h:6443", "username": "u", "password": "p"}, {}))
    assert authorization(basic) == "Basic dTpw"


def test_no_configuration_at_all_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    with pytest.raises(kc.KubeApiError, match="cannot load the Kubernetes client configuration"):
        kc.build_configuration(kc.auth_options({}, {}))
    with pytest.raises(kc.KubeApiError, match="context=nope"):
        kc.build_configuration(kc.auth_options({"kubeconfig": KUBECONFIG, "context": "nope"}, {}))
