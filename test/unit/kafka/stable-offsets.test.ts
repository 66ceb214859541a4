import { describe, expect, test } from "bun:test";
import { Kafka, logLevel } from "kafkajs";
import createRequest from "kafkajs/src/protocol/request.js";
import { CREATE_CLUSTER_SYMBOL, clusterOf, installClientClusters, producerClusterOf } from "../../../src/kafka/client-cluster.ts";
import { isRetriable } from "../../../src/kafka/retry.ts";
import {
  type CoordinatorBroker,
  decodeOffsetFetchV7,
  encodeOffsetFetchV7,
  failOnError,
  offsetFetchV7Request,
  stableCommittedOffsets,
} from "../../../src/kafka/stable-offsets.ts";

const hex = (text: string) => Buffer.from(text.replace(/\s+/g, ""), "hex");

/** OffsetFetch v7 response body for topic "t", partition 0 at offset 10 (leader epoch -1, metadata ""), no error. */
const PLAIN = hex(
  [
    "00", // header tag buffer: none
    "00000000", // throttle_time_ms 0
    "02", // topics: 1
    "0274", // name "t"
    "02", // partitions: 1
    "00000000", // partition_index 0
    "000000000000000a", // committed_offset 10
    "ffffffff", // committed_leader_epoch -1
    "01", // metadata ""
    "0000", // error_code 0
    "00", // partition tag buffer
    "00", // topic tag buffer
    "0000", // error_code 0
    "00", // tag buffer
  ].join(""),
);
/** Where PLAIN's partition error_code starts. */
const PARTITION_ERROR_AT = 1 + 4 + 1 + 2 + 1 + 4 + 8 + 4 + 1;

describe("OffsetFetch v7 request body", () => {
  test("group, topics, partitions and require_stable, as the protocol spec lays them out", () => {
    const body = encodeOffsetFetchV7("g", [{ topic: "t", partitions: [0, 1] }]);
    expect(body.toString("hex")).toBe(
      [
        "00", // request header v2's tag buffer (header v1 is what kafkajs writes)
        "0267", // group_id COMPACT_STRING "g" (length + 1)
        "02", // topics COMPACT_ARRAY: 1
        "0274", // name "t"
        "03", // partition_indexes: 2
        "00000000",
        "00000001",
        "00", // topic tag buffer
        "01", // require_stable true
        "00", // tag buffer
      ].join(""),
    );
  });

  test("require_stable false, and lengths past one varint byte", () => {
    const group = "g".repeat(200);
    const body = encodeOffsetFetchV7(group, [], false);
    expect(body.subarray(0, 3).toString("hex")).toBe("00c901"); // 201 as an unsigned varint
    expect(body.subarray(3 + 200).toString("hex")).toBe("010000"); // no topics, require_stable false, tags
  });

  test("framed by kafkajs as a request with header v1 (api key 9, version 7), body appended as is", async () => {
    const { request } = offsetFetchV7Request("g", "t", [0]);
    const framed = (await createRequest({ correlationId: 7, clientId: "c", request })).buffer as Buffer;
    const body = encodeOffsetFetchV7("g", [{ topic: "t", partitions: [0] }]);
    expect(framed.readInt32BE(0)).toBe(framed.length - 4);
    expect(framed.subarray(4, 15).toString("hex")).toBe("0009" + "0007" + "00000007" + "0001" + "63");
    expect(framed.subarray(15).equals(body)).toBe(true);
  });
});

describe("OffsetFetch v7 response body", () => {
  test("decodes the spec's fields", () => {
    expect(decodeOffsetFetchV7(PLAIN)).toEqual({
      throttleTimeMs: 0,
      topics: [{ topic: "t", partitions: [{ partition: 0, offset: 10n, leaderEpoch: -1, metadata: "", errorCode: 0 }] }],
      errorCode: 0,
    });
  });

  test("skips tagged fields anywhere, reads null metadata and the never-committed -1", () => {
    const body = hex(
      "02 05 01 ff 07 00" + // header tag buffer: 2 fields (tag 5, 1 byte; tag 7, 0 bytes)
        "00000064" + // throttle 100
        "02 02 74 02" +
        "00000003 ffffffffffffffff ffffffff 00 0000" + // partition 3, offset -1, metadata null
        "01 00 03 aabbcc" + // partition tag buffer: tag 0, 3 bytes
        "01 01 01 00" + // topic tag buffer: tag 1, 1 byte
        "0000 00",
    );
    expect(decodeOffsetFetchV7(body)).toEqual({
      throttleTimeMs: 100,
      topics: [{ topic: "t", partitions: [{ partition: 3, offset: -1n, leaderEpoch: -1, metadata: null, errorCode: 0 }] }],
      errorCode: 0,
    });
  });

  test("a truncated body is an error, not a short answer", () => {
    expect(() => decodeOffsetFetchV7(PLAIN.subarray(0, PLAIN.length - 3))).toThrow(RangeError);
  });

  test("a partition's UNSTABLE_OFFSET_COMMIT (88) throws kafkajs' retriable error", () => {
    const unstable = Buffer.from(PLAIN);
    unstable.writeInt16BE(88, PARTITION_ERROR_AT);
    const decoded = decodeOffsetFetchV7(unstable);
    expect(decoded.topics[0]!.partitions[0]!.errorCode).toBe(88);
    const error = (() => {
      try {
        failOnError(decoded);
      } catch (caught) {
        return caught as { type: string; retriable: boolean };
      }
    })();
    expect(error?.type).toBe("UNSTABLE_OFFSET_COMMIT");
    expect(isRetriable(error)).toBe(true);
  });

  test("the group's NOT_COORDINATOR (16) and COORDINATOR_LOAD_IN_PROGRESS (14) are retriable, GROUP_AUTHORIZATION_FAILED (30) is not", () => {
    const withGroupError = (code: number) => {
      const body = Buffer.from(PLAIN);
      body.writeInt16BE(code, body.length - 3);
      return decodeOffsetFetchV7(body);
    };
    expect(() => failOnError(withGroupError(16))).toThrow(expect.objectContaining({ code: 16, retriable: true }));
    expect(() => failOnError(withGroupError(14))).toThrow(expect.objectContaining({ code: 14, retriable: true }));
    expect(() => failOnError(withGroupError(30))).toThrow(expect.objectContaining({ code: 30, retriable: false }));
  });
});

/** A coordinator whose connection answers with `bodies`, one per request, through the request's own decode and parse. */
function fakeCluster(bodies: Buffer[], maxVersion = 9) {
  const sent: unknown[] = [];
  const broker: CoordinatorBroker = {
    versions: { 9: { minVersion: 1, maxVersion } },
    connectionPool: {
      async send(protocolRequest: unknown) {
        const { request, response } = protocolRequest as ReturnType<typeof offsetFetchV7Request>;
        sent.push(request);
        return await response.parse(await response.decode(bodies.shift()!));
      },
    },
    async disconnect() {},
  };
  return { sent, cluster: { findGroupCoordinator: async () => broker } };
}

describe("stableCommittedOffsets", () => {
  test("reads UNSTABLE_OFFSET_COMMIT again until the offsets are stable", async () => {
    const unstable = Buffer.from(PLAIN);
    unstable.writeInt16BE(88, PARTITION_ERROR_AT);
    const { sent, cluster } = fakeCluster([unstable, unstable, PLAIN]);
    expect(await stableCommittedOffsets(cluster, "g", "t", [0], 10_000)).toEqual(new Map([[0, 10n]]));
    expect(sent).toHaveLength(3);
  });

  test("gives up, retriable, once the bound has passed", async () => {
    const unstable = Buffer.from(PLAIN);
    unstable.writeInt16BE(88, PARTITION_ERROR_AT);
    const { cluster } = fakeCluster(Array.from({ length: 10 }, () => unstable));
    const failure = await stableCommittedOffsets(cluster, "g", "t", [0], 300).catch((error: unknown) => error);
    expect(isRetriable(failure)).toBe(true);
  });

  test("a coordinator without OffsetFetch v7 gets no request: undefined (the caller's fallback)", async () => {
    const { sent, cluster } = fakeCluster([], 6);
    expect(await stableCommittedOffsets(cluster, "g", "t", [0], 1_000)).toBeUndefined();
    expect(sent).toHaveLength(0);
  });
});

describe("admin clients' clusters", () => {
  test("kafkajs 2.2.4 builds clusters through the private factory the patch wraps", () => {
    const kafka = new Kafka({ brokers: ["127.0.0.1:1"], logLevel: logLevel.NOTHING });
    const symbol = Object.getOwnPropertySymbols(kafka).find((s) => s.description === CREATE_CLUSTER_SYMBOL);
    expect(symbol).toBeDefined();
    expect(typeof (kafka as unknown as Record<symbol, unknown>)[symbol!]).toBe("function");
  });

  test("once installed, each admin client's cluster is known, and the factory is restored", () => {
    installClientClusters();
    const kafka = new Kafka({ brokers: ["127.0.0.1:1"], logLevel: logLevel.NOTHING });
    const symbol = Object.getOwnPropertySymbols(kafka).find((s) => s.description === CREATE_CLUSTER_SYMBOL)!;
    const factory = (kafka as unknown as Record<symbol, unknown>)[symbol];
    const first = kafka.admin();
    const second = kafka.admin();
    expect(typeof clusterOf(first)?.findGroupCoordinator).toBe("function");
    expect(clusterOf(first)).not.toBe(clusterOf(second));
    expect((kafka as unknown as Record<symbol, unknown>)[symbol]).toBe(factory);
  });

  test("once installed, each producer's cluster is known too, with the metadata lookups the leader split uses", () => {
    installClientClusters();
    const kafka = new Kafka({ brokers: ["127.0.0.1:1"], logLevel: logLevel.NOTHING });
    const first = kafka.producer();
    const second = kafka.producer();
    expect(typeof producerClusterOf(first)?.findTopicPartitionMetadata).toBe("function");
    expect(typeof producerClusterOf(first)?.refreshMetadataIfNecessary).toBe("function");
    expect(producerClusterOf(first)).not.toBe(producerClusterOf(second));
  });
});
