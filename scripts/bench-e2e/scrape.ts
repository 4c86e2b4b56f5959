/**
 * Histogram sums and counts from a Prometheus text scrape (the agents' own /metrics), so the
 * benchmark can say where an order's time went using the figures the agents already keep.
 * Only `_sum` and `_count` lines are read; a difference of two scrapes is one phase's figures.
 */

export type Labels = Readonly<Record<string, string>>;

export interface Series {
  readonly name: string;
  readonly labels: Labels;
  readonly sum: number;
  readonly count: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)_(sum|count)(?:\{(.*)\})? (\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export function parseHistograms(text: string): Series[] {
  const byKey = new Map<string, { name: string; labels: Labels; sum: number; count: number }>();
  for (const line of text.split("\n")) {
    const match = LINE.exec(line);
    if (match === null) continue;
    const [, name, part, rawLabels, value] = match as unknown as [
      string,
      string,
      "sum" | "count",
      string | undefined,
      string,
    ];
    const labels: Record<string, string> = {};
    for (const label of (rawLabels ?? "").matchAll(LABEL))
      labels[label[1] as string] = label[2] as string;
    const key = `${name}${rawLabels ?? ""}`;
    const series = byKey.get(key) ?? { name, labels, sum: 0, count: 0 };
    series[part] = Number(value);
    byKey.set(key, series);
  }
  return [...byKey.values()];
}

export async function scrape(url: string, headers: Record<string, string> = {}): Promise<Series[]> {
  const response = await fetch(url, { headers, signal: AbortSignal.timeout(5000) });
  if (!response.ok) throw new Error(`scrape ${url}: HTTP ${response.status}`);
  return parseHistograms(await response.text());
}

/** Sum and count of `name` over the series whose labels match `where`, after minus before. */
export function between(
  before: readonly Series[],
  after: readonly Series[],
  name: string,
  where: (labels: Labels) => boolean = () => true,
): { readonly sum: number; readonly count: number } {
  const total = (list: readonly Series[]) =>
    list
      .filter((series) => series.name === name && where(series.labels))
      .reduce((acc, series) => ({ sum: acc.sum + series.sum, count: acc.count + series.count }), {
        sum: 0,
        count: 0,
      });
  const a = total(after);
  const b = total(before);
  return { sum: a.sum - b.sum, count: a.count - b.count };
}
