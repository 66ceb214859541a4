/**
 * The decisions of `kstream check`, pure: from what the probes found (cluster facts, the broker's
 * answers to access questions, folder and ledger probes) to one result per check, naming what to
 * change in words a cluster admin can paste (kafka-acls.sh / kafka-topics.sh lines); the text and
 * JSON forms; the exit code. Invariant: exit 1 exactly when some result is `fail`.
 */
import { cleanParsed } from "../clean/record.ts";
import { validateDateFormat } from "../clean/rules.ts";
import type { CleanRules } from "../clean/types.ts";
import type { Config } from "../config/schema.ts";
import { ExitCode } from "../errors.ts";
import type { Access, ClusterFacts, TopicFacts } from "../kafka/probes.ts";
import type { CheckJson, CheckResult, Verdict } from "./types.ts";

/** The principal the brokers see, as ACLs name it. */
export function principalOf(config: Config): string {
  if (config.kafka.sasl) return `User:${config.kafka.sasl.username}`;
  if (config.kafka.tls?.cert_file) return "User:<the client certificate's distinguished name>";
  return "User:ANONYMOUS";
}

/** The transactional ids stream-clean uses all start with this (stream/partition-worker.ts). */
export function transactionalIdPrefix(groupId: string): string {
  return `kstream-${groupId}-`;
}

/** The id the check initialises: under the same prefix, so the ACL that lets stream-clean work lets the check pass. */
export function checkTransactionalId(groupId: string): string {
  return `${transactionalIdPrefix(groupId)}check`;
}

type Resource = { readonly type: "topic" | "group" | "transactional-id"; readonly name: string; readonly prefixed?: boolean };

/** The kafka-acls.sh line that grants `operations` on a resource. */
export function aclCommand(config: Config, principal: string, operations: readonly string[], resource: Resource): string {
  return [
    `kafka-acls.sh --bootstrap-server ${config.kafka.brokers[0]} --add --allow-principal ${principal}`,
    ...operations.map((operation) => `--operation ${operation}`),
    `--${resource.type} ${resource.name}`,
    ...(resource.prefixed ? ["--resource-pattern-type prefixed"] : []),
  ].join(" ");
}

const isAuthorization = (access: Access) => !access.allowed && /AUTHORIZATION_FAILED$/.test(access.error);

export function brokersResult(config: Config, facts: ClusterFacts | Error): CheckResult {
  const brokers = config.kafka.brokers.join(",");
  if (facts instanceof Error) {
    const fix = /SASL|authentic/i.test(facts.message)
      ? "check kafka.sasl (mechanism, username) and the password (KSTREAM_KAFKA_SASL_PASSWORD or kafka.sasl.password_file)"
      : "check kafka.brokers, that the brokers run, and kafka.tls when the listener is TLS";
    return { name: "brokers", verdict: "fail", message: `cannot connect to ${brokers}: ${facts.message}`, fix };
  }
  const how = config.kafka.sasl ? ` as ${principalOf(config)} (SASL ${config.kafka.sasl.mechanism})` : config.kafka.tls?.enabled ? " over TLS" : "";
  return {
    name: "brokers",
    verdict: "ok",
    message: `${facts.brokers} broker${facts.brokers === 1 ? "" : "s"} reachable at ${brokers}${how} (cluster ${facts.clusterId}, controller ${facts.controller ?? "unknown"})`,
  };
}

export type TopicRole = "input" | "staging" | "dead_letter";

export function topicResult(config: Config, role: TopicRole, facts: TopicFacts | Error, brokers: number | undefined): CheckResult {
  const name = `topic.${role}`;
  const topic = config.topics[role];
  const { partitions, replication_factor: replication } = config.topics;
  if (facts instanceof Error) return { name, verdict: "fail", message: `topic ${topic}: ${facts.message}` };
  const principal = principalOf(config);
  if (facts.exists) {
    const differs = [
      facts.partitions !== partitions && `${facts.partitions} partitions (topics.partitions is ${partitions})`,
      facts.replicationFactor !== replication && `replication ${facts.replicationFactor} (topics.replication_factor is ${replication})`,
    ].filter(Boolean);
    if (differs.length === 0) return { name, verdict: "ok", message: `topic ${topic} exists: ${partitions} partitions, replication ${replication}` };
    // Runs work with whatever layout the topic has; the config only shapes topics kstream creates.
    return {
      name,
      verdict: "warn",
      message: `topic ${topic} exists with ${differs.join(" and ")}`,
      fix: "kstream uses the topic as it is; set topics.partitions / topics.replication_factor to match, or ignore this",
    };
  }
  const create = facts.create;
  if (create.allowed) {
    return { name, verdict: "ok", message: `topic ${topic} does not exist yet; may be created: produce and stream-clean create it with ${partitions} partitions, replication ${replication}` };
  }
  const createIt = `kafka-topics.sh --bootstrap-server ${config.kafka.brokers[0]} --create --topic ${topic} --partitions ${partitions} --replication-factor ${replication}`;
  if (create.error === "TOPIC_ALREADY_EXISTS") {
    return { name, verdict: "fail", message: `topic ${topic} exists but ${principal} may not describe it`, fix: aclCommand(config, principal, ["Describe"], { type: "topic", name: topic }) };
  }
  if (isAuthorization(create)) {
    return {
      name,
      verdict: "fail",
      message: `topic ${topic} does not exist and ${principal} may not create it (${create.error})`,
      fix: `create it: ${createIt}; or allow kstream to: ${aclCommand(config, principal, ["Create"], { type: "topic", name: topic })}`,
    };
  }
  if (create.error === "INVALID_REPLICATION_FACTOR") {
    return {
      name,
      verdict: "fail",
      message: `topic ${topic} does not exist and cannot be created with replication ${replication}${brokers !== undefined ? ` on ${brokers} broker${brokers === 1 ? "" : "s"}` : ""}`,
      fix: "lower topics.replication_factor to at most the number of brokers",
    };
  }
  return { name, verdict: "fail", message: `topic ${topic} does not exist and cannot be created: ${create.error} (${create.message})`, fix: `create it: ${createIt}` };
}

/** Which job needs each topic, per access: the line says why the right matters. */
const NEEDS = {
  Write: { input: "produce", staging: "stream-clean", dead_letter: "stream-clean" },
  Read: { input: "stream-clean", staging: "batch-measure", dead_letter: "recon" },
} as const;

/** One line for an access over the three topics: ok when every topic allows it, else names each refusal. */
export function topicAccessResult(config: Config, operation: "Write" | "Read", answers: ReadonlyMap<string, Access> | Error): CheckResult {
  const name = operation === "Write" ? "produce" : "consume";
  const verb = operation === "Write" ? "write to" : "read from";
  if (answers instanceof Error) return { name, verdict: "fail", message: `cannot ask whether ${principalOf(config)} may ${verb} the topics: ${answers.message}` };
  const roles: TopicRole[] = ["input", "staging", "dead_letter"];
  const refused = roles.filter((role) => answers.get(config.topics[role])?.allowed === false);
  const topics = [...new Set(roles.map((role) => config.topics[role]))];
  if (refused.length === 0) return { name, verdict: "ok", message: `${principalOf(config)} may ${verb} ${topics.join(", ")}` };
  const principal = principalOf(config);
  const described = refused.map((role) => {
    const access = answers.get(config.topics[role]) as Access & { allowed: false };
    return `${config.topics[role]} (${NEEDS[operation][role]}; ${access.error})`;
  });
  const refusedTopics = [...new Set(refused.map((role) => config.topics[role]))];
  return {
    name,
    verdict: "fail",
    message: `${principal} may not ${verb} ${described.join(", ")}`,
    fix: refusedTopics.map((topic) => aclCommand(config, principal, [operation], { type: "topic", name: topic })).join(" && "),
  };
}

/** The transactional id: describable (found its coordinator), then initialised in the probe transaction. */
export function transactionResult(config: Config, describe: Access | Error, init: Access | Error | undefined): CheckResult {
  const id = checkTransactionalId(config.clean.group_id);
  const principal = principalOf(config);
  const fix = aclCommand(config, principal, ["Write", "Describe"], { type: "transactional-id", name: transactionalIdPrefix(config.clean.group_id), prefixed: true });
  const answer = describe instanceof Error || !describe.allowed ? describe : init;
  if (answer === undefined) return { name: "transaction", verdict: "skip", message: `transactional id ${id} not tried` };
  if (answer instanceof Error) return { name: "transaction", verdict: "fail", message: `cannot initialise transactional id ${id}: ${answer.message}` };
  if (answer.allowed) return { name: "transaction", verdict: "ok", message: `transactional id ${id} initialised and an empty transaction aborted (stream-clean's ids share the prefix ${transactionalIdPrefix(config.clean.group_id)})` };
  if (isAuthorization(answer)) {
    return { name: "transaction", verdict: "fail", message: `${principal} may not use transactional ids ${transactionalIdPrefix(config.clean.group_id)}* (${answer.error}), which stream-clean commits with`, fix };
  }
  return { name: "transaction", verdict: "fail", message: `cannot initialise transactional id ${id}: ${answer.error} (${answer.message})` };
}

/**
 * The group: READ, proven by putting its offsets in the probe transaction (what stream-clean's
 * commit does; joining needs the same right). Without a transaction only the lookup (DESCRIBE)
 * could be asked: a refusal there is a fail, a grant leaves READ unknown (warn).
 */
export function groupResult(config: Config, describe: Access | Error, read: Access | Error | undefined): CheckResult {
  const group = config.clean.group_id;
  const principal = principalOf(config);
  const fix = aclCommand(config, principal, ["Read"], { type: "group", name: group });
  const refused = (access: Access & { allowed: false }) =>
    isAuthorization(access)
      ? { name: "group", verdict: "fail" as const, message: `${principal} may not join consumer group ${group} (${access.error})`, fix }
      : { name: "group", verdict: "fail" as const, message: `consumer group ${group}: ${access.error} (${access.message})` };
  if (describe instanceof Error) return { name: "group", verdict: "fail", message: `cannot look up consumer group ${group}: ${describe.message}` };
  if (!describe.allowed) return refused(describe);
  if (read === undefined) {
    return { name: "group", verdict: "warn", message: `consumer group ${group} may be looked up, but joining it could not be tried without a transaction`, fix: `once the transaction line passes, this one can tell; stream-clean needs: ${fix}` };
  }
  if (read instanceof Error) return { name: "group", verdict: "fail", message: `cannot try consumer group ${group}: ${read.message}` };
  if (!read.allowed) return refused(read);
  return { name: "group", verdict: "ok", message: `${principal} may join consumer group ${group} and commit its offsets in a transaction` };
}

/** What a folder probe found (check/folder.ts). */
export type FolderProbe =
  | { readonly writable: true; readonly path: string; readonly exists: boolean }
  | { readonly writable: false; readonly path: string; readonly reason: string }
  /** A location this build has no probe for (an s3:// bucket). */
  | { readonly unsupported: string; readonly path: string };

export function folderResult(name: "parquet" | "measures" | "ledger", key: string, probe: FolderProbe, what: string): CheckResult {
  if ("unsupported" in probe) return { name, verdict: "warn", message: `${what} ${probe.path}: not checked (${probe.unsupported})` };
  if (probe.writable) {
    return { name, verdict: "ok", message: `${what} ${probe.path} is writable${probe.exists ? "" : " (does not exist yet; created on the first run)"}` };
  }
  return { name, verdict: "fail", message: `${what} ${probe.path} is not writable: ${probe.reason}`, fix: `make ${probe.path} writable for this user, or point ${key} elsewhere` };
}

/** The config's cleaning rules, compiled and run over one sample record. */
export function rulesResult(config: Config): CheckResult {
  const problems = config.rules.date_formats.map(validateDateFormat).filter((problem): problem is string => problem !== undefined);
  if (problems.length > 0) return { name: "rules", verdict: "fail", message: `rules: ${problems.join("; ")}`, fix: "correct rules.date_formats" };
  const rules: CleanRules = { nullPlaceholder: config.rules.null_placeholder, defaultIp: config.rules.default_ip, dateFormats: config.rules.date_formats, windowMs: 60_000 };
  const sample = { id: 1, first_name: " Ada ", email: "ADA@EXAMPLE.COM", ip_address: "not an ip", date: "06/05/2018", country: "france" };
  const outcome = cleanParsed(sample, { partition: 0, offset: 0n, timestamp: 0 }, rules);
  if (outcome.kind !== "row") return { name: "rules", verdict: "fail", message: `rules: a valid sample record was dead-lettered (${outcome.verdict.reason})` };
  return {
    name: "rules",
    verdict: "ok",
    message: `rules compile: ${config.rules.date_formats.length} date format${config.rules.date_formats.length === 1 ? "" : "s"} (${config.rules.date_formats.join(", ")}), default ip ${config.rules.default_ip}, placeholder ${JSON.stringify(config.rules.null_placeholder)}; a sample record cleans to a row`,
  };
}

/** The same result with its verdict replaced by skip, when a check it needs failed. */
export function skipped(name: string, because: string): CheckResult {
  return { name, verdict: "skip", message: `not checked: ${because}` };
}

export function exitCodeFor(results: readonly CheckResult[]): number {
  return results.some((result) => result.verdict === "fail") ? ExitCode.failure : ExitCode.ok;
}

const LABEL: Record<Verdict, string> = { ok: "OK  ", warn: "WARN", fail: "FAIL", skip: "SKIP" };

/** One line per check: verdict, name, what was found, and after " -> " what to change. */
export function formatLines(results: readonly CheckResult[]): string {
  const width = Math.max(...results.map((result) => result.name.length));
  return results.map((result) => `${LABEL[result.verdict]}  ${result.name.padEnd(width)}  ${result.message}${result.fix ? ` -> ${result.fix}` : ""}\n`).join("");
}

export function toCheckJson(results: readonly CheckResult[], configFile: string | undefined): CheckJson {
  return {
    ok: exitCodeFor(results) === ExitCode.ok,
    config: configFile ?? null,
    checks: results.map((result) => ({ name: result.name, verdict: result.verdict, message: result.message, fix: result.fix ?? null })),
  };
}
