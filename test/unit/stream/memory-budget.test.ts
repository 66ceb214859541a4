import { describe, expect, test } from "bun:test";
import { createMemoryBudget, HARD_BOUND_FACTOR } from "../../../src/stream/memory-budget.ts";
import { createSerial } from "../../../src/stream/serial.ts";

/** A cycle whose end waits for `finish()` (or fails with `failWith`), then holds no rows. */
function cycle(name: string, rows: number) {
  let finish = () => {};
  const state = {
    name,
    bufferedRows: rows,
    serial: createSerial(),
    ends: 0,
    failWith: undefined as Error | undefined,
    finish: () => finish(),
    async flushIfDue(_now: number, force?: boolean) {
      if (!force) return;
      state.ends++;
      await new Promise<void>((resolve) => (finish = resolve));
      if (state.failWith) throw state.failWith;
      state.bufferedRows = 0;
    },
  };
  return state;
}

describe("the memory budget", () => {
  test("the fullest cycle ends in the background: the batch goes on while it is written", async () => {
    const budget = createMemoryBudget<ReturnType<typeof cycle>>(100, () => {});
    const a = cycle("a", 70);
    const b = cycle("b", 40);
    await budget.enforce([a, b]);
    expect([a.ends, b.ends, budget.inFlight]).toEqual([1, 0, 1]);
    a.finish();
    await Bun.sleep(0);
    expect([a.bufferedRows, budget.inFlight]).toEqual([0, 0]);
  });

  test("a cycle already ending is not chosen again; the next fullest is", async () => {
    const budget = createMemoryBudget<ReturnType<typeof cycle>>(100, () => {});
    const a = cycle("a", 70);
    const b = cycle("b", 40);
    await budget.enforce([a, b]);
    a.bufferedRows = 40;
    b.bufferedRows = 105;
    await budget.enforce([a, b]);
    expect([a.ends, b.ends, budget.inFlight]).toEqual([1, 1, 2]);
  });

  test(`past ${HARD_BOUND_FACTOR} budgets held, the batch waits for the ends in flight`, async () => {
    const budget = createMemoryBudget<ReturnType<typeof cycle>>(100, () => {});
    const a = cycle("a", 160);
    let waited = false;
    const enforcing = budget.enforce([a]).then(() => (waited = true));
    await Bun.sleep(1);
    expect(waited).toBe(false);
    a.finish();
    await enforcing;
    expect(a.bufferedRows).toBe(0);
  });

  test("a failed end goes to onFailure with its cycle, never to the batch", async () => {
    const failures: string[] = [];
    const budget = createMemoryBudget<ReturnType<typeof cycle>>(100, (failed, error) => failures.push(`${failed.name}: ${(error as Error).message}`));
    const a = cycle("a", 120);
    a.failWith = new Error("disk full");
    await budget.enforce([a]);
    a.finish();
    await Bun.sleep(1);
    expect(failures).toEqual(["a: disk full"]);
    expect(budget.inFlight).toBe(0);
  });
});
