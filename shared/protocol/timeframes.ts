/**
 * MT5's chart timeframes (ENUM_TIMEFRAMES) and the maths of bar open times: which bar a moment
 * belongs to, where the next one opens, and how many bars a span holds at most. Pure; times are
 * Unix ms in the broker's server time (MT5 reports bar times in server time as if it were UTC;
 * the simulated broker's server time is UTC).
 *
 * Bars of a minute or hour timeframe open on multiples of their length counted from midnight
 * (every length divides a day). D1 opens at 00:00, W1 on Sunday 00:00 (MT5 weeks start on
 * Sunday), MN1 on the first of the month at 00:00.
 */

/**
 * How far a broker's server time may be from UTC (time zones reach from UTC−12 to UTC+14): the
 * bound of PING's `mt5.server_offset_ms` and of the EA's `gmt_offset_s`.
 */
export const MAX_SERVER_OFFSET_MS = 14 * 3_600_000;

/** The wire names, shortest first; MT5's TIMEFRAME_<name> constants. */
export const TIMEFRAMES = [
  "M1",
  "M2",
  "M3",
  "M4",
  "M5",
  "M6",
  "M10",
  "M12",
  "M15",
  "M20",
  "M30",
  "H1",
  "H2",
  "H3",
  "H4",
  "H6",
  "H8",
  "H12",
  "D1",
  "W1",
  "MN1",
] as const;
export type Timeframe = (typeof TIMEFRAMES)[number];

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;
const WEEK_MS = 7 * DAY_MS;
/** 1970-01-01 was a Thursday; the first Sunday 00:00 is three days later. */
const FIRST_SUNDAY_MS = 3 * DAY_MS;

interface TimeframeInfo {
  /** Fixed bar length in ms; MN1 has none (months differ). */
  readonly ms: number;
  /** The value of MT5's ENUM_TIMEFRAMES constant (PERIOD_M1 = 1 … PERIOD_MN1 = 0xC001). */
  readonly mt5: number;
}

const INFO: Readonly<Record<Timeframe, TimeframeInfo>> = {
  M1: { ms: MINUTE_MS, mt5: 1 },
  M2: { ms: 2 * MINUTE_MS, mt5: 2 },
  M3: { ms: 3 * MINUTE_MS, mt5: 3 },
  M4: { ms: 4 * MINUTE_MS, mt5: 4 },
  M5: { ms: 5 * MINUTE_MS, mt5: 5 },
  M6: { ms: 6 * MINUTE_MS, mt5: 6 },
  M10: { ms: 10 * MINUTE_MS, mt5: 10 },
  M12: { ms: 12 * MINUTE_MS, mt5: 12 },
  M15: { ms: 15 * MINUTE_MS, mt5: 15 },
  M20: { ms: 20 * MINUTE_MS, mt5: 20 },
  M30: { ms: 30 * MINUTE_MS, mt5: 30 },
  H1: { ms: HOUR_MS, mt5: 0x4001 },
  H2: { ms: 2 * HOUR_MS, mt5: 0x4002 },
  H3: { ms: 3 * HOUR_MS, mt5: 0x4003 },
  H4: { ms: 4 * HOUR_MS, mt5: 0x4004 },
  H6: { ms: 6 * HOUR_MS, mt5: 0x4006 },
  H8: { ms: 8 * HOUR_MS, mt5: 0x4008 },
  H12: { ms: 12 * HOUR_MS, mt5: 0x400c },
  D1: { ms: DAY_MS, mt5: 0x4018 },
  W1: { ms: WEEK_MS, mt5: 0x8001 },
  MN1: { ms: 0, mt5: 0xc001 },
};

const NAMES: ReadonlySet<string> = new Set(TIMEFRAMES);

export function isTimeframe(value: unknown): value is Timeframe {
  return typeof value === "string" && NAMES.has(value);
}

/** MT5's numeric constant for a timeframe (what CopyRates and the Python module take). */
export function mt5Timeframe(timeframe: Timeframe): number {
  return INFO[timeframe].mt5;
}

/**
 * The longest a bar of this timeframe can last, in ms (31 days for MN1). Dividing a span by it
 * gives the fewest bars the span can hold, so "too many bars" checks never refuse a valid range.
 */
export function maxBarMs(timeframe: Timeframe): number {
  return timeframe === "MN1" ? 31 * DAY_MS : INFO[timeframe].ms;
}

/** The shortest a bar of this timeframe can last (28 days for MN1). */
export function minBarMs(timeframe: Timeframe): number {
  return timeframe === "MN1" ? 28 * DAY_MS : INFO[timeframe].ms;
}

/** Open time of the bar that contains `time` (floor division, so it works before 1970 too). */
export function barOpenTime(timeframe: Timeframe, time: number): number {
  if (timeframe === "MN1") {
    const date = new Date(time);
    return Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1);
  }
  if (timeframe === "W1") {
    return Math.floor((time - FIRST_SUNDAY_MS) / WEEK_MS) * WEEK_MS + FIRST_SUNDAY_MS;
  }
  const length = INFO[timeframe].ms;
  return Math.floor(time / length) * length;
}

/** Open time of the bar after the one that opens at `open` (= where that bar ends). */
export function nextBarOpenTime(timeframe: Timeframe, open: number): number {
  if (timeframe === "MN1") {
    const date = new Date(open);
    return Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1);
  }
  return open + INFO[timeframe].ms;
}

/** Open time of the bar before the one that opens at `open`. */
export function previousBarOpenTime(timeframe: Timeframe, open: number): number {
  if (timeframe === "MN1") {
    const date = new Date(open);
    return Date.UTC(date.getUTCFullYear(), date.getUTCMonth() - 1, 1);
  }
  return open - INFO[timeframe].ms;
}
