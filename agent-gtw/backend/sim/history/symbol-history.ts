/**
 * The market history of one symbol as a pure function of (seed, symbol, time), plus the few
 * things the sim's state adds to it: a base segment (the calibration that makes a fresh sim start
 * at the symbol's anchor price, and the volatility it started with), pinned quotes (setQuote,
 * queued price moves and the operator's `sim price` / `sim jump`) and volatility marks (a change
 * of the volatility setting). A pin is a tick of its own at the pinned bid/ask, and the ticks
 * after it follow the path scaled so that it continues from the pinned price; a mark has no tick
 * and changes the volatility from its time on, scaled so the path's price is continuous there.
 * So the live feed, which reads this same history, and a history query always agree, and nothing
 * at or before a pin's or mark's time changes when it is made.
 *
 * Minutes: a minute without pins or marks is priced with one segment (that of the last pin or
 * mark before it, else the base) and its bar comes straight from the path; a minute holding one
 * is built from its ticks. Nothing exists before SIM_HISTORY_START or while the session is closed
 * (unless a pin put a tick there), and nothing after `now`.
 */
import { INFO_FLAGS, type TickRow } from "../../../../shared/protocol/index.ts";
import type { SymbolSpec } from "../symbols.ts";
import {
  type MinuteBar,
  minuteBar,
  minuteTicks,
  type PriceParams,
  priceParams,
  type Segment,
} from "./minute.ts";
import {
  type DayPath,
  MINUTE_MS,
  MINUTES_PER_DAY,
  SIM_HISTORY_START,
  type SymbolPath,
} from "./path.ts";

/**
 * A pin or mark as persisted: its time, bid and ask (both 0 for a mark, which has no tick), and
 * the segment the path has after it. State written before volatility existed has four fields
 * (volatility 1).
 */
export type Pin = readonly [
  time: number,
  bid: number,
  ask: number,
  factor: number,
  volatility: number,
];

/** A pin or mark in memory: a segment that starts at `time`. */
interface Boundary extends Segment {
  readonly time: number;
  readonly bid: number;
  readonly ask: number;
  /** False for a volatility mark: it changes the path but adds no tick. */
  readonly tick: boolean;
}

/**
 * Pins and marks kept per symbol; the segment of an evicted one falls back to the one before it,
 * so the history between it and the next may change (it is long past by then: operator hooks).
 */
export const MAX_PINS = 32;
/** The volatility multiplier's bounds (config and operator command check them here). */
export const MIN_VOLATILITY = 0.1;
export const MAX_VOLATILITY = 100;
const TICK_MINUTES_CACHED = 64;
const FIRST_MINUTE = SIM_HISTORY_START / MINUTE_MS;
/** How far back the last tick is looked for (a long weekend is 2 days). */
const LAST_TICK_LOOKBACK_MINUTES = 14 * MINUTES_PER_DAY;

export interface SymbolHistoryOptions {
  readonly spec: SymbolSpec;
  readonly key: number;
  readonly path: SymbolPath;
  /** The volatility multiplier of the base segment (a fresh history); default 1. */
  readonly volatility?: number;
}

export class SymbolHistory {
  readonly symbol: string;
  readonly price: PriceParams;
  readonly path: SymbolPath;
  /** The segment before the first pin or mark. */
  #base: Segment;
  #pins: Boundary[] = [];
  readonly #ticks = new Map<number, TickRow[]>();

  constructor(options: SymbolHistoryOptions) {
    const { spec } = options;
    this.#base = { factor: 1, volatility: options.volatility ?? 1 };
    this.symbol = spec.symbol;
    this.path = options.path;
    this.price = priceParams(options.key, {
      scale: 10 ** spec.digits,
      typicalSpread: spec.typical_spread,
      anchor: spec.anchor_price,
      flatSpread: spec.session === "24x7",
    });
  }

  get base(): Segment {
    return this.#base;
  }

  /** Pins and marks, oldest first, as persisted. */
  get pins(): readonly Pin[] {
    return this.#pins.map((pin) => [pin.time, pin.bid, pin.ask, pin.factor, pin.volatility]);
  }

  /** Replace the base segment and the pins (restoring persisted state); caches are dropped. */
  reset(base: Segment, pins: readonly (Pin | readonly [number, number, number, number])[]): void {
    this.#base = { factor: base.factor, volatility: base.volatility };
    this.#pins = [...pins]
      .map(
        ([time, bid, ask, factor, volatility]): Boundary => ({
          time,
          bid,
          ask,
          factor,
          volatility: volatility ?? 1,
          tick: !(bid === 0 && ask === 0),
        }),
      )
      .sort((a, b) => a.time - b.time)
      .slice(-MAX_PINS);
    this.#ticks.clear();
  }

  /** Calibrate so the path's price at `time` is the anchor (a fresh state directory). */
  calibrate(time: number): void {
    const volatility = this.#base.volatility;
    this.#base = { factor: 1 / Math.exp(volatility * this.#logAt(time)), volatility };
    this.#ticks.clear();
  }

  /**
   * Pin a quote (both on the point grid) at `time`; later ticks continue from its mid, with the
   * volatility in force (or the one given).
   */
  pin(
    time: number,
    bid: number,
    ask: number,
    volatility = this.segmentAt(time + 1).volatility,
  ): Pin {
    const mid = (bid + ask) / 2;
    const factor = mid / (this.price.anchor * Math.exp(volatility * this.#logAt(time)));
    return this.#add({ time, bid, ask, factor, volatility, tick: true });
  }

  /**
   * Change the volatility from `time` on without a tick: the path's price is continuous at
   * `time` (the factor absorbs the change) and moves `volatility` times the symbol's own after.
   */
  mark(time: number, volatility: number): Pin {
    const before = this.segmentAt(time + 1);
    const x = this.#logAt(time);
    const factor = before.factor * Math.exp((before.volatility - volatility) * x);
    return this.#add({ time, bid: 0, ask: 0, factor, volatility, tick: false });
  }

  #add(boundary: Boundary): Pin {
    // Kept in time order even if the clock stepped back since the last one
    let at = this.#pins.length;
    while (at > 0 && (this.#pins[at - 1] as Boundary).time > boundary.time) at -= 1;
    this.#pins.splice(at, 0, boundary);
    if (this.#pins.length > MAX_PINS) this.#pins.shift();
    const from = Math.floor(boundary.time / MINUTE_MS);
    for (const minute of [...this.#ticks.keys()]) if (minute >= from) this.#ticks.delete(minute);
    const { time, bid, ask, factor, volatility } = boundary;
    return [time, bid, ask, factor, volatility];
  }

  /**
   * The segment of the path for canonical ticks at `time` (pins and marks at exactly `time`
   * come after them).
   */
  segmentAt(time: number): Segment {
    const pins = this.#pins;
    let low = 0;
    let high = pins.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((pins[middle] as Boundary).time < time) low = middle + 1;
      else high = middle;
    }
    return low === 0 ? this.#base : (pins[low - 1] as Boundary);
  }

  /** The volatility multiplier in force after `time`. */
  volatilityAfter(time: number): number {
    return this.segmentAt(time + 1).volatility;
  }

  /** Whether a pin or mark lies in [start, end): the segment may change inside. */
  hasPinIn(start: number, end: number): boolean {
    for (const pin of this.#pins) if (pin.time >= start && pin.time < end) return true;
    return false;
  }

  /** Whether a pinned tick lies in [start, end). */
  hasPinTickIn(start: number, end: number): boolean {
    for (const pin of this.#pins) if (pin.tick && pin.time >= start && pin.time < end) return true;
    return false;
  }

  /** Whether the path makes ticks in this minute (session open, history started). */
  isActive(minute: number): boolean {
    return minute >= FIRST_MINUTE && this.path.isOpen(minute * MINUTE_MS);
  }

  /** Whether the minute has any tick: active, or holding a pin (never before the history). */
  hasTicks(minute: number): boolean {
    if (minute < FIRST_MINUTE) return false;
    return this.isActive(minute) || this.hasPinTickIn(minute * MINUTE_MS, (minute + 1) * MINUTE_MS);
  }

  /** The complete M1 bar of a minute, in points; undefined when it has no ticks. */
  bar(minute: number): MinuteBar | undefined {
    if (minute < FIRST_MINUTE) return undefined;
    const start = minute * MINUTE_MS;
    if (this.hasPinIn(start, start + MINUTE_MS)) return barOf(this.ticks(minute), this.price.scale);
    if (!this.isActive(minute)) return undefined;
    const day = Math.floor(minute / MINUTES_PER_DAY);
    return minuteBar(
      this.price,
      this.path.day(day),
      minute - day * MINUTES_PER_DAY,
      minute,
      this.segmentAt(start),
    );
  }

  /** The bar of a minute from its ticks up to `now` (the minute being built). */
  barUntil(minute: number, now: number): MinuteBar | undefined {
    const ticks = this.ticks(minute);
    let count = ticks.length;
    while (count > 0 && (ticks[count - 1] as TickRow)[0] > now) count -= 1;
    return count === 0 ? undefined : barOf(ticks.slice(0, count), this.price.scale);
  }

  /** Every tick of a minute, pins included, oldest first. Cached for recent minutes. */
  ticks(minute: number): TickRow[] {
    const cached = this.#ticks.get(minute);
    if (cached !== undefined) return cached;
    const built = this.#buildTicks(minute);
    this.#ticks.set(minute, built);
    if (this.#ticks.size > TICK_MINUTES_CACHED) {
      this.#ticks.delete(this.#ticks.keys().next().value as number);
    }
    return built;
  }

  /** The last tick at or before `now`; undefined if there is none within two weeks. */
  lastTick(now: number): TickRow | undefined {
    const current = Math.floor(now / MINUTE_MS);
    for (let minute = current; minute > current - LAST_TICK_LOOKBACK_MINUTES; minute--) {
      if (!this.hasTicks(minute)) continue;
      const ticks = this.ticks(minute);
      for (let index = ticks.length - 1; index >= 0; index--) {
        const tick = ticks[index] as TickRow;
        if (tick[0] <= now) return tick;
      }
    }
    return undefined;
  }

  /** The day path of the minute's day (for callers that walk many minutes). */
  day(minute: number): DayPath {
    return this.path.day(Math.floor(minute / MINUTES_PER_DAY));
  }

  #buildTicks(minute: number): TickRow[] {
    if (minute < FIRST_MINUTE) return [];
    const start = minute * MINUTE_MS;
    const end = start + MINUTE_MS;
    const pins = this.#pins.filter((pin) => pin.time >= start && pin.time < end);
    const pinTicks = pins.filter((pin) => pin.tick);
    if (!this.isActive(minute)) return pinTicks.map(pinTick);
    const day = Math.floor(minute / MINUTES_PER_DAY);
    const path = this.path.day(day);
    const minuteOfDay = minute - day * MINUTES_PER_DAY;
    if (pins.length === 0) {
      return minuteTicks(this.price, path, minuteOfDay, minute, this.segmentAt(start));
    }
    // Each canonical tick takes the segment in force at its time; pins go after equal times
    const bySegment = new Map<Segment, TickRow[]>();
    const rows: TickRow[] = [];
    let next = 0;
    const canonical = minuteTicks(this.price, path, minuteOfDay, minute, this.segmentAt(start));
    for (let index = 0; index < canonical.length; index++) {
      const time = (canonical[index] as TickRow)[0];
      while (next < pinTicks.length && (pinTicks[next] as Boundary).time < time)
        rows.push(pinTick(pinTicks[next++] as Boundary));
      const segment = this.segmentAt(time);
      let generated = bySegment.get(segment);
      if (generated === undefined) {
        generated = minuteTicks(this.price, path, minuteOfDay, minute, segment);
        bySegment.set(segment, generated);
      }
      rows.push(generated[index] as TickRow);
    }
    while (next < pinTicks.length) rows.push(pinTick(pinTicks[next++] as Boundary));
    return rows;
  }

  /** Log of the path's price at `time`, relative to the anchor, between minute boundaries. */
  #logAt(time: number): number {
    const minute = Math.floor(time / MINUTE_MS);
    const day = Math.floor(minute / MINUTES_PER_DAY);
    const path = this.path.day(day);
    const k = minute - day * MINUTES_PER_DAY;
    const share = (time - minute * MINUTE_MS) / MINUTE_MS;
    const from = path.x[k] as number;
    return from + share * ((path.x[k + 1] as number) - from);
  }
}

function pinTick(pin: Boundary): TickRow {
  return [pin.time, pin.bid, pin.ask, 0, 0, INFO_FLAGS, 0];
}

/** An M1 bar (points) from ticks; undefined for none. Spread: the first tick's. */
export function barOf(ticks: readonly TickRow[], scale: number): MinuteBar | undefined {
  const first = ticks[0];
  if (first === undefined) return undefined;
  const open = Math.round(first[1] * scale);
  let high = open;
  let low = open;
  let close = open;
  for (const tick of ticks) {
    close = Math.round(tick[1] * scale);
    if (close > high) high = close;
    if (close < low) low = close;
  }
  const spread = Math.round((first[2] - first[1]) * scale);
  return { open, high, low, close, ticks: ticks.length, spread };
}
