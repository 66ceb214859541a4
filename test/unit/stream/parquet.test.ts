import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { parquetMetadata, parquetReadObjects } from "hyparquet";
import { readOffsetIndex } from "hyparquet/src/indexes.js";
import { ByteWriter, ParquetWriter } from "hyparquet-writer";
import fc from "fast-check";
import type { CleanRow } from "../../../src/clean/types.ts";
import { IoError } from "../../../src/errors.ts";
import { compactedFileNameFor, compactionManifestNameFor, fileNameFor, ingestDateFolder, isTemporaryName, mergedNameOfManifest, parseFileName } from "../../../src/storage/names.ts";
import { writeParquetAtomically } from "../../../src/stream/parquet-writer.ts";
import { createDatedRows, createPartitionSink } from "../../../src/stream/partition-sink.ts";
import { COLUMN_NAMES, encodeParquet, type ParquetColumns, SCHEMA } from "../../../src/storage/parquet-format.ts";
import { listParquetFiles } from "../../../src/storage/listing.ts";
import { createLocalStore } from "../../../src/storage/local-store.ts";
import { RecoveryError, recoverPartition } from "../../../src/stream/recovery.ts";
import { createRowBuffer } from "../../../src/stream/row-buffer.ts";
import { tempRoot } from "../helpers.ts";

const root = tempRoot("parquet");

const row = (offset: bigint, overrides: Partial<CleanRow> = {}): CleanRow => ({
  id: Number(offset % 1000n) + 1,
  first_name: "Zoë 日本 🎉",
  last_name: offset % 2n ? null : "Kittel",
  email: "a@b.c",
  gender: null,
  ip_addr: "10.0.0.1",
  date: offset % 3n ? "06/05/2018" : null,
  country: "Côte D'ivoire",
  timestamp: Date.UTC(2026, 10, 25, 23, 59, 59, 999),
  source_partition: 2,
  source_offset: offset,
  ...overrides,
});

describe("file names", () => {
  test("a name carries topic, partition and the offset range, and parses back", () => {
    const name = fileNameFor("test_input", 2, 100n, 9007199254740993n);
    expect(name).toBe("test_input+2+00000000000000000100+00009007199254740993.parquet");
    expect(parseFileName(name)).toEqual({ topic: "test_input", partition: 2, firstOffset: 100n, lastOffset: 9007199254740993n, compacted: false });
    expect(parseFileName(".x+1+2+3.parquet.tmp")).toBeUndefined();
  });

  test("a merged file's name says so, parses back, and its temporary is not a cycle's (stream-clean's recovery leaves it)", () => {
    const name = compactedFileNameFor("test_input", 0, 5n, 900n);
    expect(name).toBe("test_input+0+00000000000000000005+00000000000000000900+compacted.parquet");
    expect(parseFileName(name)).toEqual({ topic: "test_input", partition: 0, firstOffset: 5n, lastOffset: 900n, compacted: true });
    expect(isTemporaryName(`.${name}.tmp`)).toBe(false);
    expect(isTemporaryName(`.${fileNameFor("test_input", 0, 5n, 9n)}.tmp`)).toBe(true);
    expect(mergedNameOfManifest(compactionManifestNameFor(name))).toBe(name);
    expect(parseFileName(compactionManifestNameFor(name))).toBeUndefined();
  });

  test("lexical order of names is offset order", () => {
    const names = [5n, 100n, 20n, 3n].map((offset) => fileNameFor("t", 0, offset, offset));
    expect([...names].sort()).toEqual([3n, 5n, 20n, 100n].map((offset) => fileNameFor("t", 0, offset, offset)));
  });

  test("the folder is the UTC date of the Kafka timestamp, named so Hive readers don't confuse it with the date column", () => {
    expect(ingestDateFolder(Date.UTC(2026, 10, 25, 23, 59, 59, 999))).toBe("ingest_date=2026-11-25");
    expect(ingestDateFolder(Date.UTC(2026, 10, 26))).toBe("ingest_date=2026-11-26");
  });
});

describe("writing Parquet", () => {
  test("a written file reads back with hyparquet and DuckDB: columns, order, types, nulls, unicode, int64 offsets", async () => {
    const dir = join(root, "write");
    const buffer = createRowBuffer();
    const big = 9007199254740993n; // beyond 2^53: must stay exact
    for (let i = 0n; i < 5n; i++) buffer.append(row(big + i));
    const file = writeParquetAtomically(dir, fileNameFor("t", 2, big, big + 4n), buffer.columns(), { codec: "snappy" });
    expect(file.rows).toBe(5);

    const bytes = await Bun.file(file.path).arrayBuffer();
    const rows = (await parquetReadObjects({ file: bytes })) as Array<Record<string, unknown>>;
    expect(Object.keys(rows[0]!)).toEqual([
      "id", "first_name", "last_name", "email", "gender", "ip_addr", "date", "country", "timestamp", "source_partition", "source_offset",
    ]);
    expect(rows[0]).toMatchObject({ first_name: "Zoë 日本 🎉", last_name: null, gender: null, source_offset: big });

    const db = await DuckDBInstance.create();
    const connection = await db.connect();
    const described = await connection.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${file.path}')`);
    expect(described.getRows().map((r) => `${r[0]}:${r[1]}`)).toEqual([
      "id:BIGINT", "first_name:VARCHAR", "last_name:VARCHAR", "email:VARCHAR", "gender:VARCHAR", "ip_addr:VARCHAR",
      "date:VARCHAR", "country:VARCHAR", "timestamp:TIMESTAMP WITH TIME ZONE", "source_partition:INTEGER", "source_offset:BIGINT",
    ]);
    const values = await connection.runAndReadAll(
      `SELECT min(source_offset)::VARCHAR, max(source_offset)::VARCHAR, count(*) FILTER (WHERE last_name IS NULL), epoch_ms(min(timestamp)) FROM read_parquet('${file.path}')`,
    );
    expect(values.getRows()[0]).toEqual([String(big), String(big + 4n), 3n, BigInt(Date.UTC(2026, 10, 25, 23, 59, 59, 999))]);
  });

  test.each([
    ["snappy", undefined, "SNAPPY"],
    ["zstd", undefined, "ZSTD"],
    ["zstd", 19, "ZSTD"],
    ["gzip", 9, "GZIP"],
    ["lz4_raw", undefined, "LZ4_RAW"],
    ["uncompressed", undefined, "UNCOMPRESSED"],
  ] as const)("a file written with %s (level %p) is compressed with that codec and reads back whole in DuckDB", async (codec, level, recorded) => {
    const dir = join(root, `codec-${codec}-${level}`);
    const buffer = createRowBuffer();
    for (let i = 0n; i < 3000n; i++) buffer.append({ ...row(i), email: `user${i % 500n}@example.com`, country: i % 3n === 0n ? null : "France" });
    const file = writeParquetAtomically(dir, fileNameFor("t", 0, 0n, 2999n), buffer.columns(), { codec, ...(level !== undefined && { level }) });
    const db = await DuckDBInstance.create();
    const connection = await db.connect();
    const codecs = await connection.runAndReadAll(`SELECT DISTINCT compression FROM parquet_metadata('${file.path}')`);
    expect(codecs.getRows().map((r) => String(r[0]))).toEqual([recorded]);
    const values = await connection.runAndReadAll(
      `SELECT count(*), count(DISTINCT email), count(country), sum(source_offset)::VARCHAR, min(first_name) FROM read_parquet('${file.path}')`,
    );
    expect(values.getRows()[0]).toEqual([3000n, 500n, 2000n, String((2999 * 3000) / 2), "Zoë 日本 🎉"]);
  });

  test("a write that fails leaves no temporary file and names the path", () => {
    const blocker = join(root, "blocker");
    writeFileSync(blocker, "a file where a folder should be");
    const buffer = createRowBuffer();
    buffer.append(row(1n));
    expect(() => writeParquetAtomically(join(blocker, "sub"), "t+0+1+1.parquet", buffer.columns(), { codec: "snappy" })).toThrow(IoError);
    expect(() => writeParquetAtomically(join(blocker, "sub"), "t+0+1+1.parquet", buffer.columns(), { codec: "snappy" })).toThrow(join(blocker, "sub"));
  });

  test("the sink writes one file per ingest date, named by the rows' min and max offsets", async () => {
    const dir = join(root, "sink");
    const sink = createPartitionSink({ store: createLocalStore(dir), topic: "t", partition: 0, compression: { codec: "snappy" } });
    const day1 = Date.UTC(2026, 0, 1, 23, 59);
    const day2 = Date.UTC(2026, 0, 2, 0, 1);
    sink.append(row(10n, { timestamp: day1 }));
    sink.append(row(11n, { timestamp: day2 }));
    sink.append(row(12n, { timestamp: day1 })); // out-of-order timestamps across midnight
    expect(sink.rowCount).toBe(3);
    const files = await sink.flush();
    expect(files.map((f) => f.path.slice(dir.length + 1)).sort()).toEqual([
      `ingest_date=2026-01-01/${fileNameFor("t", 0, 10n, 12n)}`,
      `ingest_date=2026-01-02/${fileNameFor("t", 0, 11n, 11n)}`,
    ]);
    expect(sink.rowCount).toBe(0);
    expect(await sink.flush()).toEqual([]);
  });
});

describe("a cycle's rows by ingest date, a row group at a time", () => {
  test("a file of more rows than a group holds has several row groups, and DuckDB reads the same rows in order", async () => {
    const dir = join(root, "groups");
    mkdirSync(dir, { recursive: true });
    const dated = createDatedRows("t", 2, { codec: "snappy" }, 7);
    const day1 = Date.UTC(2026, 0, 1, 12);
    const day2 = Date.UTC(2026, 0, 2, 12);
    // 30 rows of day 1 (four groups of 7, then 2) between 5 of day 2, offsets 100-134.
    for (let i = 0n; i < 35n; i++) dated.append(row(100n + i, { timestamp: i % 7n === 3n ? day2 : day1, email: `u${i}@x` }));
    expect(dated.rowCount).toBe(35);
    const files = dated.encode();
    expect(dated.rowCount).toBe(0);
    expect(files.map((f) => [f.key, f.rows])).toEqual([
      [`ingest_date=2026-01-01/${fileNameFor("t", 2, 100n, 134n)}`, 30],
      [`ingest_date=2026-01-02/${fileNameFor("t", 2, 103n, 131n)}`, 5],
    ]);
    const path = join(dir, "day1.parquet");
    writeFileSync(path, files[0]!.bytes);
    const connection = await (await DuckDBInstance.create()).connect();
    const groups = await connection.runAndReadAll(`SELECT row_group_id, row_group_num_rows FROM parquet_metadata('${path}') WHERE path_in_schema = 'email' ORDER BY row_group_id`);
    expect(groups.getRows().map((r) => Number(r[1]))).toEqual([7, 7, 7, 7, 2]);
    const emails = await connection.runAndReadAll(`SELECT email, source_offset FROM read_parquet('${path}')`);
    const expected = Array.from({ length: 35 }, (_, i) => i).filter((i) => i % 7 !== 3);
    expect(emails.getRows().map((r) => [String(r[0]), Number(r[1])])).toEqual(expected.map((i) => [`u${i}@x`, 100 + i]));
  });

  test("a file of one group is byte for byte what encodeParquet writes of its rows, and cleared rows are gone", () => {
    const dated = createDatedRows("t", 0, { codec: "zstd" }, 100);
    const buffer = createRowBuffer();
    for (let i = 0n; i < 40n; i++) {
      dated.append(row(i));
      buffer.append(row(i));
    }
    expect(Buffer.from(dated.encode()[0]!.bytes).equals(Buffer.from(encodeParquet(buffer.columns(), { codec: "zstd" })))).toBe(true);
    for (let i = 0n; i < 250n; i++) dated.append(row(i));
    dated.clear();
    dated.append(row(7n));
    expect(dated.encode().map((f) => f.rows)).toEqual([1]);
  });
});

describe("page size", () => {
  /** The file hyparquet-writer writes of `columns` with its default page size (1 MiB), uncompressed: the reference. */
  const withDefaultPages = (columns: ParquetColumns): Uint8Array => {
    const writer = new ByteWriter();
    const parquet = new ParquetWriter({ writer, schema: SCHEMA as never, codec: "UNCOMPRESSED", createdBy: "kstream" });
    const statistics = new Set(["gender", "date", "country", "timestamp", "source_partition"]);
    parquet.write({ columnData: COLUMN_NAMES.map((name) => ({ name, data: columns[name], statistics: statistics.has(name) })), rowGroupSize: 100_000 });
    parquet.finish();
    return new Uint8Array(writer.getBuffer());
  };
  const columnsOf = (rows: number, firstName: (i: number) => string) => {
    const buffer = createRowBuffer();
    for (let i = 0; i < rows; i++) buffer.append(row(BigInt(i), { first_name: firstName(i) }));
    return buffer.columns();
  };

  test("columns that each fit one page are written byte for byte as with the default page size", () => {
    const columns = columnsOf(5_000, (i) => `name ${i}`);
    expect(Buffer.from(encodeParquet(columns, { codec: "uncompressed" })).equals(Buffer.from(withDefaultPages(columns)))).toBe(true);
  });

  /** first_name of `columns` is written in two pages, and the file byte for byte as with the default page size. */
  const expectTwoPagesAsDefault = async (columns: ParquetColumns) => {
    const bytes = encodeParquet(columns, { codec: "uncompressed" });
    expect(Buffer.from(bytes).equals(Buffer.from(withDefaultPages(columns)))).toBe(true);
    const offsetIndex = await readOffsetIndexOf(bytes, "first_name");
    expect(offsetIndex.page_locations.length).toBe(2);
  };

  test("a column past one page is still cut into pages of the default size, byte for byte", async () => {
    // 3,000 names of 500 characters: about 1.5 MB in one column chunk, two pages.
    await expectTwoPagesAsDefault(columnsOf(3_000, (i) => `${i}`.padEnd(500, "x")));
  });

  test("a text's UTF-8 length as the one-page check counts it (Buffer.byteLength) is what TextEncoder writes of it, lone surrogates and pairs included", () => {
    const encoder = new TextEncoder();
    fc.assert(fc.property(fc.string({ unit: fc.oneof(fc.constantFrom("a", "é", "€", "😀", "\ud800", "\udc00"), fc.string({ unit: "binary" })), maxLength: 40 }), (text) => {
      expect(Buffer.byteLength(text, "utf8")).toBe(encoder.encode(text).length);
    }), { numRuns: 2_000 });
  });

  test("text past one page in UTF-8 bytes, though not in characters, is cut into pages as with the default page size", async () => {
    // 3,000 names of 200 Hangul syllables: 600,000 characters but 1.8 MB of UTF-8, which is what a page holds.
    await expectTwoPagesAsDefault(columnsOf(3_000, (i) => `${i}`.padEnd(200, "김")));
  });
});

/** The offset index (page locations) of one column of the file's first row group. */
async function readOffsetIndexOf(bytes: Uint8Array, column: string) {
  const arrayBuffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  const metadata = parquetMetadata(arrayBuffer);
  const chunk = metadata.row_groups[0]!.columns.find((c) => c.meta_data?.path_in_schema[0] === column)!;
  const start = Number(chunk.offset_index_offset);
  return readOffsetIndex({ view: new DataView(arrayBuffer, start, chunk.offset_index_length!), offset: 0 });
}

describe("recovery", () => {
  function layout(name: string, files: Array<[number, bigint, bigint]>, temporary: string[] = []): string {
    const dir = join(root, name);
    const folder = join(dir, "ingest_date=2026-01-01");
    mkdirSync(folder, { recursive: true });
    for (const [partition, first, last] of files) writeFileSync(join(folder, fileNameFor("t", partition, first, last)), "x");
    for (const tmp of temporary) writeFileSync(join(folder, tmp), "partial");
    return dir;
  }

  test("files at or beyond the committed offset and temporary leftovers are deleted; committed files and other partitions stay", async () => {
    const dir = layout("recover", [[0, 0n, 99n], [0, 100n, 149n], [0, 150n, 199n], [1, 150n, 300n]], [`.${fileNameFor("t", 0, 200n, 250n)}.tmp`]);
    const result = await recoverPartition(createLocalStore(dir), "t", 0, 100n);
    expect(result.kept).toBe(1);
    expect(result.deleted.length).toBe(3);
    const left = readdirSync(join(dir, "ingest_date=2026-01-01")).sort();
    expect(left).toEqual([fileNameFor("t", 0, 0n, 99n), fileNameFor("t", 1, 150n, 300n)].sort());
  });

  test("a file straddling the committed offset stops recovery instead of deleting committed rows", async () => {
    const dir = layout("straddle", [[0, 90n, 110n]]);
    expect(recoverPartition(createLocalStore(dir), "t", 0, 100n)).rejects.toBeInstanceOf(RecoveryError);
    expect(existsSync(join(dir, "ingest_date=2026-01-01", fileNameFor("t", 0, 90n, 110n)))).toBe(true);
  });

  test("a missing Parquet folder is an empty one", async () => {
    expect(await recoverPartition(createLocalStore(join(root, "nothing-here")), "t", 0, 0n)).toEqual({ deleted: [], kept: 0 });
    expect(listParquetFiles(join(root, "nothing-here"))).toEqual([]);
  });
});
