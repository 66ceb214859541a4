/**
 * Sends messages whose partitions are set, and makes sure every partition was answered. kafkajs
 * 2.2.4 loses messages when a partition's leader moves during a send: the retry regroups the
 * messages by the new leaders but skips every broker that already answered, so a partition that
 * moved to such a broker is never sent, and the send still resolves. Invariant here: a send
 * returns only once every partition it carried is acknowledged (fault scenario 3). The partitions without an answer are
 * sent again here; the idempotent producer gives them the same sequence numbers as the failed
 * attempt (kafkajs rolls them back when a request fails), so a batch that did reach the log before
 * its leader died is recognised by the broker as a duplicate instead of being written twice.
 *
 * When a send fails outright, the acknowledgements of earlier attempts are not lost with it: the
 * error is a SendIncompleteError that carries them, so the caller can count what did land.
 */
import type { Message, RecordMetadata, TopicMessages } from "kafkajs";
import { KafkaError, SendIncompleteError } from "../errors.ts";
import { log } from "../ui/log.ts";
import { partitionedMessages } from "./partitioned-messages.ts";

// The class lives in the error hierarchy; re-exported here, where it is thrown.
export { SendIncompleteError };

/** More than enough for a leader to move twice; a partition unanswered after this is an error. */
const MAX_RESENDS = 5;

export async function sendCompletely(
  send: (topicMessages: TopicMessages[]) => Promise<RecordMetadata[]>,
  topicMessages: TopicMessages[],
): Promise<RecordMetadata[]> {
  const results: RecordMetadata[] = [];
  let pending = topicMessages.map(({ topic, messages }) => ({ topic, messages: partitionedMessages(messages) }));
  for (let resend = 0; ; resend++) {
    let answered: RecordMetadata[];
    try {
      answered = await send(pending);
    } catch (error) {
      throw new SendIncompleteError(error, results);
    }
    results.push(...answered);
    const missing = unanswered(pending, answered);
    if (missing.length === 0) return results;
    const where = missing.map(({ topic, messages }) => `${topic}[${[...new Set(messages.map((m) => m.partition))].join(",")}]`).join(" ");
    if (resend === MAX_RESENDS) {
      const failure = new KafkaError(`the brokers never acknowledged ${where} after ${MAX_RESENDS} attempts`, { context: { partitions: where }, retriable: true });
      throw new SendIncompleteError(failure, results);
    }
    log.warn(`kafka acknowledged only part of a send (a partition leader moved?); sending ${where} again`);
    pending = missing.map(({ topic, messages }) => ({ topic, messages: partitionedMessages(messages) }));
  }
}

/** The messages of partitions no result answered for; checked per message without building a string for each. */
function unanswered(pending: TopicMessages[], answered: RecordMetadata[]): TopicMessages[] {
  const done = new Map<string, Set<number>>();
  for (const result of answered) {
    let partitions = done.get(result.topicName);
    if (!partitions) done.set(result.topicName, (partitions = new Set()));
    partitions.add(result.partition);
  }
  const missing: TopicMessages[] = [];
  for (const { topic, messages } of pending) {
    const acknowledged = done.get(topic);
    const left = acknowledged ? messages.filter((message: Message) => !acknowledged.has(message.partition!)) : messages;
    if (left.length > 0) missing.push({ topic, messages: left });
  }
  return missing;
}
