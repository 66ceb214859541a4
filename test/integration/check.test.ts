/**
 * `kstream check` against real brokers: all good on the plain test broker (exit 0, the `--json`
 * shape pinned), a missing topic that may be created passes with a note and is still missing
 * afterwards (kcat), a SASL user without rights on a broker with Kafka's standard authorizer gets
 * produce / transaction / group lines that name the ACL to add (exit 1), a read-only Parquet folder
 * fails with its path, and an unreachable broker exits 1 within seconds.
 *
 * The ACL broker is `scripts/kafka.sh up --secure --acl` on its own port (KSTREAM_TEST_ACL_PORT,
 * default 19190: SASL_SSL on +2), reused when it runs, stopped at the end only when started here.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Kafka, logLevel } from "kafkajs";
import { BROKER, createWorkspace, type RunResult, runKstream } from "./harness.ts";

const REPO = resolve(import.meta.dir, "../..");
const ACL_PORT = Number(process.env.KSTREAM_TEST_ACL_PORT ?? 19190);
const SECURE_DIR = join(process.env.KSTREAM_KAFKA_CACHE ?? join(REPO, ".cache"), "kafka-run", String(ACL_PORT), "secure");
const CHECK_NAMES = ["brokers", "topic.input", "topic.staging", "topic.dead_letter", "produce", "consume", "transaction", "group", "parquet", "ledger", "measures", "rules"];

let startedHere = false;

async function kafkaSh(...args: string[]): Promise<RunResult> {
  const child = Bun.spawn(["bash", join(REPO, "scripts/kafka.sh"), ...args], { env: { ...process.env, KAFKA_PORT: String(ACL_PORT) }, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, exitCode] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  return { exitCode, stdout, stderr };
}

beforeAll(async () => {
  const status = await kafkaSh("status");
  if (status.exitCode !== 0 || !status.stdout.includes("acl:")) {
    const up = await kafkaSh("up", "--secure", "--acl");
    if (up.exitCode !== 0) throw new Error(`KAFKA_PORT=${ACL_PORT} scripts/kafka.sh up --secure --acl failed (${up.exitCode}):\n${up.stderr}`);
    startedHere = status.exitCode !== 0;
  }
}, 300_000);

afterAll(async () => {
  if (startedHere) await kafkaSh("down");
}, 60_000);

interface CheckJson {
  ok: boolean;
  config: string | null;
  checks: { name: string; verdict: string; message: string; fix: string | null }[];
}

const show = (result: RunResult) => `exit ${result.exitCode}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`;
const parse = (result: RunResult) => JSON.parse(result.stdout) as CheckJson;
const line = (result: RunResult, name: string) => result.stdout.split("\n").find((text) => text.split(/\s+/)[1] === name) ?? "";

/** Creates topics through an admin client of the test's own (the check must find them as they are). */
async function createTopics(brokers: string, topics: string[], partitions = 3): Promise<void> {
  const admin = new Kafka({ brokers: [brokers], clientId: "kstream-it-check-setup", logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    await admin.createTopics({ waitForLeaders: true, topics: topics.map((topic) => ({ topic, numPartitions: partitions, replicationFactor: 1 })) });
  } finally {
    await admin.disconnect();
  }
}

/** Topic names on the broker, listed by kcat (not by kstream). */
async function kcatTopics(brokers: string): Promise<string[]> {
  const child = Bun.spawn(["kcat", "-b", brokers, "-L", "-J"], { stdout: "pipe", stderr: "pipe" });
  const [stdout, exitCode] = await Promise.all([new Response(child.stdout).text(), child.exited]);
  if (exitCode !== 0) throw new Error("kcat -L failed");
  return (JSON.parse(stdout) as { topics: { topic: string }[] }).topics.map((topic) => topic.topic);
}

describe("kstream check on the plain test broker", () => {
  test("passes every check with exit 0 when the topics exist with the configured layout, and pins the --json shape", async () => {
    const ws = createWorkspace("check_ok");
    await createTopics(BROKER, Object.values(ws.topics));
    const text = await ws.run(["check"]);
    expect(text.exitCode, show(text)).toBe(0);
    const lines = text.stdout.trimEnd().split("\n");
    expect(lines.map((entry) => entry.split(/\s+/)[1])).toEqual(CHECK_NAMES);
    for (const entry of lines) expect(entry, show(text)).toMatch(/^OK\s/);
    expect(line(text, "topic.input")).toContain(`topic ${ws.topics.input} exists: 3 partitions, replication 1`);

    const json = await ws.run(["check", "--json"]);
    expect(json.exitCode, show(json)).toBe(0);
    const document = parse(json);
    expect(Object.keys(document)).toEqual(["ok", "config", "checks"]);
    expect(document.ok).toBe(true);
    expect(document.config).toBe(ws.configPath);
    expect(document.checks.map((check) => check.name)).toEqual(CHECK_NAMES);
    for (const check of document.checks) {
      expect(Object.keys(check)).toEqual(["name", "verdict", "message", "fix"]);
      expect(check.verdict).toBe("ok");
      expect(check.fix).toBeNull();
    }
  }, 120_000);

  test("passes a missing topic that may be created, with a note, and leaves it missing", async () => {
    const ws = createWorkspace("check_missing");
    const result = await ws.run(["check", "--json"]);
    expect(result.exitCode, show(result)).toBe(0);
    const input = parse(result).checks.find((check) => check.name === "topic.input")!;
    expect(input.verdict).toBe("ok");
    expect(input.message).toContain(`topic ${ws.topics.input} does not exist yet; may be created`);
    // validateOnly: nothing was created, and the write/read probes appended nothing anywhere.
    expect(await kcatTopics(BROKER)).not.toContain(ws.topics.input);
  }, 120_000);

  test("warns, without failing, when an existing topic has another partition count than the config", async () => {
    const ws = createWorkspace("check_layout");
    await createTopics(BROKER, [ws.topics.input], 1);
    const result = await ws.run(["check"]);
    expect(result.exitCode, show(result)).toBe(0);
    expect(line(result, "topic.input")).toMatch(/^WARN .*1 partitions \(topics.partitions is 3\)/);
  }, 120_000);

  test("fails the Parquet line with the folder's path when the folder is on a read-only filesystem", async () => {
    const ws = createWorkspace("check_ro");
    const readOnly = mkdtempSync(join(tmpdir(), "kstream-it-check-ro-"));
    // Root ignores permission bits: only a read-only mount refuses it.
    const mount = Bun.spawnSync(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", readOnly]);
    if (mount.exitCode !== 0) throw new Error(`cannot mount a read-only tmpfs: ${mount.stderr.toString()}`);
    try {
      const parquet = join(readOnly, "parquet");
      const result = await ws.run(["check"], { env: { KSTREAM_CLEAN_PARQUET_DIR: parquet } });
      expect(result.exitCode, show(result)).toBe(1);
      expect(line(result, "parquet")).toMatch(/^FAIL/);
      expect(line(result, "parquet")).toContain(parquet);
      expect(line(result, "parquet")).toContain("EROFS");
      for (const other of ["brokers", "ledger", "rules"]) expect(line(result, other)).toMatch(/^OK/);
    } finally {
      Bun.spawnSync(["umount", readOnly]);
    }
  }, 120_000);

  test("exits 1 within seconds with one failing brokers line when no broker listens", async () => {
    const dir = mkdtempSync(join(tmpdir(), "kstream-it-check-down-"));
    const config = join(dir, "kstream.toml");
    writeFileSync(config, '[kafka]\nbrokers = ["127.0.0.1:1"]\n');
    const started = Date.now();
    const result = await runKstream(["check", "--json", "--config", config], { cwd: dir, timeoutMs: 60_000 });
    const seconds = (Date.now() - started) / 1000;
    expect(result.exitCode, show(result)).toBe(1);
    expect(seconds).toBeLessThan(30);
    const checks = parse(result).checks;
    expect(checks[0]).toMatchObject({ name: "brokers", verdict: "fail" });
    expect(checks[0]!.message).toContain("127.0.0.1:1");
    expect(checks.filter((check) => check.verdict === "fail").map((check) => check.name)).toEqual(["brokers"]);
    expect(checks.filter((check) => check.verdict === "skip").length).toBe(7);
  }, 90_000);
});

describe("kstream check on a broker with ACLs (SASL_SSL, standard authorizer)", () => {
  function aclWorkspace(label: string, user: "kstream" | "limited") {
    const dir = mkdtempSync(join(tmpdir(), `kstream-it-check-${label}-`));
    mkdirSync(join(dir, "out"));
    const suffix = `${label}_${process.pid}_${Date.now().toString(36)}`;
    const topics = { input: `acl_in_${suffix}`, staging: `acl_stage_${suffix}`, dead_letter: `acl_dlq_${suffix}` };
    const group = `acl_group_${suffix}`;
    const configPath = join(dir, "kstream.toml");
    writeFileSync(
      configPath,
      `[kafka]
brokers = ["127.0.0.1:${ACL_PORT + 2}"]
[kafka.sasl]
mechanism = "scram-sha-512"
username = "${user}"
password_file = "${join(SECURE_DIR, user === "kstream" ? "sasl.password" : "limited.password")}"
[kafka.tls]
ca_file = "${join(SECURE_DIR, "ca.pem")}"
[topics]
input = "${topics.input}"
staging = "${topics.staging}"
dead_letter = "${topics.dead_letter}"
[clean]
group_id = "${group}"
`,
    );
    return { topics, group, run: (args: string[]) => runKstream([...args, "--config", configPath], { cwd: dir, timeoutMs: 90_000 }) };
  }

  test("names the ACL to add on the produce, transaction and group lines for a user without rights, and exits 1", async () => {
    const ws = aclWorkspace("limited", "limited");
    // Created by the broker's super user on PLAINTEXT: the user may describe topics, nothing else.
    await createTopics(`127.0.0.1:${ACL_PORT}`, Object.values(ws.topics));
    const result = await ws.run(["check"]);
    expect(result.exitCode, show(result)).toBe(1);
    expect(line(result, "brokers")).toMatch(/^OK .*User:limited/);
    expect(line(result, "topic.input")).toMatch(/^OK/);
    const produce = line(result, "produce");
    expect(produce).toMatch(/^FAIL/);
    expect(produce).toContain(`--allow-principal User:limited --operation Write --topic ${ws.topics.input}`);
    expect(produce).toContain("TOPIC_AUTHORIZATION_FAILED");
    const transaction = line(result, "transaction");
    expect(transaction).toMatch(/^FAIL/);
    expect(transaction).toContain(`--transactional-id kstream-${ws.group}- --resource-pattern-type prefixed`);
    const group = line(result, "group");
    expect(group).toMatch(/^FAIL/);
    expect(group).toContain(`--allow-principal User:limited --operation Read --group ${ws.group}`);
    // The secret never appears.
    const password = readFileSync(join(SECURE_DIR, "limited.password"), "utf8").trim();
    expect(result.stdout + result.stderr).not.toContain(password);
  }, 120_000);

  test("passes every Kafka check for the super user on the same broker", async () => {
    const ws = aclWorkspace("super", "kstream");
    await createTopics(`127.0.0.1:${ACL_PORT}`, Object.values(ws.topics));
    const result = await ws.run(["check", "--json"]);
    expect(result.exitCode, show(result)).toBe(0);
    for (const check of parse(result).checks) expect(check.verdict, `${check.name}: ${check.message}`).toBe("ok");
  }, 120_000);
});
