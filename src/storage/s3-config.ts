/**
 * Where an S3-compatible bucket is and how to sign for it: the `[s3]` table's valibot schema (a
 * fragment for src/config/schema.ts to mount) and the pure resolution of that table together with
 * the standard AWS environment variables into the settings the client uses.
 *
 * Precedence, as S3 tools do it: a key written in the config wins over the environment; the
 * endpoint comes from `AWS_ENDPOINT_URL_S3`, then `AWS_ENDPOINT_URL` (AWS's own order for a
 * service-specific endpoint); the region from `AWS_REGION`, then `AWS_DEFAULT_REGION`, else
 * us-east-1. The secret key never comes from the config file itself: from `secret_access_key_file`
 * when set, else `AWS_SECRET_ACCESS_KEY`. Pure: the environment and the file reader are arguments.
 */
import * as v from "valibot";
import { ConfigError } from "../errors.ts";

const optionalText = (description: string) =>
  v.optional(v.pipe(v.string(), v.minLength(1, "must not be empty"), v.description(description)));

/**
 * How to reach and sign for the store: the `[s3]` table's keys (config/schema.ts mounts them and
 * adds the patience keys). The bucket is not among them: `clean.parquet_dir = "s3://bucket/prefix"`
 * names it (location.ts), so one value says where the files are.
 */
export const S3Schema = v.strictObject({
  endpoint: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^https?:\/\/[^\s/]+\/?$/, 'expected "http(s)://host[:port]"'),
      v.description("S3-compatible endpoint (default: AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, else AWS S3 of the region)"),
    ),
  ),
  region: optionalText("region to sign for (default: AWS_REGION, AWS_DEFAULT_REGION, else us-east-1)"),
  path_style: v.optional(
    v.pipe(v.boolean(), v.description("address the bucket as endpoint/bucket/key (most S3-compatible stores need it) rather than bucket.endpoint/key")),
    true,
  ),
  access_key_id: optionalText("access key id (default: AWS_ACCESS_KEY_ID)"),
  secret_access_key_file: optionalText(
    "file holding the secret access key (the secret itself comes only from this file or AWS_SECRET_ACCESS_KEY)",
  ),
});

export type S3Table = v.InferOutput<typeof S3Schema>;

/** The table together with the bucket its location named. */
export type S3Target = S3Table & { readonly bucket: string };

/** Keys of the table holding file paths (relative to the config file's folder, like PATH_KEYS). */
export const S3_PATH_KEYS = ["s3.secret_access_key_file"] as const;

/** What the client needs, every value decided. `secretAccessKey` must never be printed. */
export interface S3Settings {
  bucket: string;
  /** "http(s)://host[:port]", no trailing slash. */
  endpoint: string;
  region: string;
  pathStyle: boolean;
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string | undefined;
  /** Where each value came from, for messages: "s3.endpoint", "AWS_ENDPOINT_URL_S3"… */
  sources: { endpoint: string; region: string; accessKeyId: string; secretAccessKey: string };
}

export type Environment = Readonly<Record<string, string | undefined>>;

/** First set, non-empty value among the candidates, with its name. */
function pick(candidates: [name: string, value: string | undefined][]): [string, string] | undefined {
  for (const [name, value] of candidates) if (value !== undefined && value.trim() !== "") return [name, value.trim()];
  return undefined;
}

/**
 * The table plus the environment into settings. `readFile` reads the secret's file (a thrown error
 * becomes a ConfigError naming the key). Throws ConfigError when no key id or secret is found.
 */
export function resolveS3Settings(table: S3Target, env: Environment, readFile: (path: string) => string): S3Settings {
  const [regionSource, region] = pick([
    ["s3.region", table.region],
    ["AWS_REGION", env.AWS_REGION],
    ["AWS_DEFAULT_REGION", env.AWS_DEFAULT_REGION],
  ]) ?? ["default", "us-east-1"];

  const [endpointSource, rawEndpoint] = pick([
    ["s3.endpoint", table.endpoint],
    ["AWS_ENDPOINT_URL_S3", env.AWS_ENDPOINT_URL_S3],
    ["AWS_ENDPOINT_URL", env.AWS_ENDPOINT_URL],
  ]) ?? ["default", `https://s3.${region}.amazonaws.com`];
  if (!/^https?:\/\/[^\s/]+\/?$/.test(rawEndpoint)) {
    throw new ConfigError(`expected "http(s)://host[:port]", got ${JSON.stringify(rawEndpoint)}`, endpointSource, undefined);
  }
  const endpoint = rawEndpoint.replace(/\/$/, "");

  const key = pick([
    ["s3.access_key_id", table.access_key_id],
    ["AWS_ACCESS_KEY_ID", env.AWS_ACCESS_KEY_ID],
  ]);
  if (!key) throw new ConfigError("no access key id: set s3.access_key_id or AWS_ACCESS_KEY_ID", "s3.access_key_id", undefined);

  let secret: [string, string] | undefined;
  if (table.secret_access_key_file !== undefined) {
    let text: string;
    try {
      text = readFile(table.secret_access_key_file);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      throw new ConfigError(`cannot read ${table.secret_access_key_file}: ${code}`, "s3.secret_access_key_file", undefined);
    }
    // A file ends with a newline more often than not; the secret is its first line.
    const line = text.split(/\r?\n/)[0]?.trim() ?? "";
    if (line === "") throw new ConfigError(`${table.secret_access_key_file} is empty`, "s3.secret_access_key_file", undefined);
    secret = ["s3.secret_access_key_file", line];
  } else {
    secret = pick([["AWS_SECRET_ACCESS_KEY", env.AWS_SECRET_ACCESS_KEY]]);
  }
  if (!secret) {
    throw new ConfigError("no secret access key: set s3.secret_access_key_file or AWS_SECRET_ACCESS_KEY", "s3.secret_access_key_file", undefined);
  }

  return {
    bucket: table.bucket,
    endpoint,
    region,
    pathStyle: table.path_style,
    accessKeyId: key[1],
    secretAccessKey: secret[1],
    sessionToken: pick([["AWS_SESSION_TOKEN", env.AWS_SESSION_TOKEN]])?.[1],
    sources: { endpoint: endpointSource, region: regionSource, accessKeyId: key[0], secretAccessKey: secret[0] },
  };
}
