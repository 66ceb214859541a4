import { describe, expect, test } from "bun:test";
import { parseFlatObject } from "../../../src/clean/flat-json.ts";
import { createRandom, recordJson } from "../../../scripts/gen-sample.ts";

const FIELDS = ["id", "first_name", "last_name", "email", "gender", "ip_address", "date", "country"] as const;
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });
const encoder = new TextEncoder();

/** The exact path's reading: strict UTF-8, then JSON.parse; undefined when either refuses. */
function exact(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(strictUtf8.decode(bytes));
  } catch {
    return undefined;
  }
}

/** The fast path either gives up or agrees with JSON.parse on every field the rules read. */
function expectAgreement(bytes: Uint8Array): boolean {
  const fast = parseFlatObject(bytes);
  if (fast === undefined) return false;
  const parsed = exact(bytes) as Record<string, unknown>;
  const shown = Buffer.from(bytes).toString("hex");
  expect(typeof parsed === "object" && parsed !== null && !Array.isArray(parsed), shown).toBe(true);
  for (const field of FIELDS) {
    expect(Object.hasOwn(fast, field), `${field} of ${shown}`).toBe(Object.hasOwn(parsed, field));
    if (Object.hasOwn(parsed, field)) expect(Object.is(fast[field], parsed[field]), `${field} of ${shown}`).toBe(true);
  }
  expect(Object.keys(fast).every((key) => (FIELDS as readonly string[]).includes(key))).toBe(true);
  return true;
}

const random = createRandom(20261201); // seeded, so a failure can be replayed
const below = (n: number) => Math.floor(random() * n);
const pick = <T>(items: readonly T[]): T => items[below(items.length)]!;

describe("the flat-object fast path reads what JSON.parse reads", () => {
  test("it takes nearly every generated record, with the same fields", () => {
    let fast = 0;
    const count = 20_000;
    for (let id = 1; id <= count; id++) if (expectAgreement(encoder.encode(recordJson(id, random)))) fast++;
    expect(fast / count).toBeGreaterThan(0.9);
  });

  test("byte-level mutations of generated records: it gives up or agrees", () => {
    const inserts = [[0xff], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xef, 0xbb, 0xbf], [0x20], [0x09], [0x0b], [0x00], [0x22], [0x5c], [0x2c], [0x7d], [0x7b],
      [0x5b], [0x30], [0x2d], [0x2e], [0x65], [0x2b], [0xf0, 0x9f, 0x98, 0x80], [0xc3, 0xa9], [0x5c, 0x75, 0x64, 0x38, 0x30, 0x30]];
    for (let id = 1; id <= 20_000; id++) {
      const bytes = encoder.encode(recordJson(id, random));
      const at = below(bytes.length + 1);
      let mutated: Uint8Array;
      switch (below(4)) {
        case 0: mutated = Buffer.concat([bytes.subarray(0, at), Buffer.from(pick(inserts)), bytes.subarray(at)]); break;
        case 1: mutated = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + 1)]); break;
        case 2: mutated = bytes.subarray(0, at); break;
        default: mutated = Buffer.from(bytes); mutated[Math.min(at, bytes.length - 1)] = below(256);
      }
      expectAgreement(mutated);
    }
  });

  test("numbers, literals, escapes, repeated keys and white space", () => {
    const values = ["0", "-0", "1", "-1", "1.0", "1.5", "1e3", "1E+3", "1e-3", "-0.0", "123456789012345", "1234567890123456", "9007199254740993",
      "12345678901234567890", "1e400", "-1e400", "5e-400", "0.1", "01", "1.", ".5", "-", "+1", "1e", "0x1", "true", "false", "null", "tru", "nul",
      '""', '" "', '"a\\"b"', '"\\u00e9"', '"\\ud800"', '"\\uD83D\\uDE00"', '"\\n\\t\\/"', '"\\x"', '"é"', '"😀"', '"\t"', "[]", "{}", '"NULL"'];
    for (const value of values) {
      for (const field of ["id", "email", "country", "other"]) {
        for (const text of [`{"${field}":${value}}`, ` {\n"${field}" : ${value} ,"id":7}\r\n`, `{"${field}":1,"${field}":${value}}`, `{"${field}":${value},}`]) {
          expectAgreement(encoder.encode(text));
        }
      }
    }
  });

  test("an escape in a key, a byte-order mark, a top-level non-object and trailing data are left to JSON.parse", () => {
    for (const text of ['{"\\u0069d":1}', '\ufeff{"id":1}', "[1]", '"x"', "1", '{"id":1} x', '{"id":1}{}', "", " ", "{", '{"id":1', '{"id"}', "{,}"]) {
      expect(parseFlatObject(encoder.encode(text))).toBeUndefined();
    }
  });

  test("a key that is an Object.prototype name stays data", () => {
    const fields = parseFlatObject(encoder.encode('{"__proto__":{"id":1},"constructor":1,"toString":2}'));
    expect(fields).toBeUndefined(); // a nested object: the exact path
    const flat = parseFlatObject(encoder.encode('{"__proto__":1,"constructor":1,"toString":2}'))!;
    expect(Object.keys(flat)).toEqual([]);
    expect(Object.hasOwn(flat, "id")).toBe(false);
  });
});
