/**
 * The shape every fault scenario shares, said once here: a tally, its own workspace (topics, group,
 * folders, config) on the single broker, the 3-node cluster, or the 3-node cluster of the namespaced
 * hosts (scripts/hosts.sh; skipped, with the reason, where those cannot be built), on a small tmpfs mounted for the run
 * when the fault is the filesystem, then the fault, then the independent checks of lib.ts. A
 * scenario (scenarios.ts) states only its fault and, when that is not "every line of the file
 * landed exactly once" (`checkAll`), what must hold. Scene holds the steps scenarios take around
 * their faults, so that none restates the workspace, the tally or a time bound's wording.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import {
  checkAll,
  checkPublished,
  errorLine,
  expectExit,
  kcat,
  type KcatMessage,
  lastLine,
  newTally,
  note,
  Proc,
  readCount,
  type Result,
  run,
  sleep,
  type Tally,
  Workspace,
  type WorkspaceOptions,
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
  /**
   * Brings the namespaced hosts and their 3-node cluster up (once) and returns the brokers'
   * addresses inside that network, or why the hosts cannot exist here (not root, no `ip netns`).
   */
  hosts(): Promise<string[] | { skip: string }>;
}

/** What a scenario runs on: the single broker, the 3-node cluster on loopback, or the hosts of scripts/hosts.sh. */
export type Brokers = "broker" | "cluster" | "hosts";

export interface Scenario {
  id: string;
  name: string;
  uses: Brokers;
  run(context: Context): Promise<Tally>;
}

/** A tmpfs mounted for the run (and unmounted after it, whatever happens) in `folder` of the work folder. */
export interface Tmpfs {
  folder: string;
  /** mount -o, e.g. "size=4m" or "ro,size=1m". */
  options(c: Context): string;
  /** How the "blocked: cannot mount ..." problem names it. */
  describe(c: Context): string;
}

export interface ScenarioSpec {
  id: string;
  name: string;
  /** The workspace's folder and the suffix of its topic and group names. */
  label: string;
  /** What the workspace changes from lib.ts's defaults; a function of the mounted folder with `tmpfs`. */
  options?: WorkspaceOptions | ((mounted: string) => WorkspaceOptions);
  /** On the 3-node cluster, or on the hosts' cluster (then `options.host` says where commands run), rather than the single broker. */
  uses?: Brokers;
  tmpfs?: Tmpfs;
  /**
   * What the table's records column counts: the whole file (default), or what reached the input
   * topic, for a fault that stops produce part-way (then `publishedSoFar` sets it).
   */
  counts?: "file" | "published";
  /** The fault, kstream's recovery, and what must hold on the way. */
  fault(s: Scene): Promise<void>;
  /** What must hold at the end; by default every line of the file landed exactly once (`checkAll`). */
  holds?(s: Scene): Promise<void>;
}

export const mount = (args: string[]) => run(["mount", ...args], { timeoutMs: 30_000 });
const umount = (dir: string) => run(["umount", "-l", dir], { timeoutMs: 30_000 });

/** One scenario from its fault and what must hold: the skeleton around them is this function. */
export function scenario(spec: ScenarioSpec): Scenario {
  return {
    id: spec.id,
    name: spec.name,
    uses: spec.uses ?? "broker",
    async run(c) {
      const tally = newTally(spec.counts === "published" ? 0 : c.records);
      let brokers = [`127.0.0.1:${c.port}`];
      if (spec.uses === "cluster") brokers = await c.cluster();
      if (spec.uses === "hosts") {
        const hosts = await c.hosts();
        if ("skip" in hosts) {
          tally.skipped = hosts.skip;
          return tally;
        }
        brokers = hosts;
      }
      let mounted: string | undefined;
      if (spec.tmpfs) {
        mounted = join(c.work, spec.tmpfs.folder);
        mkdirSync(mounted, { recursive: true });
        const result = await mount(["-t", "tmpfs", "-o", spec.tmpfs.options(c), "tmpfs", mounted]);
        if (result.exitCode !== 0) {
          tally.problems.push(`blocked: cannot mount ${spec.tmpfs.describe(c)} here (${lastLine(result.stderr)})`);
          return tally;
        }
      }
      try {
        let options = spec.options;
        if (typeof options === "function") {
          if (mounted === undefined) throw new Error(`scenario ${spec.id}: its workspace options need a tmpfs`);
          options = options(mounted);
        }
        const s = new Scene(c, new Workspace(c.work, spec.label, brokers, options), tally, spec.counts ?? "file", mounted);
        await spec.fault(s);
        await (spec.holds ? spec.holds(s) : checkAll(tally, s.ws, c.lines));
      } finally {
        if (mounted !== undefined) await umount(mounted);
      }
      return tally;
    },
  };
}

/** One scenario's run: its context, workspace and tally, and the steps taken around a fault. */
export class Scene {
  constructor(
    readonly c: Context,
    readonly ws: Workspace,
    readonly tally: Tally,
    private readonly counts: "file" | "published",
    private readonly tmpfs: string | undefined,
  ) {}

  /** A broken promise: the scenario fails with this line. */
  problem(text: string): void {
    this.tally.problems.push(text);
  }

  /** The folder the scenario's tmpfs is mounted on. */
  get mounted(): string {
    if (this.tmpfs === undefined) throw new Error("this scenario mounts no tmpfs");
    return this.tmpfs;
  }

  expectExit(result: Result, code: number, what: string): void {
    expectExit(this.tally, result, code, what);
  }

  /** Exit 0 through the fault; when not, its error line goes to stderr too. */
  expectRodeOut(result: Result, command: string, what: string): void {
    this.expectExit(result, 0, what);
    if (result.exitCode !== 0) note(`its error: ${errorLine(result.stderr, command)}`);
  }

  /** A clear error: a "kstream <command>: ..." line that names the cause (`about`), and no stack trace (these runs are not --verbose). */
  expectClearError(stderr: string, command: string, about: RegExp, cause: string): void {
    const line = errorLine(stderr, command);
    note(`its error: ${line}`);
    if (!line.includes(`kstream ${command}: `) || !about.test(line)) this.problem(`the error does not say that ${cause}: ${line}`);
    if (/^\s+at .+:\d+:\d+\)?$/m.test(stderr)) this.problem(`${command} printed a stack trace`);
  }

  /** Starts produce paced so that the whole input takes about `seconds`: the fault lands mid-run. */
  producePaced(seconds: number, ...flags: string[]): Proc {
    return this.ws.spawn(["produce", this.c.input, "--rate", String(Math.ceil(this.c.records / seconds)), ...flags]);
  }

  async produceAll(): Promise<void> {
    this.expectExit(await this.ws.kstream(["produce", this.c.input, "--quiet"]), 0, "produce");
  }

  /** A paced produce of the whole file must finish with exit 0. */
  async producerFinished(producer: Proc): Promise<void> {
    this.expectExit(await producer.result(300_000), 0, "produce");
  }

  /** The final stream-clean --until-caught-up; returns how many records it read. */
  async cleanToEnd(what = "the final stream-clean --until-caught-up"): Promise<number | undefined> {
    const result = await this.ws.kstream(["stream-clean", "--until-caught-up"], 600_000);
    this.expectExit(result, 0, what);
    return readCount(result.stderr);
  }

  /**
   * The final run after a stream-clean --until-caught-up that had to ride a fault out: nothing is
   * left after one that exited 0; after one that failed, this shows whether what it left is consistent.
   */
  async cleanRest(rodeOut: Result): Promise<void> {
    const rest = await this.cleanToEnd();
    if (rodeOut.exitCode === 0 && rest) this.problem(`stream-clean --until-caught-up exited 0 but left ${rest} records to the next run`);
  }

  /** Sends SIGTERM and waits (60 s at most) for the exit; `seconds` is how long it took. */
  async terminate(proc: Proc): Promise<{ result: Result; seconds: number }> {
    const signalled = performance.now();
    proc.kill("SIGTERM");
    const result = await proc.result(60_000);
    return { result, seconds: (performance.now() - signalled) / 1000 };
  }

  /** Polls the ledger until it counts at least `count` acknowledged records (the producer is mid-run). */
  async waitForLedger(producer: Proc, count: number, timeoutMs = 120_000): Promise<number> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const sent = this.ws.ledgerSent();
      if (sent >= count) return sent;
      if (!producer.running) throw new Error(`produce exited before ${count} records were acknowledged: ${lastLine(producer.stderr)}`);
      if (performance.now() > deadline) throw new Error(`produce had ${sent} records acknowledged after ${timeoutMs / 1000} s`);
      await sleep(100);
    }
  }

  /** Polls the Parquet folder until a file is renamed into place: stream-clean is mid-run, a cycle committing. */
  async waitForFiles(proc: Proc, timeoutMs = 120_000): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (this.ws.parquetFiles().length === 0) {
      if (!proc.running) throw new Error(`${proc.describe()} exited before writing a Parquet file: ${lastLine(proc.stderr)}`);
      if (performance.now() > deadline) throw new Error(`${proc.describe()} wrote no Parquet file in ${timeoutMs / 1000} s`);
      await sleep(100);
    }
  }

  /** The input topic (kcat) after a produce meant to stop early: no line of the file on it twice, nothing else on it. */
  async publishedSoFar(): Promise<KcatMessage[]> {
    const input = await kcat(this.ws.brokers, this.ws.topics.input, "read_uncommitted", this.ws.host);
    if (this.counts === "published") this.tally.records = input.length;
    checkPublished(this.tally, this.c.lines, input, false);
    return input;
  }
}
