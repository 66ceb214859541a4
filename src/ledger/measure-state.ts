/**
 * batch-measure --since-last's state in the ledger database: how far each staging partition was
 * read, and the exact per-window state (windows, distinct users, country counts), so a later run
 * reads only what is new and still reports exact figures. A batch's state and its partition's next
 * offset move in one transaction: a crash between runs never counts a message twice or not at all.
 *
 * Overlapping runs: a batch is applied only if its partition's stored offset is still the one the
 * run read from (compare-and-set in the IMMEDIATE transaction); otherwise another run counted
 * those messages already and StaleStateError is thrown with nothing applied. Each applied batch
 * also marks its windows unwritten; they stay so until a CSV showing them is written (under the
 * run's lease, in one transaction), so a run that stopped between its state and its CSV (killed,
 * stale, failed) leaves those windows for the next run to write, never lost.
 */
import type { Database, Statement } from "bun:sqlite";
import { StaleStateError } from "../errors.ts";
import { guard } from "./database.ts";
import type { MeasureDelta, MeasureState } from "./types.ts";

/**
 * Pure: whether a batch read from `readFrom` (the partition's stored offset when its run started,
 * or its own last batch's end; undefined: none stored) may be applied over the offset stored now.
 * Any difference means another run moved the partition, and this batch's messages may be counted.
 */
export function isStaleDelta(stored: bigint | undefined, readFrom: bigint | undefined): boolean {
  return stored !== readFrom;
}

type WindowRow = { window_start: number; window_end: number };

function prepare(db: Database) {
  return {
    offsets: db.prepare("SELECT partition, next_offset FROM measure_offsets WHERE topic = $topic") as Statement<{ partition: number; next_offset: number }>,
    offsetOf: db.prepare("SELECT next_offset FROM measure_offsets WHERE topic = $topic AND partition = $partition") as Statement<{ next_offset: number }>,
    markUnwritten: db.prepare("INSERT OR IGNORE INTO measure_unwritten (topic, window_start) VALUES ($topic, $start)"),
    unwritten: db.prepare("SELECT window_start FROM measure_unwritten WHERE topic = $topic ORDER BY window_start") as Statement<{ window_start: number }>,
    written: db.prepare("DELETE FROM measure_unwritten WHERE topic = $topic AND window_start = $start"),
    upsertOffset: db.prepare(
      "INSERT INTO measure_offsets (topic, partition, next_offset) VALUES ($topic, $partition, $nextOffset) ON CONFLICT (topic, partition) DO UPDATE SET next_offset = excluded.next_offset",
    ),
    insertWindow: db.prepare("INSERT OR IGNORE INTO measure_windows (topic, window_start, window_end) VALUES ($topic, $start, $end)"),
    insertUser: db.prepare("INSERT OR IGNORE INTO measure_users (topic, window_start, user) VALUES ($topic, $start, $user)"),
    addCountry: db.prepare(
      "INSERT INTO measure_countries (topic, window_start, country, count) VALUES ($topic, $start, $country, $count) ON CONFLICT (topic, window_start, country) DO UPDATE SET count = count + excluded.count",
    ),
    allWindows: db.prepare("SELECT window_start, window_end FROM measure_windows WHERE topic = $topic ORDER BY window_start") as Statement<WindowRow>,
    oneWindow: db.prepare("SELECT window_start, window_end FROM measure_windows WHERE topic = $topic AND window_start = $start") as Statement<WindowRow>,
    windowUsers: db.prepare("SELECT COUNT(*) AS n FROM measure_users WHERE topic = $topic AND window_start = $start") as Statement<{ n: number }>,
    windowCountries: db.prepare("SELECT country, count FROM measure_countries WHERE topic = $topic AND window_start = $start") as Statement<{ country: string; count: number }>,
  };
}

export function openMeasureState(db: Database, path: string): MeasureState {
  const statements = guard(path, "prepare", () => prepare(db));
  const applyDelta = db.transaction((topic: string, delta: MeasureDelta) => {
    const row = statements.offsetOf.get({ topic, partition: delta.partition });
    const stored = row ? BigInt(row.next_offset) : undefined;
    if (isStaleDelta(stored, delta.readFrom)) {
      throw new StaleStateError(
        `batch-measure --since-last: another run moved partition ${delta.partition} of ${topic} to offset ${stored ?? "(none)"} ` +
          `while this run read it from ${delta.readFrom ?? "the beginning"}; this run's batch was not applied (it would count messages twice), run it again`,
        { context: { topic, partition: delta.partition, stored: stored?.toString(), readFrom: delta.readFrom?.toString() } },
      );
    }
    for (const [start, end] of delta.windows) {
      statements.insertWindow.run({ topic, start, end });
      statements.markUnwritten.run({ topic, start });
    }
    for (const [start, user] of delta.users) statements.insertUser.run({ topic, start, user });
    for (const [key, count] of delta.countries) {
      const separator = key.indexOf("\u0000");
      statements.addCountry.run({ topic, start: Number(key.slice(0, separator)), country: key.slice(separator + 1), count });
    }
    statements.upsertOffset.run({ topic, partition: delta.partition, nextOffset: Number(delta.nextOffset) });
  });
  return {
    measureOffsets: (topic) =>
      guard(path, "read batch-measure offsets", () => new Map(statements.offsets.all({ topic }).map((row) => [row.partition, BigInt(row.next_offset)]))),
    applyMeasureDelta: (topic, delta) => guard(path, "record batch-measure state", () => applyDelta.immediate(topic, delta)),
    unwrittenWindows: (topic) => guard(path, "read batch-measure state", () => statements.unwritten.all({ topic }).map((row) => row.window_start)),
    markWindowsWritten: (topic, starts) =>
      guard(path, "record batch-measure state", () => {
        for (const start of starts) statements.written.run({ topic, start });
      }),
    measureWindows: (topic, windowStarts) =>
      guard(path, "read batch-measure state", () => {
        const windows = windowStarts ? windowStarts.flatMap((start) => statements.oneWindow.all({ topic, start })) : statements.allWindows.all({ topic });
        return windows.map(({ window_start: start, window_end: end }) => ({
          windowStart: start,
          windowEnd: end,
          uniqueUsers: statements.windowUsers.get({ topic, start })?.n ?? 0,
          countries: new Map(statements.windowCountries.all({ topic, start }).map((row) => [row.country, row.count])),
        }));
      }),
  };
}
