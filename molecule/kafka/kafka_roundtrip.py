"""Produce and consume one message through a Kafka-protocol listener with confluent-kafka.

argv: <bootstrap host:port> <topic>. Prints JSON: cluster_id, brokers (advertised host:port)
and the value read back. Exit 1 with a message when a step fails.
"""
import json
import sys
import time

from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic


def main() -> int:
    bootstrap, topic = sys.argv[1], sys.argv[2]
    conf = {"bootstrap.servers": bootstrap}
    admin = AdminClient(conf)
    admin.create_topics([NewTopic(topic, 1, 1)])[topic].result(15)
    meta = admin.list_topics(timeout=10)
    producer = Producer(conf)
    producer.produce(topic, b"hello " + bootstrap.encode())
    if producer.flush(15):
        print("message not delivered", file=sys.stderr)
        return 1
    consumer = Consumer(dict(conf, **{"group.id": "verify", "enable.auto.commit": False}))
    consumer.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
    value = None
    deadline = time.monotonic() + 20
    while value is None and time.monotonic() < deadline:
        msg = consumer.poll(0.5)
        if msg is not None and not msg.error():
            value = msg.value().decode()
    consumer.close()
    brokers = sorted(f"{b.host}:{b.port}" for b in meta.brokers.values())
    print(json.dumps({"cluster_id": meta.cluster_id, "brokers": brokers, "value": value}))
    return 0 if value is not None else 1


sys.exit(main())
