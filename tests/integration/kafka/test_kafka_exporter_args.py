"""kafka_exporter's arguments as the kafka_exporter role renders them, and its preflight refusals.

The exporter's release cannot be fetched here (molecule/kafka runs a stand-in through the role's
real install path). What is real in this test: the role's preflight, defaults, vars and template,
run by ansible-playbook for a three-node inventory; what is asserted is the file kafka_exporter
would read through "@file", and that bad input stops the run with a message naming the field.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
HOSTS = {"kafka-a": "10.0.30.11", "kafka-b": "10.0.30.12", "kafka-c": "10.0.30.13"}
SECRET = "s3cr3t-not-for-logs"


def render(tmp_path: Path, **extra) -> subprocess.CompletedProcess:
    inventory = tmp_path / "inventory.ini"
    inventory.write_text("[kafka]\n" + "".join(
        f"{name} ansible_connection=local private_ip={ip} ansible_python_interpreter={sys.executable}\n"
        for name, ip in HOSTS.items()))
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_CACHE_PLUGIN="memory",
               ANSIBLE_NOCOLOR="1", ANSIBLE_STDOUT_CALLBACK="default")
    return subprocess.run(
        [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(inventory),
         str(Path(__file__).parent / "exporter_render.yml"), "-e", json.dumps({"out": str(tmp_path), **extra})],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)


def args(tmp_path: Path, host: str) -> list[str]:
    return [line for line in (tmp_path / f"{host}.args").read_text().splitlines() if not line.startswith("#")]


def test_each_node_bootstraps_from_its_own_broker_first_and_listens_on_its_private_ip(tmp_path):
    run = render(tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    for host, ip in HOSTS.items():
        others = [other for other in HOSTS.values() if other != ip]
        assert args(tmp_path, host) == [f"--web.listen-address={ip}:9308", f"--kafka.server={ip}:9092"] + [
            f"--kafka.server={other}:9092" for other in others] + ["--kafka.version=3.7.2"]


def test_sasl_flags_go_to_the_file_and_the_secret_to_no_output(tmp_path):
    run = render(tmp_path, kafka_exporter_sasl_enabled=True, kafka_exporter_sasl_password=SECRET,
                 kafka_exporter_kafka_port=9094, kafka_exporter_extra_args=["--topic.exclude=^__.*"])
    assert run.returncode == 0, run.stdout + run.stderr
    lines = args(tmp_path, "kafka-b")
    assert lines[1] == "--kafka.server=10.0.30.12:9094"
    assert lines[-6:] == ["--kafka.version=3.7.2", "--sasl.enabled", "--sasl.mechanism=scram-sha512",
                          "--sasl.username=admin", f"--sasl.password={SECRET}", "--topic.exclude=^__.*"]
    assert "" not in lines, "an empty line is an empty positional argument to kingpin"
    assert SECRET not in run.stdout + run.stderr


def test_sasl_without_its_password_stops_in_preflight_naming_it(tmp_path):
    run = render(tmp_path, kafka_exporter_sasl_enabled=True)
    assert run.returncode == 2, run.stdout
    assert "kafka_exporter_sasl_password" in run.stdout, run.stdout
    assert not list(tmp_path.glob("*.args"))


def test_a_password_in_the_extra_args_is_refused(tmp_path):
    run = render(tmp_path, kafka_exporter_extra_args=[f"--sasl.password={SECRET}"])
    assert run.returncode == 2, run.stdout
    assert "never kafka_exporter_extra_args" in run.stdout, run.stdout
    assert SECRET not in run.stdout + run.stderr
    assert not list(tmp_path.glob("*.args"))


def test_a_missing_checksum_for_the_node_architecture_names_it(tmp_path):
    arch = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True, check=True).stdout.strip()
    run = render(tmp_path, kafka_exporter_checksums={"riscv64": "sha256:" + "0" * 64})
    assert run.returncode == 2, run.stdout
    assert f"kafka_exporter_checksums needs '{arch}: sha256:<hex>'" in run.stdout, run.stdout
    assert not list(tmp_path.glob("*.args"))
