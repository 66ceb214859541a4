/**
 * The ledger's numbered migrations: a ledger written by kstream 0.1.0 (schema 4, the fixture was
 * made by that release's binary: a produce run of 50 records and one rejected line, a stream-clean,
 * and a batch-measure --since-last) opens with the current code and keeps its runs, offsets,
 * rejections and measure state; a ledger at any earlier schema is brought up step by step to the
 * same tables a new ledger gets. Checked with sqlite's own view of the file, not the ledger's API alone.
 */
import { describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { copyFileSync } from "node:fs";
import { join } from "node:path";
import { ErrorCode, LedgerError } from "../../../src/errors.ts";
import { openLedger } from "../../../src/ledger/ledger.ts";
import { MIGRATIONS, migrate, SCHEMA_VERSION, schemaVersion } from "../../../src/ledger/migrations.ts";
import { tempRoot } from "../helpers.ts";

const root = tempRoot("migrations");

const FIXTURE = join(import.meta.dir, "../../fixtures/ledger/schema-4-v0.1.0.db");
const RUN_ID = "01a23119-74ea-748c-8ff8-f6252ab1bbdc";

/** Every table's columns and every index, as sqlite reports them: the schema a migration path leaves. */
function schemaOf(path: string): unknown {
  const db = new Database(path, { readonly: true });
  try {
    const tables = db.query("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[];
    return {
      version: schemaVersion(db),
      tables: Object.fromEntries(tables.map(({ name }) => [name, db.query(`SELECT name, type, "notnull", pk FROM pragma_table_info('${name}') ORDER BY cid`).all()])),
      indexes: db.query("SELECT name, tbl_name FROM sqlite_master WHERE type = 'index' ORDER BY name").all(),
    };
  } finally {
    db.close();
  }
}

describe("ledger migrations", () => {
  test("migrations are numbered 1, 2, 3 … in order, and the schema version is the last one", () => {
    expect(MIGRATIONS.map((migration) => migration.version)).toEqual(MIGRATIONS.map((_, index) => index + 1));
    expect(SCHEMA_VERSION).toBe(MIGRATIONS.length);
  });

  test("a ledger written by kstream 0.1.0 opens and keeps its runs, offsets, rejections and measure state", () => {
    const path = join(root, "old.db");
    copyFileSync(FIXTURE, path);
    const ledger = openLedger(path);
    expect(ledger.listRuns()).toEqual([
      expect.objectContaining({ id: RUN_ID, producer: "fixture-producer", topic: "ledgerfx_input", status: "completed", sent: 50, rejected: 1 }),
    ]);
    expect(ledger.offsetRanges(RUN_ID)).toEqual([
      { topic: "ledgerfx_input", partition: 0, first_offset: 0, last_offset: 25, count: 26 },
      { topic: "ledgerfx_input", partition: 1, first_offset: 0, last_offset: 23, count: 24 },
    ]);
    expect(ledger.rejections(RUN_ID)).toEqual([{ line: 51, reason: expect.stringContaining("column 1") }]);
    expect(ledger.measureOffsets("ledgerfx_staging")).toEqual(new Map([[1, 49n]]));
    const [window] = ledger.measureWindows("ledgerfx_staging");
    expect(window).toMatchObject({ windowStart: 1796119800000, windowEnd: 1796120100000, uniqueUsers: 49 });
    expect(window!.countries.get("Brazil")).toBe(8);
    // It still takes writes of both kinds.
    ledger.startRun({ id: "new", producer: "p", source: "s", topic: "ledgerfx_input" });
    ledger.recordAcks("new", "ledgerfx_input", [{ partition: 0, firstOffset: 26, count: 4 }]);
    expect(ledger.getRun("new")?.sent).toBe(4);
    ledger.close();
    expect(schemaOf(path)).toEqual(schemaOf(freshLedger("fresh-for-old.db")));
  });

  for (const from of MIGRATIONS.map((migration) => migration.version - 1)) {
    test(`a ledger at schema ${from} is migrated to the same tables as a new ledger`, () => {
      const path = join(root, `from-${from}.db`);
      const db = new Database(path, { create: true });
      migrate(db, path, from);
      expect(schemaVersion(db)).toBe(from);
      db.close();
      openLedger(path).close();
      expect(schemaOf(path)).toEqual(schemaOf(freshLedger(`fresh-${from}.db`)));
    });
  }

  test("a ledger from a newer kstream is refused with the ledger code, not opened", () => {
    const path = join(root, "newer.db");
    const db = new Database(path, { create: true });
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    let failure: unknown;
    try {
      openLedger(path);
    } catch (error) {
      failure = error;
    }
    expect(failure).toBeInstanceOf(LedgerError);
    expect((failure as LedgerError).code).toBe(ErrorCode.ledger);
  });
});

function freshLedger(name: string): string {
  const path = join(root, name);
  openLedger(path).close();
  return path;
}
