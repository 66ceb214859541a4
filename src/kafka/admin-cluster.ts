/**
 * Records the kafkajs Cluster behind each admin client, so stable-offsets.ts can send a request
 * kafkajs has no method for (OffsetFetch v7) to the group coordinator, over the admin's own
 * connections and with its own coordinator lookup. kafkajs' Kafka#admin builds the cluster through
 * a private instance property (the symbol described "private:Kafka:createCluster") and keeps it
 * in closures; the patch wraps that factory for the duration of the original admin() call.
 */
import { Kafka, type Admin } from "kafkajs";
import type { CoordinatorCluster } from "./stable-offsets.ts";

export const CREATE_CLUSTER_SYMBOL = "private:Kafka:createCluster";

const clusters = new WeakMap<Admin, CoordinatorCluster>();

let installed = false;

export function installAdminCluster(): void {
  if (installed) return;
  installed = true;
  const original = Kafka.prototype.admin;
  Kafka.prototype.admin = function admin(this: Kafka, ...args: Parameters<Kafka["admin"]>): Admin {
    const holder = this as unknown as Record<symbol, (options: unknown) => CoordinatorCluster>;
    const key = Object.getOwnPropertySymbols(this).find((symbol) => symbol.description === CREATE_CLUSTER_SYMBOL);
    const create = key === undefined ? undefined : holder[key];
    if (key === undefined || typeof create !== "function") return original.apply(this, args);
    let cluster: CoordinatorCluster | undefined;
    holder[key] = (options: unknown) => (cluster = create.call(this, options));
    try {
      const client = original.apply(this, args);
      if (cluster !== undefined) clusters.set(client, cluster);
      return client;
    } finally {
      holder[key] = create;
    }
  };
}

/** The Cluster of an admin client built by Kafka#admin, undefined for any other. */
export function clusterOf(admin: Admin): CoordinatorCluster | undefined {
  return clusters.get(admin);
}
