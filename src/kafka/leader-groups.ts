/**
 * A send cut into one send per partition leader, so that each kafkajs send carries one Produce
 * request (see transactional-producer.ts for why). Pure: the leaders come from `leaderOf`.
 * Partitions whose leader is not known yet (no metadata for the topic before its first send) go
 * together in one send of their own, as kafkajs would send them.
 */
import type { Message, TopicMessages } from "kafkajs";

export function splitByLeader(topicMessages: readonly TopicMessages[], leaderOf: (topic: string, partition: number) => number | undefined): TopicMessages[][] {
  const groups = new Map<number | undefined, Map<string, Message[]>>();
  for (const { topic, messages } of topicMessages) {
    for (const message of messages) {
      const leader = leaderOf(topic, message.partition!);
      let group = groups.get(leader);
      if (group === undefined) groups.set(leader, (group = new Map()));
      let forTopic = group.get(topic);
      if (forTopic === undefined) group.set(topic, (forTopic = []));
      forTopic.push(message);
    }
  }
  return [...groups.values()].map((group) => [...group].map(([topic, messages]) => ({ topic, messages })));
}
