/**
 * Seeded generator of realistic user records (SPEC.md "Input records") carrying, at small rates,
 * the dirt kstream's cleaning rules exist for: null / missing / blank / non-string fields, emails
 * in upper case with spaces, bad IPs, odd date forms, country case and spacing, numeric-string and
 * `1.0` ids, unknown extra fields, unicode names, and about 1% records stream-clean must
 * dead-letter. Ids are otherwise 1, 2, 3, … in output order. Same seed → byte-identical output;
 * the output is written in blocks, so millions of records take flat memory.
 *
 *   bun scripts/gen-sample.ts [--records 1000] [--seed 42] [--format ndjson|array] [--out FILE|-] [--gzip]
 *
 * config/data/sample.ndjson is `--records 1000 --seed 42 --out config/data/sample.ndjson`.
 */
import { once } from "node:events";
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

interface Name {
  readonly text: string;
  /** ASCII form for the email address. */
  readonly slug: string;
}

const names = (texts: string[], fallback: string): Name[] =>
  texts.map((text) => ({
    text,
    slug: text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/[łŁ]/g, "l").replace(/[øØ]/g, "o").replace(/[^A-Za-z]/g, "").toLowerCase() || fallback,
  }));

const FIRST_NAMES = names(
  ["Barthel", "Anna", "Jean-Luc", "Zoë", "Mohammed", "Wei", "Olga", "José", "Aïcha", "Sven", "Priya", "Łukasz", "Hana",
    "Chloé", "Björn", "Yuki", "田中", "王芳", "김민준", "Émile", "Fatma", "Nguyễn", "Maëlle", "Søren", "Max 🎉", "Sunny ☀️",
    "Ingrid", "Diego", "Amara", "Kofi"],
  "user",
);
const LAST_NAMES = names(
  ["Kittel", "Smith", "Dubois", "Müller", "García", "Rossi", "Kowalski", "Nakamura", "O'Brien", "Van der Berg", "Ivanova",
    "Haddad", "Silva", "Okafor", "Øster", "佐藤", "Lê", "Nowak", "Jensen", "Moreau"],
  "x",
);
const DOMAINS = ["printfriendly.com", "example.org", "mail.fr", "kstream.dev", "uni.edu", "post.de", "163.com", "yahoo.co.jp"];
const GENDERS = ["Male", "Female", "Non-binary", "Agender", "Genderqueer", "Polygender", "Bigender", "Genderfluid"];
/** Skewed on purpose, so per-window measures have a clear most represented country and ties among the rare ones. */
const COUNTRIES: ReadonlyArray<readonly [string, number]> = [
  ["France", 14], ["China", 12], ["Indonesia", 10], ["Russia", 8], ["Brazil", 7], ["Philippines", 6], ["Portugal", 5],
  ["Poland", 5], ["Sweden", 4], ["United States", 4], ["Japan", 3], ["Côte d'Ivoire", 3], ["Guinea-Bissau", 2],
  ["Czech Republic", 2], ["Peru", 2], ["Nigeria", 2], ["Greece", 2], ["Colombia", 2], ["Canada", 1], ["Mexico", 1],
  ["Ukraine", 1], ["Argentina", 1], ["Thailand", 1], ["Vietnam", 1], ["Germany", 1], ["Morocco", 1], ["Iran", 1],
  ["South Africa", 1], ["New Zealand", 1], ["Åland Islands", 1],
];
const COUNTRY_TOTAL = COUNTRIES.reduce((sum, [, weight]) => sum + weight, 0);

export type SampleRecord = Record<string | symbol, unknown> | unknown[] | string | number;

/**
 * On a record whose `id` must be written as this exact literal (`7.0`, or an integer beyond 2^53),
 * which a JS number cannot carry. The record's `id` holds what JSON.parse makes of the literal;
 * JSON.stringify ignores symbol keys, `recordJson` writes the literal.
 */
export const ID_LITERAL = Symbol("gen-sample id literal");

/**
 * Record number `id` (1-based) as a JS value, drawing from `random`: pure, so tests can rebuild
 * any record from the seed. Object records have `id` as their first property.
 */
export function makeRecord(id: number, random: () => number): SampleRecord {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const chance = (p: number) => random() < p;

  // Exactly 1%, every kind in turn, so even a 1,000-record sample holds each kind of dead letter.
  if (id % 100 === 50) return deadLetter(id, DEAD_LETTERS[Math.floor(id / 100) % DEAD_LETTERS.length]!);

  const first = pick(FIRST_NAMES);
  const last = pick(LAST_NAMES);
  const record: Record<string | symbol, unknown> = { id };
  if (chance(0.03)) {
    const form = pick(["padded", "string", "signed", "point-zero"] as const);
    if (form === "padded") record.id = ` ${id} `;
    else if (form === "string") record.id = String(id);
    else if (form === "signed") record.id = `+${id}`;
    else record[ID_LITERAL] = `${id}.0`;
  }
  record.first_name = first.text;
  record.last_name = last.text;
  record.email = `${first.slug[0]}${last.slug}${id % 1000}@${pick(DOMAINS)}`;
  record.gender = pick(GENDERS);
  record.ip_address = `${1 + Math.floor(random() * 223)}.${Math.floor(random() * 256)}.${Math.floor(random() * 256)}.${Math.floor(random() * 256)}`;
  const date = randomDate(random);
  record.date = `${pad2(date.day)}/${pad2(date.month)}/${date.year}`;
  record.country = pickCountry(random);

  // Dirt, each at a small rate; `undefined` means the field is missing.
  if (chance(0.02)) record.first_name = pick([null, undefined, "", "   ", 42, true, `  ${first.text}  `]);
  if (chance(0.02)) record.last_name = pick([null, undefined, "", " ", 0, `\t${last.text} `]);
  if (chance(0.02)) record.email = pick([null, undefined, "", "  ", 7, ` ${String(record.email).toUpperCase()} `, `${first.text}.${last.slug}@Example.COM`]);
  if (chance(0.015)) record.gender = pick([null, undefined, "", false, " female "]);
  if (chance(0.02)) {
    record.ip_address = pick([
      "256.1.1.1", "1.2.3.300", "01.2.3.4", "192.168.001.1", "10.0.0", "1.2.3.4.5", "::1", "2001:db8::ff00:42:8329",
      "not an ip", " 10.0.0.1 ", "", null, undefined, 3232235777,
    ]);
  }
  if (chance(0.03)) {
    const iso = `${date.year}-${pad2(date.month)}-${pad2(date.day)}`;
    record.date = pick([
      `${date.day}/${date.month}/${date.year}`, `${iso}T10:11:12Z`, `${iso} 10:11`, iso, "31/02/2019", "29/02/2019",
      "29/02/2020", "2019-13-01", "yesterday", "", null, undefined, 20180506,
    ]);
  }
  if (chance(0.03)) {
    const country = String(record.country);
    record.country = pick([
      `  ${country.toUpperCase()} `, `  ${swapCase(country)} `, country.toLowerCase(), country.replace(" ", "   "),
      "côte   d'ivoire", "guinea-bissau", "", " ", null, undefined, 33,
    ]);
  }
  if (chance(0.015)) record.signup_source = pick(["web", "mobile", "partner"]);
  if (chance(0.005)) record.preferences = { newsletter: chance(0.5), tags: ["a", "b"], score: 1.5 };
  for (const key of Object.keys(record)) if (record[key] === undefined) delete record[key];
  return record;
}

const DEAD_LETTERS = ["missing id", "fraction", "letters", "boolean", "beyond 2^53", "array", "number", "string"] as const;

/** A record stream-clean must dead-letter (invalid_id or not_an_object). */
function deadLetter(id: number, kind: (typeof DEAD_LETTERS)[number]): SampleRecord {
  switch (kind) {
    case "missing id":
      return { first_name: "No", last_name: "Id", email: `noid${id}@example.org`, country: "France" };
    case "fraction":
      return { id: id + 0.5, first_name: "Fraction", country: "Peru" };
    case "letters":
      return { id: "abc", first_name: "Letters", country: "Japan" };
    case "boolean":
      return { id: true, first_name: "Boolean", country: "Iran" };
    case "beyond 2^53": {
      const literal = String(2n ** 53n + BigInt(id));
      return { id: Number(literal), [ID_LITERAL]: literal, first_name: "TooBig", country: "Canada" };
    }
    case "array":
      return [id, "an array, not an object"];
    case "number":
      return id;
    case "string":
      return `record ${id} as a string`;
  }
}

/** Record number `id` as the exact JSON text the generator writes (compact, ids as literals). */
export function recordJson(id: number, random: () => number): string {
  const record = makeRecord(id, random);
  const json = JSON.stringify(record);
  if (typeof record !== "object" || Array.isArray(record) || typeof record[ID_LITERAL] !== "string") return json;
  // `id` is the first property, so the number JSON.stringify wrote opens the text.
  const written = `{"id":${JSON.stringify(record.id)}`;
  return `{"id":${record[ID_LITERAL]}${json.slice(written.length)}`;
}

function pickCountry(random: () => number): string {
  let ticket = random() * COUNTRY_TOTAL;
  for (const [country, weight] of COUNTRIES) {
    ticket -= weight;
    if (ticket < 0) return country;
  }
  return COUNTRIES[0]![0];
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function randomDate(random: () => number): { day: number; month: number; year: number } {
  const year = 2010 + Math.floor(random() * 15);
  const month = 1 + Math.floor(random() * 12);
  const leap = month === 2 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const day = 1 + Math.floor(random() * (DAYS_IN_MONTH[month - 1]! + (leap ? 1 : 0)));
  return { day, month, year };
}

const pad2 = (n: number) => (n < 10 ? `0${n}` : String(n));
const swapCase = (text: string) => [...text].map((c) => (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase())).join("");

export interface SampleOptions {
  readonly records: number;
  readonly seed: number;
  readonly format: "ndjson" | "array";
}

/** The whole output as text blocks of a few thousand records each, in order. */
export function* sampleBlocks(options: SampleOptions): Generator<string> {
  const random = createRandom(options.seed);
  const array = options.format === "array";
  // One element per line; an array gets its brackets on lines of their own.
  const separator = array ? ",\n  " : "\n";
  const blockSize = 4096;
  let block: string[] = [];
  let first = true;
  const flush = (): string => {
    const text = (array ? (first ? "[\n  " : separator) : "") + block.join(separator) + (array ? "" : "\n");
    first = false;
    block = [];
    return text;
  };
  for (let id = 1; id <= options.records; id++) {
    block.push(recordJson(id, random));
    if (block.length === blockSize) yield flush();
  }
  if (block.length > 0) yield flush();
  if (array) yield first ? "[\n]\n" : "\n]\n";
}

const USAGE = "usage: bun scripts/gen-sample.ts [--records N] [--seed S] [--format ndjson|array] [--out FILE|-] [--gzip]";

function parseOptions(argv: string[]): SampleOptions & { out: string; gzip: boolean } {
  const { values } = parseArgs({
    args: argv,
    options: {
      records: { type: "string", default: "1000" },
      seed: { type: "string", default: "42" },
      format: { type: "string", default: "ndjson" },
      out: { type: "string", default: "-" },
      gzip: { type: "boolean", default: false },
    },
  });
  const records = Number(values.records);
  if (!/^\d+$/.test(values.records) || !Number.isSafeInteger(records)) throw new Error(`--records expects a whole number, got ${values.records}`);
  const seed = Number(values.seed);
  if (!/^\d+$/.test(values.seed) || seed > 0xffffffff) throw new Error(`--seed expects a whole number below 2^32, got ${values.seed}`);
  if (values.format !== "ndjson" && values.format !== "array") throw new Error(`--format is ndjson or array, got ${values.format}`);
  return { records, seed, format: values.format, out: values.out, gzip: values.gzip };
}

async function main(): Promise<void> {
  let options: ReturnType<typeof parseOptions>;
  try {
    options = parseOptions(Bun.argv.slice(2));
  } catch (error) {
    process.stderr.write(`gen-sample: ${(error as Error).message}\n${USAGE}\n`);
    process.exitCode = 2;
    return;
  }
  try {
    await writeSample(options);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EPIPE") return; // the reader stopped early (`| head`)
    process.stderr.write(`gen-sample: ${(error as Error).message}\n`);
    process.exitCode = 1;
  }
}

/** Writes the blocks with back-pressure, so memory stays flat whatever the record count. */
async function writeSample(options: SampleOptions & { out: string; gzip: boolean }): Promise<void> {
  const file = options.out === "-" ? process.stdout : createWriteStream(options.out);
  const gzip = options.gzip ? createGzip() : undefined;
  const sink = gzip ?? file;
  const failed = new Promise<never>((_, reject) => {
    file.on("error", reject);
    gzip?.on("error", reject);
  });
  failed.catch(() => undefined); // observed through the races below
  gzip?.pipe(file);
  for (const block of sampleBlocks(options)) {
    if (!sink.write(block)) await Promise.race([once(sink, "drain"), failed]);
  }
  if (sink === process.stdout) return; // flushed at exit
  // A file is done when it has finished; stdout behind gzip when gzip has handed over its last bytes.
  const done = file === process.stdout ? once(gzip!, "end") : once(file, "finish");
  sink.end();
  await Promise.race([done, failed]);
}

if (import.meta.main) await main();
