/**
 * `kstream metrics --serve PORT`: Bun's own HTTP server with `/metrics` (a fresh report in the
 * Prometheus text format on every scrape) and `/healthz` (200 when the brokers answer, 503 with
 * the reason when not; with thresholds, also 503 while a fresh report breaches one), for
 * Prometheus to scrape kstream directly and for a load balancer or orchestrator to probe it.
 */
import { describeError } from "../errors.ts";
import { type Listening, listen } from "../prometheus/listen.ts";
import { log } from "../ui/log.ts";
import { formatPrometheus, PROMETHEUS_CONTENT_TYPE } from "./format-prometheus.ts";
import type { Observer } from "./run.ts";

export interface ServeOptions {
  readonly hostname: string;
  readonly port: number;
  /** --fail-if-* flags were given: /healthz judges a fresh report, not just the brokers' answer. */
  readonly thresholds: boolean;
}

/** Throws a UsageError when the address cannot be listened on (prometheus/listen.ts). */
export function serveMetrics(observer: Observer, options: ServeOptions): Listening {
  return listen(options, {
    "/metrics": async () => {
      try {
        return new Response(formatPrometheus(await observer.observe()), { headers: { "content-type": PROMETHEUS_CONTENT_TYPE } });
      } catch (error) {
        log.warn(`scrape failed: ${describeError(error)}`);
        return new Response(`# scrape failed: ${describeError(error).replace(/\n/g, " ")}\n`, { status: 503, headers: { "content-type": PROMETHEUS_CONTENT_TYPE } });
      }
    },
    "/healthz": async () => {
      try {
        if (options.thresholds) {
          const report = await observer.observe();
          const body = { brokers: report.cluster.brokers.length, controller_id: report.cluster.controller_id, breaches: report.breaches };
          return Response.json({ status: report.breaches.length ? "breached" : "ok", ...body }, { status: report.breaches.length ? 503 : 200 });
        }
        const health = await observer.health();
        return Response.json({ status: "ok", brokers: health.brokers, controller_id: health.controllerId });
      } catch (error) {
        return Response.json({ status: "unavailable", error: describeError(error) }, { status: 503 });
      }
    },
  });
}
