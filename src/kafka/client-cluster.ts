/**
 * Records the kafkajs Cluster behind each admin client and each producer, for the requests and
 * lookups kafkajs has no public method for: stable-offsets.ts sends OffsetFetch v7 to the group
 * coordinator over an admin's connections, and transactional-producer.ts splits a send by partition
 * leader from a producer's own metadata. kafkajs' Kafka#admin and Kafka#producer build their
 * cluster through a private instance property (the symbol described "private:Kafka:createCluster")
 * and keep it in closures; the patch wraps that factory for the duration of the original call.
 */
import { Kafka, type Admin, type Producer } from "kafkajs";
import type { CoordinatorCluster } from "./stable-offsets.ts";

export const CREATE_CLUSTER_SYMBOL = "private:Kafka:createCluster";

/** What a producer's Cluster answers about partition leaders (its metadata, refreshed when stale). */
export interface LeaderCluster {
  refreshMetadataIfNecessary(): Promise<void>;
  findTopicPartitionMetadata(topic: string): readonly { partitionId: number; leader: number | null }[];
}

const adminClusters = new WeakMap<Admin, CoordinatorCluster>();
const producerClusters = new WeakMap<Producer, LeaderCluster>();

/** Calls `build` (Kafka#admin or #producer) and returns the client with the Cluster it was built on. */
function withCluster<C>(kafka: Kafka, build: () => C): { client: C; cluster: unknown } {
  const holder = kafka as unknown as Record<symbol, (options: unknown) => unknown>;
  const key = Object.getOwnPropertySymbols(kafka).find((symbol) => symbol.description === CREATE_CLUSTER_SYMBOL);
  const create = key === undefined ? undefined : holder[key];
  if (key === undefined || typeof create !== "function") return { client: build(), cluster: undefined };
  let cluster: unknown;
  holder[key] = (options: unknown) => (cluster = create.call(kafka, options));
  try {
    return { client: build(), cluster };
  } finally {
    holder[key] = create;
  }
}

let installed = false;

export function installClientClusters(): void {
  if (installed) return;
  installed = true;
  const { admin, producer } = Kafka.prototype;
  Kafka.prototype.admin = function (this: Kafka, ...args: Parameters<Kafka["admin"]>): Admin {
    const { client, cluster } = withCluster(this, () => admin.apply(this, args));
    if (cluster !== undefined) adminClusters.set(client, cluster as CoordinatorCluster);
    return client;
  };
  Kafka.prototype.producer = function (this: Kafka, ...args: Parameters<Kafka["producer"]>): Producer {
    const { client, cluster } = withCluster(this, () => producer.apply(this, args));
    if (cluster !== undefined) producerClusters.set(client, cluster as LeaderCluster);
    return client;
  };
}

/** The Cluster of an admin client built by Kafka#admin, undefined for any other. */
export function clusterOf(admin: Admin): CoordinatorCluster | undefined {
  return adminClusters.get(admin);
}

/** The Cluster of a producer built by Kafka#producer, undefined for any other. */
export function producerClusterOf(producer: Producer): LeaderCluster | undefined {
  return producerClusters.get(producer);
}
