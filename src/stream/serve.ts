/**
 * `stream-clean --serve PORT`: the process's own metrics at `GET /metrics` (Prometheus text
 * format, stream-metrics.ts) and its health at `GET /healthz` (health.ts: 200 `{"status":"ok"}`,
 * or 503 `{"status":"unavailable","reason":...}`, both with each assigned partition's state).
 * Answers from memory: a scrape never waits for Kafka.
 */
import { type Listening, listen, type ServeAddress } from "../prometheus/listen.ts";
import { PROMETHEUS_CONTENT_TYPE } from "../prometheus/text.ts";
import type { Health } from "./health.ts";
import type { StreamMetrics } from "./stream-metrics.ts";

/** Throws a UsageError when the address cannot be listened on (prometheus/listen.ts). */
export function serveStream(address: ServeAddress, metrics: StreamMetrics, health: () => Health): Listening {
  return listen(address, {
    "/metrics": () => new Response(metrics.format(), { headers: { "content-type": PROMETHEUS_CONTENT_TYPE } }),
    "/healthz": () => {
      const { status, reason, partitions } = health();
      return Response.json({ status: status === 200 ? "ok" : "unavailable", ...(reason !== undefined && { reason }), partitions }, { status });
    },
  });
}
