/**
 * A small metrics registry for a process's own figures: counters, a histogram with fixed buckets,
 * and families collected at scrape time from state owned elsewhere (a gauge of rows buffered, a
 * counter kept in a job's summary), formatted in registration order by prometheus/text.ts. Pure:
 * no I/O, no timers; whoever serves it decides when to format.
 *
 * Invariants: a metric name is registered once (a second registration is a bug and throws); a
 * counter never goes down; a histogram's buckets are fixed at registration, sorted, and written
 * cumulative with the `+Inf` bucket equal to `_count`.
 */
import { type Family, formatFamilies, type Labels, type MetricType, type Sample } from "./text.ts";

export interface Counter {
  /** Adds `by` (default 1, never negative) to the series with these labels. */
  inc(labels?: Labels, by?: number): void;
  value(labels?: Labels): number;
}

export interface Histogram {
  observe(value: number): void;
  readonly count: number;
  readonly sum: number;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

export class Registry {
  readonly #families = new Map<string, () => Family>();

  /**
   * A counter (its name ends in `_total`). `initial` lists label sets written as 0 before their
   * first increment, so a rate over them exists from the first scrape.
   */
  counter(name: string, help: string, initial: readonly Labels[] = [{}]): Counter {
    if (!name.endsWith("_total")) throw new Error(`counter ${name} must end in _total`);
    const series = new Map<string, { labels: Labels; value: number }>();
    for (const labels of initial) series.set(seriesKey(labels), { labels, value: 0 });
    this.#register(name, () => ({ name, help, type: "counter", samples: [...series.values()].map(({ labels, value }) => [labels, value] as const) }));
    return {
      inc(labels = {}, by = 1) {
        if (!(by >= 0)) throw new Error(`counter ${name} cannot go down (${by})`);
        const key = seriesKey(labels);
        const entry = series.get(key);
        if (entry) entry.value += by;
        else series.set(key, { labels, value: by });
      },
      value: (labels = {}) => series.get(seriesKey(labels))?.value ?? 0,
    };
  }

  /** A histogram of observations in fixed `buckets` (upper bounds; `+Inf` is added). */
  histogram(name: string, help: string, buckets: readonly number[]): Histogram {
    const bounds = [...buckets].sort((a, b) => a - b);
    if (bounds.some((bound, i) => !Number.isFinite(bound) || bound === bounds[i - 1])) throw new Error(`histogram ${name}: buckets must be finite and distinct`);
    const counts = new Array<number>(bounds.length).fill(0);
    let count = 0;
    let sum = 0;
    this.#register(name, () => {
      let cumulative = 0;
      const samples: Sample[] = bounds.map((bound, i) => {
        cumulative += counts[i]!;
        return [{ le: bound }, cumulative, "_bucket"] as const;
      });
      samples.push([{ le: "+Inf" }, count, "_bucket"], [{}, sum, "_sum"], [{}, count, "_count"]);
      return { name, help, type: "histogram", samples };
    });
    return {
      observe(value) {
        const i = bounds.findIndex((bound) => value <= bound);
        if (i >= 0) counts[i]!++;
        count++;
        sum += value;
      },
      get count() {
        return count;
      },
      get sum() {
        return sum;
      },
    };
  }

  /** A family whose samples are read when it is formatted, from state the registry does not own. */
  collect(name: string, help: string, type: Exclude<MetricType, "histogram">, samples: () => readonly Sample[]): void {
    if (type === "counter" && !name.endsWith("_total")) throw new Error(`counter ${name} must end in _total`);
    this.#register(name, () => ({ name, help, type, samples: samples() }));
  }

  /** Every family in registration order, in the text exposition format. */
  format(): string {
    return formatFamilies([...this.#families.values()].map((family) => family()));
  }

  #register(name: string, family: () => Family): void {
    if (!NAME.test(name)) throw new Error(`${name} is not a Prometheus metric name`);
    if (this.#families.has(name)) throw new Error(`metric ${name} is registered twice`);
    this.#families.set(name, family);
  }
}

/** A series' identity: its label names and values, in name order. */
function seriesKey(labels: Labels): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
