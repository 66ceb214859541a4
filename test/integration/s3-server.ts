/**
 * The S3 server of the integration tests: `scripts/s3.sh` (versitygw) on KSTREAM_TEST_S3_PORT
 * (default 19300), reused when it runs and stopped at the end only by the file that started it;
 * its credentials as the tests hand them to kstream (key id and endpoint in the environment, the
 * secret in its file); pausing it (SIGSTOP/SIGCONT) for outages; and DuckDB over S3 (the Python
 * package with the httpfs extension from PyPI, scripts/setup.sh) as the independent reader.
 */
import { afterAll, beforeAll } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Lineage } from "./pipeline.ts";

const REPO = resolve(import.meta.dir, "../..");
export const S3_PORT = Number(process.env.KSTREAM_TEST_S3_PORT ?? 19300);
export const S3_ENDPOINT = `http://127.0.0.1:${S3_PORT}`;
export const S3_BUCKET = "kstream";
const RUN_DIR = join(process.env.KSTREAM_S3_CACHE ?? join(REPO, ".cache"), "s3-run", String(S3_PORT));
export const SECRET_FILE = join(RUN_DIR, "secret_access_key");
/**
 * Whether scripts/s3.sh has a server to start: setup.sh builds versitygw where Go is installed.
 * Without it the S3 tests are skipped (bun lists them as skipped), so a machine with only Node,
 * Java and Maven still runs everything else.
 */
export const s3ServerBuilt = () => existsSync(join(process.env.KSTREAM_S3_CACHE ?? join(REPO, ".cache"), "s3", "bin", "versitygw"));
const PYTHON = join(REPO, ".cache/python/bin/python");

export async function s3Sh(...args: string[]) {
  const child = Bun.spawn(["bash", join(REPO, "scripts/s3.sh"), ...args], { env: { ...process.env, S3_PORT: String(S3_PORT) }, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, exitCode] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  return { exitCode, stdout, stderr };
}

/** Starts the server unless it runs; true when this call started it (and should stop it). */
export async function ensureS3Server(): Promise<boolean> {
  if ((await s3Sh("status")).exitCode === 0) return false;
  const up = await s3Sh("up");
  if (up.exitCode !== 0) throw new Error(`S3_PORT=${S3_PORT} scripts/s3.sh up failed (${up.exitCode}):\n${up.stderr}`);
  return true;
}

/**
 * Registers a test file's server hooks: before its tests the server is started unless it runs;
 * after them `cleanup` runs, and the server is stopped only if this file started it. Nothing at
 * all where the server was never built (the file's describes skip themselves then).
 */
export function useS3Server(cleanup: () => void | Promise<void> = () => undefined): void {
  let startedHere = false;
  beforeAll(async () => {
    if (!s3ServerBuilt()) return;
    startedHere = await ensureS3Server();
  }, 300_000);
  afterAll(async () => {
    if (!s3ServerBuilt()) return;
    await cleanup();
    if (startedHere) await s3Sh("down");
  }, 60_000);
}

export const accessKeyId = () => readFileSync(join(RUN_DIR, "access_key_id"), "utf8").trim();

/** The environment kstream gets: the key id and endpoint as every S3 tool reads them; never the secret. */
export const s3Environment = () => ({ AWS_ACCESS_KEY_ID: accessKeyId(), AWS_ENDPOINT_URL_S3: S3_ENDPOINT, AWS_REGION: "us-east-1" });

/** The [s3] table pointing at the secret's file, plus extra keys. */
export const s3Toml = (extra = "") => `\n[s3]\nsecret_access_key_file = "${SECRET_FILE}"\n${extra}`;

const serverPid = () => Number(readFileSync(join(RUN_DIR, "versitygw.pid"), "utf8").trim());
/** Freezes the server: connections are accepted by the kernel but never answered, as a hung store. */
export const pauseS3 = () => process.kill(serverPid(), "SIGSTOP");
export const resumeS3 = () => process.kill(serverPid(), "SIGCONT");

export const duckdbAvailable = () => existsSync(PYTHON);

/**
 * Runs SQL in DuckDB (Python, httpfs loaded from the PyPI wheel's folder, a secret for the local
 * server) and returns its rows as JSON. The credentials reach Python through its environment.
 */
export async function duckdbOverS3(sql: string): Promise<unknown[][]> {
  const script = `
import duckdb, json, os, sys, duckdb_ext
con = duckdb.connect(config={"extension_directory": os.path.join(list(duckdb_ext.__path__)[0], "extensions"), "autoinstall_known_extensions": False})
con.execute("LOAD httpfs")
con.execute("CREATE SECRET local_s3 (TYPE s3, KEY_ID ?, SECRET ?, ENDPOINT ?, URL_STYLE 'path', USE_SSL false, REGION 'us-east-1')".replace("?", "'{}'").format(os.environ["KEY"], os.environ["SECRET"], os.environ["HOSTPORT"]))
try:
    rows = con.execute(sys.argv[1]).fetchall()
except duckdb.IOException as error:
    if "No files found" not in str(error): raise
    rows = []
print(json.dumps(rows, default=str))
`;
  const child = Bun.spawn([PYTHON, "-c", script, sql], {
    env: { ...process.env, KEY: accessKeyId(), SECRET: readFileSync(SECRET_FILE, "utf8").trim(), HOSTPORT: `127.0.0.1:${S3_PORT}` },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, exitCode] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  if (exitCode !== 0) throw new Error(`DuckDB over S3 failed (${exitCode}): ${stderr}`);
  return JSON.parse(stdout) as unknown[][];
}

/**
 * The `.parquet` objects under s3://bucket/prefix, by a signed ListObjectsV2 of our own (not
 * kstream's client). DuckDB's glob cannot be used on this server: DuckDB lists with
 * `encoding-type=url` and decodes the keys, but versitygw 1.8.0 returns them unencoded, so the
 * `+` in kstream's file names comes back as a space and the GET finds nothing (HTTP 404).
 */
export async function listParquetUrls(url: string): Promise<string[]> {
  const { AwsClient } = await import("aws4fetch");
  const signer = new AwsClient({ accessKeyId: accessKeyId(), secretAccessKey: readFileSync(SECRET_FILE, "utf8").trim(), service: "s3", region: "us-east-1" });
  const prefix = url.replace(`s3://${S3_BUCKET}/`, "");
  const urls: string[] = [];
  let token: string | undefined;
  do {
    const query = `list-type=2&prefix=${encodeURIComponent(`${prefix}/`)}${token ? `&continuation-token=${encodeURIComponent(token)}` : ""}`;
    const response = await signer.fetch(`${S3_ENDPOINT}/${S3_BUCKET}?${query}`);
    const xml = await response.text();
    if (response.status !== 200) throw new Error(`ListObjectsV2 ${prefix}: HTTP ${response.status} ${xml}`);
    for (const [, key] of xml.matchAll(/<Key>([^<]*)<\/Key>/g)) if (key!.endsWith(".parquet")) urls.push(`s3://${S3_BUCKET}/${key!.replaceAll("&amp;", "&")}`);
    token = /<IsTruncated>true<\/IsTruncated>/.test(xml) ? /<NextContinuationToken>([^<]*)</.exec(xml)?.[1] : undefined;
  } while (token);
  return urls;
}

/** read_parquet over the files under the URL (an explicit list: see listParquetUrls), or undefined when there are none. */
export async function parquetScan(url: string): Promise<string | undefined> {
  const urls = await listParquetUrls(url);
  return urls.length === 0 ? undefined : `read_parquet([${urls.map((u) => `'${u}'`).join(", ")}], hive_partitioning = true)`;
}

/** The lineage of every row under s3://bucket/prefix, as DuckDB reads it. */
export async function readS3Lineage(url: string): Promise<Lineage[]> {
  const scan = await parquetScan(url);
  if (!scan) return [];
  const rows = await duckdbOverS3(`SELECT source_partition, source_offset FROM ${scan}`);
  return rows.map(([partition, offset]) => ({ source_partition: Number(partition), source_offset: Number(offset) }));
}
