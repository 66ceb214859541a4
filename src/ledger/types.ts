/**
 * The ledger's shapes, apart from the code that stores them: rows as sqlite returns them
 * (snake_case, the columns' names), the journal's entries, and the interfaces of the run ledger
 * and the measure state. Everything that imports the ledger's types imports them from here.
 */

export type RunStatus = "running" | "completed" | "failed" | "interrupted";

export interface RunRow {
  id: string;
  producer: string;
  source: string;
  topic: string;
  started_at: string;
  finished_at: string | null;
  status: RunStatus;
  sent: number;
  rejected: number;
  error: string | null;
  /** When the run's producer last said it was alive (null: a run from a kstream before heartbeats). */
  heartbeat_at: string | null;
}

export interface OffsetRange {
  topic: string;
  partition: number;
  first_offset: number;
  last_offset: number;
  count: number;
}

/** The header produce puts on every message, naming its ledger run: how recon finds a run's messages on the topic. */
export const RUN_HEADER = "kstream-run";

/** What the broker acknowledged for one partition of a produce request: `count` messages from `firstOffset` on. */
export interface Acknowledgement {
  partition: number;
  firstOffset: number;
  count: number;
}

/**
 * Records of one partition in a request whose answer is not recorded: written before the request is
 * sent and removed with its acknowledgement, so a producer killed in between leaves it behind. The
 * `count` records, if they landed, are at or after `from_offset`.
 */
export interface InDoubt {
  topic: string;
  partition: number;
  from_offset: number;
  count: number;
}

export interface Rejection {
  line: number;
  reason: string;
}

/** Rejection details kept per run; the count is always exact, the details stop here. */
export const MAX_REJECTION_DETAILS = 10_000;

/** One line of the journal (journal.ts): what the database would not take, kept for the next open. */
export type JournalEntry =
  | { kind: "ack"; run_id: string; topic: string; partition: number; first_offset: number; count: number }
  | { kind: "in-doubt"; run_id: string; topic: string; partition: number; from_offset: number; count: number }
  | { kind: "finish"; run_id: string; status: Exclude<RunStatus, "running">; finished_at: string; error: string | null };

/** What one batch of staging messages adds to the --since-last state. */
export interface MeasureDelta {
  readonly windows: ReadonlyMap<number, number>; // start -> end
  readonly users: ReadonlyArray<readonly [number, string]>;
  readonly countries: ReadonlyMap<string, number>; // `${start}\u0000${country}` -> count
  readonly partition: number;
  /** The partition's stored next offset this batch's run read from (undefined: none was stored): the compare in compare-and-set. */
  readonly readFrom: bigint | undefined;
  readonly nextOffset: bigint;
}

export interface StoredWindow {
  readonly windowStart: number;
  readonly windowEnd: number;
  readonly uniqueUsers: number;
  readonly countries: Map<string, number>;
}

/** Producer runs: what was sent, acknowledged, rejected, left in doubt; heartbeats. */
export interface RunLedger {
  startRun(run: { id: string; producer: string; source: string; topic: string }): void;
  /**
   * Records one answered produce request, in one transaction: its acknowledged partitions (only
   * offsets no range holds yet) and the end of their in-doubt rows.
   */
  recordAcks(runId: string, topic: string, acks: readonly Acknowledgement[]): void;
  recordRejection(runId: string, rejection: Rejection): void;
  /** Records requests whose answer is not (yet) recorded, for recon to settle if it never is. */
  recordInDoubt(runId: string, entries: readonly InDoubt[]): void;
  inDoubt(runId: string): InDoubt[];
  /**
   * Settles one in-doubt row with what was found on the topic (the run's messages from its
   * from_offset on), in one transaction: "settled" counts what was found as acknowledged and removes
   * the row; "answered" means the row changed since it was read (the producer recorded the answer
   * meanwhile), and nothing is done; "pending" means nothing was found while the run still says
   * running, and the row stays (the request may land yet, or its producer was killed before it went).
   */
  settleInDoubt(runId: string, entry: InDoubt, found: readonly { firstOffset: number; count: number }[]): "settled" | "answered" | "pending";
  /** Says the run's producer is alive: recon takes a running run without a heartbeat for long for dead. */
  beat(runId: string): void;
  /**
   * Of these runs, marks `failed` the ones still `running` whose heartbeat is older than
   * `silentForMs` (their producer was killed, or its machine went down), and returns them.
   */
  failSilentRuns(runIds: readonly string[], silentForMs: number): RunRow[];
  finishRun(runId: string, status: Exclude<RunStatus, "running">, error?: string): void;
  /**
   * Keeps acknowledgements and a final status the database would not take, durably, for the next
   * openLedger to fold in; returns the journal's path.
   */
  keepForLater(entries: readonly JournalEntry[]): string;
  getRun(runId: string): RunRow | undefined;
  latestRun(producer?: string): RunRow | undefined;
  listRuns(): RunRow[];
  offsetRanges(runId: string): OffsetRange[];
  /**
   * Runs `read` in one read transaction: everything it reads is one snapshot, even while a
   * producer in another process keeps adding acknowledgements (a run's `sent` and its ranges agree).
   */
  readConsistently<T>(read: () => T): T;
  rejections(runId: string): Rejection[];
}

/** batch-measure --since-last: how far each staging partition was read, and the per-window state. */
export interface MeasureState {
  measureOffsets(topic: string): Map<number, bigint>;
  /**
   * Adds one batch to the --since-last state, moves the partition's offset and marks the batch's
   * windows unwritten, in one transaction, if the stored offset is still `delta.readFrom`; else
   * throws StaleStateError and changes nothing.
   */
  applyMeasureDelta(topic: string, delta: MeasureDelta): void;
  measureWindows(topic: string, windowStarts?: readonly number[]): StoredWindow[];
  /** Windows whose state changed since a CSV last showed them. */
  unwrittenWindows(topic: string): number[];
  /** A CSV now shows these windows as the state holds them (call in the transaction that wrote it). */
  markWindowsWritten(topic: string, windowStarts: readonly number[]): void;
}

/** A job's lease (leases.ts): who holds it, by its own clock. */
export interface LeaseRow {
  job: string;
  holder: string;
  host: string;
  pid: number;
  /** Milliseconds since the epoch, by the holder's clock. */
  acquired_at: number;
  heartbeat_at: number;
}

export interface LeaseOptions {
  /** How long to wait for another holder before refusing (ledger.job_wait). */
  readonly waitMs: number;
  /** A holder silent this long is taken for dead (ledger.heartbeat_timeout). */
  readonly staleAfterMs: number;
  /** What the job is, for the refusal and the waiting line: "batch-measure --since-last of topic x". */
  readonly describe: string;
  /** Called once if the lease is held when asked for, before waiting. */
  readonly onWait?: (holder: LeaseRow) => void;
  /** Called when an abandoned lease is taken over. */
  readonly onTakeOver?: (reason: string) => void;
}

export interface JobLease {
  readonly job: string;
  /**
   * Runs `step` in one IMMEDIATE transaction that first checks this run still holds the lease, so
   * what `step` writes (to the ledger, or a file it writes before returning) can never land after
   * another run took the lease over. Throws StaleStateError, and runs nothing, if it was lost.
   */
  whileHeld<T>(step: () => T): T;
  /** Gives the lease up (idempotent; a failure is left to the heartbeat timeout to clear). */
  release(): void;
}

/** Leases of jobs that keep state in the ledger: one holder per job name. */
export interface Leases {
  acquireLease(job: string, options: LeaseOptions): Promise<JobLease>;
}

/** Both, and the leases of jobs that keep state, over one database file. */
export interface Ledger extends RunLedger, MeasureState, Leases {
  readonly path: string;
  close(): void;
}
