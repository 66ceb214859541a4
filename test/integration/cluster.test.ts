/**
 * Failover on a real 3-node KRaft cluster (scripts/kafka.sh up --brokers 3): kstream produce keeps
 * going when the leader of partition 0 is killed (SIGKILL) mid-run, and kcat then reads every record
 * exactly once: none lost, none duplicated (idempotent producer, replication factor 3,
 * min.insync.replicas 2, acks=all).
 *
 * Slow and heavy (three brokers on a shared 2-core machine), so it runs only with
 * KSTREAM_TEST_CLUSTER=1. The cluster lives on KSTREAM_TEST_CLUSTER_PORT (default 19392: nodes on
 * 19392, 19402, 19412); it is reused when it runs, and stopped at the end only if started here.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { type RunResult, runKstream } from "./harness.ts";

const ENABLED = process.env.KSTREAM_TEST_CLUSTER === "1";
const REPO = resolve(import.meta.dir, "../..");
const PORT = Number(process.env.KSTREAM_TEST_CLUSTER_PORT ?? 19392);
const BROKERS = [1, 2, 3].map((id) => `127.0.0.1:${PORT + 10 * (id - 1)}`);
const RECORDS = 60_000;

let startedHere = false;
let killedNode: number | undefined;

async function run(command: string[], env: Record<string, string> = {}): Promise<RunResult> {
  const child = Bun.spawn(command, { env: { ...process.env, ...env }, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, exitCode] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  return { exitCode, stdout, stderr };
}
const kafkaSh = (...args: string[]) => run(["bash", join(REPO, "scripts/kafka.sh"), ...args], { KAFKA_PORT: String(PORT) });
const show = (result: RunResult) => `exit ${result.exitCode}\nstdout:\n${result.stdout.slice(-2000)}\nstderr:\n${result.stderr.slice(-2000)}`;

/** The node id leading partition 0 of the topic, once the topic exists (kcat's metadata, as JSON). */
async function leaderOfPartition0(topic: string, deadline: number): Promise<number> {
  while (Date.now() < deadline) {
    const metadata = await run(["kcat", "-b", BROKERS.join(","), "-L", "-t", topic, "-J", "-m", "5"]);
    if (metadata.exitCode === 0) {
      const parsed = JSON.parse(metadata.stdout) as { topics: Array<{ topic: string; partitions?: Array<{ partition: number; leader: number }> }> };
      const leader = parsed.topics.find((t) => t.topic === topic)?.partitions?.find((p) => p.partition === 0)?.leader;
      if (leader !== undefined && leader > 0) return leader;
    }
    await Bun.sleep(100);
  }
  throw new Error(`topic ${topic} did not appear in the cluster's metadata`);
}

describe.skipIf(!ENABLED)("kstream on a 3-node cluster", () => {
  beforeAll(async () => {
    const status = await kafkaSh("status");
    if (status.exitCode !== 0) {
      const up = await kafkaSh("up", "--brokers", "3");
      if (up.exitCode !== 0) throw new Error(`KAFKA_PORT=${PORT} scripts/kafka.sh up --brokers 3 failed:\n${up.stderr}`);
      startedHere = true;
    }
  }, 240_000);

  afterAll(async () => {
    // Bring the killed node back (a reused cluster is left whole), then stop what we started.
    if (killedNode !== undefined) await kafkaSh("start-node", String(killedNode));
    if (startedHere) await kafkaSh("down");
  }, 180_000);

  test("killing partition 0's leader mid-produce loses and duplicates nothing", async () => {
    const dir = mkdtempSync(join(tmpdir(), "kstream-cluster-"));
    const topic = `cluster_in_${process.pid}_${Date.now().toString(36)}`;
    writeFileSync(
      join(dir, "kstream.toml"),
      `[kafka]
brokers = ${JSON.stringify(BROKERS)}
client_id = "kstream-it-cluster"
retry_limit = "2 minutes"

[topics]
input = "${topic}"
staging = "${topic}_stage"
dead_letter = "${topic}_dlq"
partitions = 3
replication_factor = 3

[produce]
batch_size = 500

[ledger]
path = "ledger.db"
`,
    );
    const lines = Array.from({ length: RECORDS }, (_, i) => JSON.stringify({ id: i + 1, email: `u${i}@example.com` }));
    writeFileSync(join(dir, "input.ndjson"), `${lines.join("\n")}\n`);

    // Throttled so the kill lands in the middle of the run (about 6 s long).
    const produce = runKstream(["produce", "input.ndjson", "--rate", "10000", "--config", join(dir, "kstream.toml")], {
      cwd: dir,
      timeoutMs: 240_000,
    });
    const leader = await leaderOfPartition0(topic, Date.now() + 30_000);
    await Bun.sleep(2_000);
    const killed = await kafkaSh("stop-node", String(leader), "--kill");
    expect(killed.exitCode, show(killed)).toBe(0);
    killedNode = leader;

    const produced = await produce;
    expect(produced.exitCode, show(produced)).toBe(0);

    const survivors = BROKERS.filter((_, index) => index + 1 !== leader).join(",");
    const consumed = await run(["kcat", "-b", survivors, "-C", "-t", topic, "-o", "beginning", "-e", "-q", "-f", "%s\\n"]);
    expect(consumed.exitCode, show(consumed)).toBe(0);
    const ids = consumed.stdout
      .split("\n")
      .filter((line) => line !== "")
      .map((line) => (JSON.parse(line) as { id: number }).id);
    const distinct = new Set(ids);
    const missing = RECORDS - distinct.size;
    const duplicated = ids.length - distinct.size;
    expect({ missing, duplicated, read: ids.length }).toEqual({ missing: 0, duplicated: 0, read: RECORDS });
    // The producer's own account (its ledger) agrees with what the cluster holds.
    expect(produced.stderr).toContain(`sent ${RECORDS.toLocaleString("en-US")} records`);
  }, 300_000);
});
