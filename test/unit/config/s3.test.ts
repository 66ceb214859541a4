/**
 * The [s3] table in the config: clean.parquet_dir as an s3:// URL is kept as written (not taken
 * for a path relative to the config file), a location of another scheme or a bad bucket is
 * refused naming the key, the secret's file resolves like the other path keys, a secret written
 * into the file is refused, and `kstream config` shows the secret as <redacted>, never its value.
 */
import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { formatConfig } from "../../../src/config/present.ts";
import { configSandbox, expectConfigError } from "./helpers.ts";

const sandbox = configSandbox("s3-config");

describe("Parquet on S3 in the config", () => {
  test("an s3:// parquet_dir stays as written while the secret's file resolves against the config's folder", () => {
    const file = sandbox.writeConfig('[clean]\nparquet_dir = "s3://kstream/out/parquet"\n[s3]\nsecret_access_key_file = "secret"\n', "resolve");
    writeFileSync(join(sandbox.root, "resolve", "secret"), "s3cr3t-value\n");
    const loaded = sandbox.load(file);
    expect(loaded.config.clean.parquet_dir).toBe("s3://kstream/out/parquet");
    expect(loaded.config.s3.secret_access_key_file).toBe(join(sandbox.root, "resolve", "secret"));
    expect(loaded.config.s3).toMatchObject({ path_style: true, retry_limit: "2 minutes", request_timeout: "30s", part_size_mb: 8 });
    const shown = formatConfig(loaded, "toml");
    expect(shown).toContain('secret_access_key = "<redacted>"');
    expect(shown).not.toContain("s3cr3t-value");
  });

  test("AWS_SECRET_ACCESS_KEY is redacted too, and an s3:// override from the environment is not made a path", () => {
    const file = sandbox.writeConfig("");
    const loaded = sandbox.load(file, { AWS_SECRET_ACCESS_KEY: "env-s3cr3t", KSTREAM_CLEAN_PARQUET_DIR: "s3://kstream/p" });
    expect(loaded.config.clean.parquet_dir).toBe("s3://kstream/p");
    expect(formatConfig(loaded, "json")).toContain('"secret_access_key": "<redacted>"');
    expect(formatConfig(loaded, "json")).not.toContain("env-s3cr3t");
  });

  test("a location of another scheme, or a bucket S3 would refuse, is refused naming clean.parquet_dir", () => {
    expect(expectConfigError(() => sandbox.load(sandbox.writeConfig('[clean]\nparquet_dir = "gs://kstream/x"\n'))).message).toContain("clean.parquet_dir");
    expect(expectConfigError(() => sandbox.load(sandbox.writeConfig('[clean]\nparquet_dir = "s3://Bad_Bucket/x"\n'))).message).toContain("not a bucket name");
  });

  test("a secret access key written into the file is refused, naming AWS_SECRET_ACCESS_KEY and the file key", () => {
    const error = expectConfigError(() => sandbox.load(sandbox.writeConfig('[s3]\nsecret_access_key = "pasted"\n')));
    expect(error.message).toContain("AWS_SECRET_ACCESS_KEY");
    expect(error.message).toContain("s3.secret_access_key_file");
    expect(error.message).not.toContain("pasted");
  });
});
