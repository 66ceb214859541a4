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
  const where = Object.entries(context)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${key} ${value}`)
    .join(", ");
  const hint = hintFor(detail);
  return new KafkaError(`${doing}${where ? ` (${where})` : ""}: ${detail}${hint ? ` (${hint})` : ""}`, {
    context,
    cause: error,
    retriable: cause.retriable === true,
  });
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
