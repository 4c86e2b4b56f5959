/**
 * MODIFY_ORDER, CANCEL and CLOSE_BY in the risk monitor (issue 15 §4): a modified order is
 * checked again at its new terms; cancels pass in REDUCING and, asked by the operator, in
 * HALTED; close-by needs two opposite positions with volume left and reserves what it covers.
 */
import { describe, expect, test } from "bun:test";
import type { TradingState } from "../../shared/protocol/index.ts";
import { makeTradeOrder } from "../../shared/protocol/testing/fixtures.ts";
import { TestClock } from "../../shared/testing/test-clock.ts";
import { RiskMonitor } from "./risk-monitor.ts";
import {
  BASE_MS,
  makeLimits,
  makeMarket,
  makePosition,
  outcome,
  released,
} from "./testing/fixtures.ts";
import type { ModifyOrderIntent, RiskLimits } from "./types.ts";

function monitor(state: TradingState = "ACTIVE", limits: Partial<RiskLimits> = {}) {
  const risk = new RiskMonitor({ limits: makeLimits(limits), clock: new TestClock(BASE_MS) });
  risk.setTradingState(state, "test");
  return risk;
}

/** A BUY_LIMIT at 1.0950 with its SL 100 points under it. */
const ORDER = makeTradeOrder({ ticket: 700, price_open: 1.095, sl: 1.094, tp: 1.099 });
const withOrder = makeMarket({ orders: [ORDER] });

describe("MODIFY_ORDER is checked at the order's new terms", () => {
  const modify = (intent: Omit<ModifyOrderIntent, "ticket">, risk = monitor()) =>
    outcome(risk.checkModifyOrder({ ticket: 700, ...intent }, withOrder));

  test.each([
    ["a new price with the stops still on the right side", { price: 1.096 }, "PASS"],
    ["a new price under the SL", { price: 1.0935 }, "SL_WRONG_SIDE"],
    ["removing the SL while one is required", { sl: null }, "SL_REQUIRED"],
    ["a new SL that puts too much at risk", { sl: 1.07 }, "RISK_ABOVE_MAX"],
    ["a price that is not positive", { price: -1 }, "INVALID_INTENT"],
    ["a stop-limit price on a plain limit order", { stoplimit: 1.09 }, "INVALID_INTENT"],
  ] as const)("%s: %s", (_name, intent, expected) => {
    expect(modify(intent)).toBe(expected);
  });

  test("an order that is not pending is ORDER_NOT_FOUND", () => {
    const risk = monitor();
    expect(outcome(risk.checkModifyOrder({ ticket: 701, price: 1.096 }, withOrder))).toBe(
      "ORDER_NOT_FOUND",
    );
  });

  test("REDUCING and HALTED refuse it, as at the gateway", () => {
    expect(modify({ price: 1.096 }, monitor("REDUCING"))).toBe("REDUCING_ONLY");
    expect(modify({ price: 1.096 }, monitor("HALTED"))).toBe("TRADING_HALTED");
  });

  test("a stop-limit's new limit price moves where its stops are measured from", () => {
    const stopLimit = makeTradeOrder({
      ticket: 700,
      type: "BUY_STOP_LIMIT",
      price_open: 1.105,
      price_stoplimit: 1.104,
      sl: 1.103,
      tp: 1.11,
    });
    const market = makeMarket({ orders: [stopLimit] });
    const check = (intent: Omit<ModifyOrderIntent, "ticket">) =>
      outcome(monitor().checkModifyOrder({ ticket: 700, ...intent }, market));
    expect([check({ stoplimit: 1.1035 }), check({ stoplimit: 1.1025 })]).toEqual([
      "PASS",
      "SL_WRONG_SIDE",
    ]);
  });
});

describe("CANCEL", () => {
  const cancel = (state: TradingState, operator = false) =>
    outcome(monitor(state).checkCancel({ ticket: 700, operator }, withOrder));

  test("passes while ACTIVE and REDUCING", () => {
    expect([cancel("ACTIVE"), cancel("REDUCING")]).toEqual(["PASS", "PASS"]);
  });

  test("HALTED refuses the strategy's cancel and lets the operator's through", () => {
    expect([cancel("HALTED"), cancel("HALTED", true)]).toEqual(["TRADING_HALTED", "PASS"]);
  });

  test("an order that is not pending is ORDER_NOT_FOUND", () => {
    expect(outcome(monitor().checkCancel({ ticket: 9 }, withOrder))).toBe("ORDER_NOT_FOUND");
  });
});

describe("CLOSE_BY", () => {
  const buy = makePosition({ ticket: 1, side: "BUY", volume: 0.3 });
  const sell = makePosition({ ticket: 2, side: "SELL", volume: 0.1 });
  const market = makeMarket({ positions: [buy, sell] });

  test("two opposite positions: passes, covering the smaller one, also while REDUCING", () => {
    for (const state of ["ACTIVE", "REDUCING"] as const) {
      const decision = monitor(state).checkCloseBy({ ticket: 1, ticketBy: 2 }, market);
      expect(decision.ok && decision.reservation.exposure).toEqual({
        kind: "CLOSE_BY",
        clientOrderId: undefined,
        ticket: 1,
        ticketBy: 2,
        volume: 0.1,
      });
    }
  });

  test.each([
    ["HALTED", "ACTIVE", { ticket: 1, ticketBy: 2 }, "TRADING_HALTED"],
    ["a missing position", "ACTIVE", { ticket: 1, ticketBy: 3 }, "POSITION_NOT_FOUND"],
    ["a position by itself", "ACTIVE", { ticket: 1, ticketBy: 1 }, "INVALID_INTENT"],
  ] as const)("%s", (name, state, intent, expected) => {
    const risk = monitor(name === "HALTED" ? "HALTED" : state);
    expect(outcome(released(risk.checkCloseBy(intent, market)))).toBe(expected);
  });

  test("two positions on one side, or on two symbols, are INVALID_CLOSE_BY", () => {
    const sameSide = makeMarket({ positions: [buy, { ...sell, side: "BUY" }] });
    const twoSymbols = makeMarket({ positions: [buy, { ...sell, symbol: "USDJPY" }] });
    const risk = monitor();
    expect([
      outcome(risk.checkCloseBy({ ticket: 1, ticketBy: 2 }, sameSide)),
      outcome(risk.checkCloseBy({ ticket: 1, ticketBy: 2 }, twoSymbols)),
    ]).toEqual(["INVALID_CLOSE_BY", "INVALID_CLOSE_BY"]);
  });

  test("a close-by in flight takes the smaller position: a whole close of it is refused", () => {
    const risk = monitor();
    const first = risk.checkCloseBy({ ticket: 1, ticketBy: 2 }, market);
    expect(first.ok).toBe(true);
    expect(outcome(risk.checkClose({ ticket: 2 }, market))).toBe("INVALID_CLOSE_VOLUME");
    expect(outcome(risk.checkCloseBy({ ticket: 1, ticketBy: 2 }, market))).toBe(
      "INVALID_CLOSE_VOLUME",
    );
    // 0.2 of the larger one is still free
    expect(outcome(released(risk.checkClose({ ticket: 1, volume: 0.2 }, market)))).toBe("PASS");
  });
});
