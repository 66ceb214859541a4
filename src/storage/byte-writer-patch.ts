/**
 * A faster byte copy for hyparquet-writer's ByteWriter, the buffer every Parquet page is written
 * into. Its appendBytes makes a new Uint8Array view over the whole buffer for every value it
 * copies (each string of a plain-encoded column, each page): in a profile of encoding 100k
 * cleaned rows that view was 6% of the time and the copy another 5%. Here one view is kept per
 * buffer (remade when ensure() grows it, which is asked only when the value does not fit) and a
 * short value is copied by a loop. Same bytes, in
 * the same places: pinned by test/unit/storage/byte-writer-patch.test.ts against the original.
 *
 * Installed once, from parquet-format.ts, for the version it was read against; any other version
 * keeps its own appendBytes (the patch only saves time).
 */
import hyparquetWriterPackage from "hyparquet-writer/package.json" with { type: "json" };
import { ByteWriter } from "hyparquet-writer";

export const PATCHED_HYPARQUET_WRITER_VERSION = "0.17.0";
/** Values up to this many bytes are copied by a loop: cheaper than the native set's call. */
const SHORT_COPY = 32;

interface PatchedWriter {
  buffer: ArrayBuffer;
  index: number;
  offset: number;
  ensure(size: number): void;
  /** The buffer `bytes` views; ensure() replaces `buffer` when it grows. */
  viewedBuffer?: ArrayBuffer;
  bytes?: Uint8Array;
}

export const originalAppendBytes = ByteWriter.prototype.appendBytes;

export function fastAppendBytes(this: PatchedWriter, value: Uint8Array): void {
  const length = value.length;
  const at = this.index;
  // The kept view's length is the buffer's: ensure() (and its byteLength read) only when it must grow.
  if (this.viewedBuffer !== this.buffer || at + length > this.bytes!.length) {
    this.ensure(length);
    this.viewedBuffer = this.buffer;
    this.bytes = new Uint8Array(this.buffer);
  }
  const bytes = this.bytes!;
  if (length <= SHORT_COPY) {
    for (let i = 0; i < length; i++) bytes[at + i] = value[i]!;
  } else {
    bytes.set(value, at);
  }
  this.offset += length;
  this.index += length;
}

let installed = false;

/** Installs the faster appendBytes when hyparquet-writer is the version it was written for; returns whether it did. */
export function installFastByteWriter(version: string = hyparquetWriterPackage.version): boolean {
  if (installed) return true;
  if (version !== PATCHED_HYPARQUET_WRITER_VERSION) return false;
  installed = true;
  ByteWriter.prototype.appendBytes = fastAppendBytes as typeof ByteWriter.prototype.appendBytes;
  return true;
}
