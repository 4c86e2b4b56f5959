/**
 * The generated market: ticks that agree with their bars exactly, every timeframe made of the
 * same minutes, no bars or ticks while the session is closed, prices near the anchor with a
 * daily rhythm, and the same history for the same seed and state, whatever was asked before.
 */
import { describe, expect, test } from "bun:test";
import { barOpenTime, type RateRow, TIMEFRAMES } from "../../../../shared/protocol/index.ts";
import { resolveSymbols } from "../symbols.ts";
import { minuteBar } from "./minute.ts";
import { SIM_HISTORY_START } from "./path.ts";
import { PriceHistory } from "./price-history.ts";
import { barOf } from "./symbol-history.ts";

const WEDNESDAY = Date.UTC(2026, 10, 18, 12);
const MINUTE = 60_000;
const DAY = 86_400_000;
const specs = resolveSymbols();

function market(seed = 7, schedule: "forex" | "always" = "forex", now = WEDNESDAY) {
  const history = new PriceHistory(specs.values(), seed, schedule);
  history.calibrate(now);
  return history;
}

describe("minutes", () => {
  test("ticks agree exactly with the bar: open, high, low, close, count and spread", () => {
    const { history } = market().get("EURUSD")!;
    const first = Math.floor(WEDNESDAY / MINUTE) - 3000;
    for (let minute = first; minute < first + 3000; minute += 7) {
      const ticks = history.ticks(minute);
      const { open, high, low, close, ticks: count, spread } = history.bar(minute)!;
      expect(barOf(ticks, history.price.scale)).toEqual({
        open,
        high,
        low,
        close,
        ticks: count,
        spread,
      });
      expect(ticks.length).toBeGreaterThanOrEqual(24);
      for (let i = 0; i < ticks.length; i++) {
        const tick = ticks[i]!;
        expect(Math.floor(tick[0] / MINUTE)).toBe(minute);
        if (i > 0) expect(tick[0]).toBeGreaterThan(ticks[i - 1]![0]);
        expect(tick[2]).toBeGreaterThan(tick[1]);
        // MT5 flags: something changed on every tick; the first of a minute carries both
        expect(tick[5] & 6).not.toBe(0);
        if (i === 0) expect(tick[5]).toBe(6);
        else {
          const before = ticks[i - 1]!;
          expect(tick[5] === 2 || tick[5] === 4 || tick[5] === 6).toBe(true);
          expect((tick[5] & 2) !== 0).toBe(tick[1] !== before[1]);
          expect((tick[5] & 4) !== 0).toBe(tick[2] !== before[2]);
        }
      }
    }
  });

  test("a bar is computed without its ticks and is the same every time", () => {
    const { history } = market().get("XAUUSD")!;
    const minute = Math.floor(WEDNESDAY / MINUTE) - 10;
    const day = Math.floor(minute / 1440);
    const bar = minuteBar(
      history.price,
      history.path.day(day),
      minute - day * 1440,
      minute,
      history.segmentAt(minute * MINUTE),
    );
    expect(history.bar(minute)).toEqual(bar);
    expect(market().get("XAUUSD")!.history.bar(minute)).toEqual(bar);
  });
});

describe("bars", () => {
  test("every timeframe is made of the same minutes", () => {
    const { bars } = market(3).get("GBPUSD")!;
    const from = WEDNESDAY - 40 * DAY;
    const m1 = bars.rates("M1", from, WEDNESDAY, 1_000_000, WEDNESDAY).rows;
    for (const timeframe of TIMEFRAMES) {
      if (timeframe === "W1" || timeframe === "MN1") continue; // their first bar opens before `from`
      const inside = new Map<number, RateRow[]>();
      for (const bar of m1) {
        const open = barOpenTime(timeframe, bar[0]);
        // copy_rates_range gives the bars that open within the range
        if (open >= from) inside.set(open, [...(inside.get(open) ?? []), bar]);
      }
      const rows = bars.rates(timeframe, from, WEDNESDAY, 1_000_000, WEDNESDAY).rows;
      expect(rows.map((row) => row[0])).toEqual([...inside.keys()]);
      for (const row of rows) {
        const part = inside.get(row[0])!;
        expect(row[1]).toBe(part[0]![1]);
        expect(row[4]).toBe(part.at(-1)![4]);
        expect(row[2]).toBe(Math.max(...part.map((bar) => bar[2])));
        expect(row[3]).toBe(Math.min(...part.map((bar) => bar[3])));
        expect(row[5]).toBe(part.reduce((sum, bar) => sum + bar[5], 0));
        expect(row[6]).toBe(part[0]![6]);
      }
    }
  });

  test("W1 bars open on Sundays and MN1 on the first of the month, made of their days", () => {
    const { bars } = market(4, "forex").get("EURUSD")!;
    const weeks = bars.rates("W1", Date.UTC(2026, 0, 1), WEDNESDAY, 100, WEDNESDAY).rows;
    const days = bars.rates("D1", Date.UTC(2025, 11, 20), WEDNESDAY, 1000, WEDNESDAY).rows;
    for (const week of weeks.slice(0, -1)) {
      expect(new Date(week[0]).getUTCDay()).toBe(0);
      const inside = days.filter((day) => day[0] >= week[0] && day[0] < week[0] + 7 * DAY);
      // A forex week: Sunday evening, Monday … Friday
      expect(inside.map((day) => new Date(day[0]).getUTCDay())).toEqual([0, 1, 2, 3, 4, 5]);
      expect(week[5]).toBe(inside.reduce((sum, day) => sum + day[5], 0));
      expect(week[2]).toBe(Math.max(...inside.map((day) => day[2])));
    }
    const months = bars.rates("MN1", Date.UTC(2026, 0, 1), WEDNESDAY, 100, WEDNESDAY).rows;
    expect(months.map((month) => new Date(month[0]).toISOString().slice(0, 10))).toEqual(
      Array.from({ length: 11 }, (_, i) => `2026-${String(i + 1).padStart(2, "0")}-01`),
    );
  });

  test("a closed market has no bars and no ticks; a 24x7 symbol and the always schedule do", () => {
    const friday = Date.UTC(2026, 10, 20, 21);
    const monday = Date.UTC(2026, 10, 23, 1);
    const forex = market(5, "forex", monday);
    const m1 = forex.get("EURUSD")!.bars.rates("M1", friday, monday, 10_000, monday).rows;
    const gap = m1.filter(
      (row) => row[0] >= Date.UTC(2026, 10, 20, 22) && row[0] < Date.UTC(2026, 10, 22, 22),
    );
    expect(gap).toEqual([]);
    expect(m1[0]![0]).toBe(friday);
    expect(m1.find((row) => row[0] >= Date.UTC(2026, 10, 20, 22))![0]).toBe(
      Date.UTC(2026, 10, 22, 22),
    );
    const h1 = forex.get("EURUSD")!.bars.rates("H1", friday, monday, 100, monday).rows;
    expect(h1.map((row) => new Date(row[0]).toISOString().slice(8, 13))).toEqual([
      "20T21",
      "22T22",
      "22T23",
      "23T00",
    ]);
    const btc = forex.get("BTCUSD")!.bars.rates("H1", friday, monday, 100, monday).rows;
    expect(btc).toHaveLength(52);
    const always = market(5, "always", monday)
      .get("EURUSD")!
      .bars.rates("H1", friday, monday, 100, monday).rows;
    expect(always).toHaveLength(52);
    // And nothing before the history begins
    expect(
      forex.get("EURUSD")!.bars.rates("D1", 0, SIM_HISTORY_START - 1, 100, monday).rows,
    ).toEqual([]);
  });

  test("prices look like the symbol: near the anchor, a daily range of about its volatility, busier in London", () => {
    const history = market(9);
    for (const spec of specs.values()) {
      const { bars } = history.get(spec.symbol)!;
      const days = bars.rates("D1", WEDNESDAY - 365 * DAY, WEDNESDAY, 1000, WEDNESDAY).rows;
      const closes = days.map((row) => row[4]);
      expect(Math.max(...closes) / spec.anchor_price).toBeLessThan(1.6);
      expect(Math.min(...closes) / spec.anchor_price).toBeGreaterThan(0.6);
      const returns = closes.slice(1).map((close, i) => Math.log(close / closes[i]!));
      const sd = Math.sqrt(returns.reduce((sum, r) => sum + r * r, 0) / returns.length);
      expect(sd).toBeGreaterThan(spec.daily_volatility * 0.5);
      expect(sd).toBeLessThan(spec.daily_volatility * 1.6);
    }
    const hours = history
      .get("EURUSD")!
      .bars.rates("H1", WEDNESDAY - 30 * DAY, WEDNESDAY, 5000, WEDNESDAY).rows;
    const ticksAt = (hour: number) =>
      hours
        .filter((row) => new Date(row[0]).getUTCHours() === hour)
        .reduce((sum, row) => sum + row[5], 0);
    expect(ticksAt(14)).toBeGreaterThan(ticksAt(2) * 1.5);
    // Spreads widen at the rollover
    const spreadAt = (hour: number) =>
      hours.filter((row) => new Date(row[0]).getUTCHours() === hour).map((row) => row[6]);
    const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
    expect(mean(spreadAt(21))).toBeGreaterThan(mean(spreadAt(14)) * 1.5);
  });

  test("the same seed gives the same history, whatever was asked before; another seed does not", () => {
    const range = [WEDNESDAY - 20 * DAY, WEDNESDAY] as const;
    const first = market(12)
      .get("USDJPY")!
      .bars.rates("M15", ...range, 5000, WEDNESDAY).rows;
    const warmed = market(12);
    warmed.get("USDJPY")!.bars.rates("D1", WEDNESDAY - 900 * DAY, WEDNESDAY, 5000, WEDNESDAY);
    warmed.get("USDJPY")!.history.ticks(Math.floor(WEDNESDAY / MINUTE) - 100);
    expect(warmed.get("USDJPY")!.bars.rates("M15", ...range, 5000, WEDNESDAY).rows).toEqual(first);
    expect(
      market(13)
        .get("USDJPY")!
        .bars.rates("M15", ...range, 5000, WEDNESDAY).rows,
    ).not.toEqual(first);
  });

  test("a fresh sim is calibrated at its own start; a restored one keeps the original history", () => {
    const original = market(21, "forex", WEDNESDAY);
    const later = market(21, "forex", WEDNESDAY + 30 * DAY);
    const range = [WEDNESDAY - 5 * DAY, WEDNESDAY] as const;
    const bars = original.get("EURUSD")!.bars.rates("H4", ...range, 100, WEDNESDAY).rows;
    expect(later.get("EURUSD")!.bars.rates("H4", ...range, 100, WEDNESDAY).rows).not.toEqual(bars);
    later.restore(JSON.parse(JSON.stringify(original.snapshot())), "test");
    expect(later.get("EURUSD")!.bars.rates("H4", ...range, 100, WEDNESDAY).rows).toEqual(bars);
    // Another seed in this run's options does not matter either: the state's seed wins
    const other = market(99, "forex", WEDNESDAY);
    other.restore(original.snapshot(), "test");
    expect(other.get("EURUSD")!.bars.rates("H4", ...range, 100, WEDNESDAY).rows).toEqual(bars);
  });

  test("a query stops at its work budget and says where to continue", () => {
    const from = WEDNESDAY - 200 * DAY;
    const all = market(2).get("EURUSD")!.bars.rates("D1", from, WEDNESDAY, 5000, WEDNESDAY);
    expect(all.next).toBeUndefined();
    const { bars } = market(2).get("EURUSD")!;
    const pages: RateRow[][] = [];
    let next: number | undefined = from;
    while (next !== undefined) {
      const page = bars.rates("D1", next, WEDNESDAY, 5000, WEDNESDAY, 50_000);
      pages.push(page.rows);
      if (page.next !== undefined) expect(page.next).toBeGreaterThan(page.rows.at(-1)![0]);
      next = page.next;
    }
    expect(pages.length).toBeGreaterThan(3);
    expect(pages.flat()).toEqual(all.rows);
  });

  test("a bar the budget cuts short is not sent half-built: the next query builds it whole", () => {
    const from = WEDNESDAY - 200 * DAY;
    const all = market(2).get("EURUSD")!.bars.rates("MN1", from, WEDNESDAY, 5000, WEDNESDAY);
    const { bars } = market(2).get("EURUSD")!;
    const pages: RateRow[][] = [];
    let next: number | undefined = from;
    // A month of minutes is ~44,000: each query builds one month whole and runs out in the next
    while (next !== undefined && pages.length < 50) {
      const page = bars.rates("MN1", next, WEDNESDAY, 5000, WEDNESDAY, 60_000);
      pages.push(page.rows);
      next = page.next;
    }
    expect(pages.length).toBeGreaterThan(2);
    expect(pages.flat()).toEqual(all.rows);
  });
});
