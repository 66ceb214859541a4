import { describe, expect, test } from "bun:test";
import { formatFamily, escapeLabelValue } from "../../../src/prometheus/text.ts";

describe("the Prometheus text format", () => {
  test("a family is its HELP and TYPE lines, then one line per sample with its labels", () => {
    const text = formatFamily({ name: "x_total", help: "things", type: "counter", samples: [[{ reason: "a" }, 2], [{}, 3]] });
    expect(text).toBe('# HELP x_total things\n# TYPE x_total counter\nx_total{reason="a"} 2\nx_total 3\n');
  });

  test("a family without a type is a gauge; booleans are 1 and 0; unknown (null) samples are left out", () => {
    const text = formatFamily({ name: "g", help: "h", samples: [[{ p: 1 }, true], [{ p: 2 }, false], [{ p: 3 }, null]] });
    expect(text).toBe('# HELP g h\n# TYPE g gauge\ng{p="1"} 1\ng{p="2"} 0\n');
  });

  test("a sample's suffix follows the family name, infinities are +Inf and -Inf", () => {
    expect(formatFamily({ name: "h", help: "h", type: "histogram", samples: [[{ le: "+Inf" }, Infinity, "_bucket"]] })).toContain('h_bucket{le="+Inf"} +Inf\n');
  });

  test("label values escape backslash, quote and newline; HELP text backslash and newline", () => {
    expect(escapeLabelValue('a\\b"c\nd')).toBe('a\\\\b\\"c\\nd');
    expect(formatFamily({ name: "g", help: 'a\\b\n"c"', samples: [] })).toStartWith('# HELP g a\\\\b\\n"c"\n');
  });
});
