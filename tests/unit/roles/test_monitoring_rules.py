"""Alert rules and Grafana dashboards of the monitoring role, checked with the real promtool.

- every rules file passes `promtool check rules`, every test file passes `promtool test rules`;
- every alert has a promtool test expecting it firing and one expecting it quiet, and the tests
  notice when an alert is broken (each alert in turn is replaced by one that never fires);
- rules and dashboards use only metric names our exporters emit (tests/promtool/exporter_metrics.yml);
- dashboards are valid JSON whose every panel and query uses the provisioned data source UID.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
ROLE = ROOT / "roles" / "monitoring"
RULES_DIR = ROLE / "files" / "rules"
DASHBOARDS_DIR = ROLE / "files" / "grafana" / "dashboards"
PROMTOOL_TESTS = ROOT / "tests" / "promtool"
RULE_FILES = sorted(RULES_DIR.glob("*.rules.yml"))
TEST_FILES = sorted(PROMTOOL_TESTS.glob("*.test.yml"))
ROLE_VARS = yaml.safe_load((ROLE / "vars" / "main.yml").read_text())
DATASOURCE_UID = ROLE_VARS["_monitoring_grafana_datasource_uid"]
MIN_ALERTS = 26

# PromQL words that are not metric names.
_PROMQL_WORDS = frozenset("""
    sum min max avg group stddev stdvar count count_values bottomk topk quantile limitk limit_ratio
    by without on ignoring group_left group_right and or unless offset bool atan2
    abs absent absent_over_time ceil changes clamp clamp_max clamp_min day_of_month day_of_week
    day_of_year days_in_month delta deriv exp floor histogram_quantile histogram_count histogram_sum
    histogram_fraction histogram_stddev histogram_stdvar holt_winters double_exponential_smoothing
    hour idelta increase irate label_join label_replace ln log2 log10 minute month predict_linear
    rate resets round scalar sgn sort sort_desc sort_by_label sort_by_label_desc sqrt time timestamp
    vector year avg_over_time min_over_time max_over_time sum_over_time count_over_time
    quantile_over_time stddev_over_time stdvar_over_time last_over_time present_over_time
    mad_over_time acos acosh asin asinh atan atanh cos cosh sin sinh tan tanh deg rad pi
    Inf NaN inf nan
""".split())


def metric_names(expr: str) -> set[str]:
    """Metric names a PromQL expression (or a Grafana query with $variables) selects."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)                 # string literals
    text = re.sub(r"\{[^}]*\}", " ", text)                           # label matchers
    text = re.sub(r"\[[^\]]*\]", " ", text)                          # range / subquery selectors
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    text = re.sub(r"\boffset\s+-?\w+", " ", text)
    text = re.sub(r"\$\{?\w+\}?", " ", text)                         # Grafana variables
    text = re.sub(r"(?<![\w:])\d+(\.\d+)?([eE][+-]?\d+)?", " ", text)  # numbers
    return {word for word in re.findall(r"[A-Za-z_:][A-Za-z0-9_:]*", text) if word not in _PROMQL_WORDS}


def known_metrics() -> dict[str, str]:
    """metric name -> exporter, from the test data."""
    data = yaml.safe_load((PROMTOOL_TESTS / "exporter_metrics.yml").read_text())
    return {metric: exporter for exporter, metrics in data.items() for metric in metrics}


def alerts_by_file() -> dict[Path, list[dict]]:
    return {path: [rule for group in yaml.safe_load(path.read_text())["groups"]
                   for rule in group["rules"] if "alert" in rule]
            for path in RULE_FILES}


def all_alerts() -> list[dict]:
    return [rule for rules in alerts_by_file().values() for rule in rules]


def promtool(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(["promtool", *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture(scope="module", autouse=True)
def _promtool_installed():
    if shutil.which("promtool") is None:
        pytest.fail("promtool is missing: apt-get install prometheus (scripts/setup.sh installs it)")


def test_metric_names_parser():
    expr = ('sum by (instance, job) (rate(apiserver_request_total{job="apiserver",code=~"5.."}[5m])) '
            '/ on (instance) group_left() max(up offset 1h) > 0.05 and node_load1{instance=~"$instance"} < 1e3 * 7')
    assert metric_names(expr) == {"apiserver_request_total", "up", "node_load1"}
    assert metric_names("histogram_quantile(0.01, sum by (le) (rate(x_bucket[$__rate_interval])))") == {"x_bucket"}


def test_every_rules_file_passes_promtool_check():
    result = promtool("check", "rules", *map(str, RULE_FILES))
    assert result.returncode == 0, result.stdout + result.stderr
    found = [int(n) for n in re.findall(r"SUCCESS: (\d+) rules found", result.stdout)]
    assert len(found) == len(RULE_FILES)
    assert sum(found) == len(all_alerts())


def test_every_promtool_unit_test_passes():
    result = promtool("test", "rules", *map(str, TEST_FILES))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("SUCCESS") == len(TEST_FILES)


def test_enough_alerts_with_unique_names():
    names = [rule["alert"] for rule in all_alerts()]
    assert len(names) >= MIN_ALERTS, names
    assert len(set(names)) == len(names), sorted(n for n in names if names.count(n) > 1)


def test_every_rules_file_has_its_test_file():
    for path in RULE_FILES:
        test_file = PROMTOOL_TESTS / path.name.replace(".rules.yml", ".test.yml")
        assert test_file.is_file(), f"{path.name} has no {test_file.relative_to(ROOT)}"
        rule_files = yaml.safe_load(test_file.read_text())["rule_files"]
        assert [Path(test_file.parent, f).resolve() for f in rule_files] == [path.resolve()]
    assert sorted(p.name for p in RULE_FILES) == sorted(ROLE_VARS["_monitoring_rule_files"])


def test_every_alert_has_severity_and_annotations():
    for rule in all_alerts():
        assert rule.get("labels", {}).get("severity") in {"critical", "warning"}, rule["alert"]
        annotations = rule.get("annotations", {})
        assert annotations.get("summary", "").strip(), rule["alert"]
        assert annotations.get("description", "").strip(), rule["alert"]


def test_every_alert_is_tested_firing_and_quiet():
    firing, quiet = set(), set()
    for test_file in TEST_FILES:
        for case in yaml.safe_load(test_file.read_text())["tests"]:
            for check in case.get("alert_rule_test", []):
                (firing if check.get("exp_alerts") else quiet).add(check["alertname"])
    names = {rule["alert"] for rule in all_alerts()}
    assert names - firing == set(), "alerts never expected to fire"
    assert names - quiet == set(), "alerts never expected to stay quiet"
    assert (firing | quiet) - names == set(), "tests of alerts that do not exist"


def test_unit_tests_catch_an_alert_that_never_fires(tmp_path):
    """Replace each alert in turn by one that never fires: its promtool tests must fail."""
    survivors = []
    for path, alerts in alerts_by_file().items():
        test_file = PROMTOOL_TESTS / path.name.replace(".rules.yml", ".test.yml")
        tests = yaml.safe_load(test_file.read_text())
        for alert in alerts:
            rules = yaml.safe_load(path.read_text())
            for group in rules["groups"]:
                for rule in group["rules"]:
                    if rule.get("alert") == alert["alert"]:
                        rule["expr"] = "vector(0) > 1"
            mutated = tmp_path / f"{alert['alert']}.rules.yml"
            mutated.write_text(yaml.safe_dump(rules))
            mutated_test = tmp_path / f"{alert['alert']}.test.yml"
            mutated_test.write_text(yaml.safe_dump({**tests, "rule_files": [mutated.name]}))
            if promtool("test", "rules", mutated_test.name, cwd=tmp_path).returncode == 0:
                survivors.append(alert["alert"])
    assert survivors == [], "tests still pass with these alerts disabled"


def test_rules_use_only_metrics_our_exporters_emit():
    known = known_metrics()
    unknown = {rule["alert"]: sorted(metric_names(rule["expr"]) - known.keys())
               for rule in all_alerts()}
    assert {k: v for k, v in unknown.items() if v} == {}


def _dashboards() -> dict[str, dict]:
    return {path.name: json.loads(path.read_text()) for path in sorted(DASHBOARDS_DIR.glob("*.json"))}


def _queries(dashboard: dict) -> list[tuple[str, str, dict]]:
    """(where, expression, datasource) of every panel target and templating query."""
    out = []
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            out.append((f"panel {panel['title']!r} {target['refId']}", target["expr"], target.get("datasource")))
    for var in dashboard.get("templating", {}).get("list", []):
        if var.get("type") == "query":
            query = var["query"]["query"] if isinstance(var["query"], dict) else var["query"]
            inner = re.fullmatch(r"label_values\((.*),\s*\w+\)", query)
            out.append((f"variable {var['name']}", inner.group(1) if inner else query, var.get("datasource")))
    return out


def test_dashboards_are_the_provisioned_set_with_unique_uids():
    dashboards = _dashboards()
    assert sorted(dashboards) == sorted(ROLE_VARS["_monitoring_grafana_dashboards"])
    uids = [d["uid"] for d in dashboards.values()]
    assert len(set(uids)) == len(uids)
    for name, dashboard in dashboards.items():
        assert dashboard["title"] and dashboard["panels"], name
        assert len({p["id"] for p in dashboard["panels"]}) == len(dashboard["panels"]), name


def test_every_dashboard_query_uses_the_provisioned_datasource():
    for name, dashboard in _dashboards().items():
        for panel in dashboard["panels"]:
            assert panel["datasource"] == {"type": "prometheus", "uid": DATASOURCE_UID}, f"{name}: {panel['title']}"
            assert panel["targets"], f"{name}: {panel['title']} has no query"
        for where, _expr, datasource in _queries(dashboard):
            assert datasource == {"type": "prometheus", "uid": DATASOURCE_UID}, f"{name}: {where}"


def test_dashboards_use_only_metrics_our_exporters_emit():
    known = known_metrics()
    problems = []
    for name, dashboard in _dashboards().items():
        for where, expr, _source in _queries(dashboard):
            names = metric_names(expr)
            assert names, f"{name}: {where} selects no metric: {expr}"
            problems += [f"{name}: {where}: {metric}" for metric in sorted(names - known.keys())]
    assert problems == []


def test_every_listed_metric_is_used():
    """The allow-list documents what we rely on: no stale entries."""
    used = set()
    for rule in all_alerts():
        used |= metric_names(rule["expr"])
    for dashboard in _dashboards().values():
        for _where, expr, _source in _queries(dashboard):
            used |= metric_names(expr)
    assert sorted(known_metrics().keys() - used) == []
