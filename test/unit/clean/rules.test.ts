import { describe, expect, test } from "bun:test";
import {
  cleanCountry, cleanDate, cleanEmail, cleanFirstName, cleanGender, cleanId, cleanIp, cleanLastName, compileDateFormats, describeBadId,
  isDottedQuad, isRealDate, shorten, validateDateFormat,
} from "../../../src/clean/rules.ts";

const FORMATS = ["d/M/yyyy", "yyyy-MM-dd"];
/** Values that are not strings, or blank ones: all count as missing. */
const MISSING: Array<[unknown]> = [undefined, null, "", "   ", "\t\n\r", "\u00a0\u2028\u3000\ufeff", 42, 0, true, false, {}, ["a"]].map((value) => [value]);

describe("id", () => {
  test.each([
    [42, 42], [1.0, 1], [1e3, 1000], ["42", 42], [" 42 ", 42], ["\u00a042\n", 42], ["+7", 7], ["-3", -3], ["007", 7], [0, 0],
    [Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER], [-Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER],
    ["9007199254740991", Number.MAX_SAFE_INTEGER], ["-9007199254740991", -Number.MAX_SAFE_INTEGER],
  ])("%p is the id %p", (input, expected) => {
    expect(cleanId(input)).toBe(expected);
  });

  test("minus zero becomes zero", () => {
    expect(Object.is(cleanId(-0), 0)).toBe(true);
    expect(Object.is(cleanId("-0"), 0)).toBe(true);
  });

  test.each([
    [1.5], [true], [false], [null], [undefined], ["abc"], [""], ["  "], ["1e3"], ["1.0"], ["1.5"], ["0x10"], ["4 2"], ["+-1"], ["++1"], ["-"],
    ["١٢"], ["１２"], [2 ** 60], [2 ** 53], [-(2 ** 53)], ["9007199254740992"], ["1152921504606846976"], [Number.NaN],
    [Number.POSITIVE_INFINITY], [Number.NEGATIVE_INFINITY], [{}], [[1]], ["NaN"], ["Infinity"], [`1${"0".repeat(400)}`],
  ])("%p is not an id", (input) => {
    expect(cleanId(input)).toBeUndefined();
  });

  test.each([
    [undefined, "missing"], [null, "null"], [true, "boolean"], [1.5, "not an integer"], [2 ** 60, "safe integer"], ["1e3", "not a decimal integer"],
    ["9007199254740992", "safe integer"], [{}, "object"], [[1], "array"],
  ])("a refused id %p is explained (%p)", (input, words) => {
    expect(describeBadId(input)).toContain(words);
  });

  test("explaining a refused id never renders the whole value", () => {
    let deep: unknown = [];
    for (let level = 0; level < 100_000; level++) deep = [deep];
    expect(describeBadId(deep)).toBe("id is an array, not an integer");
    expect(describeBadId("x".repeat(1_000_000)).length).toBeLessThan(120);
  });
});

describe("first_name, last_name, email, gender", () => {
  test("first_name is trimmed", () => {
    expect(cleanFirstName("  Zoë ", "NULL")).toBe("Zoë");
    expect(cleanFirstName("\u3000Jean Luc\u00a0", "NULL")).toBe("Jean Luc");
  });

  test.each(MISSING)("first_name %p becomes the placeholder from the rules", (missing) => {
    expect(cleanFirstName(missing, "N/A")).toBe("N/A");
  });

  test("a zero-width space is not white space (trim keeps it), so the name is not blank", () => {
    expect(cleanFirstName("\u200b", "NULL")).toBe("\u200b");
  });

  test("lone surrogates become U+FFFD, as they would be written", () => {
    expect(cleanFirstName("a\ud800b", "NULL")).toBe("a\ufffdb");
    expect(cleanLastName("\udc00")).toBe("\ufffd");
  });

  test("last_name and gender are trimmed", () => {
    expect(cleanLastName(" O'Brien ")).toBe("O'Brien");
    expect(cleanGender("\tFemale\n")).toBe("Female");
    expect(cleanGender("Non-binary")).toBe("Non-binary");
  });

  test.each(MISSING)("last_name and gender %p become null", (missing) => {
    expect(cleanLastName(missing)).toBeNull();
    expect(cleanGender(missing)).toBeNull();
  });

  test("email is trimmed and lower-cased", () => {
    expect(cleanEmail("  BKittel0@PrintFriendly.COM ", "NULL")).toBe("bkittel0@printfriendly.com");
    expect(cleanEmail("ÉLODIE@EXEMPLE.FR", "NULL")).toBe("élodie@exemple.fr");
  });

  test.each(MISSING)("email %p becomes the placeholder from the rules", (missing) => {
    expect(cleanEmail(missing, "<none>")).toBe("<none>");
  });

  test("an email equal to the placeholder stays as it is, so cleaning twice changes nothing", () => {
    expect(cleanEmail("NULL", "NULL")).toBe("NULL");
    expect(cleanEmail(" NULL ", "NULL")).toBe("NULL");
    expect(cleanEmail("Null", "NULL")).toBe("null");
  });
});

describe("ip_addr", () => {
  test.each(["130.187.82.195", "0.0.0.0", "255.255.255.255", "10.0.0.1", "1.2.3.4", "199.249.250.200"])("%s is kept", (ip) => {
    expect(cleanIp(ip, "127.127.127.127")).toBe(ip);
  });

  test("surrounding white space is trimmed", () => {
    expect(cleanIp(" 10.0.0.1\n", "127.127.127.127")).toBe("10.0.0.1");
    expect(cleanIp("\u00a010.0.0.1\u3000", "127.127.127.127")).toBe("10.0.0.1");
  });

  test.each([
    "256.1.1.1", "1.2.3.256", "01.2.3.4", "1.2.3.04", "00.0.0.0", "1.2.3", "1.2.3.4.5", "::1", "2001:db8::1", "::ffff:1.2.3.4", "1.2.3.4 x",
    "1.2.3.4/24", "1.2.3.4:80", "a.b.c.d", "1..2.3", ".1.2.3", "1.2.3.", "", " ", "١.٢.٣.٤", "１.２.３.４", "1 .2.3.4", "+1.2.3.4", "0x7f.0.0.1",
    "1.2.3.4\u0000", "1000.1.1.1",
  ])("%p becomes the default from the rules", (ip) => {
    expect(cleanIp(ip, "9.9.9.9")).toBe("9.9.9.9");
  });

  test.each([[undefined], [null], [16909060], [true], [["1.2.3.4"]], [{ ip: "1.2.3.4" }]])("a non-string ip %p becomes the default", (ip) => {
    expect(cleanIp(ip, "127.127.127.127")).toBe("127.127.127.127");
  });

  test("isDottedQuad agrees with an octet-by-octet reading for every number up to 300 in each place", () => {
    const octet = (part: string) => /^(0|[1-9][0-9]{0,2})$/.test(part) && Number(part) <= 255;
    for (let n = 0; n <= 300; n++) {
      for (const text of [`${n}.0.0.0`, `0.${n}.0.0`, `0.0.${n}.0`, `0.0.0.${n}`, `0.0.0.0${n}`]) {
        expect(isDottedQuad(text)).toBe(text.split(".").length === 4 && text.split(".").every(octet));
      }
    }
  });
});

describe("date", () => {
  test.each([
    ["06/05/2018", "06/05/2018"],
    ["6/5/2018", "06/05/2018"],
    ["06/5/2018", "06/05/2018"],
    ["2018-05-06", "06/05/2018"],
    ["2018-05-06T10:11:12Z", "06/05/2018"],
    ["2018-05-06T10:11:12.345+02:00", "06/05/2018"],
    ["2018-05-06T101112Z", "06/05/2018"],
    ["2018-05-06 10:11", "06/05/2018"],
    ["2018-05-06 10:11:12 UTC", "06/05/2018"],
    ["29/02/2020", "29/02/2020"],
    ["29/02/2000", "29/02/2000"],
    ["2024-02-29", "29/02/2024"],
    ["31/12/9999", "31/12/9999"],
    ["01/01/0001", "01/01/0001"],
    [" 1/1/1999 ", "01/01/1999"],
    ["\u00a02018-05-06\n", "06/05/2018"],
  ])("%p is written %p", (input, expected) => {
    expect(cleanDate(input, FORMATS)).toBe(expected);
  });

  test.each([
    ["29/02/2019"], ["29/02/1900"], ["31/04/2018"], ["31/06/2018"], ["32/01/2018"], ["00/01/2018"], ["01/00/2018"], ["01/13/2018"],
    ["2018-02-30"], ["2019-02-29"], ["2018-13-01"], ["2018-5-6"], ["0000-01-01"], ["01/01/0000"], ["2018-05-06X"], ["2018-05-06T"],
    ["2018-05-06 "+"garbage"], ["2018-05-06T10:11:12Zjunk"], ["06-05-2018"], ["06.05.2018"], ["6/5/18"], ["006/05/2018"], ["6/5/02018"],
    ["yesterday"], [""], ["   "], [null], [undefined], [20180506], [{}], ["٠٦/٠٥/٢٠١٨"], ["2018-05-06\n10:11"], ["2018/05/06"],
  ])("%p becomes null", (input) => {
    expect(cleanDate(input, FORMATS)).toBeNull();
  });

  test("the defaults are d/M/yyyy and yyyy-MM-dd", () => {
    expect(cleanDate("6/5/2018")).toBe("06/05/2018");
    expect(cleanDate("2018-05-06T00:00")).toBe("06/05/2018");
    expect(cleanDate("05/06/18")).toBeNull();
  });

  test("the accepted forms come from the rules and are tried in order", () => {
    expect(cleanDate("05/06/2018", ["M/d/yyyy"])).toBe("06/05/2018");
    expect(cleanDate("05/06/2018", ["M/d/yyyy", "d/M/yyyy"])).toBe("06/05/2018");
    expect(cleanDate("05/06/2018", ["d/M/yyyy", "M/d/yyyy"])).toBe("05/06/2018");
    expect(cleanDate("2018-05-06", ["d/M/yyyy"])).toBeNull();
    expect(cleanDate("06.05.2018", ["dd.MM.yyyy"])).toBe("06/05/2018");
    expect(cleanDate("6.5.2018", ["dd.MM.yyyy"])).toBeNull();
    expect(cleanDate("06052018", ["ddMMyyyy"])).toBe("06/05/2018");
    expect(cleanDate("2018/5/6", ["yyyy/M/d"])).toBe("06/05/2018");
  });

  test("when a form fails the calendar check the next form is tried", () => {
    expect(cleanDate("13/12/2018", ["M/d/yyyy", "d/M/yyyy"])).toBe("13/12/2018");
  });

  test("only a form starting with yyyy-MM-dd takes a trailing time", () => {
    expect(cleanDate("2018-05-06T10:11", ["yyyy-MM-dd"])).toBe("06/05/2018");
    expect(cleanDate("06/05/2018 10:11", ["dd/MM/yyyy"])).toBeNull();
  });

  test.each([["d/M/yyyy"], ["dd/MM/yyyy"], ["yyyy-MM-dd"], ["M/d/yyyy"], ["ddMMyyyy"], ["d. M. yyyy"], ["yyyy年M月d日"]])("%p is a usable form", (pattern) => {
    expect(validateDateFormat(pattern)).toBeUndefined();
  });

  test.each([
    ["d/M", "year"], ["yyyy-d", "month"], ["M/yyyy", "day"], ["d/d/yyyy", "more than one day"], ["yy/MM/dd", "unsupported token \"yy\""],
    ["yyyy-MM-ddTHH:mm", "unsupported token \"T\""], ["dd/mm/yyyy", "unsupported token \"mm\""], ["ddd/M/yyyy", "unsupported token \"ddd\""],
    ["dMyyyy", "no separator"], ["dMMyyyy", "no separator"], ["", "empty"], [" d/M/yyyy", "white space"], ["d/M/yyyy0", "digits"],
  ])("%p is refused with a reason (%p)", (pattern, words) => {
    const problem = validateDateFormat(pattern);
    expect(problem).toContain(words);
    expect(problem).toContain(JSON.stringify(pattern));
  });

  test("regex characters in a form are literal", () => {
    expect(cleanDate("06.05.2018", ["d.M.yyyy"])).toBe("06/05/2018");
    expect(cleanDate("06x05x2018", ["d.M.yyyy"])).toBeNull();
    expect(cleanDate("(6)[5]2018", ["(d)[M]yyyy"])).toBe("06/05/2018");
  });

  test("unusable forms are skipped, not thrown", () => {
    expect(cleanDate("06/05/2018", ["yy/MM/dd", "d/M/yyyy"])).toBe("06/05/2018");
    expect(cleanDate("06/05/2018", [])).toBeNull();
  });

  test("a list of forms is compiled once: the same list and the same content give the same matcher", () => {
    const formats = ["d/M/yyyy"];
    expect(compileDateFormats(formats)).toBe(compileDateFormats(formats));
    expect(compileDateFormats(["d/M/yyyy"])).toBe(compileDateFormats(["d/M/yyyy"]));
    expect(compileDateFormats(["d/M/yyyy"])).not.toBe(compileDateFormats(["M/d/yyyy"]));
  });

  test("isRealDate agrees with the Gregorian calendar of Date.UTC for every day of 1896–2104", () => {
    for (let year = 1896; year <= 2104; year++) {
      for (let month = 1; month <= 12; month++) {
        for (let day = 0; day <= 32; day++) {
          const date = new Date(Date.UTC(year, month - 1, day));
          const real = date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
          if (isRealDate(year, month, day) !== real) throw new Error(`isRealDate(${year}, ${month}, ${day}) should be ${real}`);
        }
      }
    }
    expect(isRealDate(2000, 2, 29)).toBe(true);
  });
});

describe("country", () => {
  test.each([
    ["France", "France"],
    ["  fRANCE ", "France"],
    ["côte d'ivoire", "Côte D'ivoire"],
    ["côte   d'ivoire", "Côte D'ivoire"],
    ["guinea-bissau", "Guinea-bissau"],
    ["UNITED\tSTATES\n", "United States"],
    ["united \u00a0\u2003 kingdom", "United Kingdom"],
    ["åland islands", "Åland Islands"],
    ["BOSNIA AND HERZEGOVINA", "Bosnia And Herzegovina"],
    ["saint kitts & nevis", "Saint Kitts & Nevis"],
    ["(unknown)", "(unknown)"],
    ["ελλάδα", "Ελλάδα"],
    ["ΕΛΛΆΣ", "Ελλάς"],
    ["𐐨𐐮", "𐐀𐐮"],
  ])("%p becomes %p", (input, expected) => {
    expect(cleanCountry(input)).toBe(expected);
  });

  test("a first letter that upper-cases to several keeps only the first one upper-case, as title case does", () => {
    expect(cleanCountry("ßa")).toBe("Ssa");
    expect(cleanCountry("ﬁji")).toBe("Fiji");
  });

  test.each(MISSING)("country %p becomes null", (missing) => {
    expect(cleanCountry(missing)).toBeNull();
  });

  test("cleaning a cleaned country changes nothing, whatever letter starts a word (all of planes 0 and 1)", () => {
    const failures: string[] = [];
    for (let codePoint = 0; codePoint <= 0x1ffff; codePoint++) {
      if (codePoint >= 0xd800 && codePoint <= 0xdfff) continue;
      const input = `${String.fromCodePoint(codePoint)}Ab ${String.fromCodePoint(codePoint)}`;
      const once = cleanCountry(input);
      if (once !== null && cleanCountry(once) !== once) failures.push(codePoint.toString(16));
    }
    expect(failures).toEqual([]);
  });
});

describe("shorten", () => {
  test("keeps short text and cuts long text with an ellipsis, never inside a surrogate pair", () => {
    expect(shorten("abc", 3)).toBe("abc");
    expect(shorten("abcdef", 4)).toBe("abc…");
    expect(shorten("ab😀def", 4)).toBe("ab…");
    expect(shorten("ab😀def", 4).isWellFormed()).toBe(true);
  });
});
