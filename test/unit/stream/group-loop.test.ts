import { describe, expect, test } from "bun:test";
import type { KafkaError } from "../../../src/errors.ts";
import { allCommitted, caughtUpPoll, commitWatch, fetchWaitMs, lag, reachedTarget, TICK_MS } from "../../../src/stream/clock.ts";
import { RunStop, stopGracefully } from "../../../src/stream/graceful-stop.ts";
import { createMembership } from "../../../src/stream/membership.ts";
import { cyclesToFlush } from "../../../src/stream/memory-budget.ts";
import { createSerial } from "../../../src/stream/serial.ts";
import { Slots } from "../../../src/stream/slots.ts";

const retriable = (message: string) => Object.assign(new Error(message), { retriable: true });

/** A partition's worker as the group loop sees it, recording what is done to it. */
class FakeWorker {
  readonly serial = createSerial();
  broken: KafkaError | undefined;
  fenced: KafkaError | undefined;
  committedOffset = 0n;
  bufferedRows = 0;
  commitFailure: Error | undefined;
  constructor(
    readonly partition: number,
    readonly log: string[],
  ) {}
  async flushIfDue(_now: number, force = false) {
    if (!force) return;
    this.log.push(`flush ${this.partition}`);
    if (this.commitFailure) throw this.commitFailure;
  }
  async abandon() {
    this.log.push(`abandon ${this.partition}`);
  }
  async close() {
    this.log.push(`close ${this.partition}`);
  }
}

function membershipFixture(options: { allow?: (error: unknown) => boolean; startFailures?: number; fencedPauseMs?: number } = {}) {
  const log: string[] = [];
  /** Pauses and resumes of fetching, apart from the workers' steps. */
  const fetching: string[] = [];
  const slots = new Slots<FakeWorker>();
  const failures: unknown[] = [];
  let startFailures = options.startFailures ?? 0;
  const stop = { stopping: false };
  const membership = createMembership({
    slots,
    startWorker: async (partition) => {
      log.push(`start ${partition}`);
      if (startFailures-- > 0) throw retriable(`broker away (partition ${partition})`);
      return new FakeWorker(partition, log);
    },
    seek: (partition, offset) => log.push(`seek ${partition} ${offset}`),
    pause: (partition) => fetching.push(`pause ${partition}`),
    resume: (partition) => fetching.push(`resume ${partition}`),
    restarts: { allow: options.allow ?? ((error) => (error as { retriable?: boolean }).retriable === true) },
    stopping: () => stop.stopping,
    fail: (error) => failures.push(error),
    startPauseMs: 1,
    fencedPauseMs: options.fencedPauseMs ?? 5,
  });
  const settle = async () => {
    for (let i = 0; i < 20; i++) await Bun.sleep(1);
  };
  return { log, fetching, slots, failures, membership, settle, stop };
}

describe("the per-partition slots", () => {
  test("a slot is starting until its worker starts, then ready", async () => {
    const slots = new Slots<string>();
    let resolve!: (worker: string) => void;
    const slot = slots.start(1, new Promise((r) => (resolve = r)));
    expect(slot.state).toBe("starting");
    expect(slot.worker).toBeUndefined();
    resolve("w1");
    expect(await slot.settled).toBe("w1");
    expect(slot.state).toBe("ready");
    expect(slots.ready()).toEqual(["w1"]);
  });

  test("a slot whose start fails is failed and keeps the error", async () => {
    const slots = new Slots<string>();
    const slot = slots.start(1, Promise.reject(new Error("no broker")));
    expect(await slot.settled).toBeUndefined();
    expect(slot.state).toBe("failed");
    expect((slot.error as Error).message).toBe("no broker");
  });

  test("a replaced slot is retiring, even when its start completes later, and no longer current", async () => {
    const slots = new Slots<string>();
    const old = slots.start(1, Bun.sleep(2).then(() => "old"));
    const fresh = slots.start(1, Promise.resolve("new"));
    expect(await old.settled).toBe("old");
    expect(old.state).toBe("retiring");
    expect(old.worker).toBeUndefined();
    expect(slots.isCurrent(old)).toBe(false);
    expect(slots.isCurrent(fresh)).toBe(true);
  });
});

describe("membership", () => {
  test("a rebalance retires every old worker before any new one starts", async () => {
    const { log, membership, slots, settle } = membershipFixture();
    membership.assign([0, 1]);
    await settle();
    log.length = 0;
    membership.assign([1, 2]);
    await settle();
    expect(log.slice(0, 4).sort()).toEqual(["abandon 0", "abandon 1", "close 0", "close 1"]);
    expect(log.slice(4).sort()).toEqual(["start 1", "start 2"]);
    expect(slots.ready().map((w) => w.partition)).toEqual([1, 2]);
  });

  test("a worker that cannot start is started again after a pause", async () => {
    const { log, membership, slots, failures, settle } = membershipFixture({ startFailures: 2 });
    membership.assign([4]);
    await settle();
    expect(log.filter((step) => step === "start 4").length).toBe(3);
    expect(slots.get(4)?.state).toBe("ready");
    expect(failures).toEqual([]);
  });

  test("a worker that cannot start past kafka.retry_limit fails the run", async () => {
    const { membership, failures, settle } = membershipFixture({ startFailures: 1, allow: () => false });
    membership.assign([4]);
    await settle();
    expect((failures[0] as Error).message).toMatch(/broker away/);
  });

  test("a broken worker's partition starts again from its committed offset, the fetch position moved first", async () => {
    const { log, membership, slots, settle } = membershipFixture();
    membership.assign([2]);
    await settle();
    const worker = slots.get(2)!.worker!;
    worker.committedOffset = 40n;
    worker.broken = retriable("commit outcome unknown") as KafkaError;
    log.length = 0;
    expect(membership.restartBroken()).toEqual([worker.broken]);
    await settle();
    expect(log).toEqual(["seek 2 40", "abandon 2", "close 2", "start 2"]);
    expect(slots.get(2)!.worker).not.toBe(worker);
  });

  test("a fenced worker's partition stops being fetched and, kept by the group, starts again after the pause, fetched again", async () => {
    const { log, fetching, membership, slots, failures, settle } = membershipFixture({ fencedPauseMs: 5 });
    membership.assign([3]);
    await settle();
    const worker = slots.get(3)!.worker!;
    worker.committedOffset = 70n;
    worker.fenced = new Error("Producer attempted an operation with an old epoch") as KafkaError;
    log.length = 0;
    fetching.length = 0;
    expect(membership.restartBroken()).toEqual([worker.fenced]);
    expect(fetching).toEqual(["pause 3"]);
    await settle();
    expect(log).toEqual(["seek 3 70", "abandon 3", "close 3", "start 3"]);
    expect(fetching).toEqual(["pause 3", "resume 3"]);
    expect(slots.get(3)!.worker).not.toBe(worker);
    expect(failures).toEqual([]);
  });

  test("a fenced worker's partition moved by a rebalance during the pause starts no producer for the old slot", async () => {
    const { log, membership, slots, settle } = membershipFixture({ fencedPauseMs: 50 });
    membership.assign([3, 4]);
    await settle();
    const worker = slots.get(3)!.worker!;
    worker.fenced = new Error("Producer attempted an operation with an old epoch") as KafkaError;
    membership.restartBroken();
    await settle();
    log.length = 0;
    membership.assign([4]); // the group gave partition 3 to another member
    await Bun.sleep(80);
    expect(log.filter((step) => step === "start 3")).toEqual([]);
    expect(log).toContain("start 4");
    expect(slots.get(3)).toBeUndefined();
  });

  test("a broken worker past kafka.retry_limit fails the run instead of restarting", async () => {
    const { log, membership, slots, failures, settle } = membershipFixture({ allow: () => false });
    membership.assign([2]);
    await settle();
    const worker = slots.get(2)!.worker!;
    worker.broken = retriable("commit outcome unknown") as KafkaError;
    log.length = 0;
    membership.restartBroken();
    expect(failures).toEqual([worker.broken]);
    expect(log).toEqual([]);
  });

  test("nothing restarts once the run is stopping", async () => {
    const { log, membership, slots, settle, stop } = membershipFixture();
    membership.assign([2]);
    await settle();
    slots.get(2)!.worker!.broken = retriable("x") as KafkaError;
    stop.stopping = true;
    log.length = 0;
    membership.restartBroken();
    await settle();
    expect(log).toEqual([]);
  });
});

describe("the clock's decisions", () => {
  test("a run until caught up holds an empty fetch under one tick, so leaving the group waits little; a long-lived one holds it longer", () => {
    expect(fetchWaitMs(true)).toBeLessThan(TICK_MS);
    expect(fetchWaitMs(false)).toBeGreaterThan(fetchWaitMs(true));
  });

  test("the group is caught up only when every partition committed its target", () => {
    const targets = new Map([[0, 10n], [1, 5n]]);
    expect(allCommitted(targets, new Map([[0, 10n], [1, 5n]]))).toBe(true);
    expect(allCommitted(targets, new Map([[0, 10n], [1, 4n]]))).toBe(false);
    expect(allCommitted(targets, new Map([[0, 11n]]))).toBe(false);
  });

  test("a cycle commits at once when it reached its partition's target, only with --until-caught-up", () => {
    expect(reachedTarget(new Map([[0, 10n]]), 0, 10n)).toBe(true);
    expect(reachedTarget(new Map([[0, 10n]]), 0, 9n)).toBe(false);
    expect(reachedTarget(undefined, 0, 10n)).toBe(false);
  });

  test("lag sums what is behind the high watermark over partitions with a cycle", () => {
    const offsets = new Map([[0, 7n], [1, 20n]]);
    expect(lag(new Map([[0, 10n], [1, 15n], [2, 99n]]), (p) => offsets.get(p))).toBe(3);
  });

  test("a commit anywhere is noticed once", () => {
    let commits = 0;
    let noticed = 0;
    const watch = commitWatch(() => commits, () => noticed++);
    watch();
    commits = 2;
    watch();
    watch();
    expect(noticed).toBe(1);
  });

  test("the caught-up check runs one at a time, and a caught-up answer finishes the run", async () => {
    let calls = 0;
    let answer!: (done: boolean) => void;
    let caughtUp = 0;
    const poll = caughtUpPoll({
      check: () => {
        calls++;
        return new Promise((resolve) => (answer = resolve));
      },
      failures: { allow: () => true, recovered: () => undefined },
      onCaughtUp: () => caughtUp++,
      onRetry: () => undefined,
      fail: () => undefined,
    });
    poll();
    poll();
    expect(calls).toBe(1);
    answer(true);
    await Bun.sleep(0);
    expect(caughtUp).toBe(1);
    poll();
    expect(calls).toBe(2);
  });

  test("a failing caught-up check is asked again within the limit, and fails the run past it", async () => {
    let allowed = true;
    const seen: string[] = [];
    const poll = caughtUpPoll({
      check: async () => {
        throw retriable("coordinator moved");
      },
      failures: { allow: () => allowed, recovered: () => undefined },
      onCaughtUp: () => seen.push("done"),
      onRetry: () => seen.push("retry"),
      fail: () => seen.push("fail"),
    });
    poll();
    await Bun.sleep(0);
    allowed = false;
    poll();
    await Bun.sleep(0);
    expect(seen).toEqual(["retry", "fail"]);
  });
});

describe("the memory budget", () => {
  const cycle = (name: string, bufferedRows: number) => ({ name, bufferedRows });

  test("within the budget, no cycle ends early", () => {
    expect(cyclesToFlush([cycle("a", 50), cycle("b", 50)], 100)).toEqual([]);
  });

  test("past the budget, the fullest cycles end first until the rest fits", () => {
    const chosen = cyclesToFlush([cycle("a", 30), cycle("b", 70), cycle("c", 60)], 50);
    expect(chosen.map((c) => c.name)).toEqual(["b", "c"]);
  });

  test("a cycle with no rows is never chosen", () => {
    expect(cyclesToFlush([cycle("a", 0)], -1)).toEqual([]);
  });
});

describe("the graceful stop", () => {
  const slotsOf = (workers: FakeWorker[]) => {
    const slots = new Slots<FakeWorker>();
    for (const worker of workers) slots.start(worker.partition, Promise.resolve(worker));
    return slots.all();
  };

  test("commits every open cycle, then leaves the group, then closes the producers", async () => {
    const log: string[] = [];
    const stop = new RunStop();
    await stopGracefully(slotsOf([new FakeWorker(0, log), new FakeWorker(1, log)]), stop, async () => void log.push("leave"));
    expect(log).toEqual(["flush 0", "flush 1", "leave", "close 0", "close 1"]);
  });

  test("after a failure, every open cycle is dropped instead of committed", async () => {
    const log: string[] = [];
    const stop = new RunStop();
    stop.fail(new Error("broker gone"));
    await stopGracefully(slotsOf([new FakeWorker(0, log)]), stop, async () => void log.push("leave"));
    expect(log).toEqual(["abandon 0", "leave", "close 0"]);
  });

  test("a commit that fails during the stop fails the run, and the cycles after it are dropped", async () => {
    const log: string[] = [];
    const stop = new RunStop();
    const first = new FakeWorker(0, log);
    first.commitFailure = new Error("fenced");
    await stopGracefully(slotsOf([first, new FakeWorker(1, log)]), stop, async () => void log.push("leave"));
    expect((stop.failure as Error).message).toBe("fenced");
    expect(log).toEqual(["flush 0", "abandon 1", "leave", "close 0", "close 1"]);
  });

  test("the first reason to stop wins, and the loop is stopping only once the stop is taken", async () => {
    const stop = new RunStop();
    stop.finish("caught-up");
    stop.fail(new Error("later"));
    expect(stop.stopping).toBe(false);
    expect(await stop.stopped()).toBe("caught-up");
    expect(stop.stopping).toBe(true);
    expect((stop.failure as Error).message).toBe("later");
  });
});
