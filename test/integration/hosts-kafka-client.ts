/**
 * Run inside a host of scripts/hosts.sh (ip netns exec kstream-c1 bun this-file BROKERS TOPIC N):
 * creates TOPIC with 3 replicas, produces N records with acks=all, reads them back with a consumer
 * group, and prints {"produced":N,"consumed":M,"sum":S,"brokers":[...]} as one JSON line.
 * It runs where only the namespaced network exists, so reaching the cluster proves the brokers
 * answer on their own addresses and advertise those addresses.
 */
import { Kafka, logLevel } from "kafkajs";

const [brokerList = "", topic = "", countText = "100"] = process.argv.slice(2);
const count = Number(countText);
const kafka = new Kafka({ clientId: "kstream-hosts-test", brokers: brokerList.split(","), logLevel: logLevel.NOTHING, retry: { retries: 8 } });

const admin = kafka.admin();
await admin.connect();
await admin.createTopics({ topics: [{ topic, numPartitions: 3, replicationFactor: 3 }], waitForLeaders: true });
const cluster = await admin.describeCluster();
await admin.disconnect();

const producer = kafka.producer({ idempotent: true });
await producer.connect();
await producer.send({ topic, acks: -1, messages: Array.from({ length: count }, (_, i) => ({ key: String(i), value: String(i) })) });
await producer.disconnect();

const consumer = kafka.consumer({ groupId: `${topic}-group` });
await consumer.connect();
await consumer.subscribe({ topic, fromBeginning: true });
let consumed = 0;
let sum = 0;
await new Promise<void>((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error(`consumed ${consumed} of ${count} within 60 s`)), 60_000);
  consumer
    .run({
      eachMessage: async ({ message }) => {
        consumed++;
        sum += Number(message.value?.toString());
        if (consumed >= count) {
          clearTimeout(timer);
          resolve();
        }
      },
    })
    .catch(reject);
});
await consumer.disconnect();
console.log(JSON.stringify({ produced: count, consumed, sum, brokers: cluster.brokers.map((b) => `${b.host}:${b.port}`).sort() }));
