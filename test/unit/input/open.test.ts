import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { IoError } from "../../../src/errors.ts";
import { openInput } from "../../../src/input/open.ts";
import { readElements } from "../../../src/input/read-elements.ts";
import { tempRoot } from "../helpers.ts";

const dir = tempRoot("input");

const NDJSON = '{"id":1,"name":"Zoë"}\n{"id":2}\n';
const BUN = process.execPath;

async function jsonsOf(source: string): Promise<string[]> {
  const input = openInput(source);
  const jsons: string[] = [];
  for await (const item of readElements(input.stream, input.name)) if (item.kind === "element") jsons.push(item.value.toString("utf8"));
  return jsons;
}

async function failureOf(run: () => Promise<unknown> | unknown): Promise<unknown> {
  try {
    await run();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe("files", () => {
  test("a plain file is read with its size known for the progress bar", async () => {
    const path = join(dir, "plain.ndjson");
    writeFileSync(path, NDJSON);
    const input = openInput(path);
    expect(input.name).toBe(path);
    expect(input.sizeBytes).toBe(Buffer.byteLength(NDJSON));
    expect(await jsonsOf(path)).toEqual(['{"id":1,"name":"Zoë"}', '{"id":2}']);
  });

  test("a .gz file is read decompressed", async () => {
    const path = join(dir, "records.json.gz");
    writeFileSync(path, Bun.gzipSync(new TextEncoder().encode('[\n  {"id": 1},\n  {"id": 2}\n]\n')));
    expect(openInput(path).sizeBytes).toBeUndefined();
    expect(await jsonsOf(path)).toEqual(['{"id":1}', '{"id":2}']);
  });

  test("gzip is recognised by its magic bytes whatever the file is called", async () => {
    const path = join(dir, "compressed-but-named.ndjson");
    writeFileSync(path, Bun.gzipSync(new TextEncoder().encode(NDJSON)));
    expect(await jsonsOf(path)).toEqual(['{"id":1,"name":"Zoë"}', '{"id":2}']);
  });

  test("a large gzip file streams through in many chunks", async () => {
    const path = join(dir, "large.ndjson.gz");
    const line = `${JSON.stringify({ id: 1, pad: "x".repeat(100) })}\n`;
    writeFileSync(path, Bun.gzipSync(new TextEncoder().encode(line.repeat(50_000))));
    expect((await jsonsOf(path)).length).toBe(50_000);
  });

  test("a missing file is an IoError naming it, raised before anything is read", async () => {
    const path = join(dir, "nope.json");
    const error = await failureOf(() => openInput(path));
    expect(error).toBeInstanceOf(IoError);
    expect((error as IoError).message).toBe(`cannot read input ${path}: no such file`);
  });

  test("a directory is an IoError naming it", async () => {
    const error = await failureOf(() => openInput(dir));
    expect(error).toBeInstanceOf(IoError);
    expect((error as IoError).message).toContain(dir);
  });

  test("a corrupt gzip file is an IoError naming it", async () => {
    const path = join(dir, "corrupt.gz");
    const gzip = Bun.gzipSync(new TextEncoder().encode(NDJSON.repeat(100)));
    writeFileSync(path, gzip.subarray(0, 20));
    const error = await failureOf(() => jsonsOf(path));
    expect(error).toBeInstanceOf(IoError);
    expect((error as IoError).message).toContain(`cannot decompress gzip input ${path}`);
  });
});

describe("stdin", () => {
  const script = resolve(dir, "read-stdin.ts");
  writeFileSync(
    script,
    `import { openInput } from ${JSON.stringify(resolve(import.meta.dir, "../../../src/input/open.ts"))};
import { readElements } from ${JSON.stringify(resolve(import.meta.dir, "../../../src/input/read-elements.ts"))};
const input = openInput("-");
const out = [input.name, String(input.sizeBytes)];
for await (const item of readElements(input.stream, input.name)) out.push(item.kind === "element" ? item.value.toString("utf8") : "rejected");
process.stdout.write(out.join("\\n"));
`,
  );
  const readStdin = async (bytes: Uint8Array) => {
    const child = Bun.spawn([BUN, script], { stdin: bytes, stdout: "pipe", stderr: "pipe" });
    const [out, err, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
    expect(err).toBe("");
    expect(code).toBe(0);
    return out.split("\n");
  };

  test('"-" reads stdin', async () => {
    expect(await readStdin(new TextEncoder().encode(NDJSON))).toEqual(["stdin", "undefined", '{"id":1,"name":"Zoë"}', '{"id":2}']);
  });

  test('"-" with gzip on stdin is read decompressed', async () => {
    expect(await readStdin(Bun.gzipSync(new TextEncoder().encode(NDJSON)))).toEqual(["stdin", "undefined", '{"id":1,"name":"Zoë"}', '{"id":2}']);
  });
});
