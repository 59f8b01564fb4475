#!/bin/sh
# Molecule stand-in for Apache Kafka's bin/kafka-storage.sh (the real tarball cannot be fetched
# here). It records its arguments and, for "format", refuses an already formatted directory and
# writes meta.properties into log.dirs and metadata.log.dir like the real tool, so the role's
# format-once guard is exercised against the real files.
set -eu
echo "kafka-storage.sh $*" >> /var/tmp/kafka-fake-calls.log
[ "${1:-}" = format ] || exit 0
shift
cluster_id="" config=""
while [ $# -gt 0 ]; do
  case "$1" in
    -t|--cluster-id) cluster_id=$2; shift 2 ;;
    -c|--config) config=$2; shift 2 ;;
    *) shift ;;
  esac
done
prop() { sed -n "s/^$1=//p" "$config" | tail -n 1; }
node_id=$(prop node.id)
dirs="$(prop log.dirs | tr ',' ' ') $(prop metadata.log.dir)"
for dir in $dirs; do
  if [ -e "$dir/meta.properties" ]; then
    echo "Log directory $dir is already formatted." >&2
    exit 1
  fi
done
for dir in $dirs; do
  printf 'version=1\ncluster.id=%s\nnode.id=%s\n' "$cluster_id" "$node_id" > "$dir/meta.properties"
done
echo "Formatting metadata directory with metadata.version (fake)"
