/**
 * The HTTP side of `--serve`, shared by every job that serves its metrics: Bun's own server with a
 * fixed set of GET routes (HEAD too), 405 for any other method, 404 naming the routes for any other
 * path. An address that cannot be listened on (the port taken, an address not of this host, a port
 * out of range) is refused with one line naming the flag and the address, before the job starts.
 */
import { UsageError } from "../errors.ts";

export interface ServeAddress {
  readonly hostname: string;
  /** 0: the system picks a free port (the announced URL says which). */
  readonly port: number;
}

/** Path → answer; each is called per request. */
export type Routes = Readonly<Record<string, () => Response | Promise<Response>>>;

export interface Listening {
  /** http://host:port, the port the system picked for port 0. */
  readonly url: string;
  stop(): Promise<void>;
}

export function listen(address: ServeAddress, routes: Routes): Listening {
  const paths = Object.keys(routes);
  let server: ReturnType<typeof Bun.serve>;
  try {
    server = Bun.serve({
      hostname: address.hostname,
      port: address.port,
      // An answer may wait for the brokers (bounded by the job), not Bun's 10 s idle default.
      idleTimeout: 0,
      fetch: async (request) => {
        if (request.method !== "GET" && request.method !== "HEAD") return new Response("only GET\n", { status: 405, headers: { allow: "GET, HEAD" } });
        const route = routes[new URL(request.url).pathname];
        return route ? await route() : new Response(`not found: try ${paths.join(" or ")}\n`, { status: 404 });
      },
    });
  } catch (error) {
    throw new UsageError(`--serve ${address.port} --host ${address.hostname}: cannot listen there: ${whyNot(error)}`, {
      context: { host: address.hostname, port: address.port },
      cause: error,
    });
  }
  const host = address.hostname.includes(":") ? `[${address.hostname}]` : address.hostname;
  return { url: `http://${host}:${server.port}`, stop: () => server.stop(true) };
}

function whyNot(error: unknown): string {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (code === "EADDRINUSE") return "the port is already in use (another process listens on it; choose another port)";
  if (code === "EADDRNOTAVAIL") return "the address is not one of this host's";
  if (code === "EACCES") return "permission denied (ports below 1024 need privileges)";
  if (code === "ERR_OUT_OF_RANGE") return "the port must be 0 to 65535";
  return (error as Error)?.message ?? String(error);
}
