/**
 * Snappy as Kafka carries it, pure code. Two forms reach a topic: librdkafka (kcat, and the
 * Python, Go and .NET clients built on it) writes one raw Snappy block; the Java client writes
 * snappy-java's xerial framing — a 16-byte header (magic "\x82SNAPPY\0", version, compatible
 * version) then chunks, each a 4-byte big-endian length and a raw block. Decoding tells them
 * apart by the header, as librdkafka and the Java client do; encoding writes the xerial form in
 * snappy-java's 32 KB chunks: the form the Java client itself writes, so Java consumers of any
 * version read it, and librdkafka and kafkajs codecs read it too. The raw block codec is snappyjs.
 */
import { compress, uncompress } from "snappyjs";

const XERIAL_MAGIC = [0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00] as const;
const XERIAL_HEADER_BYTES = 16;
/** snappy-java's default block size, what the Java client's SnappyOutputStream writes. */
const XERIAL_CHUNK = 32 * 1024;

export class SnappyError extends Error {
  override readonly name = "SnappyError";
}

export function isXerialFramed(bytes: Uint8Array): boolean {
  return bytes.length >= XERIAL_HEADER_BYTES && XERIAL_MAGIC.every((byte, i) => bytes[i] === byte);
}

/** A raw Snappy block (Parquet pages use this form). */
export function snappyCompressRaw(bytes: Uint8Array): Uint8Array {
  return compress(bytes);
}

export function snappyDecompressRaw(bytes: Uint8Array): Uint8Array {
  try {
    return uncompress(bytes);
  } catch (error) {
    throw new SnappyError(`malformed Snappy block of ${bytes.length} bytes: ${(error as Error).message}`, { cause: error });
  }
}

/** Decodes either form Kafka topics hold. */
export function snappyDecompress(bytes: Uint8Array): Uint8Array {
  if (!isXerialFramed(bytes)) return snappyDecompressRaw(bytes);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (let at = XERIAL_HEADER_BYTES; at < bytes.length; ) {
    if (at + 4 > bytes.length) throw new SnappyError(`truncated xerial Snappy chunk length at byte ${at} of ${bytes.length}`);
    const length = view.getUint32(at);
    at += 4;
    if (at + length > bytes.length) throw new SnappyError(`xerial Snappy chunk of ${length} bytes at byte ${at} runs past the end (${bytes.length})`);
    const chunk = snappyDecompressRaw(bytes.subarray(at, at + length));
    chunks.push(chunk);
    total += chunk.length;
    at += length;
  }
  const out = new Uint8Array(total);
  let o = 0;
  for (const chunk of chunks) {
    out.set(chunk, o);
    o += chunk.length;
  }
  return out;
}

/** The xerial-framed form the Java client writes. */
export function snappyCompressXerial(bytes: Uint8Array): Uint8Array {
  const chunks: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; at += XERIAL_CHUNK) chunks.push(compress(bytes.subarray(at, at + XERIAL_CHUNK)));
  const out = new Uint8Array(XERIAL_HEADER_BYTES + chunks.reduce((sum, chunk) => sum + 4 + chunk.length, 0));
  const view = new DataView(out.buffer);
  out.set(XERIAL_MAGIC, 0);
  view.setUint32(8, 1);
  view.setUint32(12, 1);
  let o = XERIAL_HEADER_BYTES;
  for (const chunk of chunks) {
    view.setUint32(o, chunk.length);
    out.set(chunk, o + 4);
    o += 4 + chunk.length;
  }
  return out;
}
