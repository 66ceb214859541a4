/**
 * Chooses the ParquetStore a location names: a local folder, or for `s3://bucket/prefix` the
 * bucket, its settings resolved from the [s3] table and the standard AWS environment variables
 * (s3-config.ts). Nothing is contacted here: a wrong secret shows at the first request.
 */
import { readFileSync } from "node:fs";
import { ConfigError } from "../errors.ts";
import { createLocalStore } from "./local-store.ts";
import { parseParquetLocation } from "./location.ts";
import { type Environment, resolveS3Settings, type S3Table } from "./s3-config.ts";
import { createS3ParquetStore, type S3StorePatience } from "./s3-store.ts";
import type { ParquetStore } from "./store.ts";

export interface S3Options extends S3StorePatience {
  readonly table: S3Table;
  /** Multipart from this size, in parts of this size (bytes; at least 5 MiB). */
  readonly partSize: number;
}

export function openParquetStore(
  location: string,
  s3: S3Options,
  env: Environment = process.env,
  readFile: (path: string) => string = (path) => readFileSync(path, "utf8"),
): ParquetStore {
  const parsed = parseParquetLocation(location);
  if (typeof parsed === "string") throw new ConfigError(parsed, "clean.parquet_dir", undefined);
  if (parsed.kind === "local") return createLocalStore(parsed.dir);
  const settings = resolveS3Settings({ ...s3.table, bucket: parsed.bucket }, env, readFile);
  return createS3ParquetStore(settings, {
    prefix: parsed.prefix,
    requestTimeoutMs: s3.requestTimeoutMs,
    retryLimitMs: s3.retryLimitMs,
    multipartThreshold: s3.partSize,
    partSize: s3.partSize,
  });
}
