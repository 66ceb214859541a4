/**
 * An exact set of keys made of a 32-bit tag and a byte string, each key given a dense id in the
 * order it was first added. batch-measure counts distinct (window, user) pairs and names countries
 * with it: a million users as strings in Sets took about 230 bytes each and a quarter of the
 * run's time; here a key costs its bytes, 12 bytes of entry and 16-32 bytes of index, and no
 * string is made for it.
 *
 * Open addressing with linear probing over a power-of-two slot array kept at most half full; a
 * slot holds the key's hash and id + 1 (0 is empty), so a probe reads one place in memory until
 * the hashes match, and a rehash needs nothing but the slots. A key's bytes are copied into one growing arena. Keys are compared by tag,
 * length and bytes after their hash, so two keys share an id only when equal.
 */

import { KstreamError } from "../errors.ts";

/** Key bytes one table holds at most: the arena's offsets are 32-bit. */
export const MAX_KEY_BYTES = 2 ** 32 - 1;

const INITIAL_SLOTS = 1 << 12;
const INITIAL_ARENA = 1 << 16;
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

export class ByteKeyTable {
  /** Per slot, two numbers: the hash, and id + 1 (0: empty). */
  #slots = new Int32Array(2 * INITIAL_SLOTS);
  #mask = INITIAL_SLOTS - 1;
  #tags = new Int32Array(INITIAL_SLOTS / 2);
  #starts = new Uint32Array(INITIAL_SLOTS / 2);
  #lengths = new Uint32Array(INITIAL_SLOTS / 2);
  #arena = new Uint8Array(INITIAL_ARENA);
  #arenaUsed = 0;
  #size = 0;
  readonly #maxBytes: number;

  /** `maxBytes`: the key bytes it may hold (the tests' small limits; at most MAX_KEY_BYTES). */
  constructor(maxBytes = MAX_KEY_BYTES) {
    this.#maxBytes = Math.min(maxBytes, MAX_KEY_BYTES);
  }

  /** Keys added so far; the next new key gets this id. */
  get size(): number {
    return this.#size;
  }

  /** The id of the key (tag, bytes[from, to)), added when new (then the id is size - 1 after the call). */
  add(tag: number, bytes: Uint8Array, from: number, to: number): number {
    const length = to - from;
    let hash = (FNV_OFFSET ^ tag) | 0;
    hash = Math.imul(hash, FNV_PRIME);
    for (let i = from; i < to; i++) hash = Math.imul(hash ^ bytes[i]!, FNV_PRIME);
    // FNV's low bits mix poorly for short keys; fold the high half in before masking.
    hash ^= hash >>> 15;
    const slots = this.#slots;
    const mask = this.#mask;
    let slot = hash & mask;
    while (true) {
      const held = slots[2 * slot + 1]!;
      if (held === 0) break;
      const id = held - 1;
      if (slots[2 * slot] === hash && this.#tags[id] === tag && this.#lengths[id] === length && sameBytes(this.#arena, this.#starts[id]!, bytes, from, length)) return id;
      slot = (slot + 1) & mask;
    }
    const id = this.#size;
    if (id === this.#tags.length) this.#growEntries();
    if (this.#arenaUsed + length > this.#arena.length) this.#growArena(length);
    // A loop: keys are short, and a subarray per key for set() costs more than the copy.
    const arena = this.#arena;
    const at = this.#arenaUsed;
    for (let i = 0; i < length; i++) arena[at + i] = bytes[from + i]!;
    this.#tags[id] = tag;
    this.#starts[id] = this.#arenaUsed;
    this.#lengths[id] = length;
    this.#arenaUsed += length;
    this.#size = id + 1;
    slots[2 * slot] = hash;
    slots[2 * slot + 1] = id + 1;
    if (2 * this.#size > this.#mask + 1) this.#rehash();
    return id;
  }

  /** The bytes of key `id` (a view of the arena, valid until the next add). */
  bytesOf(id: number): Uint8Array {
    const start = this.#starts[id]!;
    return this.#arena.subarray(start, start + this.#lengths[id]!);
  }

  #growEntries(): void {
    const grow = <T extends Int32Array | Uint32Array>(old: T, make: (n: number) => T): T => {
      const next = make(old.length * 2);
      next.set(old);
      return next;
    };
    this.#tags = grow(this.#tags, (n) => new Int32Array(n));
    this.#starts = grow(this.#starts, (n) => new Uint32Array(n));
    this.#lengths = grow(this.#lengths, (n) => new Uint32Array(n));
  }

  #growArena(needed: number): void {
    if (this.#arenaUsed + needed > this.#maxBytes) {
      throw new KstreamError(`more distinct keys than one table holds: their bytes pass ${this.#maxBytes}`, { context: { keys: this.#size, bytes: this.#arenaUsed + needed } });
    }
    let length = this.#arena.length * 2;
    while (length < this.#arenaUsed + needed) length *= 2;
    length = Math.min(length, this.#maxBytes);
    const next = new Uint8Array(length);
    next.set(this.#arena.subarray(0, this.#arenaUsed));
    this.#arena = next;
  }

  #rehash(): void {
    const old = this.#slots;
    const slots = new Int32Array(old.length * 2);
    const mask = slots.length / 2 - 1;
    for (let at = 0; at < old.length; at += 2) {
      const held = old[at + 1]!;
      if (held === 0) continue;
      const hash = old[at]!;
      let slot = hash & mask;
      while (slots[2 * slot + 1] !== 0) slot = (slot + 1) & mask;
      slots[2 * slot] = hash;
      slots[2 * slot + 1] = held;
    }
    this.#slots = slots;
    this.#mask = mask;
  }
}

/** Whether a[aAt, aAt + length) and b[bAt, bAt + length) hold the same bytes: a loop, which for keys this short costs less than a native compare's call. */
export function sameBytes(a: Uint8Array, aAt: number, b: Uint8Array, bAt: number, length: number): boolean {
  for (let i = 0; i < length; i++) if (a[aAt + i] !== b[bAt + i]) return false;
  return true;
}
