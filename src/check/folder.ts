/**
 * Where kstream will write files (the Parquet output, the measures CSV, the ledger's folder):
 * whether this process may create a file there, tried by creating one and removing it. Nothing is
 * left behind: a folder that does not exist yet is not created (its nearest existing ancestor is
 * tried instead, where the first run will create it). Root ignores permission bits, so only a
 * read-only filesystem (or a file in the way) refuses it.
 *
 * probeOutput picks the probe by the location's form: a local folder here; an `s3://` bucket is a
 * probe of its own (a PUT and a DELETE through src/storage/), reported as not checked until one exists.
 */
import { closeSync, fsyncSync, openSync, rmSync, statSync, writeSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { errnoOrMessage } from "../errors.ts";
import type { FolderProbe } from "./verdicts.ts";

/** Probes for output locations by scheme; a location with no scheme is a local folder. */
const OUTPUT_PROBES: Record<string, (location: string) => FolderProbe> = {
  s3: (location) => ({ path: location, unsupported: "this build has no bucket probe" }),
};

export function probeOutput(location: string): FolderProbe {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(location)?.[1]?.toLowerCase();
  const probe = scheme === undefined ? undefined : OUTPUT_PROBES[scheme];
  return probe ? probe(location) : probeFolder(location);
}

export function probeFolder(folder: string): FolderProbe {
  const path = resolve(folder);
  let existing = path;
  // The nearest folder that exists: where the first file (or sub-folder) would be created.
  for (;;) {
    try {
      if (!statSync(existing).isDirectory()) return { writable: false, path, reason: `${existing} is not a folder` };
      break;
    } catch (error) {
      const parent = dirname(existing);
      if (parent === existing) return { writable: false, path, reason: errnoOrMessage(error) };
      existing = parent;
    }
  }
  const trial = join(existing, `.kstream-check-${process.pid}-${Date.now().toString(36)}.tmp`);
  let fd: number;
  try {
    fd = openSync(trial, "wx");
  } catch (error) {
    return { writable: false, path, reason: `cannot create a file in ${existing}: ${errnoOrMessage(error)}` };
  }
  try {
    writeSync(fd, "kstream check\n");
    fsyncSync(fd);
  } catch (error) {
    return { writable: false, path, reason: `cannot write a file in ${existing}: ${errnoOrMessage(error)}` };
  } finally {
    closeSync(fd);
    rmSync(trial, { force: true });
  }
  return { writable: true, path, exists: existing === path };
}
