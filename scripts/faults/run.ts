/**
 * The fault suite (issue 7), started by scripts/faults.sh (which starts the single broker, builds
 * the binary when missing and cleans up). Runs the scenarios of scenarios.ts in order and prints
 * on stdout one line per scenario,
 *
 *   scenario | records | lost | duplicated | verdict
 *
 * then "faults: N passed, N failed (...)". What each scenario saw, and why one failed, goes to
 * stderr. Exit 0 only when every scenario passed.
 *
 *   bun scripts/faults/run.ts [--records 200000] [--only 1,2b,7] [--port 19500] [--cluster-port 19600] [--work DIR]
 */
import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { generate, inputLines, kafkaSh, killAll, note } from "./lib.ts";
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
// "2" selects 2a..2d, "7" selects 7a..7c.
const selected = scenarios.filter(({ id }) => !wanted || wanted.some((w) => w === id || w === id.replace(/[a-z]$/, "")));
if (selected.length === 0) fail(`--only ${flags.only} names no scenario (ids: ${scenarios.map((s) => s.id).join(", ")})`);

const work = flags.work ?? mkdtempSync(join(tmpdir(), "kstream-faults-"));
mkdirSync(work, { recursive: true });
const port = Number(flags.port);
const clusterPort = Number(flags["cluster-port"]);

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
};

const interrupted = (signal: string) => {
  killAll();
  process.stderr.write(`faults: interrupted (${signal})\n`);
  process.exit(130);
};
process.on("SIGINT", () => interrupted("SIGINT"));
process.on("SIGTERM", () => interrupted("SIGTERM"));

const suiteStarted = performance.now();
context.input = await generate(work, records);
context.lines = inputLines(context.input);
process.stderr.write(`faults: ${records} records (${context.input}); broker on ${port}, cluster on ${clusterPort}; logs of every kstream run under ${work}/<scenario>/logs\n`);

console.log("scenario | records | lost | duplicated | verdict");
let failures = 0;
for (const scenario of selected) {
  const started = performance.now();
  process.stderr.write(`--- ${scenario.id}. ${scenario.name}\n`);
  let tally;
  try {
    tally = await scenario.run(context);
  } catch (error) {
    tally = { records: 0, lost: 0, duplicated: 0, problems: [`the scenario could not run to its end: ${(error as Error).message}`] };
    killAll();
    // A scenario that stopped the broker and then failed must not take the next ones down with it.
    await kafkaSh(port, "up").catch(() => undefined);
  }
  if (scenario.id === "3" && clusterUp) {
    // Three more JVMs on two cores would slow every later scenario down.
    await kafkaSh(clusterPort, "down", "--purge").catch(() => undefined);
    clusterUp = false;
  }
  const pass = tally.lost === 0 && tally.duplicated === 0 && tally.problems.length === 0;
  if (!pass) failures++;
  for (const problem of tally.problems) note(`FAIL: ${problem}`);
  note(`(${((performance.now() - started) / 1000).toFixed(0)} s)`);
  console.log(`${scenario.id}. ${scenario.name} | ${tally.records} | ${tally.lost} | ${tally.duplicated} | ${pass ? "PASS" : "FAIL"}`);
}
if (clusterUp) await kafkaSh(clusterPort, "down", "--purge").catch(() => undefined);
const minutes = (performance.now() - suiteStarted) / 60_000;
console.log(`faults: ${selected.length - failures} passed, ${failures} failed (${records} records per scenario, ${minutes.toFixed(1)} min)`);
killAll();
process.exit(failures === 0 ? 0 : 1);
