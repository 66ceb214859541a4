/**
 * stream-clean's per-record work without Kafka: what one thread spends on each record before any
 * fetch, send or commit. Generates records (scripts/gen-sample.ts), then times, in this process
 * and warm (median of the runs after a warm-up), each step a record goes through in stream-clean:
 * reading and cleaning its value (cleanMessage), its staging value's text (stagingMessage), and
 * its Parquet row (createDatedRows: the row buffer, then hyparquet-writer a row group of 20,000
 * rows at a time, Snappy pages), and the Parquet encoding split by column (each column written
 * alone, as its own file, so a column's row includes the per-file cost once per group). Prints
 * Markdown tables: the floor under stream-clean's main thread, which the Kafka work comes on top of.
 *
 *   bun scripts/bench-floor.ts [--records 300000] [--runs 5] [--config config/kstream.toml]
 */
import { parseArgs } from "node:util";
import { ByteWriter, ParquetWriter } from "hyparquet-writer";
import { cleanMessage } from "../src/clean/record.ts";
import { stagingMessage } from "../src/clean/staging.ts";
import type { CleanRow, CleanRules } from "../src/clean/types.ts";
import { snappyCompressPage } from "../src/compression/snappy-pages.ts";
import { durationMs } from "../src/config/duration.ts";
import { loadConfig } from "../src/config/load.ts";
import { installFastByteWriter } from "../src/storage/byte-writer-patch.ts";
import { hasStatistics, SCHEMA } from "../src/storage/parquet-format.ts";
import { CYCLE_ROW_GROUP_ROWS, createDatedRows } from "../src/stream/partition-sink.ts";
import { createRowBuffer, type ParquetColumns } from "../src/stream/row-buffer.ts";
import { createRandom, recordJson } from "./gen-sample.ts";

const { values: args } = parseArgs({ options: { records: { type: "string", default: "300000" }, runs: { type: "string", default: "5" }, config: { type: "string" } } });
const records = Number(args.records);
const runs = Number(args.runs);
const { config } = loadConfig({ configFlag: args.config });
const rules: CleanRules = {
  nullPlaceholder: config.rules.null_placeholder,
  defaultIp: config.rules.default_ip,
  dateFormats: config.rules.date_formats,
  windowMs: durationMs(config.clean.window),
};

const random = createRandom(42);
const values = Array.from({ length: records }, (_, index) => Buffer.from(recordJson(index + 1, random)));
/** Kafka timestamps 10 ms apart: the rows of a run share a window and an ingest date, as in a live topic. */
const START = Date.UTC(2026, 11, 2, 6);

const median = (samples: number[]) => [...samples].sort((a, b) => a - b)[samples.length >> 1]!;
/** µs per record of `step`, median of `runs` runs after one warm-up. */
function time(step: () => void): number {
  const samples: number[] = [];
  for (let run = 0; run <= runs; run++) {
    const started = performance.now();
    step();
    if (run > 0) samples.push(((performance.now() - started) * 1000) / records);
  }
  return median(samples);
}

let rows: CleanRow[] = [];
const clean = time(() => {
  rows = [];
  for (let index = 0; index < records; index++) {
    const outcome = cleanMessage(values[index]!, { timestamp: START + index * 10, partition: 0, offset: BigInt(index) }, rules);
    if (outcome.kind === "row") rows.push(outcome.row);
  }
});
const staging = time(() => {
  let length = 0;
  for (const row of rows) length += stagingMessage(row, rules.windowMs).value.length;
  if (length === 0) throw new Error("no staging text");
});
const parquet = time(() => {
  const dated = createDatedRows("bench", 0, { codec: "snappy" });
  for (const row of rows) dated.append(row);
  dated.encode();
});

// The rows as the cycle hands them to hyparquet-writer: row groups of CYCLE_ROW_GROUP_ROWS.
const groups: ParquetColumns[] = [];
for (let start = 0; start < rows.length; start += CYCLE_ROW_GROUP_ROWS) {
  const buffer = createRowBuffer();
  for (const row of rows.slice(start, start + CYCLE_ROW_GROUP_ROWS)) buffer.append(row);
  groups.push(buffer.columns());
}
installFastByteWriter();
const byColumn = SCHEMA.slice(1).map((element) => {
  const name = element.name as keyof ParquetColumns;
  const micros = time(() => {
    for (const columns of groups) {
      const parquetWriter = new ParquetWriter({ writer: new ByteWriter(), schema: [{ name: "root", num_children: 1 }, element] as never, codec: "SNAPPY", compressors: { SNAPPY: snappyCompressPage }, createdBy: "kstream" });
      parquetWriter.write({ columnData: [{ name, data: columns[name], statistics: hasStatistics(name) }], rowGroupSize: 100_000, pageSize: 0 });
      parquetWriter.finish();
    }
  });
  return { name, micros };
});

const µs = (value: number) => value.toFixed(2);
console.log(`stream-clean's per-record work without Kafka: ${records.toLocaleString("en-US")} records of scripts/gen-sample.ts (seed 42), ${rows.length.toLocaleString("en-US")} rows; µs per record, median of ${runs} runs after a warm-up, one thread`);
console.log("");
console.log("| step | µs per record | s per 1M records |");
console.log("|---|---|---|");
for (const [step, value] of [["read and clean the value (cleanMessage)", clean], ["the staging value's text (stagingMessage)", staging], ["the Parquet row: row buffer and hyparquet-writer, 20,000-row groups, Snappy", parquet]] as const) {
  console.log(`| ${step} | ${µs(value)} | ${value.toFixed(2)} |`);
}
const total = clean + staging + parquet;
console.log(`| **all three** | **${µs(total)}** | **${total.toFixed(2)}** |`);
console.log("");
console.log("Parquet by column (each written alone, a file per row group: the per-file cost is in every column's figure):");
console.log("");
console.log(`| column | µs per record |`);
console.log("|---|---|");
for (const { name, micros } of byColumn) console.log(`| ${name}${hasStatistics(name) ? " (statistics)" : ""} | ${µs(micros)} |`);
