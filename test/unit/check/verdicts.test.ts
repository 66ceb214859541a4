/**
 * The decisions of `kstream check` without a broker: which verdict each probe answer gets, what the
 * line tells an admin to run, the exit code, the text and JSON forms; and the folder probe on real
 * local folders.
 */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as v from "valibot";
import { probeFolder, probeOutput } from "../../../src/check/folder.ts";
import type { CheckResult } from "../../../src/check/types.ts";
import {
  checkTransactionalId,
  exitCodeFor,
  folderResult,
  formatLines,
  groupResult,
  rulesResult,
  toCheckJson,
  topicAccessResult,
  topicResult,
  transactionalIdPrefix,
  transactionResult,
} from "../../../src/check/verdicts.ts";
import { ConfigSchema } from "../../../src/config/schema.ts";
import type { Access } from "../../../src/kafka/probes.ts";

const config = v.parse(ConfigSchema, {
  kafka: { brokers: ["b1:9093"], sasl: { mechanism: "scram-sha-512", username: "alice" } },
  topics: { input: "in", staging: "stage", dead_letter: "dlq", partitions: 6, replication_factor: 3 },
  clean: { group_id: "cleaners" },
});
const ok: Access = { allowed: true };
const denied = (error: string): Access => ({ allowed: false, error, message: error.toLowerCase() });

describe("topic lines", () => {
  test("a missing topic that may be created is OK with a note naming the layout it will get", () => {
    const result = topicResult(config, "input", { exists: false, create: ok }, 3);
    expect(result.verdict).toBe("ok");
    expect(result.message).toContain("does not exist yet; may be created");
    expect(result.message).toContain("6 partitions, replication 3");
  });

  test("a missing topic the principal may not create fails with a kafka-topics.sh line and the Create ACL", () => {
    const result = topicResult(config, "staging", { exists: false, create: denied("TOPIC_AUTHORIZATION_FAILED") }, 3);
    expect(result.verdict).toBe("fail");
    expect(result.fix).toContain("kafka-topics.sh --bootstrap-server b1:9093 --create --topic stage --partitions 6 --replication-factor 3");
    expect(result.fix).toContain("--allow-principal User:alice --operation Create --topic stage");
  });

  test("a topic that exists but is hidden from the principal asks for Describe", () => {
    const result = topicResult(config, "input", { exists: false, create: denied("TOPIC_ALREADY_EXISTS") }, 3);
    expect(result.verdict).toBe("fail");
    expect(result.fix).toContain("--operation Describe --topic in");
  });

  test("a replication factor above the broker count fails naming topics.replication_factor", () => {
    const result = topicResult(config, "input", { exists: false, create: denied("INVALID_REPLICATION_FACTOR") }, 1);
    expect(result.verdict).toBe("fail");
    expect(result.message).toContain("on 1 broker");
    expect(result.fix).toContain("topics.replication_factor");
  });

  test("an existing topic with another layout is a warning, not a failure", () => {
    const result = topicResult(config, "input", { exists: true, partitions: 3, replicationFactor: 3 }, 3);
    expect(result.verdict).toBe("warn");
    expect(result.message).toContain("3 partitions (topics.partitions is 6)");
    expect(topicResult(config, "input", { exists: true, partitions: 6, replicationFactor: 3 }, 3).verdict).toBe("ok");
  });
});

describe("rights", () => {
  test("a refused write names each topic, the job that needs it and one ACL line per topic", () => {
    const answers = new Map([["in", denied("TOPIC_AUTHORIZATION_FAILED")], ["stage", ok], ["dlq", denied("TOPIC_AUTHORIZATION_FAILED")]]);
    const result = topicAccessResult(config, "Write", answers);
    expect(result).toMatchObject({ name: "produce", verdict: "fail" });
    expect(result.message).toContain("in (produce; TOPIC_AUTHORIZATION_FAILED)");
    expect(result.message).toContain("dlq (stream-clean;");
    expect(result.message).not.toContain("stage");
    expect(result.fix).toBe(
      "kafka-acls.sh --bootstrap-server b1:9093 --add --allow-principal User:alice --operation Write --topic in && kafka-acls.sh --bootstrap-server b1:9093 --add --allow-principal User:alice --operation Write --topic dlq",
    );
  });

  test("every topic readable is one OK consume line", () => {
    expect(topicAccessResult(config, "Read", new Map([["in", ok], ["stage", ok], ["dlq", ok]])).verdict).toBe("ok");
  });

  test("the probe's transactional id shares the prefix of stream-clean's ids, which the ACL grants as a prefix", () => {
    const streamCleanId = `kstream-${config.clean.group_id}-in-0`; // stream/partition-worker.ts's form
    expect(streamCleanId.startsWith(transactionalIdPrefix(config.clean.group_id))).toBe(true);
    expect(checkTransactionalId(config.clean.group_id).startsWith(transactionalIdPrefix(config.clean.group_id))).toBe(true);
    const result = transactionResult(config, denied("TRANSACTIONAL_ID_AUTHORIZATION_FAILED"), undefined);
    expect(result.verdict).toBe("fail");
    expect(result.fix).toContain("--operation Write --operation Describe --transactional-id kstream-cleaners- --resource-pattern-type prefixed");
    expect(transactionResult(config, ok, ok).verdict).toBe("ok");
    expect(transactionResult(config, ok, denied("TRANSACTIONAL_ID_AUTHORIZATION_FAILED")).verdict).toBe("fail");
  });

  test("the group fails with its Read ACL when refused, and is only a warning when no transaction could try it", () => {
    expect(groupResult(config, denied("GROUP_AUTHORIZATION_FAILED"), undefined)).toMatchObject({ verdict: "fail", fix: expect.stringContaining("--operation Read --group cleaners") });
    expect(groupResult(config, ok, denied("GROUP_AUTHORIZATION_FAILED")).verdict).toBe("fail");
    expect(groupResult(config, ok, undefined).verdict).toBe("warn");
    expect(groupResult(config, ok, ok).verdict).toBe("ok");
  });
});

describe("folders", () => {
  test("a missing folder under a writable one is writable, and the probe leaves no file behind", () => {
    const dir = mkdtempSync(join(tmpdir(), "kstream-check-unit-"));
    const probe = probeFolder(join(dir, "a", "b"));
    expect(probe).toEqual({ writable: true, path: join(dir, "a", "b"), exists: false });
    expect(readdirSync(dir)).toEqual([]);
    expect(folderResult("parquet", "clean.parquet_dir", probe, "Parquet output").message).toContain("does not exist yet");
  });

  test("a file where the folder should be fails with the path", () => {
    const dir = mkdtempSync(join(tmpdir(), "kstream-check-unit-"));
    writeFileSync(join(dir, "blocker"), "");
    const probe = probeFolder(join(dir, "blocker", "parquet"));
    const result = folderResult("parquet", "clean.parquet_dir", probe, "Parquet output");
    expect(result.verdict).toBe("fail");
    expect(result.message).toContain(join(dir, "blocker"));
    expect(result.fix).toContain("clean.parquet_dir");
  });

  test("an s3:// output is reported as not checked (a warning) until a bucket probe exists", () => {
    const result = folderResult("parquet", "clean.parquet_dir", probeOutput("s3://bucket/prefix"), "Parquet output");
    expect(result.verdict).toBe("warn");
    expect(result.message).toContain("s3://bucket/prefix");
  });
});

describe("the report", () => {
  const results: CheckResult[] = [
    { name: "brokers", verdict: "ok", message: "1 broker" },
    { name: "group", verdict: "fail", message: "refused", fix: "grant it" },
    { name: "parquet", verdict: "warn", message: "not checked" },
  ];

  test("exit 1 exactly when a check fails; warnings and skips alone exit 0", () => {
    expect(exitCodeFor(results)).toBe(1);
    expect(exitCodeFor(results.filter((result) => result.verdict !== "fail"))).toBe(0);
    expect(exitCodeFor([{ name: "x", verdict: "skip", message: "" }])).toBe(0);
  });

  test("one aligned line per check, the fix after an arrow", () => {
    expect(formatLines(results)).toBe("OK    brokers  1 broker\nFAIL  group    refused -> grant it\nWARN  parquet  not checked\n");
  });

  test("the JSON document carries ok, the config file and every check with a null fix when there is none", () => {
    expect(toCheckJson(results, "/etc/kstream.toml")).toEqual({
      ok: false,
      config: "/etc/kstream.toml",
      checks: [
        { name: "brokers", verdict: "ok", message: "1 broker", fix: null },
        { name: "group", verdict: "fail", message: "refused", fix: "grant it" },
        { name: "parquet", verdict: "warn", message: "not checked", fix: null },
      ],
    });
  });

  test("the default rules compile and clean a sample record", () => {
    expect(rulesResult(config).verdict).toBe("ok");
  });
});
