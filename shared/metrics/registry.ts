/**
 * A small Prometheus registry for both agents' GET /metrics (text exposition format 0.0.4):
 * counters, gauges and histograms with fixed buckets, labels given per observation, and
 * collected metrics whose values are read from their owner at scrape time (a count some
 * component already keeps becomes a metric in one line, without the component knowing about
 * metrics). Label values are escaped, and the number of label combinations per metric is capped
 * so a hostile label value cannot grow memory without bound.
 */
import { AgentError, FaultCode } from "../errors.ts";

export type Labels = Readonly<Record<string, string>>;

/** What a collected metric reads at scrape time: one value, or one per label set. */
export type Sample = number | Iterable<readonly [Labels, number]>;

/** The exposition format's content type (GET /metrics answers with it). */
export const EXPOSITION_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

const MAX_SERIES_PER_METRIC = 1000;

/** Latency buckets in seconds: 50 µs to 10 s. */
export const LATENCY_BUCKETS_S = [
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
  5, 10,
] as const;

type MetricType = "counter" | "gauge" | "histogram";

interface Series {
  readonly labels: Labels;
  value: number;
  buckets?: number[];
  sum?: number;
}

abstract class Metric {
  readonly name: string;
  readonly help: string;
  protected readonly series = new Map<string, Series>();

  constructor(name: string, help: string) {
    this.name = name;
    this.help = help;
  }

  abstract readonly type: MetricType;

  protected at(labels: Labels): Series | undefined {
    const key = labelKey(labels);
    let entry = this.series.get(key);
    if (entry === undefined) {
      if (this.series.size >= MAX_SERIES_PER_METRIC) return undefined;
      entry = { labels, value: 0 };
      this.series.set(key, entry);
    }
    return entry;
  }

  abstract render(): string[];
}

export class Counter extends Metric {
  readonly type = "counter" as const;

  inc(labels: Labels = {}, by = 1): void {
    const entry = this.at(labels);
    if (entry !== undefined) entry.value += by;
  }

  get(labels: Labels = {}): number {
    return this.series.get(labelKey(labels))?.value ?? 0;
  }

  render(): string[] {
    return [...this.series.values()].map(
      (entry) => `${this.name}${formatLabels(entry.labels)} ${formatValue(entry.value)}`,
    );
  }
}

export class Gauge extends Metric {
  readonly type = "gauge" as const;

  set(value: number, labels: Labels = {}): void {
    const entry = this.at(labels);
    if (entry !== undefined) entry.value = value;
  }

  get(labels: Labels = {}): number | undefined {
    return this.series.get(labelKey(labels))?.value;
  }

  /** Forget a label set (a gateway removed, a symbol no longer watched). */
  remove(labels: Labels = {}): void {
    this.series.delete(labelKey(labels));
  }

  render(): string[] {
    return [...this.series.values()].map(
      (entry) => `${this.name}${formatLabels(entry.labels)} ${formatValue(entry.value)}`,
    );
  }
}

/** A counter or gauge whose values belong to someone else and are read at scrape time. */
export class Collected extends Metric {
  readonly type: "counter" | "gauge";
  readonly #read: () => Sample;

  constructor(name: string, help: string, type: "counter" | "gauge", read: () => Sample) {
    super(name, help);
    this.type = type;
    this.#read = read;
  }

  render(): string[] {
    const sample = this.#read();
    if (typeof sample === "number") return [`${this.name} ${formatValue(sample)}`];
    const lines: string[] = [];
    for (const [labels, value] of sample) {
      if (lines.length >= MAX_SERIES_PER_METRIC) break;
      lines.push(`${this.name}${formatLabels(labels)} ${formatValue(value)}`);
    }
    return lines;
  }
}

/** A histogram's state for one label set (Histogram.snapshot). */
export interface HistogramSnapshot {
  readonly bounds: readonly number[];
  /** Cumulative: observations ≤ bounds[i]. */
  readonly counts: readonly number[];
  readonly count: number;
  readonly sum: number;
}

export class Histogram extends Metric {
  readonly type = "histogram" as const;
  readonly #bounds: readonly number[];

  constructor(name: string, help: string, bounds: readonly number[] = LATENCY_BUCKETS_S) {
    super(name, help);
    this.#bounds = bounds;
  }

  observe(value: number, labels: Labels = {}): void {
    const entry = this.at(labels);
    if (entry === undefined) return;
    entry.buckets ??= new Array(this.#bounds.length).fill(0);
    entry.sum = (entry.sum ?? 0) + value;
    entry.value += 1;
    for (let i = 0; i < this.#bounds.length; i++) {
      if (value <= (this.#bounds[i] as number))
        (entry.buckets as number[])[i] = ((entry.buckets as number[])[i] as number) + 1;
    }
  }

  /**
   * One label set's buckets as they stand, for readers other than the scraper (the dashboard):
   * `counts[i]` is how many observations were ≤ `bounds[i]` (cumulative, as exposed), and
   * `count` all of them (the +Inf bucket).
   */
  snapshot(labels: Labels = {}): HistogramSnapshot {
    const entry = this.series.get(labelKey(labels));
    return {
      bounds: this.#bounds,
      counts: this.#bounds.map((_, i) => entry?.buckets?.[i] ?? 0),
      count: entry?.value ?? 0,
      sum: entry?.sum ?? 0,
    };
  }

  render(): string[] {
    const lines: string[] = [];
    for (const entry of this.series.values()) {
      this.#bounds.forEach((bound, i) => {
        lines.push(
          `${this.name}_bucket${formatLabels({ ...entry.labels, le: String(bound) })} ${entry.buckets?.[i] ?? 0}`,
        );
      });
      lines.push(
        `${this.name}_bucket${formatLabels({ ...entry.labels, le: "+Inf" })} ${entry.value}`,
      );
      lines.push(`${this.name}_sum${formatLabels(entry.labels)} ${formatValue(entry.sum ?? 0)}`);
      lines.push(`${this.name}_count${formatLabels(entry.labels)} ${entry.value}`);
    }
    return lines;
  }
}

export class Registry {
  readonly #metrics: Metric[] = [];

  counter(name: string, help: string): Counter {
    return this.#add(new Counter(name, help));
  }

  gauge(name: string, help: string): Gauge {
    return this.#add(new Gauge(name, help));
  }

  histogram(name: string, help: string, bounds?: readonly number[]): Histogram {
    return this.#add(new Histogram(name, help, bounds));
  }

  /**
   * A metric read from its owner when scraped: `collect("x_total", "...", "counter", () =>
   * server.refusals)`. A reader that throws costs that metric's lines, not the scrape.
   */
  collect(name: string, help: string, type: "counter" | "gauge", read: () => Sample): Collected {
    return this.#add(new Collected(name, help, type, read));
  }

  /** `<prefix>_build_info{version="..."} 1`, the Prometheus convention for what is running. */
  buildInfo(prefix: string, version: string): Gauge {
    const info = this.gauge(`${prefix}_build_info`, "The running build: 1, labelled by version");
    info.set(1, { version, runtime: `bun ${Bun.version}` });
    return info;
  }

  /** Metric names registered, in order (tests compare them with the dashboards and rules). */
  names(): string[] {
    return this.#metrics.map((metric) => metric.name);
  }

  /** The text exposition format, one HELP/TYPE block per metric. */
  render(): string {
    const lines: string[] = [];
    for (const metric of this.#metrics) {
      let samples: string[];
      try {
        samples = metric.render();
      } catch {
        samples = [];
      }
      lines.push(
        `# HELP ${metric.name} ${escapeHelp(metric.help)}`,
        `# TYPE ${metric.name} ${metric.type}`,
        ...samples,
      );
    }
    return `${lines.join("\n")}\n`;
  }

  #add<M extends Metric>(metric: M): M {
    if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(metric.name))
      throw new AgentError(FaultCode.INTERNAL, `metrics: invalid name ${metric.name}`);
    if (this.#metrics.some((known) => known.name === metric.name))
      throw new AgentError(FaultCode.INTERNAL, `metrics: ${metric.name} registered twice`);
    this.#metrics.push(metric);
    return metric;
  }
}

function labelKey(labels: Labels): string {
  return Object.keys(labels)
    .sort()
    .map((key) => `${key}=${labels[key]}`)
    .join("\u0000");
}

function formatLabels(labels: Labels): string {
  const keys = Object.keys(labels);
  if (keys.length === 0) return "";
  const parts = keys.map((key) => `${key}="${escapeLabel(labels[key] as string)}"`);
  return `{${parts.join(",")}}`;
}

/** Exposition format escaping: backslash, double quote and newline. */
function escapeLabel(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/** Help text escaping: backslash and newline. */
function escapeHelp(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

/** Sample values: Go's float spelling for the infinities, which JavaScript spells Infinity. */
function formatValue(value: number): string {
  if (value === Number.POSITIVE_INFINITY) return "+Inf";
  if (value === Number.NEGATIVE_INFINITY) return "-Inf";
  return String(value);
}
