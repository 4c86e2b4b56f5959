/**
 * OPEN requests against sessions, symbol trade modes, algo-trading permission, position and rate
 * limits, Instant-execution requotes, and the order in which the server reports failures.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { Retcode } from "../../../shared/protocol/index.ts";
import { TestClock } from "../../../shared/testing/test-clock.ts";
import {
  openOrder,
  SATURDAY_NOON,
  type SimHarness,
  type SimOverrides,
  startSim,
} from "./testing/support.ts";

let harness: SimHarness;
afterEach(async () => {
  await harness.cleanup();
});

async function sim(options: SimOverrides = {}, clock?: TestClock) {
  harness = await startSim(options, clock);
  return harness.sim;
}

describe("open: sessions (10018)", () => {
  test("closed on a Saturday under the forex schedule", async () => {
    const backend = await sim({}, new TestClock(SATURDAY_NOON));
    expect((await backend.open(openOrder())).retcode).toBe(Retcode.MARKET_CLOSED);
    expect((await backend.symbolInfo("EURUSD"))?.session_open).toBe(false);
  });

  test("crypto trades 24/7, also on a Saturday", async () => {
    const backend = await sim({}, new TestClock(SATURDAY_NOON));
    const result = await backend.open(openOrder({ symbol: "BTCUSD", volume: 0.01 }));
    expect(result.retcode).toBe(Retcode.DONE);
  });

  test("the 'always' schedule never closes", async () => {
    const backend = await sim({ sessions: "always" }, new TestClock(SATURDAY_NOON));
    expect((await backend.open(openOrder())).retcode).toBe(Retcode.DONE);
  });

  test("the market closes at Friday 22:00 UTC while the clock runs", async () => {
    const backend = await sim({}, new TestClock(Date.UTC(2026, 10, 20, 21, 59, 0)));
    expect((await backend.open(openOrder())).retcode).toBe(Retcode.DONE);
    harness.clock.advance(61_000);
    expect((await backend.open(openOrder())).retcode).toBe(Retcode.MARKET_CLOSED);
    const quoteTime = (await backend.symbolInfo("EURUSD"))?.quote_time ?? 0;
    harness.clock.advance(3_600_000);
    // No ticks while closed: the quote keeps its last time
    expect((await backend.symbolInfo("EURUSD"))?.quote_time).toBe(quoteTime);
  });
});

describe("open: symbol trade mode (10017, 10042, 10043, 10044)", () => {
  test("DISABLED refuses with TRADE_DISABLED", async () => {
    const backend = await sim({ symbols: [{ symbol: "EURUSD", trade_mode: "DISABLED" }] });
    expect((await backend.open(openOrder())).retcode).toBe(Retcode.TRADE_DISABLED);
  });

  test("LONG_ONLY refuses sells", async () => {
    const backend = await sim({ symbols: [{ symbol: "EURUSD", trade_mode: "LONG_ONLY" }] });
    expect((await backend.open(openOrder({ side: "SELL" }))).retcode).toBe(Retcode.LONG_ONLY);
    expect((await backend.open(openOrder({ side: "BUY" }))).retcode).toBe(Retcode.DONE);
  });

  test("SHORT_ONLY refuses buys", async () => {
    const backend = await sim({ symbols: [{ symbol: "EURUSD", trade_mode: "SHORT_ONLY" }] });
    expect((await backend.open(openOrder({ side: "BUY" }))).retcode).toBe(Retcode.SHORT_ONLY);
    expect((await backend.open(openOrder({ side: "SELL" }))).retcode).toBe(Retcode.DONE);
  });

  test("CLOSE_ONLY refuses new positions on a hedging account", async () => {
    const backend = await sim();
    backend.updateSymbol({ symbol: "EURUSD", trade_mode: "CLOSE_ONLY" });
    expect((await backend.open(openOrder())).retcode).toBe(Retcode.CLOSE_ONLY);
    expect((await backend.symbolInfo("EURUSD"))?.trade_mode).toBe("CLOSE_ONLY");
  });
});

describe("open: permissions and limits (10027, 10040, 10024)", () => {
  test("algo trading switched off in the terminal gives CLIENT_DISABLES_AT", async () => {
    const backend = await sim({ tradeAllowed: false });
    expect((await backend.open(openOrder())).retcode).toBe(Retcode.CLIENT_DISABLES_AT);
    expect((await backend.account()).trade_allowed).toBe(false);
    backend.setTradeAllowed(true);
    expect((await backend.open(openOrder())).retcode).toBe(Retcode.DONE);
  });

  test("maxPositions caps open positions", async () => {
    const backend = await sim({ maxPositions: 2 });
    expect((await backend.open(openOrder())).retcode).toBe(Retcode.DONE);
    expect((await backend.open(openOrder({ symbol: "GBPUSD" }))).retcode).toBe(Retcode.DONE);
    expect((await backend.open(openOrder())).retcode).toBe(Retcode.LIMIT_POSITIONS);
  });

  test("maxOrdersPerSecond refuses the excess until the window has passed", async () => {
    const backend = await sim({ maxOrdersPerSecond: 3 });
    const results = await Promise.all([1, 2, 3, 4].map(() => backend.open(openOrder())));
    expect(results.map((result) => result.retcode)).toEqual([
      Retcode.DONE,
      Retcode.DONE,
      Retcode.DONE,
      Retcode.TOO_MANY_REQUESTS,
    ]);
    harness.clock.advance(999);
    expect((await backend.open(openOrder())).retcode).toBe(Retcode.TOO_MANY_REQUESTS);
    harness.clock.advance(1);
    expect((await backend.open(openOrder())).retcode).toBe(Retcode.DONE);
  });
});

describe("open: execution and requotes (10004)", () => {
  test("Instant execution requotes when the price moved beyond the deviation", async () => {
    const backend = await sim();
    await backend.setQuote("XAUUSD", 2400, 2400.25);
    backend.queuePriceMove("XAUUSD", 30);
    const result = await backend.open(openOrder({ symbol: "XAUUSD", deviation: 10 }));
    expect(result).toMatchObject({
      retcode: Retcode.REQUOTE,
      deal: 0,
      bid: 2400.3,
      ask: 2400.55,
      comment: "Requote",
    });
    expect(await backend.positions()).toEqual([]);
    // The moved price is the market now, and the next request fills at it
    const retry = await backend.open(openOrder({ symbol: "XAUUSD", deviation: 10 }));
    expect(retry).toMatchObject({ retcode: Retcode.DONE, price: 2400.55 });
  });

  test("Instant execution fills within the deviation at the new price", async () => {
    const backend = await sim();
    await backend.setQuote("XAUUSD", 2400, 2400.25);
    backend.queuePriceMove("XAUUSD", -8);
    const result = await backend.open(openOrder({ symbol: "XAUUSD", deviation: 10 }));
    expect(result).toMatchObject({ retcode: Retcode.DONE, price: 2400.17 });
  });

  test("Market execution never requotes: it fills with slippage", async () => {
    const backend = await sim();
    await backend.setQuote("EURUSD", 1.0999, 1.1);
    backend.queuePriceMove("EURUSD", 30);
    const result = await backend.open(openOrder({ deviation: 0 }));
    expect(result).toMatchObject({ retcode: Retcode.DONE, price: 1.1003 });
  });
});

describe("open: check order (research §4.1)", () => {
  test("volume (step 4) is reported before a closed market (step 5)", async () => {
    const backend = await sim({}, new TestClock(SATURDAY_NOON));
    expect((await backend.open(openOrder({ volume: 0.015 }))).retcode).toBe(Retcode.INVALID_VOLUME);
  });

  test("money (step 2) is reported before invalid stops (step 3)", async () => {
    const backend = await sim({ account: { balance: 100 } });
    expect((await backend.open(openOrder({ volume: 1, sl: 5 }))).retcode).toBe(Retcode.NO_MONEY);
  });

  test("symbol state (step 5) is reported before algo-trading permission (step 6)", async () => {
    const backend = await sim({ tradeAllowed: false });
    backend.updateSymbol({ symbol: "EURUSD", trade_mode: "CLOSE_ONLY" });
    expect((await backend.open(openOrder())).retcode).toBe(Retcode.CLOSE_ONLY);
  });

  test("permission (step 6) is reported before the position limit (step 7)", async () => {
    const backend = await sim({ maxPositions: 1 });
    await backend.open(openOrder());
    backend.setTradeAllowed(false);
    expect((await backend.open(openOrder())).retcode).toBe(Retcode.CLIENT_DISABLES_AT);
  });

  test("an invalid field (step 1) wins over everything after it", async () => {
    const backend = await sim({ tradeAllowed: false }, new TestClock(SATURDAY_NOON));
    expect((await backend.open(openOrder({ volume: Number.NaN }))).retcode).toBe(Retcode.INVALID);
  });
});
