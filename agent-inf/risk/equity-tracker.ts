/**
 * Equity bookkeeping for the loss limits: the start-of-day equity (the first equity seen on each
 * local date in the configured IANA time zone) and the high-water mark (the highest equity seen).
 * Daily loss = start-of-day equity − equity; drawdown = (high-water mark − equity) / high-water
 * mark. The day starts at local midnight, which Intl.DateTimeFormat finds for any zone and any
 * DST rule, so no offset arithmetic lives here.
 *
 * Start-of-day equity is only as early as the first observation of the day: feed every account
 * snapshot (each order decision already does) so it lands near midnight. Both values live in
 * memory; seed them through `EquitySeed` to carry them across a restart.
 */

export interface EquitySnapshot {
  /** Local date `YYYY-MM-DD` in the tracker's time zone. */
  readonly day: string;
  readonly equity: number;
  readonly dayStartEquity: number;
  readonly highWaterMark: number;
  /** dayStartEquity − equity; negative on a winning day. */
  readonly dailyLoss: number;
  /** dailyLoss as a percent of dayStartEquity (0 when that is not positive). */
  readonly dailyLossPercent: number;
  /** Drop from the high-water mark, percent (0 when the mark is not positive). */
  readonly drawdownPercent: number;
}

export interface EquitySeed {
  readonly highWaterMark?: number;
  /** Start-of-day equity for `day`; ignored when the current day is another one. */
  readonly day?: string;
  readonly dayStartEquity?: number;
}

export class EquityTracker {
  readonly #dateFormat: Intl.DateTimeFormat;
  #day: string | undefined;
  #dayStartEquity = 0;
  #highWaterMark = Number.NEGATIVE_INFINITY;
  #last: EquitySnapshot | undefined;

  constructor(timeZone: string, seed: EquitySeed = {}) {
    // en-CA formats as YYYY-MM-DD, which sorts and reads well in logs
    this.#dateFormat = new Intl.DateTimeFormat("en-CA", {
      timeZone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
    });
    if (seed.highWaterMark !== undefined) this.#highWaterMark = seed.highWaterMark;
    if (seed.day !== undefined && seed.dayStartEquity !== undefined) {
      this.#day = seed.day;
      this.#dayStartEquity = seed.dayStartEquity;
    }
  }

  /** Local date `YYYY-MM-DD` of the Unix ms `timeMs` in this tracker's zone. */
  localDay(timeMs: number): string {
    return this.#dateFormat.format(timeMs);
  }

  /** The latest snapshot, or undefined before the first observation. */
  get last(): EquitySnapshot | undefined {
    return this.#last;
  }

  /** Record an equity reading taken at wall time `nowMs` and return the resulting figures. */
  observe(equity: number, nowMs: number): EquitySnapshot {
    const day = this.localDay(nowMs);
    if (day !== this.#day) {
      this.#day = day;
      this.#dayStartEquity = equity;
    }
    if (equity > this.#highWaterMark) this.#highWaterMark = equity;
    const dailyLoss = this.#dayStartEquity - equity;
    const drop = this.#highWaterMark - equity;
    this.#last = {
      day,
      equity,
      dayStartEquity: this.#dayStartEquity,
      highWaterMark: this.#highWaterMark,
      dailyLoss,
      dailyLossPercent: this.#dayStartEquity > 0 ? (dailyLoss / this.#dayStartEquity) * 100 : 0,
      drawdownPercent: this.#highWaterMark > 0 ? (drop / this.#highWaterMark) * 100 : 0,
    };
    return this.#last;
  }
}
