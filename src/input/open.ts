/**
 * Opens produce's input: a file path or "-" for stdin, as a stream of byte chunks. Gzip is
 * recognised by its magic bytes (1f 8b) rather than by the name, so `x.json.gz` and a gzipped
 * pipe on stdin both come out decompressed. Read and decompression failures become IoError
 * naming the input; a file that is missing or unreadable fails here, before anything is sent.
 */
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { errnoOf, IoError } from "../errors.ts";

export interface OpenedInput {
  /** The input's bytes, decompressed. Iterate it once. */
  readonly stream: AsyncIterable<Uint8Array>;
  /** Bytes to read when known (a plain, uncompressed file), for the progress bar's ETA. */
  readonly sizeBytes: number | undefined;
  /** How errors and rejections name the input: the path, or "stdin". */
  readonly name: string;
  /** The file, when the input is one: what a second thread opens again to read it there. */
  readonly file: string | undefined;
}

const GZIP_MAGIC_0 = 0x1f;
const GZIP_MAGIC_1 = 0x8b;

export function openInput(source: string): OpenedInput {
  if (source === "-") {
    const stream = sniffGzip(Bun.stdin.stream(), "stdin");
    return { stream, sizeBytes: undefined, name: "stdin", file: undefined };
  }
  const { size, gzip } = inspectFile(source);
  // Opened when first read: an input read on another thread (scan-thread.ts) is never read here.
  const stream = readChunks(opened(() => (gzip ? gunzip(Bun.file(source).stream()) : Bun.file(source).stream())), source, gzip);
  return { stream, sizeBytes: gzip ? undefined : size, name: source, file: source };
}

/** Checks now that the file can be read, and reads its first two bytes to spot gzip. */
function inspectFile(path: string): { size: number; gzip: boolean } {
  let fd: number | undefined;
  try {
    fd = openSync(path, "r");
    const stat = fstatSync(fd);
    if (stat.isDirectory()) throw new IoError(`cannot read input ${path}: it is a directory`, { context: { file: path } });
    const head = new Uint8Array(2);
    const read = readSync(fd, head, 0, 2, 0);
    return { size: stat.size, gzip: read === 2 && head[0] === GZIP_MAGIC_0 && head[1] === GZIP_MAGIC_1 };
  } catch (error) {
    if (error instanceof IoError) throw error;
    throw new IoError(`cannot read input ${path}: ${describeFsError(error)}`, { context: { file: path }, cause: error });
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function describeFsError(error: unknown): string {
  const code = errnoOf(error);
  if (code === "ENOENT") return "no such file";
  if (code === "EACCES" || code === "EPERM") return "permission denied";
  if (code === "EISDIR") return "it is a directory";
  return code ?? (error instanceof Error ? error.message : String(error));
}

function gunzip(stream: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  return stream.pipeThrough(new DecompressionStream("gzip") as unknown as ReadableWritablePair<Uint8Array, Uint8Array>);
}

/** Stdin cannot be peeked before reading: look at its first bytes, then decompress them and the rest if needed. */
async function* sniffGzip(stream: ReadableStream<Uint8Array>, name: string): AsyncGenerator<Uint8Array> {
  const reader = stream.getReader();
  const head: Uint8Array[] = [];
  let headLength = 0;
  let done = false;
  try {
    while (headLength < 2) {
      const next = await reader.read();
      if (next.done) {
        done = true;
        break;
      }
      head.push(next.value);
      headLength += next.value.length;
    }
  } catch (error) {
    throw new IoError(`cannot read input ${name}: ${(error as Error).message}`, { cause: error });
  }
  const first = head[0];
  const second = first && first.length >= 2 ? first[1] : head[1]?.[0];
  const gzip = first !== undefined && first[0] === GZIP_MAGIC_0 && second === GZIP_MAGIC_1;
  async function* all(): AsyncGenerator<Uint8Array> {
    yield* head;
    if (done) return;
    try {
      for (;;) {
        const next = await reader.read();
        if (next.done) return;
        yield next.value;
      }
    } finally {
      reader.releaseLock();
    }
  }
  yield* readChunks(gzip ? gunzip(toReadableStream(all())) : all(), name, gzip);
}

function toReadableStream(chunks: AsyncGenerator<Uint8Array>): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await chunks.next();
      if (next.done) controller.close();
      else controller.enqueue(next.value);
    },
    async cancel() {
      await chunks.return(undefined);
    },
  });
}

async function* opened(open: () => AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  yield* open();
}

/** The chunks of `source`, with its failures turned into IoError naming the input. */
async function* readChunks(source: AsyncIterable<Uint8Array>, name: string, gzip: boolean): AsyncGenerator<Uint8Array> {
  try {
    for await (const chunk of source) yield chunk;
  } catch (error) {
    if (error instanceof IoError) throw error;
    const what = gzip ? "cannot decompress gzip input" : "cannot read input";
    throw new IoError(`${what} ${name}: ${(error as Error).message}`, { context: { file: name }, cause: error });
  }
}
