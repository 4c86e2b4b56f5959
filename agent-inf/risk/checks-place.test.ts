/**
 * PLACE in the risk monitor (issue 15 §4): a pending order is checked as the OPEN it may become,
 * measured from its own price (stop-limit: its limit price), and counts against the position
 * limits from placement; the quote it is placed on decides neither spread nor age.
 */
import { describe, expect, test } from "bun:test";
import { makeTradeOrder } from "../../shared/protocol/testing/fixtures.ts";
import { TestClock } from "../../shared/testing/test-clock.ts";
import { RiskMonitor } from "./risk-monitor.ts";
import {
  BASE_MS,
  makeLimits,
  makeMarket,
  makeOpen,
  makePlace,
  makePosition,
  makeSymbol,
  outcome,
  released,
} from "./testing/fixtures.ts";
import type { MarketSnapshot, PlaceIntent, RiskLimits } from "./types.ts";

function monitor(limits: Partial<RiskLimits> = {}, state?: "REDUCING" | "HALTED") {
  const risk = new RiskMonitor({ limits: makeLimits(limits), clock: new TestClock(BASE_MS) });
  if (state !== undefined) risk.setTradingState(state, "test");
  return risk;
}

function place(
  intent: Partial<PlaceIntent> = {},
  market: Partial<MarketSnapshot> = {},
  limits: Partial<RiskLimits> = {},
): string {
  return outcome(released(monitor(limits).checkPlace(makePlace(intent), makeMarket(market))));
}

describe("PLACE is checked from the order's price", () => {
  test("the default BUY_LIMIT passes, reserves a position and sends the checked volume", () => {
    const risk = monitor();
    const decision = risk.checkPlace(makePlace(), makeMarket());
    expect(decision.ok && decision.reservation.exposure).toMatchObject({
      kind: "PLACE",
      symbol: "EURUSD",
      side: "BUY",
      volume: 0.1,
    });
  });

  test("an SL under the bid but above a buy limit's price is on the wrong side of it", () => {
    const decision = monitor().checkPlace(makePlace({ sl: 1.098 }), makeMarket());
    expect(decision.ok ? "PASS" : decision.denial).toMatchObject({
      code: "SL_WRONG_SIDE",
      context: { order_price: 1.095, sl: 1.098 },
    });
    // The same stop on an OPEN is fine: measured from the bid
    expect(outcome(released(monitor().checkOpen(makeOpen({ sl: 1.098 }), makeMarket())))).toBe(
      "PASS",
    );
  });

  test.each([
    ["SL within the stops level of the price", { sl: 1.09495 }, "SL_TOO_CLOSE"],
    ["TP under a buy limit's price", { tp: 1.0949 }, "TP_WRONG_SIDE"],
    [
      "a sell stop's SL under its price",
      { type: "SELL_STOP", side: "SELL", price: 1.09, sl: 1.089, tp: 1.08 },
      "SL_WRONG_SIDE",
    ],
    [
      "a sell stop with its stops on the right side",
      { type: "SELL_STOP", side: "SELL", price: 1.09, sl: 1.091, tp: 1.08 },
      "PASS",
    ],
    ["no SL while one is required", { sl: null }, "SL_REQUIRED"],
  ] as const)("%s: %s", (_name, intent, expected) => {
    expect(place(intent as Partial<PlaceIntent>)).toBe(expected);
  });

  test("money at risk is measured from the order price, not the ask", () => {
    // 0.1 lot, 1.0950 → 1.0760 is 190 USD (under 2 % of 10,000); from the ask it would be 241
    expect(place({ sl: 1.076 })).toBe("PASS");
    expect(place({ sl: 1.074 })).toBe("RISK_ABOVE_MAX");
    expect(outcome(released(monitor().checkOpen(makeOpen({ sl: 1.076 }), makeMarket())))).toBe(
      "RISK_ABOVE_MAX",
    );
  });

  test("notional is the order price's: a buy stop far above the market", () => {
    const limits = { maxNotional: 115_000 };
    const stop = { type: "BUY_STOP", price: 1.2, sl: 1.1995, tp: 1.21, volume: 1 } as const;
    expect(place(stop, {}, limits)).toBe("NOTIONAL_ABOVE_MAX");
    expect(place({ ...stop, price: 1.11, sl: 1.1095, tp: 1.12 }, {}, limits)).toBe("PASS");
  });

  test("a stop-limit opens at its limit price: stops and risk are measured from there", () => {
    const stopLimit = { type: "BUY_STOP_LIMIT", price: 1.105, stoplimit: 1.104 } as const;
    expect(place({ ...stopLimit, sl: 1.10395, tp: 1.11 })).toBe("SL_TOO_CLOSE");
    expect(place({ ...stopLimit, sl: 1.103, tp: 1.11 })).toBe("PASS");
    expect(place({ ...stopLimit, sl: 1.103, tp: 1.10405 })).toBe("TP_TOO_CLOSE");
  });

  test.each([
    ["a stop-limit without its limit price", { type: "BUY_STOP_LIMIT", price: 1.105 }],
    ["a limit with a stop-limit price", { stoplimit: 1.09 }],
    ["a side that is not the type's", { side: "SELL" }],
    ["a price that is not positive", { price: 0 }],
  ] as const)("%s is INVALID_INTENT", (_name, intent) => {
    expect(place(intent as Partial<PlaceIntent>)).toBe("INVALID_INTENT");
  });

  test("neither a wide spread nor an old quote refuses a pending order", () => {
    const symbol = makeSymbol({ ask: 1.1005, quote_time: BASE_MS - 60_000 });
    expect(place({}, { symbol })).toBe("PASS");
    const open = monitor().checkOpen(makeOpen(), makeMarket({ symbol }));
    expect(outcome(released(open))).toBe("SPREAD_TOO_WIDE");
  });

  test("the volume, symbol, session and trade mode rules of OPEN apply", () => {
    expect(place({ volume: 5 })).toBe("VOLUME_ABOVE_MAX");
    expect(place({ volume: 0.105 })).toBe("VOLUME_STEP");
    expect(place({ symbol: "GBPUSD" })).toBe("SYMBOL_NOT_ALLOWED");
    expect(place({}, { symbol: makeSymbol({ session_open: false }) })).toBe("MARKET_CLOSED");
    expect(place({}, { symbol: makeSymbol({ trade_mode: "SHORT_ONLY" }) })).toBe(
      "SIDE_NOT_ALLOWED",
    );
  });

  test("Kelly sizes a pending order from its own price to its SL", () => {
    const risk = monitor({ kelly: { enabled: true, fraction: 1, maxFraction: 0.01 } });
    // 1 % of 10,000 at 1,000 USD per lot from 1.0950 to 1.0850 → 0.1 lot of the 0.5 asked
    // (from the ask, 1,510 USD per lot, it would be 0.06)
    const decision = risk.checkPlace(
      makePlace({ volume: 0.5, sl: 1.085, edge: { winProbability: 0.6, payoffRatio: 2 } }),
      makeMarket(),
    );
    expect(decision.ok && decision.volume).toBe(0.1);
  });
});

describe("PLACE and the trading state", () => {
  test.each([
    ["REDUCING", "REDUCING_ONLY"],
    ["HALTED", "TRADING_HALTED"],
  ] as const)("%s refuses new pending orders", (state, code) => {
    const decision = monitor({}, state).checkPlace(makePlace(), makeMarket());
    expect(decision.ok ? "PASS" : decision.denial.code).toBe(code);
  });

  test("the breaker refuses them", () => {
    const risk = new RiskMonitor({
      limits: makeLimits(),
      clock: new TestClock(BASE_MS),
      breaker: { engaged: true },
    });
    expect(outcome(risk.checkPlace(makePlace(), makeMarket()))).toBe("BREAKER_OPEN");
  });
});

describe("pending orders count against the position limits", () => {
  const orders = (n: number, symbol = "EURUSD") =>
    Array.from({ length: n }, (_, i) => makeTradeOrder({ ticket: 9000 + i, symbol }));

  test("five orders on other symbols fill max_positions 5 for an OPEN and a PLACE", () => {
    const market = makeMarket({ orders: orders(5, "USDJPY") });
    expect(
      outcome(released(monitor({ maxPositionsPerSymbol: null }).checkOpen(makeOpen(), market))),
    ).toBe("MAX_POSITIONS");
    expect(place({}, { orders: orders(5, "USDJPY") }, { maxPositionsPerSymbol: null })).toBe(
      "MAX_POSITIONS",
    );
    expect(place({}, { orders: orders(4, "USDJPY") }, { maxPositionsPerSymbol: null })).toBe(
      "PASS",
    );
  });

  test("a position and an order on the symbol fill max_positions_per_symbol 2", () => {
    const market = { positions: [makePosition()], orders: orders(1) };
    const decision = monitor().checkPlace(makePlace(), makeMarket(market));
    expect(decision.ok ? "PASS" : decision.denial).toMatchObject({
      code: "MAX_POSITIONS_PER_SYMBOL",
      context: { positions: 2, in_flight: 0 },
    });
  });

  test("an order seen beside the position it triggered into counts once", () => {
    const triggered = makeTradeOrder({ ticket: 501 });
    const market = makeMarket({ positions: [makePosition({ ticket: 501 })], orders: [triggered] });
    expect(outcome(released(monitor().checkPlace(makePlace(), market)))).toBe("PASS");
  });

  test("a passed PLACE counts for the next decision until it is settled and shown", () => {
    const risk = monitor({ maxPositionsPerSymbol: 1 });
    const first = risk.checkPlace(makePlace({ clientOrderId: "p-1" }), makeMarket());
    expect(outcome(risk.checkPlace(makePlace(), makeMarket()))).toBe("MAX_POSITIONS_PER_SYMBOL");
    expect(outcome(risk.checkOpen(makeOpen(), makeMarket()))).toBe("MAX_POSITIONS_PER_SYMBOL");
    if (!first.ok) throw new Error("the first PLACE must pass");
    first.reservation.settle(100000001);
    // Settled, and no read older than it: the next snapshot must show the order itself
    expect(outcome(released(risk.checkPlace(makePlace(), makeMarket())))).toBe("PASS");
    const shown = makeMarket({ orders: [makeTradeOrder({ ticket: 100000001 })] });
    expect(outcome(risk.checkPlace(makePlace(), shown))).toBe("MAX_POSITIONS_PER_SYMBOL");
  });
});
