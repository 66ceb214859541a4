/**
 * The `kstream check` job: runs every probe once, each within the timeout, and hands what they
 * found to the pure verdicts (verdicts.ts). Kafka is asked with the effective config but a patience
 * of at most the timeout, so an unreachable cluster is one failing line within seconds, not
 * kafka.retry_limit of retries; the Kafka checks after a failed connection are skipped, the local
 * ones (output, ledger, measures, rules) still run.
 */
import { existsSync } from "node:fs";
import { dirname } from "node:path";
import type { Admin } from "kafkajs";
import type { Secrets } from "../config/load.ts";
import type { Config } from "../config/schema.ts";
import { durationMs } from "../config/duration.ts";
import { KafkaError } from "../errors.ts";
import { createKafka } from "../kafka/client.ts";
import { toKafkaError } from "../kafka/errors.ts";
import { type Access, describeCluster, describeTopics, probeTopicAccess, probeTransaction } from "../kafka/probes.ts";
import { kstreamTopics, topicLayout } from "../kafka/topics.ts";
import { probeLedgerWrite } from "../ledger/probe.ts";
import { probeFolder, probeOutput } from "./folder.ts";
import type { CheckResult } from "./types.ts";
import {
  brokersResult,
  checkTransactionalId,
  folderResult,
  groupResult,
  rulesResult,
  skipped,
  topicAccessResult,
  topicResult,
  type TopicRole,
  transactionResult,
} from "./verdicts.ts";

export interface CheckOptions {
  readonly config: Config;
  readonly secrets: Secrets;
  /** The longest any one probe may take. */
  readonly timeoutMs: number;
}

const ROLES: readonly TopicRole[] = ["input", "staging", "dead_letter"];
const KAFKA_CHECKS = ["topic.input", "topic.staging", "topic.dead_letter", "produce", "consume", "transaction", "group"];

export async function runChecks(options: CheckOptions): Promise<CheckResult[]> {
  const kafkaResults = await kafkaChecks(options);
  return [...kafkaResults, ...localChecks(options.config)];
}

async function kafkaChecks({ config, secrets, timeoutMs }: CheckOptions): Promise<CheckResult[]> {
  const patient = withPatience(config, timeoutMs);
  const { kafka } = createKafka(patient, secrets, "check");
  // Each probe's failure becomes its value: one line says what went wrong, the others still run.
  const bounded = <T>(work: () => Promise<T>, doing: string): Promise<T | Error> =>
    withTimeout(work, timeoutMs, config.kafka.brokers, doing).catch((error: unknown) => (error instanceof KafkaError ? error : toKafkaError(error, doing)));
  const admin: Admin = kafka.admin();
  try {
    const cluster = await bounded(async () => {
      await admin.connect();
      return describeCluster(admin);
    }, "connecting");
    const results = [brokersResult(config, cluster)];
    if (cluster instanceof Error) return [...results, ...KAFKA_CHECKS.map((name) => skipped(name, "the brokers could not be reached"))];

    const topics = kstreamTopics(config);
    const facts = await bounded(() => describeTopics(admin, topics, topicLayout(config)), "describing the topics");
    for (const role of ROLES) results.push(topicResult(config, role, facts instanceof Error ? facts : facts.get(config.topics[role])!, cluster.brokers));

    const groupId = config.clean.group_id;
    const transactionalId = checkTransactionalId(groupId);
    const access = await bounded(() => probeTopicAccess(kafka, topics, { groupId, transactionalId }, timeoutMs), "asking for topic rights");
    results.push(topicAccessResult(config, "Write", access instanceof Error ? access : access.write));
    results.push(topicAccessResult(config, "Read", access instanceof Error ? access : access.read));

    const describeTxn: Access | Error = access instanceof Error ? access : access.describeTransactionalId;
    const describeGroup: Access | Error = access instanceof Error ? access : access.describeGroup;
    const txn = describeTxn instanceof Error || !describeTxn.allowed
      ? undefined
      : await bounded(() => probeTransaction(kafka, transactionalId, groupId), "trying a transaction");
    results.push(transactionResult(config, describeTxn, txn instanceof Error ? txn : txn?.transaction));
    results.push(groupResult(config, describeGroup, txn instanceof Error ? txn : txn?.group));
    return results;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

function localChecks(config: Config): CheckResult[] {
  const results = [folderResult("parquet", "clean.parquet_dir", probeOutput(config.clean.parquet_dir), "Parquet output")];
  const ledger = config.ledger.path;
  if (existsSync(ledger)) {
    const probe = probeLedgerWrite(ledger, durationMs(config.ledger.lock_timeout));
    results.push(
      probe.writable
        ? { name: "ledger", verdict: "ok", message: `ledger ${ledger} is writable` }
        : { name: "ledger", verdict: "fail", message: `ledger ${ledger} cannot be written: ${probe.reason}`, fix: "make it (and its folder: sqlite writes -wal and -shm files beside it) writable, or point ledger.path elsewhere" },
    );
  } else {
    const folder = probeFolder(dirname(ledger));
    const result = folderResult("ledger", "ledger.path", folder, "ledger folder");
    results.push(result.verdict === "ok" ? { ...result, message: `ledger ${ledger} does not exist yet; its folder is writable (created on the first run)` } : result);
  }
  if (config.measure.output !== "-") results.push(folderResult("measures", "measure.output", probeFolder(dirname(config.measure.output)), "measures folder"));
  results.push(rulesResult(config));
  return results;
}

/**
 * The config with Kafka's patience capped: retries for a third of the timeout, so a refused
 * connection is reported with its own reason (ECONNREFUSED, a TLS error) before --timeout cuts in.
 */
function withPatience(config: Config, timeoutMs: number): Config {
  const cap = (text: string, limitMs: number) => (durationMs(text) > limitMs ? `${Math.max(1, Math.floor(limitMs / 1000))}s` : text);
  const kafka = config.kafka;
  return {
    ...config,
    kafka: { ...kafka, retry_limit: cap(kafka.retry_limit, timeoutMs / 3), connection_timeout: cap(kafka.connection_timeout, timeoutMs / 3), request_timeout: cap(kafka.request_timeout, timeoutMs) },
  };
}

async function withTimeout<T>(work: () => Promise<T>, timeoutMs: number, brokers: readonly string[], doing: string): Promise<T> {
  let timer: Timer | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new KafkaError(`no answer from ${brokers.join(", ")} within ${timeoutMs / 1000} s while ${doing} (--timeout)`, { retriable: true })), timeoutMs);
  });
  try {
    return await Promise.race([work(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
