/**
 * The log-price path of one symbol, in two levels, so that any minute can be computed without
 * walking from the beginning of time:
 *
 * - Day level: the log price at each UTC midnight, an AR(1) walk from SIM_HISTORY_START
 *   (daily standard deviation = the symbol's daily_volatility, a weak pull back to the anchor so
 *   that years of history stay plausible). Computed once, in order, and kept: a few thousand
 *   numbers per symbol, and always summed in the same order, so every call sees the same doubles.
 * - Minute level: within a day, a Brownian bridge between the two midnights, in a clock that runs
 *   faster in busy hours (London and New York) and in volatile hours (a random regime per hour),
 *   so volatility has a daily rhythm and fat tails. Kept in a small cache of recent days.
 *
 * What the path does not do: prices (path × anchor × calibration, then bid/ask on the point grid)
 * and ticks are minute.ts; sessions only shape it (little movement while a symbol is closed).
 */
import { DAY_MS } from "../../../../shared/protocol/index.ts";
import { isSessionOpen, type SessionSchedule, type SymbolSession } from "../sessions.ts";
import { draw, normal, quickNormal, Stream, streamKey } from "./noise.ts";

/** Where the sim's history begins: no bars or ticks before it. A Thursday, 2015-01-01 00:00 UTC. */
export const SIM_HISTORY_START = Date.UTC(2015, 0, 1);
const START_DAY = SIM_HISTORY_START / DAY_MS;
export const MINUTE_MS = 60_000;
export const MINUTES_PER_DAY = 1440;
const HOUR_MS = 3_600_000;

/** Per-day pull of the log price back to 0 (the anchor): a half-life of ~140 days. */
const MEAN_REVERSION = 1 / 200;
/** Share of the daily volatility on a day the symbol's session is closed (weekend gaps). */
const CLOSED_DAY_SHARE = [0.3, 0.15] as const; // Sunday, Saturday
/** Volatility of a 24x7 symbol on a weekend day, relative to a weekday. */
const WEEKEND_SHARE_24X7 = 0.7;
/** Movement rate while the session is closed, relative to an open hour. */
const CLOSED_ACTIVITY = 0.02;
/** Standard deviation of the per-hour log volatility regime. */
const REGIME_SD = 0.3;
/** Recent days kept (23 KiB each); D1 and longer read the bar cache of bars.ts instead. */
const DAYS_CACHED = 64;

/**
 * Activity of each UTC hour for forex and the CFDs quoted beside it: Asia quiet, London busy,
 * the London/New York overlap busiest, the 21:00–22:00 rollover quietest. Mean about 1.
 */
const FOREX_ACTIVITY = [
  0.5, 0.5, 0.5, 0.55, 0.55, 0.6, 0.7, 0.95, 1.25, 1.3, 1.25, 1.2, 1.45, 1.6, 1.65, 1.55, 1.3, 1.1,
  1.0, 0.9, 0.8, 0.6, 0.4, 0.45,
];
/** Crypto trades around the clock with a weaker rhythm. */
const ALWAYS_ACTIVITY = FOREX_ACTIVITY.map((value) => 0.7 + 0.3 * value);

export interface PathParams {
  /** Seed and symbol mixed into one key (price-history.ts). */
  readonly key: number;
  readonly dailyVolatility: number;
  readonly session: SymbolSession;
  readonly schedule: SessionSchedule;
}

/** One day of the minute path and what the bars need besides it. */
export interface DayPath {
  /** Log price at each minute boundary of the day, 0 … 1440 (1440 = next midnight). */
  readonly x: Float64Array;
  /** exp(x): the price at each boundary relative to the anchor (before calibration). */
  readonly relative: Float64Array;
  /** Standard deviation of one minute's log move, per hour. */
  readonly minuteSd: Float64Array;
  /** Activity (tick intensity) per hour: profile × regime; CLOSED_ACTIVITY when closed. */
  readonly activity: Float64Array;
  /** Whether the session is open, per hour (sessions change on hour boundaries). */
  readonly open: Uint8Array;
}

export class SymbolPath {
  readonly #params: PathParams;
  readonly #dayKey: number;
  readonly #minuteKey: number;
  readonly #regimeKey: number;
  #lastDay = Number.NaN;
  #lastPath: DayPath | undefined;
  /** levels[i]: log price at the midnight of day START_DAY + i. */
  #levels = new Float64Array(0);
  #computed = 0;
  readonly #days = new Map<number, DayPath>();

  constructor(params: PathParams) {
    this.#params = params;
    this.#dayKey = streamKey(params.key, Stream.DAY);
    this.#minuteKey = streamKey(params.key, Stream.MINUTE_PATH);
    this.#regimeKey = streamKey(params.key, Stream.REGIME);
  }

  /** Log price at the midnight that starts `day` (days since 1970); 0 before the history starts. */
  level(day: number): number {
    const index = day - START_DAY;
    if (index <= 0) return 0;
    this.#extendTo(index);
    return this.#levels[index] as number;
  }

  /** The minute path of `day`, cached. */
  day(day: number): DayPath {
    if (day === this.#lastDay) return this.#lastPath as DayPath;
    const found = this.#cachedDay(day);
    this.#lastDay = day;
    this.#lastPath = found;
    return found;
  }

  #cachedDay(day: number): DayPath {
    const cached = this.#days.get(day);
    if (cached !== undefined) {
      // Refresh its place: the cache drops the least recently used day
      this.#days.delete(day);
      this.#days.set(day, cached);
      return cached;
    }
    const built = this.#buildDay(day);
    this.#days.set(day, built);
    if (this.#days.size > DAYS_CACHED) {
      const oldest = this.#days.keys().next().value as number;
      this.#days.delete(oldest);
    }
    return built;
  }

  /** Whether the symbol's session is open at `time`. */
  isOpen(time: number): boolean {
    return isSessionOpen(this.#params.schedule, this.#params.session, time);
  }

  /** Standard deviation of the log move over all of `day` (midnight to midnight). */
  daySd(day: number): number {
    const { dailyVolatility, session, schedule } = this.#params;
    const weekday = (((day + 4) % 7) + 7) % 7; // 1970-01-01 was a Thursday (4)
    if (weekday !== 0 && weekday !== 6) return dailyVolatility;
    if (schedule === "always" || session === "24x7") return dailyVolatility * WEEKEND_SHARE_24X7;
    return dailyVolatility * CLOSED_DAY_SHARE[weekday === 0 ? 0 : 1];
  }

  #extendTo(index: number): void {
    if (index < this.#computed) return;
    if (index >= this.#levels.length) {
      const grown = new Float64Array(Math.max(index + 1, this.#levels.length * 2, 4096));
      grown.set(this.#levels);
      this.#levels = grown;
    }
    let level = this.#computed === 0 ? 0 : (this.#levels[this.#computed - 1] as number);
    if (this.#computed === 0) {
      this.#levels[0] = 0;
      this.#computed = 1;
    }
    for (let i = this.#computed; i <= index; i++) {
      const day = START_DAY + i - 1;
      const z = normal(draw(this.#dayKey, day, 0), draw(this.#dayKey, day, 1));
      level = level * (1 - MEAN_REVERSION) + this.daySd(day) * z;
      this.#levels[i] = level;
    }
    this.#computed = index + 1;
  }

  #buildDay(day: number): DayPath {
    const start = day * DAY_MS;
    const profile =
      this.#params.schedule === "always" || this.#params.session === "24x7"
        ? ALWAYS_ACTIVITY
        : FOREX_ACTIVITY;
    const variance = new Float64Array(24);
    const activity = new Float64Array(24);
    const open = new Uint8Array(24);
    let total = 0;
    for (let hour = 0; hour < 24; hour++) {
      const isOpen = this.isOpen(start + hour * HOUR_MS);
      const regime = Math.exp(REGIME_SD * quickNormal(draw(this.#regimeKey, day, hour)));
      const rate = (profile[hour] as number) * regime * (isOpen ? 1 : CLOSED_ACTIVITY);
      open[hour] = isOpen ? 1 : 0;
      activity[hour] = rate;
      // Variance follows the activity and the regime's volatility squared (rate holds one factor)
      const weight = rate * regime;
      variance[hour] = weight;
      total += weight * 60;
    }
    const sd = this.daySd(day);
    const from = this.level(day);
    const to = this.level(day + 1);
    const scale = sd / Math.sqrt(total);
    // Raw walk S_j in the business clock W_j, then bridged to the day's two levels
    const x = new Float64Array(MINUTES_PER_DAY + 1);
    const clock = new Float64Array(MINUTES_PER_DAY + 1);
    const firstMinute = day * MINUTES_PER_DAY;
    let walk = 0;
    let elapsed = 0;
    for (let minute = 0; minute < MINUTES_PER_DAY; minute++) {
      const weight = variance[(minute / 60) | 0] as number;
      walk += Math.sqrt(weight) * quickNormal(draw(this.#minuteKey, firstMinute + minute, 0));
      elapsed += weight;
      x[minute + 1] = walk;
      clock[minute + 1] = elapsed;
    }
    const relative = new Float64Array(MINUTES_PER_DAY + 1);
    for (let j = 0; j <= MINUTES_PER_DAY; j++) {
      const share = (clock[j] as number) / total;
      x[j] = from + share * (to - from) + scale * ((x[j] as number) - share * walk);
      relative[j] = Math.exp(x[j] as number);
    }
    const minuteSd = new Float64Array(24);
    for (let hour = 0; hour < 24; hour++)
      minuteSd[hour] = scale * Math.sqrt(variance[hour] as number);
    return { x, relative, minuteSd, activity, open };
  }
}
