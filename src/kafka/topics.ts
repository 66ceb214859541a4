/**
 * Creates kstream's topics (input, staging, dead letter) when they are missing, with the
 * partitions and replication factor from the config, through the admin API; the dead-letter
 * topic with room for the largest input record plus the headers a dead letter adds.
 */
import { type Admin, ConfigResourceTypes } from "kafkajs";
import type { Config } from "../config/schema.ts";
import { log } from "../ui/log.ts";
import { toKafkaError } from "./errors.ts";

export function kstreamTopics(config: Config): string[] {
  return [config.topics.input, config.topics.staging, config.topics.dead_letter];
}

export interface TopicLayout {
  readonly partitions: number;
  readonly replicationFactor: number;
}

export function topicLayout(config: Config): TopicLayout {
  return { partitions: config.topics.partitions, replicationFactor: config.topics.replication_factor };
}

/** Kafka's default `max.message.bytes`, used when a topic's own value cannot be read. */
export const DEFAULT_MAX_MESSAGE_BYTES = 1_048_588;

/**
 * A dead letter is its input record plus up to ~1 KiB of headers (reason, message, source). With
 * the same limit as the input topic, a record another producer wrote at the limit could never be
 * dead-lettered and would stop its partition for good; 64 KiB more leaves ample room.
 */
export const DEAD_LETTER_HEADROOM_BYTES = 64 * 1024;

export interface DeadLetterSizing {
  readonly input: string;
  readonly deadLetter: string;
}

export async function ensureTopics(admin: Admin, topics: string[], layout: TopicLayout, sizing?: DeadLetterSizing): Promise<string[]> {
  try {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((topic) => !existing.has(topic));
    if (missing.length === 0) return [];
    const inputLimit = sizing && existing.has(sizing.input) ? await topicMaxMessageBytes(admin, sizing.input) : DEFAULT_MAX_MESSAGE_BYTES;
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((topic) => ({
        topic,
        numPartitions: layout.partitions,
        replicationFactor: layout.replicationFactor,
        ...(topic === sizing?.deadLetter && { configEntries: [{ name: "max.message.bytes", value: String(inputLimit + DEAD_LETTER_HEADROOM_BYTES) }] }),
      })),
    });
    log.info(`created topics ${missing.join(", ")} (${layout.partitions} partitions, replication ${layout.replicationFactor})`);
    return missing;
  } catch (error) {
    throw toKafkaError(error, "cannot create topics", { topics: topics.join(",") });
  }
}

/** A topic's `max.message.bytes` (the largest record batch it takes), or Kafka's default when it cannot be read. */
export async function topicMaxMessageBytes(admin: Admin, topic: string): Promise<number> {
  try {
    const described = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ["max.message.bytes"] }],
    });
    const entry = described.resources[0]?.configEntries.find((config) => config.configName === "max.message.bytes");
    const value = Number(entry?.configValue);
    return Number.isSafeInteger(value) && value > 0 ? value : DEFAULT_MAX_MESSAGE_BYTES;
  } catch {
    return DEFAULT_MAX_MESSAGE_BYTES; // e.g. no DescribeConfigs permission: the default is the likely value
  }
}
