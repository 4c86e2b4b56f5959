/**
 * Small statistics helpers shared by the benchmark scripts (Bun side). Samples are in
 * microseconds and sorted ascending before a percentile is read.
 */

/** Nearest-rank percentile (p in (0, 1]) of ascending `sorted`; NaN when empty. */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(p * sorted.length)));
  return sorted[rank - 1] as number;
}

/** Right-aligned µs with one decimal, e.g. "  57.9". */
export function formatMicros(value: number): string {
  return value.toFixed(1).padStart(6);
}
