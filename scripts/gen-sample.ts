/**
 * Seeded generator of realistic user records with the dirt kstream's cleaning rules exist for:
 * nulls, blanks, non-strings, bad IPs, odd date forms, country case and spacing, numeric-string
 * ids, unknown fields, unicode, and about 1% records that stream-clean must dead-letter.
 * Same seed, same bytes. Streams its output, so millions of records take flat memory.
 *
 *   bun scripts/gen-sample.ts [--records 1000] [--seed 42] [--format ndjson|array] [--out FILE|-] [--gzip]
 *     [--start-ms EPOCH_MS]   (only affects nothing but the record content; Kafka sets timestamps)
 */
import { createWriteStream } from "node:fs";
import { parseArgs } from "node:util";
import { createGzip } from "node:zlib";

/** mulberry32: tiny, fast, good enough for test data, and identical everywhere for a seed. */
export function createRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FIRST_NAMES = ["Barthel", "Anna", "Jean-Luc", "Zoë", "Mohammed", "Wei", "Olga", "José", "Aïcha", "Sven", "Priya", "Łukasz", "Hana", "Chloé", "Björn", "Yuki", "田中", "Émile", "Fatma", "Nguyễn"];
const LAST_NAMES = ["Kittel", "Smith", "Dubois", "Müller", "García", "Rossi", "Kowalski", "Nakamura", "O'Brien", "Van der Berg", "Ivanova", "Haddad", "Silva", "Okafor", "Øster"];
const DOMAINS = ["printfriendly.com", "example.org", "mail.fr", "kstream.dev", "uni.edu", "post.de"];
const GENDERS = ["Male", "Female", "Non-binary", "Agender", "Genderqueer"];
/** Skewed on purpose so per-window measures have a clear most and least represented country. */
const COUNTRIES: Array<[string, number]> = [
  ["France", 14], ["China", 12], ["Indonesia", 10], ["Russia", 8], ["Brazil", 7], ["Philippines", 6], ["Portugal", 5],
  ["Poland", 5], ["Sweden", 4], ["United States", 4], ["Japan", 3], ["Côte d'Ivoire", 3], ["Guinea-Bissau", 2],
  ["Czech Republic", 2], ["Peru", 2], ["Nigeria", 2], ["Greece", 2], ["Colombia", 2], ["Canada", 1], ["Mexico", 1],
  ["Ukraine", 1], ["Argentina", 1], ["Thailand", 1], ["Vietnam", 1], ["Germany", 1], ["Morocco", 1], ["Iran", 1],
  ["South Africa", 1], ["New Zealand", 1], ["Åland Islands", 1],
];
const COUNTRY_TOTAL = COUNTRIES.reduce((sum, [, weight]) => sum + weight, 0);

export type SampleRecord = Record<string, unknown> | unknown[] | string | number;

/** The record number `id` (1-based) for a random source: pure, so tests can rebuild any record. */
export function makeRecord(id: number, random: () => number): SampleRecord {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const chance = (p: number) => random() < p;

  // ~1% must be dead-lettered by stream-clean.
  if (chance(0.01)) {
    return pick<SampleRecord>([
      { first_name: "No", last_name: "Id", email: "noid@example.org" },
      { id: 1.5, first_name: "Fraction" },
      { id: "abc", first_name: "Letters" },
      { id: true, first_name: "Boolean" },
      { id: 2 ** 60, first_name: "TooBig" },
      [id, "an array, not an object"],
      id,
      `record ${id} as a string`,
    ]);
  }

  const first = pick(FIRST_NAMES);
  const last = pick(LAST_NAMES);
  const record: Record<string, unknown> = {
    id: chance(0.03) ? ` ${id} ` : chance(0.02) ? `${id}` : chance(0.01) ? Number(`${id}.0`) : id,
    first_name: first,
    last_name: last,
    email: `${first.toLowerCase().replace(/[^a-z]/g, "") || "user"}${id}@${pick(DOMAINS)}`,
    gender: pick(GENDERS),
    ip_address: `${1 + Math.floor(random() * 223)}.${Math.floor(random() * 256)}.${Math.floor(random() * 256)}.${Math.floor(random() * 256)}`,
    date: formatDate(random),
    country: pickCountry(random),
  };

  // Dirt, each at a small rate.
  if (chance(0.03)) record.first_name = pick([null, "", "   ", 42, undefined]);
  if (chance(0.03)) record.last_name = pick([null, "", " ", undefined]);
  if (chance(0.03)) record.email = pick([null, "", "  ", undefined, ` ${String(record.email).toUpperCase()} `]);
  if (chance(0.02)) record.gender = pick([null, "", false]);
  if (chance(0.04)) record.ip_address = pick(["256.1.1.1", "01.2.3.4", "10.0.0", "::1", "2001:db8::1", "not an ip", " 10.0.0.1 ", null, ""]);
  if (chance(0.05)) record.date = pick(["6/5/2018", "2018-05-06T10:11:12Z", "2018-05-06 10:11", "31/02/2019", "29/02/2019", "29/02/2020", "yesterday", "", null]);
  if (chance(0.05)) record.country = pick([`  ${String(record.country).toUpperCase()} `, "côte   d'ivoire", "guinea-bissau", "fRANCE", null, "", " "]);
  if (chance(0.02)) record.signup_source = pick(["web", "mobile", "partner"]);
  if (chance(0.01)) record.preferences = { newsletter: chance(0.5), tags: ["a", "b"] };
  for (const key of Object.keys(record)) if (record[key] === undefined) delete record[key];
  return record;
}

function pickCountry(random: () => number): string {
  let ticket = random() * COUNTRY_TOTAL;
  for (const [country, weight] of COUNTRIES) {
    ticket -= weight;
    if (ticket < 0) return country;
  }
  return COUNTRIES[0]![0];
}

function formatDate(random: () => number): string {
  const year = 1970 + Math.floor(random() * 50);
  const month = 1 + Math.floor(random() * 12);
  const day = 1 + Math.floor(random() * 28);
  return `${String(day).padStart(2, "0")}/${String(month).padStart(2, "0")}/${year}`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      records: { type: "string", default: "1000" },
      seed: { type: "string", default: "42" },
      format: { type: "string", default: "ndjson" },
      out: { type: "string", default: "-" },
      gzip: { type: "boolean", default: false },
    },
  });
  const count = Number(values.records);
  if (!Number.isInteger(count) || count < 0) throw new Error(`--records expects a whole number, got ${values.records}`);
  const array = values.format === "array";
  if (!array && values.format !== "ndjson") throw new Error(`--format is ndjson or array, got ${values.format}`);
  const random = createRandom(Number(values.seed));

  const file = values.out === "-" ? process.stdout : createWriteStream(values.out!);
  const gzip = values.gzip ? createGzip() : undefined;
  if (gzip) gzip.pipe(file);
  const sink = gzip ?? file;
  const write = (text: string) => (sink.write(text) ? Promise.resolve() : new Promise<void>((resolve) => sink.once("drain", () => resolve())));

  let block: string[] = [];
  if (array) block.push("[\n");
  for (let id = 1; id <= count; id++) {
    const json = JSON.stringify(makeRecord(id, random));
    block.push(array ? `  ${json}${id < count ? "," : ""}\n` : `${json}\n`);
    if (block.length >= 10_000) {
      await write(block.join(""));
      block = [];
    }
  }
  if (array) block.push("]\n");
  await write(block.join(""));
  await new Promise<void>((resolve, reject) => {
    file.on("error", reject);
    if (file === process.stdout) resolve();
    else file.on("finish", () => resolve());
    sink.end();
  });
}

if (import.meta.main) await main();
