/**
 * Every change kstream makes to kafkajs, installed once from here, before the first client is
 * built. Each patch replaces an internal of kafkajs 2.2.4 (its last release) and is pinned by a
 * unit test against the original it replaces; on any other version those internals may differ,
 * so kstream refuses to run (one line, exit 1) rather than patch code it has not read. package.json
 * pins kafkajs to exactly this version.
 *
 * The patches (each file says why):
 * - timers: kafkajs' request queue arms negative timeouts; clamped to 0, quietly (below).
 * - request-queue-timer.ts: a request queue arms its check timer only while requests are pending
 *   (kafkajs re-arms it every millisecond, idle or not).
 * - fast-encoding.ts: the protocol Encoder's varint methods, without throw-away Buffers and Longs.
 * - fast-produce-request.ts: Produce v3–v7 request bodies laid out in one Buffer, one CRC pass.
 * - fast-record-batch.ts: Fetch v11 responses' record batches read in place (the decode step).
 * - coordinator-lookup.ts: "no broker answered the coordinator lookup" is retriable.
 * - settled-send.ts: an attempt of a send fails only once its Produce requests have settled, so
 *   kafkajs' retry never sends a batch still in flight a second time.
 * - partitioned-messages.ts: a linear `reduce` on each array kstream sends (applied per send, not
 *   globally, so it needs no install step; listed here so every patch is named in one place).
 * - client-cluster.ts: each admin client's and producer's Cluster recorded, for stable-offsets.ts's
 *   OffsetFetch v7 (committed offsets read with require_stable, which kafkajs cannot send) and
 *   transactional-producer.ts's sends split by partition leader.
 * - codecs.ts: snappy, lz4 and zstd registered in kafkajs' CompressionCodecs (it ships gzip only).
 */
import kafkajsPackage from "kafkajs/package.json" with { type: "json" };
import { DependencyError } from "../errors.ts";
import { installClientClusters } from "./client-cluster.ts";
import { installCodecs } from "./codecs.ts";
import { installRetriableCoordinatorLookup } from "./coordinator-lookup.ts";
import { installFastEncoding } from "./fast-encoding.ts";
import { installFastProduceRequest } from "./fast-produce-request.ts";
import { installFastRecordBatch } from "./fast-record-batch.ts";
import { installIdleRequestQueues } from "./request-queue-timer.ts";
import { installSettledSend } from "./settled-send.ts";

/** The kafkajs version every patch here was written for and tested against. */
export const PATCHED_KAFKAJS_VERSION = "2.2.4";

/** Throws a DependencyError unless `version` is the one the patches were written for. */
export function checkKafkajsVersion(version: string = kafkajsPackage.version): void {
  if (version === PATCHED_KAFKAJS_VERSION) return;
  throw new DependencyError(
    `kafkajs ${version} is installed, but kstream's kafkajs patches were written for ${PATCHED_KAFKAJS_VERSION}: install kafkajs@${PATCHED_KAFKAJS_VERSION} (package.json pins it)`,
    { context: { installed: version, expected: PATCHED_KAFKAJS_VERSION } },
  );
}

let installed = false;

/** Checks the kafkajs version, then installs every patch; later calls do nothing. */
export function installKafkajsPatches(): void {
  if (installed) return;
  checkKafkajsVersion();
  quietKafkajsTimerWarnings();
  installFastEncoding();
  installFastProduceRequest();
  installFastRecordBatch();
  installIdleRequestQueues();
  installRetriableCoordinatorLookup();
  installSettledSend();
  installCodecs();
  installClientClusters();
  installed = true;
}

/**
 * kafkajs' request queue arms `setTimeout(check, throttledUntil - Date.now())` with throttledUntil
 * = -1 when nothing is throttled, a delay of minus the epoch. Timers clamp it to 1 ms anyway, but
 * Bun prints a TimeoutNegativeWarning for every client; clamping here gives the same timing, quietly.
 */
function quietKafkajsTimerWarnings(): void {
  const original = globalThis.setTimeout;
  const clamped = ((handler: Parameters<typeof setTimeout>[0], delay?: number, ...args: unknown[]) =>
    original(handler, typeof delay === "number" && delay < 0 ? 0 : delay, ...args)) as typeof setTimeout;
  globalThis.setTimeout = Object.assign(clamped, original);
}
