/** writeFileDurably leaves the old file or the whole new one, never a temporary file, and names the path when it fails. */
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ErrorCode, IoError } from "../../../src/errors.ts";
import { temporaryPathFor, writeFileDurably } from "../../../src/storage/durable.ts";
import { tempRoot } from "../helpers.ts";

const root = tempRoot("durable");

describe("writeFileDurably", () => {
  test("writes the whole file into a new folder and leaves no temporary file beside it", () => {
    const path = join(root, "a", "b", "out.csv");
    writeFileDurably(path, "x,y\n1,2\n");
    expect(readFileSync(path, "utf8")).toBe("x,y\n1,2\n");
    expect(readdirSync(join(root, "a", "b"))).toEqual(["out.csv"]);
  });

  test("replaces an existing file with the new bytes", () => {
    const path = join(root, "replace.bin");
    writeFileSync(path, "old contents, longer than the new ones");
    writeFileDurably(path, new Uint8Array([1, 2, 3]));
    expect([...readFileSync(path)]).toEqual([1, 2, 3]);
  });

  test("a write that cannot happen throws an IoError naming the path, and removes its temporary file", () => {
    const blocker = join(root, "not-a-folder");
    writeFileSync(blocker, "");
    const path = join(blocker, "out.parquet");
    let failure: unknown;
    try {
      writeFileDurably(path, "data", "Parquet file");
    } catch (error) {
      failure = error;
    }
    expect(failure).toBeInstanceOf(IoError);
    expect((failure as IoError).code).toBe(ErrorCode.io);
    expect((failure as IoError).message).toContain(`Parquet file ${path}`);
    expect(temporaryPathFor(path)).toBe(join(blocker, ".out.parquet.tmp"));
  });
});
