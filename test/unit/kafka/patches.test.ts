/**
 * The kafkajs patches refuse any kafkajs but the one they were written for, and package.json pins
 * exactly that version, so an upgrade is a deliberate change that re-reads every patch.
 */
import { describe, expect, test } from "bun:test";
import Broker from "kafkajs/src/broker/index.js";
import installedKafkajs from "kafkajs/package.json" with { type: "json" };
import packageJson from "../../../package.json" with { type: "json" };
import { DependencyError, ErrorCode } from "../../../src/errors.ts";
import { checkKafkajsVersion, installKafkajsPatches, PATCHED_KAFKAJS_VERSION } from "../../../src/kafka/patches.ts";

describe("kafkajs patches", () => {
  test("package.json pins kafkajs to exactly the version the patches were written for", () => {
    expect(packageJson.dependencies.kafkajs).toBe(PATCHED_KAFKAJS_VERSION);
    expect(installedKafkajs.version).toBe(PATCHED_KAFKAJS_VERSION);
  });

  test("another kafkajs version is refused with a dependency error naming both versions", () => {
    let failure: unknown;
    try {
      checkKafkajsVersion("2.3.0");
    } catch (error) {
      failure = error;
    }
    expect(failure).toBeInstanceOf(DependencyError);
    expect((failure as DependencyError).code).toBe(ErrorCode.dependency);
    expect((failure as DependencyError).message).toContain("2.3.0");
    expect((failure as DependencyError).message).toContain(PATCHED_KAFKAJS_VERSION);
  });

  test("the installed kafkajs is accepted and installing twice changes nothing the second time", () => {
    expect(() => checkKafkajsVersion()).not.toThrow();
    installKafkajsPatches();
    const patched = globalThis.setTimeout;
    const produce = Broker.prototype.produce;
    installKafkajsPatches();
    expect(globalThis.setTimeout).toBe(patched);
    expect(Broker.prototype.produce).toBe(produce);
    expect(produce.name).toBe("settledProduce");
    expect(Broker.prototype.addPartitionsToTxn.name).toBe("settledStep");
  });
});
