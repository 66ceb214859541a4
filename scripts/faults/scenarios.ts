/**
 * The fault scenarios of issue 7. Each runs the compiled binary against real brokers, injects its
 * fault for real (SIGKILL, a stopped broker, a killed partition leader, a full filesystem, a locked
 * or read-only ledger, a group member joining and leaving), lets kstream recover, and tallies what
 * the independent readers of lib.ts find lost or duplicated, plus every broken promise (exit code,
 * time bound, a clear one-line error).
 */
import { existsSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import {
  BUN,
  checkAll,
  checkCleaned,
  checkConsistentSoFar,
  checkLedger,
  checkPublished,
  checkRecon,
  errorLine,
  expectExit,
  kafkaSh,
  kcat,
  lastLine,
  newTally,
  note,
  partitionsOf,
  parquetLineage,
  Proc,
  randomBetween,
  readCount,
  readLedger,
  recon,
  run,
  sleep,
  type Tally,
  Workspace,
} from "./lib.ts";

export interface Context {
  work: string;
  records: number;
  input: string;
  lines: string[];
  port: number;
  clusterPort: number;
  /** Brings the 3-node cluster up (once) and returns its bootstrap list. */
  cluster(): Promise<string[]>;
}

export interface Scenario {
  id: string;
  name: string;
  run(context: Context): Promise<Tally>;
}

const single = (c: Context) => [`127.0.0.1:${c.port}`];

/** stream-clean --verbose prints this once a partition's transaction (rows + offset) is committed. */
const COMMITTED = /partition \d+: committed offset \d+/g;
const ASSIGNED = /assigned partitions \[\d/;
/** A clear "the brokers are gone" error says so, or names the broker and the refused connection. */
const UNREACHABLE = /ECONNREFUSED|unreachable|refused|brokers? \S+:\d+/i;

/** Starts produce paced so that the whole input takes about `seconds`: the fault lands mid-run. */
const producePaced = (ws: Workspace, c: Context, seconds: number, ...flags: string[]): Proc =>
  ws.spawn(["produce", c.input, "--rate", String(Math.ceil(c.records / seconds)), ...flags]);

async function produceAll(tally: Tally, ws: Workspace, c: Context): Promise<void> {
  expectExit(tally, await ws.kstream(["produce", c.input, "--quiet"]), 0, "produce");
}

async function cleanToEnd(tally: Tally, ws: Workspace, what = "the final stream-clean --until-caught-up"): Promise<number | undefined> {
  const result = await ws.kstream(["stream-clean", "--until-caught-up"], 600_000);
  expectExit(tally, result, 0, what);
  return readCount(result.stderr);
}

/** Polls the ledger until it counts at least `count` acknowledged records (the producer is mid-run). */
async function waitForLedger(ws: Workspace, producer: Proc, count: number, timeoutMs = 120_000): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const sent = ws.ledgerSent();
    if (sent >= count) return sent;
    if (!producer.running) throw new Error(`produce exited before ${count} records were acknowledged: ${lastLine(producer.stderr)}`);
    if (performance.now() > deadline) throw new Error(`produce had ${sent} records acknowledged after ${timeoutMs / 1000} s`);
    await sleep(100);
  }
}

/** Polls the Parquet folder until a file is renamed into place: stream-clean is mid-run, a cycle committing. */
async function waitForFiles(ws: Workspace, proc: Proc, timeoutMs = 120_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (ws.parquetFiles().length === 0) {
    if (!proc.running) throw new Error(`${proc.describe()} exited before writing a Parquet file: ${lastLine(proc.stderr)}`);
    if (performance.now() > deadline) throw new Error(`${proc.describe()} wrote no Parquet file in ${timeoutMs / 1000} s`);
    await sleep(100);
  }
}

/** Publishes the input, starts stream-clean --until-caught-up and stops the broker once its first files are written. */
async function stopBrokerMidClean(tally: Tally, ws: Workspace, c: Context): Promise<{ cleaner: Proc; downAt: number }> {
  await produceAll(tally, ws, c);
  const cleaner = ws.spawn(["stream-clean", "--until-caught-up"]);
  await waitForFiles(ws, cleaner);
  await kafkaSh(c.port, "down");
  const downAt = performance.now();
  if (!cleaner.running) tally.problems.push("stream-clean had finished before the broker went down");
  return { cleaner, downAt };
}

/** Waits until `ms` have passed since `since` (a performance.now() time). */
const sleepUntil = (since: number, ms: number) => sleep(Math.max(0, since + ms - performance.now()));

/** A clear error: a "kstream <command>: ..." line that names the cause (`about`), and no stack trace (these runs are not --verbose). */
function expectClearError(tally: Tally, stderr: string, command: string, about: RegExp, cause: string): void {
  const line = errorLine(stderr, command);
  note(`its error: ${line}`);
  if (!line.includes(`kstream ${command}: `) || !about.test(line)) tally.problems.push(`the error does not say that ${cause}: ${line}`);
  if (/^\s+at .+:\d+:\d+\)?$/m.test(stderr)) tally.problems.push(`${command} printed a stack trace`);
}

/** Every partition of every topic (the internal ones too) with all its replicas in sync. */
async function waitForFullIsr(brokers: string[], timeoutMs = 90_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const metadata = await run(["kcat", "-b", brokers.join(","), "-L", "-J", "-m", "5"], { timeoutMs: 20_000 });
    if (metadata.exitCode === 0) {
      const parsed = JSON.parse(metadata.stdout) as { brokers?: unknown[]; topics: { partitions?: { isrs?: unknown[]; replicas?: unknown[] }[] }[] };
      const short = parsed.topics.flatMap((t) => t.partitions ?? []).filter((p) => (p.isrs?.length ?? 0) < (p.replicas?.length ?? 0));
      if (short.length === 0 && (parsed.brokers?.length ?? 0) === brokers.length) return;
    }
    if (performance.now() > deadline) throw new Error("the cluster did not get all its replicas back in sync");
    await sleep(1000);
  }
}

async function leaderOf(brokers: string[], topic: string, partition = 0): Promise<number> {
  for (let attempt = 0; attempt < 60; attempt++) {
    const leader = (await partitionsOf(brokers, topic)).find((p) => p.partition === partition)?.leader;
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
async function coordinatorOf(brokers: string[], internalTopic: string, key: string): Promise<number | undefined> {
  const partitions = await partitionsOf(brokers, internalTopic);
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
  const input = await partitionsOf(brokers, ws.topics.input);
  for (const { partition, leader } of input) add(leader, `leader of ${ws.topics.input}/${partition}`);
  add(await coordinatorOf(brokers, "__consumer_offsets", ws.group), "group coordinator");
  for (const { partition } of input) {
    add(await coordinatorOf(brokers, "__transaction_state", `kstream-${ws.group}-${ws.topics.input}-${partition}`), `transaction coordinator of partition ${partition}`);
  }
  const [node, list] = [...roles].sort((a, b) => b[1].length - a[1].length)[0] ?? [await leaderOf(brokers, ws.topics.input), ["leader"]];
  return { node, roles: list };
}

const mount = (args: string[]) => run(["mount", ...args], { timeoutMs: 30_000 });
const umount = (dir: string) => run(["umount", "-l", dir], { timeoutMs: 30_000 });

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

export const scenarios: Scenario[] = [
  {
    id: "1",
    name: "kill -9 stream-clean 10 times",
    async run(c) {
      const tally = newTally(c.records);
      // Short cycles, so that the killed runs commit part of the work and the kills land at every
      // step of a cycle: mid-batch, writing Parquet, renamed but not committed, committing.
      const ws = new Workspace(c.work, "kill9", single(c), { fileMaxAge: "1s" });
      // The records arrive over ~80 s, about as long as the ten kill-and-restart rounds take (a
      // restarted member waits out the killed one's 6 s session), so the kills are spread over the
      // whole run: each killed run has fresh records to work on, whatever --records.
      const producer = producePaced(ws, c, 80, "--quiet");
      await waitForLedger(ws, producer, 1);
      const kills: string[] = [];
      for (let kill = 1; kill <= 10; kill++) {
        const cleaner = ws.spawn(["stream-clean", "--verbose"]);
        await cleaner.waitFor(ASSIGNED, 60_000);
        const delay = randomBetween(0, 3500);
        await sleep(delay);
        if (!cleaner.running) tally.problems.push(`stream-clean run ${kill} exited by itself: ${errorLine(cleaner.stderr, "stream-clean")}`);
        cleaner.kill("SIGKILL");
        const killed = await cleaner.result(30_000);
        kills.push(`${(delay / 1000).toFixed(1)}s/${killed.stderr.match(COMMITTED)?.length ?? 0}@${ws.ledgerSent()}`);
      }
      expectExit(tally, await producer.result(300_000), 0, "produce");
      note(`kills (seconds after the assignment / commits that run made @ records published by then): ${kills.join(" ")}`);
      const finalRead = await cleanToEnd(tally, ws);
      note(`the final run read ${finalRead ?? "?"} of ${c.records} records; the killed runs committed the rest`);
      await checkAll(tally, ws, c.lines);
      return tally;
    },
  },
  {
    id: "2a",
    name: "broker down 20 s during produce",
    async run(c) {
      const tally = newTally(c.records);
      const ws = new Workspace(c.work, "down-produce", single(c), { retryLimit: "60s" });
      // Paced to last ~15 s, so that the outage falls in the middle of the run.
      const producer = producePaced(ws, c, 15);
      const before = await waitForLedger(ws, producer, Math.ceil(c.records / 5));
      await kafkaSh(c.port, "down");
      const downAt = performance.now();
      await sleepUntil(downAt, 20_000);
      await kafkaSh(c.port, "up");
      const produced = await producer.result(300_000);
      note(`broker stopped with ${before} of ${c.records} acknowledged, up again 20 s later; produce exited ${produced.exitCode} ${((performance.now() - downAt) / 1000).toFixed(0)} s after the stop`);
      expectExit(tally, produced, 0, "produce through the outage");
      if (produced.exitCode !== 0) note(`its error: ${errorLine(produced.stderr, "produce")}`);
      if (!/unreachable for \d+ s/.test(produced.stderr)) tally.problems.push("produce did not say that the broker was unreachable");
      await cleanToEnd(tally, ws);
      await checkAll(tally, ws, c.lines);
      return tally;
    },
  },
  {
    id: "2b",
    name: "broker down 20 s during stream-clean",
    async run(c) {
      const tally = newTally(c.records);
      const ws = new Workspace(c.work, "down-clean", single(c), { retryLimit: "60s" });
      const { cleaner, downAt } = await stopBrokerMidClean(tally, ws, c);
      await sleepUntil(downAt, 20_000);
      await kafkaSh(c.port, "up");
      const cleaned = await cleaner.result(300_000);
      note(`broker stopped after the first Parquet files, up again 20 s later; stream-clean exited ${cleaned.exitCode} ${((performance.now() - downAt) / 1000).toFixed(0)} s after the stop, read ${readCount(cleaned.stderr) ?? "?"}`);
      expectExit(tally, cleaned, 0, "stream-clean --until-caught-up through the outage (kafka.retry_limit 60s)");
      if (cleaned.exitCode !== 0) note(`its error: ${errorLine(cleaned.stderr, "stream-clean")}`);
      // Nothing is left after a run that rode the outage out; after one that failed, this shows
      // whether what it left behind is consistent.
      const rest = await cleanToEnd(tally, ws);
      if (cleaned.exitCode === 0 && rest) tally.problems.push(`stream-clean --until-caught-up exited 0 but left ${rest} records to the next run`);
      await checkAll(tally, ws, c.lines);
      return tally;
    },
  },
  {
    id: "2c",
    name: "broker gone >= 30 s (retry_limit 10 s) during produce",
    async run(c) {
      const tally = newTally();
      const ws = new Workspace(c.work, "gone-produce", single(c), { retryLimit: "10s" });
      const producer = producePaced(ws, c, 15);
      const before = await waitForLedger(ws, producer, Math.ceil(c.records / 5));
      await kafkaSh(c.port, "down");
      const downAt = performance.now();
      const produced = await producer.result(120_000);
      const gaveUpAfter = (performance.now() - downAt) / 1000;
      note(`broker stopped with ${before} acknowledged; produce exited ${produced.exitCode} ${gaveUpAfter.toFixed(0)} s later (kafka.retry_limit 10s)`);
      expectExit(tally, produced, 1, "produce with the broker gone");
      if (gaveUpAfter > 60) tally.problems.push(`produce took ${gaveUpAfter.toFixed(0)} s to give up, with kafka.retry_limit 10s`);
      expectClearError(tally, produced.stderr, "produce", UNREACHABLE, "the broker is unreachable");
      await sleepUntil(downAt, 30_000);
      await kafkaSh(c.port, "up");
      // How far it got: the ledger's failed run holds exactly what the topic holds.
      const { runs } = readLedger(ws.ledger);
      note(`the ledger: ${runs.map((r) => `run ${r.status}, sent ${r.sent}, error "${r.error ?? ""}"`).join("; ")}`);
      if (runs.length !== 1 || runs[0]!.status !== "failed") tally.problems.push(`the ledger's run says ${runs[0]?.status ?? "nothing"}, expected failed`);
      const input = await kcat(ws.brokers, ws.topics.input, "read_uncommitted");
      tally.records = input.length;
      note(`the input topic holds ${input.length} of the file's ${c.records} records`);
      if (input.length >= c.records) tally.problems.push("everything was published: the outage did not interrupt produce");
      checkPublished(tally, c.lines, input, false);
      // The request sent as the broker went away may have landed: recon looks it up and settles it.
      const settled = await recon(ws);
      for (const line of settled.stderr.split("\n").filter((l) => l.includes("without an answer"))) note(`recon: ${line.replace(/^\[info\] /, "")}`);
      checkLedger(tally, ws.ledger, input);
      // What was published is not stranded: stream-clean cleans it and recon accounts for it.
      await cleanToEnd(tally, ws, "stream-clean --until-caught-up after the failed produce");
      await checkCleaned(tally, ws, input);
      await checkRecon(tally, ws, input.length);
      return tally;
    },
  },
  {
    id: "2d",
    name: "broker gone >= 30 s (retry_limit 10 s) during stream-clean",
    async run(c) {
      const tally = newTally(c.records);
      const ws = new Workspace(c.work, "gone-clean", single(c), { retryLimit: "10s" });
      const { cleaner, downAt } = await stopBrokerMidClean(tally, ws, c);
      // The broker stays away until stream-clean gives up (and at least 30 s).
      const result = await cleaner.result(120_000);
      const gaveUpAfter = (performance.now() - downAt) / 1000;
      await sleepUntil(downAt, 30_000);
      await kafkaSh(c.port, "up");
      note(`broker stopped mid-run; stream-clean exited ${result.exitCode}${result.timedOut ? " (killed: it hung)" : ""} ${gaveUpAfter.toFixed(0)} s later (kafka.retry_limit 10s)`);
      expectExit(tally, result, 1, "stream-clean with the broker gone");
      if (gaveUpAfter > 60) tally.problems.push(`stream-clean took ${gaveUpAfter.toFixed(0)} s to give up, with kafka.retry_limit 10s`);
      expectClearError(tally, result.stderr, "stream-clean", UNREACHABLE, "the broker is unreachable");
      // How far it got: the committed part all accounted for, the rest pending.
      await checkConsistentSoFar(tally, ws, "after it gave up");
      await cleanToEnd(tally, ws);
      await checkAll(tally, ws, c.lines);
      return tally;
    },
  },
  {
    id: "3",
    name: "3 brokers, RF 3: partition leader killed mid-produce and mid-clean",
    async run(c) {
      const tally = newTally(c.records);
      const brokers = await c.cluster();
      const ws = new Workspace(c.work, "leader", brokers, { replication: 3, retryLimit: "60s" });
      const producer = producePaced(ws, c, 12);
      await waitForLedger(ws, producer, Math.ceil(c.records / 5));
      const first = await leaderOf(brokers, ws.topics.input);
      await kafkaSh(c.clusterPort, "stop-node", String(first), "--kill");
      const acknowledged = ws.ledgerSent();
      const produced = await producer.result(300_000);
      note(`killed node ${first}, leader of ${ws.topics.input}/0, with ${acknowledged} acknowledged; produce exited ${produced.exitCode}`);
      expectExit(tally, produced, 0, "produce through the leader's death");
      if (produced.exitCode !== 0) note(`its error: ${errorLine(produced.stderr, "produce")}`);
      await kafkaSh(c.clusterPort, "start-node", String(first));
      await waitForFullIsr(brokers);

      const cleaner = ws.spawn(["stream-clean", "--until-caught-up"]);
      await waitForFiles(ws, cleaner);
      // The hardest leader to lose: the one that also coordinates the group and the transactions.
      const { node: second, roles } = await busiestNode(brokers, ws);
      await kafkaSh(c.clusterPort, "stop-node", String(second), "--kill");
      if (!cleaner.running) tally.problems.push("stream-clean had finished before the leader was killed");
      const cleaned = await cleaner.result(300_000);
      note(`killed node ${second} (${roles.join(", ")}) during stream-clean; it exited ${cleaned.exitCode}, read ${readCount(cleaned.stderr) ?? "?"}`);
      expectExit(tally, cleaned, 0, "stream-clean through the leader's death");
      if (cleaned.exitCode !== 0) note(`its error: ${errorLine(cleaned.stderr, "stream-clean")}`);
      await kafkaSh(c.clusterPort, "start-node", String(second));
      await waitForFullIsr(brokers);
      const rest = await cleanToEnd(tally, ws);
      if (cleaned.exitCode === 0 && rest) tally.problems.push(`stream-clean --until-caught-up exited 0 but left ${rest} records to the next run`);
      await checkAll(tally, ws, c.lines);
      return tally;
    },
  },
  {
    id: "4",
    name: "rebalance: a second stream-clean joins, then leaves",
    async run(c) {
      const tally = newTally(c.records);
      const ws = new Workspace(c.work, "rebalance", single(c));
      // Records keep arriving (~20 s) while the group changes shape.
      const producer = producePaced(ws, c, 20, "--quiet");
      await waitForLedger(ws, producer, 1);
      const a = ws.spawn(["stream-clean"]);
      await waitForFiles(ws, a);
      const b = ws.spawn(["stream-clean", "--verbose"]);
      await b.waitFor(ASSIGNED, 120_000);
      await b.waitFor(COMMITTED, 120_000);
      await sleep(randomBetween(200, 2000));
      const signalled = performance.now();
      b.kill("SIGTERM");
      const left = await b.result(60_000);
      const leaveSeconds = (performance.now() - signalled) / 1000;
      expectExit(tally, left, 0, "the second stream-clean, leaving on SIGTERM");
      if (leaveSeconds > 30) tally.problems.push(`the second stream-clean took ${leaveSeconds.toFixed(0)} s to leave`);
      const readByB = readCount(left.stderr) ?? 0;
      if (readByB === 0) tally.problems.push("the second stream-clean read nothing: no rebalance happened");
      expectExit(tally, await producer.result(300_000), 0, "produce");
      // The first one must take everything over: wait until recon says every record landed.
      const deadline = performance.now() + 180_000;
      let verdict = await recon(ws);
      while (verdict.exitCode !== 0 && performance.now() < deadline && a.running) {
        await sleep(1000);
        verdict = await recon(ws);
      }
      if (verdict.exitCode !== 0) tally.problems.push(`the remaining stream-clean did not take over: recon exit ${verdict.exitCode}: ${lastLine(verdict.stderr)}`);
      a.kill("SIGTERM");
      const stayed = await a.result(60_000);
      expectExit(tally, stayed, 0, "the first stream-clean, on SIGTERM");
      const assignments = stayed.stderr.match(/assigned partitions \[[^\]]*\]/g) ?? [];
      note(`the second process read ${readByB} records and left ${leaveSeconds.toFixed(1)} s after SIGTERM; the first read ${readCount(stayed.stderr) ?? "?"}, its assignments ${assignments.map((s) => s.replace("assigned partitions ", "")).join(" → ")}`);
      await checkAll(tally, ws, c.lines);
      return tally;
    },
  },
  {
    id: "5",
    name: "Parquet filesystem fills up, then space is freed",
    async run(c) {
      const tally = newTally(c.records);
      const dir = join(c.work, "small-fs");
      mkdirSync(dir, { recursive: true });
      // About half of what the run writes (~34 bytes a row in 2 s files), so that it fills mid-run.
      const sizeMb = Math.max(1, Math.round((c.records * 17) / 1024 / 1024));
      const mounted = await mount(["-t", "tmpfs", "-o", `size=${sizeMb}m`, "tmpfs", dir]);
      if (mounted.exitCode !== 0) {
        tally.problems.push(`blocked: cannot mount a ${sizeMb} MB tmpfs here (${lastLine(mounted.stderr)})`);
        return tally;
      }
      try {
        const ws = new Workspace(c.work, "disk-full", single(c), { parquetDir: join(dir, "parquet") });
        await produceAll(tally, ws, c);
        const full = await ws.kstream(["stream-clean", "--until-caught-up"], 300_000);
        note(`Parquet on a ${sizeMb} MB tmpfs: stream-clean exited ${full.exitCode} after ${full.seconds.toFixed(0)} s`);
        expectExit(tally, full, 1, "stream-clean on a full filesystem");
        expectClearError(tally, full.stderr, "stream-clean", /no space left/i, "the filesystem is full");
        // Nothing committed that it could not write: every committed offset has its row.
        const reports = await checkConsistentSoFar(tally, ws, "with the filesystem full");
        if (reports.length && reports.every((r) => r.pending === 0)) tally.problems.push("the filesystem never filled up: make it smaller");
        const leftovers = existsSync(ws.parquetDir) ? readdirSync(ws.parquetDir, { recursive: true }).map(String).filter((name) => /(^|\/)\./.test(name)) : [];
        if (leftovers.length) tally.problems.push(`temporary files left on the full filesystem: ${leftovers.slice(0, 3).join(" ")}`);
        try {
          note(`DuckDB reads all ${(await parquetLineage(ws.parquetDir)).length} rows of the ${ws.parquetFiles().length} files written before it filled up`);
        } catch (error) {
          tally.problems.push(`a Parquet file on the full filesystem is unreadable: ${String(error).split("\n")[0]}`);
        }
        const grown = await mount(["-o", "remount,size=512m", dir]);
        if (grown.exitCode !== 0) throw new Error(`cannot grow the tmpfs: ${lastLine(grown.stderr)}`);
        await cleanToEnd(tally, ws, "stream-clean --until-caught-up after space was freed");
        await checkAll(tally, ws, c.lines);
      } finally {
        await umount(dir);
      }
      return tally;
    },
  },
  {
    id: "6",
    name: "SIGTERM during a batch",
    async run(c) {
      const tally = newTally(c.records);
      const ws = new Workspace(c.work, "sigterm", single(c));
      // Records keep arriving (~20 s), so the signal always finds a batch in progress, whatever --records.
      const producer = producePaced(ws, c, 20, "--quiet");
      await waitForLedger(ws, producer, 1);
      const cleaner = ws.spawn(["stream-clean"]);
      // After the first files: inside a later cycle (an open transaction, rows buffered).
      await waitForFiles(ws, cleaner);
      await sleep(randomBetween(300, 1500));
      if (!cleaner.running) tally.problems.push("stream-clean had exited before the signal");
      if (!producer.running) tally.problems.push("produce had finished before the signal: not during a batch (use more --records)");
      const signalled = performance.now();
      cleaner.kill("SIGTERM");
      const stopped = await cleaner.result(60_000);
      const seconds = (performance.now() - signalled) / 1000;
      const read = readCount(stopped.stderr);
      note(`stream-clean stopped ${seconds.toFixed(1)} s after SIGTERM, exit ${stopped.exitCode}, read ${read ?? "?"} of ${c.records}`);
      expectExit(tally, stopped, 0, "stream-clean after SIGTERM");
      if (stopped.exitCode !== 0) note(`its error: ${errorLine(stopped.stderr, "stream-clean")}`);
      if (seconds > 30) tally.problems.push(`stream-clean took ${seconds.toFixed(0)} s to stop after SIGTERM (bound: 30 s)`);
      await checkConsistentSoFar(tally, ws, "after SIGTERM");
      expectExit(tally, await producer.result(300_000), 0, "produce");
      await cleanToEnd(tally, ws);
      await checkAll(tally, ws, c.lines);
      return tally;
    },
  },
  {
    id: "7a",
    name: "ledger locked by another process before produce",
    async run(c) {
      const tally = newTally(c.records);
      const ws = new Workspace(c.work, "ledger-locked", single(c));
      expectExit(tally, await ws.kstream(["produce", "-", "--quiet"]), 0, "produce of nothing (creates the ledger and topics)");
      const holder = lockLedger(ws.ledger, 30_000);
      await holder.waitFor(/^locked$/m, 20_000);
      const locked = await ws.kstream(["produce", c.input], 120_000);
      holder.kill();
      await holder.result();
      note(`produce with the ledger locked (BEGIN EXCLUSIVE): exit ${locked.exitCode} after ${locked.seconds.toFixed(1)} s`);
      expectExit(tally, locked, 1, "produce with the ledger locked");
      expectClearError(tally, locked.stderr, "produce", /ledger .*locked/i, "the ledger is locked");
      const input = await kcat(ws.brokers, ws.topics.input, "read_uncommitted");
      note(`the input topic holds ${input.length} records`);
      checkPublished(tally, c.lines, input, false);
      checkLedger(tally, ws.ledger, input);
      return tally;
    },
  },
  {
    id: "7b",
    name: "ledger locked by another process mid-produce",
    async run(c) {
      const tally = newTally();
      const ws = new Workspace(c.work, "ledger-midrun", single(c));
      const producer = producePaced(ws, c, 10);
      const before = await waitForLedger(ws, producer, Math.ceil(c.records / 5));
      // Held past both of produce's waits (ledger.lock_timeout, 10 s by default, then once more at
      // the end): what it owes the ledger goes to the journal beside it.
      const holder = lockLedger(ws.ledger, 25_000);
      await holder.waitFor(/^locked$/m, 20_000);
      const produced = await producer.result(120_000);
      const journal = `${ws.ledger}.unrecorded.ndjson`;
      const journalled = existsSync(journal);
      await holder.result(40_000);
      note(`ledger locked (BEGIN EXCLUSIVE, 25 s) with ${before} acknowledged; produce exited ${produced.exitCode} after ${produced.seconds.toFixed(0)} s`);
      expectExit(tally, produced, 1, "produce with the ledger locked mid-run");
      expectClearError(tally, produced.stderr, "produce", /ledger .*locked.*unrecorded\.ndjson/i, "the ledger is locked and where the records are kept");
      if (!journalled) tally.problems.push(`produce left no ${journal}`);
      const input = await kcat(ws.brokers, ws.topics.input, "read_uncommitted");
      tally.records = input.length;
      // The next command that opens the ledger adds the journal: recon here.
      await recon(ws);
      if (existsSync(journal)) tally.problems.push(`kstream recon did not add ${journal} to the ledger`);
      const { runs } = readLedger(ws.ledger);
      note(`the input topic holds ${input.length} records; the ledger after recon: ${runs.map((r) => `run ${r.status}, sent ${r.sent}`).join("; ")}`);
      checkPublished(tally, c.lines, input, false);
      checkLedger(tally, ws.ledger, input);
      return tally;
    },
  },
  {
    id: "7c",
    name: "ledger on a read-only filesystem",
    async run(c) {
      const tally = newTally(c.records);
      const dir = join(c.work, "ro-fs");
      mkdirSync(dir, { recursive: true });
      const mounted = await mount(["-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", dir]);
      if (mounted.exitCode !== 0) {
        tally.problems.push(`blocked: cannot mount a read-only tmpfs here (${lastLine(mounted.stderr)})`);
        return tally;
      }
      try {
        const ws = new Workspace(c.work, "ledger-ro", single(c), { ledgerDir: dir });
        const result = await ws.kstream(["produce", c.input], 120_000);
        note(`produce with the ledger on a read-only tmpfs: exit ${result.exitCode} after ${result.seconds.toFixed(1)} s`);
        expectExit(tally, result, 1, "produce with an unwritable ledger");
        expectClearError(tally, result.stderr, "produce", /ledger/i, "the ledger cannot be written");
        const input = await kcat(ws.brokers, ws.topics.input, "read_uncommitted");
        if (input.length > 0) tally.problems.push(`${input.length} records published with no ledger to count them`);
        tally.lost += input.length;
        if (existsSync(ws.ledger)) tally.problems.push("a ledger file appeared on the read-only filesystem");
      } finally {
        await umount(dir);
      }
      return tally;
    },
  },
  {
    id: "8",
    name: "kill -9 produce mid-request, 3 times",
    async run(c) {
      const tally = newTally();
      // A short heartbeat timeout: recon, asked after it, takes the killed runs for dead.
      const ws = new Workspace(c.work, "kill-produce", single(c), { heartbeatTimeout: "3s" });
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
        await waitForLedger(ws, producer, target).catch(() => undefined);
        producer.kill("SIGKILL");
        const result = await producer.result(60_000);
        if (result.signal === "SIGKILL") killed++;
        const { inDoubt } = readLedger(ws.ledger);
        note(`run ${round + 1}: ${result.signal === "SIGKILL" ? `killed with ${ws.ledgerSent() - sentBefore} of ${third} acknowledged` : `finished before the kill (exit ${result.exitCode})`}; in doubt so far: ${inDoubt}`);
      }
      if (killed === 0) tally.problems.push("no produce run was killed mid-run (each finished first): use more --records");
      const input = await kcat(ws.brokers, ws.topics.input, "read_uncommitted");
      tally.records = input.length;
      checkPublished(tally, c.lines, input, false);
      // Past the heartbeat timeout, recon marks the killed runs failed and looks up each one's last
      // request on the topic; the ledger then holds exactly the topic, and nothing stays in doubt.
      await Bun.sleep(3_500);
      const settled = await recon(ws);
      for (const line of settled.stderr.split("\n").filter((l) => /without an answer|stay in doubt|marked failed/.test(l))) note(`recon: ${line.replace(/^\[(info|warn)\] /, "")}`);
      checkLedger(tally, ws.ledger, input);
      const after = readLedger(ws.ledger);
      if (after.inDoubt > 0) tally.problems.push(`${after.inDoubt} records of killed runs are still in doubt after recon`);
      const stillRunning = after.runs.filter((r) => r.status === "running").length;
      if (stillRunning > 0) tally.problems.push(`${stillRunning} killed run(s) still say running after recon, past the heartbeat timeout`);
      await cleanToEnd(tally, ws);
      await checkCleaned(tally, ws, input);
      await checkRecon(tally, ws, input.length);
      return tally;
    },
  },
];
