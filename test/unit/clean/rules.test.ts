import { describe, expect, test } from "bun:test";
import {
  cleanCountry, cleanDate, cleanEmail, cleanFirstName, cleanGender, cleanId, cleanIp, cleanLastName, validateDateFormat,
} from "../../../src/clean/rules.ts";

const FORMATS = ["d/M/yyyy", "yyyy-MM-dd"];

describe("id", () => {
  test.each([
    [42, 42], [1.0, 1], ["42", 42], [" 42 ", 42], ["+7", 7], ["-3", -3], ["007", 7], [0, 0], ["-0", 0],
    [Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER], [-Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER],
  ])("%p is the id %p", (input, expected) => {
    expect(Object.is(cleanId(input), expected)).toBe(true);
  });

  test.each([
    [1.5], [true], [null], [undefined], ["abc"], [""], ["  "], ["1e3"], ["1.0"], ["0x10"], ["4 2"], [2 ** 60], [2 ** 53],
    ["9007199254740992"], [Number.NaN], [Number.POSITIVE_INFINITY], [{}], [[1]],
  ])("%p is not an id", (input) => {
    expect(cleanId(input)).toBeUndefined();
  });
});

describe("names, email, gender", () => {
  test("first_name is trimmed; missing, null, blank or non-string become the placeholder from the rules", () => {
    expect(cleanFirstName("  Zoë ", "NULL")).toBe("Zoë");
    for (const missing of [undefined, null, "", "   ", 42, true, {}, ["a"]]) expect(cleanFirstName(missing, "N/A")).toBe("N/A");
  });

  test("last_name and gender are trimmed; missing, null, blank or non-string become null", () => {
    expect(cleanLastName(" O'Brien ")).toBe("O'Brien");
    expect(cleanGender("\tFemale\n")).toBe("Female");
    for (const missing of [undefined, null, "", " \u00a0 ", 3, false]) {
      expect(cleanLastName(missing)).toBeNull();
      expect(cleanGender(missing)).toBeNull();
    }
  });

  test("email is trimmed and lower-cased; missing or blank becomes the placeholder", () => {
    expect(cleanEmail("  BKittel0@PrintFriendly.COM ", "NULL")).toBe("bkittel0@printfriendly.com");
    expect(cleanEmail(null, "NULL")).toBe("NULL");
    expect(cleanEmail("", "<none>")).toBe("<none>");
    expect(cleanEmail(7, "NULL")).toBe("NULL");
    expect(cleanEmail("NULL", "NULL")).toBe("NULL");
  });
});

describe("ip_addr", () => {
  test.each(["130.187.82.195", "0.0.0.0", "255.255.255.255", "10.0.0.1"])("%s is kept", (ip) => {
    expect(cleanIp(ip, "127.127.127.127")).toBe(ip);
  });

  test("surrounding white space is trimmed", () => {
    expect(cleanIp(" 10.0.0.1 ", "127.127.127.127")).toBe("10.0.0.1");
  });

  test.each(["256.1.1.1", "01.2.3.4", "1.2.3", "1.2.3.4.5", "::1", "2001:db8::1", "1.2.3.4 x", "a.b.c.d", "1..2.3", "", "١.٢.٣.٤", "1.2.3.04"])(
    "%p becomes the default from the rules",
    (ip) => {
      expect(cleanIp(ip, "9.9.9.9")).toBe("9.9.9.9");
    },
  );

  test("a non-string or missing ip becomes the default", () => {
    expect(cleanIp(null, "127.127.127.127")).toBe("127.127.127.127");
    expect(cleanIp(16909060, "127.127.127.127")).toBe("127.127.127.127");
  });
});

describe("date", () => {
  test.each([
    ["06/05/2018", "06/05/2018"],
    ["6/5/2018", "06/05/2018"],
    ["2018-05-06", "06/05/2018"],
    ["2018-05-06T10:11:12Z", "06/05/2018"],
    ["2018-05-06 10:11", "06/05/2018"],
    ["29/02/2020", "29/02/2020"],
    ["29/02/2000", "29/02/2000"],
    [" 1/1/1999 ", "01/01/1999"],
    ["2018-05-06 ", "06/05/2018"],
  ])("%p is written %p", (input, expected) => {
    expect(cleanDate(input, FORMATS)).toBe(expected);
  });

  test.each([
    ["29/02/2019"], ["29/02/1900"], ["31/04/2018"], ["32/01/2018"], ["00/01/2018"], ["01/13/2018"], ["2018-02-30"],
    ["2018-05-06X"], ["2018-05-06T"], ["06-05-2018"], ["yesterday"], [""], [null], [20180506], ["6/5/18"],
  ])("%p becomes null", (input) => {
    expect(cleanDate(input, FORMATS)).toBeNull();
  });

  test("the accepted forms come from the rules", () => {
    expect(cleanDate("05/06/2018", ["M/d/yyyy"])).toBe("06/05/2018");
    expect(cleanDate("2018-05-06", ["d/M/yyyy"])).toBeNull();
    expect(cleanDate("06.05.2018", ["dd.MM.yyyy"])).toBe("06/05/2018");
  });

  test("a pattern without a year, month or day is refused with a reason", () => {
    expect(validateDateFormat("d/M/yyyy")).toBeUndefined();
    expect(validateDateFormat("d/M")).toContain("yyyy");
    expect(validateDateFormat("d/d/yyyy")).toContain("M");
  });
});

describe("country", () => {
  test.each([
    ["France", "France"],
    ["  fRANCE ", "France"],
    ["côte   d'ivoire", "Côte D'ivoire"],
    ["guinea-bissau", "Guinea-bissau"],
    ["UNITED\tSTATES\n", "United States"],
    ["åland islands", "Åland Islands"],
  ])("%p becomes %p", (input, expected) => {
    expect(cleanCountry(input)).toBe(expected);
  });

  test("missing, null, blank or non-string becomes null", () => {
    for (const missing of [undefined, null, "", "   ", 1, {}]) expect(cleanCountry(missing)).toBeNull();
  });
});
