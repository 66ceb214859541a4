/**
 * The one way kstream writes a whole file that must survive a crash: the bytes go to a temporary
 * name beside it, are fsync'ed, renamed over the final name, and the folder is fsync'ed so the
 * rename itself is on disk. Invariant: a reader (or a restart) sees the old file or the whole new
 * one, never part of it; after a failure the temporary file is gone and the error names the path.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { errnoOf, errnoOrMessage, IoError } from "../errors.ts";

/** `.name.tmp` beside the final file: hidden, and never taken for a finished one. */
export function temporaryPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp`);
}

/** Writes `data` to `path` whole or not at all, durably; `what` names the file in errors ("Parquet file"). */
export function writeFileDurably(path: string, data: Uint8Array | string, what = "file"): void {
  const dir = dirname(path);
  const temporary = temporaryPathFor(path);
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  try {
    mkdirSync(dir, { recursive: true });
    const fd = openSync(temporary, "w");
    try {
      let written = 0;
      while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, path);
    syncDirectory(dir);
  } catch (error) {
    removeQuietly(temporary);
    const reason = errnoOf(error) === "ENOSPC" ? "no space left on the device" : errnoOrMessage(error);
    throw new IoError(`cannot write ${what === "file" ? "" : `${what} `}${path}: ${reason}`, { cause: error, context: { path } });
  }
}

/** Deletes `path` (already gone is fine) and makes the deletion durable: the folder's entry is synced. */
export function removeFileDurably(path: string, what = "file"): void {
  try {
    rmSync(path, { force: true });
    syncDirectory(dirname(path));
  } catch (error) {
    throw new IoError(`cannot delete ${what === "file" ? "" : `${what} `}${path}: ${errnoOrMessage(error)}`, { cause: error, context: { path } });
  }
}

/** Cleanup after a failed write must not hide the write's own error (the folder may not even exist). */
function removeQuietly(path: string): void {
  try {
    rmSync(path, { force: true });
  } catch {
    // nothing was left there to remove
  }
}

/** The rename is durable only once the folder's entry is on disk. */
function syncDirectory(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
