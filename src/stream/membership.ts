/**
 * Which partitions this process works on, and their restarts: a rebalance retires every worker
 * and starts fresh ones; a worker whose start failed is started again after a pause; a broken
 * worker (its commit's outcome unknown) is replaced by a fresh one from the committed offset; a
 * fenced worker (another member took its transactional id) is dropped and its partition paused,
 * left to the group, and started again only if the group has not moved it within a session.
 * Restarts after failures are bounded by kafka.retry_limit (`restarts`); past it the run fails.
 */
import type { KafkaError } from "../errors.ts";
import { log } from "../ui/log.ts";
import type { Serial } from "./serial.ts";
import type { Slots } from "./slots.ts";

/** What membership needs of a partition's worker. */
export interface MemberWorker {
  readonly partition: number;
  readonly serial: Serial;
  readonly broken: KafkaError | undefined;
  readonly fenced: KafkaError | undefined;
  readonly committedOffset: bigint;
  abandon(): Promise<void>;
  close(): Promise<void>;
}

export interface MembershipOptions<W extends MemberWorker> {
  readonly slots: Slots<W>;
  readonly startWorker: (partition: number) => Promise<W>;
  /** Moves the consumer's fetch position of a partition. */
  readonly seek: (partition: number, offset: bigint) => void;
  /** Stops and resumes fetching a partition (a fenced one waits for the group without being fetched). */
  readonly pause: (partition: number) => void;
  readonly resume: (partition: number) => void;
  /** Partition restarts since the last commit anywhere: allow() says whether one more may happen. */
  readonly restarts: { allow(error: unknown): boolean };
  readonly stopping: () => boolean;
  readonly fail: (error: unknown) => void;
  /** Pause before starting a partition's worker again after its start failed. */
  readonly startPauseMs: number;
  /**
   * How long a fenced partition waits for the group before it is started again here
   * (clean.session_timeout: by then a member that lost it has been told so by the group).
   */
  readonly fencedPauseMs: number;
}

export interface Membership<W> {
  /** A rebalance: every open cycle is dropped; kafkajs restarts each assigned partition from its committed offset. */
  assign(partitions: number[]): void;
  /** Restarts every partition whose worker is broken, and drops every fenced one; returns the errors that stopped them. */
  restartBroken(): KafkaError[];
  /** Drops a worker's open cycle (aborted, rows forgotten) and closes its producer. */
  retire(worker: W): Promise<void>;
}

export function createMembership<W extends MemberWorker>(options: MembershipOptions<W>): Membership<W> {
  const { slots, restarts, stopping, fail } = options;

  const retire = async (worker: W) => {
    await worker.serial.run(() => worker.abandon());
    await worker.close().catch((error) => log.debug(`partition ${worker.partition}: closing its producer: ${(error as Error).message}`));
  };

  /**
   * A fresh worker for `partition` once `after` settles (the old workers retired). Its producer
   * cannot start while the brokers are away (a partition restarted mid-outage): within
   * kafka.retry_limit it is started again, so the run rides out the outage as it would elsewhere.
   */
  const start = (partition: number, after: Promise<unknown>) => {
    const slot = slots.start(
      partition,
      // A slot replaced while it waited (a rebalance during a fenced partition's pause) starts no
      // producer: initialising the transactional id would fence the partition's new owner.
      after.then(() => (slots.isCurrent(slot) ? options.startWorker(partition) : Promise.reject(new Error(`partition ${partition}: replaced before it started`)))),
    );
    void slot.settled.then((worker) => {
      if (worker !== undefined) options.resume(partition);
      if (worker !== undefined || stopping() || !slots.isCurrent(slot)) return;
      if (!restarts.allow(slot.error)) return fail(slot.error);
      log.warn(`partition ${partition}: ${(slot.error as Error).message}; trying again in ${options.startPauseMs / 1000} s`);
      start(partition, Bun.sleep(options.startPauseMs));
    });
  };

  /**
   * The worker's commit failed retriably: within kafka.retry_limit, the partition starts over
   * from its committed offset with a fresh worker, whose transactional producer settles the failed
   * transaction first. The fetch position is moved back before the new worker exists, so it never
   * sees a batch from past its offset.
   */
  const restart = (partition: number, failed: W) => {
    if (stopping() || slots.get(partition)?.worker !== failed) return;
    if (!restarts.allow(failed.broken)) return fail(failed.broken);
    log.warn(`partition ${partition}: ${failed.broken!.message}; starting the partition again from offset ${failed.committedOffset}`);
    options.seek(partition, failed.committedOffset);
    start(partition, retire(failed));
  };

  /**
   * The worker was fenced: another producer has the partition's transactional id, so the group has
   * given (or is giving) the partition to another member, or this process was away. Its cycle is
   * gone (files removed, never committed); fetching it stops, and the group decides: a rebalance
   * replaces the slot, and only if none comes within fencedPauseMs (the broker expired the
   * transaction; this member still owns the partition) is it started again here.
   */
  const dropFenced = (partition: number, fenced: W) => {
    // Not counted against kafka.retry_limit: being fenced is the group working, not an outage.
    if (stopping() || slots.get(partition)?.worker !== fenced) return;
    log.warn(`partition ${partition}: ${fenced.fenced!.message}; dropped its cycle and left the partition to the group (started again here in ${options.fencedPauseMs / 1000} s if the group keeps it here)`);
    options.pause(partition);
    options.seek(partition, fenced.committedOffset);
    start(partition, Promise.all([retire(fenced), Bun.sleep(options.fencedPauseMs)]));
  };

  return {
    assign(partitions) {
      const previous = slots.clear();
      const teardown = Promise.all(
        previous.map(async (slot) => {
          const worker = await slot.settled;
          if (worker) await retire(worker);
        }),
      );
      for (const partition of partitions) start(partition, teardown);
    },
    restartBroken() {
      const brokenBy: KafkaError[] = [];
      for (const slot of slots.all()) {
        const worker = slot.worker;
        if (worker?.broken !== undefined) {
          brokenBy.push(worker.broken);
          restart(slot.partition, worker);
        } else if (worker?.fenced !== undefined) {
          brokenBy.push(worker.fenced);
          dropFenced(slot.partition, worker);
        }
      }
      return brokenBy;
    },
    retire,
  };
}
