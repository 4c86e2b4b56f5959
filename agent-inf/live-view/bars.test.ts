/**
 * The closed-bar watcher with a TestClock and a fake bar source: when a bar counts as closed
 * (a quote in a later bar, or the grace timer on a quiet symbol), that each bar is told once and
 * in order, catch-up after an outage (with a BAR_GAP past the limit), retries after a failed
 * read, lingering pairs, and what a resume may rely on (coversSince).
 */
import { describe, expect, test } from "bun:test";
import { createLogger } from "../../shared/log.ts";
import type { Timeframe } from "../../shared/protocol/index.ts";
import { TestClock } from "../../shared/testing/test-clock.ts";
import {
  type ApiBar,
  BarWatcher,
  CLOSE_GRACE_MS,
  LINGER_MS,
  MAX_CATCH_UP_BARS,
  pairKey,
} from "./bars.ts";
import { type FeedEvent, LaneFeed } from "./feed.ts";

const T0 = Date.UTC(2026, 11, 7, 10, 0, 30); // 30 s into the 10:00 M1 bar
const MIN = 60_000;
const HOURS_2 = 2 * 3_600_000;

function bar(openMs: number): ApiBar {
  const time = openMs / 1000;
  return {
    time,
    open: 1,
    high: 2,
    low: 0.5,
    close: 1.5,
    tick_volume: time % 97,
    spread: 10,
    real_volume: 0,
  };
}

interface Setup {
  clock: TestClock;
  feed: LaneFeed;
  watcher: BarWatcher;
  reads: Array<[string, Timeframe, number, number]>;
  events: FeedEvent[];
  /** Bars the source has; by default every minute has one. */
  missing: Set<number>;
  fail: { next: number };
  connected: { value: boolean };
  released: string[];
  acquired: string[];
}

function setup(serverOffsetMs: { value?: number } = {}): Setup {
  const clock = new TestClock(T0);
  const feed = new LaneFeed("gtw-1", "ep");
  const reads: Setup["reads"] = [];
  const events: FeedEvent[] = [];
  const missing = new Set<number>();
  const fail = { next: 0 };
  const connected = { value: true };
  const released: string[] = [];
  const acquired: string[] = [];
  feed.add({
    events: true,
    wantsBars: () => true,
    wantsQuote: () => false,
    quote() {},
    event: (e) => events.push(e),
  });
  const watcher = new BarWatcher({
    feed,
    clock,
    logger: createLogger("test"),
    readBars: async (symbol, timeframe, from, to) => {
      reads.push([symbol, timeframe, from, to]);
      if (fail.next > 0) {
        fail.next -= 1;
        throw new Error("gateway timeout");
      }
      const step = { M5: 5 * MIN, D1: 1440 * MIN }[timeframe as string] ?? MIN;
      const out: ApiBar[] = [];
      for (let open = Math.ceil(from / step) * step; open <= to; open += step)
        if (!missing.has(open)) out.push(bar(open));
      return out;
    },
    clockOffsetMs: () => 0,
    serverOffsetMs: () => serverOffsetMs.value,
    connected: () => connected.value,
    acquireQuotes: async (symbols) => {
      acquired.push(...symbols.filter((s) => s !== "NOPE"));
      return symbols
        .filter((s) => s === "NOPE")
        .map((symbol) => ({ symbol, code: "UNKNOWN_SYMBOL" }));
    },
    releaseQuotes: (symbols) => released.push(...symbols),
  });
  return { clock, feed, watcher, reads, events, missing, fail, connected, released, acquired };
}

/** Let the watcher's promise chain run. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

const barsTold = (s: Setup) =>
  s.events.filter((e) => e.type === "BAR").map((e) => JSON.parse(e.json).bar.time * 1000);

describe("bar watcher", () => {
  test("a quote in the next bar closes the current one, which is read and told once", async () => {
    const s = setup();
    await s.watcher.acquire([{ symbol: "EURUSD", timeframe: "M1" }]);
    const open = Date.UTC(2026, 11, 7, 10, 0);

    s.watcher.quote("EURUSD", open + 50_000); // same bar: nothing closed
    s.watcher.quote("EURUSD", open + MIN + 120);
    s.watcher.quote("EURUSD", open + MIN + 400); // the same close again
    await settle();

    expect(s.reads).toEqual([["EURUSD", "M1", open, open + MIN - 1]]);
    expect(barsTold(s)).toEqual([open]);
    const event = JSON.parse(s.events[0]?.json ?? "{}");
    expect(event).toMatchObject({
      event: "BAR",
      gateway: "gtw-1",
      symbol: "EURUSD",
      timeframe: "M1",
      bar: bar(open),
    });
    expect(s.events[0]?.pair).toBe("EURUSD:M1");
    expect(s.watcher.lastBar("EURUSD:M1")).toEqual(bar(open));
  });

  test("a quiet symbol's bar closes by the timer, CLOSE_GRACE_MS after its end", async () => {
    const s = setup();
    await s.watcher.acquire([{ symbol: "EURUSD", timeframe: "M1" }]);
    const open = Date.UTC(2026, 11, 7, 10, 0);

    s.clock.advance(30_000 + CLOSE_GRACE_MS - 1);
    await settle();
    const before = barsTold(s).length;
    s.clock.advance(1);
    await settle();

    expect(before).toBe(0);
    expect(barsTold(s)).toEqual([open]);
  });

  test("a minute without ticks has no bar; the next one is told in order", async () => {
    const s = setup();
    await s.watcher.acquire([{ symbol: "EURUSD", timeframe: "M1" }]);
    const open = Date.UTC(2026, 11, 7, 10, 0);
    s.missing.add(open + MIN);

    s.watcher.quote("EURUSD", open + MIN + 1);
    await settle();
    s.watcher.quote("EURUSD", open + 2 * MIN + 1);
    await settle();
    s.watcher.quote("EURUSD", open + 3 * MIN + 1);
    await settle();

    expect(barsTold(s)).toEqual([open, open + 2 * MIN]);
  });

  test("after an outage every missed bar is read in one go; past the limit a BAR_GAP names the rest", async () => {
    const s = setup();
    await s.watcher.acquire([{ symbol: "EURUSD", timeframe: "M1" }]);
    const open = Date.UTC(2026, 11, 7, 10, 0);
    s.connected.value = false;

    s.watcher.quote("EURUSD", open + 3 * MIN + 1); // disconnected: not read
    await settle();
    const whileDown = s.reads.length;
    s.connected.value = true;
    s.watcher.quote("EURUSD", open + 4 * MIN + 1);
    await settle();

    expect(whileDown).toBe(0);
    expect(barsTold(s)).toEqual([open, open + MIN, open + 2 * MIN, open + 3 * MIN]);

    // A long outage: more than MAX_CATCH_UP_BARS minutes
    const later = open + 4 * MIN + (MAX_CATCH_UP_BARS + 10) * MIN;
    s.watcher.quote("EURUSD", later + 1);
    await settle();
    const gap = s.events.find((e) => e.type === "BAR_GAP");
    const told = barsTold(s);
    expect(JSON.parse(gap?.json ?? "{}")).toMatchObject({
      symbol: "EURUSD",
      timeframe: "M1",
      from: (open + 4 * MIN) / 1000,
      to: (later - MAX_CATCH_UP_BARS * MIN) / 1000 - 1,
    });
    expect(told.length).toBe(4 + MAX_CATCH_UP_BARS);
    expect(told.at(-1)).toBe(later - MIN);
    expect(told).toEqual([...told].sort((a, b) => a - b));
  });

  test("a failed read is retried, and nothing is told twice or skipped", async () => {
    const s = setup();
    await s.watcher.acquire([{ symbol: "EURUSD", timeframe: "M1" }]);
    const open = Date.UTC(2026, 11, 7, 10, 0);
    s.fail.next = 1;

    s.watcher.quote("EURUSD", open + MIN + 1);
    await settle();
    s.watcher.quote("EURUSD", open + MIN + 2); // within the retry pause: not asked
    await settle();
    const afterFailure = s.reads.length;
    s.clock.advance(1000);
    await settle();

    expect(afterFailure).toBe(1);
    expect(barsTold(s)).toEqual([open]);
    expect(s.reads.length).toBe(2);
  });

  test("several timeframes of one symbol close together, each its own bars", async () => {
    const s = setup();
    await s.watcher.acquire([
      { symbol: "EURUSD", timeframe: "M1" },
      { symbol: "EURUSD", timeframe: "M5" },
    ]);
    const m5 = Date.UTC(2026, 11, 7, 10, 0);

    s.watcher.quote("EURUSD", m5 + 5 * MIN + 1);
    await settle();

    const byPair = (key: string) =>
      s.events.filter((e) => e.type === "BAR" && e.pair === key).length;
    expect(byPair(pairKey("EURUSD", "M1"))).toBe(5);
    expect(byPair(pairKey("EURUSD", "M5"))).toBe(1);
  });

  test("unknown symbols are refused and not watched; released pairs linger, then go", async () => {
    const s = setup();
    const refused = await s.watcher.acquire([
      { symbol: "NOPE", timeframe: "M1" },
      { symbol: "EURUSD", timeframe: "M1" },
    ]);
    expect(refused).toEqual([{ symbol: "NOPE", code: "UNKNOWN_SYMBOL" }]);
    expect(s.watcher.watched).toBe(1);

    const since = s.feed.lastN;
    s.watcher.release([{ symbol: "EURUSD", timeframe: "M1" }]);
    s.clock.advance(LINGER_MS - 60_000);
    await settle();
    const lingering = s.watcher.watched;
    const covered = s.watcher.coversSince(["EURUSD:M1"], since);
    s.clock.advance(2 * 60_000);
    await settle();

    expect(lingering).toBe(1);
    expect(covered).toBe(true);
    expect(s.watcher.watched).toBe(0);
    expect(s.released).toEqual(["EURUSD"]);
    expect(s.watcher.coversSince(["EURUSD:M1"], since)).toBe(false);
  });

  test("quote subscriptions: one per watched pair, all given back when the pairs go", async () => {
    const s = setup();
    const pairs = [
      { symbol: "EURUSD", timeframe: "M1" as const },
      { symbol: "EURUSD", timeframe: "M5" as const },
    ];
    const m1 = pairs.slice(0, 1);
    await s.watcher.acquire(m1);
    await s.watcher.acquire(m1); // a second stream on the same pair
    await s.watcher.acquire(pairs);
    s.watcher.release(m1);
    s.watcher.release(m1);
    s.watcher.release(pairs);
    s.clock.advance(LINGER_MS + 60_000);
    await settle();

    expect(s.acquired).toEqual(["EURUSD", "EURUSD"]);
    expect(s.released.sort()).toEqual(s.acquired);
    expect(s.watcher.watched).toBe(0);
  });

  test("coversSince: only events after the pair began to be watched resume exactly", async () => {
    const s = setup();
    s.feed.publishEvent("DEAL", {});
    const before = s.feed.lastN;
    s.feed.publishEvent("DEAL", {});
    await s.watcher.acquire([{ symbol: "EURUSD", timeframe: "M1" }]);

    expect(s.watcher.coversSince(["EURUSD:M1"], s.feed.lastN)).toBe(true);
    expect(s.watcher.coversSince(["EURUSD:M1"], before)).toBe(false);
    expect(s.watcher.coversSince(["GBPUSD:M1"], s.feed.lastN)).toBe(false);
  });

  test("a broker at UTC+2: quotes and clocks are UTC, bars are read and told in server time", async () => {
    const s = setup({ value: HOURS_2 });
    // 23:59:30 UTC at acquire: 01:59:30 server time, the next day
    s.clock.advance(Date.UTC(2026, 11, 7, 23, 59, 30) - T0);
    await s.watcher.acquire([
      { symbol: "EURUSD", timeframe: "M1" },
      { symbol: "EURUSD", timeframe: "D1" },
    ]);
    const serverBar = Date.UTC(2026, 11, 8, 1, 59); // the bar being built, in server time

    s.watcher.quote("EURUSD", Date.UTC(2026, 11, 8, 0, 0, 1)); // UTC: 02:00:01 server time
    await settle();

    // The bar of 01:59 server time, not one of 23:59 (two hours stale); no D1 closed: the
    // server's day began at 22:00 UTC, not at midnight UTC
    expect(s.reads).toEqual([["EURUSD", "M1", serverBar, serverBar + MIN - 1]]);
    expect(barsTold(s)).toEqual([serverBar]);

    // The timer works on the server clock too: the server's midnight is 22:00 UTC
    s.clock.advance(Date.UTC(2026, 11, 8, 22, 0) + CLOSE_GRACE_MS - s.clock.now());
    await settle();
    const d1 = s.events.filter((e) => e.type === "BAR" && e.pair === "EURUSD:D1");
    expect(d1.map((e) => JSON.parse(e.json).bar.time * 1000)).toEqual([Date.UTC(2026, 11, 8)]);
  });

  test("an offset first heard after the pair was added: the pair starts at the server's open bar", async () => {
    // agent-inf started while the terminal was away: no offset yet, so UTC was taken
    const offset: { value?: number } = {};
    const s = setup(offset);
    await s.watcher.acquire([{ symbol: "EURUSD", timeframe: "M1" }]);
    offset.value = HOURS_2;
    const open = Date.UTC(2026, 11, 7, 12, 0); // 10:00 UTC's bar on the server clock

    s.watcher.quote("EURUSD", Date.UTC(2026, 11, 7, 10, 1, 1));
    await settle();

    // One bar, the one that just closed; not the two hours since 10:00 UTC read as server time
    expect(barsTold(s)).toEqual([open]);
  });

  test("stop cancels every timer", async () => {
    const s = setup();
    await s.watcher.acquire([{ symbol: "EURUSD", timeframe: "H1" }]);

    s.watcher.stop();

    expect(s.clock.pendingTimers).toBe(0);
  });
});
