"""The helm stand-in refuses what helm refuses, and keeps releases so kubernetes.core.helm converges."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "tests" / "fakes"))
import helm_standin

REPO = "https://aws.github.io/eks-charts"
CHART = "aws-load-balancer-controller"


@pytest.fixture
def helm(tmp_path, monkeypatch, capsys):
    config = {"apiVersion": "v1", "kind": "Config", "current-context": "c",
              "clusters": [{"name": "k", "cluster": {"server": "http://127.0.0.1:1"}}],
              "users": [{"name": "u", "user": {"token": "t"}}], "contexts": [{"name": "c", "context": {"cluster": "k", "user": "u"}}]}
    (tmp_path / "kubeconfig").write_text(json.dumps(config))
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "kubeconfig"))
    monkeypatch.setenv("HELM_STANDIN_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("HELM_NAMESPACE", "kube-system")

    def run(*argv):
        code = helm_standin.main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err
    return run


def values_file(tmp_path, content: str) -> str:
    path = tmp_path / "values.yml"
    path.write_text(content)
    return str(path)


def test_install_then_list_and_get_values_show_the_release(helm, tmp_path):
    values = values_file(tmp_path, "clusterName: courm\nimage: {tag: v2.14.0}\n")
    assert helm("list", "--output=yaml", "--filter", "alb")[1] == "[]\n"
    code, out, _err = helm("--version=1.14.0", f"--repo={REPO}", "upgrade", "-i", "--reset-values", "--wait", "--timeout", "10m0s",
                           f"-f={values}", "alb", CHART)
    assert code == 0 and "installed" in out
    code, out, _err = helm("list", "--output=yaml", "--filter", "alb")
    assert "chart: aws-load-balancer-controller-1.14.0" in out and "app_version: v2.14.0" in out and "namespace: kube-system" in out
    assert helm("get", "values", "--output=yaml", "alb")[1] == "clusterName: courm\nimage:\n  tag: v2.14.0\n"
    record = json.loads((tmp_path / "state" / "calls.jsonl").read_text().splitlines()[1])
    assert (record["chart"], record["version"], record["repo"], record["install"]) == (CHART, "1.14.0", REPO, True)


@pytest.mark.parametrize(("argv", "error"), [
    (["upgrade", "-i", "alb", CHART, f"--repo={REPO}"], "--version is required"),
    (["upgrade", "-i", "alb", CHART, "--version=9.9.9", f"--repo={REPO}"], 'version "9.9.9" not found'),
    (["upgrade", "-i", "alb", "nginx", "--version=1.0.0", f"--repo={REPO}"], 'chart "nginx" not found'),
    (["upgrade", "-i", "ALB", CHART, "--version=1.14.0", f"--repo={REPO}"], 'invalid release name "ALB"'),
    (["upgrade", "alb", CHART, "--version=1.14.0", f"--repo={REPO}"], '"alb" has no deployed releases'),
    (["upgrade", "-i", "--timeout", "10 minutes", "alb", CHART, "--version=1.14.0", f"--repo={REPO}"], "invalid duration"),
    (["upgrade", "-i", "--bogus", "alb", CHART], "unknown flag: --bogus"),
    (["install-everything"], 'unknown command "install-everything"'),
    (["upgrade", "-i", "-f=/nonexistent.yml", "alb", CHART, "--version=1.14.0", f"--repo={REPO}"], "no such file"),
])
def test_what_helm_refuses_is_refused(helm, argv, error):
    code, _out, err = helm(*argv)
    assert code == 1 and error in err


def test_a_values_file_that_is_not_a_map_is_refused(helm, tmp_path):
    path = values_file(tmp_path, "- a\n- b\n")
    code, _out, err = helm("upgrade", "-i", f"-f={path}", "alb", CHART, "--version=1.14.0", f"--repo={REPO}")
    assert code == 1 and "cannot unmarshal" in err


def test_show_chart_answers_the_published_versions(helm):
    code, out, _err = helm("--version=7.7.14", "--repo=https://argoproj.github.io/argo-helm", "show", "chart", "argo-cd")
    assert code == 0 and "appVersion: v2.13.3" in out
