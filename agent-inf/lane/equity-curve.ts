/**
 * A gateway's equity curve for the dashboard: (time, equity) points from the equity poll since
 * the agent first ran, kept in the state file (state-store.ts) so a restart does not lose the
 * day. Bounded: when it holds more than `maxPoints`, the older half is thinned to every other
 * point. Recent history stays fine-grained and old history gets coarser (each thinning doubles
 * the spacing of what is older), so the curve and the state file never grow past the bound.
 *
 * Thinning keeps the later point of each pair: the curve shows equity as it stood at each kept
 * moment, not an average that never happened.
 */

/** [Unix ms, equity in the deposit currency]. */
export type EquityPoint = readonly [time: number, equity: number];

export const EQUITY_CURVE_MAX_POINTS = 480;

export class EquityCurve {
  readonly maxPoints: number;
  #points: EquityPoint[];

  constructor(seed: readonly EquityPoint[] = [], maxPoints = EQUITY_CURVE_MAX_POINTS) {
    if (!Number.isSafeInteger(maxPoints) || maxPoints < 4)
      throw new RangeError(`equity curve: maxPoints must be an integer ≥ 4, was ${maxPoints}`);
    this.maxPoints = maxPoints;
    this.#points = [];
    for (const [time, equity] of seed) this.add(time, equity);
  }

  get points(): readonly EquityPoint[] {
    return this.#points;
  }

  /**
   * A reading at `time`. One at the same time as the last replaces it; one earlier than the last
   * (the wall clock was set back) is ignored, so times always increase.
   */
  add(time: number, equity: number): void {
    if (!Number.isFinite(time) || !Number.isFinite(equity)) return;
    const last = this.#points.at(-1);
    if (last !== undefined && time < last[0]) return;
    if (last !== undefined && time === last[0])
      this.#points[this.#points.length - 1] = [time, equity];
    else this.#points.push([time, equity]);
    if (this.#points.length > this.maxPoints) this.#thin();
  }

  #thin(): void {
    const half = Math.floor(this.#points.length / 2);
    const older = this.#points.slice(0, half).filter((_, i) => i % 2 === 1 || i === half - 1);
    this.#points = [...older, ...this.#points.slice(half)];
  }
}

/**
 * Points as read from the state file: undefined when `value` is not a list of
 * [finite time, finite equity] pairs with increasing times.
 */
export function readEquityPoints(value: unknown): EquityPoint[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const points: EquityPoint[] = [];
  for (const item of value) {
    if (!Array.isArray(item) || item.length !== 2) return undefined;
    const [time, equity] = item as unknown[];
    if (typeof time !== "number" || typeof equity !== "number") return undefined;
    if (!Number.isFinite(time) || !Number.isFinite(equity)) return undefined;
    const last = points.at(-1);
    if (last !== undefined && time <= last[0]) return undefined;
    points.push([time, equity]);
  }
  return points;
}
