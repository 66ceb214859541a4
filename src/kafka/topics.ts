/**
 * Creates kstream's topics (input, staging, dead letter) when they are missing, with the
 * partitions and replication factor from the config, through the admin API.
 */
import type { Admin } from "kafkajs";
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

export async function ensureTopics(admin: Admin, topics: string[], layout: TopicLayout): Promise<string[]> {
  try {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((topic) => !existing.has(topic));
    if (missing.length === 0) return [];
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((topic) => ({
        topic,
        numPartitions: layout.partitions,
        replicationFactor: layout.replicationFactor,
      })),
    });
    log.info(`created topics ${missing.join(", ")} (${layout.partitions} partitions, replication ${layout.replicationFactor})`);
    return missing;
  } catch (error) {
    throw toKafkaError(error, "cannot create topics", { topics: topics.join(",") });
  }
}
