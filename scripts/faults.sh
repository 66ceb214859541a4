#!/usr/bin/env bash
# The fault suite (issue 7): real faults injected into real runs of dist/kstream on brokers of its
# own (a single broker on FAULTS_PORT, default 19500, and a 3-node cluster on FAULTS_CLUSTER_PORT,
# default 19600, nodes +0/+10/+20), each scenario checked with kcat, DuckDB and kstream recon.
# Prints "scenario | records | lost | duplicated | verdict" per scenario, then
# "faults: N passed, N failed"; exit 0 only when every scenario passes. Stops the brokers it started.
#
#   scripts/faults.sh [--records 200000] [--only 1,2,3,4,5,6,7]
# Needs root for scenarios 5 and 7 (they mount small tmpfs filesystems).
set -uo pipefail
cd "$(dirname "$0")/.."

port=${FAULTS_PORT:-19500}
cluster_port=${FAULTS_CLUSTER_PORT:-19600}
bash scripts/setup.sh || exit 1
[ -x dist/kstream ] || node_modules/.bin/bun run build >/dev/null || exit 1

cleanup() {
  KAFKA_PORT=$port bash scripts/kafka.sh down --purge >/dev/null 2>&1 || true
  KAFKA_PORT=$cluster_port bash scripts/kafka.sh down --purge >/dev/null 2>&1 || true
}
trap cleanup EXIT
# Fresh brokers every time: leftovers of an earlier run must not count.
cleanup
KAFKA_PORT=$port bash scripts/kafka.sh up || exit 1
KAFKA_PORT=$cluster_port bash scripts/kafka.sh up --brokers 3 || exit 1

node_modules/.bin/bun scripts/faults/run.ts --port "$port" --cluster-port "$cluster_port" "$@"
