/**
 * A producer run's last ledger writes: what is still owed (tried once more, for another
 * lock_timeout), the requests still in doubt, and the final status. What the database will not
 * take goes to its journal, and the run fails with one line that says where the records are kept:
 * an acknowledged record is never left uncounted. The entries are built by a pure function; the
 * ledger is a port.
 */
import { describeError, errnoOf, LedgerError } from "../errors.ts";
import type { JournalEntry } from "../ledger/journal.ts";
import type { Acknowledgement, InDoubt, Ledger } from "../ledger/ledger.ts";
import type { FinalState } from "./run-state.ts";
import type { SendPath } from "./send-path.ts";

export type SettleLedger = Pick<Ledger, "recordInDoubt" | "finishRun" | "keepForLater">;

export interface SettledRun {
  readonly runId: string;
  readonly topic: string;
  readonly final: FinalState;
}

export function settleRun(ledger: SettleLedger, path: Pick<SendPath, "owed" | "recordOwed">, run: SettledRun): void {
  const { runId, final } = run;
  const error = final.name === "failed" ? final.error : undefined;
  let failure: unknown;
  let doubtRecorded = false;
  try {
    path.recordOwed();
    if (path.owed.inDoubt.length > 0) ledger.recordInDoubt(runId, path.owed.inDoubt);
    doubtRecorded = true;
    ledger.finishRun(runId, final.name, error);
    return;
  } catch (caught) {
    failure = caught;
  }
  const { unrecorded } = path.owed;
  const reason = describeError(failure);
  const entries = journalEntries({ ...run, unrecorded, inDoubt: doubtRecorded ? [] : path.owed.inDoubt, error: error ?? reason });
  let kept: string;
  try {
    kept = ledger.keepForLater(entries);
  } catch (journalError) {
    throw new LedgerError(
      `${reason}; its journal cannot be written either (${errnoOf(journalError) ?? describeError(journalError)}): ` +
        uncountedRecords(run, unrecorded),
      { cause: failure },
    );
  }
  const owed = countOf(unrecorded);
  throw new LedgerError(
    `${reason}; ${owed > 0 ? `${owed} acknowledged records and the run's status are` : "the run's status is"} kept in ${kept}, which the next kstream command that opens the ledger adds`,
    { cause: failure },
  );
}

/** The journal entries that stand for the writes the database refused, the final status last. */
export function journalEntries(owed: {
  runId: string;
  topic: string;
  final: FinalState;
  unrecorded: readonly Acknowledgement[];
  inDoubt: readonly InDoubt[];
  error: string;
  now?: Date;
}): JournalEntry[] {
  const { runId: run_id, topic } = owed;
  return [
    ...owed.unrecorded.map((ack) => ({ kind: "ack" as const, run_id, topic, partition: ack.partition, first_offset: ack.firstOffset, count: ack.count })),
    ...owed.inDoubt.map((entry) => ({ kind: "in-doubt" as const, run_id, ...entry })),
    { kind: "finish", run_id, status: owed.final.name, finished_at: (owed.now ?? new Date()).toISOString(), error: owed.error },
  ];
}

function uncountedRecords(run: SettledRun, unrecorded: readonly Acknowledgement[]): string {
  const ranges = unrecorded.map((ack) => `partition ${ack.partition} offsets ${ack.firstOffset}-${ack.firstOffset + ack.count - 1}`).join(", ");
  return `${countOf(unrecorded)} acknowledged records of run ${run.runId} on ${run.topic} are not counted${ranges ? `: ${ranges}` : ""}`;
}

const countOf = (acks: readonly Acknowledgement[]) => acks.reduce((sum, ack) => sum + ack.count, 0);
