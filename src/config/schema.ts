/**
 * The config file's valibot schema: the one source of the config's TypeScript type, of its
 * defaults, of the checks run at start-up and of the JSON Schema that `kstream config --schema`
 * prints for editors. Every key has a description; SPEC.md "Config file" is the contract.
 */
import * as v from "valibot";
import { validateDateFormat } from "../clean/rules.ts";
import { parseParquetLocation } from "../storage/location.ts";
import { S3Schema } from "../storage/s3-config.ts";
import { parseDuration } from "./duration.ts";

/** A bound on a duration: in milliseconds, and as the error message says it. */
interface DurationBound {
  ms: number;
  text: string;
}

const duration = (description: string, fallback: string, bounds: { min?: DurationBound; max?: DurationBound } = {}) => {
  const { min = { ms: Number.NEGATIVE_INFINITY, text: "" }, max = { ms: Number.POSITIVE_INFINITY, text: "" } } = bounds;
  return v.optional(
    v.pipe(
      v.string(),
      v.check((text) => parseDuration(text) !== undefined, 'expected a duration such as "30s", "5 minutes" or "1h"'),
      v.check((text) => (parseDuration(text) ?? 0) >= min.ms, `must be at least ${min.text}`),
      v.check((text) => (parseDuration(text) ?? 0) <= max.ms, `must be at most ${max.text}`),
      v.description(description),
    ),
    fallback,
  );
};

const text = (description: string, fallback: string) =>
  v.optional(v.pipe(v.string(), v.minLength(1, "must not be empty"), v.description(description)), fallback);

const count = (description: string, fallback: number, min = 1) =>
  v.optional(
    v.pipe(v.number(), v.integer("expected a whole number"), v.minValue(min, `must be at least ${min}`), v.description(description)),
    fallback,
  );

/** Kafka topic names: the broker's own rule, checked here so a typo fails before connecting. */
const topicName = (description: string, fallback: string) =>
  v.optional(
    v.pipe(
      v.string(),
      v.regex(/^[a-zA-Z0-9._-]{1,249}$/, "a topic name is 1-249 of a-z A-Z 0-9 . _ -"),
      // Kafka refuses these two; they would also name folders, not files, in a path.
      v.check((name) => name !== "." && name !== "..", 'a topic name cannot be "." or ".."'),
      v.description(description),
    ),
    fallback,
  );

/** Kafka record-batch codecs, by the names the Java client and librdkafka use (compression.type). */
export const KAFKA_CODECS = ["none", "gzip", "snappy", "lz4", "zstd"] as const;
/** Parquet page codecs kstream writes; LZ4_RAW is Parquet's block LZ4 (the older "LZ4" is deprecated). */
export const PARQUET_CODECS = ["snappy", "zstd", "gzip", "lz4_raw", "uncompressed"] as const;

const kafkaCompression = (description: string, fallback: (typeof KAFKA_CODECS)[number]) =>
  v.optional(v.pipe(v.picklist(KAFKA_CODECS), v.description(`${description}: ${KAFKA_CODECS.join(" | ")}`)), fallback);

const optionalPath = (description: string) => v.optional(v.pipe(v.string(), v.minLength(1), v.description(description)));

const SaslSchema = v.strictObject({
  mechanism: v.pipe(v.picklist(["plain", "scram-sha-256", "scram-sha-512"]), v.description("SASL mechanism")),
  username: v.pipe(v.string(), v.minLength(1), v.description("SASL user name")),
  password_file: optionalPath(
    "file holding the SASL password (the password itself comes only from this file or KSTREAM_KAFKA_SASL_PASSWORD)",
  ),
});

const TlsSchema = v.strictObject({
  enabled: v.optional(v.pipe(v.boolean(), v.description("connect with TLS")), true),
  ca_file: optionalPath("PEM file of the certificate authorities to trust (default: the system's)"),
  cert_file: optionalPath("PEM client certificate, for mutual TLS"),
  key_file: optionalPath("PEM private key of the client certificate, for mutual TLS"),
  key_password_file: optionalPath("file holding the private key's passphrase (or KSTREAM_KAFKA_TLS_KEY_PASSWORD)"),
  reject_unauthorized: v.optional(v.pipe(v.boolean(), v.description("verify the broker's certificate")), true),
});

export const KafkaSchema = v.strictObject({
  brokers: v.optional(
    v.pipe(
      v.array(v.pipe(v.string(), v.regex(/^[^\s:]+:\d{1,5}$/, 'expected "host:port"'))),
      v.minLength(1, "at least one broker"),
      v.description("bootstrap brokers, host:port"),
    ),
    ["127.0.0.1:9092"],
  ),
  client_id: text("client id the brokers see in their logs and quotas", "kstream"),
  connection_timeout: duration("how long to wait for a TCP connection to a broker", "10s"),
  request_timeout: duration("how long to wait for a broker's answer to one request", "30s"),
  retry_limit: duration(
    "how long kstream keeps retrying while the brokers are unreachable before it gives up with exit 1",
    "2 minutes",
  ),
  sasl: v.optional(SaslSchema),
  tls: v.optional(TlsSchema),
});

export const TopicsSchema = v.strictObject({
  input: topicName("topic the producer writes and stream-clean reads", "test_input"),
  staging: topicName("topic of window-grouped cleaned records, read by batch-measure", "test_staging"),
  dead_letter: topicName("topic of messages that could not be cleaned", "test_input_dlq"),
  partitions: count("partitions of each topic kstream creates", 3),
  replication_factor: count("replication factor of each topic kstream creates", 1),
});

export const ProduceSchema = v.strictObject({
  name: text("producer name recorded in the ledger (recon --producer NAME)", "producer"),
  input: text('JSON array or NDJSON file to publish (.gz read decompressed; "-" is stdin)', "data/sample.ndjson"),
  rate: v.optional(
    v.pipe(v.number(), v.minValue(0, "must be 0 or more"), v.description("messages per second; 0 = as fast as the broker takes them")),
    0,
  ),
  compression: kafkaCompression("compression of the record batches produce writes to the input topic", "zstd"),
  batch_size: count(
    "messages per produce request, at most 512 KiB of input per partition and 2 MiB in all (10000: fewer round trips and ledger writes per record; README \"Performance\")",
    10_000,
  ),
  heap_target_mb: count(
    "memory the JavaScript heap's garbage collector aims to stay within, in MB, for the threads that scan and send (it sizes itself to the machine's RAM otherwise)",
    256,
    64,
  ),
  scan_worker: v.optional(
    v.pipe(
      v.boolean(),
      v.description("read and scan an input file on a second thread, beside the one that sends (default: true on two or more cores; stdin is always read on the main thread)"),
    ),
  ),
});

export const CleanSchema = v.strictObject({
  group_id: text("consumer group of stream-clean", "kstream-clean"),
  parquet_dir: v.optional(
    v.pipe(
      v.string(),
      v.minLength(1, "must not be empty"),
      v.rawCheck(({ dataset, addIssue }) => {
        const location = dataset.typed ? parseParquetLocation(dataset.value) : undefined;
        if (typeof location === "string") addIssue({ message: location });
      }),
      v.description('where the Parquet output goes (ingest_date=YYYY-MM-DD/ below it): a folder, or "s3://bucket/prefix" (see [s3])'),
    ),
    "out/parquet",
  ),
  file_max_rows: count("a Parquet file is closed once it holds this many rows", 100_000),
  // A cycle is one Kafka transaction, which the broker aborts after transaction.max.timeout.ms (15 min by default).
  heap_target_mb: count(
    "memory the JavaScript heap's garbage collector aims to stay within, in MB (it sizes itself to the machine's RAM otherwise)",
    224,
    64,
  ),
  workers: v.optional(
    v.pipe(
      v.number(),
      v.integer("expected a whole number"),
      v.minValue(0, "must be at least 0"),
      v.description(
        "threads that clean records and encode Parquet beside the one that talks to Kafka (0: all in one thread; default: 0 on one or two cores, else the cores minus one)",
      ),
    ),
  ),
  max_buffered_rows: count(
    "rows held in memory across all partitions of one process; past it the fullest partition's file is closed early (bounds memory whatever the partition count)",
    100_000,
  ),
  file_max_age: duration(
    "a Parquet file is closed this long after its first row, even when no new record arrives (at most 10 minutes: one file is one Kafka transaction)",
    "30s",
    { max: { ms: 10 * 60_000, text: "10 minutes (a cycle is one Kafka transaction, which brokers cap at 15 minutes)" } },
  ),
  session_timeout: duration(
    "how long the group waits for a silent stream-clean process before giving its partitions to another (6s to 5 minutes)",
    "30s",
    {
      // Below the brokers' default group.min.session.timeout.ms, every join is refused at run time.
      min: { ms: 6_000, text: "6s (brokers refuse shorter sessions by default: group.min.session.timeout.ms)" },
      max: { ms: 5 * 60_000, text: "5 minutes" },
    },
  ),
  window: duration("size of the tumbling time windows of the staging topic and the measures", "5 minutes"),
  compression: v.optional(
    v.pipe(v.picklist(PARQUET_CODECS), v.description("Parquet page compression")),
    "snappy",
  ),
  compression_level: v.optional(
    v.pipe(
      v.number(),
      v.integer("expected a whole number"),
      v.minValue(1, "must be at least 1"),
      v.maxValue(22, "must be at most 22 (zstd's highest level)"),
      v.description("level of clean.compression: zstd 1-22 (default 3), gzip 1-9 (default 6); the other codecs have none"),
    ),
  ),
  send_compression: kafkaCompression("compression of the batches stream-clean sends to the staging and dead-letter topics", "zstd"),
});

/** Parquet levels: what the gzip codec accepts is narrower than zstd's range the key allows. */
const CleanSchemaChecked = v.pipe(
  CleanSchema,
  v.forward(
    v.check(
      (clean) => clean.compression_level === undefined || clean.compression !== "gzip" || clean.compression_level <= 9,
      "gzip levels are 1-9",
    ),
    ["compression_level"],
  ),
  v.forward(
    v.check(
      (clean) => clean.compression_level === undefined || clean.compression === "zstd" || clean.compression === "gzip",
      "only the zstd and gzip codecs have a level: set clean.compression to one of them or remove the level",
    ),
    ["compression_level"],
  ),
);

export const MeasureSchema = v.strictObject({
  output: text('CSV file of the measures per window ("-" is stdout)', "out/measures.csv"),
});

export const CompactSchema = v.strictObject({
  min_age: duration(
    "kstream compact merges a folder ingest_date=D only once day D (UTC) ended this long ago; whatever the age, only files wholly below the group's committed offset",
    "2 days",
    { min: { ms: 3_600_000, text: "1 hour (late records keep landing in the folders of the last hours)" } },
  ),
  target_size_mb: count("kstream compact merges a partition's files of one folder into files of about this many MB", 128),
});

export const LedgerSchema = v.strictObject({
  path: text("sqlite database of producer runs and acknowledged offsets", "out/ledger.db"),
  lock_timeout: duration(
    "how long a ledger write waits while another process holds the database before the run stops with exit 1",
    "10s",
  ),
  heartbeat_timeout: duration(
    "a running produce run whose producer wrote no heartbeat for this long is taken for dead (killed) by recon: marked failed, its unanswered requests settled",
    "1m",
    { min: { ms: 2_000, text: "2s (produce writes a heartbeat every sixth of it, at most every 10 s)" } },
  ),
  job_wait: duration(
    "how long a run of a job that keeps state in the ledger (batch-measure --since-last, compact) waits for another run of it to finish before it refuses with exit 4",
    "1m",
  ),
});

export const RulesSchema = v.strictObject({
  null_placeholder: v.optional(
    v.pipe(v.string(), v.description("written for a missing first_name or email")),
    "NULL",
  ),
  default_ip: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/, "expected a dotted-quad IPv4 address"),
      v.description("written for an ip_address that is not a dotted-quad IPv4 address"),
    ),
    "127.127.127.127",
  ),
  date_formats: v.optional(
    v.pipe(
      v.array(v.pipe(v.string(), v.rawCheck(({ dataset, addIssue }) => {
        const problem = dataset.typed ? validateDateFormat(dataset.value) : undefined;
        if (problem) addIssue({ message: problem });
      }))),
      v.minLength(1, "at least one date format"),
      v.description("accepted date forms (tokens d dd M MM yyyy); output is always dd/MM/yyyy"),
    ),
    ["d/M/yyyy", "yyyy-MM-dd"],
  ),
});

/** The [s3] table: where the store is and how to sign (storage/s3-config.ts), and how patient to be with it. */
export const S3ConfigSchema = v.strictObject({
  ...S3Schema.entries,
  request_timeout: duration("how long one S3 request may go unanswered before it is tried again", "30s", { min: { ms: 1_000, text: "1s" } }),
  retry_limit: duration(
    "how long kstream keeps retrying while the S3 store is unreachable or failing (HTTP 5xx) before it gives up with exit 1",
    "2 minutes",
  ),
  part_size_mb: count("a Parquet file of at least this many MB goes up as a multipart upload in parts of this size (S3's minimum is 5)", 8, 5),
});

export const ConfigSchema = v.strictObject({
  kafka: v.optional(KafkaSchema, {}),
  topics: v.optional(TopicsSchema, {}),
  produce: v.optional(ProduceSchema, {}),
  clean: v.optional(CleanSchemaChecked, {}),
  measure: v.optional(MeasureSchema, {}),
  compact: v.optional(CompactSchema, {}),
  ledger: v.optional(LedgerSchema, {}),
  rules: v.optional(RulesSchema, {}),
  s3: v.optional(S3ConfigSchema, {}),
});

export type Config = v.InferOutput<typeof ConfigSchema>;

/**
 * Keys holding file paths: relative values resolve against the config file's folder. "-" means
 * stdin/stdout; a URL (clean.parquet_dir = "s3://…") is not a path and stays as written.
 */
export const PATH_KEYS = [
  "produce.input",
  "clean.parquet_dir",
  "measure.output",
  "ledger.path",
  "kafka.sasl.password_file",
  "kafka.tls.ca_file",
  "kafka.tls.cert_file",
  "kafka.tls.key_file",
  "kafka.tls.key_password_file",
  "s3.secret_access_key_file",
] as const;

/** Secrets: only from the environment or a file, never from the config file, always redacted. */
export const SECRET_ENV = {
  "kafka.sasl.password": "KSTREAM_KAFKA_SASL_PASSWORD",
  "kafka.tls.key_password": "KSTREAM_KAFKA_TLS_KEY_PASSWORD",
  // The name every S3 tool reads (resolved in storage/s3-config.ts).
  "s3.secret_access_key": "AWS_SECRET_ACCESS_KEY",
} as const;
