"""The ci pool's Jenkins: services.ci in the plan, the plugin set resolved from an update center, the CI node
role's ECR push policy."""
from __future__ import annotations

import base64
import copy
import hashlib
import json

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.msa.platform.plugins.filter.aws import FilterModule as AwsFilters
from ansible_collections.msa.platform.plugins.filter.jenkins import FilterModule, jenkins_plugins
from ansible_collections.msa.platform.plugins.module_utils.aws.iam_roles import ECR_PUSH_ACTIONS, ecr_push_policy
from ansible_collections.msa.platform.plugins.module_utils.jenkins import plugin_set, version_key
from ansible_collections.msa.platform.plugins.module_utils.topology import build_plan
from topology_cases import eks, kubeadm


def _sha(name: str) -> str:
    return base64.b64encode(hashlib.sha256(name.encode()).digest()).decode()


def _uc(**extra) -> dict:
    plugins = {
        "configuration-as-code": {"version": "1971.vf9280461ea_89", "requiredCore": "2.479.3", "url": "https://u/casc.hpi",
                                  "sha256": _sha("casc"),
                                  "dependencies": [{"name": "snakeyaml-api", "version": "2.3-125", "optional": False},
                                                   {"name": "prism-api", "version": "1.29.0-17", "optional": True}]},
        "snakeyaml-api": {"version": "2.3-125", "requiredCore": "2.479.1", "url": "https://u/snakeyaml-api.hpi",
                          "sha256": _sha("snakeyaml"), "dependencies": []},
        "prism-api": {"version": "1.29.0-17", "url": "https://u/prism-api.hpi", "sha256": _sha("prism"), "dependencies": []},
        "matrix-auth": {"version": "3.2.9", "requiredCore": "2.555.1", "url": "https://u/matrix-auth.hpi", "sha256": _sha("m")},
    }
    plugins.update(extra)
    return {"core": {"version": "2.541.3"}, "plugins": plugins}


def test_plugins_with_required_dependencies_only_and_hex_checksums():
    got = plugin_set(_uc(), ["configuration-as-code"], "2.541.3")
    assert [p["name"] for p in got] == ["configuration-as-code", "snakeyaml-api"]  # prism-api is optional
    assert got[0]["sha256"] == hashlib.sha256(b"casc").hexdigest()
    assert got[1] == {"name": "snakeyaml-api", "version": "2.3-125", "url": "https://u/snakeyaml-api.hpi",
                      "sha256": hashlib.sha256(b"snakeyaml").hexdigest()}


def test_plugins_read_from_json_and_jsonp_text():
    text = json.dumps(_uc())
    assert plugin_set(text, ["snakeyaml-api"], "2.541.3") == plugin_set("updateCenter.post(\n" + text + "\n);", ["snakeyaml-api"], "2.541.3")


def test_every_plugin_problem_reported_at_once_naming_the_plugin():
    with pytest.raises(ValueError) as err:
        plugin_set(_uc(), ["matrix-auth", "no-such-plugin"], "2.541.3")
    assert "'matrix-auth' 3.2.9 (jenkins_plugins) needs Jenkins 2.555.1, newer than 2.541.3" in str(err.value)
    assert "'no-such-plugin' (jenkins_plugins) is not in the update center for Jenkins 2.541.3" in str(err.value)


def test_missing_dependency_and_bad_checksum_are_refused():
    broken = _uc(**{"git": {"version": "5.0", "url": "https://u/git.hpi", "sha256": "not base64!",
                            "dependencies": [{"name": "gone", "version": "1", "optional": False}]}})
    with pytest.raises(ValueError) as err:
        plugin_set(broken, ["git"], "2.541.3")
    assert "plugin 'git' has no valid sha256" in str(err.value)
    uc = _uc()
    uc["plugins"]["configuration-as-code"]["dependencies"][0]["version"] = "9.9"
    with pytest.raises(ValueError, match=r"'snakeyaml-api': configuration-as-code needs 9.9, the update center offers 2.3-125"):
        plugin_set(uc, ["configuration-as-code"], "2.541.3")


def test_filter_wraps_errors_and_is_exported():
    assert FilterModule().filters() == {"jenkins_plugins": jenkins_plugins}
    with pytest.raises(AnsibleFilterError, match="jenkins_plugins: update center: not JSON"):
        jenkins_plugins("<html>proxy error</html>", ["configuration-as-code"], "2.541.3")


def test_versions_order_numerically():
    assert version_key("2.541.3") < version_key("2.545") < version_key("2.555.1")
    assert version_key("2.479.10") > version_key("2.479.9")


def test_ecr_push_policy_is_scoped_to_the_repositories_of_the_roles_account():
    policy = ecr_push_policy("ap-northeast-2", ["shop/order/api", "shop/user/api", "shop/order/api"])
    login, push = policy["Statement"]
    assert login == {"Sid": "EcrLogin", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"}
    assert push["Resource"] == ["arn:aws:ecr:ap-northeast-2:${aws:PrincipalAccount}:repository/shop/order/api",
                                "arn:aws:ecr:ap-northeast-2:${aws:PrincipalAccount}:repository/shop/user/api"]
    assert push["Action"] == ECR_PUSH_ACTIONS and "*" not in push["Resource"]
    assert not any(a.startswith("ecr:Delete") or a.startswith("ecr:Set") or a == "ecr:*" for a in push["Action"])
    assert ecr_push_policy("ap-northeast-2", []) == {}
    assert AwsFilters().filters()["ecr_push_policy"](["a/b"], "us-east-1")["Statement"][1]["Resource"] == [
        "arn:aws:ecr:us-east-1:${aws:PrincipalAccount}:repository/a/b"]


def _ci(t: dict, **ci) -> dict:
    t["pools"].append({"name": "jenkins", "role": "ci"})
    if ci:
        t.setdefault("services", {})["ci"] = ci
    return t


def test_plan_services_ci_defaults_and_node():
    plan, errors = build_plan(_ci(kubeadm()))
    assert errors == []
    assert plan["services"]["ci"] == {"version": "2.541.3", "executors": 2, "url": None, "admin_user": "admin",
                                      "plugins": ["configuration-as-code"], "port": 8080, "nodes": ["shop-jenkins-1"]}


def test_plan_services_ci_settings_keep_configuration_as_code_first():
    plan, errors = build_plan(_ci(eks(), version="2.541.2", executors=0, url="https://ci.example.com/",
                                  plugins=["git", "configuration-as-code", "workflow-aggregator"]))
    assert errors == []
    ci = plan["services"]["ci"]
    assert ci["plugins"] == ["configuration-as-code", "git", "workflow-aggregator"]
    assert (ci["version"], ci["executors"], ci["url"]) == ("2.541.2", 0, "https://ci.example.com/")


@pytest.mark.parametrize("ci, path", [
    ({"version": 2.541}, "services.ci.version: expected a string"),
    ({"version": "2.541"}, "services.ci.version: '2.541' is not valid"),
    ({"executors": -1}, "services.ci.executors: -1 is below the minimum 0"),
    ({"url": "ci.example.com"}, "services.ci.url: 'ci.example.com' is not valid"),
    ({"admin_user": "a b"}, "services.ci.admin_user: 'a b' is not valid"),
    ({"plugins": ["Git Plugin"]}, "services.ci.plugins[0]: 'Git Plugin' is not valid"),
    ({"admin_password": "x"}, "services.ci.admin_password: unknown key"),
])
def test_bad_ci_settings_name_the_field(ci, path):
    plan, errors = build_plan(_ci(kubeadm(), **ci))
    assert plan is None and any(e.startswith(path) for e in errors), errors


def test_ci_settings_without_a_ci_pool_are_refused():
    t = kubeadm()
    t.setdefault("services", {})["ci"] = {"executors": 4}
    plan, errors = build_plan(copy.deepcopy(t))
    assert plan is None and any(e.startswith("services.ci: no pool has role ci") for e in errors), errors
