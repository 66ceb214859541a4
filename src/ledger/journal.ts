/**
 * The ledger's overflow: acknowledged produce requests, requests in doubt and a run's final status
 * that could not be written to the sqlite ledger because another process held it past
 * ledger.lock_timeout, or it could not be written at all. They are appended, fsync'ed, to
 * `<ledger>.unrecorded.ndjson`, and the next openLedger folds them in, so a record the broker
 * acknowledged is never left uncounted by a busy ledger.
 *
 * Several processes may append while another folds, so a fold first claims the journal by
 * renaming it (`…ndjson.folding-<pid>-<n>`), then reads, folds and deletes the claim; an append
 * that finds, after its fsync, that the file it wrote is no longer the journal (claimed meanwhile,
 * perhaps read before its lines arrived) writes them again to the journal. Folding in is
 * idempotent (a range already recorded, or a run already finished, is skipped), so lines folded
 * twice, or a crash between a fold's commit and the delete, count nothing twice. A claim left by a
 * fold that died is folded by the next open.
 */
import { closeSync, existsSync, fstatSync, fsyncSync, openSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { LedgerError } from "../errors.ts";
import type { JournalEntry } from "./types.ts";

export type { JournalEntry };

export const journalPath = (ledgerPath: string) => `${ledgerPath}.unrecorded.ndjson`;

/** An append that keeps finding its file claimed is up against folds in a tight loop: give up loudly. */
const MAX_APPEND_ATTEMPTS = 10;

/**
 * Appends entries durably (fsync before returning): the caller reports them as kept only after
 * this. `afterWrite` runs between the fsync and the check (the tests claim the journal there).
 */
export function appendToJournal(ledgerPath: string, entries: readonly JournalEntry[], afterWrite: () => void = () => undefined): string {
  const path = journalPath(ledgerPath);
  const text = entries.map((entry) => `${JSON.stringify(entry)}\n`).join("");
  for (let attempt = 1; attempt <= MAX_APPEND_ATTEMPTS; attempt++) {
    const fd = openSync(path, "a", 0o600);
    let stillTheJournal: boolean;
    try {
      writeSync(fd, text);
      fsyncSync(fd);
      afterWrite();
      stillTheJournal = isFileAt(fd, path);
    } finally {
      closeSync(fd);
    }
    if (stillTheJournal) return path;
  }
  throw new LedgerError(`cannot keep ${entries.length} ledger entries in ${path}: a fold claimed the file ${MAX_APPEND_ATTEMPTS} times while they were written`, {
    context: { journal: path },
  });
}

/** Whether `fd` is the file now at `path` (not renamed away or deleted since it was opened). */
function isFileAt(fd: number, path: string): boolean {
  const open = fstatSync(fd);
  try {
    const current = statSync(path);
    return current.ino === open.ino && current.dev === open.dev;
  } catch {
    return false;
  }
}

let claims = 0;

/**
 * Claims everything there is to fold: the journal (renamed, so that later appends start a new
 * one) and any claim a fold that died left behind. Returns the claimed files, oldest claim first.
 */
export function claimJournal(ledgerPath: string): string[] {
  const path = journalPath(ledgerPath);
  const prefix = `${basename(path)}.folding-`;
  const dir = dirname(path);
  const leftover = existsSync(dir) ? readdirSync(dir).filter((name) => name.startsWith(prefix)).map((name) => join(dir, name)) : [];
  if (!existsSync(path)) return leftover;
  const claimed = `${path}.folding-${process.pid}-${++claims}`;
  try {
    renameSync(path, claimed);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return leftover; // another fold claimed it first
    throw error;
  }
  return [...leftover, claimed];
}

/**
 * The entries of claimed journal files, in order. A last line cut short (the process died
 * mid-append, before its fsync returned) was never reported as kept and is dropped.
 */
export function readJournalFiles(files: readonly string[]): JournalEntry[] {
  const entries: JournalEntry[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") continue; // a leftover another fold took
      throw error;
    }
    for (const line of text.split("\n")) {
      if (line.trim() === "") continue;
      try {
        entries.push(JSON.parse(line) as JournalEntry);
      } catch {
        // a torn final append
      }
    }
  }
  return entries;
}

/** Deletes folded claims (one another fold already deleted is fine). */
export function removeClaims(files: readonly string[]): void {
  for (const file of files) {
    try {
      unlinkSync(file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
  }
}
