/**
 * The scan worker's packed batches unpack to exactly what the reader gives on this thread: the
 * same batches, values, keys (views of their value, or bytes of their own for an escaped id),
 * lines, byte counts and rejections, in order, and the same error after the same items.
 */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { createPackedSink, unpackItems } from "../../../src/input/packed-items.ts";
import { readBatches, readElementBatches } from "../../../src/input/read-elements.ts";
import { asText, type TextItem } from "./text-items.ts";

async function* inChunks(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.slice(i, i + size);
}

interface Outcome {
  batches: TextItem[][];
  error?: string;
}

async function drain(batches: AsyncIterable<TextItem[]>): Promise<Outcome> {
  const out: TextItem[][] = [];
  try {
    for await (const batch of batches) out.push(batch);
  } catch (error) {
    return { batches: out, error: (error as Error).message };
  }
  return { batches: out };
}

async function* onThisThread(bytes: Uint8Array, chunk: number): AsyncGenerator<TextItem[]> {
  for await (const items of readElementBatches(inChunks(bytes, chunk), "in.json")) yield items.map(asText);
}

async function* packed(bytes: Uint8Array, chunk: number): AsyncGenerator<TextItem[]> {
  for await (const batch of readBatches(inChunks(bytes, chunk), "in.json", createPackedSink())) yield unpackItems(batch).map(asText);
}

const text = fc.string({ unit: fc.constantFrom("a", "1", " ", "é", "😀", "\\n", '\\"', "\\u00e9"), maxLength: 12 });
/** An id of every kind the key depends on: a number as written, a plain string, an escaped one, and ids that give no key. */
const id = fc.oneof(
  fc.constantFrom("1", "-0.5e3", "123456789012345678901234567890", "null", "true", "{}", "[1]"),
  text.map((t) => `"${t}"`),
);
const element = fc.record({ id: fc.option(id), name: text, pad: fc.constantFrom("", " ", "\t ") }).map(
  ({ id, name, pad }) => `{${pad}${id === null ? "" : `"id":${pad}${id},`}${pad}"name"${pad}:${pad}"${name}"${pad}}`,
);
const line = fc.oneof({ weight: 6, arbitrary: element }, { weight: 1, arbitrary: fc.constantFrom("{", '{"id":1,}', "nul", "", "  ", '"x"', "[1,2]") });

describe("the scan worker's packed batches", () => {
  test("NDJSON: every batch unpacks to the items this thread reads, rejections and blank lines included", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(line, { maxLength: 40 }), fc.integer({ min: 1, max: 300 }), async (lines, chunk) => {
        const bytes = Buffer.from(lines.join("\n"));
        expect(await drain(packed(bytes, chunk))).toEqual(await drain(onThisThread(bytes, chunk)));
      }),
      { seed: 21, numRuns: 200 },
    );
  });

  test("JSON array: the same batches, and a syntax error after the same elements", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(element, { maxLength: 30 }), fc.boolean(), fc.integer({ min: 1, max: 300 }), async (elements, broken, chunk) => {
        const bytes = Buffer.from(`[\n${elements.join(",\n")}${broken ? ",]" : "\n]"}`);
        const expected = await drain(onThisThread(bytes, chunk));
        expect(expected.error !== undefined).toBe(broken);
        expect(await drain(packed(bytes, chunk))).toEqual(expected);
      }),
      { seed: 22, numRuns: 200 },
    );
  });

  test("a key inside its value is not copied twice; an escaped id's key is bytes of its own", async () => {
    const batchOf = async (input: string) => {
      for await (const batch of readBatches(inChunks(Buffer.from(input), 1 << 16), "in.json", createPackedSink())) return batch;
      throw new Error("no batch");
    };
    expect((await batchOf('{"id":"abc"}')).data.length).toBe(12);
    const escaped = await batchOf('{"id":"a\\u0062c"}');
    expect(escaped.data.length).toBe(17 + 3);
    expect(unpackItems(escaped).map(asText)).toEqual([{ kind: "element", json: '{"id":"a\\u0062c"}', key: "abc", line: 1, bytes: 17 }]);
  });

  test("a batch larger than the sink's starting room grows it and keeps every byte", async () => {
    const big = Array.from({ length: 3000 }, (_, i) => `{"id":${i},"pad":"${"x".repeat(400)}"}`).join("\n") + "\n";
    const expected = await drain(onThisThread(Buffer.from(big), 4 << 20));
    expect(expected.batches).toHaveLength(1);
    expect(await drain(packed(Buffer.from(big), 4 << 20))).toEqual(expected);
  });
});
