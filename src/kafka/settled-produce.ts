/**
 * A failed Produce request waits for the other requests of the same send before it fails the
 * send, installed once from patches.ts on kafkajs' Broker#produce.
 *
 * Why: kafkajs 2.2.4 sends one request per leader broker and awaits them with Promise.all, so the
 * first failure (a connection that closed, "write after end") rejects the send while the requests
 * to the other brokers are still in flight. Its retry then sends again to every broker that has
 * not answered yet, those still in flight included: the second request waits for the broker lock,
 * takes the sequence numbers the first one advanced to, and is a new batch to the broker, not a
 * duplicate it could drop. The records of the first request land twice, inside one transaction
 * (fault scenario 9b found three dead letters written twice this way). Once every sibling has
 * settled, the answered brokers are recorded as answered and the retry resends only the failed
 * ones, with the sequence numbers kafkajs rolled back, which the broker deduplicates.
 *
 * Siblings are the requests of one producer id and epoch: each transactional producer has its
 * own, so the partitions of stream-clean never wait for one another.
 */
import Broker from "kafkajs/src/broker/index.js";

export interface ProduceRequestArgs {
  readonly transactionalId?: string;
  readonly producerId?: number;
  readonly producerEpoch?: number;
}

type Produce<A extends ProduceRequestArgs, R> = (this: unknown, request: A) => Promise<R>;

/** `produce` whose rejections wait for every request of the same producer still in flight. */
export function settleSiblingsFirst<A extends ProduceRequestArgs, R>(produce: Produce<A, R>): Produce<A, R> {
  const inFlight = new Map<string, Set<Promise<unknown>>>();
  return async function settledProduce(this: unknown, request: A): Promise<R> {
    const key = `${request.transactionalId ?? ""}/${request.producerId ?? -1}/${request.producerEpoch ?? -1}`;
    let requests = inFlight.get(key);
    if (requests === undefined) inFlight.set(key, (requests = new Set()));
    const attempt = produce.call(this, request);
    requests.add(attempt);
    try {
      return await attempt;
    } catch (error) {
      // The raw promises of the siblings, never their wrappers: two failing siblings waiting for
      // each other's wrapper would wait forever.
      await Promise.allSettled([...requests].filter((sibling) => sibling !== attempt));
      throw error;
    } finally {
      requests.delete(attempt);
      if (requests.size === 0 && inFlight.get(key) === requests) inFlight.delete(key);
    }
  };
}

let installed = false;

export function installSettledProduce(): void {
  if (installed) return;
  installed = true;
  const prototype = Broker.prototype as { produce: Produce<ProduceRequestArgs, unknown> };
  prototype.produce = settleSiblingsFirst(prototype.produce);
}
