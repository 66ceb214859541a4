import { describe, expect, test } from "bun:test";
import { InputSyntaxError } from "../../../src/errors.ts";
import { type InputItem, readElements } from "../../../src/input/read-elements.ts";

const encoder = new TextEncoder();

async function* chunked(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

async function* splitAt(bytes: Uint8Array, cut: number): AsyncGenerator<Uint8Array> {
  yield bytes.subarray(0, cut);
  yield bytes.subarray(cut);
}

async function collect(input: string | Uint8Array, chunks?: (bytes: Uint8Array) => AsyncIterable<Uint8Array>): Promise<InputItem[]> {
  const bytes = typeof input === "string" ? encoder.encode(input) : input;
  const items: InputItem[] = [];
  for await (const item of readElements(chunks ? chunks(bytes) : chunked(bytes, 1 << 16), "in.json")) items.push(item);
  return items;
}

async function syntaxError(input: string): Promise<InputSyntaxError> {
  try {
    await collect(input);
  } catch (error) {
    expect(error).toBeInstanceOf(InputSyntaxError);
    return error as InputSyntaxError;
  }
  throw new Error("expected an InputSyntaxError");
}

const jsons = (items: InputItem[]) => items.map((item) => (item.kind === "element" ? item.json : `rejected@${item.line}`));

describe("JSON array input", () => {
  test("a pretty-printed array yields each element as compact JSON with its line", async () => {
    const items = await collect('[\n  {\n    "id": 1,\n    "name": "a b"\n  },\n  {"id": 2}\n]\n');
    expect(items).toEqual([
      { kind: "element", json: '{"id":1,"name":"a b"}', key: "1", line: 2, bytes: 36 },
      { kind: "element", json: '{"id":2}', key: "2", line: 6, bytes: 9 },
    ]);
  });

  test("one element per line with the bracket on the first line (the old tool's bug) parses", async () => {
    expect(jsons(await collect('[{"id":1},\n{"id":2},\n{"id":3}]'))).toEqual(['{"id":1}', '{"id":2}', '{"id":3}']);
  });

  test("scalars, arrays and nested values are elements too", async () => {
    expect(jsons(await collect('[1, "two", true, null, [1, [2]], {"a": {"b": []}}, -0.5e3]'))).toEqual([
      "1", '"two"', "true", "null", "[1,[2]]", '{"a":{"b":[]}}', "-0.5e3",
    ]);
  });

  test("number literals are kept exactly as written", async () => {
    expect(jsons(await collect('[{"id": 1.0, "big": 1152921504606846977, "e": 1E400}]'))).toEqual([
      '{"id":1.0,"big":1152921504606846977,"e":1E400}',
    ]);
  });

  test("an empty file and an empty array give no element and no error", async () => {
    expect(await collect("")).toEqual([]);
    expect(await collect("  \n ")).toEqual([]);
    expect(await collect("[]")).toEqual([]);
    expect(await collect(" [ \n ] \n")).toEqual([]);
  });

  test("a UTF-8 byte order mark is skipped", async () => {
    expect(jsons(await collect("\uFEFF[{\"id\":1}]"))).toEqual(['{"id":1}']);
  });

  test("a syntax error inside an element names line and column", async () => {
    const error = await syntaxError('[\n  {"id": 1},\n  {"id": 3,, "x": 1}\n]');
    expect([error.line, error.column]).toEqual([3, 12]);
  });

  test("a missing comma between elements names its position", async () => {
    const error = await syntaxError('[{"id":1}\n {"id":2}]');
    expect([error.line, error.column]).toEqual([2, 2]);
    expect(error.message).toContain("expected ',' or ']'");
  });

  test("an array that never closes is an error at the end of the input", async () => {
    const error = await syntaxError('[{"id":1},\n{"id":2}');
    expect(error.message).toContain("not closed");
    expect(error.line).toBe(2);
  });

  test("data after the closing bracket is an error", async () => {
    expect((await syntaxError('[{"id":1}] {"id":2}')).message).toContain("after the end of the array");
  });

  test("a trailing comma is an error", async () => {
    expect((await syntaxError('[{"id":1},]')).message).toContain("after ','");
  });

  test("elements before a syntax error are yielded before the error", async () => {
    const seen: string[] = [];
    await expect(async () => {
      for await (const item of readElements(chunked(encoder.encode('[{"id":1},{"id":2},{oops}]'), 4), "x")) {
        if (item.kind === "element") seen.push(item.json);
      }
    }).toThrow(InputSyntaxError);
    expect(seen).toEqual(['{"id":1}', '{"id":2}']);
  });

  test("invalid UTF-8 inside a string is a syntax error with its position", async () => {
    const bytes = new Uint8Array([...encoder.encode('[\n{"a":"x'), 0xff, ...encoder.encode('"}]')]);
    let error: unknown;
    try {
      await collect(bytes);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(InputSyntaxError);
    expect((error as InputSyntaxError).line).toBe(2);
    expect((error as InputSyntaxError).message).toContain("UTF-8");
  });

  test("deep nesting that JSON.parse refuses is still read as the valid JSON it is", async () => {
    const depth = 100_000;
    const items = await collect(`[${"[".repeat(depth)}${"]".repeat(depth)}]`);
    expect(items.length).toBe(1);
  });
});

describe("NDJSON input", () => {
  test("each line is an element; blank lines are skipped but counted", async () => {
    const items = await collect('{"id":1}\n\n  {"id": "7", "x" : [1, 2]}  \r\n"s"\n');
    expect(items).toEqual([
      { kind: "element", json: '{"id":1}', key: "1", line: 1, bytes: 8 },
      { kind: "element", json: '{"id":"7","x":[1,2]}', key: "7", line: 3, bytes: 25 },
      { kind: "element", json: '"s"', key: undefined, line: 4, bytes: 3 },
    ]);
  });

  test("a line that is not JSON is rejected with its line number, and reading goes on", async () => {
    const items = await collect('{"id":1}\n{not json\n{"id":3}\n{"id":4\n{"id":5}');
    expect(jsons(items)).toEqual(['{"id":1}', "rejected@2", '{"id":3}', "rejected@4", '{"id":5}']);
    const rejected = items.find((item) => item.kind === "rejected");
    expect(rejected?.kind === "rejected" && rejected.reason).toContain("column 2");
  });

  test("two values on one line are rejected", async () => {
    expect(jsons(await collect('{"id":1} {"id":2}\n'))).toEqual(["rejected@1"]);
  });

  test("a line with invalid UTF-8 is rejected, not published", async () => {
    const bytes = new Uint8Array([...encoder.encode('{"id":1,"n":"'), 0xc3, 0x28, ...encoder.encode('"}\n{"id":2}\n')]);
    const items = await collect(bytes);
    expect(jsons(items)).toEqual(["rejected@1", '{"id":2}']);
    expect(items[0]?.kind === "rejected" && items[0].reason).toContain("UTF-8");
  });

  test("a last line without a newline is read", async () => {
    expect(jsons(await collect('{"id":1}\n{"id":2}'))).toEqual(['{"id":1}', '{"id":2}']);
  });
});

describe("keys", () => {
  test("the key is the id: a string as is, a number as written, otherwise none", async () => {
    const items = await collect(
      '{"id":"abc"}\n{"id":1152921504606846977}\n{"id":-3.50}\n{"id":null}\n{"id":true}\n{"id":{"x":1}}\n{"x":{"id":1}}\n[1]\n{"a":"id","id":"\\u0041"}\n{"\\u0069d":9}\n',
    );
    expect(items.map((item) => item.kind === "element" && item.key)).toEqual([
      "abc", "1152921504606846977", "-3.50", undefined, undefined, undefined, undefined, undefined, "A", "9",
    ]);
  });
});

describe("streaming", () => {
  const array = '[\n {"id": 1, "s": "a,b]\\"}{"},\n {"id":"2", "u": "Zoë 日本 🎉", "n": [1, {"x": null}]},\n 42\n]\n';
  const ndjson = '{"id": 1, "s": "a\\nb"}\n{"id":"2","u":"Zoë 日本 🎉"}\nnot json\n{"id":3}';

  test.each([
    ["array", array],
    ["ndjson", ndjson],
  ])("%s input gives the same items whatever the chunk boundaries", async (_name, text) => {
    const bytes = encoder.encode(text);
    const whole = await collect(bytes, (b) => chunked(b, b.length));
    for (let cut = 1; cut < bytes.length; cut++) {
      expect(await collect(bytes, (b) => splitAt(b, cut))).toEqual(whole);
    }
    expect(await collect(bytes, (b) => chunked(b, 1))).toEqual(whole);
  });

  test("memory stays flat on a long stream (elements are not kept)", async () => {
    const line = encoder.encode(`${JSON.stringify({ id: 1, first_name: "x".repeat(200), email: "a@b.c" })}\n`);
    async function* many(): AsyncGenerator<Uint8Array> {
      const block = new Uint8Array(line.length * 1000);
      for (let i = 0; i < 1000; i++) block.set(line, i * line.length);
      for (let i = 0; i < 300; i++) yield block; // 300k elements, ~70 MB
    }
    Bun.gc(true);
    const before = process.memoryUsage().rss;
    let count = 0;
    for await (const item of readElements(many(), "gen")) if (item.kind === "element") count++;
    Bun.gc(true);
    expect(count).toBe(300_000);
    expect(process.memoryUsage().rss - before).toBeLessThan(60 * 1024 * 1024);
  });
});
