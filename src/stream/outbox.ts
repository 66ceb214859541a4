/**
 * The staging messages and dead letters of one batch waiting to be sent, cut into sends of at
 * most MAX_SEND_BYTES. Pure: it hands each full send to the `dispatch` it is given.
 */
import type { Message, TopicMessages } from "kafkajs";

/**
 * Staging and dead-letter messages per send, in bytes: well under the broker's 1 MB batch limit
 * (message.max.bytes), and small because kafkajs groups a send's messages per partition with an
 * array copy per message (quadratic in the send's size): 64 kB sends cleaned 200k records ~17%
 * faster than 256 kB.
 */
export const MAX_SEND_BYTES = 64 * 1024;

export type OutboxTopic = "staging" | "deadLetter";

export class Outbox {
  readonly #topics: Readonly<Record<OutboxTopic, string>>;
  readonly #maxBytes: number;
  #staged: Message[] = [];
  #deadLetters: Message[] = [];
  #bytes = 0;

  constructor(topics: Readonly<Record<OutboxTopic, string>>, maxBytes = MAX_SEND_BYTES) {
    this.#topics = topics;
    this.#maxBytes = maxBytes;
  }

  /**
   * Adds one message of about `bytes`. A message that does not fit on top of the pending ones
   * goes in a send of its own (a huge email, a near-1 MB dead letter): together they would pass
   * the broker's limit and fail the cycle. A send that reaches the limit is dispatched at once.
   */
  add(topic: OutboxTopic, message: Message, bytes: number, dispatch: (send: TopicMessages[]) => void): void {
    if (this.#bytes > 0 && this.#bytes + bytes > this.#maxBytes) dispatch(this.take());
    (topic === "staging" ? this.#staged : this.#deadLetters).push(message);
    this.#bytes += bytes;
    if (this.#bytes >= this.#maxBytes) dispatch(this.take());
  }

  /** The pending messages as one send (empty when none), and an empty outbox. */
  take(): TopicMessages[] {
    const send: TopicMessages[] = [];
    if (this.#staged.length > 0) send.push({ topic: this.#topics.staging, messages: this.#staged });
    if (this.#deadLetters.length > 0) send.push({ topic: this.#topics.deadLetter, messages: this.#deadLetters });
    this.#staged = [];
    this.#deadLetters = [];
    this.#bytes = 0;
    return send;
  }
}
