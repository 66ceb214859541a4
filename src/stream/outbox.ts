/**
 * The staging messages and dead letters of one batch waiting to be sent, cut into sends of at
 * most MAX_SEND_BYTES. Pure: it hands each full send to the `dispatch` it is given.
 */
import type { Message, TopicMessages } from "kafkajs";
import { DEAD_LETTER_HEADROOM_BYTES } from "../kafka/topics.ts";

/**
 * The bytes of a send's messages for each topic, and so the most a send's batch for one partition
 * holds (unless one message alone is larger).
 *
 * Staging: a quarter of the broker's default batch limit (max.message.bytes, 1 MB, what kstream
 * creates the staging topic with), so a batch stays under it even uncompressed. A transaction's
 * sends go one at a time (send-chain.ts), so this sets how often a cycle waits for a round trip:
 * 256 KiB cleaned 300k records in about 7.4 s against 8.5 s at 64 KiB (README "Performance").
 * kafkajs' grouping of a send's messages, once quadratic in its size, is linear
 * (partitioned-messages.ts).
 *
 * Dead letters: the headroom the dead-letter topic is created with above the input topic's limit
 * (64 KiB, topics.ts), so dead letters batched together fit that topic whatever the input's limit.
 */
export const MAX_SEND_BYTES: Readonly<Record<OutboxTopic, number>> = { staging: 256 * 1024, deadLetter: DEAD_LETTER_HEADROOM_BYTES };

export type OutboxTopic = "staging" | "deadLetter";

export class Outbox {
  readonly #topics: Readonly<Record<OutboxTopic, string>>;
  readonly #maxBytes: Readonly<Record<OutboxTopic, number>>;
  #staged: Message[] = [];
  #deadLetters: Message[] = [];
  #bytes: Record<OutboxTopic, number> = { staging: 0, deadLetter: 0 };

  constructor(topics: Readonly<Record<OutboxTopic, string>>, maxBytes = MAX_SEND_BYTES) {
    this.#topics = topics;
    this.#maxBytes = maxBytes;
  }

  /**
   * Adds one message of about `bytes`. A message that does not fit on top of its topic's pending
   * ones goes in a send of its own (a huge email, a near-1 MB dead letter): together they would
   * pass the broker's limit and fail the cycle. A send whose topic reaches its bound is dispatched
   * at once.
   */
  add(topic: OutboxTopic, message: Message, bytes: number, dispatch: (send: TopicMessages[]) => void): void {
    const max = this.#maxBytes[topic];
    if (this.#bytes[topic] > 0 && this.#bytes[topic] + bytes > max) dispatch(this.take());
    (topic === "staging" ? this.#staged : this.#deadLetters).push(message);
    this.#bytes[topic] += bytes;
    if (this.#bytes[topic] >= max) dispatch(this.take());
  }

  /** The pending messages as one send (empty when none), and an empty outbox. */
  take(): TopicMessages[] {
    const send: TopicMessages[] = [];
    if (this.#staged.length > 0) send.push({ topic: this.#topics.staging, messages: this.#staged });
    if (this.#deadLetters.length > 0) send.push({ topic: this.#topics.deadLetter, messages: this.#deadLetters });
    this.#staged = [];
    this.#deadLetters = [];
    this.#bytes = { staging: 0, deadLetter: 0 };
    return send;
  }
}
