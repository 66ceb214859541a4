/**
 * The parts of kafkajs' untyped internals that src/kafka/fast-encoding.ts, fast-produce-request.ts,
 * fast-record-batch.ts, partitioned-messages.ts, coordinator-lookup.ts, settled-send.ts and stable-offsets.ts replace or
 * call (and the unit tests that pin them).
 */
declare module "kafkajs/src/protocol/encoder.js" {
  export default class Encoder {
    constructor(initialSize?: number);
    buf: Buffer;
    offset: number;
    get buffer(): Buffer;
    ensureAvailable(length: number): void;
    writeUVarInt(value: number): Encoder;
    writeVarInt(value: number): Encoder;
    writeVarLong(value: unknown): Encoder;
    writeInt8(value: number): Encoder;
    writeInt16(value: number): Encoder;
    writeInt32(value: number): Encoder;
    writeInt64(value: unknown): Encoder;
    writeString(value: string | null): Encoder;
    writeBytes(value: Buffer | string | null): Encoder;
    static sizeOfVarLong(value: unknown): number;
    static sizeOfVarInt(value: number): number;
    static nextPowerOfTwo(value: number): number;
  }
}

declare module "kafkajs/src/producer/groupMessagesPerPartition.js" {
  import type { Message, PartitionerArgs, PartitionMetadata } from "kafkajs";
  export default function groupMessagesPerPartition(args: {
    topic: string;
    partitionMetadata: PartitionMetadata[];
    messages: Message[];
    partitioner: (args: PartitionerArgs) => number;
  }): Record<number, Message[]>;
}

declare module "kafkajs/src/cluster/index.js" {
  export default class Cluster {
    findGroupCoordinatorMetadata(args: { groupId: string; coordinatorType?: number }): Promise<unknown>;
    findGroupCoordinator(args: { groupId: string; coordinatorType?: number }): Promise<unknown>;
  }
}

declare module "kafkajs/src/protocol/error.js" {
  /** Every Kafka protocol error kafkajs knows, with whether the protocol says a retry may succeed. */
  export const errorCodes: readonly { type: string; code: number; retriable: boolean; message: string }[];
  /** kafkajs' KafkaJSProtocolError for a protocol error code (retriable as errorCodes says). */
  export function createErrorFromCode(code: number): Error & { type: string; code: number; retriable: boolean };
}

declare module "kafkajs/src/protocol/decoder.js" {
  export default class Decoder {
    constructor(buffer: Buffer);
    buffer: Buffer;
    offset: number;
    readInt8(): number;
    readInt16(): number;
    readInt32(): number;
    readInt64(): bigint;
    readString(): string | null;
    readBytes(length?: number): Buffer;
    canReadBytes(length: number): boolean;
    readArray<T>(reader: (decoder: Decoder) => T): T[];
    readArrayAsync<T>(reader: (decoder: Decoder) => Promise<T>): Promise<T[]>;
  }
}

declare module "kafkajs/src/protocol/message/compression/index.js" {
  interface Codec {
    compress(encoder: import("kafkajs/src/protocol/encoder.js").default): Promise<Buffer>;
    decompress(buffer: Buffer): Promise<Buffer>;
  }
  const compression: {
    Types: { None: number; GZIP: number; Snappy: number; LZ4: number; ZSTD: number };
    Codecs: Record<number, () => Codec>;
    COMPRESSION_CODEC_MASK: number;
    lookupCodec(type: number): Codec | null;
    lookupCodecByAttributes(attributes: number): Codec | null;
  };
  export default compression;
}

declare module "kafkajs/src/protocol/recordBatch/crc32C/crc32C.js" {
  export default function crc32C(buffer: Uint8Array): number;
}

declare module "kafkajs/src/protocol/recordBatch/v0/index.js" {
  export function RecordBatch(args: Record<string, unknown>): Promise<import("kafkajs/src/protocol/encoder.js").default>;
}

declare module "kafkajs/src/protocol/recordBatch/v0/decoder.js" {
  export default function RecordBatchDecoder(decoder: import("kafkajs/src/protocol/decoder.js").default): Promise<{ records: unknown[] }>;
}

declare module "kafkajs/src/protocol/messageSet/decoder.js" {
  export default function MessageSetDecoder(decoder: import("kafkajs/src/protocol/decoder.js").default, size?: number | null): Promise<unknown[]>;
}

declare module "kafkajs/src/protocol/requests/fetch/v11/response.js" {
  const response: { decode(rawData: Buffer): Promise<unknown>; parse(data: unknown): Promise<unknown> };
  export default response;
}

declare module "kafkajs/src/protocol/requests/fetch/v11/request.js" {
  export default function request(args: Record<string, unknown>): { encode(): Promise<import("kafkajs/src/protocol/encoder.js").default> };
}

declare module "kafkajs/src/protocol/requests/produce/index.js" {
  const produce: { versions: string[]; protocol: (args: { version: number | string }) => unknown };
  export default produce;
}

declare module "kafkajs/src/protocol/timestampTypes.js" {
  const TimestampTypes: { NO_TIMESTAMP: number; CREATE_TIME: number; LOG_APPEND_TIME: number };
  export default TimestampTypes;
}

declare module "kafkajs/src/utils/long.js" {
  export default class Long {
    static fromInt(value: number): Long;
    static fromValue(value: unknown): Long;
    getHighBits(): number;
    getLowBits(): number;
    value: bigint;
  }
}

declare module "kafkajs/src/protocol/recordBatch/record/v0/index.js" {
  export default function Record(args: { offsetDelta?: number; timestampDelta?: number; key?: unknown; value?: unknown; headers?: unknown }): import("kafkajs/src/protocol/encoder.js").default;
}

declare module "kafkajs/src/protocol/request.js" {
  export default function createRequest(args: { correlationId: number; clientId: string; request: { apiKey: number; apiVersion: number; encode(): Promise<unknown> } }): Promise<import("kafkajs/src/protocol/encoder.js").default>;
}

declare module "kafkajs/src/broker/index.js" {
  export default class Broker {
    produce(request: unknown): Promise<unknown>;
    addPartitionsToTxn(request: unknown): Promise<unknown>;
  }
}

declare module "kafkajs/src/producer/sendMessages.js" {
  /** kafkajs' send of one producer: groups messages per leader, one Produce request per broker, retried. */
  export default function createSendMessages(deps: {
    logger: unknown;
    cluster: unknown;
    partitioner: (args: { topic: string; partitionMetadata: unknown[]; message: { partition?: number } }) => number;
    eosManager: unknown;
    retrier: <T>(fn: (bail: (error: Error) => void, retryCount: number, retryTime: number) => Promise<T>) => Promise<T>;
  }): (args: { acks: number; timeout?: number; compression?: number; topicMessages: { topic: string; messages: unknown[] }[] }) => Promise<unknown[]>;
}

declare module "kafkajs/src/retry/index.js" {
  export default function createRetry(options: { retries: number; initialRetryTime?: number; maxRetryTime?: number }): <T>(
    fn: (bail: (error: Error) => void, retryCount: number, retryTime: number) => Promise<T>,
  ) => Promise<T>;
}

declare module "kafkajs/src/network/requestQueue/index.js" {
  import { EventEmitter } from "node:events";
  class RequestQueue extends EventEmitter {
    constructor(options: Record<string, unknown>);
    pending: unknown[];
    inflight: Map<number, unknown>;
    throttledUntil: number;
    throttleCheckTimeoutId: ReturnType<typeof setTimeout> | null;
    maxInFlightRequests: number | null;
    push(request: { entry: { correlationId: number }; expectResponse: boolean; sendRequest: () => void; requestTimeout?: number }): void;
    fulfillRequest(response: { correlationId: number; payload: Buffer; size: number }): void;
    maybeThrottle(clientSideThrottleTime: number | null): void;
    checkPendingRequests(): void;
    scheduleCheckPendingRequests(): void;
    destroy(): void;
  }
  export default RequestQueue;
}
