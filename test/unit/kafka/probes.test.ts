/**
 * The kafkajs internal the access probes rely on (src/kafka/probes.ts): kafkajs 2.2.4 keeps the
 * factory of its cluster object under a private symbol, and the cluster it builds has the raw
 * request methods the probes call. Pinned here so a kafkajs change fails a test, not a preflight.
 */
import { expect, test } from "bun:test";
import { Kafka, logLevel } from "kafkajs";

test("a kafkajs client keeps its cluster factory under private:Kafka:createCluster, building clusters with the raw methods the probes use", () => {
  const kafka = new Kafka({ brokers: ["127.0.0.1:1"], logLevel: logLevel.NOTHING });
  const symbol = Object.getOwnPropertySymbols(kafka).find((candidate) => candidate.description === "private:Kafka:createCluster");
  expect(symbol).toBeDefined();
  const cluster = (kafka as unknown as Record<symbol, (options: object) => Record<string, unknown>>)[symbol!]!({ allowAutoTopicCreation: false });
  for (const method of ["connect", "refreshMetadata", "disconnect", "getNodeIds", "findBroker"]) expect(typeof cluster[method]).toBe("function");
});
