import { describe, expect, test } from "bun:test";
import { cleanMessage, cleanParsed } from "../../../src/clean/record.ts";
import { stagingMessage } from "../../../src/clean/staging.ts";
import type { CleanOutcome, CleanRow, CleanRules } from "../../../src/clean/types.ts";
import { windowOf } from "../../../src/clean/window.ts";
import { createRandom, makeRecord } from "../../../scripts/gen-sample.ts";

const rules: CleanRules = { nullPlaceholder: "NULL", defaultIp: "127.127.127.127", dateFormats: ["d/M/yyyy", "yyyy-MM-dd"], windowMs: 300_000 };
const meta = { timestamp: Date.UTC(2026, 0, 2, 3, 4, 5), partition: 1, offset: "17" };
const encode = (text: string) => new TextEncoder().encode(text);
const clean = (text: string) => cleanMessage(encode(text), meta, rules);

describe("cleanMessage", () => {
  test("the SPEC example becomes the expected row with lineage", () => {
    const outcome = clean('{"id":1,"first_name":"Barthel","last_name":"Kittel","email":"bkittel0@printfriendly.com","gender":"Male","ip_address":"130.187.82.195","date":"06/05/2018","country":"France"}');
    expect(outcome).toEqual({
      kind: "row",
      row: {
        id: 1, first_name: "Barthel", last_name: "Kittel", email: "bkittel0@printfriendly.com", gender: "Male",
        ip_addr: "130.187.82.195", date: "06/05/2018", country: "France", timestamp: meta.timestamp, source_partition: 1, source_offset: "17",
      },
    });
  });

  test("unknown fields are dropped and missing ones get their defaults", () => {
    const outcome = clean('{"id":"5","extra":{"a":1},"first_name":"  "}');
    expect(outcome.kind).toBe("row");
    const row = (outcome as { row: CleanRow }).row;
    expect(Object.keys(row)).toEqual([
      "id", "first_name", "last_name", "email", "gender", "ip_addr", "date", "country", "timestamp", "source_partition", "source_offset",
    ]);
    expect(row).toMatchObject({ id: 5, first_name: "NULL", last_name: null, email: "NULL", gender: null, ip_addr: "127.127.127.127", date: null, country: null });
  });

  test.each([
    ["{not json", "invalid_json"],
    ["", "invalid_json"],
    ["[1,2]", "not_an_object"],
    ["null", "not_an_object"],
    ['"text"', "not_an_object"],
    ["42", "not_an_object"],
    ['{"first_name":"x"}', "invalid_id"],
    ['{"id":1.5}', "invalid_id"],
    ['{"id":true}', "invalid_id"],
    ['{"id":1152921504606846976}', "invalid_id"],
    ['{"id":null}', "invalid_id"],
  ])("%p is dead-lettered as %p", (text, reason) => {
    const outcome = clean(text);
    expect(outcome.kind).toBe("dead");
    expect((outcome as { verdict: { reason: string } }).verdict.reason).toBe(reason);
  });

  test("a tombstone (null value) and invalid UTF-8 are dead letters, not crashes", () => {
    expect(cleanMessage(null, meta, rules)).toMatchObject({ kind: "dead", verdict: { reason: "invalid_json" } });
    expect(cleanMessage(new Uint8Array([0x7b, 0xff, 0x7d]), meta, rules)).toMatchObject({ kind: "dead", verdict: { reason: "invalid_json" } });
  });

  test("__proto__ and constructor keys are plain data and never reach the prototype", () => {
    const outcome = clean('{"id":3,"__proto__":{"email":"evil@x"},"constructor":{"prototype":{"country":"X"}}}');
    expect(outcome).toMatchObject({ kind: "row", row: { email: "NULL", country: null } });
    expect(({} as Record<string, unknown>).email).toBeUndefined();
  });
});

describe("staging message", () => {
  test("key is the window start and the value is the SPEC's JSON", () => {
    const outcome = clean('{"id":1,"email":"A@B.c","country":"france"}') as { row: CleanRow };
    const message = stagingMessage(outcome.row, rules.windowMs);
    expect(message.key).toBe("2026-01-02T03:00:00.000Z");
    expect(JSON.parse(message.value)).toEqual({
      time_window: { start: "2026-01-02T03:00:00.000Z", end: "2026-01-02T03:05:00.000Z" },
      country: "France",
      users: "a@b.c",
    });
  });

  test("a null country stays null in the value", () => {
    const outcome = clean('{"id":1}') as { row: CleanRow };
    expect(JSON.parse(stagingMessage(outcome.row, rules.windowMs).value)).toMatchObject({ country: null, users: "NULL" });
  });
});

describe("windows", () => {
  test("windows are tumbling, epoch-aligned and half-open", () => {
    expect(windowOf(0, 300_000)).toEqual({ start: 0, end: 300_000 });
    expect(windowOf(299_999, 300_000)).toEqual({ start: 0, end: 300_000 });
    expect(windowOf(300_000, 300_000)).toEqual({ start: 300_000, end: 600_000 });
    expect(windowOf(-1, 300_000)).toEqual({ start: -300_000, end: 0 });
  });
});

describe("hostile input (seeded fuzz)", () => {
  const random = createRandom(7);
  const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)]!;
  const randomBytes = (length: number) => Uint8Array.from({ length }, () => Math.floor(random() * 256));
  const randomValue = (depth: number): unknown => {
    const kind = Math.floor(random() * (depth > 3 ? 6 : 8));
    switch (kind) {
      case 0: return null;
      case 1: return random() < 0.5;
      case 2: return pick([0, -1, 1.5, 2 ** 53, 2 ** 60, 1e308, -0, 42]);
      case 3: return pick(["", " ", "x".repeat(Math.floor(random() * 50)), "1.2.3.4", "29/02/2019", "2018-05-06T", " 42 ", "NaN", "Infinity", "\u0000", "\ud800"]);
      case 4: return pick(["__proto__", "constructor", "prototype", "toString"]);
      case 5: return String(Math.floor(random() * 1e6));
      case 6: return Array.from({ length: Math.floor(random() * 4) }, () => randomValue(depth + 1));
      default: {
        const object: Record<string, unknown> = {};
        for (const key of ["id", "first_name", "last_name", "email", "gender", "ip_address", "date", "country", "__proto__", "constructor"]) {
          if (random() < 0.6) object[key] = randomValue(depth + 1);
        }
        return object;
      }
    }
  };

  const checkRow = (outcome: CleanOutcome) => {
    if (outcome.kind !== "row") return;
    const { row } = outcome;
    expect(Number.isSafeInteger(row.id)).toBe(true);
    expect(row.ip_addr === rules.defaultIp || /^\d{1,3}(\.\d{1,3}){3}$/.test(row.ip_addr)).toBe(true);
    expect(row.date === null || /^\d{2}\/\d{2}\/\d{4}$/.test(row.date)).toBe(true);
  };

  test("random bytes, random JSON, deep nesting and huge strings all end as a row or a dead letter", () => {
    const inputs: Uint8Array[] = [
      encode("[".repeat(100_000) + "]".repeat(100_000)),
      encode(`{"id":1,"first_name":"${"x".repeat(10_000_000)}"}`),
      encode(`{"id":1,"nested":${'{"a":'.repeat(5000)}1${"}".repeat(5000)}}`),
    ];
    for (let i = 0; i < 3000; i++) inputs.push(randomBytes(Math.floor(random() * 64)));
    for (let i = 0; i < 5000; i++) inputs.push(encode(JSON.stringify(randomValue(0)) ?? "null"));
    for (const input of inputs) {
      let outcome: CleanOutcome | undefined;
      expect(() => {
        outcome = cleanMessage(input, meta, rules);
      }).not.toThrow();
      expect(["row", "dead"]).toContain(outcome!.kind);
      checkRow(outcome!);
    }
  });

  test("cleaning a cleaned row changes nothing (idempotent)", () => {
    let rows = 0;
    const inputs = [
      ...Array.from({ length: 5000 }, () => randomValue(0)),
      ...Array.from({ length: 2000 }, (_, i) => makeRecord(i + 1, random)), // realistic dirty records
    ];
    for (const input of inputs) {
      const outcome = cleanParsed(input, meta, rules);
      if (outcome.kind !== "row") continue;
      rows++;
      const { row } = outcome;
      const again = cleanParsed({ ...row, ip_address: row.ip_addr }, meta, rules);
      expect(again).toEqual(outcome);
    }
    expect(rows).toBeGreaterThan(1000);
  });
});
