/**
 * The market history of one symbol as a pure function of (seed, symbol, time), plus the few
 * things the sim's state adds to it: a calibration factor (a fresh sim starts at the symbol's
 * anchor price) and pinned quotes (setQuote and queued price moves, the test hooks). A pin is a
 * tick of its own at the pinned bid/ask, and the ticks after it follow the path scaled so that it
 * continues from the pinned price; so the live feed, which reads this same history, and a
 * history query always agree.
 *
 * Minutes: a minute without pins is priced with one factor (that of the last pin before it, else
 * the calibration) and its bar comes straight from the path; a minute holding a pin is built from
 * its ticks. Nothing exists before SIM_HISTORY_START or while the session is closed (unless a pin
 * put a tick there), and nothing after `now`.
 */
import { INFO_FLAGS, type TickRow } from "../../../../shared/protocol/index.ts";
import type { SymbolSpec } from "../symbols.ts";
import { type MinuteBar, minuteBar, minuteTicks, type PriceParams, priceParams } from "./minute.ts";
import {
  type DayPath,
  MINUTE_MS,
  MINUTES_PER_DAY,
  SIM_HISTORY_START,
  type SymbolPath,
} from "./path.ts";

/** A pinned quote: its time, bid and ask, and the factor the path has after it. */
export type Pin = readonly [time: number, bid: number, ask: number, factor: number];

/** Pins kept per symbol; history before an evicted pin may shift slightly (test hooks only). */
export const MAX_PINS = 32;
const TICK_MINUTES_CACHED = 64;
const FIRST_MINUTE = SIM_HISTORY_START / MINUTE_MS;
/** How far back the last tick is looked for (a long weekend is 2 days). */
const LAST_TICK_LOOKBACK_MINUTES = 14 * MINUTES_PER_DAY;

export interface SymbolHistoryOptions {
  readonly spec: SymbolSpec;
  readonly key: number;
  readonly path: SymbolPath;
}

export class SymbolHistory {
  readonly symbol: string;
  readonly price: PriceParams;
  readonly path: SymbolPath;
  /** Factor before the first pin. */
  base = 1;
  #pins: Pin[] = [];
  readonly #ticks = new Map<number, TickRow[]>();

  constructor(options: SymbolHistoryOptions) {
    const { spec } = options;
    this.symbol = spec.symbol;
    this.path = options.path;
    this.price = priceParams(options.key, {
      scale: 10 ** spec.digits,
      typicalSpread: spec.typical_spread,
      anchor: spec.anchor_price,
      flatSpread: spec.session === "24x7",
    });
  }

  get pins(): readonly Pin[] {
    return this.#pins;
  }

  /** Replace calibration and pins (restoring persisted state); caches are dropped. */
  reset(base: number, pins: readonly Pin[]): void {
    this.base = base;
    this.#pins = [...pins].sort((a, b) => a[0] - b[0]).slice(-MAX_PINS);
    this.#ticks.clear();
  }

  /** Calibrate so the path's price at `time` is the anchor (a fresh state directory). */
  calibrate(time: number): void {
    this.base = 1 / Math.exp(this.#logAt(time));
    this.#ticks.clear();
  }

  /** Pin a quote (both on the point grid) at `time`; later ticks continue from its mid. */
  pin(time: number, bid: number, ask: number): Pin {
    const mid = (bid + ask) / 2;
    const factor = mid / (this.price.anchor * Math.exp(this.#logAt(time)));
    const pin: Pin = [time, bid, ask, factor];
    this.#pins.push(pin);
    if (this.#pins.length > MAX_PINS) this.#pins.shift();
    const from = Math.floor(time / MINUTE_MS);
    for (const minute of [...this.#ticks.keys()]) if (minute >= from) this.#ticks.delete(minute);
    return pin;
  }

  /** Factor of the path for canonical ticks at `time` (pins at exactly `time` come after them). */
  factorAt(time: number): number {
    const pins = this.#pins;
    let low = 0;
    let high = pins.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((pins[middle] as Pin)[0] < time) low = middle + 1;
      else high = middle;
    }
    return low === 0 ? this.base : (pins[low - 1] as Pin)[3];
  }

  /** Whether a pin lies in [start, end). */
  hasPinIn(start: number, end: number): boolean {
    for (const pin of this.#pins) if (pin[0] >= start && pin[0] < end) return true;
    return false;
  }

  /** Whether the path makes ticks in this minute (session open, history started). */
  isActive(minute: number): boolean {
    return minute >= FIRST_MINUTE && this.path.isOpen(minute * MINUTE_MS);
  }

  /** Whether the minute has any tick: active, or holding a pin (never before the history). */
  hasTicks(minute: number): boolean {
    if (minute < FIRST_MINUTE) return false;
    return this.isActive(minute) || this.hasPinIn(minute * MINUTE_MS, (minute + 1) * MINUTE_MS);
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
      this.factorAt(start),
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
    const pins = this.#pins.filter((pin) => pin[0] >= start && pin[0] < end);
    if (!this.isActive(minute)) return pins.map(pinTick);
    const day = Math.floor(minute / MINUTES_PER_DAY);
    const path = this.path.day(day);
    const minuteOfDay = minute - day * MINUTES_PER_DAY;
    if (pins.length === 0) {
      return minuteTicks(this.price, path, minuteOfDay, minute, this.factorAt(start));
    }
    // Each canonical tick takes the factor in force at its time; pins go after equal times
    const byFactor = new Map<number, TickRow[]>();
    const rows: TickRow[] = [];
    let next = 0;
    const canonical = minuteTicks(this.price, path, minuteOfDay, minute, this.factorAt(start));
    for (let index = 0; index < canonical.length; index++) {
      const time = (canonical[index] as TickRow)[0];
      while (next < pins.length && (pins[next] as Pin)[0] < time)
        rows.push(pinTick(pins[next++] as Pin));
      const factor = this.factorAt(time);
      let generated = byFactor.get(factor);
      if (generated === undefined) {
        generated = minuteTicks(this.price, path, minuteOfDay, minute, factor);
        byFactor.set(factor, generated);
      }
      rows.push(generated[index] as TickRow);
    }
    while (next < pins.length) rows.push(pinTick(pins[next++] as Pin));
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

function pinTick(pin: Pin): TickRow {
  return [pin[0], pin[1], pin[2], 0, 0, INFO_FLAGS, 0];
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
