/**
 * batch-measure --since-last's state in the ledger database: how far each staging partition was
 * read, and the exact per-window state (windows, distinct users, country counts), so a later run
 * reads only what is new and still reports exact figures. A batch's state and its partition's next
 * offset move in one transaction: a crash between runs never counts a message twice or not at all.
 */
import type { Database, Statement } from "bun:sqlite";
import { guard } from "./database.ts";
import type { MeasureDelta, MeasureState } from "./types.ts";

type WindowRow = { window_start: number; window_end: number };

function prepare(db: Database) {
  return {
    offsets: db.prepare("SELECT partition, next_offset FROM measure_offsets WHERE topic = $topic") as Statement<{ partition: number; next_offset: number }>,
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
    for (const [start, end] of delta.windows) statements.insertWindow.run({ topic, start, end });
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
