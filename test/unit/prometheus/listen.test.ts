import { describe, expect, test } from "bun:test";
import { UsageError } from "../../../src/errors.ts";
import { listen } from "../../../src/prometheus/listen.ts";

describe("serving over HTTP", () => {
  test("answers its routes on GET, 404 naming them for another path, 405 for another method", async () => {
    const server = listen({ hostname: "127.0.0.1", port: 0 }, { "/metrics": () => new Response("m 1\n"), "/healthz": () => Response.json({ status: "ok" }) });
    try {
      expect(await (await fetch(`${server.url}/metrics`)).text()).toBe("m 1\n");
      const missing = await fetch(`${server.url}/other`);
      expect(missing.status).toBe(404);
      expect(await missing.text()).toBe("not found: try /metrics or /healthz\n");
      expect((await fetch(`${server.url}/metrics`, { method: "POST" })).status).toBe(405);
    } finally {
      await server.stop();
    }
  });

  test("a port already taken is refused with one line naming the flag, the address and why", async () => {
    const first = listen({ hostname: "127.0.0.1", port: 0 }, {});
    try {
      const port = Number(new URL(first.url).port);
      let error: unknown;
      try {
        listen({ hostname: "127.0.0.1", port }, {});
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(UsageError);
      expect((error as UsageError).message).toBe(`--serve ${port} --host 127.0.0.1: cannot listen there: the port is already in use (another process listens on it; choose another port)`);
      expect((error as UsageError).message).not.toContain("\n");
    } finally {
      await first.stop();
    }
  });
});
