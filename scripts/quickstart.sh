#!/usr/bin/env bash
# From nothing to results: installs what is missing (scripts/setup.sh), starts the local Kafka
# broker on 127.0.0.1:9092 (left running for your next commands), builds dist/kstream and runs the
# main job (produce -> stream-clean until caught up -> batch-measure -> recon, then metrics) on the bundled
# sample (config/data/sample.ndjson), prints the measures and the recon verdict, and says where
# the results are.
# Running it again works: the broker is reused and a new producer run is recorded.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
bash scripts/kafka.sh up
echo "== building dist/kstream"
node_modules/.bin/bun run build >/dev/null

kstream=dist/kstream
config=config/kstream.toml

echo "== produce: config/data/sample.ndjson -> topic test_input"
"$kstream" produce --config "$config"

echo "== stream-clean: test_input -> Parquet + test_staging + test_input_dlq (until caught up)"
"$kstream" stream-clean --config "$config" --until-caught-up

echo "== batch-measure: test_staging -> out/measures.csv"
"$kstream" batch-measure --config "$config"
echo
column -s, -t < out/measures.csv 2>/dev/null || cat out/measures.csv
echo

echo "== recon: did every record of this run land exactly once?"
"$kstream" recon --config "$config"

echo
echo "== metrics: the broker, the three topics and the clean group, through the admin API"
"$kstream" metrics --config "$config"

cat <<DONE

Done. Where things are:
  broker        127.0.0.1:9092 (still running; stop it with: scripts/kafka.sh down)
  input topic   test_input      (kcat -b 127.0.0.1:9092 -C -t test_input -e)
  Parquet       out/parquet/ingest_date=*/   (one file per partition, date and cycle)
  measures      out/measures.csv
  staging       test_staging    (kcat -b 127.0.0.1:9092 -C -t test_staging -e -X isolation.level=read_committed)
  dead letters  test_input_dlq  (kcat -b 127.0.0.1:9092 -C -t test_input_dlq -e -f '%h %s\n')
  ledger        out/ledger.db   (sqlite3 out/ledger.db 'select * from runs')
  metrics       dist/kstream metrics [--json | --prometheus | --watch 5 | --serve 9308]
  the binary    dist/kstream    (dist/kstream --help)
DONE
