/**
 * Runs async steps one after another: a partition's batches, its clock-driven flushes and its
 * teardown on a rebalance all touch the same buffers and transaction, so they take turns.
 */
export interface Serial {
  run<T>(step: () => Promise<T>): Promise<T>;
}

export function createSerial(): Serial {
  let tail: Promise<unknown> = Promise.resolve();
  return {
    run(step) {
      const result = tail.then(step, step);
      tail = result.catch(() => undefined);
      return result;
    },
  };
}
