/**
 * The two text forms of the metrics report: Prometheus exposition (families, escaping, unknown
 * values left out) and the table for people (separators, alignment, colour only when asked).
 */
import { describe, expect, test } from "bun:test";
import { formatPrometheus } from "../../../src/metrics/format-prometheus.ts";
import { age, formatTable } from "../../../src/metrics/format-table.ts";
import type { MetricsReport } from "../../../src/metrics/types.ts";
import { renderTable } from "../../../src/ui/table.ts";

const report: MetricsReport = {
  taken_at: "2026-11-25T10:00:00.000Z",
  interval_seconds: 1,
  status_window_seconds: 30,
  cluster: { cluster_id: "abc", controller_id: 1, brokers: [{ id: 1, host: "127.0.0.1", port: 9092, is_controller: true }] },
  topics: [
    {
      name: 'odd"topic\\x',
      partition_count: 1,
      messages: 1234567,
      messages_in_per_second: 12.5,
      under_replicated_partitions: 0,
      partitions: [
        {
          partition: 0,
          leader: 1,
          replicas: [1],
          in_sync_replicas: [1],
          offline_replicas: [],
          under_replicated: false,
          low_watermark: 0,
          high_watermark: 1234567,
          messages: 1234567,
          messages_in_per_second: 12.5,
        },
      ],
    },
  ],
  groups: [
    {
      group_id: "g",
      state: "Stable",
      status: "STALLED",
      protocol_type: "consumer",
      members: [{ member_id: "m-1", client_id: "kstream", host: "/127.0.0.1", assignments: [{ topic: "t", partitions: [0] }] }],
      lag: 2000,
      lag_growing: true,
      lag_seconds_max: null,
      consumed_per_second: 0,
      catch_up_seconds: null,
      partitions: [
        { topic: "t", partition: 0, committed_offset: null, high_watermark: 2000, lag: 2000, lag_seconds: null, consumed_per_second: 0, member_id: "m-1" },
      ],
    },
  ],
  breaches: [{ check: "lag", group: "g", topic: null, value: 2000, threshold: 100, message: "group g: lag 2000 messages is above 100 (--fail-if-lag)" }],
};

describe("prometheus format", () => {
  const text = formatPrometheus(report);
  const lines = text.trimEnd().split("\n");

  test("every family has HELP and TYPE before its samples, and its samples are together", () => {
    const seen = new Set<string>();
    let current = "";
    for (const line of lines) {
      const help = /^# HELP (\w+) /.exec(line);
      if (help) {
        expect(seen.has(help[1]!)).toBe(false);
        seen.add(help[1]!);
        current = help[1]!;
        continue;
      }
      if (line.startsWith("# TYPE ")) {
        expect(line).toBe(`# TYPE ${current} gauge`);
        continue;
      }
      expect(line.split(/[{ ]/)[0]).toBe(current);
    }
    expect([...seen]).toContain("kstream_consumergroup_lag");
  });

  test("uses the conventional names and labels the issue asks for", () => {
    expect(text).toContain('kstream_topic_partition_high_watermark{topic="odd\\"topic\\\\x",partition="0"} 1234567\n');
    expect(text).toContain('kstream_consumergroup_lag{group="g",topic="t",partition="0"} 2000\n');
    expect(text).toContain('kstream_topic_messages_in_per_second{topic="odd\\"topic\\\\x"} 12.5\n');
    expect(text).toContain("kstream_up 1\n");
  });

  test("a group's status is a state set: 1 for its current status, 0 for each of the others", () => {
    expect(text).toContain('kstream_consumergroup_status{group="g",status="STALLED"} 1\n');
    for (const other of ["OK", "LAGGING", "STOPPED"]) expect(text).toContain(`kstream_consumergroup_status{group="g",status="${other}"} 0\n`);
  });

  test("breaches are counted, and each is one sample naming its check and subject", () => {
    expect(text).toContain("kstream_breaches 1\n");
    expect(text).toContain('kstream_breach{check="lag",group="g",topic=""} 1\n');
    const quiet = formatPrometheus({ ...report, breaches: [] });
    expect(quiet).toContain("kstream_breaches 0\n");
    expect(quiet).not.toMatch(/^kstream_breach\{/m);
  });

  test("unknown values are left out, not written as NaN", () => {
    expect(text).not.toContain("NaN");
    expect(text).not.toMatch(/^kstream_consumergroup_lag_seconds\{/m);
    expect(text).not.toMatch(/^kstream_consumergroup_current_offset\{/m);
    expect(text).not.toMatch(/^kstream_consumergroup_catch_up_seconds\{/m);
  });
});

describe("metrics table", () => {
  test("numbers carry thousands separators and the growing lag is red only with colour", () => {
    const plain = formatTable(report, { color: false });
    expect(plain).toContain("1,234,567");
    expect(plain).toContain("lag 2,000 (growing)");
    expect(plain).not.toContain("\x1b[");
    expect(plain).toContain("catch-up never at this rate");
    expect(formatTable(report, { color: true })).toContain("\x1b[31m2,000 (growing)\x1b[39m");
  });

  test("the table shows each group's status and lists the breaches last", () => {
    const plain = formatTable(report, { color: false });
    expect(plain).toContain("group g  STALLED  Stable");
    expect(plain.trimEnd().split("\n").slice(-2)).toEqual(["1 breach:", "  group g: lag 2000 messages is above 100 (--fail-if-lag)"]);
    expect(formatTable({ ...report, breaches: [] }, { color: false })).not.toContain("breach");
  });

  test("columns line up, numbers to the right, even with colour codes in cells", () => {
    const table = renderTable(["name", "n"], [["a", "\x1b[31m5\x1b[39m"], ["long name", "1,000"]], { alignRight: [false, true] });
    const visible = table.replace(/\x1b\[[0-9;]*m/g, "").split("\n");
    expect(visible).toEqual(["name           n", "a              5", "long name  1,000"]);
  });

  test("ages read as short durations", () => {
    expect([age(null), age(0.42), age(12.4), age(185), age(7_620)]).toEqual(["-", "0.4s", "12s", "3m05s", "2h07m"]);
  });
});
