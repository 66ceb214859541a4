/**
 * The ledger's overflow: acknowledged produce requests, requests in doubt and a run's final status
 * that could not be written to the sqlite ledger because another process held it past
 * ledger.lock_timeout, or it could not be written at all. They are appended, fsync'ed, to
 * `<ledger>.unrecorded.ndjson`, and the next openLedger folds them in and deletes the file, so a
 * record the broker acknowledged is never left uncounted by a busy ledger. Folding in is idempotent: a range already recorded, or a
 * run already finished, is skipped, so a crash between the fold's commit and the delete is harmless.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, unlinkSync, writeSync } from "node:fs";
import type { JournalEntry } from "./types.ts";

export type { JournalEntry };

export const journalPath = (ledgerPath: string) => `${ledgerPath}.unrecorded.ndjson`;

/** Appends entries durably (fsync before returning): the caller reports them as kept only after this. */
export function appendToJournal(ledgerPath: string, entries: readonly JournalEntry[]): string {
  const path = journalPath(ledgerPath);
  const fd = openSync(path, "a", 0o600);
  try {
    writeSync(fd, entries.map((entry) => `${JSON.stringify(entry)}\n`).join(""));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return path;
}

/**
 * The journal's entries, or undefined when there is no journal. A last line cut short (the process
 * died mid-append, before its fsync returned) was never reported as kept and is dropped.
 */
export function readJournal(ledgerPath: string): JournalEntry[] | undefined {
  const path = journalPath(ledgerPath);
  if (!existsSync(path)) return undefined;
  const entries: JournalEntry[] = [];
  for (const line of readFileSync(path, "utf8").split("\n")) {
    if (line.trim() === "") continue;
    try {
      entries.push(JSON.parse(line) as JournalEntry);
    } catch {
      // a torn final append
    }
  }
  return entries;
}

export function removeJournal(ledgerPath: string): void {
  unlinkSync(journalPath(ledgerPath));
}
