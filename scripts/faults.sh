#!/usr/bin/env bash
# The fault suite (issue 7): real faults injected into real runs of dist/kstream, on brokers of its
# own, never the one on 9092: a single broker on FAULTS_PORT (default 19500) and, for scenario 3, a
# 3-node cluster on FAULTS_CLUSTER_PORT (default 19600; nodes on +0, +10, +20). Scenarios 9a-9c run
# on several hosts: the namespaces of scripts/hosts.sh (built for them when not up, and taken down
# again) with the 3-node cluster inside b1-b3 and stream-clean processes inside c1-c3; where
# hosts.sh cannot run (not root, no ip netns) they are skipped, said on their line. Every scenario is
# checked independently of kstream (kcat reads the input, staging and dead-letter topics, the last
# two read_committed; DuckDB the Parquet files; sqlite the ledger) and with `kstream recon`.
#
#   scripts/faults.sh [--records N] [--only ID,ID...]
#
#   --records N   input records per scenario (default 200000; 2c and 7b publish a part of them)
#   --only IDS    only these scenarios, e.g. --only 1,3 or --only 2c,7 (2 = 2a-2d, 7 = 7a-7c, 9 = 9a-9c)
#
# Prints "scenario | records | lost | duplicated | verdict", one line per scenario, then
# "faults: N passed, N failed[, N skipped] (...)" on stdout; what each scenario saw and why one
# failed go to stderr. Exit 0 only when no scenario fails. 9-10 minutes with 200000 records on 2 cores.
# Needs root (scenarios 5 and 7c mount small tmpfs filesystems; 9a-9c build namespaces). Stops the brokers it started,
# deletes their data and unmounts what it mounted, also when interrupted; FAULTS_KEEP=1 keeps the
# work folder (configs, Parquet, ledgers, the output of every kstream run).
set -uo pipefail
cd "$(dirname "$0")/.."

usage() { sed -n '2,/^[^#]/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'; }
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    --records | --only) [ $# -ge 2 ] || { echo "faults.sh: $1 needs a value" >&2; exit 2; }; args+=("$1" "$2"); shift ;;
    --records=* | --only=*) args+=("$1") ;;
    *) echo "faults.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

port=${FAULTS_PORT:-19500}
cluster_port=${FAULTS_CLUSTER_PORT:-19600}
if [ "$port" = 9092 ] || [ "$cluster_port" = 9092 ]; then echo "faults.sh: the fault suite never uses port 9092" >&2; exit 2; fi
[ "$(id -u)" = 0 ] || echo "faults.sh: not root: scenarios 5 and 7c cannot mount their filesystems and will fail" >&2

bash scripts/setup.sh || exit 1
if [ ! -x dist/kstream ]; then
  echo "faults.sh: building dist/kstream" >&2
  node_modules/.bin/bun run build >/dev/null || exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/kstream-faults.XXXXXX")
runner=""
cleanup() {
  trap - EXIT INT TERM
  if [ -n "$runner" ] && kill -0 "$runner" 2>/dev/null; then
    kill -TERM "$runner" 2>/dev/null
    wait "$runner" 2>/dev/null
  fi
  # What a scenario left mounted (one that failed half-way may not have unmounted its tmpfs).
  grep -o " $work/[^ ]*" /proc/mounts | sort -r | while read -r dir; do umount -l "$dir" 2>/dev/null; done
  KAFKA_PORT=$port bash scripts/kafka.sh down --purge >/dev/null 2>&1
  KAFKA_PORT=$cluster_port bash scripts/kafka.sh down --purge >/dev/null 2>&1
  # What run.ts started on the namespaced hosts and had not taken down yet (it was interrupted).
  if [ -f "$work/.hosts-kafka" ]; then bash scripts/hosts.sh kafka down --purge >/dev/null 2>&1; fi
  if [ -f "$work/.hosts-s3" ]; then bash scripts/hosts.sh s3 down --purge >/dev/null 2>&1; fi
  if [ -f "$work/.hosts-built" ]; then bash scripts/hosts.sh down >/dev/null 2>&1; fi
  if [ "${FAULTS_KEEP:-0}" = 1 ]; then echo "faults.sh: kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Fresh brokers: leftovers of an earlier run must not count.
KAFKA_PORT=$port bash scripts/kafka.sh down --purge >/dev/null 2>&1
KAFKA_PORT=$cluster_port bash scripts/kafka.sh down --purge >/dev/null 2>&1
KAFKA_PORT=$port bash scripts/kafka.sh up || exit 1

node_modules/.bin/bun scripts/faults/run.ts --work "$work" --port "$port" --cluster-port "$cluster_port" "${args[@]}" &
runner=$!
wait "$runner"
status=$?
runner=""
exit "$status"
