/**
 * Placing pending orders on the sim: every type, and each refusal with MT5's retcode (stops
 * level 10015/10016, expiration 10022, order and filling modes 10035/10030, money, volume limit
 * with pending orders counted, order and position limits, closed market).
 */
import { afterEach, describe, expect, test } from "bun:test";
import { type PendingOrderType, Retcode } from "../../../../shared/protocol/index.ts";
import { TestClock } from "../../../../shared/testing/test-clock.ts";
import type { PlaceOrder } from "../../pending.ts";
import {
  openOrder,
  placeOrder,
  SATURDAY_NOON,
  SimHarness,
  type SimOverrides,
} from "../testing/support.ts";

let harness: SimHarness;
afterEach(async () => {
  await harness.cleanup();
});

/** EURUSD at 1.09990 / 1.10000; stops level 10 points (0.00010), freeze level 5. */
async function sim(options: SimOverrides = {}, clock?: TestClock) {
  harness = await new SimHarness(options, clock).start();
  await harness.sim.setQuote("EURUSD", 1.0999, 1.1);
  return harness.sim;
}

const place = (overrides: Partial<PlaceOrder>) => harness.sim.placeOrder(placeOrder(overrides));

describe("placing", () => {
  test.each<[PendingOrderType, number, number | null]>([
    ["BUY_LIMIT", 1.0998, null],
    ["SELL_LIMIT", 1.1001, null],
    ["BUY_STOP", 1.1002, null],
    ["SELL_STOP", 1.0997, null],
    ["BUY_STOP_LIMIT", 1.101, 1.1005],
    ["SELL_STOP_LIMIT", 1.099, 1.0995],
  ])("%s at %d is placed, listed and announced", async (type, price, stoplimit) => {
    const backend = await sim();
    const result = await place({ type, price, stoplimit, sl: null, tp: null });
    expect(result).toMatchObject({ retcode: Retcode.DONE, price, volume: 0.1, deal: 0 });
    expect(result.order).toBeGreaterThan(0);

    const orders = await backend.orders();
    expect(orders).toEqual([
      expect.objectContaining({
        ticket: result.order,
        type,
        state: "PLACED",
        price_open: price,
        price_stoplimit: stoplimit,
        volume_initial: 0.1,
        volume_current: 0.1,
        type_time: "GTC",
        time_expiration: 0,
        time_done: 0,
        magic: 77,
        comment: "t:c-place",
        reason: "EXPERT",
      }),
    ]);
    expect<unknown>(harness.tradeEvents).toEqual([{ type: "ORDER_PLACED", order: orders[0] }]);
    // Nothing traded: no margin taken, no deal
    expect((await backend.account()).margin).toBe(0);
    expect(await backend.deals({ from: 0, to: Number.MAX_SAFE_INTEGER })).toEqual([]);
  });

  test("order and market tickets share one sequence", async () => {
    const backend = await sim();
    const order = await place({});
    const open = await backend.open(openOrder());
    expect(open.order).toBe(order.order + 1);
  });
});

describe("prices and stops (10015, 10016)", () => {
  test.each<[string, Partial<PlaceOrder>]>([
    ["a buy limit above the ask", { type: "BUY_LIMIT", price: 1.1001 }],
    ["a buy limit inside the stops level", { type: "BUY_LIMIT", price: 1.09995 }],
    ["a sell limit inside the stops level", { type: "SELL_LIMIT", price: 1.09995 }],
    ["a buy stop inside the stops level", { type: "BUY_STOP", price: 1.10005 }],
    ["a sell stop above the bid", { type: "SELL_STOP", price: 1.1 }],
    ["a price off the tick grid", { type: "BUY_LIMIT", price: 1.098755 }],
    [
      "a buy stop-limit whose limit is above its trigger",
      { type: "BUY_STOP_LIMIT", price: 1.101, stoplimit: 1.1012 },
    ],
    [
      "a sell stop-limit whose limit is below its trigger",
      { type: "SELL_STOP_LIMIT", price: 1.099, stoplimit: 1.0985 },
    ],
  ])("%s is INVALID_PRICE", async (_name, overrides) => {
    await sim();
    expect((await place(overrides)).retcode).toBe(Retcode.INVALID_PRICE);
    expect(await harness.sim.orders()).toEqual([]);
  });

  test("a buy limit exactly at the stops level is accepted", async () => {
    await sim();
    expect((await place({ price: 1.0999 })).retcode).toBe(Retcode.DONE);
  });

  test.each<[string, Partial<PlaceOrder>]>([
    ["an SL inside the stops level of the price", { price: 1.099, sl: 1.09895 }],
    ["an SL above a buy order's price", { price: 1.099, sl: 1.0995 }],
    ["a TP below a buy order's price", { price: 1.099, tp: 1.0985 }],
    ["a sell order's SL below its price", { type: "SELL_LIMIT", price: 1.101, sl: 1.1005 }],
    [
      "a stop-limit's SL measured from the limit price, not the trigger",
      { type: "BUY_STOP_LIMIT", price: 1.101, stoplimit: 1.1005, sl: 1.1008 },
    ],
  ])("%s is INVALID_STOPS", async (_name, overrides) => {
    await sim();
    expect((await place(overrides)).retcode).toBe(Retcode.INVALID_STOPS);
  });

  test("SL and TP on the right side of a stop-limit's limit price are accepted", async () => {
    await sim();
    const result = await place({
      type: "BUY_STOP_LIMIT",
      price: 1.101,
      stoplimit: 1.1005,
      sl: 1.1,
      tp: 1.102,
    });
    expect(result.retcode).toBe(Retcode.DONE);
  });
});

describe("expiration (10022)", () => {
  test("a SPECIFIED time in the past, or a SPECIFIED_DAY before today, is refused", async () => {
    const backend = await sim();
    const now = harness.clock.now();
    expect((await place({ typeTime: "SPECIFIED", expiration: now - 1000 })).retcode).toBe(
      Retcode.INVALID_EXPIRATION,
    );
    expect((await place({ typeTime: "SPECIFIED_DAY", expiration: now - 86_400_000 })).retcode).toBe(
      Retcode.INVALID_EXPIRATION,
    );
    expect(await backend.orders()).toEqual([]);
  });

  test("the times MT5 shows: the given time, the end of the trading day for DAY and SPECIFIED_DAY", async () => {
    const backend = await sim();
    const now = harness.clock.now(); // Wednesday 12:00 UTC
    const wednesdayClose = Date.UTC(2026, 10, 18, 22);
    await place({ typeTime: "SPECIFIED", expiration: now + 3_600_000 });
    await place({ typeTime: "DAY" });
    await place({ typeTime: "SPECIFIED_DAY", expiration: Date.UTC(2026, 10, 19, 23) });
    expect((await backend.orders()).map((order) => order.time_expiration)).toEqual([
      now + 3_600_000,
      wednesdayClose,
      // 23:00 UTC Thursday is in Friday's trading day
      Date.UTC(2026, 10, 20, 22),
    ]);
  });

  test("a type the symbol's SYMBOL_EXPIRATION_MODE leaves out is refused", async () => {
    await sim({ symbols: [{ symbol: "EURUSD", expiration_modes: ["GTC", "SPECIFIED"] }] });
    expect((await place({ typeTime: "DAY" })).retcode).toBe(Retcode.INVALID_EXPIRATION);
    expect((await place({ typeTime: "GTC" })).retcode).toBe(Retcode.DONE);
  });
});

describe("symbol modes", () => {
  test("an order kind the symbol's SYMBOL_ORDER_MODE leaves out is INVALID_ORDER", async () => {
    await sim({ symbols: [{ symbol: "EURUSD", order_modes: ["MARKET", "LIMIT", "STOP"] }] });
    const stopLimit = await place({ type: "BUY_STOP_LIMIT", price: 1.101, stoplimit: 1.1005 });
    expect(stopLimit.retcode).toBe(Retcode.INVALID_ORDER);
    expect((await place({ type: "BUY_STOP", price: 1.101 })).retcode).toBe(Retcode.DONE);
  });

  test("a stop order takes the market fillings; a limit order may also RETURN", async () => {
    await sim();
    const stop = await place({ type: "BUY_STOP", price: 1.101, filling: "RETURN" });
    expect(stop.retcode).toBe(Retcode.INVALID_FILL);
    const limit = await place({ type: "BUY_LIMIT", filling: "RETURN" });
    expect(limit.retcode).toBe(Retcode.DONE);
    expect((await harness.sim.orders())[0]?.type_filling).toBe("RETURN");
  });

  test("without a filling the EA's choice is recorded (FOK if allowed)", async () => {
    await sim();
    await place({});
    expect((await harness.sim.orders())[0]?.type_filling).toBe("FOK");
  });
});

describe("money, volume and limits", () => {
  test("an order whose fill would exceed the free margin is NO_MONEY", async () => {
    await sim();
    expect((await place({ volume: 50 })).retcode).toBe(Retcode.NO_MONEY);
  });

  test("SYMBOL_VOLUME_LIMIT counts pending orders in the same direction, for orders and OPENs", async () => {
    const backend = await sim({ account: { balance: 10_000_000 } });
    await backend.setQuote("XAUUSD", 2400, 2400.25);
    const gold = { symbol: "XAUUSD", type: "BUY_LIMIT" as const, price: 2390 };
    expect((await place({ ...gold, volume: 50 })).retcode).toBe(Retcode.DONE);
    expect((await place({ ...gold, volume: 50 })).retcode).toBe(Retcode.DONE);
    expect((await place({ ...gold, volume: 0.01 })).retcode).toBe(Retcode.LIMIT_VOLUME);
    const open = await backend.open(openOrder({ symbol: "XAUUSD", volume: 0.01, deviation: 100 }));
    expect(open.retcode).toBe(Retcode.LIMIT_VOLUME);
    // The other direction has its own limit
    const sell = await place({ symbol: "XAUUSD", type: "SELL_LIMIT", price: 2410, volume: 1 });
    expect(sell.retcode).toBe(Retcode.DONE);
  });

  test("ACCOUNT_LIMIT_ORDERS gives LIMIT_ORDERS", async () => {
    await sim({ maxPendingOrders: 2 });
    await place({});
    await place({});
    expect((await place({})).retcode).toBe(Retcode.LIMIT_ORDERS);
  });

  test("the position limit counts pending orders that could open positions", async () => {
    const backend = await sim({ maxPositions: 2 });
    await backend.open(openOrder());
    expect((await place({})).retcode).toBe(Retcode.DONE);
    expect((await place({})).retcode).toBe(Retcode.LIMIT_POSITIONS);
  });

  test("on a closed market orders are refused with MARKET_CLOSED", async () => {
    harness = await new SimHarness({}, new TestClock(SATURDAY_NOON)).start();
    await harness.sim.setQuote("EURUSD", 1.0999, 1.1);
    expect((await place({})).retcode).toBe(Retcode.MARKET_CLOSED);
  });

  test("the rate limit counts placements", async () => {
    await sim({ maxOrdersPerSecond: 2 });
    await place({});
    await place({});
    expect((await place({})).retcode).toBe(Retcode.TOO_MANY_REQUESTS);
  });

  test("malformed requests are INVALID and an unknown symbol too", async () => {
    await sim();
    expect((await place({ symbol: "NOPE" })).retcode).toBe(Retcode.INVALID);
    expect((await place({ price: Number.NaN })).retcode).toBe(Retcode.INVALID);
    expect((await place({ type: "BUY_STOP_LIMIT", price: 1.101 })).retcode).toBe(Retcode.INVALID);
    expect((await place({ stoplimit: 1.08 })).retcode).toBe(Retcode.INVALID);
    expect((await place({ type: "BUY" as never })).retcode).toBe(Retcode.INVALID);
  });
});
