/**
 * Daily loss and drawdown: the trading day starts at local midnight in the configured zone (DST
 * included), the high-water mark only rises, and a breach escalates the trading state once.
 */
import { describe, expect, test } from "bun:test";
import { TestClock } from "../../shared/testing/test-clock.ts";
import type { TradingStateChange } from "../../shared/trading-state.ts";
import { EquityTracker } from "./equity-tracker.ts";
import { RiskMonitor } from "./risk-monitor.ts";
import {
  makeAccount,
  makeLimits,
  makeMarket,
  makeOpen,
  makePosition,
  makeSymbol,
  outcome,
  released,
} from "./testing/fixtures.ts";
import type { RiskLimits } from "./types.ts";

const utc = (day: number, hour: number, minute = 0) => Date.UTC(2026, 10, day, hour, minute);

describe("EquityTracker day boundary", () => {
  test.each<[string, number, string]>([
    // New York is UTC−5 in November: local midnight is 05:00 UTC
    ["America/New_York", utc(19, 4, 59), "2026-11-18"],
    ["America/New_York", utc(19, 5, 0), "2026-11-19"],
    // Tokyo is UTC+9, no DST: local midnight is 15:00 UTC the day before
    ["Asia/Tokyo", utc(18, 14, 59), "2026-11-18"],
    ["Asia/Tokyo", utc(18, 15, 0), "2026-11-19"],
    // US DST ends 2026-11-01 at 02:00 EDT: that day runs 04:00 UTC → 05:00 UTC the next day
    ["America/New_York", utc(1, 3, 59), "2026-10-31"],
    ["America/New_York", utc(1, 4, 0), "2026-11-01"],
    ["America/New_York", utc(2, 4, 59), "2026-11-01"],
    ["America/New_York", utc(2, 5, 0), "2026-11-02"],
    ["UTC", utc(18, 23, 59), "2026-11-18"],
  ])("%s at %p is local day %s", (zone, at, day) => {
    expect(new EquityTracker(zone).localDay(at)).toBe(day);
  });

  // Readings [UTC time, equity]; the day-start equity after each reading
  test.each<[string, [number, number][], number[]]>([
    [
      "America/New_York",
      [
        [utc(18, 6), 10_000],
        [utc(19, 0, 30), 9_800], // 19:30 in New York: same day
        [utc(19, 4, 30), 9_400],
        [utc(19, 5, 0), 9_400], // New York midnight
        [utc(19, 6), 9_000],
      ],
      [10_000, 10_000, 10_000, 9_400, 9_400],
    ],
    [
      "UTC",
      [
        [utc(18, 6), 10_000],
        [utc(19, 0, 30), 9_800],
        [utc(19, 4, 30), 9_400],
        [utc(19, 5, 0), 9_400],
        [utc(19, 6), 9_000],
      ],
      [10_000, 9_800, 9_800, 9_800, 9_800],
    ],
    [
      "Asia/Tokyo",
      [
        [utc(18, 1), 10_000],
        [utc(18, 14, 59), 9_500],
        [utc(18, 15, 0), 9_600], // Tokyo midnight
        [utc(18, 23), 9_200],
      ],
      [10_000, 10_000, 9_600, 9_600],
    ],
  ])("%s: start-of-day equity follows local midnight", (zone, readings, expected) => {
    const tracker = new EquityTracker(zone);
    const starts = readings.map(([at, equity]) => tracker.observe(equity, at).dayStartEquity);
    expect(starts).toEqual(expected);
  });

  test("the high-water mark only rises and drawdown is measured from it", () => {
    const tracker = new EquityTracker("UTC");
    const seen = [10_000, 12_000, 11_000, 12_500, 10_000].map((equity, index) =>
      tracker.observe(equity, utc(18 + index, 12)),
    );
    expect(seen.map((s) => s.highWaterMark)).toEqual([10_000, 12_000, 12_000, 12_500, 12_500]);
    const drawdowns = seen.map((s) => Number(s.drawdownPercent.toFixed(6)));
    expect(drawdowns).toEqual([0, 0, 8.333333, 0, 20]);
  });

  test("a seed carries the high-water mark and today's start over a restart", () => {
    const tracker = new EquityTracker("UTC", {
      highWaterMark: 12_000,
      day: "2026-11-18",
      dayStartEquity: 11_000,
    });
    const today = tracker.observe(10_000, utc(18, 12));
    const tomorrow = tracker.observe(10_000, utc(19, 12));
    expect([today.highWaterMark, today.dayStartEquity, tomorrow.dayStartEquity]).toEqual([
      12_000, 11_000, 10_000,
    ]);
  });
});

function monitorAt(startMs: number, limits: Partial<RiskLimits> = {}) {
  const clock = new TestClock(startMs);
  const monitor = new RiskMonitor({ limits: makeLimits(limits), clock });
  const changes: TradingStateChange[] = [];
  monitor.onStateChange((change) => changes.push(change));
  // A fresh quote at the clock's time, so only the account decides
  const open = (equity: number) =>
    outcome(
      released(
        monitor.checkOpen(
          makeOpen(),
          makeMarket({
            account: makeAccount({ equity }),
            symbol: makeSymbol({ quote_time: clock.now() }),
          }),
        ),
      ),
    );
  return { clock, monitor, changes, open };
}

describe("loss limits drive the trading state", () => {
  test("daily loss in Tokyo: denied, REDUCING, closes still pass, a new local day resets the loss", () => {
    // 2026-11-18 16:00 UTC is 01:00 on the 19th in Tokyo
    const { clock, monitor, changes, open } = monitorAt(utc(18, 16), { timeZone: "Asia/Tokyo" });
    monitor.updateEquity(makeAccount({ equity: 10_000 }));
    clock.advance(20 * 3_600_000); // 12:00 UTC on the 19th = 21:00 in Tokyo, same local day
    const atLimit = monitor.updateEquity(makeAccount({ equity: 9_500 }));
    const breach = outcome(
      monitor.checkOpen(makeOpen(), makeMarket({ account: makeAccount({ equity: 9_499 }) })),
    );
    const stateAfterBreach = monitor.tradingState;
    const closeWhileReducing = outcome(
      monitor.checkClose(
        { ticket: 501 },
        makeMarket({ account: makeAccount({ equity: 9_499 }), positions: [makePosition()] }),
      ),
    );
    const nextOpen = open(9_499);
    clock.advance(3 * 3_600_000); // 15:00 UTC: Tokyo midnight
    monitor.setTradingState("ACTIVE", "new day");
    const newDay = monitor.updateEquity(makeAccount({ equity: 9_499 }));
    expect(atLimit).toBeUndefined();
    expect([breach, stateAfterBreach, closeWhileReducing, nextOpen]).toEqual([
      "DAILY_LOSS_LIMIT",
      "REDUCING",
      "PASS",
      "REDUCING_ONLY",
    ]);
    expect(newDay).toBeUndefined();
    expect(monitor.equity).toMatchObject({
      day: "2026-11-20",
      dayStartEquity: 9_499,
      dailyLoss: 0,
    });
    expect(changes.map((change) => [change.state, change.source])).toEqual([
      ["REDUCING", "daily_loss"],
      ["ACTIVE", "operator"],
    ]);
  });

  test("daily loss in New York counts the evening after UTC midnight as the same day", () => {
    const { clock, monitor } = monitorAt(utc(18, 14), { timeZone: "America/New_York" });
    monitor.updateEquity(makeAccount({ equity: 10_000 })); // 09:00 New York
    clock.advance(11 * 3_600_000); // 01:00 UTC on the 19th, 20:00 on the 18th in New York
    const change = monitor.updateEquity(makeAccount({ equity: 9_400 }));
    expect(change).toMatchObject({ state: "REDUCING", source: "daily_loss" });
  });

  test("the same readings in UTC start a new day at UTC midnight and do not breach", () => {
    const { clock, monitor } = monitorAt(utc(18, 14), { timeZone: "UTC" });
    monitor.updateEquity(makeAccount({ equity: 10_000 }));
    clock.advance(10 * 3_600_000 + 1_800_000); // 00:30 UTC on the 19th
    monitor.updateEquity(makeAccount({ equity: 9_800 }));
    clock.advance(1_800_000);
    const change = monitor.updateEquity(makeAccount({ equity: 9_400 }));
    expect(change).toBeUndefined();
    expect(monitor.tradingState).toBe("ACTIVE");
  });

  test("dailyLossAction HALTED halts instead of reducing", () => {
    const { monitor } = monitorAt(utc(18, 12), { dailyLossAction: "HALTED" });
    monitor.updateEquity(makeAccount({ equity: 10_000 }));
    const change = monitor.updateEquity(makeAccount({ equity: 9_000 }));
    expect(change).toMatchObject({ previous: "ACTIVE", state: "HALTED", source: "daily_loss" });
  });

  test("drawdown from the high-water mark halts: 10 % passes, beyond halts", () => {
    const { clock, monitor, changes, open } = monitorAt(utc(15, 12), {
      dailyLossLimit: { money: null, percent: null },
    });
    const results: string[] = [];
    for (const equity of [10_000, 12_000, 10_900, 10_800]) {
      results.push(open(equity));
      clock.advance(86_400_000);
    }
    const states = [monitor.tradingState];
    results.push(open(10_799));
    states.push(monitor.tradingState);
    results.push(open(12_000));
    expect(results).toEqual(["PASS", "PASS", "PASS", "PASS", "MAX_DRAWDOWN", "TRADING_HALTED"]);
    expect(states).toEqual(["ACTIVE", "HALTED"]);
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({ state: "HALTED", source: "max_drawdown" });
  });

  test("limits only escalate: drawdown halts a REDUCING state, a daily loss never relaxes HALTED", () => {
    const { monitor, changes } = monitorAt(utc(18, 12), { maxDrawdownPercent: 15 });
    monitor.updateEquity(makeAccount({ equity: 10_000 }));
    monitor.updateEquity(makeAccount({ equity: 9_000 })); // daily loss 1000 > 500
    monitor.updateEquity(makeAccount({ equity: 8_000 })); // drawdown 20 % > 15 %
    monitor.updateEquity(makeAccount({ equity: 9_000 })); // still a daily loss, drawdown 10 %
    expect(changes.map((change) => change.state)).toEqual(["REDUCING", "HALTED"]);
    expect(monitor.tradingState).toBe("HALTED");
  });
});
