import { describe, expect, test } from "bun:test";
import { createRandom } from "../../../scripts/gen-sample.ts";
import {
  createScanState,
  ID_ESCAPED_STRING,
  ID_NONE,
  ID_NUMBER,
  ID_PLAIN_STRING,
  SCAN_ERROR,
  SCAN_INCOMPLETE,
  SCAN_OK,
  scanValue,
} from "../../../src/input/json-scan.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Scans a whole text as one complete value; returns what a reader would see. */
function scan(text: string | Uint8Array, final = true) {
  const bytes = typeof text === "string" ? encoder.encode(text) : text;
  const state = createScanState();
  scanValue(bytes, 0, bytes.length, final, state);
  const compact = state.compactLength < 0 ? bytes.subarray(0, state.end) : state.compact.subarray(0, state.compactLength);
  return {
    status: state.status,
    end: state.end,
    errorIndex: state.errorIndex,
    message: state.message,
    newlines: state.newlines,
    compact: state.status === SCAN_OK ? decoder.decode(compact) : undefined,
    id: state.status === SCAN_OK && state.idKind !== ID_NONE ? { kind: state.idKind, text: decoder.decode(compact.subarray(state.idStart, state.idEnd)) } : undefined,
  };
}

/** A valid value must scan OK to its very end. */
const accepts = (text: string) => {
  const result = scan(text);
  return result.status === SCAN_OK && result.end === encoder.encode(text).length;
};

describe("the grammar is RFC 8259, strictly", () => {
  test.each([
    "0", "-0", "1", "-1", "10", "1.5", "-0.25", "1e5", "1E+5", "1e-5", "2.5E10", "1.0", "1e400", "1152921504606846977",
    '""', '"a"', '"\\"\\\\\\/\\b\\f\\n\\r\\t"', '"\\u00e9\\uD83D\\uDE00"', '"\\ud800"', '"Zoë 日本 🎉"', '"\u007f"',
    "true", "false", "null", "[]", "{}", "[1,[2,[3]]]", '{"a":{"b":[]}}', ' [ 1 , 2 ] '.trim(), '{ "a" : 1 , "b" : [ true , null ] }',
  ])("accepts %s", (text) => {
    expect(accepts(text)).toBe(true);
  });

  test.each([
    ["01", 1, "leading zero"], ["-", 1, "end of input"], ["-a", 1, "expected a digit"], ["1.", 2, "end of input"],
    ["1.e5", 2, "after '.'"], [".5", 0, "expected a value"], ["1e", 2, "end of input"], ["1e+", 3, "end of input"],
    ["+1", 0, "expected a value"], ["NaN", 0, "expected a value"], ["Infinity", 0, "expected a value"],
    ["tru", 3, "end of input"], ["True", 0, "expected a value"], ["nul", 3, "end of input"], ["nulL", 0, "'nulL'"],
    ['"abc', 4, "end of input"], ["'a'", 0, "expected a value"], ['"a\\x"', 2, "invalid escape"], ['"\\u12G4"', 1, "\\u escape"],
    ['"a\nb"', 2, "line break inside a string"], ['"a\tb"', 2, "control character U+0009"],
    ["[1,]", 3, "expected a value, found ']'"], ["[,1]", 1, "expected a value"], ["[1 2]", 3, "expected ',' or ']'"],
    ["[1}", 2, "expected ',' or ']'"], ['{"a":1]', 6, "expected ',' or '}'"], ["{a:1}", 1, "property name"],
    ['{"a" 1}', 5, "expected ':'"], ['{"a":}', 5, "expected a value"], ['{"a":1,}', 7, "property name"], ["{,}", 1, "property name"],
    ["[", 1, "end of input"], ['{"a":[1,{"b":2}', 15, "end of input"],
  ] as const)("rejects %j at byte %d (%s)", (text, index, message) => {
    const result = scan(text);
    expect(result.status).toBe(SCAN_ERROR);
    expect(result.errorIndex).toBe(index);
    expect(result.message).toContain(message);
  });

  test("a value ends where it ends: what follows is the caller's to judge", () => {
    expect(scan('{"a":1} x')).toMatchObject({ status: SCAN_OK, end: 7 });
    expect(scan("123 456")).toMatchObject({ status: SCAN_OK, end: 3 });
    expect(scan("truex")).toMatchObject({ status: SCAN_OK, end: 4 });
  });

  test("invalid UTF-8 inside a string is an error at its first byte", () => {
    const cases: Array<[number[], number]> = [
      [[0xff], 1], // never valid
      [[0xc3, 0x28], 1], // a lead byte without its continuation
      [[0xc0, 0xaf], 1], // overlong '/'
      [[0xe0, 0x80, 0xaf], 1], // overlong
      [[0xed, 0xa0, 0x80], 1], // an encoded surrogate
      [[0xf4, 0x90, 0x80, 0x80], 1], // beyond U+10FFFF
      [[0x61, 0x80], 2], // a stray continuation byte
    ];
    for (const [inner, index] of cases) {
      const result = scan(new Uint8Array([0x22, ...inner, 0x22]));
      expect(result.status).toBe(SCAN_ERROR);
      expect(result.errorIndex).toBe(index);
      expect(result.message).toContain("UTF-8");
    }
  });

  test("a byte that is not ASCII outside a string is an error", () => {
    expect(scan(new Uint8Array([0x5b, 0xc3, 0xa9, 0x5d]))).toMatchObject({ status: SCAN_ERROR, errorIndex: 1 });
  });

  test("nesting far deeper than JSON.parse allows is scanned without a stack overflow", () => {
    const depth = 200_000;
    expect(accepts("[".repeat(depth) + "]".repeat(depth))).toBe(true);
    expect(scan("[".repeat(depth) + "]".repeat(depth - 1)).status).toBe(SCAN_ERROR);
  });
});

describe("bytes that stop short", () => {
  test("a value cut anywhere is incomplete, not an error, when more bytes may come", () => {
    const text = '{"id": -12.5e+3, "s": "a\\u00e9\\n é🎉", "t": [true, false, null], "o": {}}';
    const bytes = encoder.encode(text);
    for (let cut = 1; cut < bytes.length; cut++) {
      const state = createScanState();
      scanValue(bytes, 0, cut, false, state);
      expect([cut, state.status]).toEqual([cut, SCAN_INCOMPLETE]);
    }
  });

  test("a top-level number or literal at the end of the bytes waits for more, unless the input ends there", () => {
    expect(scan("12", false).status).toBe(SCAN_INCOMPLETE);
    expect(scan("12", true)).toMatchObject({ status: SCAN_OK, end: 2 });
    expect(scan("fals", false).status).toBe(SCAN_INCOMPLETE);
    expect(scan("false", false)).toMatchObject({ status: SCAN_OK, end: 5 });
  });

  test("an error found before the bytes run out is reported at once", () => {
    expect(scan('{"a": x', false)).toMatchObject({ status: SCAN_ERROR, errorIndex: 6 });
  });
});

describe("compact text", () => {
  test("white space outside strings goes, everything else stays byte for byte", () => {
    expect(scan('{ "a b" : [ 1.0 , 1E400 ,\n\t"x  y" ] ,\r\n "c":{ } }').compact).toBe('{"a b":[1.0,1E400,"x  y"],"c":{}}');
  });

  test("a value with nothing to remove is its own text, and line breaks inside it are counted", () => {
    expect(scan('{"a":[1,2]}').compact).toBe('{"a":[1,2]}');
    expect(scan('{\n"a":\n[1,\n2]}').newlines).toBe(3);
  });

  test("long runs between spaces are copied whole", () => {
    const long = "x".repeat(1000);
    expect(scan(`[ "${long}" , "${long}" ]`).compact).toBe(`["${long}","${long}"]`);
  });
});

describe("the id", () => {
  test.each([
    ['{"id":1}', ID_NUMBER, "1"],
    ['{ "id" : 1152921504606846977 }', ID_NUMBER, "1152921504606846977"],
    ['{"id":-3.50e1}', ID_NUMBER, "-3.50e1"],
    ['{"id":"abc"}', ID_PLAIN_STRING, '"abc"'],
    ['{"id":"a\\"b"}', ID_ESCAPED_STRING, '"a\\"b"'],
    ['{"\\u0069d":7}', ID_NUMBER, "7"],
    ['{"x":"é", "id" : "日本"}', ID_PLAIN_STRING, '"日本"'],
    ['{"id":1,"id":2}', ID_NUMBER, "2"],
  ])("%s has id %d %s", (text, kind, literal) => {
    expect<unknown>(scan(text).id).toEqual({ kind, text: literal });
  });

  test.each(['{"id":null}', '{"id":true}', '{"id":{"id":1}}', '{"id":[1]}', '{"x":{"id":1}}', '[{"id":1}]', '"id"', '{"id":1,"id":null}', '{"idx":1}'])(
    "%s has no id",
    (text) => {
      expect(scan(text).id).toBeUndefined();
    },
  );
});

describe("agrees with JSON.parse (seeded fuzz)", () => {
  const random = createRandom(20240611);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const seeds = [
    '{"id":1,"first_name":"Zoë","tags":["a","b"],"n":-1.5e3,"ok":true,"none":null}',
    '[1, 2.0, "x\\u00e9\\n", {"a": {}}, [], false]',
    '{"id": " 42 ", "nested": [[[{"k": "v"}]]], "e": 1E-7}',
    '"just a string with \\"escapes\\" and 日本"',
    "-0.0e+00",
  ];
  const pieces = ['"', "\\", "{", "}", "[", "]", ",", ":", " ", "\n", "0", "1", "-", ".", "e", "+", "t", "n", "u", "x", "\u0001", "é", "🎉", "\\u", "\\uD83D", "true", "null"];

  const mutate = (text: string): string => {
    const at = Math.floor(random() * (text.length + 1));
    const cut = Math.floor(random() * 3);
    const insert = random() < 0.7 ? pick(pieces) : "";
    return text.slice(0, at) + insert + text.slice(at + cut);
  };

  test("a text is accepted exactly when JSON.parse accepts it, and its compact form means the same", () => {
    let accepted = 0;
    for (let round = 0; round < 20_000; round++) {
      let text = pick(seeds);
      const edits = 1 + Math.floor(random() * 3);
      for (let k = 0; k < edits; k++) text = mutate(text);
      text = decoder.decode(encoder.encode(text)); // a cut surrogate pair becomes U+FFFD, as in a file
      let parsed: unknown;
      let valid = true;
      try {
        parsed = JSON.parse(text);
      } catch {
        valid = false;
      }
      const trimmed = text.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, "");
      const result = scan(trimmed);
      const ours = trimmed.length > 0 && result.status === SCAN_OK && result.end === encoder.encode(trimmed).length;
      if (ours !== valid) throw new Error(`disagreement on ${JSON.stringify(text)}: JSON.parse ${valid}, scanner ${ours} (${result.message})`);
      if (valid) {
        accepted++;
        expect(JSON.parse(result.compact!)).toEqual(parsed);
      }
    }
    expect(accepted).toBeGreaterThan(1000); // the fuzz must exercise both sides
  });
});
