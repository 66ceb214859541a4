import { describe, expect, test } from "bun:test";
import { heapTargetEnv } from "../../../src/commands/shared.ts";

describe("the heap target's JSC options", () => {
  test("a heap target tells JSC the machine has that much RAM, in bytes", () => {
    expect(heapTargetEnv(224, undefined, {})).toEqual({ BUN_JSC_forceRAMSize: String(224 * 1024 * 1024) });
  });

  test("a growth factor is passed on as JSC's large-heap growth factor", () => {
    expect(heapTargetEnv(224, 1.6, {})).toEqual({ BUN_JSC_forceRAMSize: String(224 * 1024 * 1024), BUN_JSC_largeHeapGrowthFactor: "1.6" });
  });

  test("a growth factor the user set in the environment wins over the command's", () => {
    expect(heapTargetEnv(224, 1.6, { BUN_JSC_largeHeapGrowthFactor: "1.3" })).toEqual({ BUN_JSC_forceRAMSize: String(224 * 1024 * 1024) });
  });
});
