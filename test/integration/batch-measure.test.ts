import { afterAll, describe, expect, test } from "bun:test";
import { readFileSync, rmSync } from "node:fs";
import { createRandom } from "../../scripts/gen-sample.ts";
import { BROKER, createWorkspace, parseJsonOutput, type Workspace } from "./harness.ts";

const workspaces: Workspace[] = [];
afterAll(() => {
  for (const ws of workspaces) rmSync(ws.dir, { recursive: true, force: true });
});

const WINDOW = 5 * 60_000;

/** The broker does not auto-create topics: kstream's own produce creates all three (here from empty stdin). */
async function workspaceWithTopics(label: string): Promise<Workspace> {
  const ws = createWorkspace(label);
  workspaces.push(ws);
  expect((await ws.run(["produce", "-"], { stdin: "" })).exitCode).toBe(0);
  return ws;
}
interface Staged {
  start: number;
  country: string | null;
  users: string;
}

/** Staging messages written with kcat (a producer we did not write), as stream-clean would. */
async function stage(topic: string, records: Staged[]): Promise<void> {
  const lines = records.map((r) => {
    const value = JSON.stringify({
      time_window: { start: new Date(r.start).toISOString(), end: new Date(r.start + WINDOW).toISOString() },
      country: r.country,
      users: r.users,
    });
    return `${new Date(r.start).toISOString()}\t${value}`;
  });
  const child = Bun.spawn(["kcat", "-b", BROKER, "-P", "-t", topic, "-K", "\t"], { stdin: new Blob([`${lines.join("\n")}\n`]), stderr: "pipe" });
  if ((await child.exited) !== 0) throw new Error(await new Response(child.stderr).text());
}

/** The measures computed here, plainly, from the list we staged: the test's own oracle. */
function expectedCsv(records: Staged[], from = -Infinity, to = Infinity): string {
  const byWindow = new Map<number, Staged[]>();
  for (const r of records) if (r.start >= from && r.start < to) byWindow.set(r.start, [...(byWindow.get(r.start) ?? []), r]);
  const lines = ["window_start,window_end,most_represented_country,most_represented_country_count,least_represented_country,least_represented_country_count,unique_users"];
  for (const start of [...byWindow.keys()].sort((a, b) => a - b)) {
    const rs = byWindow.get(start)!;
    const users = new Set(rs.map((r) => r.users).filter((u) => u !== "NULL")).size;
    const counts = new Map<string, number>();
    for (const r of rs) if (r.country !== null) counts.set(r.country, (counts.get(r.country) ?? 0) + 1);
    const byCodePoint = (a: string, b: string) => {
      const x = [...a].map((c) => c.codePointAt(0)!);
      const y = [...b].map((c) => c.codePointAt(0)!);
      for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
      return x.length - y.length;
    };
    const sorted = [...counts].sort((a, b) => byCodePoint(a[0], b[0]));
    const most = sorted.reduce<[string, number] | undefined>((best, c) => (!best || c[1] > best[1] ? c : best), undefined);
    const least = sorted.reduce<[string, number] | undefined>((best, c) => (!best || c[1] < best[1] ? c : best), undefined);
    const q = (s: string) => (/[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s);
    lines.push(
      [new Date(start).toISOString(), new Date(start + WINDOW).toISOString(), most ? q(most[0]) : "", most?.[1] ?? "", least ? q(least[0]) : "", least?.[1] ?? "", users].join(","),
    );
  }
  return `${lines.join("\n")}\n`;
}

function generated(seed: number, count: number, base: number): Staged[] {
  const random = createRandom(seed);
  const countries = ["France", "Peru", "Chad", "Côte D'ivoire", "Korea, South", "Åland Islands", null];
  return Array.from({ length: count }, () => ({
    start: base + Math.floor(random() * 6) * WINDOW,
    country: countries[Math.floor(random() * countries.length)]!,
    users: random() < 0.1 ? "NULL" : `u${Math.floor(random() * 300)}@x.io`,
  }));
}

describe("batch-measure", () => {
  // 10:50..11:15 straddles an hour; 23:50..00:15 straddles a day.
  const hour = Date.UTC(2026, 0, 31, 10, 50);
  const day = Date.UTC(2026, 0, 31, 23, 50);
  const crafted: Staged[] = [
    // ties: Chad and Peru twice each (most -> Chad), Mali and Oman once (least -> Mali)
    ...["Peru", "Chad", "Peru", "Chad", "Oman", "Mali"].map((country, i) => ({ start: day, country, users: `t${i}` })),
    // only null countries, and the placeholder user
    { start: day + WINDOW, country: null, users: "NULL" },
    { start: day + WINDOW, country: null, users: "x" },
    { start: day + 2 * WINDOW, country: "France", users: "NULL" },
  ];

  test("the CSV equals an independent computation: ties, null-only windows, the NULL user, hour and day boundaries", async () => {
    const ws = await workspaceWithTopics("measure");
    const records = [...generated(1, 4000, hour), ...generated(2, 2000, day), ...crafted];
    await stage(ws.topics.staging, records);
    const result = await ws.run(["batch-measure"]);
    expect(result.exitCode).toBe(0);
    const csv = readFileSync(ws.path("out", "measures.csv"), "utf8");
    expect(csv).toBe(expectedCsv(records));
    expect(csv).toContain("2026-01-31T23:50:00.000Z,2026-01-31T23:55:00.000Z,");
    expect(csv).toContain("2026-02-01T00:00:00.000Z");
    expect(result.stderr).toContain("busiest windows");

    // unchanged data: byte-identical file
    expect((await ws.run(["batch-measure"])).exitCode).toBe(0);
    expect(readFileSync(ws.path("out", "measures.csv"), "utf8")).toBe(csv);

    // --json: the same rows
    const rows = parseJsonOutput<Array<Record<string, unknown>>>(await ws.run(["batch-measure", "--json", "--output", "-"]));
    expect(rows.length).toBe(csv.trim().split("\n").length - 1);
    expect(rows[0]).toHaveProperty("unique_users");

    // --from/--to keep windows starting in [from, to)
    const from = new Date(hour + WINDOW).toISOString();
    const to = new Date(hour + 3 * WINDOW).toISOString();
    const limited = await ws.run(["batch-measure", "--from", from, "--to", to, "--output", "-"]);
    expect(limited.stdout).toBe(expectedCsv(records, hour + WINDOW, hour + 3 * WINDOW));
  });

  test("--since-last reads only what is new and merges it: the result equals a full run", async () => {
    const ws = await workspaceWithTopics("since-last");
    const first = generated(3, 1500, hour);
    await stage(ws.topics.staging, first);
    const initial = parseJsonOutput<unknown>(await ws.run(["batch-measure", "--since-last", "--json"]));
    expect(Array.isArray(initial)).toBe(true);
    expect(readFileSync(ws.path("out", "measures.csv"), "utf8")).toBe(expectedCsv(first));

    const second = [...generated(4, 500, hour + 2 * WINDOW), ...crafted];
    await stage(ws.topics.staging, second);
    const incremental = await ws.run(["batch-measure", "--since-last"]);
    expect(incremental.exitCode).toBe(0);
    expect(incremental.stderr).toMatch(/from 509 staging messages/);
    expect(readFileSync(ws.path("out", "measures.csv"), "utf8")).toBe(expectedCsv([...first, ...second]));
  });

  test("a staging topic that does not exist is one clear error, exit 1", async () => {
    const ws = createWorkspace("measure-missing");
    workspaces.push(ws);
    const result = await ws.run(["batch-measure"]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(ws.topics.staging);
  });

  test("an empty staging topic gives a CSV with the header only", async () => {
    const ws = await workspaceWithTopics("measure-empty");
    const result = await ws.run(["batch-measure", "--output", "-"]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout.split("\n")[0]).toStartWith("window_start,");
  });
});
