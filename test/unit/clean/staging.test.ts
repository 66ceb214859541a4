import { describe, expect, test } from "bun:test";
import { stagingMessage } from "../../../src/clean/staging.ts";
import type { CleanRow } from "../../../src/clean/types.ts";

const FIVE_MINUTES = 300_000;

function row(overrides: Partial<CleanRow>): CleanRow {
  return {
    id: 1, first_name: "Barthel", last_name: "Kittel", email: "bkittel0@printfriendly.com", gender: "Male", ip_addr: "130.187.82.195",
    date: "06/05/2018", country: "France", timestamp: Date.UTC(2026, 0, 2, 3, 4, 5), source_partition: 0, source_offset: 0n, ...overrides,
  };
}

describe("staging message", () => {
  test("the key is the window start and the value is the SPEC's JSON with country and users", () => {
    const message = stagingMessage(row({}), FIVE_MINUTES);
    expect(message.key).toBe("2026-01-02T03:00:00.000Z");
    expect(JSON.parse(message.value)).toEqual({
      time_window: { start: "2026-01-02T03:00:00.000Z", end: "2026-01-02T03:05:00.000Z" },
      country: "France",
      users: "bkittel0@printfriendly.com",
    });
  });

  test("the value's keys come in the SPEC's order", () => {
    expect(Object.keys(JSON.parse(stagingMessage(row({}), FIVE_MINUTES).value))).toEqual(["time_window", "country", "users"]);
  });

  test("a null country is JSON null and the placeholder email is the users value", () => {
    expect(JSON.parse(stagingMessage(row({ country: null, email: "NULL" }), FIVE_MINUTES).value)).toMatchObject({ country: null, users: "NULL" });
  });

  test("quotes, backslashes, control characters and non-ASCII text stay valid JSON", () => {
    const country = 'Côte "D\'ivoire" \\ \n\u0000 😀';
    const email = 'a"b\\c\u2028@x';
    expect(JSON.parse(stagingMessage(row({ country, email }), FIVE_MINUTES).value)).toMatchObject({ country, users: email });
  });

  test("a record exactly at a window's end starts the next window", () => {
    const end = Date.UTC(2026, 0, 2, 3, 5);
    expect(stagingMessage(row({ timestamp: end - 1 }), FIVE_MINUTES).key).toBe("2026-01-02T03:00:00.000Z");
    expect(stagingMessage(row({ timestamp: end }), FIVE_MINUTES).key).toBe("2026-01-02T03:05:00.000Z");
    expect(JSON.parse(stagingMessage(row({ timestamp: end }), FIVE_MINUTES).value).time_window).toEqual({
      start: "2026-01-02T03:05:00.000Z",
      end: "2026-01-02T03:10:00.000Z",
    });
  });

  test("the remembered window is never reused for another window or another size", () => {
    const early = Date.UTC(2026, 0, 2, 3, 1);
    const late = Date.UTC(2026, 0, 2, 4, 1);
    for (let round = 0; round < 3; round++) {
      expect(stagingMessage(row({ timestamp: early }), FIVE_MINUTES).key).toBe("2026-01-02T03:00:00.000Z");
      expect(stagingMessage(row({ timestamp: late }), FIVE_MINUTES).key).toBe("2026-01-02T04:00:00.000Z");
      expect(JSON.parse(stagingMessage(row({ timestamp: late }), 3_600_000).value).time_window).toEqual({
        start: "2026-01-02T04:00:00.000Z",
        end: "2026-01-02T05:00:00.000Z",
      });
      expect(stagingMessage(row({ timestamp: late }), FIVE_MINUTES).key).toBe("2026-01-02T04:00:00.000Z");
    }
  });

  test("timestamps before the epoch get the window that holds them", () => {
    expect(stagingMessage(row({ timestamp: -1 }), FIVE_MINUTES).key).toBe("1969-12-31T23:55:00.000Z");
  });

  test("a timestamp no Date can hold gives null window bounds instead of throwing", () => {
    const message = stagingMessage(row({ timestamp: 2 ** 63 }), FIVE_MINUTES);
    expect(message.key).toBe("");
    expect(JSON.parse(message.value).time_window).toEqual({ start: null, end: null });
    expect(stagingMessage(row({}), FIVE_MINUTES).key).toBe("2026-01-02T03:00:00.000Z");
  });
});

describe("jsonString writes what JSON.stringify writes", () => {
  test("for null, plain text, every character that needs an escape, and random UTF-16", async () => {
    const { jsonString } = await import("../../../src/clean/staging.ts");
    const { createRandom } = await import("../../../scripts/gen-sample.ts");
    const cases: (string | null)[] = [null, "", "a@b.com", "Côte D'ivoire", "😀", "\ud800", "\udc00x", "\ud83d\ude00", '"', "\\", "\u007f", "\u2028", "\ufeff"];
    for (let code = 0; code < 0x20; code++) cases.push(`a${String.fromCharCode(code)}b`);
    const random = createRandom(20261201);
    const units = [0x41, 0x22, 0x5c, 0x0a, 0x00, 0x1f, 0x20, 0xe9, 0xd7ff, 0xd800, 0xdbff, 0xdc00, 0xdfff, 0xe000, 0xffff];
    for (let i = 0; i < 5000; i++) {
      cases.push(String.fromCharCode(...Array.from({ length: Math.floor(random() * 8) }, () => (random() < 0.5 ? units[Math.floor(random() * units.length)]! : Math.floor(random() * 0x10000)))));
    }
    for (const text of cases) expect(jsonString(text)).toBe(JSON.stringify(text));
  });
});
