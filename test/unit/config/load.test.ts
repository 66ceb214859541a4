import { describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadConfig } from "../../../src/config/load.ts";
import { formatConfig } from "../../../src/config/present.ts";
import { configSandbox, expectConfigError } from "./helpers.ts";

const { root, writeConfig, load } = configSandbox("config");

describe("config look-up", () => {
  test("--config wins over $KSTREAM_CONFIG and ./config/kstream.toml", () => {
    const flagFile = writeConfig('[topics]\ninput = "from_flag"\n', "flag");
    const envFile = writeConfig('[topics]\ninput = "from_env"\n', "env");
    const loaded = load(flagFile, { KSTREAM_CONFIG: envFile });
    expect(loaded.config.topics.input).toBe("from_flag");
    expect(loaded.file).toBe(flagFile);
  });

  test("$KSTREAM_CONFIG is used when no --config is given", () => {
    const envFile = writeConfig('[topics]\ninput = "from_env"\n', "env2");
    expect(loadConfig({ env: { KSTREAM_CONFIG: envFile }, cwd: root }).config.topics.input).toBe("from_env");
  });

  test("./config/kstream.toml under the working directory is the last resort", () => {
    const cwd = join(root, "project");
    mkdirSync(join(cwd, "config"), { recursive: true });
    writeFileSync(join(cwd, "config", "kstream.toml"), '[topics]\ninput = "from_cwd"\n');
    expect(loadConfig({ env: {}, cwd }).config.topics.input).toBe("from_cwd");
  });

  test("without any file the SPEC defaults apply", () => {
    const { config, file } = loadConfig({ env: {}, cwd: join(root, "empty") });
    expect(file).toBeUndefined();
    expect(config.kafka.brokers).toEqual(["127.0.0.1:9092"]);
    expect(config.topics).toMatchObject({ input: "test_input", staging: "test_staging", dead_letter: "test_input_dlq", partitions: 3 });
    expect(config.clean).toMatchObject({ group_id: "kstream-clean", file_max_rows: 100000, file_max_age: "30s", window: "5 minutes" });
    expect(config.rules).toMatchObject({ null_placeholder: "NULL", default_ip: "127.127.127.127" });
  });

  test("a --config file that does not exist is an error naming it", () => {
    const error = expectConfigError(() => load("missing.toml"));
    expect(error.message).toContain(join(root, "missing.toml"));
    expect(error.exitCode).toBe(2);
  });
});

describe("config validation", () => {
  test("an unknown key is refused with its key path and the file", () => {
    const file = writeConfig("[clean]\nfile_max_rowz = 10\n", "typo");
    const error = expectConfigError(() => load(file));
    expect(error.keyPath).toBe("clean.file_max_rowz");
    expect(error.message).toContain(file);
  });

  test("a value of the wrong type is refused with its key path", () => {
    const file = writeConfig('[topics]\npartitions = "three"\n', "type");
    const error = expectConfigError(() => load(file));
    expect(error.keyPath).toBe("topics.partitions");
  });

  test("a topic name Kafka would refuse (a path-like '..', a slash) is refused with its key path", () => {
    for (const name of ["..", ".", "a/b", "../etc"]) {
      const file = writeConfig(`[topics]\ninput = "${name}"\n`, `topic-${name.replace(/\W/g, "_")}`);
      expect(expectConfigError(() => load(file)).keyPath).toBe("topics.input");
    }
  });

  test("a duration that is not one is refused", () => {
    const file = writeConfig('[clean]\nfile_max_age = "soon"\n', "duration");
    expect(expectConfigError(() => load(file)).keyPath).toBe("clean.file_max_age");
  });

  test("a heartbeat timeout too short to tell a live producer from a killed one is refused", () => {
    const file = writeConfig('[ledger]\nheartbeat_timeout = "1s"\n', "heartbeat");
    const error = expectConfigError(() => load(file));
    expect(error.keyPath).toBe("ledger.heartbeat_timeout");
    expect(error.message).toContain("must be at least 2s");
  });

  test("a session timeout shorter than brokers accept by default is refused at load, not at the first join", () => {
    const file = writeConfig('[clean]\nsession_timeout = "3s"\n', "session");
    const error = expectConfigError(() => load(file));
    expect(error.keyPath).toBe("clean.session_timeout");
    expect(error.message).toContain("must be at least 6s");
  });

  test("every Kafka and Parquet codec name is accepted, with a level for zstd and gzip", () => {
    const file = writeConfig('[produce]\ncompression = "zstd"\n[clean]\nsend_compression = "snappy"\ncompression = "zstd"\ncompression_level = 19\n', "codecs");
    const { config } = loadConfig({ configFlag: file, env: { KSTREAM_CLEAN_SEND_COMPRESSION: "gzip" }, cwd: root });
    expect([config.produce.compression, config.clean.send_compression, config.clean.compression, config.clean.compression_level]).toEqual(["zstd", "gzip", "zstd", 19]);
  });

  test("a codec the broker does not know is refused with its key path", () => {
    const file = writeConfig('[clean]\nsend_compression = "brotli"\n', "bad-codec");
    const error = expectConfigError(() => loadConfig({ configFlag: file, env: {}, cwd: root }));
    expect(error.keyPath).toBe("clean.send_compression");
  });

  test("a Parquet level gzip cannot take, or a level for a codec without levels, is refused at clean.compression_level", () => {
    for (const [name, toml] of [
      ["gzip-level", 'compression = "gzip"\ncompression_level = 12'],
      ["snappy-level", 'compression = "snappy"\ncompression_level = 3'],
      ["zstd-level", 'compression = "zstd"\ncompression_level = 23'],
    ]) {
      const file = writeConfig(`[clean]\n${toml}\n`, name!);
      const error = expectConfigError(() => loadConfig({ configFlag: file, env: {}, cwd: root }));
      expect(error.keyPath).toBe("clean.compression_level");
    }
  });

  test("a TOML syntax error names file:line:col", () => {
    const file = writeConfig("[clean]\nfile_max_rows = = 3\n", "syntax");
    expect(expectConfigError(() => load(file)).message).toMatch(
      new RegExp(`${file.replaceAll("/", "\\/")}:2:\\d+`),
    );
  });

  test("a password written in the file is refused, pointing to the environment", () => {
    const file = writeConfig('[kafka.sasl]\nmechanism = "plain"\nusername = "u"\npassword = "hunter2"\n', "secret");
    const error = expectConfigError(() => load(file));
    expect(error.keyPath).toBe("kafka.sasl.password");
    expect(error.message).toContain("KSTREAM_KAFKA_SASL_PASSWORD");
    expect(error.message).not.toContain("hunter2");
  });
});

describe("environment and flag overrides", () => {
  test("KSTREAM_<SECTION>_<KEY> overrides the file, lists split on commas, numbers parsed", () => {
    const file = writeConfig('[kafka]\nbrokers = ["a:1"]\n[clean]\nfile_max_rows = 5\n', "env-over");
    const { config, origins } = load(file, { KSTREAM_KAFKA_BROKERS: "h1:9092, h2:9093", KSTREAM_CLEAN_FILE_MAX_ROWS: "7", KSTREAM_TOPICS_INPUT: "in" });
    expect(config.kafka.brokers).toEqual(["h1:9092", "h2:9093"]);
    expect(config.clean.file_max_rows).toBe(7);
    expect(config.topics.input).toBe("in");
    expect(origins["kafka.brokers"]).toBe("KSTREAM_KAFKA_BROKERS");
  });

  test("flags override the environment", () => {
    const { config } = loadConfig({ env: { KSTREAM_PRODUCE_RATE: "3" }, cwd: root, overrides: { produce: { rate: 9 } } });
    expect(config.produce.rate).toBe(9);
  });

  test("a bad environment value names the variable", () => {
    const error = expectConfigError(() => loadConfig({ env: { KSTREAM_TOPICS_PARTITIONS: "many" }, cwd: root }));
    expect(error.keyPath).toBe("topics.partitions");
    expect(error.message).toContain("KSTREAM_TOPICS_PARTITIONS");
  });

  test("a KSTREAM_ variable that names no key is reported as a warning", () => {
    const { warnings } = loadConfig({ env: { KSTREAM_KAFKA_BROKER: "x:1" }, cwd: root });
    expect(warnings.join("\n")).toContain("KSTREAM_KAFKA_BROKER");
  });
});

describe("paths", () => {
  test("relative paths in the file resolve against the file's folder, '-' stays stdin", () => {
    const file = writeConfig('[clean]\nparquet_dir = "../out/pq"\n[measure]\noutput = "-"\n', "paths");
    const { config } = loadConfig({ configFlag: file, env: {}, cwd: "/" });
    expect(config.clean.parquet_dir).toBe(join(root, "out", "pq"));
    expect(config.measure.output).toBe("-");
    expect(config.ledger.path).toBe(join(root, "paths", "out", "ledger.db"));
  });

  test("relative paths from the environment and flags resolve against the working directory", () => {
    const file = writeConfig("", "paths2");
    const { config } = loadConfig({
      configFlag: file,
      env: { KSTREAM_LEDGER_PATH: "l.db" },
      cwd: "/srv",
      overrides: { produce: { input: "in.ndjson" } },
    });
    expect(config.ledger.path).toBe("/srv/l.db");
    expect(config.produce.input).toBe("/srv/in.ndjson");
  });
});

describe("secrets", () => {
  test("the SASL password comes from the environment and is redacted when printed", () => {
    const file = writeConfig('[kafka.sasl]\nmechanism = "scram-sha-512"\nusername = "svc"\n', "sasl");
    const loaded = load(file, { KSTREAM_KAFKA_SASL_PASSWORD: "s3cr3t-pw" });
    expect(loaded.secrets.saslPassword).toBe("s3cr3t-pw");
    for (const format of ["toml", "json"] as const) {
      const printed = formatConfig(loaded, format);
      expect(printed).not.toContain("s3cr3t-pw");
      expect(printed).toContain("<redacted>");
    }
  });

  test("the SASL password can come from a file named in the config", () => {
    writeFileSync(join(root, "pw.txt"), "from-file\n");
    const file = writeConfig('[kafka.sasl]\nmechanism = "plain"\nusername = "svc"\npassword_file = "../pw.txt"\n', "sasl-file");
    expect(load(file).secrets.saslPassword).toBe("from-file");
  });
});
