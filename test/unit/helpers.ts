/**
 * What unit test files share for their fixtures on disk: one temporary folder per test file,
 * removed once the file's tests are done.
 */
import { afterAll } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A fresh folder under the system's temp dir (named `kstream-<name>-...`), removed after the calling test file. */
export function tempRoot(name: string): string {
  const root = mkdtempSync(join(tmpdir(), `kstream-${name}-`));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  return root;
}
