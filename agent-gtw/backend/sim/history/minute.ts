/**
 * One minute of one symbol, as bid/ask on the point grid: its M1 bar computed directly from the
 * path (fast: no ticks needed, which is what makes 100k-bar queries cheap), and its ticks
 * generated so that they agree with that bar exactly: the first tick's bid is the open, the last
 * one's the close, one tick sits on the high and one on the low, every other bid lies between,
 * and the count is the bar's tick_volume. A bar therefore never needs its ticks, and ticks never
 * contradict the bar built from them.
 *
 * Prices are integers of points here (bid 110123 = 1.10123 with 5 digits); they become decimals
 * only in the rows. A `Segment` scales the path (the sim's calibration, pinned quotes and the
 * volatility setting, see symbol-history.ts); a minute is always generated with one segment.
 */
import { INFO_FLAGS, TickFlag, type TickRow } from "../../../../shared/protocol/index.ts";
import { draw, quickNormal, Stream, streamKey, unit } from "./noise.ts";
import type { DayPath } from "./path.ts";
import { MINUTE_MS } from "./path.ts";

/** Ticks per minute: at least one every 5 s or so even in the quietest hour, ~75 when busiest. */
export const MIN_TICKS = 24;
const MAX_TICKS = 150;
const TICKS_PER_ACTIVITY = 45;
/** Share of a minute's standard deviation the high and low reach beyond open/close, on average. */
const EXCURSION = 0.5;

/**
 * Spread by UTC hour, relative to the typical one: widest at the 21:00–23:00 rollover, a bit wider
 * in Asian hours. Crypto (24x7) keeps one level.
 */
const FOREX_SPREAD = [
  1.2, 1.2, 1.2, 1.2, 1.1, 1.1, 1.05, 1, 1, 1, 1, 1, 0.95, 0.95, 0.95, 0.95, 1, 1, 1, 1.05, 1.1,
  2.2, 1.8, 1.4,
];

export interface PriceParams {
  /** Stream keys (noise.ts streamKey) of the bar, excursion and tick draws. */
  readonly barKey: number;
  readonly excursionKey: number;
  readonly tickKey: number;
  /** 10^digits: points per price unit. */
  readonly scale: number;
  readonly typicalSpread: number;
  readonly anchor: number;
  readonly flatSpread: boolean;
}

/** Price parameters of a symbol under a seed-and-symbol key. */
export function priceParams(
  key: number,
  fields: Omit<PriceParams, "barKey" | "excursionKey" | "tickKey">,
): PriceParams {
  return {
    barKey: streamKey(key, Stream.BAR),
    excursionKey: streamKey(key, Stream.EXCURSION),
    tickKey: streamKey(key, Stream.TICK),
    ...fields,
  };
}

/**
 * How the path is rendered from a time on: price = anchor × factor × exp(volatility × x), so the
 * volatility multiplier scales every log move (and the high/low excursions and tick steps, which
 * follow the minute's standard deviation) while the factor places the level.
 */
export interface Segment {
  readonly factor: number;
  readonly volatility: number;
}

/** An M1 bar in points. `spread` is that of the opening tick, as every timeframe reports it. */
export interface MinuteBar {
  open: number;
  high: number;
  low: number;
  close: number;
  ticks: number;
  spread: number;
}

/** What a minute's ticks are built from: its bar plus the spreads at both ends. */
interface MinuteShape extends MinuteBar {
  readonly baseSpread: number;
  readonly lastSpread: number;
  readonly sdPoints: number;
}

function spreadJitter(typical: number): number {
  return Math.max(1, Math.round(0.3 * typical));
}

/** Extra points on top of the minute's base spread, mostly 0 or 1. */
function extraSpread(u16: number, jitter: number): number {
  const u = u16 / 65536;
  return Math.floor(u * u * (jitter + 1));
}

function shape(
  params: PriceParams,
  path: DayPath,
  minuteOfDay: number,
  minute: number,
  segment: Segment,
): MinuteShape {
  const hour = (minuteOfDay / 60) | 0;
  const bar = draw(params.barKey, minute, 0);
  const ends = draw(params.barKey, minute, 1);
  const hourSpread = params.flatSpread ? 1 : (FOREX_SPREAD[hour] as number);
  const baseSpread = Math.max(
    1,
    Math.round(params.typicalSpread * hourSpread * (0.85 + 0.3 * ((bar & 0xffff) / 65536))),
  );
  const jitter = spreadJitter(params.typicalSpread);
  const spread = baseSpread + extraSpread(ends & 0xffff, jitter);
  const lastSpread = baseSpread + extraSpread(ends >>> 16, jitter);
  const { factor, volatility } = segment;
  const level = params.anchor * factor * params.scale;
  const openMid = level * relativeAt(path, minuteOfDay, volatility);
  const closeMid = level * relativeAt(path, minuteOfDay + 1, volatility);
  const open = Math.round(openMid - spread / 2);
  const close = Math.round(closeMid - lastSpread / 2);
  const sdPoints = openMid * (path.minuteSd[hour] as number) * volatility;
  const up = Math.abs(quickNormal(draw(params.excursionKey, minute, 0)));
  const down = Math.abs(quickNormal(draw(params.excursionKey, minute, 1)));
  const high = Math.max(open, close) + Math.round(EXCURSION * sdPoints * up);
  const low = Math.max(1, Math.min(open, close) - Math.round(EXCURSION * sdPoints * down));
  const intensity = TICKS_PER_ACTIVITY * (path.activity[hour] as number);
  const ticks = Math.min(
    MAX_TICKS,
    Math.max(MIN_TICKS, Math.round(intensity * (0.6 + 0.8 * ((bar >>> 16) / 65536)))),
  );
  return { open, high, low, close, ticks, spread, baseSpread, lastSpread, sdPoints };
}

/** exp(volatility × x) at a minute boundary; the path keeps exp(x) for the common case. */
function relativeAt(path: DayPath, boundary: number, volatility: number): number {
  return volatility === 1
    ? (path.relative[boundary] as number)
    : Math.exp(volatility * (path.x[boundary] as number));
}

/** The M1 bar of a minute (in points), without generating its ticks. */
export function minuteBar(
  params: PriceParams,
  path: DayPath,
  minuteOfDay: number,
  minute: number,
  segment: Segment,
): MinuteBar {
  return shape(params, path, minuteOfDay, minute, segment);
}

/**
 * The ticks of a minute, oldest first: times spread one per equal slot of the minute, bids
 * following a bridge through the open, the high, the low and the close (in an order drawn per
 * minute), spreads floating a little above the minute's base. Flags as MT5 sets them: BID and/or
 * ASK for what changed since the previous tick (the first tick of a minute carries both).
 */
export function minuteTicks(
  params: PriceParams,
  path: DayPath,
  minuteOfDay: number,
  minute: number,
  segment: Segment,
): TickRow[] {
  const bar = shape(params, path, minuteOfDay, minute, segment);
  const n = bar.ticks;
  const { tickKey, scale } = params;
  const pick = draw(params.excursionKey, minute, 2);
  // Two distinct interior positions for the high and the low
  const highAt = 1 + (pick % (n - 2));
  let lowAt = 1 + ((pick >>> 16) % (n - 3));
  if (lowAt >= highAt) lowAt += 1;
  const anchors = [
    [0, bar.open],
    [highAt, bar.high],
    [lowAt, bar.low],
    [n - 1, bar.close],
  ].sort((a, b) => (a[0] as number) - (b[0] as number)) as [number, number][];

  const bids = new Float64Array(n);
  const stepSd = bar.sdPoints / Math.sqrt(n);
  for (let segment = 0; segment < 3; segment++) {
    const [from, fromValue] = anchors[segment] as [number, number];
    const [to, toValue] = anchors[segment + 1] as [number, number];
    bids[from] = fromValue;
    let walk = 0;
    const walks = new Float64Array(to - from + 1);
    for (let i = from + 1; i <= to; i++) {
      walk += stepSd * quickNormal(draw(tickKey, minute, 2 * i + 1));
      walks[i - from] = walk;
    }
    for (let i = from + 1; i < to; i++) {
      const share = (i - from) / (to - from);
      const value =
        fromValue + share * (toValue - fromValue) + (walks[i - from] as number) - share * walk;
      bids[i] = Math.min(bar.high, Math.max(bar.low, Math.round(value)));
    }
    bids[to] = toValue;
  }

  const jitter = spreadJitter(params.typicalSpread);
  const slot = MINUTE_MS / n;
  const start = minute * MINUTE_MS;
  const rows: TickRow[] = new Array(n);
  let previousBid = -1;
  let previousAsk = -1;
  for (let i = 0; i < n; i++) {
    const random = draw(tickKey, minute, 2 * i);
    const time = start + Math.floor(slot * i + slot * unit(random));
    const bid = bids[i] as number;
    let spread =
      i === 0
        ? bar.spread
        : i === n - 1
          ? bar.lastSpread
          : bar.baseSpread + extraSpread(random >>> 16, jitter);
    let flags = INFO_FLAGS;
    if (i > 0) {
      flags =
        (bid !== previousBid ? TickFlag.BID : 0) |
        (bid + spread !== previousAsk ? TickFlag.ASK : 0);
      if (flags === 0) {
        // MT5 records a tick only when something changed: let the ask move by a point
        spread += 1;
        flags = TickFlag.ASK;
      }
    }
    const ask = bid + spread;
    rows[i] = [time, bid / scale, ask / scale, 0, 0, flags, 0];
    previousBid = bid;
    previousAsk = ask;
  }
  return rows;
}
