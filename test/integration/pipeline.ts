/**
 * Independent checks of stream-clean's output for the integration tests: Parquet read by DuckDB,
 * staging and dead letters read by kcat, and an oracle of the cleaning rules written from SPEC.md
 * separately from src/clean (a test that called the code under test would prove nothing).
 */
import { DuckDBInstance } from "@duckdb/node-api";
import { headerValue, kcatConsume, type KcatMessage } from "./harness.ts";

export interface ParquetRow {
  id: number;
  first_name: string;
  last_name: string | null;
  email: string;
  gender: string | null;
  ip_addr: string;
  date: string | null;
  country: string | null;
  timestamp_ms: number;
  source_partition: number;
  source_offset: number;
  ingest_date: string;
}

export async function readParquetRows(parquetDir: string): Promise<ParquetRow[]> {
  const db = await DuckDBInstance.create();
  const connection = await db.connect();
  try {
    const reader = await connection.runAndReadAll(
      `SELECT id, first_name, last_name, email, gender, ip_addr, date, country, epoch_ms(timestamp) AS timestamp_ms,
              source_partition, source_offset, ingest_date::VARCHAR AS ingest_date
       FROM read_parquet('${parquetDir}/**/*.parquet', hive_partitioning = true)`,
    );
    return reader.getRowObjectsJS().map((row) => ({
      ...(row as unknown as ParquetRow),
      id: Number(row.id),
      timestamp_ms: Number(row.timestamp_ms),
      source_offset: Number(row.source_offset),
    }));
  } catch (error) {
    if (/No files found/.test(String(error))) return [];
    throw error;
  } finally {
    connection.closeSync();
  }
}

const key = (partition: number | string, offset: number | string) => `${partition}:${offset}`;

export interface ExactlyOnceReport {
  input: number;
  parquetRows: number;
  deadLetters: number;
  staging: number;
  lost: string[];
  duplicatedInParquet: string[];
  duplicatedInStaging: string[];
  duplicatedInDeadLetters: string[];
  stagingWithoutRow: string[];
  rowWithoutStaging: string[];
}

/** A Parquet row's lineage: all the exactly-once check needs of it. */
export type Lineage = Pick<ParquetRow, "source_partition" | "source_offset">;

/**
 * Every input offset in exactly one Parquet row or dead letter; every row in exactly one committed
 * staging message. `readRows` reads the Parquet lineage (default: DuckDB over the local folder).
 */
export async function checkExactlyOnce(
  topics: { input: string; staging: string; dead_letter: string },
  parquetDir: string,
  readRows: (parquetDir: string) => Promise<Lineage[]> = readParquetRows,
): Promise<ExactlyOnceReport> {
  const [input, staging, deadLetters, rows] = await Promise.all([
    kcatConsume(topics.input),
    kcatConsume(topics.staging, { isolation: "read_committed" }),
    kcatConsume(topics.dead_letter, { isolation: "read_committed" }),
    readRows(parquetDir),
  ]);
  const count = (keys: string[]) => {
    const counts = new Map<string, number>();
    for (const k of keys) counts.set(k, (counts.get(k) ?? 0) + 1);
    return counts;
  };
  const rowKeys = count(rows.map((row) => key(row.source_partition, row.source_offset)));
  const deadKeys = count(deadLetters.map((m) => key(headerValue(m, "kstream-source-partition")!, headerValue(m, "kstream-source-offset")!)));
  const stagingKeys = count(staging.map((m) => key(headerValue(m, "kstream-source-partition")!, headerValue(m, "kstream-source-offset")!)));
  const duplicates = (counts: Map<string, number>) => [...counts].filter(([, n]) => n > 1).map(([k]) => k);
  return {
    input: input.length,
    parquetRows: rows.length,
    deadLetters: deadLetters.length,
    staging: staging.length,
    lost: input.map((m) => key(m.partition, m.offset)).filter((k) => !rowKeys.has(k) && !deadKeys.has(k)),
    duplicatedInParquet: duplicates(rowKeys),
    duplicatedInStaging: duplicates(stagingKeys),
    duplicatedInDeadLetters: [...duplicates(deadKeys), ...[...deadKeys.keys()].filter((k) => rowKeys.has(k))],
    stagingWithoutRow: [...stagingKeys.keys()].filter((k) => !rowKeys.has(k)),
    rowWithoutStaging: [...rowKeys.keys()].filter((k) => !stagingKeys.has(k)),
  };
}

export function inputByPosition(messages: KcatMessage[]): Map<string, KcatMessage> {
  return new Map(messages.map((m) => [key(m.partition, m.offset), m]));
}

// ---- the oracle: SPEC.md's rules, written again, plainly ----------------------------------

type Expected = { kind: "row"; row: Omit<ParquetRow, "timestamp_ms" | "source_partition" | "source_offset" | "ingest_date"> } | { kind: "dead"; reason: string };

const str = (value: unknown): string | undefined => {
  if (typeof value !== "string") return undefined;
  const trimmed = value.trim();
  return trimmed.length > 0 ? trimmed : undefined;
};

const daysIn = (year: number, month: number) => new Date(Date.UTC(year, month, 0)).getUTCDate();

export function expectedOutcome(payload: string): Expected {
  let value: unknown;
  try {
    value = JSON.parse(payload);
  } catch {
    return { kind: "dead", reason: "invalid_json" };
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) return { kind: "dead", reason: "not_an_object" };
  const record = value as Record<string, unknown>;
  let id: number | undefined;
  if (typeof record.id === "number" && Number.isInteger(record.id)) id = record.id;
  if (typeof record.id === "string" && /^\s*[+-]?[0-9]+\s*$/.test(record.id)) id = Number.parseInt(record.id.trim(), 10);
  if (id === undefined || Math.abs(id) > Number.MAX_SAFE_INTEGER) return { kind: "dead", reason: "invalid_id" };

  const ip = str(record.ip_address);
  const octets = ip?.split(".");
  const ipOk = octets?.length === 4 && octets.every((o) => /^(0|[1-9][0-9]{0,2})$/.test(o) && Number(o) <= 255);

  let date: string | null = null;
  const rawDate = str(record.date);
  const dayFirst = rawDate?.match(/^([0-9]{1,2})\/([0-9]{1,2})\/([0-9]{4})$/);
  const iso = rawDate?.match(/^([0-9]{4})-([0-9]{2})-([0-9]{2})(?:[T ][0-9].*)?$/s);
  const parts = dayFirst ? [Number(dayFirst[3]), Number(dayFirst[2]), Number(dayFirst[1])] : iso ? [Number(iso[1]), Number(iso[2]), Number(iso[3])] : undefined;
  if (parts) {
    const [y, m, d] = parts as [number, number, number];
    if (m >= 1 && m <= 12 && d >= 1 && d <= daysIn(y, m)) date = `${String(d).padStart(2, "0")}/${String(m).padStart(2, "0")}/${y}`;
  }

  const country = str(record.country)
    ?.split(/\s+/)
    .map((word) => word.toLowerCase())
    .map((word) => [...word][0]!.toUpperCase() + [...word].slice(1).join(""))
    .join(" ");
  const email = str(record.email);

  return {
    kind: "row",
    row: {
      id,
      first_name: str(record.first_name) ?? "NULL",
      last_name: str(record.last_name) ?? null,
      email: email === undefined || email === "NULL" ? "NULL" : email.toLowerCase(),
      gender: str(record.gender) ?? null,
      ip_addr: ipOk ? ip! : "127.127.127.127",
      date,
      country: country ?? null,
    },
  };
}
