import { describe, expect, test } from "bun:test";
import { DEAD_LETTER_REASONS } from "../../../src/clean/types.ts";
import { OutcomeReader, OutcomeWriter, packRecords, readRecords, type RecordIn } from "../../../src/stream/worker-protocol.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

describe("packed records", () => {
  test("offsets, timestamps and values come back as they went, nulls and empty values included", () => {
    const records: RecordIn[] = [
      { offset: 0n, timestamp: 1_764_590_000_000, value: bytes('{"id":1}') },
      { offset: 9_007_199_254_740_993n, timestamp: Number.NaN, value: null },
      { offset: 42n, timestamp: -5, value: new Uint8Array(0) },
      { offset: 43n, timestamp: 7, value: bytes("héllo, ✓") },
    ];
    const packed = readRecords(packRecords(records));
    expect(packed.count).toBe(4);
    for (let index = 0; index < records.length; index++) {
      expect(packed.offset(index)).toBe(records[index]!.offset);
      expect(Object.is(packed.timestamp(index), records[index]!.timestamp)).toBe(true);
      expect(packed.value(index)).toEqual(records[index]!.value);
    }
  });

  test("a value is a view of the one buffer, not a copy", () => {
    const buffer = packRecords([{ offset: 1n, timestamp: 1, value: bytes("abc") }]);
    expect(readRecords(buffer).value(0)!.buffer).toBe(buffer);
  });

  test("no records pack into a buffer that reads back as none", () => {
    expect(readRecords(packRecords([])).count).toBe(0);
  });
});

describe("packed outcomes", () => {
  test("rows and dead letters come back in record order with their key, partition, size and verdict", () => {
    const writer = new OutcomeWriter();
    writer.row("2026-12-01T10:00:00.000Z", 3, '{"users":"a@b.c"}');
    writer.row("2026-12-01T10:00:00.000Z", 3, '{"users":"ü@b.c"}');
    writer.dead({ reason: "invalid_json", message: "the value is not valid JSON: Unexpected token ✗" });
    writer.row("2026-12-01T10:05:00.000Z", 0, "{}");
    const reader = new OutcomeReader(writer.finish());
    expect(reader.count).toBe(4);
    const first = reader.next();
    expect(first).toMatchObject({ kind: "row", key: "2026-12-01T10:00:00.000Z", partition: 3, size: 17 });
    expect(first.kind === "row" && first.value.toString()).toBe('{"users":"a@b.c"}');
    const second = reader.next();
    expect(second.kind === "row" && [second.key, second.value.toString(), second.size]).toEqual(["2026-12-01T10:00:00.000Z", '{"users":"ü@b.c"}', 17]);
    expect(reader.next()).toEqual({ kind: "dead", verdict: { reason: "invalid_json", message: "the value is not valid JSON: Unexpected token ✗" } });
    expect(reader.next()).toMatchObject({ kind: "row", key: "2026-12-01T10:05:00.000Z", partition: 0 });
  });

  test("a row's value is a Buffer the produce encoder takes as bytes", () => {
    const writer = new OutcomeWriter();
    writer.row("k", 1, "value");
    const outcome = new OutcomeReader(writer.finish()).next();
    expect(outcome.kind === "row" && Buffer.isBuffer(outcome.value)).toBe(true);
  });

  test("every dead-letter reason survives the trip", () => {
    const writer = new OutcomeWriter();
    for (const reason of DEAD_LETTER_REASONS) writer.dead({ reason, message: reason });
    const reader = new OutcomeReader(writer.finish());
    for (const reason of DEAD_LETTER_REASONS) expect(reader.next()).toEqual({ kind: "dead", verdict: { reason, message: reason } });
  });

  test("outcomes far larger than the writer's first buffer grow it without losing any", () => {
    const writer = new OutcomeWriter();
    const big = "x".repeat(300_000);
    for (let index = 0; index < 5; index++) writer.row(`key${index % 2}`, index, `${big}${index}`);
    const reader = new OutcomeReader(writer.finish());
    for (let index = 0; index < 5; index++) {
      const outcome = reader.next();
      expect(outcome.kind === "row" && [outcome.key, outcome.partition, outcome.value.toString()]).toEqual([`key${index % 2}`, index, `${big}${index}`]);
    }
  });

  test("a corrupt outcome is refused, not read as something else", () => {
    const buffer = new ArrayBuffer(5);
    new DataView(buffer).setUint32(0, 1, true);
    new Uint8Array(buffer)[4] = 7;
    expect(() => new OutcomeReader(buffer).next()).toThrow(/neither a row nor a dead letter/);
  });
});
