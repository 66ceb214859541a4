/**
 * The `[s3]` table and its resolution with the standard AWS environment variables: config keys win
 * over the environment, AWS_ENDPOINT_URL_S3 over AWS_ENDPOINT_URL, the secret only from its file or
 * AWS_SECRET_ACCESS_KEY, and a missing credential is one ConfigError that names where to put it
 * and never contains a secret.
 */
import { describe, expect, test } from "bun:test";
import * as v from "valibot";
import { ConfigError } from "../../../src/errors.ts";
import { parseParquetLocation } from "../../../src/storage/location.ts";
import { resolveS3Settings, S3Schema, type S3Table, type S3Target } from "../../../src/storage/s3-config.ts";

const table = (extra: Partial<S3Table> = {}): S3Target => ({ ...v.parse(S3Schema, extra), bucket: "kstream" });
const noFile = (path: string): string => {
  throw Object.assign(new Error(`ENOENT: ${path}`), { code: "ENOENT" });
};
const KEYS = { AWS_ACCESS_KEY_ID: "AKIDENV", AWS_SECRET_ACCESS_KEY: "env-secret" };

function configError(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error("expected a ConfigError");
}

describe("the [s3] table", () => {
  test("path-style addressing is the default, as S3-compatible stores need", () => {
    expect(table().path_style).toBe(true);
  });

  test("a secret written in the table itself is refused as an unknown key", () => {
    expect(v.safeParse(S3Schema, { secret_access_key: "x" }).success).toBe(false);
  });

  test("an endpoint with a path or no scheme is refused", () => {
    expect(v.safeParse(S3Schema, { endpoint: "127.0.0.1:9000" }).success).toBe(false);
    expect(v.safeParse(S3Schema, { endpoint: "http://127.0.0.1:9000/kstream" }).success).toBe(false);
    expect(v.safeParse(S3Schema, { endpoint: "http://127.0.0.1:9000" }).success).toBe(true);
  });

  test("the bucket comes from clean.parquet_dir, and a name S3 would refuse is refused there", () => {
    expect(v.safeParse(S3Schema, { bucket: "kstream" }).success).toBe(false);
    expect(parseParquetLocation("s3://Kstream_Data/x")).toContain("is not a bucket name");
    expect(parseParquetLocation("s3://kstream/a/b/")).toEqual({ kind: "s3", bucket: "kstream", prefix: "a/b/" });
    expect(parseParquetLocation("s3://kstream")).toEqual({ kind: "s3", bucket: "kstream", prefix: "" });
    expect(parseParquetLocation("gs://kstream/x")).toContain("only s3:// URLs");
    expect(parseParquetLocation("out/parquet")).toEqual({ kind: "local", dir: "out/parquet" });
  });
});

describe("resolving the settings", () => {
  test("the environment supplies everything the table leaves out", () => {
    const settings = resolveS3Settings(table(), { ...KEYS, AWS_REGION: "eu-west-3", AWS_ENDPOINT_URL: "http://10.0.0.1:9000/" }, noFile);
    expect(settings).toMatchObject({
      endpoint: "http://10.0.0.1:9000",
      region: "eu-west-3",
      accessKeyId: "AKIDENV",
      secretAccessKey: "env-secret",
      sources: { endpoint: "AWS_ENDPOINT_URL", region: "AWS_REGION", accessKeyId: "AWS_ACCESS_KEY_ID", secretAccessKey: "AWS_SECRET_ACCESS_KEY" },
    });
  });

  test("AWS_ENDPOINT_URL_S3 wins over AWS_ENDPOINT_URL, and the table over both", () => {
    const env = { ...KEYS, AWS_ENDPOINT_URL: "http://general:1", AWS_ENDPOINT_URL_S3: "http://s3-only:2" };
    expect(resolveS3Settings(table(), env, noFile).endpoint).toBe("http://s3-only:2");
    expect(resolveS3Settings(table({ endpoint: "http://configured:3" }), env, noFile).endpoint).toBe("http://configured:3");
  });

  test("without any endpoint it is AWS S3 of the region, and the region defaults to us-east-1", () => {
    expect(resolveS3Settings(table(), KEYS, noFile)).toMatchObject({ endpoint: "https://s3.us-east-1.amazonaws.com", region: "us-east-1" });
    expect(resolveS3Settings(table(), { ...KEYS, AWS_DEFAULT_REGION: "ap-south-1" }, noFile).region).toBe("ap-south-1");
  });

  test("the table's key id wins over AWS_ACCESS_KEY_ID", () => {
    expect(resolveS3Settings(table({ access_key_id: "AKIDCONF" }), KEYS, noFile).accessKeyId).toBe("AKIDCONF");
  });

  test("the secret file's first line wins over AWS_SECRET_ACCESS_KEY", () => {
    const settings = resolveS3Settings(table({ secret_access_key_file: "/run/s3.secret" }), KEYS, (path) =>
      path === "/run/s3.secret" ? "file-secret\n" : noFile(path),
    );
    expect(settings.secretAccessKey).toBe("file-secret");
    expect(settings.sources.secretAccessKey).toBe("s3.secret_access_key_file");
  });

  test("an unreadable secret file is a ConfigError naming the key and the errno", () => {
    const error = configError(() => resolveS3Settings(table({ secret_access_key_file: "/nope" }), KEYS, noFile));
    expect(error.keyPath).toBe("s3.secret_access_key_file");
    expect(error.message).toContain("/nope: ENOENT");
  });

  test("an empty secret file is refused rather than signing with an empty key", () => {
    const error = configError(() => resolveS3Settings(table({ secret_access_key_file: "/empty" }), KEYS, () => "\n"));
    expect(error.message).toContain("/empty is empty");
  });

  test("no secret anywhere is one ConfigError naming both accepted sources", () => {
    const error = configError(() => resolveS3Settings(table(), { AWS_ACCESS_KEY_ID: "AKID" }, noFile));
    expect(error.message).toBe("s3.secret_access_key_file: no secret access key: set s3.secret_access_key_file or AWS_SECRET_ACCESS_KEY");
    expect(error.message.split("\n")).toHaveLength(1);
  });

  test("no key id anywhere is one ConfigError that does not repeat the secret", () => {
    const error = configError(() => resolveS3Settings(table(), { AWS_SECRET_ACCESS_KEY: "s3cr3t-value" }, noFile));
    expect(error.message).toContain("AWS_ACCESS_KEY_ID");
    expect(error.message).not.toContain("s3cr3t-value");
  });

  test("an endpoint from the environment that is not a URL is refused, naming the variable", () => {
    const error = configError(() => resolveS3Settings(table(), { ...KEYS, AWS_ENDPOINT_URL_S3: "localhost:9000" }, noFile));
    expect(error.keyPath).toBe("AWS_ENDPOINT_URL_S3");
  });

  test("blank environment values count as unset", () => {
    expect(resolveS3Settings(table(), { ...KEYS, AWS_REGION: "  ", AWS_ENDPOINT_URL_S3: "" }, noFile)).toMatchObject({
      region: "us-east-1",
      sources: { endpoint: "default" },
    });
  });

  test("a session token is taken from AWS_SESSION_TOKEN", () => {
    expect(resolveS3Settings(table(), { ...KEYS, AWS_SESSION_TOKEN: "tok" }, noFile).sessionToken).toBe("tok");
  });
});
