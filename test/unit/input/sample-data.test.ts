import { describe, expect, test } from "bun:test";
import { resolve } from "node:path";
import { createRandom, ID_LITERAL, makeRecord, recordJson, sampleBlocks, type SampleOptions } from "../../../scripts/gen-sample.ts";
import { readElements } from "../../../src/input/read-elements.ts";
import { asText, type TextItem as InputItem } from "./text-items.ts";

const ROOT = resolve(import.meta.dir, "../../..");
const encoder = new TextEncoder();

const sampleText = (options: SampleOptions) => [...sampleBlocks(options)].join("");

async function read(text: string): Promise<InputItem[]> {
  async function* chunks(): AsyncGenerator<Uint8Array> {
    yield encoder.encode(text);
  }
  const items: InputItem[] = [];
  for await (const item of readElements(chunks(), "sample")) items.push(asText(item));
  return items;
}

describe("gen-sample", () => {
  test("the same seed gives the same bytes, another seed other bytes", () => {
    const options = { records: 3000, seed: 42, format: "ndjson" } as const;
    expect(sampleText(options)).toBe(sampleText(options));
    expect(sampleText({ ...options, seed: 43 })).not.toBe(sampleText(options));
  });

  test("config/data/sample.ndjson is what the generator writes for 1,000 records and seed 42", async () => {
    expect(await Bun.file(resolve(ROOT, "config/data/sample.ndjson")).text()).toBe(sampleText({ records: 1000, seed: 42, format: "ndjson" }));
  });

  test("NDJSON and array output hold the same elements, every one of them valid JSON", async () => {
    const ndjson = await read(sampleText({ records: 5000, seed: 7, format: "ndjson" }));
    const array = await read(sampleText({ records: 5000, seed: 7, format: "array" }));
    expect(ndjson.length).toBe(5000);
    expect(ndjson.every((item) => item.kind === "element")).toBe(true);
    expect(array.map((item) => item.kind === "element" && item.json)).toEqual(ndjson.map((item) => item.kind === "element" && item.json));
  });

  test("an empty sample is an empty array or an empty file", async () => {
    expect(sampleText({ records: 0, seed: 1, format: "array" })).toBe("[\n]\n");
    expect(sampleText({ records: 0, seed: 1, format: "ndjson" })).toBe("");
  });

  test("ids count up from 1, in the forms the cleaner accepts, except 1% that must be dead-lettered", async () => {
    const items = await read(sampleText({ records: 10_000, seed: 42, format: "ndjson" }));
    let deadLetters = 0;
    const forms = new Set<string>();
    items.forEach((item, index) => {
      if (item.kind !== "element") throw new Error("the generator wrote invalid JSON");
      const id = index + 1;
      if (item.key === String(id)) forms.add("number");
      else if (item.key === ` ${id} `) forms.add("padded string");
      else if (item.key === `+${id}`) forms.add("signed string");
      else if (item.key === `${id}.0`) forms.add("1.0");
      else deadLetters++;
    });
    expect(deadLetters).toBe(100);
    expect([...forms].sort()).toEqual(["1.0", "number", "padded string", "signed string"]);
  });

  test("the dead letters cover every kind: no id, fraction, letters, boolean, beyond 2^53, not an object", async () => {
    const items = await read(sampleText({ records: 800, seed: 42, format: "ndjson" }));
    const dead = items.filter((_, index) => (index + 1) % 100 === 50).map((item) => (item.kind === "element" ? item.json : ""));
    const starts = ['{"first_name":"No"', '{"id":150.5,', '{"id":"abc",', '{"id":true,', '{"id":9007199254741442,', "[550,", "650", '"record 750 as a string"'];
    expect(dead.map((json, index) => (json.startsWith(starts[index]!) ? starts[index] : json))).toEqual(starts);
  });

  test("the dirt is there: blanks, non-strings, upper case, bad IPs, odd dates, country spelling, unicode, extra and missing fields", () => {
    const text = sampleText({ records: 20_000, seed: 42, format: "ndjson" });
    for (const dirt of [
      /"first_name":null/, /"first_name":"   "/, /"first_name":42/, /"email":" [A-Z0-9.@]+ "/, /"ip_address":"256\.1\.1\.1"/,
      /"ip_address":"01\.2\.3\.4"/, /"ip_address":"2001:db8::ff00:42:8329"/, /"date":"\d{1,2}\/\d{1,2}\/\d{4}"/, /"date":"\d{4}-\d\d-\d\dT10:11:12Z"/,
      /"date":"31\/02\/2019"/, /"country":"  [A-Z ']+ "/, /"country":"côte   d'ivoire"/, /"country":"guinea-bissau"/,
      /"first_name":"[^"]*🎉"/, /"last_name":"佐藤"/, /"signup_source":/, /"last_name":"[^"]*","gender"/,
    ]) {
      expect([dirt.source, dirt.test(text)]).toEqual([dirt.source, true]);
    }
  });

  test("makeRecord gives the value a JSON parser sees, recordJson the exact text", () => {
    const values = createRandom(5);
    const texts = createRandom(5);
    for (let id = 1; id <= 3000; id++) {
      const value = makeRecord(id, values);
      const text = recordJson(id, texts);
      expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(value)));
      if (typeof value === "object" && !Array.isArray(value) && value[ID_LITERAL] !== undefined) {
        expect(text).toStartWith(`{"id":${String(value[ID_LITERAL])},`);
      }
    }
  });
});
