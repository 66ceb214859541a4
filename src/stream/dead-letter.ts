/**
 * The dead-letter message for an input message that could not be cleaned (SPEC.md "Dead-letter
 * topic"): original key, value and headers unchanged, plus the reason and the source position.
 */
import type { IHeaders, KafkaMessage, Message } from "kafkajs";
import type { DeadLetterVerdict } from "../clean/types.ts";

export function deadLetterMessage(source: KafkaMessage, topic: string, partition: number, verdict: DeadLetterVerdict): Message {
  const headers: IHeaders = {
    ...source.headers,
    "kstream-error": verdict.reason,
    "kstream-error-message": verdict.message,
    "kstream-source-topic": topic,
    "kstream-source-partition": String(partition),
    "kstream-source-offset": source.offset,
  };
  return { key: source.key, value: source.value, headers };
}
