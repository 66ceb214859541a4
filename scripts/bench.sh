#!/usr/bin/env bash
# The benchmark suite in one command, on a fresh machine as on a warm one: installs what is missing
# (scripts/setup.sh), starts the local broker unless it runs (and stops it afterwards if it started
# it), builds dist/kstream (the compiled binary is what is measured), then runs scripts/bench.ts:
# each stage against its kcat baseline, end to end and `--help`, median of 3 runs after a warm-up.
# Prints Markdown tables on stdout; the JSON goes to bench-results/ (git-ignored).
#
#   scripts/bench.sh [--records 1000000] [--runs 3] [--stages produce,clean,measure,recon,e2e,help,codecs,s3]
#   (the s3 stage needs the S3 server of scripts/s3.sh up on --s3-port, default $S3_PORT or 9000)
#                    [--scale [--scale-records 1000000] [--scale-sizes 100000,1000000,5000000]]
#                    [--profile]   (CPU by module per stage, from a non-minified build)
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
started_broker=0
stop_broker() { if [ "$started_broker" = 1 ]; then bash scripts/kafka.sh down >/dev/null 2>&1 || true; fi; }
trap stop_broker EXIT
if ! bash scripts/kafka.sh status >/dev/null 2>&1; then
  bash scripts/kafka.sh up
  started_broker=1
fi
node_modules/.bin/bun run build >/dev/null
# The local broker's data folders: where the codec stage reads the bytes a topic holds.
log_dirs=$(ls -d "${KSTREAM_KAFKA_CACHE:-.cache}/kafka-run/${KAFKA_PORT:-9092}"/node-*/data 2>/dev/null | paste -sd, - || true)
node_modules/.bin/bun scripts/bench.ts --broker "127.0.0.1:${KAFKA_PORT:-9092}" --log-dirs "$log_dirs" "$@"
