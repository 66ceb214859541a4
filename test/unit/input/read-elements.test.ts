import { describe, expect, test } from "bun:test";
import { InputSyntaxError } from "../../../src/errors.ts";
import { readElements } from "../../../src/input/read-elements.ts";
import { asText, type TextItem as InputItem } from "./text-items.ts";

const encoder = new TextEncoder();
const bytesOf = (input: string | Uint8Array) => (typeof input === "string" ? encoder.encode(input) : input);

async function* inChunks(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.slice(i, i + size);
}

async function* splitAt(bytes: Uint8Array, cuts: number[]): AsyncGenerator<Uint8Array> {
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    yield bytes.slice(from, cut);
    from = cut;
  }
}

async function collect(input: string | Uint8Array, chunks: AsyncIterable<Uint8Array> = inChunks(bytesOf(input), 1 << 16)): Promise<InputItem[]> {
  const items: InputItem[] = [];
  for await (const item of readElements(chunks, "in.json")) items.push(asText(item));
  return items;
}

/** Everything the reader yields, then the error it ends with (if any), as plain data. */
async function outcome(chunks: AsyncIterable<Uint8Array>): Promise<{ items: InputItem[]; error?: string }> {
  const items: InputItem[] = [];
  try {
    for await (const item of readElements(chunks, "in.json")) items.push(asText(item));
  } catch (error) {
    return { items, error: (error as Error).message };
  }
  return { items };
}

async function syntaxError(input: string | Uint8Array): Promise<InputSyntaxError> {
  const error = await collect(input).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(InputSyntaxError);
  return error as InputSyntaxError;
}

const jsons = (items: InputItem[]) => items.map((item) => (item.kind === "element" ? item.json : `rejected@${item.line}`));

describe("JSON array input", () => {
  test("a pretty-printed array yields each element as compact JSON with its first line and original size", async () => {
    const items = await collect('[\n  {\n    "id": 1,\n    "name": "a b"\n  },\n  {"id": 2}\n]\n');
    expect(items).toEqual([
      { kind: "element", json: '{"id":1,"name":"a b"}', key: "1", line: 2, bytes: 36 },
      { kind: "element", json: '{"id":2}', key: "2", line: 6, bytes: 9 },
    ]);
  });

  test("one element per line with the bracket on the first line (the old tool's bug) parses", async () => {
    const items = await collect('[{"id":1},\n{"id":2},\n{"id":3}]\n');
    expect(jsons(items)).toEqual(['{"id":1}', '{"id":2}', '{"id":3}']);
    expect(items.map((item) => item.line)).toEqual([1, 2, 3]);
  });

  test("scalars, arrays and nested values are elements too", async () => {
    expect(jsons(await collect('[1, "two", true, null, [1, [2]], {"a": {"b": []}}, -0.5e3]'))).toEqual([
      "1", '"two"', "true", "null", "[1,[2]]", '{"a":{"b":[]}}', "-0.5e3",
    ]);
  });

  test("number literals are kept exactly as written: 1.0, 1e400, 2^60+1", async () => {
    expect(jsons(await collect('[{"id": 1.0, "big": 1152921504606846977, "e": 1E400, "z": -0.0}]'))).toEqual([
      '{"id":1.0,"big":1152921504606846977,"e":1E400,"z":-0.0}',
    ]);
  });

  test("strings are kept exactly as written, escapes and spaces included", async () => {
    expect(jsons(await collect('[ "a  b\\t\\u00e9\\/" , "Zoë 日本 🎉" ]'))).toEqual(['"a  b\\t\\u00e9\\/"', '"Zoë 日本 🎉"']);
  });

  test("an empty file, a blank file and an empty array give no element and no error", async () => {
    expect(await collect("")).toEqual([]);
    expect(await collect("  \n \r\n\t")).toEqual([]);
    expect(await collect("[]")).toEqual([]);
    expect(await collect(" \n[ \n ] \n")).toEqual([]);
  });

  test("a UTF-8 byte order mark is skipped and not counted as a column", async () => {
    expect(jsons(await collect('\uFEFF[{"id":1}]'))).toEqual(['{"id":1}']);
    expect((await syntaxError("\uFEFF[x]")).column).toBe(2);
  });

  test("a syntax error inside an element names line and column", async () => {
    const error = await syntaxError('[\n  {"id": 1},\n  {"id": 3,, "x": 1}\n]');
    expect([error.source, error.line, error.column]).toEqual(["in.json", 3, 12]);
    expect(error.message).toBe("in.json:3:12: expected a property name in double quotes, found ','");
  });

  test("columns count characters, not bytes", async () => {
    const error = await syntaxError('[{"name": "Zoë 日本 🎉", oops}]');
    expect([error.line, error.column]).toEqual([1, 23]);
  });

  test("an error on a later line of a multi-line element is placed on that line", async () => {
    const error = await syntaxError('[\n{\n  "a": 1,\n  "b": tru\n}\n]');
    expect([error.line, error.column]).toEqual([4, 8]);
  });

  test("a missing comma between elements names its position", async () => {
    const error = await syntaxError('[{"id":1}\n {"id":2}]');
    expect([error.line, error.column]).toEqual([2, 2]);
    expect(error.message).toContain("expected ',' or ']' after an array element");
  });

  test("an array that never closes is an error at the end of the input", async () => {
    const afterElement = await syntaxError('[{"id":1},\n{"id":2}');
    expect(afterElement.message).toContain("not closed");
    expect([afterElement.line, afterElement.column]).toEqual([2, 9]);
    const afterComma = await syntaxError('[{"id":1},\n');
    expect([afterComma.line, afterComma.column]).toEqual([2, 1]);
    const insideElement = await syntaxError('[{"id":1},\n{"id":');
    expect(insideElement.message).toContain("end of input");
    expect([insideElement.line, insideElement.column]).toEqual([2, 7]);
    const insideString = await syntaxError('[{"id":1},\n{"na');
    expect([insideString.line, insideString.column]).toEqual([2, 5]);
  });

  test("data after the closing bracket is an error", async () => {
    const error = await syntaxError('[{"id":1}]\n {"id":2}');
    expect(error.message).toContain("after the end of the array");
    expect([error.line, error.column]).toEqual([2, 2]);
  });

  test("a trailing comma is an error", async () => {
    expect((await syntaxError('[{"id":1},]')).message).toContain("trailing comma");
  });

  test("elements before a syntax error are yielded before the error", async () => {
    const { items, error } = await outcome(inChunks(encoder.encode('[{"id":1},{"id":2},{oops}]'), 4));
    expect(jsons(items)).toEqual(['{"id":1}', '{"id":2}']);
    expect(error).toContain("in.json:1:21");
  });

  test("invalid UTF-8 inside a string is a syntax error with its position", async () => {
    const error = await syntaxError(new Uint8Array([...encoder.encode('[\n{"a":"xé'), 0xff, ...encoder.encode('"}]')]));
    expect([error.line, error.column]).toEqual([2, 9]);
    expect(error.message).toContain("UTF-8");
  });

  test("a line break inside a string stops at once, without reading on", async () => {
    async function* endless(): AsyncGenerator<Uint8Array> {
      yield encoder.encode('[{"a": "unterminated\n');
      for (;;) yield encoder.encode('{"b": 2},\n');
    }
    const { error } = await outcome(endless());
    expect(error).toContain("in.json:1:21: line break inside a string");
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

  test("leading blank lines count for line numbers", async () => {
    const items = await collect('\n\n  \n{"id":1}\nnope\n');
    expect(items.map((item) => [item.kind, item.line])).toEqual([["element", 4], ["rejected", 5]]);
  });

  test("lines that are not JSON are rejected with their line number and reason, and reading goes on", async () => {
    const items = await collect('{"id":1}\n{not json\n{"id":3}\n{"id":4\n{"id":5}\n[1,]\n');
    expect(jsons(items)).toEqual(['{"id":1}', "rejected@2", '{"id":3}', "rejected@4", '{"id":5}', "rejected@6"]);
    expect(items[1]).toEqual({ kind: "rejected", line: 2, reason: "column 2: expected a property name in double quotes, found 'n'" });
    expect(items[3]).toEqual({ kind: "rejected", line: 4, reason: "column 8: unexpected end of input inside a value" });
  });

  test("the rejection column counts characters from the start of the line, leading spaces included", async () => {
    const [item] = await collect('   {"é": 01}\n');
    expect(item).toEqual({ kind: "rejected", line: 1, reason: "column 11: a number cannot have a leading zero" });
  });

  test("two values on one line are rejected", async () => {
    const items = await collect('{"id":1} {"id":2}\n');
    expect(items).toEqual([{ kind: "rejected", line: 1, reason: "column 10: unexpected '{' after the value (one JSON value per line)" }]);
  });

  test("a line with invalid UTF-8 is rejected, not published", async () => {
    const items = await collect(new Uint8Array([...encoder.encode('{"id":1,"n":"'), 0xc3, 0x28, ...encoder.encode('"}\n{"id":2}\n')]));
    expect(jsons(items)).toEqual(["rejected@1", '{"id":2}']);
    expect(items[0]).toEqual({ kind: "rejected", line: 1, reason: "column 14: invalid UTF-8 inside a string" });
  });

  test("a last line without a newline is read", async () => {
    expect(jsons(await collect('{"id":1}\n{"id":2}'))).toEqual(['{"id":1}', '{"id":2}']);
  });

  test("numbers are kept verbatim in NDJSON too", async () => {
    expect(jsons(await collect('{"id": 1.0}\n{"id":1152921504606846977}\n1e400\n'))).toEqual(['{"id":1.0}', '{"id":1152921504606846977}', "1e400"]);
  });

  test("a BOM before NDJSON is skipped", async () => {
    expect(jsons(await collect('\uFEFF{"id":1}\n'))).toEqual(['{"id":1}']);
  });
});

describe("keys", () => {
  test("the key is the top-level id: a string as is, a number as written, otherwise none", async () => {
    const items = await collect(
      [
        '{"id":"abc"}', '{"id":1152921504606846977}', '{"id":-3.50}', '{"id":null}', '{"id":true}', '{"id":{"x":1}}',
        '{"x":{"id":1}}', "[1]", '{"a":"id","id":"\\u0041"}', '{"\\u0069d":9}', '{"first":"Zoë","id":"日本"}', '{"id":" 42 "}',
        '{"id":1,"id":2}', "7",
      ].join("\n"),
    );
    expect(items.map((item) => item.kind === "element" && item.key)).toEqual([
      "abc", "1152921504606846977", "-3.50", undefined, undefined, undefined, undefined, undefined, "A", "9", "日本", " 42 ", "2", undefined,
    ]);
  });
});

describe("bytes", () => {
  test("the value and key are the UTF-8 bytes kafkajs would have written for the text (a lone surrogate id as U+FFFD)", async () => {
    const items: import("../../../src/input/read-elements.ts").InputItem[] = [];
    async function* one(): AsyncGenerator<Uint8Array> {
      yield encoder.encode('{"id": "\\ud800x", "n": "Zoë"}\n{"id":"日本"}\n');
    }
    for await (const item of readElements(one(), "in.json")) items.push(item);
    const [first, second] = items.map((item) => (item.kind === "element" ? item : undefined));
    expect(first!.value).toEqual(Buffer.from('{"id":"\\ud800x","n":"Zoë"}', "utf8"));
    expect(first!.key).toEqual(Buffer.from(JSON.parse('"\\ud800x"') as string, "utf8"));
    expect([...first!.key!.subarray(0, 3)]).toEqual([0xef, 0xbf, 0xbd]);
    expect(second!.key).toEqual(Buffer.from("日本", "utf8"));
  });
});

describe("chunk boundaries do not matter", () => {
  const array =
    '\uFEFF[\n {"id": 1, "s": "a,b]\\"}{\\\\", "e": "\\u00e9\\uD83D\\uDE00"},\n {"id":"2", "u": "Zoë 日本 🎉", "n": [1, {"x": null}]},\n 42, -1.5e-3, true, null,\n "🎉"\n]\n';
  const ndjson = '{"id": 1, "s": "a\\nb\\u00e9"}\n\n{"id":"2","u":"Zoë 日本 🎉"}\nnot json\n{"id":3, "x":"é\n  12.0  \r\n{"id":"🎉"}';
  const broken = '[\n {"id": 1, "u": "Zoë"},\n {"id": 2, "u": "日本" ,, }\n]';

  test.each([
    ["array", array],
    ["ndjson", ndjson],
    ["broken array", broken],
  ])("%s input gives the same items and error whether split at any byte or fed byte by byte", async (_name, text) => {
    const bytes = encoder.encode(text);
    const whole = await outcome(splitAt(bytes, []));
    expect(whole.items.length).toBeGreaterThan(0);
    for (let cut = 0; cut <= bytes.length; cut++) {
      expect({ cut, ...(await outcome(splitAt(bytes, [cut]))) }).toEqual({ cut, ...whole });
    }
    expect(await outcome(inChunks(bytes, 1))).toEqual(whole);
    expect(await outcome(inChunks(bytes, 3))).toEqual(whole);
  });

  test("the source may reuse its chunk buffer once the next chunk is asked for", async () => {
    const bytes = encoder.encode('[{"id":1,"name":"first"},{"id":2,"name":"second"},{"id":3}]');
    async function* reusing(): AsyncGenerator<Uint8Array> {
      const buffer = new Uint8Array(5);
      for (let i = 0; i < bytes.length; i += 5) {
        const part = bytes.subarray(i, i + 5);
        buffer.fill(0x21);
        buffer.set(part);
        yield buffer.subarray(0, part.length);
      }
    }
    expect(jsons(await collect(bytes, reusing()))).toEqual(['{"id":1,"name":"first"}', '{"id":2,"name":"second"}', '{"id":3}']);
  });

  test("elements kept while later ones are read still hold their own bytes, small ones sharing a buffer and large ones not", async () => {
    // Enough elements to fill several of the buffers small elements are copied into, plus large ones between them.
    const texts = Array.from({ length: 6000 }, (_, i) => (i % 1000 === 7 ? JSON.stringify({ id: i, blob: "b".repeat(40_000 + i) }) : JSON.stringify({ id: i, name: `n${i}`.repeat(1 + (i % 9)) })));
    for (const format of ["ndjson", "array"] as const) {
      const input = format === "ndjson" ? texts.join("\n") : `[${texts.join(",\n")}]`;
      const kept: Buffer[] = [];
      const keys: (Buffer | undefined)[] = [];
      for await (const item of readElements(inChunks(encoder.encode(input), 4096), "in.json")) {
        if (item.kind !== "element") continue;
        kept.push(item.value);
        keys.push(item.key);
      }
      expect(kept.map((value) => value.toString())).toEqual(texts);
      expect(keys.map((key) => key?.toString())).toEqual(texts.map((_, i) => String(i)));
      expect(new Set(kept.filter((v) => v.length < 100).map((v) => v.buffer)).size).toBeLessThan(10);
    }
  });
});

describe("size", () => {
  test("memory stays flat on a long stream: elements are not kept", async () => {
    const element = JSON.stringify({ id: 1, first_name: "x".repeat(200), email: "a@b.c", country: "Côte d'Ivoire" });
    const block = encoder.encode(`${element},\n`.repeat(1000));
    async function* manyElements(): AsyncGenerator<Uint8Array> {
      yield encoder.encode("[\n");
      for (let i = 0; i < 200; i++) yield block.slice(); // 200k elements, ~50 MB
      yield encoder.encode(`${element}\n]\n`);
    }
    let count = 0;
    let heapAtStart = 0;
    let heapAtEnd = 0;
    for await (const item of readElements(manyElements(), "generated")) {
      if (item.kind === "element") count++;
      if (count === 20_000) {
        Bun.gc(true);
        heapAtStart = process.memoryUsage().heapUsed;
      }
    }
    Bun.gc(true);
    heapAtEnd = process.memoryUsage().heapUsed;
    expect(count).toBe(200_001);
    // 45 MB of elements went through after the first measure; a reader that kept them would grow by that much.
    expect(heapAtEnd - heapAtStart).toBeLessThan(8 * 1024 * 1024);
  });

  test("a single element far larger than a chunk is read whole", async () => {
    const big = "é".repeat(8 * 1024 * 1024); // 16 MB of UTF-8
    const text = `[{"id": 1, "blob": "${big}"}, {"id": 2}]`;
    const items = await collect(text, inChunks(encoder.encode(text), 64 * 1024));
    expect(items.length).toBe(2);
    const first = items[0]!;
    expect(first.kind === "element" && first.json.length).toBe(big.length + '{"id":1,"blob":""}'.length);
    expect(first.kind === "element" && first.bytes).toBe(encoder.encode(text).length - '[, {"id": 2}]'.length);
  }, 30_000);
});
