import { describe, expect, test } from "bun:test";
import { KafkaJSConnectionError, KafkaJSNumberOfRetriesExceeded } from "kafkajs";
import { KafkaError } from "../../../src/errors.ts";
import { hintFor, toKafkaError } from "../../../src/kafka/errors.ts";

describe("toKafkaError", () => {
  test("names what was being done, the context and kafkajs' own message, and keeps its retriable flag", () => {
    const cause = Object.assign(new Error("This server is not the leader for that topic-partition"), { retriable: true });
    const error = toKafkaError(cause, "produce failed", { brokers: "127.0.0.1:9092", topic: "users", partition: undefined });
    expect(error).toBeInstanceOf(KafkaError);
    expect(error.message).toBe("produce failed (brokers 127.0.0.1:9092, topic users): This server is not the leader for that topic-partition");
    expect(error.retriable).toBe(true);
  });

  test("reports the socket's error rather than kafkajs' wrapper when there is one", () => {
    const cause = Object.assign(new Error("Connection error"), { originalError: new Error("self-signed certificate in certificate chain") });
    const error = toKafkaError(cause, "cannot connect the producer");
    expect(error.message).toStartWith("cannot connect the producer: self-signed certificate in certificate chain (");
    expect(error.message).toContain("set kafka.tls.ca_file");
    expect(error.retriable).toBe(false);
  });

  test("names the broker a failed connection was to, even when kafkajs wrapped it after its retries", () => {
    const closed = new KafkaJSConnectionError("Closed connection", { broker: "127.0.0.1:19500" });
    const exhausted = new KafkaJSNumberOfRetriesExceeded(closed, { retryCount: 5, retryTime: 3000 });
    const error = toKafkaError(exhausted, "cannot start the transactional producer", { topic: "users", partition: 1 });
    expect(error.message).toBe("cannot start the transactional producer (topic users, partition 1, broker 127.0.0.1:19500): Closed connection");
    expect(error.context).toMatchObject({ broker: "127.0.0.1:19500" });
  });

  test("does not name one broker where the context already names the brokers", () => {
    const closed = new KafkaJSConnectionError("Closed connection", { broker: "127.0.0.1:19500" });
    expect(toKafkaError(closed, "produce failed", { brokers: "127.0.0.1:19500" }).message).toBe("produce failed (brokers 127.0.0.1:19500): Closed connection");
  });

  test("passes a KafkaError through unchanged", () => {
    const original = new KafkaError("already explained", { context: {}, retriable: false });
    expect(toKafkaError(original, "something else")).toBe(original);
  });
});

describe("hintFor", () => {
  test.each([
    "self-signed certificate in certificate chain",
    "self signed certificate",
    "unable to get local issuer certificate",
    "unable to verify the first certificate",
  ])("an untrusted broker certificate (%s) points at kafka.tls.ca_file", (text) => {
    expect(hintFor(text)).toContain("kafka.tls.ca_file");
  });

  test("a certificate for another host says to connect by a name it lists", () => {
    expect(hintFor("Hostname/IP does not match certificate's altnames: IP: 10.0.0.1 is not in the cert's list")).toContain("kafka.brokers");
  });

  test("an expired certificate says so", () => {
    expect(hintFor("certificate has expired")).toContain("validity");
  });

  test("errors that already say what to do get no hint", () => {
    expect(hintFor("connect ECONNREFUSED 127.0.0.1:9092")).toBeUndefined();
    expect(hintFor("SASL SCRAM SHA256 authentication failed: Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-256")).toBeUndefined();
  });
});
