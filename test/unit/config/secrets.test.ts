/**
 * The secrets rule of the config (SPEC.md "Config file"): a SASL password or TLS key passphrase
 * comes only from its KSTREAM_* variable or a file named by <key>_file; written in clear text into
 * the config file it is refused with a ConfigError (exit 2) that names the key path, the file and
 * both accepted sources, and never repeats the secret. Printing the config redacts what was loaded.
 */
import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { formatConfig } from "../../../src/config/present.ts";
import { describeError, exitCodeOf } from "../../../src/errors.ts";
import { createKafka } from "../../../src/kafka/client.ts";
import { configSandbox, expectConfigError } from "./helpers.ts";

const { root, writeConfig, load } = configSandbox("secrets");

const SECRET = "Clear-Text-Pa55word!";

describe("a secret written in the config file", () => {
  test.each([
    ["kafka.sasl.password", '[kafka.sasl]\nmechanism = "scram-sha-512"\nusername = "svc"\npassword = "SECRET"\n', "KSTREAM_KAFKA_SASL_PASSWORD"],
    ["kafka.tls.key_password", '[kafka.tls]\nkey_file = "client.key"\nkey_password = "SECRET"\n', "KSTREAM_KAFKA_TLS_KEY_PASSWORD"],
  ])("%s is refused naming the key, the file, the variable and the _file key, not the value", (keyPath, toml, envName) => {
    const file = writeConfig(toml.replace("SECRET", SECRET));
    const error = expectConfigError(() => load(file));
    expect(error.keyPath).toBe(keyPath);
    expect(error.file).toBe(file);
    expect(exitCodeOf(error)).toBe(2);
    const line = describeError(error);
    expect(line.split("\n").length).toBe(1);
    expect(line.startsWith(`${keyPath}: `)).toBe(true);
    expect(line).toContain(envName);
    expect(line).toContain(`${keyPath}_file`);
    expect(line).toContain(file);
    expect(line).not.toContain(SECRET);
  });

  test("is refused even when the environment also provides the password (the file must be cleaned)", () => {
    const file = writeConfig(`[kafka.sasl]\nmechanism = "plain"\nusername = "svc"\npassword = "${SECRET}"\n`);
    const error = expectConfigError(() => load(file, { KSTREAM_KAFKA_SASL_PASSWORD: "from-env" }));
    expect(error.keyPath).toBe("kafka.sasl.password");
  });

  test("a private key pasted inline is refused, pointing to kafka.tls.key_file", () => {
    const pem = "-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\\n-----END PRIVATE KEY-----";
    const file = writeConfig(`[kafka.tls]\nkey = "${pem}"\n`);
    const error = expectConfigError(() => load(file));
    expect(error.keyPath).toBe("kafka.tls.key");
    expect(error.message).toContain("kafka.tls.key_file");
    expect(error.message).not.toContain("MIIEvQ");
  });

  test("an unknown secret-looking key is an unknown key, and its value is not echoed either", () => {
    const file = writeConfig(`[kafka]\nsasl_password = "${SECRET}"\n`);
    const error = expectConfigError(() => load(file));
    expect(error.message).toContain("kafka.sasl_password");
    expect(error.message).not.toContain(SECRET);
  });
});

describe("the accepted sources", () => {
  test("a password file's final newline is dropped; the environment wins over the file", () => {
    const passwordFile = join(root, "sasl.password");
    writeFileSync(passwordFile, "from-file\n");
    const file = writeConfig(`[kafka.sasl]\nmechanism = "scram-sha-256"\nusername = "svc"\npassword_file = "${passwordFile}"\n`);
    expect(load(file).secrets.saslPassword).toBe("from-file");
    expect(load(file, { KSTREAM_KAFKA_SASL_PASSWORD: "from-env" }).secrets.saslPassword).toBe("from-env");
  });

  test("the key passphrase comes from kafka.tls.key_password_file, relative to the config file", () => {
    const file = writeConfig('[kafka.tls]\nkey_file = "client.key"\nkey_password_file = "key.password"\n');
    writeFileSync(join(file, "..", "key.password"), "phrase\r\n");
    expect(load(file).secrets.tlsKeyPassword).toBe("phrase");
  });

  test("an unreadable password file names its key and path", () => {
    const file = writeConfig('[kafka.sasl]\nmechanism = "plain"\nusername = "svc"\npassword_file = "missing.password"\n');
    const error = expectConfigError(() => load(file));
    expect(error.keyPath).toBe("kafka.sasl.password_file");
    expect(error.message).toContain("missing.password");
    expect(error.message).toContain("ENOENT");
  });

  test("SASL without any password source is a ConfigError before connecting", () => {
    const file = writeConfig('[kafka.sasl]\nmechanism = "scram-sha-512"\nusername = "svc"\n');
    const loaded = load(file);
    const error = expectConfigError(() => createKafka(loaded.config, loaded.secrets));
    expect(error.message).toContain("KSTREAM_KAFKA_SASL_PASSWORD");
    expect(error.message).toContain("kafka.sasl.password_file");
  });
});

describe("kstream config output", () => {
  test("redacts the SASL password and the key passphrase, whichever source they came from", () => {
    const passwordFile = join(root, "redact.password");
    writeFileSync(passwordFile, `${SECRET}\n`);
    const file = writeConfig(
      `[kafka.sasl]\nmechanism = "plain"\nusername = "svc"\npassword_file = "${passwordFile}"\n[kafka.tls]\nkey_file = "k.pem"\n`,
    );
    for (const env of [{ KSTREAM_KAFKA_TLS_KEY_PASSWORD: `${SECRET}-key` }, { KSTREAM_KAFKA_SASL_PASSWORD: SECRET }]) {
      const loaded = load(file, env);
      for (const format of ["toml", "json"] as const) {
        const printed = formatConfig(loaded, format);
        expect(printed).not.toContain(SECRET);
        expect(printed).toContain("<redacted>");
      }
    }
  });
});
