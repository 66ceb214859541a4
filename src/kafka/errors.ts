/**
 * Turns kafkajs' errors into kstream's KafkaError with the context a user can act on: which
 * brokers, topic or group, and whether kafkajs judged it retriable.
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
  return new KafkaError(`${doing}${where ? ` (${where})` : ""}: ${detail}`, {
    context,
    cause: error,
    retriable: cause.retriable === true,
  });
}
