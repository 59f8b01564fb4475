"""Every option of every module, given a wrong type, an out-of-range value or a string with a trailing
newline, ends the module with fail_json naming the option: no Python exception, no request made.

The options come from each module's own argument spec (captured when the module builds its
AnsibleModule), so an option added later is covered without editing this file. The Kubernetes
modules point at the API fake and the AWS module at a local HTTP server; both count requests,
which must stay at zero.
"""
from __future__ import annotations

import contextlib
import io
import json
import re
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args

ROOT = Path(__file__).resolve().parents[4]
sys.path.insert(0, str(ROOT / "tests" / "fakes"))

import kube_api  # noqa: E402

MINIMAL = ROOT / "inventories" / "examples" / "minimal-kubeadm" / "group_vars" / "all" / "topology.yml"
TAINT = {"key": "dedicated", "value": "auth", "effect": "NoSchedule"}
BASE = {
    "k8s_node_labels": {"nodes": {"node-1": {"api": "auth"}}},
    "k8s_node_taints": {"nodes": {"node-1": [TAINT]}},
    "k8s_placement": {},
    "aws_teardown": {"platform": "eco", "confirm": "eco", "region": "us-east-1", "access_key": "AKIDEXAMPLE",
                     "secret_key": "dummy-secret"},
    "aws_network_state": {"vpc_id": "vpc-1", "security_groups": [], "region": "us-east-1", "access_key": "AKIDEXAMPLE",
                          "secret_key": "dummy-secret"},
    "aws_node_roles": {"roles": [{"name": "eco-node", "assume_role_policy": {"Statement": [{"Effect": "Allow"}]}}],
                       "region": "us-east-1", "access_key": "AKIDEXAMPLE", "secret_key": "dummy-secret"},
    "aws_instances": {"instances": [{"name": "eco-a-1", "image_id": "ami-1", "root_device_name": "/dev/sda1", "instance_type": "t3.small",
                                     "subnet_id": "subnet-1", "security_group_ids": ["sg-1"]}],
                      "region": "us-east-1", "access_key": "AKIDEXAMPLE", "secret_key": "dummy-secret"},
    "elasticache_replication_group": {"replication_group_id": "eco-redis", "node_type": "cache.t4g.small", "region": "us-east-1",
                                      "access_key": "AKIDEXAMPLE", "secret_key": "dummy-secret"},
    "rds_postgresql": {"identifier": "eco-postgresql", "instance_class": "db.t4g.medium", "region": "us-east-1",
                       "access_key": "AKIDEXAMPLE", "secret_key": "dummy-secret"},
    "topology": {"topology": yaml.safe_load(MINIMAL.read_text(encoding="utf-8"))["platform"]},
    "k8s_objects": {"objects": [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "order"}}]},
}
KUBERNETES = ("k8s_node_labels", "k8s_node_taints", "k8s_placement", "k8s_objects")


class _Captured(Exception):
    pass


def argument_spec(name: str) -> dict:
    """The full argument spec module ``name`` builds (for the AWS module: the common AWS options too)."""
    module = __import__(f"ansible_collections.msa.platform.plugins.modules.{name}", fromlist=["main"])
    captured: dict = {}
    original = basic.AnsibleModule.__init__

    def capture(self, argument_spec, *args, **kwargs):
        captured.update(argument_spec)
        raise _Captured

    basic.AnsibleModule.__init__ = capture
    try:
        with patch_module_args(BASE[name]), pytest.raises(_Captured):
            module.main()
    finally:
        basic.AnsibleModule.__init__ = original
    return captured


def bad_values(option: dict) -> list:
    """Wrong types, out-of-range values and trailing newlines for an option of this shape (values long enough
    that Ansible's masking of no_log values does not hide the option names in the message)."""
    kind = option.get("type", "str")
    if kind in ("str", "path"):
        return [{"bad": 1}, ["bad-value"], 5 if not option.get("choices") else "bad-value\n", "bad-value\n"]
    if kind == "raw":
        return [5, ["bad-value"], "", "bad-value\n"]
    if kind == "int":
        return ["many", True, -1]
    if kind == "bool":
        return ["maybe", ["bad-value"]]
    if kind == "dict":
        values = [5, "not a mapping", ["bad-value"]]
        for sub, sub_option in (option.get("options") or {}).items():
            values += [{sub: value} for value in bad_values(sub_option)]
        return values
    if kind == "list":
        return [5, {"bad": 1}, ["bad-value\n"], [{"bad": 1}], [["bad-value"]]]
    raise AssertionError(f"no bad values for type {kind}")


def cases() -> Iterator:
    for name in BASE:
        for option_name, option in sorted(argument_spec(name).items()):
            for value in bad_values(option):
                yield pytest.param(name, option_name, value, id=f"{name}-{option_name}-{value!r}")


# Module-specific cases: values of the right type but wrong inside, and nested fields.
NESTED = [
    ("k8s_node_taints", {"nodes": {"node-1": [{"key": ["a"], "effect": "NoSchedule"}]}}, "nodes.node-1[0].key"),
    ("k8s_node_taints", {"nodes": {"node-1": [{"key": {"a": 1}, "effect": "NoSchedule"}]}}, "nodes.node-1[0].key"),
    ("k8s_node_taints", {"nodes": {"node-1": [{"key": "gpu", "effect": ["NoSchedule"]}]}}, "nodes.node-1[0].effect"),
    ("k8s_node_taints", {"nodes": {"node-1": [{"key": "gpu", "effect": {"NoSchedule": 1}}]}}, "nodes.node-1[0].effect"),
    ("k8s_node_taints", {"nodes": {"node-1": [{"key": "gpu\n", "effect": "NoSchedule"}]}}, "nodes.node-1[0].key"),
    ("k8s_node_taints", {"nodes": {"node-1": [dict(TAINT, value="v\n")]}}, "nodes.node-1[0].value"),
    ("k8s_node_taints", {"nodes": {"node-1": [dict(TAINT, value=["v"])]}}, "nodes.node-1[0].value"),
    ("k8s_node_taints", {"nodes": {"node-1": [dict(TAINT, effect="NoSchedule\n")]}}, "nodes.node-1[0].effect"),
    ("k8s_node_taints", {"nodes": {"node-1": {"key": "gpu"}}}, "nodes.node-1"),
    ("k8s_node_taints", {"nodes": {"node-1\n": [TAINT]}}, "nodes.node-1\n"),
    ("k8s_node_labels", {"nodes": {"node-1": {"api": "v\n"}}}, "nodes.node-1.api"),
    ("k8s_node_labels", {"nodes": {"node-1": {"api": ["v"]}}}, "nodes.node-1.api"),
    ("k8s_node_labels", {"nodes": {"node-1": {"api\n": "v"}}}, "nodes.node-1: label key"),
    ("k8s_node_labels", {"nodes": {"node-1": ["api"]}}, "nodes.node-1"),
    ("k8s_node_labels", {"nodes": {"Node_1": {"api": "v"}}}, "nodes.Node_1"),
    ("k8s_placement", {"namespaces": ["Bad NS"]}, "namespaces"),
    ("k8s_placement", {"namespaces": [""]}, "namespaces"),
    ("k8s_placement", {"system_namespaces": ["kube-system", "UPPER"]}, "system_namespaces"),
    ("k8s_placement", {"node_label": "bad key"}, "node_label"),
    ("k8s_placement", {"pod_label": ""}, "pod_label"),
    ("k8s_placement", {"apis": ["a b"]}, "apis"),
    ("k8s_placement", {"kubeconfig": 5}, "kubeconfig"),
    ("k8s_placement", {"host": "10.0.0.1:6443"}, "host"),
    ("aws_teardown", {"retry_max_attempts": 0}, "retry_max_attempts"),
    ("aws_teardown", {"retry_max_attempts": 51}, "retry_max_attempts"),
    ("aws_teardown", {"wait_timeout": 0}, "wait_timeout"),
    ("aws_teardown", {"platform": "", "confirm": ""}, "platform"),
    ("aws_teardown", {"platform": "Eco", "confirm": "Eco"}, "platform"),
    ("aws_teardown", {"platform": "eco\n", "confirm": "eco\n"}, "platform"),
    ("aws_teardown", {"region": "nowhere"}, "region"),
    ("aws_teardown", {"endpoint_url": "ftp://example.com"}, "endpoint_url"),
    ("topology", {"az_names": ["ap-northeast-2a\n"]}, "az_names"),
    ("aws_network_state", {"vpc": {"name": "eco", "cidr": "10.0.0.0/33"}}, "vpc.cidr"),
    ("aws_network_state", {"vpc_id": None}, "vpc_id"),
    ("aws_network_state", {"security_groups": [{"name": "a", "description": "d", "rules": [{"proto": "tcp", "from_port": 1}]}]},
     "security_groups[0].rules[0].to_port"),
    ("aws_network_state", {"security_groups": [{"name": "a", "description": "d", "rules": [
        {"proto": "gre", "from_port": 1, "to_port": 1, "cidr": "10.0.0.0/8"}]}]}, "security_groups[0].rules[0].proto"),
    ("aws_network_state", {"security_groups": [{"name": "a", "description": "d", "rules": [
        {"proto": "tcp", "from_port": 1, "to_port": 1, "cidr": "10.0.0.0/8", "source_group": "a"}]}]}, "security_groups[0].rules[0]"),
    ("aws_network_state", {"route_tables": [{"name": "t", "routes": [{"dest": "0.0.0.0/0"}]}]}, "route_tables[0].routes[0]"),
    ("aws_network_state", {"route_tables": [{"name": "t", "routes": [{"dest": "x", "gateway_id": "igw-1"}]}]},
     "route_tables[0].routes[0].dest"),
    ("aws_node_roles", {"roles": [{"name": "r", "assume_role_policy": {}}]}, "roles[0].assume_role_policy"),
    ("aws_node_roles", {"roles": [{"name": "r", "assume_role_policy": {"Statement": [1]}, "inline_policies": {"p": "x"}}]},
     "roles[0].inline_policies.p"),
    ("aws_node_roles", {"roles": [{"name": "r", "assume_role_policy": {"Statement": [1]}, "tags": {"k": ["v"]}}]}, "roles[0].tags.k"),
    ("aws_instances", {"instances": [dict(BASE["aws_instances"]["instances"][0], hop_limit=0)]}, "instances[0].hop_limit"),
    ("aws_instances", {"instances": [dict(BASE["aws_instances"]["instances"][0], volume_size=0)]}, "instances[0].volume_size"),
    ("aws_instances", {"wait_timeout": 0}, "wait_timeout"),
    ("k8s_objects", {"objects": [{"apiVersion": "v1", "kind": "Namespace"}]}, "objects[0].metadata.name"),
    ("k8s_objects", {"patch_only": [{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x"}}]}, "patch_only[0]"),
    ("k8s_objects", {"crd_timeout": 3601}, "crd_timeout"),
]


@pytest.fixture(scope="module")
def kube() -> Iterator[kube_api.KubeApiFake]:
    with kube_api.serve() as fake:
        fake.add_node("node-1")
        yield fake


class _Counting(BaseHTTPRequestHandler):
    requests = 0

    def _answer(self) -> None:
        type(self).requests += 1
        self.send_response(500)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_POST = _answer

    def log_message(self, format, *args):
        """Quiet."""


@pytest.fixture(scope="module")
def aws_endpoint() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Counting)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def run(kube, aws_endpoint, tmp_path):
    """``run(name, args, endpoint=None)``: module ``name`` with its base arguments and ``args``; a
    rejection must come before any request (counted at the API fake and the AWS endpoint)."""
    kubeconfig = str(kube.write_kubeconfig(tmp_path / "kubeconfig"))

    def run_module(name: str, args: dict, endpoint: str | None = None) -> dict:
        base = dict(BASE[name])
        if name in KUBERNETES:
            base["kubeconfig"] = kubeconfig
        if name in ("aws_teardown", "aws_network_state", "aws_node_roles", "aws_instances"):
            base["endpoint_url"] = endpoint or aws_endpoint
        module = __import__(f"ansible_collections.msa.platform.plugins.modules.{name}", fromlist=["main"])
        out = io.StringIO()
        kube.reset_counts()
        _Counting.requests = 0
        with patch_module_args(dict(base, **args)), contextlib.redirect_stdout(out), pytest.raises(SystemExit):
            module.main()
        result = json.loads(out.getvalue())
        if result.get("failed"):
            assert sum(kube.counts.values()) == 0 and _Counting.requests == 0, "a request was made before the rejection"
        return result
    return run_module


def names(message: str, option: str) -> bool:
    return re.search(rf"(?<![\w.-]){re.escape(option)}(?![\w-])", message) is not None


@pytest.mark.parametrize("name,option,value", list(cases()))
def test_every_option_rejects_bad_values_naming_it(run, name, option, value):
    result = run(name, {option: value})
    assert result.get("failed"), f"{name}: {option}={value!r} was accepted"
    assert "exception" not in result, result.get("exception")
    assert names(result["msg"], option), result["msg"]


@pytest.mark.parametrize("name,args,field", NESTED, ids=[f"{n}-{f!r}" for n, _a, f in NESTED])
def test_bad_values_inside_options_are_named(run, name, args, field):
    result = run(name, args)
    assert result.get("failed"), f"{name}: {args!r} was accepted"
    assert "exception" not in result, result.get("exception")
    assert field in result["msg"], result["msg"]


@pytest.mark.parametrize("name", list(BASE))
def test_the_base_arguments_are_valid(run, name, request):
    """The cases above fail because of their one bad value, not because the base is wrong."""
    with_emulator = ("aws_teardown", "aws_network_state", "aws_node_roles", "elasticache_replication_group", "rds_postgresql")
    endpoint = request.getfixturevalue("aws") if name in with_emulator else None
    result = run(name, {"_ansible_check_mode": True}, endpoint)
    assert not result.get("failed"), result["msg"]
