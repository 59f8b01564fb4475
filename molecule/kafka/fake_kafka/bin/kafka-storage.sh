#!/bin/sh
# Molecule stand-in for Apache Kafka's bin/kafka-storage.sh (the real tarball cannot be fetched
# here). It records its arguments (an @file argument by its name only), checks an @file of
# --add-scram credentials, and, for "format", refuses an already formatted directory and
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
    @*)
      # Like the real parser (argparse4j, fromFilePrefix "@"): one argument per line; here only
      # --add-scram pairs are expected, and the file must be private to its owner.
      file=${1#@}
      [ -r "$file" ] || { echo "kafka-storage: cannot read argument file $file" >&2; exit 1; }
      [ "$(stat -c %a "$file")" = 600 ] || { echo "kafka-storage: $file must be mode 0600" >&2; exit 1; }
      awk 'NR % 2 == 1 && $0 != "--add-scram" { exit 1 }
           NR % 2 == 0 && $0 !~ /^SCRAM-SHA-(256|512)=\[name=[^,=]+,password=[^]]+\]$/ { exit 1 }
           END { if (NR == 0 || NR % 2) exit 1 }' "$file" \
        || { echo "kafka-storage: $file holds no valid --add-scram SCRAM_CREDENTIAL pairs" >&2; exit 1; }
      shift ;;
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
