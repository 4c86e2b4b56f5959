/**
 * Order rate limits: exact sliding windows over the monotonic clock, counting only orders the
 * caller recorded after a pass.
 */
import { describe, expect, test } from "bun:test";
import { TestClock } from "../../shared/testing/test-clock.ts";
import { OrderRateWindow } from "./order-rate.ts";
import { RiskMonitor } from "./risk-monitor.ts";
import {
  makeLimits,
  makeMarket,
  makeOpen,
  makeSymbol,
  outcome,
  released,
} from "./testing/fixtures.ts";

describe("OrderRateWindow", () => {
  test("an order counts while now − t < window", () => {
    const window = new OrderRateWindow(1000);
    window.record(0);
    const early = [0, 399].map((now) => window.count(now, 1000));
    window.record(400);
    const later = [400, 999, 1000, 1399, 1400].map((now) => window.count(now, 1000));
    expect([...early, ...later]).toEqual([1, 1, 2, 2, 1, 1, 0]);
  });

  test("the short window counts inside the long horizon", () => {
    const window = new OrderRateWindow(60_000);
    for (const at of [0, 10_000, 59_500, 59_900]) window.record(at);
    expect([window.count(60_000, 1000), window.count(60_000, 60_000)]).toEqual([2, 3]);
  });

  test("compaction keeps counts exact over many orders", () => {
    const window = new OrderRateWindow(1000);
    for (let at = 0; at < 10_000; at += 10) window.record(at);
    expect([window.count(9_990, 1000), window.count(10_500, 1000)]).toEqual([100, 49]);
  });
});

describe("rate limits in the risk monitor", () => {
  function setup() {
    const clock = new TestClock();
    const monitor = new RiskMonitor({
      limits: makeLimits({ maxOrdersPerSecond: 3, maxOrdersPerMinute: 5, maxQuoteAgeMs: null }),
      clock,
    });
    const open = () =>
      outcome(released(monitor.checkOpen(makeOpen(), makeMarket({ symbol: makeSymbol() }))));
    return { clock, monitor, open };
  }

  test("refused and unrecorded orders do not count", () => {
    const { monitor, open } = setup();
    const results = Array.from({ length: 10 }, open);
    monitor.checkOpen(makeOpen({ volume: 50 }), makeMarket());
    expect(results.every((result) => result === "PASS")).toBe(true);
    expect(open()).toBe("PASS");
  });

  test("per-second and per-minute windows slide", () => {
    const { clock, monitor, open } = setup();
    const results: [number, string][] = [];
    const step = (advanceMs: number, record: number) => {
      clock.advance(advanceMs);
      results.push([clock.monotonic(), open()]);
      for (let index = 0; index < record; index++) monitor.recordOrder();
    };
    step(0, 3); // 3 at t=0
    step(999, 0); // second window still full
    step(1, 2); // t=1000: the first three left the second window; 5 in the minute now
    step(1000, 0); // t=2000: minute window full
    step(57_999, 0); // t=59,999: still full
    step(1, 0); // t=60,000: the three from t=0 left the minute window
    expect(results).toEqual([
      [0, "PASS"],
      [999, "RATE_LIMIT_PER_SECOND"],
      [1000, "PASS"],
      [2000, "RATE_LIMIT_PER_MINUTE"],
      [59_999, "RATE_LIMIT_PER_MINUTE"],
      [60_000, "PASS"],
    ]);
  });
});
