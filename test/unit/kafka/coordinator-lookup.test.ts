import { describe, expect, test } from "bun:test";
import { KafkaJSError } from "kafkajs";
import Cluster from "kafkajs/src/cluster/index.js";
import { installRetriableCoordinatorLookup, markRetriableWhenNoBrokerAnswered } from "../../../src/kafka/coordinator-lookup.ts";
import { isRetriable } from "../../../src/kafka/retry.ts";

/** kafkajs' own error class, as cluster/index.js throws it when no broker answered FindCoordinator. */
const { KafkaJSGroupCoordinatorNotFound } = require("kafkajs/src/errors.js") as {
  KafkaJSGroupCoordinatorNotFound: new (message: string) => Error & { retriable: boolean; type?: string };
};

describe("a coordinator lookup that no broker answered", () => {
  test("kafkajs itself calls it non-retriable (what this module corrects)", () => {
    expect(isRetriable(new KafkaJSGroupCoordinatorNotFound("Failed to find group coordinator"))).toBe(false);
  });

  test("is marked retriable, as the 'coordinator not available' kafkajs retries with fresh metadata", () => {
    const error = markRetriableWhenNoBrokerAnswered(new KafkaJSGroupCoordinatorNotFound("Failed to find group coordinator"));
    expect(isRetriable(error)).toBe(true);
    expect((error as { type?: string }).type).toBe("GROUP_COORDINATOR_NOT_AVAILABLE");
  });

  test("other errors pass unchanged", () => {
    const refused = new KafkaJSError("Not authorized to access group", { retriable: false });
    expect(markRetriableWhenNoBrokerAnswered(refused)).toBe(refused);
    expect(refused.retriable).toBe(false);
  });

  test("once installed, kafkajs' cluster throws it retriable, from every broker failing", async () => {
    installRetriableCoordinatorLookup();
    // A cluster whose every broker fails the way a stopped one does: withBroker gives up, kafkajs throws NotFound.
    const fake = Object.create(Cluster.prototype) as Cluster & Record<string, unknown>;
    fake.brokerPool = { withBroker: async () => undefined };
    fake.retrier = async (fn: (bail: (e: Error) => void) => unknown) => fn((e) => { throw e; });
    fake.logger = { debug() {} };
    const thrown = await fake.findGroupCoordinatorMetadata({ groupId: "g" }).then(() => undefined, (error: unknown) => error);
    expect((thrown as Error).name).toBe("KafkaJSGroupCoordinatorNotFound");
    expect(isRetriable(thrown)).toBe(true);
  });
});
