/**
 * The one-Buffer Produce request body is byte for byte the body kafkajs' own v3–v7 encoder writes,
 * over random requests (seeded): string and Buffer keys and values, null keys and values, headers
 * (repeated keys as arrays, non-ASCII text), timestamps or none, several topics and partitions,
 * transactional or not, uncompressed and gzip; and shapes it does not take go to kafkajs unchanged.
 */
import { afterEach, describe, expect, spyOn, test } from "bun:test";
import fc from "fast-check";
import compression from "kafkajs/src/protocol/message/compression/index.js";
import type Encoder from "kafkajs/src/protocol/encoder.js";
import Long from "kafkajs/src/utils/long.js";
import { installFastEncoding } from "../../../src/kafka/fast-encoding.ts";
import { encodeProduceRequest, originalProduceProtocol, prepareRecords, type ProduceArgs } from "../../../src/kafka/fast-produce-request.ts";

// kstream always runs kafkajs with the varint patch; it writes the same bytes as kafkajs' own.
installFastEncoding();

const NOW = 1_764_000_123_456;
afterEach(() => {
  (Date.now as unknown as { mockRestore?: () => void }).mockRestore?.();
});

async function kafkajsBody(args: ProduceArgs, version = 7): Promise<string> {
  const make = originalProduceProtocol({ version }) as (a: ProduceArgs) => { request: { encode(): Promise<Encoder> } };
  return (await make(args).request.encode()).buffer.toString("hex");
}

async function fastBody(args: ProduceArgs): Promise<string> {
  const encoder = await encodeProduceRequest(args, () => Promise.reject(new Error("fell back")));
  return encoder.buffer.toString("hex");
}

// Mixed text, and ASCII text past the short-text loop's length (written as latin1) up to a few hundred bytes.
const text = fc.oneof(
  fc.string({ unit: fc.constantFrom("a", "z", "0", " ", "é", "€", "😀", '"'), maxLength: 40 }),
  fc.string({ unit: fc.constantFrom("a", "Z", "0", "{", '"', ":"), minLength: 20, maxLength: 300 }),
);
const bytes = fc.oneof(text, text.map((s) => Buffer.from(s)), fc.uint8Array({ maxLength: 30 }).map((a) => Buffer.from(a)));
const nullable = fc.oneof({ weight: 4, arbitrary: bytes }, { weight: 1, arbitrary: fc.constantFrom(null, undefined) });
const headerValue = fc.oneof(bytes, fc.array(bytes, { minLength: 1, maxLength: 3 }));
const headers = fc.option(fc.dictionary(fc.constantFrom("kstream-source-partition", "kstream-source-offset", "x", "é", "1", "run"), headerValue, { maxKeys: 4 }), { nil: undefined });
const timestamp = fc.option(
  fc.oneof(fc.integer({ min: NOW - 10_000_000, max: NOW + 10_000_000 }), fc.integer({ min: NOW - 10_000_000, max: NOW }).map(String)),
  { nil: undefined, freq: 3 },
);
const message = fc.record({ key: nullable, value: nullable, headers, timestamp }, { requiredKeys: ["key", "value"] });
const partition = fc.record({
  partition: fc.integer({ min: 0, max: 11 }),
  firstSequence: fc.option(fc.integer({ min: 0, max: 2 ** 31 - 1 }), { nil: undefined }),
  messages: fc.array(message, { maxLength: 25 }),
});
const request = fc.record({
  acks: fc.constantFrom(-1, 0, 1),
  timeout: fc.integer({ min: 0, max: 60_000 }),
  transactionalId: fc.option(fc.constantFrom("kstream-tx", "tx-é"), { nil: undefined }),
  producerId: fc.option(fc.oneof(fc.integer({ min: 0, max: 2 ** 40 }), fc.integer({ min: 0, max: 2 ** 40 }).map((n) => Long.fromValue(n))), { nil: undefined }),
  producerEpoch: fc.option(fc.integer({ min: 0, max: 32_767 }), { nil: undefined }),
  topicData: fc.array(fc.record({ topic: fc.constantFrom("in", "stage", "dlq-é"), partitions: fc.array(partition, { maxLength: 3 }) }), { minLength: 1, maxLength: 2 }),
});

describe("one-Buffer Produce request body", () => {
  test("writes kafkajs' bytes for random uncompressed requests", async () => {
    spyOn(Date, "now").mockReturnValue(NOW);
    await fc.assert(
      fc.asyncProperty(request, async (args) => {
        expect(await fastBody(args as ProduceArgs)).toBe(await kafkajsBody(args as ProduceArgs));
      }),
      { seed: 14, numRuns: 400 },
    );
  });

  test("writes kafkajs' bytes for random gzip requests (the codec sees the same records)", async () => {
    spyOn(Date, "now").mockReturnValue(NOW);
    await fc.assert(
      fc.asyncProperty(request, async (args) => {
        const gzip = { ...args, compression: compression.Types.GZIP } as ProduceArgs;
        expect(await fastBody(gzip)).toBe(await kafkajsBody(gzip));
      }),
      { seed: 15, numRuns: 100 },
    );
  });

  test("writes kafkajs' bytes when messages share one headers object, mixed with messages of their own (a run's header)", async () => {
    spyOn(Date, "now").mockReturnValue(NOW);
    const shared = fc.constantFrom({ "kstream-run": "0193a1b2-run" }, { run: ["é", Buffer.from("x")] }, {});
    await fc.assert(
      fc.asyncProperty(shared, fc.array(fc.tuple(message, fc.boolean()), { maxLength: 25 }), async (common, pairs) => {
        const messages = pairs.map(([one, share]) => (share ? { ...one, headers: common } : one));
        const args = { acks: -1, timeout: 30_000, topicData: [{ topic: "in", partitions: [{ partition: 0, messages }] }] };
        expect(await fastBody(args as ProduceArgs)).toBe(await kafkajsBody(args as ProduceArgs));
      }),
      { seed: 16, numRuns: 200 },
    );
  });

  test("takes the batch timestamps as kafkajs does: string-sorted, Date.now() for none", async () => {
    spyOn(Date, "now").mockReturnValue(NOW);
    const cases: unknown[][] = [[], [undefined, undefined], [9, 10, 100], ["9", "10", 8], [NOW, String(NOW - 5), undefined], [0, 5], ["0123", 5]];
    for (const timestamps of cases) {
      const args = { acks: -1, timeout: 30_000, topicData: [{ topic: "t", partitions: [{ partition: 0, messages: timestamps.map((t, i) => ({ key: `k${i}`, value: "v", timestamp: t })) }] }] };
      expect(await fastBody(args as ProduceArgs)).toBe(await kafkajsBody(args as ProduceArgs));
    }
  });

  test("hands shapes it does not encode to kafkajs' original", async () => {
    const odd: unknown[] = [{ key: 5, value: "v" }, { value: new Uint8Array([1, 2]) }, { value: "v", headers: { h: 7 } }, { value: "v", headers: "h" }, { value: "v", timestamp: "soon" }, { value: "v", timestamp: 1.5 }];
    for (const m of odd) {
      let fellBack = false;
      const args = { acks: 1, timeout: 1000, topicData: [{ topic: "t", partitions: [{ partition: 0, messages: [m] }] }] } as ProduceArgs;
      await encodeProduceRequest(args, async () => {
        fellBack = true;
        return undefined as unknown as Encoder;
      });
      expect(fellBack).toBe(true);
    }
  });

  // Prepared a second before the request is made: messages without a timestamp carry the time they
  // were prepared, so the bytes show whether the prepared records were used.
  const PREPARED_AT = NOW - 1000;
  const copyArgs = (args: ProduceArgs, compressionType: number): ProduceArgs => ({
    ...args,
    compression: compressionType,
    // An empty partition has nothing to prepare: its batch is stamped when the request is made.
    topicData: args.topicData.map((data) => ({ ...data, partitions: data.partitions.filter((p) => p.messages.length > 0).map((p) => ({ ...p, messages: [...p.messages] })) })),
  });

  for (const [name, type, seed] of [["uncompressed", compression.Types.None, 17], ["gzip", compression.Types.GZIP, 18]] as const) {
    test(`uses records prepared ahead, giving kafkajs' bytes as of when they were prepared (${name})`, async () => {
      const now = spyOn(Date, "now");
      await fc.assert(
        fc.asyncProperty(request, async (drawn) => {
          const args = copyArgs(drawn as ProduceArgs, type);
          now.mockReturnValue(PREPARED_AT);
          const expected = await kafkajsBody(args);
          for (const data of args.topicData) for (const p of data.partitions) prepareRecords(p.messages, type);
          now.mockReturnValue(NOW);
          expect(await fastBody(args)).toBe(expected);
        }),
        { seed, numRuns: 100 },
      );
    });
  }

  test("ignores prepared records when the partition's messages or the compression differ", async () => {
    const now = spyOn(Date, "now");
    const messages = [0, 1, 2].map((i) => ({ key: `k${i}`, value: `value ${i}` }));
    const other = { key: "k9", value: "another" };
    const cases: [prepared: typeof messages, sent: typeof messages, preparedAs: number, sentAs: number][] = [
      [messages, messages.slice(0, 2), compression.Types.None, compression.Types.None],
      [messages, [...messages.slice(0, 2), other], compression.Types.None, compression.Types.None],
      [messages, [...messages], compression.Types.None, compression.Types.GZIP],
    ];
    for (const [prepared, sent, preparedAs, sentAs] of cases) {
      now.mockReturnValue(PREPARED_AT);
      prepareRecords(prepared, preparedAs);
      now.mockReturnValue(NOW);
      const args = { acks: -1, timeout: 30_000, compression: sentAs, topicData: [{ topic: "t", partitions: [{ partition: 0, messages: sent }] }] } as ProduceArgs;
      expect(await fastBody(args)).toBe(await kafkajsBody(args));
    }
  });

  test("versions 3 to 7 share the body; the patched protocol keeps kafkajs' request fields", async () => {
    spyOn(Date, "now").mockReturnValue(NOW);
    const args = { acks: -1, timeout: 30_000, topicData: [{ topic: "t", partitions: [{ partition: 2, messages: [{ key: "k", value: "v" }] }] }] } as ProduceArgs;
    for (const version of [3, 4, 5, 6, 7]) expect(await kafkajsBody(args, version)).toBe(await fastBody(args));
  });
});
