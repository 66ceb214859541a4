/**
 * The S3 ParquetStore's decisions, against a fake client (no server): a retriable failure is
 * tried again until s3.retry_limit and then ends in one StorageError that is not retriable (nor
 * has a retriable cause); a refusal is not retried; a request that never answers counts as a
 * retriable failure after s3.request_timeout; a create-only PUT refused as existing succeeds when
 * the object holds exactly these bytes (an earlier attempt landed) and throws when it holds
 * others; keys are the prefix plus the store's key, and listings come back without the prefix.
 */
import { describe, expect, test } from "bun:test";
import { isRetriableCause, StorageError } from "../../../src/errors.ts";
import type { ObjectInfo, PutOutcome, S3Store } from "../../../src/storage/s3-client.ts";
import type { S3Settings } from "../../../src/storage/s3-config.ts";
import { createS3ParquetStore } from "../../../src/storage/s3-store.ts";

const SETTINGS: S3Settings = {
  bucket: "kstream",
  endpoint: "http://127.0.0.1:1",
  region: "us-east-1",
  pathStyle: true,
  accessKeyId: "AKID",
  secretAccessKey: "never-printed",
  sessionToken: undefined,
  sources: { endpoint: "s3.endpoint", region: "default", accessKeyId: "AWS_ACCESS_KEY_ID", secretAccessKey: "AWS_SECRET_ACCESS_KEY" },
};

/** An in-memory bucket; `failures` makes the next n calls fail retriably (as an unreachable store). */
function fakeBucket() {
  const objects = new Map<string, Uint8Array>();
  const state = { failures: 0, calls: 0, hang: false };
  const maybeFail = async () => {
    state.calls++;
    if (state.hang) await new Promise(() => undefined);
    if (state.failures > 0) {
      state.failures--;
      throw new StorageError("PUT x in s3://kstream failed: no answer", { retriable: true });
    }
  };
  const info = (key: string): ObjectInfo => ({ key, size: objects.get(key)!.length, etag: undefined, lastModified: undefined });
  const client: S3Store = {
    bucket: "kstream",
    async putIfAbsent(key, bytes): Promise<PutOutcome> {
      await maybeFail();
      if (objects.has(key)) return "exists";
      objects.set(key, bytes.slice());
      return "created";
    },
    async head(key) {
      await maybeFail();
      return objects.has(key) ? info(key) : undefined;
    },
    async list(prefix) {
      await maybeFail();
      return [...objects.keys()].filter((key) => key.startsWith(prefix)).sort().map(info);
    },
    async delete(key) {
      await maybeFail();
      objects.delete(key);
    },
    async getRange(key, start, end) {
      await maybeFail();
      return objects.get(key)!.slice(start, end);
    },
  };
  return { objects, state, client };
}

const storeOver = (client: S3Store, patience: { requestTimeoutMs?: number; retryLimitMs?: number } = {}) =>
  createS3ParquetStore(SETTINGS, { prefix: "out/", requestTimeoutMs: patience.requestTimeoutMs ?? 1_000, retryLimitMs: patience.retryLimitMs ?? 1_000, pauseMs: () => 5 }, client);

const bytes = (text: string) => new TextEncoder().encode(text);

describe("the S3 ParquetStore", () => {
  test("keys live under the prefix, and listings and descriptions use the store's keys", async () => {
    const { objects, client } = fakeBucket();
    const store = storeOver(client);
    await store.put("ingest_date=2026-01-01/t+0+1+2.parquet", bytes("abc"));
    expect([...objects.keys()]).toEqual(["out/ingest_date=2026-01-01/t+0+1+2.parquet"]);
    expect(await store.list("ingest_date=")).toEqual([{ key: "ingest_date=2026-01-01/t+0+1+2.parquet", size: 3 }]);
    expect(store.describe("ingest_date=2026-01-01/t+0+1+2.parquet")).toBe("s3://kstream/out/ingest_date=2026-01-01/t+0+1+2.parquet");
    const buffer = await store.open({ key: "ingest_date=2026-01-01/t+0+1+2.parquet", size: 3 });
    expect(new Uint8Array(await buffer.slice(1, 3))).toEqual(bytes("bc"));
  });

  test("a retriable failure shorter than the retry limit is ridden out", async () => {
    const { objects, state, client } = fakeBucket();
    state.failures = 3;
    await storeOver(client).put("k", bytes("whole"));
    expect(objects.get("out/k")).toEqual(bytes("whole"));
  });

  test("past the retry limit one StorageError ends it, neither retriable nor with a retriable cause", async () => {
    const { state, client } = fakeBucket();
    state.failures = Number.POSITIVE_INFINITY;
    const error = await storeOver(client, { retryLimitMs: 100 }).list().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageError);
    expect((error as StorageError).retriable).toBe(false);
    expect(isRetriableCause(error)).toBe(false);
    expect((error as Error).message).toContain("still failing after s3.retry_limit");
    expect((error as Error).message).not.toContain("never-printed");
  });

  test("a refusal is not retried", async () => {
    const { state, client } = fakeBucket();
    client.list = async () => {
      state.calls++;
      throw new StorageError("LIST in s3://kstream: the store refused the credentials (SignatureDoesNotMatch)", { storeCode: "SignatureDoesNotMatch" });
    };
    await expect(storeOver(client).list()).rejects.toThrow("refused the credentials");
    expect(state.calls).toBe(1);
  });

  test("a request that never answers fails after the request timeout and counts against the retry limit", async () => {
    const { state, client } = fakeBucket();
    state.hang = true;
    const started = Date.now();
    const error = await storeOver(client, { requestTimeoutMs: 50, retryLimitMs: 200 }).delete("k").catch((e: unknown) => e);
    expect((error as Error).message).toContain("no answer within s3.request_timeout");
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(state.calls).toBeGreaterThan(1);
  });

  test("a PUT refused as existing succeeds when the object holds exactly these bytes (its own earlier attempt)", async () => {
    const { objects, client } = fakeBucket();
    objects.set("out/k", bytes("same bytes"));
    await storeOver(client).put("k", bytes("same bytes"));
    expect(objects.get("out/k")).toEqual(bytes("same bytes"));
  });

  test("a PUT refused as existing throws when the object holds other bytes, and leaves them", async () => {
    const { objects, client } = fakeBucket();
    objects.set("out/k", bytes("other byte"));
    await expect(storeOver(client).put("k", bytes("same bytes"))).rejects.toThrow("exists with other content");
    objects.set("out/j", bytes("short"));
    await expect(storeOver(client).put("j", bytes("longer bytes"))).rejects.toThrow("exists with other content");
    expect(objects.get("out/k")).toEqual(bytes("other byte"));
  });
});
