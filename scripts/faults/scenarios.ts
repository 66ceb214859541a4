/**
 * The fault scenarios of issue 7. Each runs the compiled binary against real brokers, injects its
 * fault for real (SIGKILL, a stopped broker, a killed partition leader, a full filesystem, a locked
 * or read-only ledger, a group member joining and leaving), lets kstream recover, and tallies what
 * the independent readers of lib.ts find lost or duplicated, plus every broken promise (exit code,
 * time bound, a clear one-line error). The shape they share (workspace, tally, tmpfs, the final
 * checks) is skeleton.ts's; each scenario here states its fault and what must hold. Scenarios 9a-9c
 * run on several hosts (scripts/hosts.sh): the cluster inside b1-b3, stream-clean processes inside
 * c1-c3, produce, recon and kcat inside c1 (the ledger's host), `recon --topic` inside c3.
 */
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import {
  BUN,
  checkAll,
  checkConsistentSoFar,
  checkReconTopic,
  checkLedger,
  checkOutput,
  errorLine,
  HOSTS_SH,
  inHost,
  kafkaSh,
  kcat,
  lastLine,
  note,
  partitionsOf,
  parquetLineage,
  Proc,
  randomBetween,
  readCount,
  readLedger,
  recon,
  ROOT,
  run,
  type S3Server,
  sleep,
  type Workspace,
  type WorkspaceOptions,
} from "./lib.ts";
import { type Context, mount, type Scenario, type Scene, scenario } from "./skeleton.ts";

/** stream-clean --verbose prints this once a partition's transaction (rows + offset) is committed. */
const COMMITTED = /partition \d+: committed offset \d+/g;
const ASSIGNED = /assigned partitions \[\d/;
/** A clear "the brokers are gone" error says so, or names the broker and the refused connection. */
const UNREACHABLE = /ECONNREFUSED|unreachable|refused|brokers? \S+:\d+/i;

/** Waits until `ms` have passed since `since` (a performance.now() time). */
const sleepUntil = (since: number, ms: number) => sleep(Math.max(0, since + ms - performance.now()));

/** Publishes the input, starts stream-clean --until-caught-up and stops the broker once its first files are written. */
async function stopBrokerMidClean(s: Scene): Promise<{ cleaner: Proc; downAt: number }> {
  await s.produceAll();
  const cleaner = s.ws.spawn(["stream-clean", "--until-caught-up"]);
  await s.waitForFiles(cleaner);
  await kafkaSh(s.c.port, "down");
  const downAt = performance.now();
  if (!cleaner.running) s.problem("stream-clean had finished before the broker went down");
  return { cleaner, downAt };
}

/** Every partition of every topic (the internal ones too) with all its replicas in sync; kcat runs inside `host` when given. */
async function waitForFullIsr(brokers: string[], timeoutMs = 90_000, host?: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const metadata = await run(inHost(host, ["kcat", "-b", brokers.join(","), "-L", "-J", "-m", "5"]), { timeoutMs: 20_000 });
    if (metadata.exitCode === 0) {
      const parsed = JSON.parse(metadata.stdout) as { brokers?: unknown[]; topics: { partitions?: { isrs?: unknown[]; replicas?: unknown[] }[] }[] };
      const short = parsed.topics.flatMap((t) => t.partitions ?? []).filter((p) => (p.isrs?.length ?? 0) < (p.replicas?.length ?? 0));
      if (short.length === 0 && (parsed.brokers?.length ?? 0) === brokers.length) return;
    }
    if (performance.now() > deadline) throw new Error("the cluster did not get all its replicas back in sync");
    await sleep(1000);
  }
}

async function leaderOf(brokers: string[], topic: string, partition = 0, host?: string): Promise<number> {
  for (let attempt = 0; attempt < 60; attempt++) {
    const leader = (await partitionsOf(brokers, topic, host)).find((p) => p.partition === partition)?.leader;
    if (leader !== undefined && leader > 0) return leader;
    await sleep(500);
  }
  throw new Error(`no leader for ${topic}/${partition}`);
}

/** Java's String.hashCode, which Kafka uses to place a group (or transactional id) on a partition of its internal topic. */
function javaHash(text: string): number {
  let hash = 0;
  for (let i = 0; i < text.length; i++) hash = (Math.imul(hash, 31) + text.charCodeAt(i)) | 0;
  return hash;
}

/** The leader of the partition of an internal topic (__consumer_offsets, __transaction_state) that holds `key`. */
async function coordinatorOf(brokers: string[], internalTopic: string, key: string, host?: string): Promise<number | undefined> {
  const partitions = await partitionsOf(brokers, internalTopic, host);
  if (partitions.length === 0) return undefined;
  const hash = javaHash(key);
  // Kafka's Utils.abs: Math.abs, with Integer.MIN_VALUE mapped to 0.
  const partition = (hash === -2147483648 ? 0 : Math.abs(hash)) % partitions.length;
  return partitions.find((p) => p.partition === partition)?.leader;
}

/**
 * The node whose death hurts stream-clean most: it leads input partitions and coordinates the
 * group and the partitions' transactions (transactional id kstream-<group>-<topic>-<partition>).
 */
async function busiestNode(brokers: string[], ws: Workspace): Promise<{ node: number; roles: string[] }> {
  const roles = new Map<number, string[]>();
  const add = (node: number | undefined, role: string) => {
    if (node !== undefined && node > 0) roles.set(node, [...(roles.get(node) ?? []), role]);
  };
  const input = await partitionsOf(brokers, ws.topics.input, ws.host);
  for (const { partition, leader } of input) add(leader, `leader of ${ws.topics.input}/${partition}`);
  add(await coordinatorOf(brokers, "__consumer_offsets", ws.group, ws.host), "group coordinator");
  for (const { partition } of input) {
    const id = `kstream-${ws.group}-${ws.topics.input}-${partition}`;
    add(await coordinatorOf(brokers, "__transaction_state", id, ws.host), `transaction coordinator of partition ${partition}`);
  }
  const [node, list] = [...roles].sort((a, b) => b[1].length - a[1].length)[0] ?? [await leaderOf(brokers, ws.topics.input, 0, ws.host), ["leader"]];
  return { node, roles: list };
}

/** Another process holding an exclusive transaction on the ledger for `ms`; it prints "locked" once it has it. */
function lockLedger(path: string, ms: number): Proc {
  const script = `
    const { Database } = require("bun:sqlite");
    const db = new Database(${JSON.stringify(path)});
    db.exec("PRAGMA busy_timeout = 10000");
    db.exec("BEGIN EXCLUSIVE");
    console.error("locked");
    setTimeout(() => { db.exec("ROLLBACK"); db.close(); }, ${ms});`;
  return new Proc([BUN, "-e", script]);
}

/** About half of what scenario 5's run writes (~34 bytes a row in 2 s files), so that it fills mid-run. */
const smallFsMb = (c: Context) => Math.max(1, Math.round((c.records * 17) / 1024 / 1024));

/** Where produce keeps what it owes a locked ledger. */
const journalOf = (ws: Workspace) => `${ws.ledger}.unrecorded.ndjson`;

// ---------- several hosts (scripts/hosts.sh) ----------

/**
 * The S3 server of the hosts, inside kstream-s3 (scripts/hosts.sh s3 up, started with the
 * cluster by run.ts): the stream-clean hosts write their Parquet to one bucket, as separate
 * machines do, and the checks read it back over the network with DuckDB.
 */
const HOSTS_S3: S3Server = {
  endpoint: "http://198.18.0.20:9000",
  bucket: "kstream",
  runDir: join(process.env.KSTREAM_S3_CACHE ?? join(ROOT, ".cache"), "s3-run", "198.18.0.20-9000"),
};

/** The workspace of 9a-9c: 6 partitions, replication 3 (min ISR 2) on the hosts' cluster, Parquet on the S3 host; produce, recon and kcat run on c1. */
const ON_HOSTS: WorkspaceOptions = { host: "c1", partitions: 6, replication: 3, retryLimit: "60s", s3: HOSTS_S3 };

const hostsSh = async (...args: string[]) => {
  const result = await run(["bash", HOSTS_SH, ...args], { timeoutMs: 60_000 });
  if (result.exitCode !== 0) throw new Error(`scripts/hosts.sh ${args.join(" ")} failed (${result.exitCode}): ${lastLine(result.stderr)}`);
};

/** `kill -9` every process inside a host's namespace (all of them were started by this suite); returns their pids. */
async function killEverythingOn(host: string): Promise<number[]> {
  const listed = await run(["ip", "netns", "pids", `kstream-${host}`], { timeoutMs: 10_000 });
  const pids = listed.stdout.split(/\s+/).filter(Boolean).map(Number);
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  return pids;
}

/** The partitions of a stream-clean process's latest assignment (its last "assigned partitions [...]" line). */
function assignmentOf(proc: Proc): number[] {
  const lines = [...proc.stderr.matchAll(/assigned partitions \[([\d, ]*)\]/g)];
  const last = lines.at(-1)?.[1] ?? "";
  return last.split(",").map((p) => p.trim()).filter(Boolean).map(Number);
}

/** Waits until the latest assignments of `procs` cover all `partitions`: the group has settled on them. */
async function waitForCover(procs: Proc[], partitions: number, timeoutMs: number): Promise<number> {
  const started = performance.now();
  for (;;) {
    const covered = new Set(procs.flatMap(assignmentOf));
    if (covered.size === partitions) return (performance.now() - started) / 1000;
    const gone = procs.find((p) => !p.running);
    if (gone) throw new Error(`${gone.describe()} exited while the group rebalanced: ${errorLine(gone.stderr, "stream-clean")}`);
    if (performance.now() - started > timeoutMs) {
      throw new Error(`the partitions did not move within ${timeoutMs / 1000} s: ${procs.map((p) => `[${assignmentOf(p).join(",")}]`).join(" ")}`);
    }
    await sleep(250);
  }
}

/** A stream-clean process on each host, following the topic (--verbose: its commits and assignments are printed). */
function cleanersOn(s: Scene, hosts: string[]): Map<string, Proc> {
  return new Map(hosts.map((host) => [host, s.ws.spawn(["stream-clean", "--verbose"], host)]));
}

/** Once produce is done: waits until recon (on the ledger's host) says every record landed, while the cleaners keep running. */
async function waitUntilLanded(s: Scene, cleaners: Proc[], timeoutMs = 180_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let verdict = await recon(s.ws);
  // Exit 1 (behind) may still change; exit 3 (missing or duplicated) never will.
  while (verdict.exitCode === 1 && performance.now() < deadline && cleaners.every((p) => p.running)) {
    await sleep(2000);
    verdict = await recon(s.ws);
  }
  if (verdict.exitCode !== 0) s.problem(`the stream-clean hosts did not clean everything: recon exit ${verdict.exitCode}: ${lastLine(verdict.stderr)}`);
}

/** SIGTERM to each remaining cleaner: each must leave with exit 0 within 30 s. */
async function stopCleaners(s: Scene, cleaners: Map<string, Proc>): Promise<void> {
  for (const [host, proc] of cleaners) {
    const { result, seconds } = await s.terminate(proc);
    s.expectExit(result, 0, `stream-clean on ${host}, on SIGTERM`);
    if (seconds > 30) s.problem(`stream-clean on ${host} took ${seconds.toFixed(0)} s to stop after SIGTERM`);
  }
}

/** Every line landed once (kcat inside c1, DuckDB, sqlite, recon of the runs on c1), and `recon --topic` agrees from c3, a host without the ledger. */
async function holdsOnHosts(s: Scene): Promise<void> {
  await checkAll(s.tally, s.ws, s.c.lines);
  await checkReconTopic(s.tally, s.ws, s.c.records, "c3");
}

export const scenarios: Scenario[] = [
  scenario({
    id: "1",
    name: "kill -9 stream-clean 10 times",
    label: "kill9",
    // Short cycles, so that the killed runs commit part of the work and the kills land at every
    // step of a cycle: mid-batch, writing Parquet, renamed but not committed, committing.
    options: { fileMaxAge: "1s" },
    async fault(s) {
      // The records arrive over ~80 s, about as long as the ten kill-and-restart rounds take (a
      // restarted member waits out the killed one's 6 s session), so the kills are spread over the
      // whole run: each killed run has fresh records to work on, whatever --records.
      const producer = s.producePaced(80, "--quiet");
      await s.waitForLedger(producer, 1);
      const kills: string[] = [];
      for (let kill = 1; kill <= 10; kill++) {
        const cleaner = s.ws.spawn(["stream-clean", "--verbose"]);
        await cleaner.waitFor(ASSIGNED, 60_000);
        const delay = randomBetween(0, 3500);
        await sleep(delay);
        if (!cleaner.running) s.problem(`stream-clean run ${kill} exited by itself: ${errorLine(cleaner.stderr, "stream-clean")}`);
        cleaner.kill("SIGKILL");
        const killed = await cleaner.result(30_000);
        kills.push(`${(delay / 1000).toFixed(1)}s/${killed.stderr.match(COMMITTED)?.length ?? 0}@${s.ws.ledgerSent()}`);
      }
      await s.producerFinished(producer);
      note(`kills (seconds after the assignment / commits that run made @ records published by then): ${kills.join(" ")}`);
      const finalRead = await s.cleanToEnd();
      note(`the final run read ${finalRead ?? "?"} of ${s.c.records} records; the killed runs committed the rest`);
    },
  }),
  scenario({
    id: "2a",
    name: "broker down 20 s during produce",
    label: "down-produce",
    options: { retryLimit: "60s" },
    async fault(s) {
      // Paced to last ~15 s, so that the outage falls in the middle of the run.
      const producer = s.producePaced(15);
      const before = await s.waitForLedger(producer, Math.ceil(s.c.records / 5));
      await kafkaSh(s.c.port, "down");
      const downAt = performance.now();
      await sleepUntil(downAt, 20_000);
      await kafkaSh(s.c.port, "up");
      const produced = await producer.result(300_000);
      note(`broker stopped with ${before} of ${s.c.records} acknowledged, up again 20 s later; produce exited ${produced.exitCode} ${((performance.now() - downAt) / 1000).toFixed(0)} s after the stop`);
      s.expectRodeOut(produced, "produce", "produce through the outage");
      if (!/unreachable for \d+ s/.test(produced.stderr)) s.problem("produce did not say that the broker was unreachable");
      await s.cleanToEnd();
    },
  }),
  scenario({
    id: "2b",
    name: "broker down 20 s during stream-clean",
    label: "down-clean",
    options: { retryLimit: "60s" },
    async fault(s) {
      const { cleaner, downAt } = await stopBrokerMidClean(s);
      await sleepUntil(downAt, 20_000);
      await kafkaSh(s.c.port, "up");
      const cleaned = await cleaner.result(300_000);
      note(`broker stopped after the first Parquet files, up again 20 s later; stream-clean exited ${cleaned.exitCode} ${((performance.now() - downAt) / 1000).toFixed(0)} s after the stop, read ${readCount(cleaned.stderr) ?? "?"}`);
      s.expectRodeOut(cleaned, "stream-clean", "stream-clean --until-caught-up through the outage (kafka.retry_limit 60s)");
      await s.cleanRest(cleaned);
    },
  }),
  scenario({
    id: "2c",
    name: "broker gone >= 30 s (retry_limit 10 s) during produce",
    label: "gone-produce",
    options: { retryLimit: "10s" },
    counts: "published",
    async fault(s) {
      const producer = s.producePaced(15);
      const before = await s.waitForLedger(producer, Math.ceil(s.c.records / 5));
      await kafkaSh(s.c.port, "down");
      const downAt = performance.now();
      const produced = await producer.result(120_000);
      const gaveUpAfter = (performance.now() - downAt) / 1000;
      note(`broker stopped with ${before} acknowledged; produce exited ${produced.exitCode} ${gaveUpAfter.toFixed(0)} s later (kafka.retry_limit 10s)`);
      s.expectExit(produced, 1, "produce with the broker gone");
      if (gaveUpAfter > 60) s.problem(`produce took ${gaveUpAfter.toFixed(0)} s to give up, with kafka.retry_limit 10s`);
      s.expectClearError(produced.stderr, "produce", UNREACHABLE, "the broker is unreachable");
      await sleepUntil(downAt, 30_000);
      await kafkaSh(s.c.port, "up");
    },
    async holds(s) {
      // How far it got: the ledger's failed run holds exactly what the topic holds.
      const { runs } = readLedger(s.ws.ledger);
      note(`the ledger: ${runs.map((r) => `run ${r.status}, sent ${r.sent}, error "${r.error ?? ""}"`).join("; ")}`);
      if (runs.length !== 1 || runs[0]!.status !== "failed") s.problem(`the ledger's run says ${runs[0]?.status ?? "nothing"}, expected failed`);
      const input = await s.publishedSoFar();
      note(`the input topic holds ${input.length} of the file's ${s.c.records} records`);
      if (input.length >= s.c.records) s.problem("everything was published: the outage did not interrupt produce");
      // The request sent as the broker went away may have landed: recon looks it up and settles it.
      const settled = await recon(s.ws);
      for (const line of settled.stderr.split("\n").filter((l) => l.includes("without an answer"))) note(`recon: ${line.replace(/^\[info\] /, "")}`);
      checkLedger(s.tally, s.ws.ledger, input);
      // What was published is not stranded: stream-clean cleans it and recon accounts for it.
      await s.cleanToEnd("stream-clean --until-caught-up after the failed produce");
      await checkOutput(s.tally, s.ws, input);
    },
  }),
  scenario({
    id: "2d",
    name: "broker gone >= 30 s (retry_limit 10 s) during stream-clean",
    label: "gone-clean",
    options: { retryLimit: "10s" },
    async fault(s) {
      const { cleaner, downAt } = await stopBrokerMidClean(s);
      // The broker stays away until stream-clean gives up (and at least 30 s).
      const result = await cleaner.result(120_000);
      const gaveUpAfter = (performance.now() - downAt) / 1000;
      await sleepUntil(downAt, 30_000);
      await kafkaSh(s.c.port, "up");
      note(`broker stopped mid-run; stream-clean exited ${result.exitCode}${result.timedOut ? " (killed: it hung)" : ""} ${gaveUpAfter.toFixed(0)} s later (kafka.retry_limit 10s)`);
      s.expectExit(result, 1, "stream-clean with the broker gone");
      if (gaveUpAfter > 60) s.problem(`stream-clean took ${gaveUpAfter.toFixed(0)} s to give up, with kafka.retry_limit 10s`);
      s.expectClearError(result.stderr, "stream-clean", UNREACHABLE, "the broker is unreachable");
      // How far it got: the committed part all accounted for, the rest pending.
      await checkConsistentSoFar(s.tally, s.ws, "after it gave up");
      await s.cleanToEnd();
    },
  }),
  scenario({
    id: "3",
    name: "3 brokers, RF 3: partition leader killed mid-produce and mid-clean",
    label: "leader",
    uses: "cluster",
    options: { replication: 3, retryLimit: "60s" },
    async fault(s) {
      const { ws } = s;
      const producer = s.producePaced(12);
      await s.waitForLedger(producer, Math.ceil(s.c.records / 5));
      const first = await leaderOf(ws.brokers, ws.topics.input);
      await kafkaSh(s.c.clusterPort, "stop-node", String(first), "--kill");
      const acknowledged = ws.ledgerSent();
      const produced = await producer.result(300_000);
      note(`killed node ${first}, leader of ${ws.topics.input}/0, with ${acknowledged} acknowledged; produce exited ${produced.exitCode}`);
      s.expectRodeOut(produced, "produce", "produce through the leader's death");
      await kafkaSh(s.c.clusterPort, "start-node", String(first));
      await waitForFullIsr(ws.brokers);

      const cleaner = ws.spawn(["stream-clean", "--until-caught-up"]);
      await s.waitForFiles(cleaner);
      // The hardest leader to lose: the one that also coordinates the group and the transactions.
      const { node: second, roles } = await busiestNode(ws.brokers, ws);
      await kafkaSh(s.c.clusterPort, "stop-node", String(second), "--kill");
      if (!cleaner.running) s.problem("stream-clean had finished before the leader was killed");
      const cleaned = await cleaner.result(300_000);
      note(`killed node ${second} (${roles.join(", ")}) during stream-clean; it exited ${cleaned.exitCode}, read ${readCount(cleaned.stderr) ?? "?"}`);
      s.expectRodeOut(cleaned, "stream-clean", "stream-clean through the leader's death");
      await kafkaSh(s.c.clusterPort, "start-node", String(second));
      await waitForFullIsr(ws.brokers);
      await s.cleanRest(cleaned);
    },
  }),
  scenario({
    id: "4",
    name: "rebalance: a second stream-clean joins, then leaves",
    label: "rebalance",
    async fault(s) {
      // Records keep arriving (~20 s) while the group changes shape.
      const producer = s.producePaced(20, "--quiet");
      await s.waitForLedger(producer, 1);
      const a = s.ws.spawn(["stream-clean"]);
      await s.waitForFiles(a);
      const b = s.ws.spawn(["stream-clean", "--verbose"]);
      await b.waitFor(ASSIGNED, 120_000);
      await b.waitFor(COMMITTED, 120_000);
      await sleep(randomBetween(200, 2000));
      const { result: left, seconds: leaveSeconds } = await s.terminate(b);
      s.expectExit(left, 0, "the second stream-clean, leaving on SIGTERM");
      if (leaveSeconds > 30) s.problem(`the second stream-clean took ${leaveSeconds.toFixed(0)} s to leave`);
      const readByB = readCount(left.stderr) ?? 0;
      if (readByB === 0) s.problem("the second stream-clean read nothing: no rebalance happened");
      await s.producerFinished(producer);
      // The first one must take everything over: wait until recon says every record landed.
      const deadline = performance.now() + 180_000;
      let verdict = await recon(s.ws);
      while (verdict.exitCode !== 0 && performance.now() < deadline && a.running) {
        await sleep(1000);
        verdict = await recon(s.ws);
      }
      if (verdict.exitCode !== 0) s.problem(`the remaining stream-clean did not take over: recon exit ${verdict.exitCode}: ${lastLine(verdict.stderr)}`);
      const { result: stayed } = await s.terminate(a);
      s.expectExit(stayed, 0, "the first stream-clean, on SIGTERM");
      const assignments = stayed.stderr.match(/assigned partitions \[[^\]]*\]/g) ?? [];
      note(`the second process read ${readByB} records and left ${leaveSeconds.toFixed(1)} s after SIGTERM; the first read ${readCount(stayed.stderr) ?? "?"}, its assignments ${assignments.map((line) => line.replace("assigned partitions ", "")).join(" → ")}`);
    },
  }),
  scenario({
    id: "5",
    name: "Parquet filesystem fills up, then space is freed",
    label: "disk-full",
    tmpfs: { folder: "small-fs", options: (c) => `size=${smallFsMb(c)}m`, describe: (c) => `a ${smallFsMb(c)} MB tmpfs` },
    options: (mounted) => ({ parquetDir: join(mounted, "parquet") }),
    async fault(s) {
      const { ws } = s;
      await s.produceAll();
      const full = await ws.kstream(["stream-clean", "--until-caught-up"], 300_000);
      note(`Parquet on a ${smallFsMb(s.c)} MB tmpfs: stream-clean exited ${full.exitCode} after ${full.seconds.toFixed(0)} s`);
      s.expectExit(full, 1, "stream-clean on a full filesystem");
      s.expectClearError(full.stderr, "stream-clean", /no space left/i, "the filesystem is full");
      // Nothing committed that it could not write: every committed offset has its row.
      const reports = await checkConsistentSoFar(s.tally, ws, "with the filesystem full");
      if (reports.length && reports.every((r) => r.pending === 0)) s.problem("the filesystem never filled up: make it smaller");
      const leftovers = existsSync(ws.parquetDir) ? readdirSync(ws.parquetDir, { recursive: true }).map(String).filter((name) => /(^|\/)\./.test(name)) : [];
      if (leftovers.length) s.problem(`temporary files left on the full filesystem: ${leftovers.slice(0, 3).join(" ")}`);
      try {
        note(`DuckDB reads all ${(await parquetLineage(ws.parquetDir)).length} rows of the ${ws.parquetFiles().length} files written before it filled up`);
      } catch (error) {
        s.problem(`a Parquet file on the full filesystem is unreadable: ${String(error).split("\n")[0]}`);
      }
      const grown = await mount(["-o", "remount,size=512m", s.mounted]);
      if (grown.exitCode !== 0) throw new Error(`cannot grow the tmpfs: ${lastLine(grown.stderr)}`);
      await s.cleanToEnd("stream-clean --until-caught-up after space was freed");
    },
  }),
  scenario({
    id: "6",
    name: "SIGTERM during a batch",
    label: "sigterm",
    async fault(s) {
      // Records keep arriving (~20 s), so the signal always finds a batch in progress, whatever --records.
      const producer = s.producePaced(20, "--quiet");
      await s.waitForLedger(producer, 1);
      const cleaner = s.ws.spawn(["stream-clean"]);
      // After the first files: inside a later cycle (an open transaction, rows buffered).
      await s.waitForFiles(cleaner);
      await sleep(randomBetween(300, 1500));
      if (!cleaner.running) s.problem("stream-clean had exited before the signal");
      if (!producer.running) s.problem("produce had finished before the signal: not during a batch (use more --records)");
      const { result: stopped, seconds } = await s.terminate(cleaner);
      const read = readCount(stopped.stderr);
      note(`stream-clean stopped ${seconds.toFixed(1)} s after SIGTERM, exit ${stopped.exitCode}, read ${read ?? "?"} of ${s.c.records}`);
      s.expectRodeOut(stopped, "stream-clean", "stream-clean after SIGTERM");
      if (seconds > 30) s.problem(`stream-clean took ${seconds.toFixed(0)} s to stop after SIGTERM (bound: 30 s)`);
      await checkConsistentSoFar(s.tally, s.ws, "after SIGTERM");
      await s.producerFinished(producer);
      await s.cleanToEnd();
    },
  }),
  scenario({
    id: "7a",
    name: "ledger locked by another process before produce",
    label: "ledger-locked",
    async fault(s) {
      const { ws } = s;
      s.expectExit(await ws.kstream(["produce", "-", "--quiet"]), 0, "produce of nothing (creates the ledger and topics)");
      const holder = lockLedger(ws.ledger, 30_000);
      await holder.waitFor(/^locked$/m, 20_000);
      const locked = await ws.kstream(["produce", s.c.input], 120_000);
      holder.kill();
      await holder.result();
      note(`produce with the ledger locked (BEGIN EXCLUSIVE): exit ${locked.exitCode} after ${locked.seconds.toFixed(1)} s`);
      s.expectExit(locked, 1, "produce with the ledger locked");
      s.expectClearError(locked.stderr, "produce", /ledger .*locked/i, "the ledger is locked");
    },
    async holds(s) {
      // Nothing published before the ledger could count it.
      const input = await s.publishedSoFar();
      note(`the input topic holds ${input.length} records`);
      checkLedger(s.tally, s.ws.ledger, input);
    },
  }),
  scenario({
    id: "7b",
    name: "ledger locked by another process mid-produce",
    label: "ledger-midrun",
    counts: "published",
    async fault(s) {
      const { ws } = s;
      const producer = s.producePaced(10);
      const before = await s.waitForLedger(producer, Math.ceil(s.c.records / 5));
      // Held past both of produce's waits (ledger.lock_timeout, 10 s by default, then once more at
      // the end): what it owes the ledger goes to the journal beside it.
      const holder = lockLedger(ws.ledger, 25_000);
      await holder.waitFor(/^locked$/m, 20_000);
      const produced = await producer.result(120_000);
      const journalled = existsSync(journalOf(ws));
      await holder.result(40_000);
      note(`ledger locked (BEGIN EXCLUSIVE, 25 s) with ${before} acknowledged; produce exited ${produced.exitCode} after ${produced.seconds.toFixed(0)} s`);
      s.expectExit(produced, 1, "produce with the ledger locked mid-run");
      s.expectClearError(produced.stderr, "produce", /ledger .*locked.*unrecorded\.ndjson/i, "the ledger is locked and where the records are kept");
      if (!journalled) s.problem(`produce left no ${journalOf(ws)}`);
    },
    async holds(s) {
      const input = await s.publishedSoFar();
      // The next command that opens the ledger adds the journal: recon here.
      await recon(s.ws);
      if (existsSync(journalOf(s.ws))) s.problem(`kstream recon did not add ${journalOf(s.ws)} to the ledger`);
      const { runs } = readLedger(s.ws.ledger);
      note(`the input topic holds ${input.length} records; the ledger after recon: ${runs.map((r) => `run ${r.status}, sent ${r.sent}`).join("; ")}`);
      checkLedger(s.tally, s.ws.ledger, input);
    },
  }),
  scenario({
    id: "7c",
    name: "ledger on a read-only filesystem",
    label: "ledger-ro",
    tmpfs: { folder: "ro-fs", options: () => "ro,size=1m", describe: () => "a read-only tmpfs" },
    options: (mounted) => ({ ledgerDir: mounted }),
    async fault(s) {
      const result = await s.ws.kstream(["produce", s.c.input], 120_000);
      note(`produce with the ledger on a read-only tmpfs: exit ${result.exitCode} after ${result.seconds.toFixed(1)} s`);
      s.expectExit(result, 1, "produce with an unwritable ledger");
      s.expectClearError(result.stderr, "produce", /ledger/i, "the ledger cannot be written");
    },
    async holds(s) {
      const input = await kcat(s.ws.brokers, s.ws.topics.input, "read_uncommitted");
      if (input.length > 0) s.problem(`${input.length} records published with no ledger to count them`);
      s.tally.lost += input.length;
      if (existsSync(s.ws.ledger)) s.problem("a ledger file appeared on the read-only filesystem");
    },
  }),
  scenario({
    id: "8",
    name: "kill -9 produce mid-request, 3 times",
    label: "kill-produce",
    // A short heartbeat timeout: recon, asked after it, takes the killed runs for dead.
    options: { heartbeatTimeout: "3s" },
    counts: "published",
    async fault(s) {
      const { c, ws } = s;
      // Three runs, each of its own third of the file (so no line is published twice), each killed
      // at full speed once a random share of it is acknowledged: a request is then nearly always on
      // its way, and sometimes landed with its answer not yet in the ledger.
      const third = Math.ceil(c.lines.length / 3);
      let killed = 0;
      for (let round = 0; round < 3; round++) {
        const part = join(c.work, `kill-produce-${round + 1}.ndjson`);
        await Bun.write(part, `${c.lines.slice(round * third, (round + 1) * third).join("\n")}\n`);
        const sentBefore = ws.ledgerSent();
        const producer = ws.spawn(["produce", part, "--quiet"]);
        const target = sentBefore + Math.ceil(third * randomBetween(0.1, 0.5));
        await s.waitForLedger(producer, target).catch(() => undefined);
        producer.kill("SIGKILL");
        const result = await producer.result(60_000);
        if (result.signal === "SIGKILL") killed++;
        const { inDoubt } = readLedger(ws.ledger);
        note(`run ${round + 1}: ${result.signal === "SIGKILL" ? `killed with ${ws.ledgerSent() - sentBefore} of ${third} acknowledged` : `finished before the kill (exit ${result.exitCode})`}; in doubt so far: ${inDoubt}`);
      }
      if (killed === 0) s.problem("no produce run was killed mid-run (each finished first): use more --records");
    },
    async holds(s) {
      const input = await s.publishedSoFar();
      // Past the heartbeat timeout, recon marks the killed runs failed and looks up each one's last
      // request on the topic; the ledger then holds exactly the topic, and nothing stays in doubt.
      await Bun.sleep(3_500);
      const settled = await recon(s.ws);
      for (const line of settled.stderr.split("\n").filter((l) => /without an answer|stay in doubt|marked failed/.test(l))) note(`recon: ${line.replace(/^\[(info|warn)\] /, "")}`);
      checkLedger(s.tally, s.ws.ledger, input);
      const after = readLedger(s.ws.ledger);
      if (after.inDoubt > 0) s.problem(`${after.inDoubt} records of killed runs are still in doubt after recon`);
      const stillRunning = after.runs.filter((r) => r.status === "running").length;
      if (stillRunning > 0) s.problem(`${stillRunning} killed run(s) still say running after recon, past the heartbeat timeout`);
      await s.cleanToEnd();
      await checkOutput(s.tally, s.ws, input);
    },
  }),
  scenario({
    id: "9a",
    name: "several hosts: kill -9 every process of stream-clean host c2",
    label: "hosts-kill",
    uses: "hosts",
    options: ON_HOSTS,
    async fault(s) {
      const producer = s.producePaced(40, "--quiet");
      await s.waitForLedger(producer, 1);
      const cleaners = cleanersOn(s, ["c1", "c2", "c3"]);
      await waitForCover([...cleaners.values()], 6, 90_000);
      const victim = cleaners.get("c2")!;
      await victim.waitFor(COMMITTED, 120_000);
      await sleep(randomBetween(200, 2000));
      const pids = await killEverythingOn("c2");
      const killed = await victim.result(30_000);
      if (killed.signal !== "SIGKILL") s.problem(`stream-clean on c2 was not killed by SIGKILL (exit ${killed.exitCode})`);
      const held = assignmentOf(victim);
      const survivors = [cleaners.get("c1")!, cleaners.get("c3")!];
      const moved = await waitForCover(survivors, 6, 60_000);
      note(`killed ${pids.length} process(es) on c2 (pids ${pids.join(" ")}), which held [${held.join(", ")}] after ${killed.stderr.match(COMMITTED)?.length ?? 0} commits; c1 and c3 held all 6 partitions ${moved.toFixed(1)} s later`);
      // A restarted c2 (its supervisor) rejoins and takes partitions back.
      const back = s.ws.spawn(["stream-clean", "--verbose"], "c2");
      cleaners.set("c2", back);
      await back.waitFor(ASSIGNED, 90_000);
      note(`the restarted c2 rejoined with [${assignmentOf(back).join(", ")}]`);
      await s.producerFinished(producer);
      await waitUntilLanded(s, [...cleaners.values()]);
      await stopCleaners(s, cleaners);
    },
    holds: holdsOnHosts,
  }),
  scenario({
    id: "9b",
    name: "several hosts: stream-clean host c2 cut off 20 s, then back",
    label: "hosts-cut-clean",
    uses: "hosts",
    options: ON_HOSTS,
    async fault(s) {
      const producer = s.producePaced(50, "--quiet");
      await s.waitForLedger(producer, 1);
      const cleaners = cleanersOn(s, ["c1", "c2", "c3"]);
      await waitForCover([...cleaners.values()], 6, 90_000);
      const zombie = cleaners.get("c2")!;
      await zombie.waitFor(COMMITTED, 120_000);
      await sleep(randomBetween(200, 2000));
      const held = assignmentOf(zombie);
      await hostsSh("cut", "c2");
      const cutAt = performance.now();
      const mark = zombie.stderr.length;
      let moved: number | undefined;
      try {
        // Its session (6 s) times out and the group gives its partitions to c1 and c3.
        moved = await waitForCover([cleaners.get("c1")!, cleaners.get("c3")!], 6, 20_000);
      } catch (error) {
        s.problem(`while c2 was cut off: ${(error as Error).message}`);
      }
      await sleepUntil(cutAt, 20_000);
      await hostsSh("heal", "c2");
      note(`cut c2, which held [${held.join(", ")}]; c1 and c3 held all 6 partitions ${moved?.toFixed(1) ?? "?"} s later; c2 back after 20 s`);
      // Back on the network, the zombie's open cycles meet the new owners' producer epochs: their
      // commits are refused (fenced), it removes their files, drops those partitions and rejoins
      // the group, without exiting; nor may any other host exit over the rebalance that follows.
      const healedMark = zombie.stderr.length;
      try {
        await zombie.waitFor(ASSIGNED, 60_000, healedMark);
        await sleep(5_000); // the rebalance its return starts settles, and the cycles it finds fenced are dropped
        await waitForCover([...cleaners.values()], 6, 60_000);
      } catch (error) {
        s.problem(`after the heal: ${(error as Error).message}`);
      }
      const fenced = zombie.stderr.slice(mark).split("\n").filter((line) => /\[warn\].*(old epoch|fenced).*left the partition to the group/i.test(line));
      note(`after the heal c2 ${zombie.running ? "stayed up" : "exited"} and rejoined with [${assignmentOf(zombie).join(", ")}]; ${fenced.length} of its cycles were fenced and dropped`);
      for (const [host, proc] of cleaners) if (!proc.running) s.problem(`stream-clean on ${host} exited after the heal: ${errorLine(proc.stderr, "stream-clean")}`);
      await s.producerFinished(producer);
      await waitUntilLanded(s, [...cleaners.values()]);
      await stopCleaners(s, cleaners);
    },
    holds: holdsOnHosts,
  }),
  scenario({
    id: "9c",
    name: "several hosts: broker host cut off 20 s mid-run",
    label: "hosts-cut-broker",
    uses: "hosts",
    options: ON_HOSTS,
    async fault(s) {
      const { ws } = s;
      const producer = s.producePaced(40, "--quiet");
      await s.waitForLedger(producer, 1);
      const cleaners = cleanersOn(s, ["c1", "c2"]);
      await waitForCover([...cleaners.values()], 6, 90_000);
      for (const proc of cleaners.values()) await proc.waitFor(COMMITTED, 120_000);
      // The broker host whose loss hurts most: it leads input partitions and coordinates the group or transactions.
      const { node, roles } = await busiestNode(ws.brokers, ws);
      const sentBefore = ws.ledgerSent();
      await hostsSh("cut", `b${node}`);
      const cutAt = performance.now();
      await sleepUntil(cutAt, 20_000);
      await hostsSh("heal", `b${node}`);
      note(`cut b${node} (${roles.join(", ")}) with ${sentBefore} of ${s.c.records} acknowledged, back after 20 s; ${ws.ledgerSent()} acknowledged by then`);
      if (!producer.running) s.problem("produce had finished before the broker host came back: not mid-run (use more --records)");
      for (const [host, proc] of cleaners) if (!proc.running) s.problem(`stream-clean on ${host} exited through the cut: ${errorLine(proc.stderr, "stream-clean")}`);
      await s.producerFinished(producer);
      await waitForFullIsr(ws.brokers, 120_000, ws.host);
      await waitUntilLanded(s, [...cleaners.values()]);
      await stopCleaners(s, cleaners);
    },
    holds: holdsOnHosts,
  }),
];
