/**
 * The S3 client against a real S3 server (versitygw, scripts/s3.sh): a create-only PUT refuses a
 * second write of the same key, a 12 MB multipart upload completes and reads back equal (and is
 * create-only too), list and delete see the same objects, a ranged read is exactly the slice (also
 * the footer of a Parquet object, as recon will read it), a wrong secret is refused with one line
 * that does not contain it, and an independent reader (pyarrow's S3FileSystem) reads a Parquet
 * object written through the client.
 *
 * The server is s3-server.ts's (KSTREAM_TEST_S3_PORT, default 19300), reused when it already runs
 * and stopped at the end only when this file started it; skipped where it was never built.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parquetMetadata } from "hyparquet";
import { parquetWriteBuffer } from "hyparquet-writer";
import { StorageError } from "../../src/errors.ts";
import { createS3Store, type S3Store } from "../../src/storage/s3-client.ts";
import { resolveS3Settings, type S3Settings } from "../../src/storage/s3-config.ts";
import { accessKeyId, S3_ENDPOINT, S3_PORT, s3ServerBuilt, SECRET_FILE, useS3Server } from "./s3-server.ts";

const REPO = resolve(import.meta.dir, "../..");
const SERVER_BUILT = s3ServerBuilt();
const PYTHON = join(REPO, ".cache/python/bin/python");
const PREFIX = `test-${process.pid}-${Date.now().toString(36)}/`;

let settings: S3Settings;
let store: S3Store;

useS3Server(async () => {
  if (store) for (const object of await store.list(PREFIX)) await store.delete(object.key);
});

// After useS3Server's own beforeAll (hooks run in the order they are registered): the server is up.
beforeAll(() => {
  if (!SERVER_BUILT) return;
  settings = resolveS3Settings(
    { bucket: "kstream", path_style: true, secret_access_key_file: SECRET_FILE },
    { AWS_ENDPOINT_URL_S3: S3_ENDPOINT, AWS_ACCESS_KEY_ID: accessKeyId() },
    (path) => readFileSync(path, "utf8"),
  );
  store = createS3Store(settings);
});

const bytesOf = (text: string) => new TextEncoder().encode(text);
const textOf = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/** Bytes that differ everywhere, so a part put in the wrong place or twice cannot read back equal. */
function patterned(size: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    bytes[i] = x & 0xff;
  }
  return bytes;
}

describe.skipIf(!SERVER_BUILT)("create-only writes", () => {
  test("a second PUT of the same key is refused and the first content stays", async () => {
    const key = `${PREFIX}single.bin`;
    expect(await store.putIfAbsent(key, bytesOf("first"))).toBe("created");
    expect(await store.putIfAbsent(key, bytesOf("second, longer"))).toBe("exists");
    expect(textOf(await store.getRange(key, 0, 5))).toBe("first");
    expect((await store.head(key))?.size).toBe(5);
  });

  test("a 12 MB object goes up in parts, completes once, and reads back equal", async () => {
    const key = `${PREFIX}multipart.bin`;
    const bytes = patterned(12 * 1024 * 1024, 7);
    expect(await store.putIfAbsent(key, bytes)).toBe("created");
    expect((await store.head(key))?.size).toBe(bytes.length);
    // versitygw's ETag of a completed multipart upload is "<md5 of part md5s>-<parts>": two parts.
    expect((await store.head(key))?.etag).toMatch(/-2"$/);
    const back = await store.getRange(key, 0, bytes.length);
    expect(Bun.hash(back)).toBe(Bun.hash(bytes));
    expect(await store.putIfAbsent(key, patterned(12 * 1024 * 1024, 8))).toBe("exists");
    expect(Bun.hash(await store.getRange(key, 0, bytes.length))).toBe(Bun.hash(bytes));
  });

  test("a multipart upload whose completion is refused leaves no upload behind", async () => {
    const key = `${PREFIX}contended.bin`;
    // Another writer landed the key after this one looked (here: it does not look at all): the
    // completion itself must be refused, and the upload then aborted.
    expect(await store.putIfAbsent(key, bytesOf("taken"))).toBe("created");
    const racing = createS3Store(settings, { multipartThreshold: 1, partSize: 5 * 1024 * 1024, headBeforeMultipart: false });
    expect(await racing.putIfAbsent(key, patterned(6 * 1024 * 1024, 9))).toBe("exists");
    expect(textOf(await store.getRange(key, 0, 5))).toBe("taken");
    const uploads = await listUploads(`${PREFIX}contended`);
    expect(uploads).toEqual([]);
  });
});

/** Keys of multipart uploads in progress (ListMultipartUploads), signed like the client signs. */
async function listUploads(prefix: string): Promise<string[]> {
  const { AwsClient } = await import("aws4fetch");
  const signer = new AwsClient({ accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey, service: "s3", region: settings.region });
  const response = await signer.fetch(`${settings.endpoint}/${settings.bucket}?uploads&prefix=${encodeURIComponent(prefix)}`);
  expect(response.status).toBe(200);
  return [...(await response.text()).matchAll(/<Upload>.*?<Key>([^<]*)<\/Key>/gs)].map((m) => m[1] ?? "");
}

describe.skipIf(!SERVER_BUILT)("listing, deleting and ranged reads", () => {
  test("list sees exactly the objects under a prefix, and delete removes them", async () => {
    const dir = `${PREFIX}listed/`;
    for (const name of ["b.parquet", "a.parquet", "c/nested.parquet"]) await store.putIfAbsent(dir + name, bytesOf(name));
    await store.putIfAbsent(`${PREFIX}listed-not.parquet`, bytesOf("outside"));
    expect((await store.list(dir)).map((o) => o.key)).toEqual([`${dir}a.parquet`, `${dir}b.parquet`, `${dir}c/nested.parquet`]);
    expect((await store.list(dir)).map((o) => o.size)).toEqual([9, 9, 16]);
    await store.delete(`${dir}b.parquet`);
    await store.delete(`${dir}never-there.parquet`);
    expect((await store.list(dir)).map((o) => o.key)).toEqual([`${dir}a.parquet`, `${dir}c/nested.parquet`]);
    expect(await store.head(`${dir}b.parquet`)).toBeUndefined();
  });

  test("a ranged read is exactly the slice, wherever it falls", async () => {
    const key = `${PREFIX}ranged.bin`;
    const bytes = patterned(3 * 1024 * 1024 + 17, 11);
    await store.putIfAbsent(key, bytes);
    for (const [start, end] of [
      [0, 1],
      [1_000_000, 1_000_123],
      [bytes.length - 10, bytes.length],
      [5, 2 * 1024 * 1024],
    ] as const) {
      expect(await store.getRange(key, start, end)).toEqual(bytes.slice(start, end));
    }
  });

  test("a Parquet object's footer read by two ranged reads names the column chunks to fetch", async () => {
    const key = `${PREFIX}footer.parquet`;
    const ids = Array.from({ length: 1000 }, (_, i) => i);
    const file = new Uint8Array(
      parquetWriteBuffer({ columnData: [{ name: "id", data: ids, type: "INT32" }, { name: "email", data: ids.map((i) => `u${i}@example.com`), type: "STRING" }] }),
    );
    await store.putIfAbsent(key, file);
    const size = (await store.head(key))?.size ?? 0;
    const tail = await store.getRange(key, size - 8, size);
    const footerLength = new DataView(tail.buffer, tail.byteOffset).getUint32(0, true);
    const footer = await store.getRange(key, size - 8 - footerLength, size);
    const metadata = parquetMetadata(footer.slice().buffer);
    const email = metadata.row_groups[0]?.columns[1]?.meta_data;
    expect(Number(metadata.num_rows)).toBe(1000);
    const start = Number(email?.dictionary_page_offset ?? email?.data_page_offset);
    const chunk = await store.getRange(key, start, start + Number(email?.total_compressed_size));
    expect(chunk).toEqual(file.slice(start, start + Number(email?.total_compressed_size)));
  });
});

describe.skipIf(!SERVER_BUILT)("credentials", () => {
  test("a wrong secret is refused with one line that says where the secret came from, not what it is", async () => {
    const wrong = createS3Store({ ...settings, secretAccessKey: "wrong-secret-0123456789" });
    for (const attempt of [() => wrong.putIfAbsent(`${PREFIX}refused.bin`, bytesOf("x")), () => wrong.list(PREFIX), () => wrong.getRange(`${PREFIX}single.bin`, 0, 2)]) {
      const error = await attempt().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(StorageError);
      const message = (error as StorageError).message;
      expect(message.split("\n")).toHaveLength(1);
      expect(message).toContain("refused the credentials (SignatureDoesNotMatch)");
      expect(message).toContain("s3.secret_access_key_file");
      expect(message).not.toContain("wrong-secret-0123456789");
      expect(message).not.toContain(settings.secretAccessKey);
    }
    expect(await store.head(`${PREFIX}refused.bin`)).toBeUndefined();
  });
});

describe.skipIf(!SERVER_BUILT)("an independent reader", () => {
  test.skipIf(!existsSync(PYTHON))("pyarrow's S3FileSystem reads a Parquet object written through the client", async () => {
    const key = `${PREFIX}pyarrow.parquet`;
    const ids = Array.from({ length: 500 }, (_, i) => i * 3);
    await store.putIfAbsent(
      key,
      new Uint8Array(parquetWriteBuffer({ columnData: [{ name: "id", data: ids, type: "INT32" }, { name: "country", data: ids.map((i) => (i % 2 ? "FR" : "DE")), type: "STRING" }] })),
    );
    const script = [
      "import json, os, sys",
      "import pyarrow.parquet as pq",
      "from pyarrow import fs",
      "s3 = fs.S3FileSystem(access_key=os.environ['AWS_ACCESS_KEY_ID'], secret_key=os.environ['AWS_SECRET_ACCESS_KEY'],",
      "  endpoint_override=os.environ['ENDPOINT'], scheme='http', region='us-east-1', allow_bucket_creation=False)",
      "t = pq.read_table(sys.argv[1], filesystem=s3)",
      "print(json.dumps({'rows': t.num_rows, 'ids': sum(t.column('id').to_pylist()), 'fr': t.column('country').to_pylist().count('FR')}))",
    ].join("\n");
    const child = Bun.spawn([PYTHON, "-c", script, `kstream/${key}`], {
      // The secret reaches Python through its environment, not its command line.
      env: { ...process.env, AWS_ACCESS_KEY_ID: settings.accessKeyId, AWS_SECRET_ACCESS_KEY: settings.secretAccessKey, ENDPOINT: `127.0.0.1:${S3_PORT}` },
      stdout: "pipe",
      stderr: "pipe",
    });
    const [stdout, stderr, exitCode] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
    expect({ exitCode, stderr: exitCode === 0 ? "" : stderr }).toEqual({ exitCode: 0, stderr: "" });
    expect(JSON.parse(stdout)).toEqual({ rows: 500, ids: ids.reduce((a, b) => a + b, 0), fr: ids.filter((i) => i % 2).length });
  }, 60_000);
});
