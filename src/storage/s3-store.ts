/**
 * The ParquetStore of a bucket of an S3-compatible store (client: s3-client.ts). A file becomes
 * visible in one request: a single PUT, or a multipart upload completed only once every part is
 * up; both create-only (`If-None-Match: *`), so nothing ever replaces an object. No temporary
 * names, no rename.
 *
 * Patience: every request has `s3.request_timeout` to answer, and a retriable failure (no answer,
 * HTTP 5xx or 429) is tried again with a growing pause until it has failed for `s3.retry_limit`;
 * then one StorageError, not retriable, ends the run. A refusal (credentials, a missing bucket)
 * is not retried.
 *
 * A create-only PUT refused with 412 after a retry may be meeting its own earlier attempt, which
 * landed although its answer never arrived. The object is then read back: the same bytes mean the
 * file this put was to make is there (whoever wrote it), and put succeeds; other bytes under the
 * name are a file kstream's protocol cannot produce, and put throws (see README "Exactly once on
 * S3").
 */
import type { AsyncBuffer } from "hyparquet";
import { StorageError } from "../errors.ts";
import { log } from "../ui/log.ts";
import { createS3Store, type S3Store, type S3StoreOptions } from "./s3-client.ts";
import type { S3Settings } from "./s3-config.ts";
import type { ParquetStore } from "./store.ts";

export interface S3StorePatience {
  /** How long one request may take to answer before it counts as a retriable failure. */
  readonly requestTimeoutMs: number;
  /** How long a retriable failure may last before the operation gives up. */
  readonly retryLimitMs: number;
}

export interface S3ParquetStoreOptions extends S3StorePatience, S3StoreOptions {
  /** Key prefix under the bucket: "" or "a/b/" (location.ts makes it). */
  readonly prefix: string;
  /** For tests: the pause before retry n (default 200 ms doubling to 5 s). */
  readonly pauseMs?: (attempt: number) => number;
}

export function createS3ParquetStore(settings: S3Settings, options: S3ParquetStoreOptions, client: S3Store = createS3Store(settings, options)): ParquetStore {
  const { prefix, requestTimeoutMs, retryLimitMs } = options;
  const pauseMs = options.pauseMs ?? ((attempt: number) => Math.min(200 * 2 ** attempt, 5_000));
  const root = `s3://${settings.bucket}/${prefix}`;
  const describe = (key: string) => `${root}${key}`;

  /** One request with its deadline: a store that holds the connection open without answering counts as failing. */
  const timed = <T>(operation: string, key: string, work: () => Promise<T>): Promise<T> => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new StorageError(`${operation} ${describe(key)} at ${settings.endpoint}: no answer within s3.request_timeout (${seconds(requestTimeoutMs)})`, { retriable: true })),
        requestTimeoutMs,
      );
    });
    return Promise.race([work(), deadline]).finally(() => clearTimeout(timer));
  };

  /** Runs `work` again after a retriable failure until it has failed for retryLimitMs. */
  const retrying = async <T>(operation: string, key: string, work: () => Promise<T>): Promise<T> => {
    let failingSince: number | undefined;
    for (let attempt = 0; ; attempt++) {
      try {
        const result = await timed(operation, key, work);
        if (failingSince !== undefined) log.info(`S3 answers again: ${operation} ${describe(key)} succeeded after ${seconds(Date.now() - failingSince)}`);
        return result;
      } catch (error) {
        if (!(error instanceof StorageError) || !error.retriable) throw error;
        failingSince ??= Date.now();
        if (attempt === 0) log.warn(`${error.message}; retrying for up to s3.retry_limit (${seconds(retryLimitMs)})`);
        if (Date.now() - failingSince >= retryLimitMs) {
          // No `cause`: the last failure is retriable, and a retriable cause would make the
          // callers (the partition's restarts) try again under kafka.retry_limit.
          throw new StorageError(`${error.message}; still failing after s3.retry_limit (${seconds(retryLimitMs)}), giving up`, {
            storeCode: error.storeCode,
            context: { bucket: settings.bucket, key: prefix + key },
          });
        }
        await Bun.sleep(Math.min(pauseMs(attempt), Math.max(0, failingSince + retryLimitMs - Date.now())));
      }
    }
  };

  /** The object holds exactly `bytes` (compared whole: files are tens of MB at most, and this path is rare). */
  const holds = async (key: string, bytes: Uint8Array): Promise<boolean | undefined> => {
    const info = await client.head(prefix + key);
    if (info === undefined) return undefined;
    if (info.size !== bytes.length) return false;
    if (bytes.length === 0) return true;
    const stored = await client.getRange(prefix + key, 0, bytes.length);
    return Buffer.from(stored.buffer, stored.byteOffset, stored.byteLength).equals(bytes);
  };

  return {
    kind: "s3",
    root,
    describe,
    async put(key, bytes) {
      await retrying("PUT", key, async () => {
        if ((await client.putIfAbsent(prefix + key, bytes)) === "created") return;
        const same = await holds(key, bytes);
        if (same === true) {
          log.debug(`${describe(key)} was there already with the same bytes (an earlier attempt landed)`);
          return;
        }
        // Gone again between the refusal and the look: try the create-only PUT once more.
        if (same === undefined) throw new StorageError(`PUT ${describe(key)}: refused as existing, then not found`, { retriable: true });
        throw new StorageError(
          `PUT ${describe(key)}: an object of that name exists with other content; kstream never writes two different files of one name, so another writer uses this prefix (move the object away and check with recon)`,
          { context: { bucket: settings.bucket, key: prefix + key } },
        );
      });
    },
    async list(within = "") {
      const objects = await retrying("LIST", within, () => client.list(prefix + within));
      return objects.map((object) => ({ key: object.key.slice(prefix.length), size: object.size }));
    },
    async delete(key) {
      await retrying("DELETE", key, () => client.delete(prefix + key));
    },
    async open(object) {
      return rangedBuffer(object.size, (start, end) => retrying(`GET bytes ${start}-${end - 1} of`, object.key, () => client.getRange(prefix + object.key, start, end)));
    },
  };
}

/** An AsyncBuffer whose slices are ranged GETs: hyparquet reads the footer, then only the column chunks it needs. */
export function rangedBuffer(byteLength: number, read: (start: number, end: number) => Promise<Uint8Array>): AsyncBuffer {
  return {
    byteLength,
    async slice(start: number, end?: number) {
      const stop = Math.min(end ?? byteLength, byteLength);
      if (stop <= start) return new ArrayBuffer(0);
      const bytes = await read(start, stop);
      return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
        ? (bytes.buffer as ArrayBuffer)
        : (bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
    },
  };
}

const seconds = (ms: number) => `${Math.round(ms / 100) / 10} s`;
