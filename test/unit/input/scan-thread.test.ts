/**
 * The scan worker gives the items readElementBatches gives on this thread: the same elements,
 * keys, lines and rejections in the same order, the good prefix before a syntax error and then
 * the same error, and an IoError for a gzip file that cannot be decompressed. Real Bun Workers.
 */
import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { InputSyntaxError, IoError } from "../../../src/errors.ts";
import { openInput } from "../../../src/input/open.ts";
import { type InputItem, readElementBatches } from "../../../src/input/read-elements.ts";
import { readElementBatchesInWorker, scanWorkerUrl } from "../../../src/input/scan-thread.ts";
import { tempRoot } from "../helpers.ts";
import { asText, type TextItem } from "./text-items.ts";

const dir = tempRoot("scan-thread");
let files = 0;
function file(content: string | Uint8Array): string {
  const path = join(dir, `input-${++files}`);
  writeFileSync(path, content);
  return path;
}

async function collect(batches: AsyncGenerator<InputItem[]>): Promise<{ items: TextItem[]; error: unknown }> {
  const items: TextItem[] = [];
  try {
    for await (const batch of batches) items.push(...batch.map(asText));
  } catch (error) {
    return { items, error };
  }
  return { items, error: undefined };
}

const onThisThread = (path: string) => {
  const input = openInput(path);
  return collect(readElementBatches(input.stream, input.name));
};

describe("the scan worker", () => {
  test("gives the same items as scanning on this thread, over many chunks", async () => {
    const lines: string[] = [];
    for (let i = 0; i < 60_000; i++) {
      if (i % 997 === 5) lines.push("not json");
      else if (i % 1009 === 7) lines.push("");
      else lines.push(JSON.stringify({ id: i % 3 === 0 ? i : `u\\"${i}`, name: "Zoë", pad: "x".repeat(i % 50) }));
    }
    const path = file(`${lines.join("\n")}\n`);
    const ours = await collect(readElementBatchesInWorker(path));
    expect(ours.error).toBeUndefined();
    expect(ours.items.length).toBeGreaterThan(59_000);
    expect(ours.items).toEqual((await onThisThread(path)).items);
  });

  test("a syntax error in an array comes after the good prefix, as the same InputSyntaxError", async () => {
    const path = file('[{"id":1},\n{"id":2},\n{"id":');
    const ours = await collect(readElementBatchesInWorker(path));
    const theirs = await onThisThread(path);
    expect(ours.items).toEqual(theirs.items);
    expect(ours.items).toHaveLength(2);
    expect(ours.error).toBeInstanceOf(InputSyntaxError);
    expect((ours.error as InputSyntaxError).message).toBe((theirs.error as InputSyntaxError).message);
    expect((ours.error as InputSyntaxError).context).toEqual((theirs.error as InputSyntaxError).context);
  });

  test("a damaged gzip file fails with the same IoError", async () => {
    const gzip = Bun.gzipSync(new TextEncoder().encode('{"id":1}\n'.repeat(1000)));
    const path = file(gzip.subarray(0, gzip.length - 40));
    const ours = await collect(readElementBatchesInWorker(path));
    const theirs = await onThisThread(path);
    expect(ours.error).toBeInstanceOf(IoError);
    expect((ours.error as IoError).message).toBe((theirs.error as IoError).message);
  });

  test("stopping early ends the worker's reading without an error", async () => {
    const path = file('{"id":1}\n'.repeat(200_000));
    let seen = 0;
    for await (const batch of readElementBatchesInWorker(path)) {
      seen += batch.length;
      break;
    }
    expect(seen).toBeGreaterThan(0);
    expect(seen).toBeLessThan(200_000);
  });

  test("the worker is found next to this module from source, and at the binary's root when compiled", () => {
    expect(scanWorkerUrl("file:///repo/src/input/scan-thread.ts").href).toBe("file:///repo/src/input/scan-worker.ts");
    expect(scanWorkerUrl("file:///$bunfs/root/kstream").href).toBe("file:///$bunfs/root/input/scan-worker.ts");
  });
});
