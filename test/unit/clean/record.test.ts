import { describe, expect, test } from "bun:test";
import { cleanMessage, cleanParsed } from "../../../src/clean/record.ts";
import type { CleanOutcome, CleanRow, CleanRules, DeadLetterVerdict } from "../../../src/clean/types.ts";

const rules: CleanRules = { nullPlaceholder: "NULL", defaultIp: "127.127.127.127", dateFormats: ["d/M/yyyy", "yyyy-MM-dd"], windowMs: 300_000 };
const meta = { timestamp: Date.UTC(2026, 0, 2, 3, 4, 5), partition: 1, offset: 17n };
const encoder = new TextEncoder();
const clean = (text: string, withRules: CleanRules = rules) => cleanMessage(encoder.encode(text), meta, withRules);

function rowOf(outcome: CleanOutcome): CleanRow {
  if (outcome.kind !== "row") throw new Error(`expected a row, got a dead letter: ${outcome.verdict.message}`);
  return outcome.row;
}

function verdictOf(outcome: CleanOutcome): DeadLetterVerdict {
  if (outcome.kind !== "dead") throw new Error("expected a dead letter, got a row");
  return outcome.verdict;
}

describe("a record becomes a row", () => {
  test("the SPEC example becomes the expected row with its lineage", () => {
    const outcome = clean(
      '{"id":1,"first_name":"Barthel","last_name":"Kittel","email":"bkittel0@printfriendly.com","gender":"Male","ip_address":"130.187.82.195","date":"06/05/2018","country":"France"}',
    );
    expect(outcome).toEqual({
      kind: "row",
      row: {
        id: 1, first_name: "Barthel", last_name: "Kittel", email: "bkittel0@printfriendly.com", gender: "Male", ip_addr: "130.187.82.195",
        date: "06/05/2018", country: "France", timestamp: meta.timestamp, source_partition: 1, source_offset: 17n,
      },
    });
  });

  test("every rule is applied to its field", () => {
    const row = rowOf(clean(
      '{"id":" 42 ","first_name":" Zoë ","last_name":"  ","email":" A@B.COM ","gender":"\\tFemale","ip_address":"01.2.3.4","date":"2018-05-06T10:11:12Z","country":"  côte   d\'ivoire "}',
    ));
    expect(row).toMatchObject({
      id: 42, first_name: "Zoë", last_name: null, email: "a@b.com", gender: "Female", ip_addr: "127.127.127.127", date: "06/05/2018", country: "Côte D'ivoire",
    });
  });

  test("the row has exactly the Parquet columns in SPEC order: unknown fields are dropped", () => {
    const row = rowOf(clean('{"zzz":1,"id":5,"extra":{"a":1},"ip_addr":"1.2.3.4","timestamp":3,"source_offset":"99"}'));
    expect(Object.keys(row)).toEqual([
      "id", "first_name", "last_name", "email", "gender", "ip_addr", "date", "country", "timestamp", "source_partition", "source_offset",
    ]);
    expect(row).toMatchObject({ ip_addr: "127.127.127.127", timestamp: meta.timestamp, source_offset: 17n });
  });

  test("missing, null and non-string fields take their defaults", () => {
    for (const text of ['{"id":5}', '{"id":5,"first_name":null,"last_name":null,"email":null,"gender":null,"ip_address":null,"date":null,"country":null}',
      '{"id":5,"first_name":1,"last_name":[],"email":{},"gender":true,"ip_address":16909060,"date":20180506,"country":false}',
      '{"id":5,"first_name":"","last_name":" ","email":"\\n","gender":"\\u00a0","ip_address":"","date":"","country":"\\u3000"}']) {
      expect(rowOf(clean(text))).toMatchObject({
        id: 5, first_name: "NULL", last_name: null, email: "NULL", gender: null, ip_addr: "127.127.127.127", date: null, country: null,
      });
    }
  });

  test("the placeholder, the default IP and the date forms come from the rules", () => {
    const custom: CleanRules = { nullPlaceholder: "<none>", defaultIp: "0.0.0.0", dateFormats: ["M/d/yyyy"], windowMs: 60_000 };
    const row = rowOf(clean('{"id":1,"ip_address":"::1","date":"05/06/2018"}', custom));
    expect(row).toMatchObject({ first_name: "<none>", email: "<none>", ip_addr: "0.0.0.0", date: "06/05/2018" });
    expect(rowOf(clean('{"id":1,"date":"05/06/2018"}'))).toMatchObject({ date: "05/06/2018" });
  });

  test("a BOM before the JSON is ignored", () => {
    expect(rowOf(cleanMessage(new Uint8Array([0xef, 0xbb, 0xbf, ...encoder.encode('{"id":1}')]), meta, rules)).id).toBe(1);
  });

  test("a duplicated key keeps its last value, as JSON.parse does", () => {
    expect(rowOf(clean('{"id":1,"id":2,"country":"a","country":"b"}'))).toMatchObject({ id: 2, country: "B" });
  });
});

describe("a record becomes a dead letter", () => {
  test.each([
    ["{not json", "invalid_json"], ["", "invalid_json"], ["   ", "invalid_json"], ['{"id":1', "invalid_json"], ['{"id":1}x', "invalid_json"],
    ["{'id':1}", "invalid_json"], ['{"id":NaN}', "invalid_json"], ['{"id":01}', "invalid_json"], ["undefined", "invalid_json"],
    ["[1,2]", "not_an_object"], ["[]", "not_an_object"], ["null", "not_an_object"], ['"text"', "not_an_object"], ["42", "not_an_object"],
    ["true", "not_an_object"], ["{}", "invalid_id"], ['{"first_name":"x"}', "invalid_id"], ['{"id":1.5}', "invalid_id"], ['{"id":true}', "invalid_id"],
    ['{"id":"1e3"}', "invalid_id"], ['{"id":""}', "invalid_id"], ['{"id":1152921504606846976}', "invalid_id"], ['{"id":9007199254740992}', "invalid_id"],
    ['{"id":1e400}', "invalid_id"], ['{"id":null}', "invalid_id"], ['{"id":[1]}', "invalid_id"], ['{"id":{"value":1}}', "invalid_id"],
    ['{"ID":1}', "invalid_id"],
  ])("%p is dead-lettered as %p", (text, reason) => {
    expect(verdictOf(clean(text)).reason).toBe(reason as DeadLetterVerdict["reason"]);
  });

  test("a tombstone (null value) is dead-lettered as invalid_json: it holds no JSON", () => {
    expect(verdictOf(cleanMessage(null, meta, rules))).toEqual({ reason: "invalid_json", message: expect.stringContaining("tombstone") });
  });

  test.each([
    ["a stray continuation byte", [0x7b, 0x80, 0x7d]],
    ["an invalid byte", [0x22, 0xff, 0x22]],
    ["a truncated sequence", [0x22, 0xe2, 0x82, 0x22]],
    ["an overlong encoding", [0x22, 0xc0, 0xaf, 0x22]],
    ["an encoded surrogate", [0x22, 0xed, 0xa0, 0x80, 0x22]],
    ["a code point beyond U+10FFFF", [0x22, 0xf4, 0x90, 0x80, 0x80, 0x22]],
  ])("invalid UTF-8 (%s) is dead-lettered as invalid_json and says so", (_, bytes) => {
    expect(verdictOf(cleanMessage(new Uint8Array(bytes), meta, rules))).toEqual({ reason: "invalid_json", message: "the value is not valid UTF-8" });
  });

  test("a JSON syntax error carries the parser's message", () => {
    const { message } = verdictOf(clean('{"id":1,}'));
    expect(message).toStartWith("the value is not valid JSON: ");
    expect(message.length).toBeGreaterThan("the value is not valid JSON: ".length);
  });

  test("the parser's message is kept short even when it quotes a huge token", () => {
    expect(verdictOf(clean("x".repeat(1_000_000))).message.length).toBeLessThanOrEqual(240);
  });

  test("each kind of refused id is explained", () => {
    expect(verdictOf(clean("{}")).message).toBe("id is missing");
    expect(verdictOf(clean('{"id":1.5}')).message).toContain("not an integer");
    expect(verdictOf(clean('{"id":9007199254740992}')).message).toContain("safe integer");
    expect(verdictOf(clean('{"id":"abc"}')).message).toContain('"abc"');
    expect(verdictOf(clean("[1]")).message).toContain("an array");
    expect(verdictOf(clean("7")).message).toContain("a number");
  });

  test("an id nested 100 000 levels deep is an invalid_id, not a stack overflow", () => {
    const deep = `{"id":${"[".repeat(100_000)}${"]".repeat(100_000)}}`;
    expect(verdictOf(clean(deep))).toEqual({ reason: "invalid_id", message: "id is an array, not an integer" });
  });

  test.each([
    [2 ** 63], [-(2 ** 63)], [8.64e15], [-8.64e15 - 1], [Number.NaN], [1.5], [Number.POSITIVE_INFINITY],
  ])("a record with the timestamp %p, which no Date can hold, is dead-lettered as invalid_timestamp", (timestamp) => {
    const outcome = cleanMessage(encoder.encode('{"id":1}'), { ...meta, timestamp }, rules);
    expect(verdictOf(outcome).reason).toBe("invalid_timestamp");
  });

  test("a record at either end of the Date range, or before the epoch, is still a row", () => {
    for (const timestamp of [-1, 0, -8.64e15, 8.64e15 - 300_000]) {
      expect(rowOf(cleanMessage(encoder.encode('{"id":1}'), { ...meta, timestamp }, rules)).timestamp).toBe(timestamp);
    }
  });

  test("what does not parse is judged before the timestamp", () => {
    expect(verdictOf(cleanMessage(encoder.encode("nope"), { ...meta, timestamp: Number.NaN }, rules)).reason).toBe("invalid_json");
  });
});

describe("prototype safety", () => {
  test("__proto__ and constructor keys are plain data and never reach a prototype", () => {
    const row = rowOf(clean('{"id":3,"__proto__":{"email":"evil@x","country":"X"},"constructor":{"prototype":{"country":"Y"}}}'));
    expect(row).toMatchObject({ email: "NULL", country: null });
    expect(Object.getPrototypeOf(row)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).email).toBeUndefined();
    expect(({} as Record<string, unknown>).country).toBeUndefined();
  });

  test("a __proto__ key does not count as the id", () => {
    expect(verdictOf(clean('{"__proto__":{"id":1}}')).reason).toBe("invalid_id");
  });

  test("fields inherited from a polluted Object.prototype are ignored", () => {
    const prototype = Object.prototype as Record<string, unknown>;
    let withoutId: CleanOutcome;
    let withId: CleanOutcome;
    try {
      prototype.id = 7;
      prototype.email = "polluted@x";
      prototype.ip_address = "6.6.6.6";
      withoutId = clean('{"first_name":"x"}');
      withId = clean('{"id":1}');
    } finally {
      delete prototype.id;
      delete prototype.email;
      delete prototype.ip_address;
    }
    // Checked once the prototype is clean again: the matchers would see the pollution too.
    expect(verdictOf(withoutId).reason).toBe("invalid_id");
    expect(rowOf(withId)).toMatchObject({ email: "NULL", ip_addr: "127.127.127.127" });
  });

  test("cleanParsed reads own fields of an object without a prototype", () => {
    const record = Object.assign(Object.create(null) as Record<string, unknown>, { id: 9, country: "peru" });
    expect(rowOf(cleanParsed(record, meta, rules))).toMatchObject({ id: 9, country: "Peru" });
  });
});
