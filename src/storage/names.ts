/**
 * Where a Parquet file goes and what its name says: `ingest_date=YYYY-MM-DD/` (UTC date of the
 * Kafka timestamp) and `<topic>+<partition>+<first offset>+<last offset>.parquet`, offsets padded
 * to 20 digits so lexical order is offset order. recon and recovery read these names instead of
 * opening files.
 */
export interface ParquetFileName {
  readonly topic: string;
  readonly partition: number;
  readonly firstOffset: bigint;
  readonly lastOffset: bigint;
}

const OFFSET_DIGITS = 20;
/** Kafka topic names cannot contain '+', so the name splits unambiguously. */
const NAME = /^([a-zA-Z0-9._-]+)\+(\d+)\+(\d{20})\+(\d{20})\.parquet$/;

export function fileNameFor(topic: string, partition: number, firstOffset: bigint, lastOffset: bigint): string {
  return `${topic}+${partition}+${firstOffset.toString().padStart(OFFSET_DIGITS, "0")}+${lastOffset.toString().padStart(OFFSET_DIGITS, "0")}.parquet`;
}

export function parseFileName(name: string): ParquetFileName | undefined {
  const match = NAME.exec(name);
  if (!match) return undefined;
  return { topic: match[1]!, partition: Number(match[2]), firstOffset: BigInt(match[3]!), lastOffset: BigInt(match[4]!) };
}

export const INGEST_DATE_PREFIX = "ingest_date=";

export function ingestDateFolder(timestampMs: number): string {
  return `${INGEST_DATE_PREFIX}${new Date(timestampMs).toISOString().slice(0, 10)}`;
}

/** Files are written under this hidden name first, then renamed: readers globbing *.parquet never see them. */
export function temporaryNameFor(finalName: string): string {
  return `.${finalName}.tmp`;
}

export const isTemporaryName = (name: string): boolean => name.startsWith(".") && name.endsWith(".parquet.tmp");
