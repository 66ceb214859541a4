/**
 * scripts/hosts.sh: namespaces joined by a bridge on 198.18.0.0/24. A process in stream-clean host
 * c1 reaches a server bound to the S3 host's address, `cut s3` really cuts it and `heal s3` brings
 * it back; the machine's own namespace gains no address in the range; and a 3-node Kafka cluster,
 * node i inside b<i> on 198.18.0.1<i>:9092, takes records from and gives them back to kafkajs
 * running inside c1.
 *
 * Needs root and `ip netns`: elsewhere the file is skipped with a message saying why. The network
 * and the cluster are reused when they exist, and torn down at the end only when built here.
 * Nothing here sends a packet from the machine's own namespace to the range: that namespace has a
 * default route, and such a packet would leave the machine.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join, resolve } from "node:path";

const REPO = resolve(import.meta.dir, "../..");
const HOSTS = join(REPO, "scripts/hosts.sh");
const BUN = join(REPO, "node_modules/.bin/bun");
const S3_ADDRESS = "198.18.0.20";
const PROBE_PORT = 18080;

function why(): string | undefined {
  if (process.getuid?.() !== 0) return "not root";
  const probe = Bun.spawnSync(["ip", "netns", "list"], { stderr: "pipe" });
  if (probe.exitCode !== 0) return `'ip netns' does not work here: ${probe.stderr.toString().trim() || `exit ${probe.exitCode}`}`;
  return undefined;
}
const skipReason = why();
if (skipReason) console.warn(`hosts.test.ts skipped: ${skipReason} (network namespaces need root and iproute2)`);

async function run(args: string[], timeoutMs = 180_000) {
  const child = Bun.spawn(args, { stdout: "pipe", stderr: "pipe", timeout: timeoutMs });
  const [stdout, stderr, exitCode] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  return { exitCode, stdout, stderr };
}
const hostsSh = (...args: string[]) => run(["bash", HOSTS, ...args]);

/** From inside c1: the probe server's answer, or "unreachable: <error name>" after 1.5 s. */
async function fetchFromC1(): Promise<string> {
  const script = `const r = await fetch("http://${S3_ADDRESS}:${PROBE_PORT}/", { signal: AbortSignal.timeout(1500) }).then(async (r) => await r.text(), (e) => "unreachable: " + e.name); console.log(r);`;
  const result = await hostsSh("exec", "c1", BUN, "-e", script);
  expect(result.exitCode).toBe(0);
  return result.stdout.trim();
}

describe.skipIf(skipReason !== undefined)("hosts on their own addresses", () => {
  let builtHere = false;
  let kafkaStartedHere = false;
  let probe: ReturnType<typeof Bun.spawn> | undefined;

  beforeAll(async () => {
    if ((await hostsSh("status")).exitCode !== 0) {
      const up = await hostsSh("up");
      if (up.exitCode !== 0) throw new Error(`scripts/hosts.sh up failed (${up.exitCode}):\n${up.stderr}`);
      builtHere = true;
    }
    // A tiny HTTP server bound to the S3 host's address, inside its namespace.
    probe = Bun.spawn(["bash", HOSTS, "exec", "s3", BUN, "-e", `Bun.serve({ hostname: "${S3_ADDRESS}", port: ${PROBE_PORT}, fetch: () => new Response("s3 host") })`], {
      stdout: "ignore",
      stderr: "inherit",
    });
    for (let i = 0; i < 50 && (await fetchFromC1()) !== "s3 host"; i++) await Bun.sleep(100);
  }, 60_000);

  afterAll(async () => {
    probe?.kill();
    await probe?.exited;
    await hostsSh("heal", "s3");
    if (kafkaStartedHere) await hostsSh("kafka", "down");
    if (builtHere) await hostsSh("down");
  }, 120_000);

  test("a process in c1 reaches a server bound to the S3 host's address", async () => {
    expect(await fetchFromC1()).toBe("s3 host");
  });

  test("cut s3 makes it unreachable from c1, and heal s3 brings it back", async () => {
    expect((await hostsSh("cut", "s3")).exitCode).toBe(0);
    expect((await hostsSh("status")).exitCode).toBe(3);
    expect(await fetchFromC1()).toBe("unreachable: TimeoutError");
    expect((await hostsSh("heal", "s3")).exitCode).toBe(0);
    expect(await fetchFromC1()).toBe("s3 host");
  });

  test("the hosts have no default route and the machine's own namespace no address in the range", async () => {
    const routes = await hostsSh("exec", "c1", "ip", "-4", "route");
    expect(routes.stdout.trim()).toBe("198.18.0.0/24 dev eth0 proto kernel scope link src 198.18.0.31");
    const own = await run(["ip", "-4", "-o", "addr"]);
    expect(own.stdout).not.toContain("198.18.");
  });

  test("a 3-node Kafka cluster inside b1-b3 serves kafkajs running inside c1", async () => {
    if ((await hostsSh("kafka", "status")).exitCode !== 0) {
      const up = await hostsSh("kafka", "up");
      if (up.exitCode !== 0) throw new Error(`scripts/hosts.sh kafka up failed (${up.exitCode}):\n${up.stderr}`);
      kafkaStartedHere = true;
    }
    const topic = `hosts-${process.pid}-${Date.now().toString(36)}`;
    const client = await hostsSh("exec", "c1", BUN, join(import.meta.dir, "hosts-kafka-client.ts"), "198.18.0.11:9092", topic, "300");
    expect({ exitCode: client.exitCode, stderr: client.exitCode === 0 ? "" : client.stderr }).toEqual({ exitCode: 0, stderr: "" });
    expect(JSON.parse(client.stdout)).toEqual({
      produced: 300,
      consumed: 300,
      sum: (299 * 300) / 2,
      brokers: ["198.18.0.11:9092", "198.18.0.12:9092", "198.18.0.13:9092"],
    });
  }, 240_000);
});
