/**
 * Kafka's record-batch codecs, registered in kafkajs once per process (kafkajs ships gzip only
 * and throws "Snappy compression not implemented" on anything else). After installCodecs() every
 * read path — stream-clean, batch-measure, recon, metrics — decodes batches written with gzip,
 * snappy (raw or xerial-framed), lz4 (LZ4 frame) and zstd, and producers can write each of them.
 * gzip stays kafkajs' own (node:zlib); zstd is Bun's built-in libzstd, at level 3 as the Java
 * client and librdkafka default to; snappy and lz4 are the pure codecs of src/compression/.
 * zstd compresses and decompresses on Bun's worker threads (the same bytes as the synchronous
 * calls): a producer's batch is compressed on the second core while the JavaScript thread reads
 * the next one, and a fetch's batches are decompressed there while it decodes the one before.
 */
import { CompressionCodecs, CompressionTypes } from "kafkajs";
import { lz4CompressFrame, lz4DecompressFrame } from "../compression/lz4.ts";
import { snappyCompressXerial, snappyDecompress } from "../compression/snappy.ts";

/** What the config calls each codec, as kafkajs numbers them in a batch's attributes. */
export const KAFKA_CODEC_TYPES = {
  none: CompressionTypes.None,
  gzip: CompressionTypes.GZIP,
  snappy: CompressionTypes.Snappy,
  lz4: CompressionTypes.LZ4,
  zstd: CompressionTypes.ZSTD,
} as const;

export type KafkaCodecName = keyof typeof KAFKA_CODEC_TYPES;

const ZSTD_LEVEL = 3;

/** kafkajs hands compress() its Encoder and reads a Buffer back from both directions. */
interface KafkajsCodec {
  compress(encoder: { buffer: Buffer }): Promise<Buffer>;
  decompress(buffer: Buffer): Promise<Buffer>;
}

const asBuffer = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

const codec = (compress: (bytes: Uint8Array) => Uint8Array, decompress: (bytes: Uint8Array) => Uint8Array): KafkajsCodec => ({
  compress: async (encoder) => asBuffer(compress(encoder.buffer)),
  decompress: async (buffer) => asBuffer(decompress(buffer)),
});

export const KAFKA_CODEC_IMPLEMENTATIONS = {
  [CompressionTypes.Snappy]: codec(snappyCompressXerial, snappyDecompress),
  [CompressionTypes.LZ4]: codec(lz4CompressFrame, lz4DecompressFrame),
  [CompressionTypes.ZSTD]: {
    compress: async (encoder) => asBuffer(await Bun.zstdCompress(encoder.buffer, { level: ZSTD_LEVEL })),
    decompress: async (buffer) => asBuffer(await Bun.zstdDecompress(buffer)),
  },
} as const satisfies Record<number, KafkajsCodec>;

let installed = false;

/** Registers snappy, lz4 and zstd in kafkajs' codec table; later calls do nothing. */
export function installCodecs(): void {
  if (installed) return;
  installed = true;
  for (const [type, implementation] of Object.entries(KAFKA_CODEC_IMPLEMENTATIONS)) {
    (CompressionCodecs as Record<number, () => KafkajsCodec>)[Number(type)] = () => implementation;
  }
}
