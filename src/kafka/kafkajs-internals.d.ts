/** The parts of kafkajs' untyped internals that src/kafka/fast-encoding.ts, partitioned-messages.ts and coordinator-lookup.ts replace. */
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
    static sizeOfVarLong(value: unknown): number;
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
  }
}

declare module "kafkajs/src/protocol/error.js" {
  /** Every Kafka protocol error kafkajs knows, with whether the protocol says a retry may succeed. */
  export const errorCodes: readonly { type: string; code: number; retriable: boolean; message: string }[];
}
