/**
 * Sliding-window order counter for the per-second and per-minute rate limits. It keeps the
 * monotonic time of each recorded order for as long as the longest window, so a count is exact
 * (no bucket edges that let 2× the limit through across a boundary). An order recorded at t counts
 * while now − t < window. Time comes from the caller, so this stays pure and testable.
 */

export class OrderRateWindow {
  readonly #horizonMs: number;
  #times: number[] = [];
  #head = 0;

  /** `horizonMs`: the longest window that will be asked about; older entries are dropped. */
  constructor(horizonMs: number) {
    this.#horizonMs = horizonMs;
  }

  record(nowMs: number): void {
    this.#prune(nowMs);
    this.#times.push(nowMs);
  }

  /** Orders recorded in the last `windowMs` (windowMs ≤ horizon). */
  count(nowMs: number, windowMs: number): number {
    this.#prune(nowMs);
    let count = 0;
    for (let index = this.#times.length - 1; index >= this.#head; index--) {
      if (nowMs - (this.#times[index] as number) >= windowMs) break;
      count++;
    }
    return count;
  }

  #prune(nowMs: number): void {
    while (this.#head < this.#times.length) {
      if (nowMs - (this.#times[this.#head] as number) < this.#horizonMs) break;
      this.#head++;
    }
    // Compact now and then instead of shift() per order, which is O(n) each time
    if (this.#head > 64 && this.#head * 2 > this.#times.length) {
      this.#times = this.#times.slice(this.#head);
      this.#head = 0;
    }
  }
}
