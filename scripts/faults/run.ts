/**
 * The fault suite (issue 7), started by scripts/faults.sh (which starts the single broker, builds
 * the binary when missing and cleans up). Runs the scenarios of scenarios.ts in order and prints
 * on stdout one line per scenario,
 *
 *   scenario | records | lost | duplicated | verdict
 *
 * then "faults: N passed, N failed, N skipped (...)". What each scenario saw, and why one failed,
 * goes to stderr. Exit 0 only when no scenario failed. The scenarios on the namespaced hosts
 * (scripts/hosts.sh) are skipped, with the reason on their line, where hosts.sh cannot build them
 * (not root, no `ip netns`); the suite builds that network when it is not up and takes it down
 * again (with the S3 host the stream-clean hosts write to), and leaves the markers .hosts-built /
 * .hosts-kafka / .hosts-s3 in the work folder so that
 * scripts/faults.sh can tear them down after an interruption.
 *
 *   bun scripts/faults/run.ts [--records 200000] [--only 1,2b,7] [--port 19500] [--cluster-port 19600] [--work DIR]
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { generate, HOSTS_SH, inputLines, kafkaSh, killAll, lastLine, note, run } from "./lib.ts";
import { scenarios } from "./scenarios.ts";
import type { Context } from "./skeleton.ts";

const { values: flags } = parseArgs({
  options: {
    records: { type: "string", default: "200000" },
    only: { type: "string" },
    port: { type: "string", default: "19500" },
    "cluster-port": { type: "string", default: "19600" },
    work: { type: "string" },
  },
});

const fail = (message: string): never => {
  process.stderr.write(`faults: ${message}\n`);
  process.exit(2);
};
const records = Number(flags.records);
if (!Number.isInteger(records) || records < 1000) fail(`--records expects a whole number of at least 1000, got ${flags.records}`);
const wanted = flags.only?.split(",").map((id) => id.trim()).filter(Boolean);
// "2" selects 2a..2d, "7" selects 7a..7c, "9" selects 9a..9c.
// KSTREAM_FAULTS_HOSTS=0 leaves out the several-hosts scenarios (9a-9c, about 5 minutes).
const hostsByDefault = process.env.KSTREAM_FAULTS_HOSTS !== "0";
const selected = scenarios.filter(({ id }) =>
  wanted ? wanted.some((w) => w === id || w === id.replace(/[a-z]$/, "")) : hostsByDefault || !id.startsWith("9"),
);
if (selected.length === 0) fail(`--only ${flags.only} names no scenario (ids: ${scenarios.map((s) => s.id).join(", ")})`);

const work = flags.work ?? mkdtempSync(join(tmpdir(), "kstream-faults-"));
mkdirSync(work, { recursive: true });
const port = Number(flags.port);
const clusterPort = Number(flags["cluster-port"]);

/** The cluster of scripts/hosts.sh: node i inside kstream-b<i>, on its own address. */
const HOSTS_BROKERS = ["198.18.0.11:9092", "198.18.0.12:9092", "198.18.0.13:9092"];
const hostsMarker = (name: "built" | "kafka" | "s3") => join(work, `.hosts-${name}`);

async function hostsSh(...args: string[]): Promise<{ exitCode: number; stderr: string }> {
  const result = await run(["bash", HOSTS_SH, ...args], { timeoutMs: 240_000 });
  return { exitCode: result.exitCode, stderr: result.stderr };
}
async function mustHostsSh(...args: string[]): Promise<void> {
  const result = await hostsSh(...args);
  if (result.exitCode !== 0) throw new Error(`scripts/hosts.sh ${args.join(" ")} failed (${result.exitCode}): ${result.stderr.trim()}`);
}

let hosts = "unknown" as "unknown" | "up" | { skip: string };
let hostsBuilt = false;
async function hostsDown(): Promise<void> {
  if (hosts !== "up") return;
  await hostsSh("kafka", "down", "--purge");
  rmSync(hostsMarker("kafka"), { force: true });
  await hostsSh("s3", "down", "--purge");
  rmSync(hostsMarker("s3"), { force: true });
  if (hostsBuilt) {
    await hostsSh("down");
    rmSync(hostsMarker("built"), { force: true });
    hostsBuilt = false;
  }
  hosts = "unknown";
}

let clusterUp = false;
const context: Context = {
  work,
  records,
  input: "",
  lines: [],
  port,
  clusterPort,
  async cluster() {
    if (!clusterUp) {
      await kafkaSh(clusterPort, "down", "--purge").catch(() => undefined);
      await kafkaSh(clusterPort, "up", "--brokers", "3");
      clusterUp = true;
    }
    return [0, 10, 20].map((offset) => `127.0.0.1:${clusterPort + offset}`);
  },
  async hosts() {
    if (typeof hosts === "object") return hosts;
    if (hosts === "up") return HOSTS_BROKERS;
    const status = await hostsSh("status");
    if (status.exitCode === 4) {
      // hosts.sh says why it cannot run here (not root, no ip netns).
      hosts = { skip: lastLine(status.stderr).replace(/^hosts\.sh: /, "").replace(/; skipping$/, "") };
      return hosts;
    }
    if (status.exitCode !== 0) {
      writeFileSync(hostsMarker("built"), "");
      hostsBuilt = true;
      await mustHostsSh("up");
    }
    // A fresh cluster: leftovers of an earlier run must not count.
    writeFileSync(hostsMarker("kafka"), "");
    await hostsSh("kafka", "down", "--purge");
    await mustHostsSh("kafka", "up");
    // The stream-clean hosts write their Parquet to the S3 host (scenarios.ts, HOSTS_S3).
    writeFileSync(hostsMarker("s3"), "");
    await hostsSh("s3", "down", "--purge");
    await mustHostsSh("s3", "up");
    hosts = "up";
    return HOSTS_BROKERS;
  },
};

const interrupted = (signal: string) => {
  killAll();
  process.stderr.write(`faults: interrupted (${signal})\n`);
  process.exit(130);
};
// hosts.sh and the brokers are stopped by scripts/faults.sh, which sees the markers.
process.on("SIGINT", () => interrupted("SIGINT"));
process.on("SIGTERM", () => interrupted("SIGTERM"));

const suiteStarted = performance.now();
context.input = await generate(work, records);
context.lines = inputLines(context.input);
process.stderr.write(`faults: ${records} records (${context.input}); broker on ${port}, cluster on ${clusterPort}; logs of every kstream run under ${work}/<scenario>/logs\n`);

console.log("scenario | records | lost | duplicated | verdict");
let failures = 0;
let skipped = 0;
for (const [index, scenario] of selected.entries()) {
  const started = performance.now();
  process.stderr.write(`--- ${scenario.id}. ${scenario.name}\n`);
  let tally;
  try {
    tally = await scenario.run(context);
  } catch (error) {
    tally = { records: 0, lost: 0, duplicated: 0, problems: [`the scenario could not run to its end: ${(error as Error).message}`] };
    killAll();
    // A host cut by a scenario that failed half-way must not stay cut for the next one.
    if (hosts === "up") for (const host of ["b1", "b2", "b3", "c1", "c2", "c3"]) await hostsSh("heal", host);
    // A scenario that stopped the broker and then failed must not take the next ones down with it.
    await kafkaSh(port, "up").catch(() => undefined);
  }
  // Three more JVMs on two cores would slow every later scenario down: each cluster goes once no
  // later scenario needs it.
  const later = new Set(selected.slice(index + 1).map((s) => s.uses));
  if (clusterUp && !later.has("cluster")) {
    await kafkaSh(clusterPort, "down", "--purge").catch(() => undefined);
    clusterUp = false;
  }
  if (!later.has("hosts")) await hostsDown();
  if (tally.skipped !== undefined) {
    skipped++;
    note(`skipped: ${tally.skipped}`);
    console.log(`${scenario.id}. ${scenario.name} | - | - | - | SKIP (${tally.skipped})`);
    continue;
  }
  const pass = tally.lost === 0 && tally.duplicated === 0 && tally.problems.length === 0;
  if (!pass) failures++;
  for (const problem of tally.problems) note(`FAIL: ${problem}`);
  note(`(${((performance.now() - started) / 1000).toFixed(0)} s)`);
  console.log(`${scenario.id}. ${scenario.name} | ${tally.records} | ${tally.lost} | ${tally.duplicated} | ${pass ? "PASS" : "FAIL"}`);
}
if (clusterUp) await kafkaSh(clusterPort, "down", "--purge").catch(() => undefined);
await hostsDown();
const minutes = (performance.now() - suiteStarted) / 60_000;
console.log(
  `faults: ${selected.length - failures - skipped} passed, ${failures} failed${skipped ? `, ${skipped} skipped` : ""} (${records} records per scenario, ${minutes.toFixed(1)} min)`,
);
killAll();
process.exit(failures === 0 ? 0 : 1);
