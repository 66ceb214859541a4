/**
 * Turns kafkajs' errors into kstream's KafkaError with the context a user can act on: which
 * brokers, topic or group, whether kafkajs judged it retriable, and for the failures whose raw
 * text does not say what to change (a TLS certificate nobody trusts), the config key that does.
 */
import { KafkaError, type ErrorContext } from "../errors.ts";

export function toKafkaError(error: unknown, doing: string, context: ErrorContext = {}): KafkaError {
  if (error instanceof KafkaError) return error;
  const cause = error as { name?: string; message?: string; retriable?: boolean; originalError?: Error };
  const detail = cause.originalError?.message ?? cause.message ?? String(error);
  const broker = "brokers" in context ? undefined : brokerOf(error);
  const named: ErrorContext = broker ? { ...context, broker } : context;
  const where = Object.entries(named)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${key} ${value}`)
    .join(", ");
  const hint = hintFor(detail);
  return new KafkaError(`${doing}${where ? ` (${where})` : ""}: ${detail}${hint ? ` (${hint})` : ""}`, {
    context: named,
    cause: error,
    retriable: cause.retriable === true,
  });
}

/**
 * The broker a connection error or request timeout names (kafkajs sets `broker` to "host:port"),
 * looked up through the causes kafkajs wraps it in: "Closed connection" alone does not say where.
 */
function brokerOf(error: unknown): string | undefined {
  let current = error as { broker?: unknown; cause?: unknown; originalError?: unknown } | undefined;
  for (let depth = 0; current !== undefined && current !== null && depth < 8; depth++) {
    if (typeof current.broker === "string" && /^[^:\s]+:\d+$/.test(current.broker)) return current.broker;
    current = (current.cause ?? current.originalError) as typeof current;
  }
  return undefined;
}

/** Node's texts for a broker certificate that does not chain to a CA kstream was given. */
const UNTRUSTED_CERTIFICATE =
  /self[- ]signed certificate|unable to get local issuer certificate|unable to verify the first certificate|unable to get issuer certificate|certificate signature failure/i;
const CERTIFICATE_NAME_MISMATCH = /Hostname\/IP does not match certificate|ERR_TLS_CERT_ALTNAME_INVALID/i;
const CERTIFICATE_EXPIRED = /certificate has expired|certificate is not yet valid/i;

/** What to change, for errors whose text names the symptom but not the setting. */
export function hintFor(detail: string): string | undefined {
  if (UNTRUSTED_CERTIFICATE.test(detail)) {
    return "the broker's TLS certificate is not signed by a CA kstream trusts: set kafka.tls.ca_file to the CA that signed it";
  }
  if (CERTIFICATE_NAME_MISMATCH.test(detail)) {
    return "the broker's TLS certificate does not name the host in kafka.brokers: connect by a name the certificate lists";
  }
  if (CERTIFICATE_EXPIRED.test(detail)) return "the broker's TLS certificate is outside its validity dates";
  return undefined;
}

/** Kafka's answer to a producer whose epoch is old: INVALID_PRODUCER_EPOCH (47), or PRODUCER_FENCED (90) from newer request versions. */
const FENCED_TYPES = new Set(["INVALID_PRODUCER_EPOCH", "PRODUCER_FENCED"]);
const PRODUCER_FENCED_CODE = 90;

/**
 * Whether the error (or what it wraps: kafkajs' originalError, a KafkaError's cause) says the
 * producer was fenced: a newer producer with the same transactional id exists, or the broker
 * expired the transaction.
 */
export function isFencedError(error: unknown): boolean {
  for (let depth = 0, current = error; depth < 6 && current instanceof Object; depth++) {
    const failure = current as { type?: string; code?: number; originalError?: unknown; cause?: unknown };
    if ((failure.type !== undefined && FENCED_TYPES.has(failure.type)) || failure.code === PRODUCER_FENCED_CODE) return true;
    current = failure.originalError ?? failure.cause;
  }
  return false;
}
