/**
 * History and the live feed are one market: every published quote is a history tick, the bar
 * being built ends at the current quote and later continues unchanged, a bar read twice is the
 * same, pinned quotes are in history too, and a restarted sim serves the same past.
 */
import { afterEach, describe, expect, test } from "bun:test";
import type { RateRow, TickRow } from "../../../../shared/protocol/index.ts";
import { TestClock } from "../../../../shared/testing/test-clock.ts";
import type { BackendEvent } from "../../backend.ts";
import type { RateSpan } from "../../market-reads.ts";
import { SATURDAY_NOON, SimHarness, WEDNESDAY_NOON } from "../testing/support.ts";

const MINUTE = 60_000;
const harnesses: SimHarness[] = [];
afterEach(async () => {
  for (const harness of harnesses.splice(0)) await harness.cleanup();
});

async function start(clock = new TestClock(WEDNESDAY_NOON), seed = 7): Promise<SimHarness> {
  const harness = new SimHarness({ seed }, clock);
  harnesses.push(harness);
  return harness.start();
}

type Quote = Extract<BackendEvent, { type: "QUOTE" }>;
const quotes = (harness: SimHarness, symbol: string) =>
  harness.events.filter(
    (event): event is Quote => event.type === "QUOTE" && event.symbol === symbol,
  );

async function ticks(
  harness: SimHarness,
  symbol: string,
  from: number,
  to: number,
): Promise<TickRow[]> {
  const all: TickRow[] = [];
  let start = { from, skip: 0 };
  for (;;) {
    const chunk = await harness.sim.market.ticks({
      symbol,
      ...start,
      to,
      kind: "ALL",
      limit: 5000,
    });
    all.push(...chunk!.rows);
    if (chunk!.next === undefined) return all;
    start = chunk!.next;
  }
}

const rates = async (
  harness: SimHarness,
  symbol: string,
  timeframe: "M1" | "M5" | "H1",
  from: number,
  to: number,
) => (await harness.sim.market.rates({ symbol, timeframe, from, to, limit: 5000 }))!.rows;

describe("live feed and history", () => {
  test("every quote the feed published is a tick of the history, with its time and prices", async () => {
    const harness = await start();
    harness.clock.advance(10 * MINUTE);
    for (const symbol of ["EURUSD", "XAUUSD", "BTCUSD"]) {
      const live = quotes(harness, symbol);
      expect(live.length).toBeGreaterThan(100);
      const history = await ticks(harness, symbol, WEDNESDAY_NOON - MINUTE, harness.clock.now());
      const byTime = new Map(history.map((tick) => [tick[0], tick]));
      for (const quote of live) {
        expect(byTime.get(quote.time)?.slice(1, 3)).toEqual([quote.bid, quote.ask]);
      }
    }
  });

  test("the bar being built ends at the current quote, and a closed bar read twice is the same", async () => {
    const harness = await start();
    harness.clock.advance(90_500);
    const now = harness.clock.now();
    const forming = (await rates(harness, "EURUSD", "M1", now - 5 * MINUTE, now)).at(-1)!;
    const quote = (await harness.sim.symbolInfo("EURUSD"))!;
    expect(forming[0]).toBe(Math.floor(now / MINUTE) * MINUTE);
    expect(forming[4]).toBe(quote.bid);
    expect((await harness.sim.market.lastTick("EURUSD"))!.bid).toBe(quote.bid);
    const before = await rates(harness, "EURUSD", "M5", now - 3_600_000, now);
    harness.clock.advance(20 * MINUTE);
    const later = await rates(harness, "EURUSD", "M5", now - 3_600_000, harness.clock.now());
    // Closed bars do not change; the one that was forming kept its open and grew
    expect(later.slice(0, before.length - 1)).toEqual(before.slice(0, -1));
    const grown = later[before.length - 1]!;
    const partial = before.at(-1)!;
    expect([grown[0], grown[1], grown[6]]).toEqual([partial[0], partial[1], partial[6]]);
    expect(grown[2]).toBeGreaterThanOrEqual(partial[2]);
    expect(grown[3]).toBeLessThanOrEqual(partial[3]);
    expect(grown[5]).toBeGreaterThan(partial[5]);
  });

  test("a pinned quote is a tick of the history and the market continues from it", async () => {
    const harness = await start();
    harness.clock.advance(30_000);
    await harness.sim.setQuote("EURUSD", 1.2345, 1.23462);
    const pinnedAt = harness.clock.now();
    harness.clock.advance(2 * MINUTE);
    const history = await ticks(harness, "EURUSD", pinnedAt - MINUTE, harness.clock.now());
    expect(history.find((tick) => tick[0] === pinnedAt)?.slice(1, 3)).toEqual([1.2345, 1.23462]);
    const after = history.filter((tick) => tick[0] > pinnedAt);
    expect(after.length).toBeGreaterThan(10);
    for (const tick of after) expect(Math.abs(tick[1] - 1.2345)).toBeLessThan(0.003);
    const bar = (await rates(harness, "EURUSD", "M1", pinnedAt - MINUTE, pinnedAt)).at(-1)!;
    expect(bar[2]).toBeGreaterThanOrEqual(1.2345);
  });

  test("a restarted sim serves the same past, pins included, and continues the same feed", async () => {
    const run = async () => {
      const harness = await start(new TestClock(WEDNESDAY_NOON), 31);
      harness.clock.advance(5 * MINUTE);
      await harness.sim.setQuote("GBPUSD", 1.3, 1.30014);
      harness.clock.advance(5 * MINUTE);
      const now = harness.clock.now();
      const before = await rates(harness, "GBPUSD", "M1", now - 3_600_000, now);
      await harness.restart({ seed: 999 });
      const after = await rates(harness, "GBPUSD", "M1", now - 3_600_000, now);
      harness.clock.advance(MINUTE);
      return { before, after, quotes: quotes(harness, "GBPUSD").slice(-20) };
    };
    const first = await run();
    expect(first.after).toEqual(first.before);
    expect(first.before.some((bar) => bar[2] >= 1.3)).toBe(true);
    expect(await run()).toEqual(first);
  });

  test("over a weekend the feed holds Friday's last tick and history has no bars", async () => {
    const harness = await start(new TestClock(SATURDAY_NOON));
    harness.clock.advance(10 * MINUTE);
    expect(quotes(harness, "EURUSD")).toEqual([]);
    const last = (await harness.sim.market.lastTick("EURUSD"))!;
    expect(last.time_msc).toBeLessThan(Date.UTC(2026, 10, 20, 22));
    const now = harness.clock.now();
    const bars = await rates(harness, "EURUSD", "H1", Date.UTC(2026, 10, 20, 12), now);
    expect(bars.at(-1)![0]).toBe(Date.UTC(2026, 10, 20, 21));
    expect(bars.at(-1)![4]).toBe(last.bid);
    expect(quotes(harness, "BTCUSD").length).toBeGreaterThan(50);
  });
});

describe("bar positions", () => {
  test("position 0 is the bar being built; counts skip the hours the market was closed", async () => {
    const monday = new TestClock(Date.UTC(2026, 10, 23, 0, 30, 20));
    const harness = await start(monday);
    const now = harness.clock.now();
    const span = (await harness.sim.market.rateSpan({
      symbol: "EURUSD",
      timeframe: "H1",
      anchor: now,
      skip: 0,
      count: 5,
    })) as RateSpan;
    expect(span).toEqual({ from: Date.UTC(2026, 10, 20, 20), to: Date.UTC(2026, 10, 23, 0) });
    const skipped = await harness.sim.market.rateSpan({
      symbol: "EURUSD",
      timeframe: "H1",
      anchor: now,
      skip: 2,
      count: 2,
    });
    // Positions 2 and 3: Sunday's 22:00 bar and Friday's last one
    expect(skipped).toEqual({ from: Date.UTC(2026, 10, 20, 21), to: Date.UTC(2026, 10, 22, 22) });
    // copy_rates_from: bars opening at or before the date, counted back from there
    const dated = await harness.sim.market.rateSpan({
      symbol: "EURUSD",
      timeframe: "M1",
      anchor: Date.UTC(2026, 10, 22, 22, 0, 30),
      skip: 0,
      count: 2,
    });
    expect(dated).toEqual({ from: Date.UTC(2026, 10, 20, 21, 59), to: Date.UTC(2026, 10, 22, 22) });
    const rows: readonly RateRow[] = (await harness.sim.market.rates({
      symbol: "EURUSD",
      timeframe: "H1",
      ...span,
      limit: 100,
    }))!.rows;
    expect(rows.map((row) => new Date(row[0]).toISOString().slice(8, 13))).toEqual([
      "20T20",
      "20T21",
      "22T22",
      "22T23",
      "23T00",
    ]);
    expect(
      await harness.sim.market.rateSpan({
        symbol: "EURUSD",
        timeframe: "D1",
        anchor: 0,
        skip: 0,
        count: 5,
      }),
    ).toBe("none");
    expect(
      await harness.sim.market.rateSpan({
        symbol: "NOPE",
        timeframe: "D1",
        anchor: now,
        skip: 0,
        count: 5,
      }),
    ).toBeUndefined();
  });

  test("a minute is not a bar until its first tick", async () => {
    const minute = Math.floor(WEDNESDAY_NOON / MINUTE) * MINUTE;
    const probe = await start(new TestClock(minute + MINUTE - 1));
    const first = (await ticks(probe, "EURUSD", minute, minute + MINUTE - 1))[0]![0];
    expect(first).toBeGreaterThan(minute);
    const span = (harness: SimHarness) =>
      harness.sim.market.rateSpan({
        symbol: "EURUSD",
        timeframe: "M1",
        anchor: harness.clock.now(),
        skip: 0,
        count: 1,
      });
    const before = await start(new TestClock(first - 1));
    expect(await span(before)).toEqual({ from: minute - MINUTE, to: minute - MINUTE });
    const at = await start(new TestClock(first));
    expect(await span(at)).toEqual({ from: minute, to: minute });
  });
});
