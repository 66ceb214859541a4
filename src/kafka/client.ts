/**
 * The only place kstream builds a kafkajs client: brokers, SASL/TLS, timeouts, bounded retries
 * derived from kafka.retry_limit, and kafkajs' own logs routed into our consola logger.
 */
import { readFileSync } from "node:fs";
import { Kafka, type KafkaConfig, type logCreator, logLevel, type SASLOptions } from "kafkajs";
import type { Secrets } from "../config/load.ts";
import type { Config } from "../config/schema.ts";
import { durationMs } from "../config/duration.ts";
import { ConfigError } from "../errors.ts";
import { isVerbose, log } from "../ui/log.ts";
import { installCodecs } from "./codecs.ts";
import { installRetriableCoordinatorLookup } from "./coordinator-lookup.ts";
import { installFastEncoding } from "./fast-encoding.ts";

export interface KafkaContext {
  readonly kafka: Kafka;
  readonly config: Config;
  /** Retry policy for producers and consumers: the same bounded patience everywhere. */
  readonly retry: { retries: number; initialRetryTime: number; maxRetryTime: number };
}

export function createKafka(config: Config, secrets: Secrets, clientIdSuffix?: string): KafkaContext {
  quietKafkajsTimerWarnings();
  installFastEncoding();
  installRetriableCoordinatorLookup();
  installCodecs();
  const retry = retryPolicy(durationMs(config.kafka.retry_limit));
  const kafkaConfig: KafkaConfig = {
    clientId: clientIdSuffix ? `${config.kafka.client_id}-${clientIdSuffix}` : config.kafka.client_id,
    brokers: config.kafka.brokers,
    connectionTimeout: durationMs(config.kafka.connection_timeout),
    requestTimeout: durationMs(config.kafka.request_timeout),
    retry,
    logLevel: isVerbose() ? logLevel.INFO : logLevel.WARN,
    logCreator: routeToConsola(config.kafka.retry_limit),
  };
  const sasl = saslOptions(config, secrets);
  if (sasl) kafkaConfig.sasl = sasl;
  const ssl = tlsOptions(config, secrets);
  if (ssl !== undefined) kafkaConfig.ssl = ssl;
  return { kafka: new Kafka(kafkaConfig), config, retry };
}

/**
 * kafkajs' request queue arms `setTimeout(check, throttledUntil - Date.now())` with throttledUntil
 * = -1 when nothing is throttled, a delay of minus the epoch. Timers clamp it to 1 ms anyway, but
 * Bun prints a TimeoutNegativeWarning for every client; clamping here gives the same timing, quietly.
 */
let timersClamped = false;
function quietKafkajsTimerWarnings(): void {
  if (timersClamped) return;
  timersClamped = true;
  const original = globalThis.setTimeout;
  const clamped = ((handler: Parameters<typeof setTimeout>[0], delay?: number, ...args: unknown[]) =>
    original(handler, typeof delay === "number" && delay < 0 ? 0 : delay, ...args)) as typeof setTimeout;
  globalThis.setTimeout = Object.assign(clamped, original);
}

/**
 * kafkajs waits 300 ms, doubling up to maxRetryTime, between attempts; count the attempts that fit
 * in the configured limit so "retry for 2 minutes, then exit 1" holds whatever the backoff.
 */
export function retryPolicy(limitMs: number): KafkaContext["retry"] {
  const initialRetryTime = 300;
  const maxRetryTime = Math.min(10_000, Math.max(initialRetryTime, Math.floor(limitMs / 4)));
  let waited = 0;
  let retries = 0;
  for (let wait = initialRetryTime; waited < limitMs; wait = Math.min(wait * 2, maxRetryTime)) {
    waited += wait;
    retries++;
  }
  return { retries: Math.max(retries, 1), initialRetryTime, maxRetryTime };
}

function saslOptions(config: Config, secrets: Secrets): SASLOptions | undefined {
  const sasl = config.kafka.sasl;
  if (!sasl) return undefined;
  if (secrets.saslPassword === undefined) {
    throw new ConfigError(
      "SASL needs a password: set KSTREAM_KAFKA_SASL_PASSWORD or kafka.sasl.password_file",
      "kafka.sasl",
      undefined,
    );
  }
  return { mechanism: sasl.mechanism, username: sasl.username, password: secrets.saslPassword } as SASLOptions;
}

function tlsOptions(config: Config, secrets: Secrets): KafkaConfig["ssl"] {
  const tls = config.kafka.tls;
  if (!tls?.enabled) return undefined;
  const read = (path: string | undefined, keyPath: string) => {
    if (!path) return undefined;
    try {
      return readFileSync(path, "utf8");
    } catch (error) {
      throw new ConfigError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code}`, keyPath, undefined);
    }
  };
  const ca = read(tls.ca_file, "kafka.tls.ca_file");
  const cert = read(tls.cert_file, "kafka.tls.cert_file");
  const key = read(tls.key_file, "kafka.tls.key_file");
  return {
    rejectUnauthorized: tls.reject_unauthorized,
    ...(ca && { ca: [ca] }),
    ...(cert && { cert }),
    ...(key && { key }),
    ...(secrets.tlsKeyPassword !== undefined && { passphrase: secrets.tlsKeyPassword }),
  };
}

/**
 * kafkajs logs every failed request at ERROR even when it retries and succeeds (a fresh broker's
 * "coordinator not available", for one). Those per-request lines go to debug; failures that
 * matter reach us as thrown errors and are reported once, at the top. A broker that stays
 * unreachable is the exception: after a few seconds a warning says so (again every 10 s), so
 * someone watching a run wait through an outage sees why it is not moving.
 */
const routeToConsola = (retryLimit: string): logCreator => {
  const outage = unreachableBrokerWarnings(retryLimit);
  return () => ({ namespace, level, log: entry }) => {
    const { message, ...extra } = entry;
    // kstream bounds retries on purpose (kafka.retry_limit) so an unreachable cluster ends the run
    // with exit 1 instead of hanging; the ledger still counts only what was acknowledged.
    if (message.startsWith("Limiting retries for the idempotent producer")) return;
    const context = Object.entries(extra)
      .filter(([key]) => key !== "timestamp" && key !== "logger" && key !== "stack")
      .map(([key, value]) => `${key}=${typeof value === "string" ? value : safeJson(value)}`)
      .join(" ");
    const line = `kafka${namespace ? ` ${namespace}` : ""}: ${message}${context ? ` (${context})` : ""}`;
    // Runner's "Error when calling eachBatch" repeats an error kstream reports itself; so does
    // SaslAuthenticator-<MECHANISM>'s "authentication failed" (a wrong password must give one line).
    const perRequestNoise =
      namespace === "Connection" ||
      namespace === "BrokerPool" ||
      namespace === "Runner" ||
      String(namespace).startsWith("SaslAuthenticator") ||
      /Restarting the consumer/.test(message);
    if (level === logLevel.ERROR || level === logLevel.WARN) {
      if (namespace === "Connection") outage.failed(String(extra.broker ?? "a broker"), message);
      if (perRequestNoise) log.debug(line);
      else log.warn(line);
    } else if (level === logLevel.INFO) log.debug(line);
    else log.trace(line);
  };
};

/** Connection failures that mean "the broker is not there", as opposed to a refused request. */
const UNREACHABLE = /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|Connection timeout|Closed connection|connection closed/i;
/** A broker quiet this long before its failures count as an outage in progress, and between warnings. */
const OUTAGE_WARN_AFTER_MS = 5_000;
const OUTAGE_REPEAT_MS = 10_000;
/** Failures further apart than this belong to separate outages. */
const OUTAGE_GAP_MS = 30_000;

function unreachableBrokerWarnings(retryLimit: string) {
  const outages = new Map<string, { since: number; last: number; warned: number }>();
  return {
    failed(broker: string, message: string) {
      if (!UNREACHABLE.test(message)) return;
      const now = Date.now();
      let outage = outages.get(broker);
      if (!outage || now - outage.last > OUTAGE_GAP_MS) {
        outage = { since: now, last: now, warned: 0 };
        outages.set(broker, outage);
      }
      outage.last = now;
      if (now - outage.since >= OUTAGE_WARN_AFTER_MS && now - outage.warned >= OUTAGE_REPEAT_MS) {
        outage.warned = now;
        const reason = message.replace(/^Connection error:\s*/i, "");
        log.warn(`kafka: ${broker} unreachable for ${Math.round((now - outage.since) / 1000)} s (${reason}); retrying, for up to kafka.retry_limit (${retryLimit}) per request`);
      }
    },
  };
}

/** JSON for log context; bigints as text (kafkajs logs errors that may carry them). */
function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value, (_key, item) => (typeof item === "bigint" ? item.toString() : item)) ?? String(value);
  } catch {
    return String(value);
  }
}
