/**
 * Bars of any timeframe from the M1 bars of symbol-history.ts, and the position maths of
 * copy_rates_from / copy_rates_from_pos: which bars exist (a bar exists when a tick fell in it,
 * so closed hours leave no bars and the bar being built appears with its first tick).
 *
 * Every timeframe aggregates the same minutes, so an H1 bar is exactly its M1 bars combined:
 * open of the first, close of the last, extremes of all, tick volumes summed, and the spread of
 * the opening tick. Complete days are cached, which is what makes D1, W1 and MN1 over years
 * cheap after the first time. Work per call is bounded (`budget`): a call that runs out answers
 * with what it has and where to continue, never with a long stall.
 */
import {
  barOpenTime,
  nextBarOpenTime,
  previousBarOpenTime,
  type RateRow,
  type Timeframe,
} from "../../../../shared/protocol/index.ts";
import { type MinuteBar, minuteBar, type Segment } from "./minute.ts";
import { MINUTE_MS, MINUTES_PER_DAY, SIM_HISTORY_START } from "./path.ts";
import type { SymbolHistory } from "./symbol-history.ts";

const HOUR_MS = 3_600_000;
const FIRST_MINUTE = SIM_HISTORY_START / MINUTE_MS;
/** Minutes one call may compute (≈ 50 ms); skipping a closed hour or a cached day counts 1. */
export const DEFAULT_BUDGET = 500_000;
const DAYS_CACHED = 8192;

/** Minutes combined; `has` is false until the first one with ticks. */
interface Aggregate extends MinuteBar {
  has: boolean;
}

interface CachedDay {
  readonly segment: Segment;
  readonly bar: Aggregate;
}

export interface RatesChunk {
  readonly rows: RateRow[];
  /** Open time to continue from; undefined when the range is exhausted. */
  readonly next: number | undefined;
}

export interface Span {
  /** Open time of the oldest bar. */
  readonly from: number;
  /** Open time of the newest bar. */
  readonly to: number;
}

const empty = (): Aggregate => ({
  has: false,
  open: 0,
  high: 0,
  low: 0,
  close: 0,
  ticks: 0,
  spread: 0,
});

function merge(into: Aggregate, bar: MinuteBar | Aggregate): void {
  if ("has" in bar && !bar.has) return;
  if (!into.has) {
    into.has = true;
    into.open = bar.open;
    into.high = bar.high;
    into.low = bar.low;
    into.spread = bar.spread;
  } else {
    if (bar.high > into.high) into.high = bar.high;
    if (bar.low < into.low) into.low = bar.low;
  }
  into.close = bar.close;
  into.ticks += bar.ticks;
}

/** Bars of one symbol, with the cache of complete days. */
export class BarBuilder {
  readonly #history: SymbolHistory;
  readonly #days = new Map<number, CachedDay>();
  #budget = 0;

  constructor(history: SymbolHistory) {
    this.#history = history;
  }

  /** Bars opening within [from, min(to, now)], oldest first, at most `limit`. */
  rates(
    timeframe: Timeframe,
    from: number,
    to: number,
    limit: number,
    now: number,
    budget = DEFAULT_BUDGET,
  ): RatesChunk {
    this.#budget = budget;
    const end = Math.min(to, now);
    let open = barOpenTime(timeframe, from);
    if (open < from) open = nextBarOpenTime(timeframe, open);
    const floor = barOpenTime(timeframe, SIM_HISTORY_START);
    if (open < floor) open = floor;
    const scale = this.#history.price.scale;
    const rows: RateRow[] = [];
    while (open <= end && rows.length < limit && this.#budget > 0) {
      const close = nextBarOpenTime(timeframe, open);
      const bar = this.#aggregate(open, close, now);
      // A bar the budget cut short is built whole by the next call, never sent in part
      if (bar === undefined) break;
      if (bar.has) {
        rows.push([
          open,
          bar.open / scale,
          bar.high / scale,
          bar.low / scale,
          bar.close / scale,
          bar.ticks,
          bar.spread,
          0,
        ]);
      }
      open = close;
    }
    return { rows, next: open <= end ? open : undefined };
  }

  /**
   * The `count` existing bars counted back from the newest bar opening at or before `anchor`,
   * after skipping `skip` of them (copy_rates_from: skip 0, anchor the date; copy_rates_from_pos:
   * skip = start, anchor now). Undefined when no such bar exists.
   */
  span(
    timeframe: Timeframe,
    anchor: number,
    skip: number,
    count: number,
    now: number,
  ): Span | undefined {
    let open = barOpenTime(timeframe, Math.min(anchor, now));
    const floor = barOpenTime(timeframe, SIM_HISTORY_START);
    let skipped = 0;
    let newest: number | undefined;
    let oldest: number | undefined;
    let taken = 0;
    while (open >= floor && taken < count) {
      if (this.#hasTicks(open, nextBarOpenTime(timeframe, open), now)) {
        if (skipped < skip) {
          skipped += 1;
        } else {
          newest ??= open;
          oldest = open;
          taken += 1;
        }
      }
      open = previousBarOpenTime(timeframe, open);
    }
    return newest === undefined || oldest === undefined ? undefined : { from: oldest, to: newest };
  }

  /** Whether any tick falls in [start, end) at or before `now`, judged per hour. */
  #hasTicks(start: number, end: number, now: number): boolean {
    const history = this.#history;
    const nowMinuteStart = Math.floor(now / MINUTE_MS) * MINUTE_MS;
    for (let a = start; a < end && a <= now; a = Math.floor(a / HOUR_MS) * HOUR_MS + HOUR_MS) {
      const b = Math.min(end, Math.floor(a / HOUR_MS) * HOUR_MS + HOUR_MS, now + 1);
      if (history.hasPinTickIn(a, b)) return true;
      if (a < SIM_HISTORY_START || !history.path.isOpen(a)) continue;
      if (a < nowMinuteStart) return true;
      const first = history.ticks(Math.floor(a / MINUTE_MS))[0];
      if (first !== undefined && first[0] <= now) return true;
    }
    return false;
  }

  /** The aggregate of the minutes in [start, end) up to `now`; undefined if the budget ran out. */
  #aggregate(start: number, end: number, now: number): Aggregate | undefined {
    const history = this.#history;
    const into = empty();
    const nowMinute = Math.floor(now / MINUTE_MS);
    const last = Math.min(end / MINUTE_MS, nowMinute + 1);
    // Nothing exists before the history starts, not even a pinned quote
    let minute = Math.max(start / MINUTE_MS, FIRST_MINUTE);
    while (minute < last && this.#budget > 0) {
      const dayStart = Math.floor(minute / MINUTES_PER_DAY) * MINUTES_PER_DAY;
      const dayEnd = dayStart + MINUTES_PER_DAY;
      if (minute === dayStart && dayEnd <= last && dayEnd <= nowMinute) {
        merge(into, this.#day(dayStart / MINUTES_PER_DAY));
        minute = dayEnd;
        continue;
      }
      const hourEnd = Math.min((Math.floor(minute / 60) + 1) * 60, last);
      const hourTime = minute * MINUTE_MS;
      if (!history.path.isOpen(hourTime) && !history.hasPinTickIn(hourTime, hourEnd * MINUTE_MS)) {
        this.#budget -= 1;
        minute = hourEnd;
        continue;
      }
      this.#budget -= hourEnd - minute;
      if (hourEnd <= nowMinute && !history.hasPinIn(hourTime, hourEnd * MINUTE_MS)) {
        this.#openMinutes(into, minute, hourEnd);
        minute = hourEnd;
        continue;
      }
      for (; minute < hourEnd; minute++) {
        const bar = minute === nowMinute ? history.barUntil(minute, now) : history.bar(minute);
        if (bar !== undefined) merge(into, bar);
      }
    }
    return minute < last ? undefined : into;
  }

  /**
   * Complete minutes of one open hour without pins or marks: straight from the path, with the
   * one segment in force (the hot loop of every query).
   */
  #openMinutes(into: Aggregate, from: number, to: number): void {
    const history = this.#history;
    const day = Math.floor(from / MINUTES_PER_DAY);
    const path = history.path.day(day);
    const segment = history.segmentAt(from * MINUTE_MS);
    const first = day * MINUTES_PER_DAY;
    for (let minute = from; minute < to; minute++) {
      merge(into, minuteBar(history.price, path, minute - first, minute, segment));
    }
  }

  /** A complete day's aggregate, from the cache when nothing changed its prices since. */
  #day(day: number): Aggregate {
    const history = this.#history;
    const start = day * MINUTES_PER_DAY * MINUTE_MS;
    const end = start + MINUTES_PER_DAY * MINUTE_MS;
    const segment = history.segmentAt(start);
    const pinned = history.hasPinIn(start, end);
    const cached = pinned ? undefined : this.#days.get(day);
    if (
      cached !== undefined &&
      cached.segment.factor === segment.factor &&
      cached.segment.volatility === segment.volatility
    ) {
      this.#budget -= 1;
      return cached.bar;
    }
    const into = empty();
    const first = start / MINUTE_MS;
    for (let hour = 0; hour < 24; hour++) {
      const from = first + hour * 60;
      if (pinned && history.hasPinIn(from * MINUTE_MS, (from + 60) * MINUTE_MS)) {
        for (let minute = from; minute < from + 60; minute++) {
          const bar = history.bar(minute);
          if (bar !== undefined) merge(into, bar);
        }
      } else if (from >= FIRST_MINUTE && history.path.isOpen(from * MINUTE_MS)) {
        this.#openMinutes(into, from, from + 60);
      }
    }
    this.#budget -= MINUTES_PER_DAY;
    if (!pinned) {
      this.#days.set(day, { segment, bar: into });
      if (this.#days.size > DAYS_CACHED)
        this.#days.delete(this.#days.keys().next().value as number);
    }
    return into;
  }
}
