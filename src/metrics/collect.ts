/**
 * One sample of the cluster through the Kafka admin API alone: brokers and controller, partition
 * leaders/replicas/ISR and watermarks of the selected topics, and each selected group's state,
 * members (with their decoded assignments) and committed offsets.
 */
import { type Admin, AssignerProtocol } from "kafkajs";
import { KafkaError } from "../errors.ts";
import { toKafkaError } from "../kafka/errors.ts";
import type { GroupSample, MemberSample, Sample, TopicSample } from "./types.ts";

export interface Selection {
  /** Topics to report; ignored when allTopics. */
  readonly topics: readonly string[];
  readonly allTopics: boolean;
  /** Groups to report; ignored when allGroups. */
  readonly groups: readonly string[];
  readonly allGroups: boolean;
  /** Names the user typed: a missing one is an error; a missing default is only left out. */
  readonly explicitTopics: boolean;
  readonly explicitGroups: boolean;
}

export interface ResolvedSelection {
  readonly topics: string[];
  readonly groups: string[];
  /** Defaults that do not exist (yet): reported as a warning, not an error. */
  readonly absent: string[];
  /** The selected groups among them (for --fail-if-group-empty: a group never started is empty). */
  readonly absentGroups: string[];
}

/** Turns the selection into names that exist; an unknown name the user gave is a KafkaError. */
export async function resolveSelection(admin: Admin, selection: Selection): Promise<ResolvedSelection> {
  const existingTopics = new Set(await call(() => admin.listTopics(), "cannot list topics"));
  const existingGroups = new Set((await call(() => admin.listGroups(), "cannot list consumer groups")).groups.map((g) => g.groupId));
  const absent: string[] = [];
  const pick = (wanted: readonly string[], existing: Set<string>, explicit: boolean, kind: "topic" | "consumer group") => {
    const unknown = wanted.filter((name) => !existing.has(name));
    if (unknown.length > 0 && explicit) {
      throw new KafkaError(`unknown ${kind}${unknown.length > 1 ? "s" : ""}: ${unknown.join(", ")}`, { context: { [kind === "topic" ? "topic" : "group"]: unknown.join(",") } });
    }
    absent.push(...unknown.map((name) => `${kind} ${name}`));
    return wanted.filter((name) => existing.has(name));
  };
  const topics = selection.allTopics
    ? [...existingTopics].filter((name) => !name.startsWith("__")).sort()
    : pick(unique(selection.topics), existingTopics, selection.explicitTopics, "topic");
  const groups = selection.allGroups ? [...existingGroups].sort() : pick(unique(selection.groups), existingGroups, selection.explicitGroups, "consumer group");
  const absentGroups = selection.allGroups ? [] : unique(selection.groups).filter((name) => !existingGroups.has(name));
  return { topics, groups, absent, absentGroups };
}

export async function takeSample(admin: Admin, selection: { topics: readonly string[]; groups: readonly string[] }): Promise<Sample> {
  const cluster = await call(() => admin.describeCluster(), "cannot describe the cluster");
  const groups = await sampleGroups(admin, selection.groups);
  // The lag of a group needs the watermarks of what it consumes, even when that topic is not shown.
  const topicNames = unique([...selection.topics, ...groups.flatMap((g) => [...g.committed.map((c) => c.topic), ...g.members.flatMap((m) => Object.keys(m.assignment))])]);
  const topics = await sampleTopics(admin, topicNames);
  return {
    // The offsets are what rates are computed from: their time is when they were read.
    takenAt: Date.now(),
    clusterId: cluster.clusterId,
    controllerId: cluster.controller ?? null,
    brokers: cluster.brokers.map((b) => ({ id: b.nodeId, host: b.host, port: b.port })),
    topics,
    groups,
  };
}

async function sampleTopics(admin: Admin, names: string[]): Promise<TopicSample[]> {
  if (names.length === 0) return [];
  const metadata = await call(() => admin.fetchTopicMetadata({ topics: names }), "cannot read topic metadata", { topics: names.join(",") });
  return Promise.all(
    metadata.topics.map(async (topic) => {
      const offsets = await call(() => admin.fetchTopicOffsets(topic.name), "cannot read watermarks", { topic: topic.name });
      const watermarks = new Map(offsets.map((o) => [o.partition, { low: Number(o.low), high: Number(o.high) }]));
      return {
        name: topic.name,
        partitions: topic.partitions.map((p) => ({
          partition: p.partitionId,
          leader: p.leader,
          replicas: p.replicas,
          isr: p.isr,
          offline: p.offlineReplicas ?? [],
          low: watermarks.get(p.partitionId)?.low ?? 0,
          high: watermarks.get(p.partitionId)?.high ?? 0,
        })),
      };
    }),
  );
}

async function sampleGroups(admin: Admin, groupIds: readonly string[]): Promise<GroupSample[]> {
  if (groupIds.length === 0) return [];
  const described = await call(() => admin.describeGroups([...groupIds]), "cannot describe consumer groups", { groups: groupIds.join(",") });
  return Promise.all(
    described.groups.map(async (group) => {
      const offsets = await call(() => admin.fetchOffsets({ groupId: group.groupId }), "cannot read committed offsets", { group: group.groupId });
      return {
        groupId: group.groupId,
        state: group.state,
        protocolType: group.protocolType,
        members: group.members.map((m): MemberSample => ({ memberId: m.memberId, clientId: m.clientId, host: m.clientHost, assignment: decodeAssignment(group.protocolType, m.memberAssignment) })),
        committed: offsets.flatMap((topic) =>
          topic.partitions.map((p) => ({ topic: topic.topic, partition: p.partition, committed: Number(p.offset) >= 0 ? Number(p.offset) : null })),
        ),
      };
    }),
  );
}

/** Only the consumer protocol's assignment format is known; other groups (Connect, …) show none. */
function decodeAssignment(protocolType: string, buffer: Buffer): Record<string, number[]> {
  if (protocolType !== "consumer" || buffer.length === 0) return {};
  try {
    return AssignerProtocol.MemberAssignment.decode(buffer)?.assignment ?? {};
  } catch {
    return {}; // an assignor with its own format: the members are still listed, without partitions
  }
}

async function call<T>(request: () => Promise<T>, doing: string, context: Record<string, string> = {}): Promise<T> {
  try {
    return await request();
  } catch (error) {
    throw toKafkaError(error, doing, context);
  }
}

const unique = (names: readonly string[]): string[] => [...new Set(names)];
