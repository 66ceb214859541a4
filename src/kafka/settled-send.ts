/**
 * One attempt of a kafkajs send fails only once every request it started has settled. Installed
 * once from patches.ts, on the three steps of kafkajs' per-broker send that can fail: the Produce
 * request (Broker#produce), adding partitions to the transaction (Broker#addPartitionsToTxn) and
 * finding the transaction's coordinator for it (Cluster#findGroupCoordinator).
 *
 * Why: kafkajs 2.2.4 sends one request per leader broker and awaits them with Promise.all, so the
 * first failure (a connection that closed; CONCURRENT_TRANSACTIONS while the previous commit's
 * markers are written) rejects the attempt while the requests to the other brokers are still in
 * flight. Its retry then sends again to every broker that has not answered yet, those still in
 * flight included: the second request waits for the broker lock, takes the sequence numbers the
 * first one advanced to, and is a new batch to the broker, not a duplicate it could drop. The
 * records of the first request land twice, inside one transaction (fault scenario 9b found
 * dead letters and staging messages written twice this way). Once every request has settled, the
 * brokers that answered are recorded as answered and the retry resends only to the others, with
 * the sequence numbers kafkajs rolled back, which the broker deduplicates.
 *
 * A step that fails before another broker's request has even started cannot wait for it, so
 * transactional-producer.ts sends to one leader at a time; this covers the rest (a leader that
 * moved between its split and kafkajs' own, kstream produce's sends).
 *
 * Requests belong together when they are one producer's: its transactional id, else its producer
 * id. Each stream-clean partition has its own transactional id, so partitions never wait for one
 * another.
 */
import Broker from "kafkajs/src/broker/index.js";
import Cluster from "kafkajs/src/cluster/index.js";

export interface ProducerRequestArgs {
  readonly transactionalId?: string;
  readonly producerId?: number;
}

/** kafkajs' coordinator type of a transaction (a group's is 0). */
const TRANSACTION_COORDINATOR = 1;

const producerKey = ({ transactionalId, producerId }: ProducerRequestArgs) => transactionalId ?? `producer ${producerId ?? -1}`;

/** The Produce requests in flight, per producer, and the rule that a failed step waits for them. */
export class InFlightProduces {
  readonly #inFlight = new Map<string, Set<Promise<unknown>>>();

  /** A Produce request: counted in flight until it settles; if it fails, it fails once the producer's other requests have settled. */
  async produce<R>(key: string, request: () => Promise<R>): Promise<R> {
    let requests = this.#inFlight.get(key);
    if (requests === undefined) this.#inFlight.set(key, (requests = new Set()));
    const attempt = request();
    requests.add(attempt);
    try {
      return await attempt;
    } catch (error) {
      await this.#settled(key, attempt);
      throw error;
    } finally {
      requests.delete(attempt);
      if (requests.size === 0 && this.#inFlight.get(key) === requests) this.#inFlight.delete(key);
    }
  }

  /** Another step of a send: if it fails, it fails once the producer's Produce requests in flight have settled. */
  async step<R>(key: string, request: () => Promise<R>): Promise<R> {
    try {
      return await request();
    } catch (error) {
      await this.#settled(key);
      throw error;
    }
  }

  /**
   * The raw requests, never the wrappers: two failing requests waiting for each other's wrapper
   * would wait forever.
   */
  async #settled(key: string, except?: Promise<unknown>): Promise<void> {
    const requests = [...(this.#inFlight.get(key) ?? [])].filter((request) => request !== except);
    await Promise.allSettled(requests);
  }
}

type Method<A, R> = (this: unknown, args: A) => Promise<R>;

/** `produce` as InFlightProduces#produce, keyed by the producer of each request. */
export function settledProduce<A extends ProducerRequestArgs, R>(produces: InFlightProduces, produce: Method<A, R>): Method<A, R> {
  return function settledProduce(this: unknown, args: A) {
    return produces.produce(producerKey(args), () => produce.call(this, args));
  };
}

/** A step of a send (adding partitions, finding the coordinator) as InFlightProduces#step, keyed by `keyOf`. */
export function settledStep<A, R>(produces: InFlightProduces, keyOf: (args: A) => string | undefined, step: Method<A, R>): Method<A, R> {
  return function settledStep(this: unknown, args: A) {
    const key = keyOf(args);
    return key === undefined ? step.call(this, args) : produces.step(key, () => step.call(this, args));
  };
}

let installed = false;

export function installSettledSend(): void {
  if (installed) return;
  installed = true;
  const produces = new InFlightProduces();
  const broker = Broker.prototype as unknown as {
    produce: Method<ProducerRequestArgs, unknown>;
    addPartitionsToTxn: Method<ProducerRequestArgs, unknown>;
  };
  broker.produce = settledProduce(produces, broker.produce);
  broker.addPartitionsToTxn = settledStep(produces, producerKey, broker.addPartitionsToTxn);
  const cluster = Cluster.prototype as unknown as { findGroupCoordinator: Method<{ groupId: string; coordinatorType?: number }, unknown> };
  cluster.findGroupCoordinator = settledStep(
    produces,
    ({ groupId, coordinatorType }) => (coordinatorType === TRANSACTION_COORDINATOR ? groupId : undefined),
    cluster.findGroupCoordinator,
  );
}
