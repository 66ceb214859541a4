/**
 * `kstream metrics` against the real broker: watermarks, counts and lag equal what kcat and the
 * produced counts say; rates follow a running producer; `--json` has the documented shape;
 * `--prometheus` parses with the Prometheus project's own parser (prometheus_client, installed by
 * scripts/setup.sh); `--serve` answers on loopback; errors are one line and exit 1 in bounded time.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, rmSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import * as v from "valibot";
import type { MetricsReport } from "../../src/metrics/types.ts";
import { BROKER, KSTREAM_BIN, kcatConsume, parseJsonOutput, runKstream, type Workspace, createWorkspace } from "./harness.ts";

const workspaces: Workspace[] = [];
afterAll(() => {
  for (const ws of workspaces) rmSync(ws.dir, { recursive: true, force: true });
});

const PYTHON = resolve(import.meta.dir, "../../.cache/python/bin/python");

// The JSON shape the README documents, field for field: a renamed or added field fails here.
const count = v.pipe(v.number(), v.integer(), v.minValue(0));
const ReportShape = v.strictObject({
  taken_at: v.pipe(v.string(), v.isoTimestamp()),
  interval_seconds: v.number(),
  status_window_seconds: v.number(),
  cluster: v.strictObject({
    cluster_id: v.string(),
    controller_id: v.nullable(v.number()),
    brokers: v.array(v.strictObject({ id: v.number(), host: v.string(), port: v.number(), is_controller: v.boolean() })),
  }),
  topics: v.array(
    v.strictObject({
      name: v.string(),
      partition_count: count,
      messages: count,
      messages_in_per_second: v.number(),
      under_replicated_partitions: count,
      partitions: v.array(
        v.strictObject({
          partition: count,
          leader: v.number(),
          replicas: v.array(v.number()),
          in_sync_replicas: v.array(v.number()),
          offline_replicas: v.array(v.number()),
          under_replicated: v.boolean(),
          low_watermark: count,
          high_watermark: count,
          messages: count,
          messages_in_per_second: v.number(),
        }),
      ),
    }),
  ),
  groups: v.array(
    v.strictObject({
      group_id: v.string(),
      state: v.string(),
      status: v.picklist(["OK", "LAGGING", "STALLED", "STOPPED"]),
      protocol_type: v.string(),
      members: v.array(
        v.strictObject({
          member_id: v.string(),
          client_id: v.string(),
          host: v.string(),
          assignments: v.array(v.strictObject({ topic: v.string(), partitions: v.array(v.number()) })),
        }),
      ),
      lag: count,
      lag_growing: v.boolean(),
      lag_seconds_max: v.nullable(v.number()),
      consumed_per_second: v.number(),
      catch_up_seconds: v.nullable(v.number()),
      partitions: v.array(
        v.strictObject({
          topic: v.string(),
          partition: count,
          committed_offset: v.nullable(count),
          high_watermark: count,
          lag: count,
          lag_seconds: v.nullable(v.number()),
          consumed_per_second: v.number(),
          member_id: v.nullable(v.string()),
        }),
      ),
    }),
  ),
  breaches: v.array(
    v.strictObject({
      check: v.picklist(["lag", "lag_seconds", "under_replicated", "group_empty"]),
      group: v.nullable(v.string()),
      topic: v.nullable(v.string()),
      value: v.number(),
      threshold: v.nullable(v.number()),
      message: v.string(),
    }),
  ),
});

function records(n: number, from = 0): string {
  return `${Array.from({ length: n }, (_, i) => JSON.stringify({ id: from + i + 1, email: `u${from + i}@x.io`, country: "Chile", ts: "2026-01-01T00:00:00Z" })).join("\n")}\n`;
}

/** stderr lines that are breaches ("[error] breach: …"). */
const breachLines = (stderr: string): string[] => stderr.split("\n").filter((line) => line.includes("breach: "));

async function metricsJson(ws: Workspace, args: string[] = []): Promise<MetricsReport> {
  const result = await ws.run(["metrics", "--json", ...args]);
  expect(result.stderr).not.toContain("error");
  expect(result.exitCode).toBe(0);
  const report = parseJsonOutput<MetricsReport>(result);
  v.parse(ReportShape, report);
  return report;
}

/** Messages per partition as kcat reads them: for a topic nobody writes transactionally, count = high watermark. */
async function kcatCounts(topic: string): Promise<Map<number, { count: number; next: number }>> {
  const counts = new Map<number, { count: number; next: number }>();
  for (const m of await kcatConsume(topic)) {
    const entry = counts.get(m.partition) ?? { count: 0, next: 0 };
    counts.set(m.partition, { count: entry.count + 1, next: Math.max(entry.next, m.offset + 1) });
  }
  return counts;
}

/** A workspace whose group has consumed the first `consumed` records and not the `pending` after them. */
async function groupWithKnownLag(label: string, consumed: number, pending: number): Promise<{ ws: Workspace; secondProduceAt: number; committed: Map<number, number> }> {
  const ws = createWorkspace(label);
  workspaces.push(ws);
  writeFileSync(ws.path("first.ndjson"), records(consumed));
  writeFileSync(ws.path("second.ndjson"), records(pending, consumed));
  expect((await ws.run(["produce", ws.path("first.ndjson")])).exitCode).toBe(0);
  expect((await ws.run(["stream-clean", "--until-caught-up"])).exitCode).toBe(0);
  const committed = new Map([...(await kcatCounts(ws.topics.input))].map(([partition, c]) => [partition, c.next]));
  const secondProduceAt = Date.now();
  expect((await ws.run(["produce", ws.path("second.ndjson")])).exitCode).toBe(0);
  return { ws, secondProduceAt, committed };
}

/** The address `--serve` announces on stderr (port 0: the system picks one). */
async function servedUrl(stderr: ReadableStream<Uint8Array>): Promise<string> {
  const reader = stderr.getReader();
  let seen = "";
  const deadline = Date.now() + 15_000;
  try {
    while (Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      seen += new TextDecoder().decode(value);
      const url = /(http:\/\/127\.0\.0\.1:\d+)\/metrics/.exec(seen)?.[1];
      if (url) return url;
    }
  } finally {
    reader.releaseLock();
  }
  throw new Error(`--serve announced no address; stderr:\n${seen}`);
}

describe("metrics", () => {
  test("watermarks, message counts and lag equal what kcat and the produced counts say; lag in seconds comes from record timestamps", async () => {
    const { ws, secondProduceAt, committed } = await groupWithKnownLag("metrics-lag", 900, 300);
    const report = await metricsJson(ws);
    const sinceProduce = (Date.now() - secondProduceAt) / 1000;

    const input = report.topics.find((t) => t.name === ws.topics.input)!;
    expect(input.messages).toBe(1200);
    const kcat = await kcatCounts(ws.topics.input);
    for (const p of input.partitions) {
      expect(p.high_watermark).toBe(kcat.get(p.partition)?.next ?? 0);
      expect(p.messages).toBe(kcat.get(p.partition)?.count ?? 0);
      expect(p.low_watermark).toBe(0);
    }
    expect(report.topics.map((t) => t.name)).toEqual([ws.topics.input, ws.topics.staging, ws.topics.dead_letter]);

    const group = report.groups[0]!;
    expect(group.state).toBe("Empty");
    expect(group.lag).toBe(300);
    for (const p of group.partitions) {
      expect(p.committed_offset).toBe(committed.get(p.partition) ?? 0);
      expect(p.lag).toBe(p.high_watermark - p.committed_offset!);
      if (p.lag > 0) {
        expect(p.lag_seconds).not.toBeNull();
        expect(p.lag_seconds!).toBeGreaterThan(0);
        expect(p.lag_seconds!).toBeLessThan(sinceProduce + 2);
      } else expect(p.lag_seconds).toBe(0);
    }
    expect(group.lag_seconds_max).toBe(Math.max(...group.partitions.map((p) => p.lag_seconds ?? 0)));
    expect(group.catch_up_seconds).toBeNull(); // nobody consumes
  });

  test("the rate is positive while a producer runs and zero when idle", async () => {
    const ws = createWorkspace("metrics-rate");
    workspaces.push(ws);
    writeFileSync(ws.path("slow.ndjson"), records(3000));
    expect((await ws.run(["produce", "-"], { stdin: "" })).exitCode).toBe(0);
    const producer = Bun.spawn([KSTREAM_BIN, "produce", ws.path("slow.ndjson"), "--rate", "500", "--quiet", "--config", ws.configPath], { cwd: ws.dir, stdout: "ignore", stderr: "pipe" });
    try {
      await Bun.sleep(1500);
      const busy = await metricsJson(ws, ["--topic", ws.topics.input, "--interval", "1.5"]);
      expect(busy.topics[0]!.messages_in_per_second).toBeGreaterThan(100);
      expect(busy.topics[0]!.messages_in_per_second).toBeLessThan(2000);
    } finally {
      expect(await producer.exited).toBe(0);
    }
    const idle = await metricsJson(ws, ["--topic", ws.topics.input]);
    expect(idle.topics[0]!.messages).toBe(3000);
    expect(idle.topics[0]!.messages_in_per_second).toBe(0);
  });

  test("a running stream-clean shows as a Stable group whose member holds every partition", async () => {
    const ws = createWorkspace("metrics-members");
    workspaces.push(ws);
    writeFileSync(ws.path("in.ndjson"), records(500));
    expect((await ws.run(["produce", ws.path("in.ndjson")])).exitCode).toBe(0);
    const cleaner = Bun.spawn([KSTREAM_BIN, "stream-clean", "--quiet", "--config", ws.configPath], { cwd: ws.dir, stdout: "ignore", stderr: "pipe" });
    try {
      let report: MetricsReport | undefined;
      for (let attempt = 0; attempt < 40; attempt++) {
        report = await metricsJson(ws, ["--interval", "0.2"]);
        if (report.groups[0]?.state === "Stable" && report.groups[0].lag === 0) break;
        await Bun.sleep(500);
      }
      const group = report!.groups[0]!;
      expect(group.state).toBe("Stable");
      expect(group.members).toHaveLength(1);
      expect(group.members[0]!.assignments).toEqual([{ topic: ws.topics.input, partitions: [0, 1, 2] }]);
      expect(group.partitions.every((p) => p.member_id === group.members[0]!.member_id)).toBe(true);
      expect(group.lag).toBe(0);
      expect(group.lag_seconds_max).toBe(0);
    } finally {
      cleaner.kill("SIGTERM");
      expect(await cleaner.exited).toBe(0);
    }
  });

  test("--prometheus parses with the Prometheus client's own parser and says what --json says", async () => {
    const { ws } = await groupWithKnownLag("metrics-prom", 200, 50);
    const result = await ws.run(["metrics", "--prometheus", "--fail-if-lag", "10"]);
    expect(result.exitCode).toBe(1);
    expect(existsSync(PYTHON)).toBe(true); // scripts/setup.sh installs it
    const parser = Bun.spawn(
      [
        PYTHON,
        "-c",
        `import json, sys
from prometheus_client.parser import text_string_to_metric_families
families = [{"name": f.name, "type": f.type, "samples": [[s.name, s.labels, s.value] for s in f.samples]} for f in text_string_to_metric_families(sys.stdin.read())]
print(json.dumps(families))`,
      ],
      { stdin: new Blob([result.stdout]), stdout: "pipe", stderr: "pipe" },
    );
    const [out, err, code] = await Promise.all([new Response(parser.stdout).text(), new Response(parser.stderr).text(), parser.exited]);
    expect(err).toBe("");
    expect(code).toBe(0);
    const families = JSON.parse(out) as { name: string; type: string; samples: [string, Record<string, string>, number][] }[];
    const byName = new Map(families.map((f) => [f.name, f]));
    expect(families.every((f) => f.type === "gauge")).toBe(true);
    const lag = byName.get("kstream_consumergroup_lag")!.samples;
    expect(lag.reduce((sum, [, , value]) => sum + value, 0)).toBe(50);
    expect(lag.every(([, labels]) => Object.keys(labels).sort().join() === "group,partition,topic")).toBe(true);
    const highs = byName.get("kstream_topic_partition_high_watermark")!.samples.filter(([, labels]) => labels.topic === ws.topics.input);
    expect(highs.reduce((sum, [, , value]) => sum + value, 0)).toBe(250);
    expect(byName.get("kstream_consumergroup_lag_seconds")!.samples.length).toBe(3);
    expect(byName.has("kstream_topic_messages_in_per_second")).toBe(true);
    expect(byName.get("kstream_breaches")!.samples).toEqual([["kstream_breaches", {}, 1]]);
    expect(byName.get("kstream_breach")!.samples.map(([, labels]) => labels.check)).toEqual(["lag"]);
    const status = byName.get("kstream_consumergroup_status")!.samples;
    expect(status.filter(([, , value]) => value === 1).map(([, labels]) => labels.status)).toEqual(["STOPPED"]);
    expect(status).toHaveLength(4);
  });

  test("each crossed threshold is one stderr line and a breaches entry, exit 1; within bounds, exit 0", async () => {
    const { ws } = await groupWithKnownLag("metrics-fail", 200, 50);
    const breached = await ws.run(["metrics", "--json", "--fail-if-lag", "10", "--fail-if-lag-seconds", "0", "--fail-if-group-empty", "--fail-if-under-replicated"]);
    expect(breached.exitCode).toBe(1);
    const report = parseJsonOutput<MetricsReport>(breached);
    v.parse(ReportShape, report);
    const group = `it_group_${ws.topics.input.slice("it_in_".length)}`;
    expect(report.breaches.map((b) => [b.check, b.group, b.value])).toEqual([
      ["lag", group, 50],
      ["lag_seconds", group, report.groups[0]!.lag_seconds_max!],
      ["group_empty", group, 0],
    ]);
    expect(breachLines(breached.stderr)).toEqual(report.breaches.map((b) => `[error] breach: ${b.message}`));
    expect(report.groups[0]!.status).toBe("STOPPED");

    const within = await ws.run(["metrics", "--json", "--fail-if-lag", "50", "--fail-if-under-replicated"]);
    expect(within.exitCode).toBe(0);
    expect(parseJsonOutput<MetricsReport>(within).breaches).toEqual([]);
    expect(within.stderr).toBe("");

    const table = await ws.run(["metrics", "--fail-if-lag", "10"]);
    expect(table.exitCode).toBe(1);
    expect(table.stdout).toContain("1 breach:");
    expect(table.stdout).toMatch(new RegExp(`group ${group}  STOPPED  Empty`));
  });

  test("a group that never started breaches --fail-if-group-empty", async () => {
    const ws = createWorkspace("metrics-never");
    workspaces.push(ws);
    expect((await ws.run(["produce", "-"], { stdin: "" })).exitCode).toBe(0);
    const result = await ws.run(["metrics", "--json", "--fail-if-group-empty"]);
    expect(result.exitCode).toBe(1);
    expect(parseJsonOutput<MetricsReport>(result).breaches.map((b) => b.check)).toEqual(["group_empty"]);
    expect(breachLines(result.stderr)).toHaveLength(1);
  });

  test("a member that consumes without committing is STALLED under --watch; the breach is logged once and the watch exits 1", async () => {
    const { ws } = await groupWithKnownLag("metrics-stall", 200, 60);
    const group = `it_group_${ws.topics.input.slice("it_in_".length)}`;
    // kcat (librdkafka) joins the group and reads, but never commits: a consumer that makes no progress.
    const kcat = Bun.spawn(["kcat", "-b", BROKER, "-G", group, "-X", "enable.auto.commit=false", "-q", ws.topics.input], { stdout: "ignore", stderr: "pipe" });
    try {
      let joined = false;
      for (let attempt = 0; attempt < 60 && !joined; attempt++) {
        joined = (await metricsJson(ws, ["--interval", "0"])).groups[0]!.members.length === 1;
        if (!joined) await Bun.sleep(500);
      }
      expect(joined).toBe(true);
      const watcher = Bun.spawn([KSTREAM_BIN, "metrics", "--json", "--watch", "1", "--interval", "0.5", "--fail-if-lag", "10", "--config", ws.configPath], {
        cwd: ws.dir,
        stdout: "pipe",
        stderr: "pipe",
      });
      await Bun.sleep(5000);
      watcher.kill("SIGTERM");
      const [out, err, code] = await Promise.all([new Response(watcher.stdout).text(), new Response(watcher.stderr).text(), watcher.exited]);
      const documents = out.trimEnd().split("\n").map((line) => JSON.parse(line) as MetricsReport);
      expect(documents.length).toBeGreaterThanOrEqual(3);
      for (const document of documents) {
        expect(document.groups[0]!.members).toHaveLength(1);
        expect(document.groups[0]!.status).toBe("STALLED");
        expect(document.breaches.map((b) => [b.check, b.value])).toEqual([["lag", 60]]);
      }
      expect(documents.at(-1)!.status_window_seconds).toBeGreaterThan(documents[0]!.status_window_seconds);
      expect(breachLines(err)).toHaveLength(1);
      expect(code).toBe(1);
    } finally {
      kcat.kill("SIGTERM");
      await kcat.exited;
    }
  });

  test("with thresholds, --serve answers /healthz 503 with the breaches and /metrics carries the breach gauges", async () => {
    const { ws } = await groupWithKnownLag("metrics-serve-fail", 100, 20);
    const server = Bun.spawn([KSTREAM_BIN, "metrics", "--serve", "0", "--fail-if-lag", "5", "--config", ws.configPath], { cwd: ws.dir, stdout: "pipe", stderr: "pipe" });
    try {
      const url = await servedUrl(server.stderr);
      const health = await fetch(`${url}/healthz`);
      expect(health.status).toBe(503);
      const body = (await health.json()) as { status: string; breaches: { check: string; value: number }[] };
      expect(body.status).toBe("breached");
      expect(body.breaches.map((b) => [b.check, b.value])).toEqual([["lag", 20]]);
      const metrics = await (await fetch(`${url}/metrics`)).text();
      expect(metrics).toContain("kstream_breaches 1\n");
      expect(metrics).toMatch(/kstream_consumergroup_status\{group="[^"]+",status="STOPPED"\} 1\n/);
    } finally {
      server.kill("SIGTERM");
    }
    expect(await server.exited).toBe(0);
  });

  test("--serve answers /metrics and /healthz on loopback and stops on SIGTERM", async () => {
    const ws = createWorkspace("metrics-serve");
    workspaces.push(ws);
    expect((await ws.run(["produce", "-"], { stdin: "" })).exitCode).toBe(0);
    const server = Bun.spawn([KSTREAM_BIN, "metrics", "--serve", "0", "--config", ws.configPath], { cwd: ws.dir, stdout: "pipe", stderr: "pipe" });
    try {
      const url = await servedUrl(server.stderr);
      const metrics = await fetch(`${url}/metrics`);
      expect(metrics.status).toBe(200);
      expect(metrics.headers.get("content-type")).toContain("text/plain; version=0.0.4");
      expect(await metrics.text()).toContain(`kstream_topic_messages{topic="${ws.topics.input}"} 0`);
      const health = await fetch(`${url}/healthz`);
      expect(health.status).toBe(200);
      expect(await health.json()).toMatchObject({ status: "ok", brokers: 1 });
      expect((await fetch(`${url}/nothing`)).status).toBe(404);
    } finally {
      server.kill("SIGTERM");
    }
    expect(await server.exited).toBe(0);
  });

  test("--watch without a TTY writes one JSON document per interval until SIGTERM", async () => {
    const ws = createWorkspace("metrics-watch");
    workspaces.push(ws);
    expect((await ws.run(["produce", "-"], { stdin: "" })).exitCode).toBe(0);
    const watcher = Bun.spawn([KSTREAM_BIN, "metrics", "--json", "--watch", "0.5", "--interval", "0.2", "--config", ws.configPath], { cwd: ws.dir, stdout: "pipe", stderr: "pipe" });
    await Bun.sleep(4000);
    watcher.kill("SIGTERM");
    const [out, code] = await Promise.all([new Response(watcher.stdout).text(), watcher.exited]);
    expect(code).toBe(0);
    const documents = out.trimEnd().split("\n").map((line) => JSON.parse(line) as MetricsReport);
    expect(documents.length).toBeGreaterThanOrEqual(2);
    for (const document of documents) v.parse(ReportShape, document);
  });

  test("an unknown topic or group is named in one line, exit 1", async () => {
    const ws = createWorkspace("metrics-unknown");
    workspaces.push(ws);
    const topic = await ws.run(["metrics", "--topic", "no_such_topic_here"]);
    expect(topic.exitCode).toBe(1);
    expect(topic.stderr.trim()).toBe("[error] kstream metrics: unknown topic: no_such_topic_here");
    const group = await ws.run(["metrics", "--group", "no_such_group_here"]);
    expect(group.exitCode).toBe(1);
    expect(group.stderr.trim()).toBe("[error] kstream metrics: unknown consumer group: no_such_group_here");
  });

  test("unreachable brokers end in one clear line and exit 1 within the timeout", async () => {
    const started = Date.now();
    const result = await runKstream(["metrics", "--timeout", "2"], { env: { KSTREAM_KAFKA_BROKERS: "127.0.0.1:1" }, timeoutMs: 20_000 });
    expect(result.exitCode).toBe(1);
    expect(Date.now() - started).toBeLessThan(8_000);
    expect(result.stderr.trim().split("\n")).toEqual(["[error] kstream metrics: no answer from 127.0.0.1:1 within 2 s (--timeout); is the cluster up and reachable?"]);
  });
});
