/** The two functions of snappyjs (raw Snappy blocks) that src/compression/snappy.ts uses. */
declare module "snappyjs" {
  export function compress(uncompressed: Uint8Array): Uint8Array;
  export function uncompress(compressed: Uint8Array, maxLength?: number): Uint8Array;
}
