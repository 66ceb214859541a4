import { describe, expect, test } from "bun:test";
import { Registry } from "../../../src/prometheus/registry.ts";

describe("the metrics registry", () => {
  test("a counter's declared label sets are 0 before their first increment, and new label sets appear when first counted", () => {
    const registry = new Registry();
    const dead = registry.counter("dead_total", "dead letters", [{ reason: "a" }, { reason: "b" }]);
    expect(registry.format()).toBe('# HELP dead_total dead letters\n# TYPE dead_total counter\ndead_total{reason="a"} 0\ndead_total{reason="b"} 0\n');
    dead.inc({ reason: "b" });
    dead.inc({ reason: "b" }, 2);
    dead.inc({ reason: "c" });
    expect(dead.value({ reason: "b" })).toBe(3);
    expect(registry.format()).toContain('dead_total{reason="b"} 3\ndead_total{reason="c"} 1\n');
  });

  test("a counter cannot go down, and its name ends in _total", () => {
    const registry = new Registry();
    const counter = registry.counter("x_total", "x");
    expect(() => counter.inc({}, -1)).toThrow("cannot go down");
    expect(() => counter.inc({}, Number.NaN)).toThrow("cannot go down");
    expect(() => registry.counter("x", "x")).toThrow("_total");
  });

  test("a histogram writes cumulative buckets, +Inf equal to the count, then the sum and the count", () => {
    const registry = new Registry();
    const latency = registry.histogram("latency_seconds", "latency", [1, 0.1]);
    for (const value of [0.05, 0.1, 0.5, 3]) latency.observe(value);
    expect(registry.format()).toBe(
      [
        "# HELP latency_seconds latency",
        "# TYPE latency_seconds histogram",
        'latency_seconds_bucket{le="0.1"} 2',
        'latency_seconds_bucket{le="1"} 3',
        'latency_seconds_bucket{le="+Inf"} 4',
        "latency_seconds_sum 3.65",
        "latency_seconds_count 4",
        "",
      ].join("\n"),
    );
    expect(latency.count).toBe(4);
  });

  test("collected families are read at each format, in registration order", () => {
    const registry = new Registry();
    let rows = 5;
    registry.collect("rows", "rows buffered", "gauge", () => [[{}, rows]]);
    registry.counter("after_total", "registered second");
    expect(registry.format()).toStartWith("# HELP rows rows buffered\n# TYPE rows gauge\nrows 5\n# HELP after_total");
    rows = 7;
    expect(registry.format()).toContain("rows 7\n");
  });

  test("a name is registered once and must be a Prometheus name", () => {
    const registry = new Registry();
    registry.collect("g", "g", "gauge", () => []);
    expect(() => registry.collect("g", "again", "gauge", () => [])).toThrow("registered twice");
    expect(() => registry.collect("bad-name", "g", "gauge", () => [])).toThrow("not a Prometheus metric name");
  });
});
