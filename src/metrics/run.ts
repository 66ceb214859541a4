/**
 * The `kstream metrics` job: an observer that keeps one admin connection and the previous sample,
 * so every report has rates (two samples `interval` apart the first time, then the previous
 * report's sample), lag in seconds from real record timestamps, the samples of the status window
 * (group statuses), the thresholds' breaches, and a bounded wait: brokers that do not answer
 * within the timeout end the report with a KafkaError instead of a hang.
 */
import type { Admin, Kafka } from "kafkajs";
import { KafkaError } from "../errors.ts";
import { readRecordTimestamps } from "../kafka/record-timestamps.ts";
import { log } from "../ui/log.ts";
import { shutdownSignal } from "../ui/shutdown.ts";
import { resolveSelection, type Selection, takeSample } from "./collect.ts";
import { findBreaches, type Thresholds } from "./health.ts";
import { buildReport, oldestUnconsumed } from "./report.ts";
import type { MetricsReport, Sample } from "./types.ts";

export interface ObserverOptions {
  readonly selection: Selection;
  /** Time between the two samples rates come from, when there is no earlier sample. */
  readonly intervalMs: number;
  /** The longest one report may take, connecting included. */
  readonly timeoutMs: number;
  /** For the timeout message: which brokers did not answer. */
  readonly brokers: readonly string[];
  /** How far back group statuses look: samples older than this are dropped. */
  readonly statusWindowMs: number;
  readonly thresholds: Thresholds;
}

export interface Observer {
  observe(): Promise<MetricsReport>;
  /** A cheap question to the cluster (for /healthz): its broker count, or a KafkaError. */
  health(): Promise<{ brokers: number; controllerId: number | null }>;
  close(): Promise<void>;
}

/** A previous sample older than this gives rates over too long a span to mean "now". */
const STALE_SAMPLE_MS = 10 * 60_000;

export function createObserver(kafka: Kafka, options: ObserverOptions): Observer {
  let admin: Admin | undefined;
  let previous: Sample | undefined;
  // Samples within the status window before the current one, oldest first.
  let window: Sample[] = [];
  // Reports are taken one at a time (scrapes may overlap); each waits for the one before.
  let queue: Promise<unknown> = Promise.resolve();

  const connected = async (): Promise<Admin> => {
    if (admin) return admin;
    const fresh = kafka.admin();
    await fresh.connect();
    admin = fresh;
    return fresh;
  };
  // After a failure the connection may be half-open; the next report starts from a new one.
  const reset = () => {
    const old = admin;
    admin = undefined;
    void old?.disconnect().catch(() => undefined);
  };

  const bounded = <T>(work: () => Promise<T>): Promise<T> => {
    const run = queue.then(() => withTimeout(work(), options.timeoutMs, options.brokers)).catch((error) => {
      reset();
      throw error;
    });
    queue = run.catch(() => undefined);
    return run;
  };

  return {
    observe: () =>
      bounded(async () => {
        const started = Date.now();
        const client = await connected();
        const selected = await resolveSelection(client, options.selection);
        for (const missing of selected.absent) log.warn(`${missing} does not exist (yet); left out`);
        let current = await takeSample(client, selected);
        if (!previous || current.takenAt - previous.takenAt > STALE_SAMPLE_MS) {
          previous = current;
          window = [];
          await sleep(options.intervalMs);
          current = await takeSample(client, selected);
        }
        window = [...window, previous].filter((sample) => current.takenAt - sample.takenAt <= options.statusWindowMs);
        // Two samples at least, however short the window: rates and movement need them.
        if (window.length === 0) window = [previous];
        const positions = current.groups.flatMap((group) => oldestUnconsumed(group, current));
        // What is left of the time budget, keeping a margin to build and print the report.
        const budget = Math.max(500, Math.min(10_000, options.timeoutMs - (Date.now() - started) - 500));
        const timestamps = await readRecordTimestamps(kafka, positions, budget);
        const report = buildReport({ previous, current, topics: selected.topics, timestamps, window });
        report.breaches = findBreaches(report, options.thresholds, selected.absentGroups);
        previous = current;
        return report;
      }),
    health: () =>
      bounded(async () => {
        const cluster = await (await connected()).describeCluster();
        return { brokers: cluster.brokers.length, controllerId: cluster.controller ?? null };
      }),
    close: async () => {
      await queue;
      await admin?.disconnect().catch(() => undefined);
      admin = undefined;
    },
  };
}

/** Calls `render` with a fresh report every `everyMs` until shutdown (Ctrl-C, SIGTERM). */
export async function watchReports(observer: Observer, everyMs: number, render: (report: MetricsReport) => Promise<void>): Promise<void> {
  while (!shutdownSignal.aborted) {
    const started = Date.now();
    await render(await observer.observe());
    await sleep(Math.max(0, everyMs - (Date.now() - started)));
  }
}

async function withTimeout<T>(work: Promise<T>, timeoutMs: number, brokers: readonly string[]): Promise<T> {
  let timer: Timer | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new KafkaError(`no answer from ${brokers.join(", ")} within ${timeoutMs / 1000} s (--timeout); is the cluster up and reachable?`, {
            context: { brokers: brokers.join(",") },
            retriable: true,
          }),
        ),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Sleeps, cut short by shutdown so Ctrl-C never waits out an interval. */
function sleep(ms: number): Promise<void> {
  if (ms <= 0 || shutdownSignal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      shutdownSignal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    shutdownSignal.addEventListener("abort", done, { once: true });
  });
}
