/**
 * Where a Parquet file goes and what its name says: `ingest_date=YYYY-MM-DD/` (UTC date of the
 * Kafka timestamp) and `<topic>+<partition>+<first offset>+<last offset>.parquet`, offsets padded
 * to 20 digits so lexical order is offset order. recon and recovery read these names instead of
 * opening files. A file `kstream compact` merged from several of one partition ends in
 * `+compacted.parquet` (first and last offset of its rows), and while it replaces them a hidden
 * manifest `.<merged name>.manifest.json` beside it lists the files it replaces.
 */
export interface ParquetFileName {
  readonly topic: string;
  readonly partition: number;
  readonly firstOffset: bigint;
  readonly lastOffset: bigint;
  /** Written by `kstream compact` from several files of the partition (name ends in +compacted.parquet). */
  readonly compacted: boolean;
}

const OFFSET_DIGITS = 20;
/** Kafka topic names cannot contain '+', so the name splits unambiguously. */
const NAME = /^([a-zA-Z0-9._-]+)\+(\d+)\+(\d{20})\+(\d{20})(\+compacted)?\.parquet$/;
const COMPACTED_SUFFIX = "+compacted.parquet";

export function fileNameFor(topic: string, partition: number, firstOffset: bigint, lastOffset: bigint): string {
  return `${topic}+${partition}+${firstOffset.toString().padStart(OFFSET_DIGITS, "0")}+${lastOffset.toString().padStart(OFFSET_DIGITS, "0")}.parquet`;
}

export function parseFileName(name: string): ParquetFileName | undefined {
  const match = NAME.exec(name);
  if (!match) return undefined;
  return { topic: match[1]!, partition: Number(match[2]), firstOffset: BigInt(match[3]!), lastOffset: BigInt(match[4]!), compacted: match[5] !== undefined };
}

/** The name of a file merged by compact from files of one partition: its rows' first and last offset. */
export function compactedFileNameFor(topic: string, partition: number, firstOffset: bigint, lastOffset: bigint): string {
  return fileNameFor(topic, partition, firstOffset, lastOffset).replace(/\.parquet$/, COMPACTED_SUFFIX);
}

/** The hidden manifest beside a merged file while it replaces its originals (never matched by *.parquet). */
export function compactionManifestNameFor(mergedName: string): string {
  return `.${mergedName}.manifest.json`;
}

/** The merged file's name from its manifest's name, or undefined for any other name. */
export function mergedNameOfManifest(name: string): string | undefined {
  const match = /^\.(.+\+compacted\.parquet)\.manifest\.json$/.exec(name);
  return match?.[1];
}

/** What a compaction manifest holds: the merged file and the files (same folder) it replaces. */
export interface CompactionManifest {
  readonly merged: string;
  readonly originals: readonly string[];
  readonly rows: number;
}

export function parseCompactionManifest(text: string): CompactionManifest | undefined {
  try {
    const value = JSON.parse(text) as Partial<CompactionManifest>;
    if (typeof value.merged !== "string" || !Array.isArray(value.originals) || !value.originals.every((o) => typeof o === "string")) return undefined;
    return { merged: value.merged, originals: value.originals, rows: Number(value.rows ?? 0) };
  } catch {
    return undefined;
  }
}

export const INGEST_DATE_PREFIX = "ingest_date=";

export function ingestDateFolder(timestampMs: number): string {
  return `${INGEST_DATE_PREFIX}${new Date(timestampMs).toISOString().slice(0, 10)}`;
}

/** Files are written under this hidden name first, then renamed: readers globbing *.parquet never see them. */
export function temporaryNameFor(finalName: string): string {
  return `.${finalName}.tmp`;
}

/**
 * A stream-clean cycle's temporary file. A merged file's temporary (`.…+compacted.parquet.tmp`) is
 * not one: stream-clean's recovery must not delete it while compact writes it; compact removes its own.
 */
export const isTemporaryName = (name: string): boolean =>
  name.startsWith(".") && name.endsWith(".parquet.tmp") && !name.endsWith(`${COMPACTED_SUFFIX}.tmp`);
