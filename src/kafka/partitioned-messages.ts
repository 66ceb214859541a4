/**
 * Works around a quadratic step in kafkajs 2.2.4 (its last release): before every produce request
 * `groupMessagesPerPartition` groups the messages with `messages.reduce(...)`, copying the
 * partition's whole array for every message (`[...current, message]`): 8% of produce's CPU at
 * 1,000 messages per request, and the reason requests had to stay small. kstream always sets each
 * message's partition itself, so the grouping is known: the array handed to kafkajs gets its own
 * `reduce` that builds the same `{ partition: messages[] }` object in one pass. Any other use of
 * `reduce` (or a message without a partition) gets the standard one. Pinned by a unit test against
 * kafkajs' own function.
 */
import type { Message } from "kafkajs";

type Reduce = (callback: (...args: never[]) => unknown, ...initial: unknown[]) => unknown;

function groupingReduce(this: Message[], callback: (...args: never[]) => unknown, ...initial: unknown[]): unknown {
  const seed = initial[0];
  const isGrouping =
    initial.length === 1 &&
    typeof seed === "object" &&
    seed !== null &&
    Object.getPrototypeOf(seed) === Object.prototype &&
    Object.keys(seed).length === 0 &&
    this.every((message) => typeof message.partition === "number");
  if (!isGrouping) return (Array.prototype.reduce as Reduce).apply(this, [callback, ...initial]);
  const grouped: Record<number, Message[]> = {};
  for (const message of this) (grouped[message.partition!] ??= []).push(message);
  return grouped;
}

/** The same array, marked so kafkajs groups it by partition in linear time. */
export function partitionedMessages(messages: Message[]): Message[] {
  return Object.defineProperty(messages, "reduce", { value: groupingReduce, enumerable: false, configurable: true, writable: true });
}

/**
 * Messages whose partitions are set, one array per partition, each in the messages' order: the
 * arrays kafkajs' grouping makes of them, so records prepared from one (prepareRecords) are found
 * again when its request is encoded.
 */
export function partitionGroups(messages: readonly Message[]): Message[][] {
  const groups = new Map<number | undefined, Message[]>();
  for (const message of messages) {
    const group = groups.get(message.partition);
    if (group) group.push(message);
    else groups.set(message.partition, [message]);
  }
  return [...groups.values()];
}
