/**
 * Opens produce's input: a file path or "-" for stdin, decompressing gzip when the name ends in
 * .gz or the bytes start with gzip's magic number (so `zcat`-free pipes work too).
 */
import { statSync } from "node:fs";
import { IoError } from "../errors.ts";

export interface OpenedInput {
  readonly chunks: AsyncIterable<Uint8Array>;
  /** Bytes to read when known (plain files), for the progress bar's ETA. */
  readonly sizeBytes: number | undefined;
  /** How errors and rejections name the input: the path, or "stdin". */
  readonly name: string;
}

export function openInput(source: string): OpenedInput {
  if (source === "-") return { chunks: gunzipIfNeeded(Bun.stdin.stream(), false), sizeBytes: undefined, name: "stdin" };
  let size: number;
  try {
    const stat = statSync(source);
    if (stat.isDirectory()) throw new IoError(`cannot read input ${source}: it is a directory`);
    size = stat.size;
  } catch (error) {
    if (error instanceof IoError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new IoError(`cannot read input ${source}: ${code === "ENOENT" ? "no such file" : (code ?? (error as Error).message)}`, { cause: error });
  }
  const gzipped = source.endsWith(".gz");
  return { chunks: gunzipIfNeeded(Bun.file(source).stream(), gzipped), sizeBytes: gzipped ? undefined : size, name: source };
}

const GZIP_MAGIC = [0x1f, 0x8b] as const;

async function* gunzipIfNeeded(stream: ReadableStream<Uint8Array>, knownGzip: boolean): AsyncGenerator<Uint8Array> {
  const reader = stream.getReader();
  const first = await reader.read();
  if (first.done) return;
  const head = first.value;
  const gzip = knownGzip || (head[0] === GZIP_MAGIC[0] && head[1] === GZIP_MAGIC[1]);
  const rest = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(head);
    },
    async pull(controller) {
      const next = await reader.read();
      if (next.done) controller.close();
      else controller.enqueue(next.value);
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
  const source = gzip ? rest.pipeThrough(new DecompressionStream("gzip") as unknown as ReadableWritablePair<Uint8Array, Uint8Array>) : rest;
  try {
    for await (const chunk of source) yield chunk;
  } catch (error) {
    if (gzip) throw new IoError(`cannot decompress gzip input: ${(error as Error).message}`, { cause: error });
    throw error;
  }
}
