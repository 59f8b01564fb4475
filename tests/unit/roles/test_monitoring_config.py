"""prometheus.yml and alertmanager.yml generated from an inventory, by a real ansible-playbook run.

A play on localhost renders the monitoring role's templates with the role's own defaults and vars
(the way the role does, `validate:` included), for a sample inventory; then promtool check config
and amtool check-config judge the results and the scrape targets are compared with the inventory.
The role's preflight is run the same way with bad inputs and must fail, naming the variable and
never printing a secret.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
ROLE = ROOT / "roles" / "monitoring"
RULES_DIR = ROLE / "files" / "rules"
PLAYBOOK_BIN = ROOT / ".venv" / "bin" / "ansible-playbook"

SLACK_URL = "https://hooks.slack.example/services/T000/B000/s3cr3t-slack"
WEBHOOK_URL = "https://pager.example/hook?token=s3cr3t-webhook"
SMTP_PASSWORD = "s3cr3t-smtp"
K8S_TOKEN = "s3cr3t-k8s-token"

# A platform of every kind: note api-auth-1 has no private_ip (falls back to ansible_host) and
# kafka-3 has neither (falls back to its name); localhost is the controller, never a target.
FULL_INVENTORY = {
    "all": {
        "hosts": {"localhost": {"ansible_connection": "local"}},
        "children": {
            "monitoring": {"hosts": {"mon-1": {"private_ip": "10.0.40.10"}}},
            "postgresql": {"hosts": {"pg-1": {"private_ip": "10.0.20.11"}, "pg-2": {"private_ip": "10.0.20.12"}}},
            "redis": {"hosts": {"redis-1": {"private_ip": "10.0.20.21"}}},
            "rabbitmq": {"hosts": {f"mq-{i}": {"private_ip": f"10.0.30.3{i}"} for i in (1, 2, 3)}},
            "kafka": {"hosts": {"kafka-1": {"private_ip": "10.0.30.41"}, "kafka-2": {"private_ip": "10.0.30.42"},
                                "kafka-3": {}}},
            "k8s_cluster": {"children": {
                "control_plane": {"hosts": {"cp-1": {"private_ip": "10.0.10.5", "ansible_host": "203.0.113.5"}}},
                "workers": {"hosts": {"worker-1": {"private_ip": "10.0.10.6"},
                                      "api-auth-1": {"ansible_host": "10.0.10.7"}}},
            }},
        },
    },
}

# The molecule shape of issue 8: a monitoring host and two nodes with PostgreSQL and Redis.
SMALL_INVENTORY = {
    "all": {
        "children": {
            "monitoring": {"hosts": {"mon": {"private_ip": "192.0.2.10"}}},
            "postgresql": {"hosts": {"node-1": {"private_ip": "192.0.2.11"}}},
            "redis": {"hosts": {"node-2": {"private_ip": "192.0.2.12"}}},
        },
    },
}

RECEIVERS = {
    "monitoring_alertmanager_receivers": [
        {"name": "default"},
        {"name": "ops-slack", "slack": {"channel": "#ops", "api_url_secret": "slack_ops"}},
        {"name": "pager", "webhook": {"url_secret": "pager_url"}},
        {"name": "ops-mail", "email": {"to": "ops@example.com", "from": "am@example.com",
                                       "smarthost": "smtp.example.com:587", "auth_username": "am",
                                       "auth_password_secret": "smtp_password"}},
    ],
    "monitoring_alertmanager_routes": [
        {"receiver": "pager", "matchers": ['severity="critical"'], "continue": True},
        {"receiver": "ops-slack", "matchers": ['severity=~"warning|critical"']},
    ],
    "monitoring_alertmanager_secrets": {"slack_ops": SLACK_URL, "pager_url": WEBHOOK_URL, "smtp_password": SMTP_PASSWORD},
}

RENDER_PLAY = """
- name: Render the monitoring configuration as the role does, on the first monitoring host
  hosts: monitoring[0]
  connection: local
  gather_facts: false
  vars_files:
    - {role}/defaults/main.yml
    - {role}/vars/main.yml
  tasks:
    - name: Kubernetes token
      ansible.builtin.copy:
        content: "{{{{ monitoring_kubernetes_token }}}}"
        dest: "{{{{ _monitoring_kubernetes_dir }}}}/token"
        mode: "0600"
      no_log: true
      when: _monitoring_scrape_kubernetes | bool
    - name: prometheus.yml
      ansible.builtin.template:
        src: "{role}/templates/prometheus.yml.j2"
        dest: "{{{{ out }}}}/prometheus.yml"
        mode: "0644"
        validate: promtool check config %s
    - name: alertmanager.yml
      ansible.builtin.template:
        src: "{role}/templates/alertmanager.yml.j2"
        dest: "{{{{ out }}}}/alertmanager.yml"
        mode: "0600"
        validate: amtool check-config %s
      no_log: true
    - name: Other templates, in one file (one module call keeps the test fast)
      ansible.builtin.copy:
        content: >-
          {{{{ {{'prometheus.default': lookup('ansible.builtin.template', '{role}/templates/prometheus.default.j2'),
               'alertmanager.default': lookup('ansible.builtin.template', '{role}/templates/alertmanager.default.j2'),
               'grafana-datasource.yml': lookup('ansible.builtin.template', '{role}/templates/grafana-datasource.yml.j2'),
               'grafana-dashboards.yml': lookup('ansible.builtin.template', '{role}/templates/grafana-dashboards.yml.j2')}}
              | to_json }}}}
        dest: "{{{{ out }}}}/others.json"
        mode: "0644"
"""


@pytest.fixture(scope="module", autouse=True)
def _tools_installed():
    missing = [tool for tool in ("promtool", "amtool") if shutil.which(tool) is None]
    if missing:
        pytest.fail(f"{missing} missing: apt-get install prometheus prometheus-alertmanager (scripts/setup.sh installs them)")


def run_playbook(tmp: Path, inventory: dict, play: str, extra: dict) -> subprocess.CompletedProcess:
    (tmp / "inventory.yml").write_text(yaml.safe_dump(inventory))
    (tmp / "play.yml").write_text(play)
    (tmp / "extra.json").write_text(json.dumps(extra))
    env = {**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
           "ANSIBLE_FACT_CACHING": "memory", "ANSIBLE_NOCOLOR": "1",
           "ANSIBLE_PYTHON_INTERPRETER": str(ROOT / ".venv" / "bin" / "python")}
    return subprocess.run([str(PLAYBOOK_BIN), "-i", str(tmp / "inventory.yml"), str(tmp / "play.yml"),
                           "-e", f"@{tmp / 'extra.json'}"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)


def render(tmp: Path, inventory: dict, extra: dict) -> tuple[Path, subprocess.CompletedProcess]:
    """Render the role's templates for `inventory`; the rule files are the role's own."""
    out = tmp / "out"
    out.mkdir()
    (tmp / "k8s").mkdir()
    extra = {"out": str(out), "monitoring_rules_dir": str(RULES_DIR), "_monitoring_kubernetes_dir": str(tmp / "k8s"), **extra}
    result = run_playbook(tmp, inventory, RENDER_PLAY.format(role=ROLE), extra)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    for name, text in json.loads((out / "others.json").read_text()).items():
        (out / name).write_text(text)
    return out, result


def hosts_of(inventory: dict, group: str) -> dict[str, dict]:
    """Hosts (with their vars) of a group, children included, as Ansible sees them."""
    def walk(node: dict) -> dict:
        found = dict(node.get("hosts") or {})
        for child in (node.get("children") or {}).values():
            found.update(walk(child))
        return found

    def find(node: dict, name: str):
        for child_name, child in (node.get("children") or {}).items():
            if child_name == name:
                return child
            hit = find(child, name)
            if hit is not None:
                return hit
        return None

    node = inventory["all"] if group == "all" else find(inventory["all"], group)
    return walk(node) if node else {}


def expected_targets(inventory: dict, group: str, port: int) -> set[tuple[str, str]]:
    targets = set()
    for name, hostvars in hosts_of(inventory, group).items():
        if name == "localhost":
            continue
        address = hostvars.get("private_ip") or hostvars.get("ansible_host") or name
        targets.add((f"{address}:{port}", name))
    return targets


def scrape_targets(config: dict) -> dict[str, set[tuple[str, str]]]:
    jobs = {}
    for job in config["scrape_configs"]:
        jobs[job["job_name"]] = {(target, static.get("labels", {}).get("instance", target))
                                 for static in job["static_configs"] for target in static["targets"]}
    return jobs


@pytest.fixture(scope="module")
def full(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("full")
    extra = {**RECEIVERS, "monitoring_kubernetes_token": K8S_TOKEN,
             "monitoring_prometheus_retention_time": "30d", "monitoring_prometheus_retention_size": "40GB",
             "monitoring_prometheus_external_labels": {"platform": "ecoeco"}}
    out, result = render(tmp, FULL_INVENTORY, extra)
    return tmp, out, result


def test_full_inventory_generates_every_job(full):
    out = full[1]
    jobs = scrape_targets(yaml.safe_load((out / "prometheus.yml").read_text()))
    inv = FULL_INVENTORY
    assert jobs == {
        "prometheus": expected_targets(inv, "monitoring", 9090),
        "alertmanager": expected_targets(inv, "monitoring", 9093),
        "node": expected_targets(inv, "all", 9100),
        "postgresql": expected_targets(inv, "postgresql", 9187),
        "redis": expected_targets(inv, "redis", 9121),
        "rabbitmq": expected_targets(inv, "rabbitmq", 15692),
        "kafka": expected_targets(inv, "kafka", 9308),
        "apiserver": expected_targets(inv, "control_plane", 6443),
        "etcd": expected_targets(inv, "control_plane", 2381),
        "kubelet": expected_targets(inv, "k8s_cluster", 10250),
    }
    # 13 platform nodes, the controller left out; fallbacks: ansible_host, then the name
    assert len(jobs["node"]) == 13
    assert ("10.0.10.7:9100", "api-auth-1") in jobs["node"]
    assert ("kafka-3:9308", "kafka-3") in jobs["kafka"]
    assert ("10.0.10.5:6443", "cp-1") in jobs["apiserver"]   # private IP wins over ansible_host


def test_full_config_passes_promtool_and_is_wired(full):
    tmp, out = full[:2]
    check = subprocess.run(["promtool", "check", "config", str(out / "prometheus.yml")],
                           capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stdout + check.stderr
    # the config itself, then every rule file it names
    assert len(re.findall(r"SUCCESS: \d+ rules found", check.stdout)) == len(list(RULES_DIR.glob("*.rules.yml"))) == 7
    config = yaml.safe_load((out / "prometheus.yml").read_text())
    assert config["global"]["external_labels"] == {"platform": "ecoeco"}
    assert config["rule_files"] == [f"{RULES_DIR}/*.rules.yml"]
    assert config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] == ["10.0.40.10:9093"]
    apiserver = next(j for j in config["scrape_configs"] if j["job_name"] == "apiserver")
    assert apiserver["scheme"] == "https"
    assert apiserver["authorization"]["credentials_file"] == f"{tmp / 'k8s'}/token"
    assert (tmp / "k8s" / "token").read_text() == K8S_TOKEN
    args = (out / "prometheus.default").read_text()
    assert "--storage.tsdb.retention.time=30d" in args and "--storage.tsdb.retention.size=40GB" in args


def test_full_alertmanager_config_passes_amtool_with_receivers_and_inhibitions(full):
    out, result = full[1:]
    check = subprocess.run(["amtool", "check-config", str(out / "alertmanager.yml")],
                           capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stdout + check.stderr
    assert " - 4 receivers" in check.stdout and " - 2 inhibit rules" in check.stdout
    config = yaml.safe_load((out / "alertmanager.yml").read_text())
    receivers = {r["name"]: r for r in config["receivers"]}
    assert receivers["ops-slack"]["slack_configs"][0]["api_url"] == SLACK_URL
    assert receivers["pager"]["webhook_configs"][0]["url"] == WEBHOOK_URL
    assert receivers["ops-mail"]["email_configs"][0]["auth_password"] == SMTP_PASSWORD
    assert list(receivers["default"]) == ["name"]
    assert config["route"]["receiver"] == "default"
    assert [(r["receiver"], r["continue"]) for r in config["route"]["routes"]] == [("pager", True), ("ops-slack", False)]
    # the secrets went into the file but never into Ansible's output
    for secret in (SLACK_URL, WEBHOOK_URL, SMTP_PASSWORD, K8S_TOKEN):
        assert secret not in result.stdout + result.stderr


def test_grafana_datasource_uid_matches_the_dashboards(full):
    out = full[1]
    datasource = yaml.safe_load((out / "grafana-datasource.yml").read_text())["datasources"][0]
    role_vars = yaml.safe_load((ROLE / "vars" / "main.yml").read_text())
    assert datasource["uid"] == role_vars["_monitoring_grafana_datasource_uid"]
    assert datasource["type"] == "prometheus" and datasource["url"] == "http://127.0.0.1:9090"
    for path in (ROLE / "files" / "grafana" / "dashboards").glob("*.json"):
        assert f'"uid": "{datasource["uid"]}"' in path.read_text(), path.name
    provider = yaml.safe_load((out / "grafana-dashboards.yml").read_text())["providers"][0]
    assert provider["options"]["path"] == "/var/lib/grafana/dashboards/msa"


def test_small_inventory_has_only_its_jobs(tmp_path):
    out = render(tmp_path, SMALL_INVENTORY, {})[0]
    config = yaml.safe_load((out / "prometheus.yml").read_text())
    jobs = scrape_targets(config)
    assert jobs == {
        "prometheus": {("192.0.2.10:9090", "mon")},
        "alertmanager": {("192.0.2.10:9093", "mon")},
        "node": {("192.0.2.10:9100", "mon"), ("192.0.2.11:9100", "node-1"), ("192.0.2.12:9100", "node-2")},
        "postgresql": {("192.0.2.11:9187", "node-1")},
        "redis": {("192.0.2.12:9121", "node-2")},
    }
    assert not (tmp_path / "k8s" / "token").exists()      # no cluster, no token needed
    am_args = (out / "alertmanager.default").read_text()
    assert '--cluster.listen-address="' in am_args         # single Alertmanager: gossip off
    assert "--cluster.peer" not in am_args


def test_added_node_is_scraped_without_an_edit(tmp_path):
    inventory = json.loads(json.dumps(SMALL_INVENTORY))
    inventory["all"]["children"]["redis"]["hosts"]["node-3"] = {"private_ip": "192.0.2.13"}
    out = render(tmp_path, inventory, {})[0]
    jobs = scrape_targets(yaml.safe_load((out / "prometheus.yml").read_text()))
    assert ("192.0.2.13:9121", "node-3") in jobs["redis"]
    assert ("192.0.2.13:9100", "node-3") in jobs["node"]


PREFLIGHT_PLAY = """
- name: Run the monitoring role's preflight with each case's inputs
  hosts: localhost
  gather_facts: false
  tasks:
{cases}
"""

PREFLIGHT_CASE = """
    - name: Case {name}
      block:
        - name: Preflight of case {name}
          ansible.builtin.include_role:
            name: msa.platform.monitoring
            tasks_from: preflight.yml
          vars: {vars}
        - name: Record success of {name}
          ansible.builtin.copy:
            content: "ok"
            dest: "{out}/{name}"
            mode: "0644"
      rescue:
        - name: Record failure of {name}
          ansible.builtin.copy:
            content: "{{{{ ansible_failed_result.msg }}}}"
            dest: "{out}/{name}"
            mode: "0644"
"""

PREFLIGHT_CASES = {
    "valid": {**RECEIVERS, "monitoring_grafana_enabled": True, "monitoring_grafana_admin_password": "correct-horse",
              "monitoring_kubernetes_token": K8S_TOKEN},
    "missing_secret": {**RECEIVERS, "monitoring_grafana_enabled": False,
                       "monitoring_alertmanager_secrets": {"slack_ops": SLACK_URL, "pager_url": ""}},
    "unknown_receiver": {"monitoring_grafana_enabled": False,
                         "monitoring_alertmanager_routes": [{"receiver": "nobody", "matchers": []}]},
    "bad_retention": {"monitoring_grafana_enabled": False, "monitoring_prometheus_retention_time": "two weeks"},
    "no_grafana_password": {"monitoring_grafana_enabled": True, "monitoring_kubernetes_token": K8S_TOKEN},
    "kubernetes_without_token": {"monitoring_grafana_enabled": False},
}


@pytest.fixture(scope="module")
def preflight(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("preflight")
    out = tmp / "results"
    out.mkdir()
    cases = "".join(PREFLIGHT_CASE.format(name=name, vars=json.dumps(case_vars), out=out)
                    for name, case_vars in PREFLIGHT_CASES.items())
    inventory = json.loads(json.dumps(SMALL_INVENTORY))
    inventory["all"]["children"]["control_plane"] = {"hosts": {"cp-1": {"private_ip": "192.0.2.20"}}}
    result = run_playbook(tmp, inventory, PREFLIGHT_PLAY.format(cases=cases), {})
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    return {name: (out / name).read_text() for name in PREFLIGHT_CASES}, result


def test_preflight_accepts_valid_inputs_and_requires_the_kubernetes_token(preflight):
    results, run = preflight
    assert results["valid"] == "ok"
    # control_plane has a host: without a token its endpoints could not be scraped
    assert "monitoring_kubernetes_token is empty" in results["kubernetes_without_token"]
    assert K8S_TOKEN not in run.stdout


def test_preflight_names_the_missing_secret_without_printing_secrets(preflight):
    results, run = preflight
    message = results["missing_secret"]
    assert "monitoring_alertmanager_secrets" in message
    # pager_url is empty and smtp_password absent; slack_ops is supplied
    missing = re.search(r"keys (\[.*?\])", message).group(1)
    assert sorted(yaml.safe_load(missing)) == ["pager_url", "smtp_password"]
    assert SLACK_URL not in message and SLACK_URL not in run.stdout


def test_preflight_rejects_unknown_receiver_and_bad_retention(preflight):
    results = preflight[0]
    assert "nobody" in results["unknown_receiver"] and "monitoring_alertmanager_routes" in results["unknown_receiver"]
    assert "monitoring_prometheus_retention_time" in results["bad_retention"] and "two weeks" in results["bad_retention"]
    assert "monitoring_grafana_admin_password" in results["no_grafana_password"]


SECRET_VARIABLES = ("monitoring_alertmanager_secrets", "monitoring_kubernetes_token", "monitoring_grafana_admin_password",
                    "alertmanager.yml.j2", "kube-prometheus-stack-values.yml.j2")


def _tasks(path: Path):
    for task in yaml.safe_load(path.read_text()) or []:
        yield task
        for key in ("block", "rescue", "always"):
            yield from task.get(key, [])


def test_role_tasks_that_handle_secrets_have_no_log():
    """A task whose arguments carry a secret (or render a file holding one) must hide its output."""
    leaky = []
    for path in sorted((ROLE / "tasks").glob("*.yml")):
        for task in _tasks(path):
            body = yaml.safe_dump({k: v for k, v in task.items() if k not in ("name", "when", "vars")})
            if "ansible.builtin.assert" in task:
                continue        # asserts compare, they print only fail_msg (which names keys, never values)
            if any(secret in body for secret in SECRET_VARIABLES) and task.get("no_log") is not True:
                leaky.append(f"{path.name}: {task.get('name')}")
    assert leaky == []


def test_kube_prometheus_stack_values_render(tmp_path):
    """The Helm values (no cluster here to install them into): rules, receivers, one ServiceMonitor per API."""
    play = f"""
- name: Run the role's kube-prometheus-stack tasks (no helm, no cluster here)
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Values, then the Helm release
      block:
        - name: Role tasks
          ansible.builtin.include_role:
            name: msa.platform.monitoring
            tasks_from: kube_prometheus_stack.yml
      rescue:
        - name: Keep the values the Helm task received
          ansible.builtin.copy:
            content: "{{{{ {{'values': __monitoring_kps_values, 'failed_task': ansible_failed_task.name}} | to_json }}}}"
            dest: "{tmp_path}/values.json"
            mode: "0600"
          no_log: true
"""
    extra = {**RECEIVERS, "monitoring_mode": "kube_prometheus_stack", "monitoring_grafana_enabled": True,
             "monitoring_grafana_admin_password": "correct-horse",
             "monitoring_kps_api_services": [{"name": "auth", "namespace": "auth"},
                                             {"name": "orders", "namespace": "shop", "port": "metrics", "path": "/prom"}]}
    result = run_playbook(tmp_path, SMALL_INVENTORY, play, extra)
    assert result.returncode == 0, result.stdout[-4000:]
    recorded = json.loads((tmp_path / "values.json").read_text())
    assert recorded["failed_task"] == "Install or upgrade kube-prometheus-stack"   # only the Helm call itself
    values = recorded["values"]
    monitors = values["prometheus"]["additionalServiceMonitors"]
    assert [(m["name"], m["namespaceSelector"]["matchNames"], m["selector"]["matchLabels"]["app.kubernetes.io/name"],
             m["endpoints"][0]["port"], m["endpoints"][0]["path"]) for m in monitors] == [
        ("api-auth", ["auth"], "auth", "http", "/metrics"), ("api-orders", ["shop"], "orders", "metrics", "/prom")]
    assert values["prometheus"]["prometheusSpec"]["retention"] == "15d"
    rules = values["additionalPrometheusRulesMap"]
    assert sorted(rules) == sorted(f.replace(".rules.yml", "") for f in yaml.safe_load((ROLE / "vars" / "main.yml").read_text())["_monitoring_rule_files"])
    assert sum(len(g["rules"]) for r in rules.values() for g in r["groups"]) >= 26
    receivers = {r["name"]: r for r in values["alertmanager"]["config"]["receivers"]}
    assert receivers["ops-slack"]["slack_configs"][0]["api_url"] == SLACK_URL
    assert values["grafana"]["adminPassword"] == "correct-horse"
