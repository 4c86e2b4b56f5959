/**
 * Changing and cancelling pending orders on the sim: what may change, NO_CHANGES, the freeze
 * level (10029) on both, unknown tickets, and the events and history they leave.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { Retcode } from "../../../../shared/protocol/index.ts";
import type { PlaceOrder } from "../../pending.ts";
import {
  cancelPending,
  historyOrders,
  modifyPending,
  placeOrder,
  SimHarness,
  type SimOverrides,
} from "../testing/support.ts";

let harness: SimHarness;
afterEach(async () => {
  await harness.cleanup();
});

/** EURUSD at 1.09990 / 1.10000; stops level 10 points, freeze level 5. */
async function sim(options: SimOverrides = {}) {
  harness = await new SimHarness(options).start();
  await harness.sim.setQuote("EURUSD", 1.0999, 1.1);
  return harness.sim;
}

async function place(overrides: Partial<PlaceOrder> = {}): Promise<number> {
  const result = await harness.sim.placeOrder(placeOrder(overrides));
  expect(result.retcode).toBe(Retcode.DONE);
  return result.order;
}

describe("modifying", () => {
  test("price, SL, TP and lifetime change; omitted fields keep their value", async () => {
    const backend = await sim();
    const ticket = await place({ price: 1.099, sl: 1.098, tp: 1.1 });
    harness.events.length = 0;
    const expiration = harness.clock.now() + 3_600_000;
    const result = await backend.modifyOrder(
      modifyPending(ticket, { price: 1.0985, tp: null, typeTime: "SPECIFIED", expiration }),
    );
    expect(result).toMatchObject({ retcode: Retcode.DONE, order: ticket, price: 1.0985 });
    const [order] = await backend.orders();
    expect(order).toMatchObject({
      ticket,
      price_open: 1.0985,
      sl: 1.098,
      tp: null,
      type_time: "SPECIFIED",
      time_expiration: expiration,
    });
    expect<unknown>(harness.tradeEvents).toEqual([{ type: "ORDER_MODIFIED", order }]);
  });

  test("a stop-limit's limit price can move; other types have none", async () => {
    const backend = await sim();
    const stopLimit = await place({ type: "BUY_STOP_LIMIT", price: 1.101, stoplimit: 1.1005 });
    const limit = await place({});
    const moved = await backend.modifyOrder(modifyPending(stopLimit, { stoplimit: 1.1003 }));
    expect(moved.retcode).toBe(Retcode.DONE);
    expect((await backend.orders({ ticket: stopLimit }))[0]?.price_stoplimit).toBe(1.1003);
    expect((await backend.modifyOrder(modifyPending(limit, { stoplimit: 1.08 }))).retcode).toBe(
      Retcode.INVALID,
    );
  });

  test("the same values again are NO_CHANGES", async () => {
    const backend = await sim();
    const ticket = await place({ price: 1.099, sl: 1.098 });
    const same = await backend.modifyOrder(modifyPending(ticket, { price: 1.099, sl: 1.098 }));
    expect(same.retcode).toBe(Retcode.NO_CHANGES);
  });

  test("the new price and stops are checked like a placement", async () => {
    const backend = await sim();
    const ticket = await place({ price: 1.099 });
    const wrongSide = await backend.modifyOrder(modifyPending(ticket, { price: 1.1003 }));
    expect(wrongSide.retcode).toBe(Retcode.INVALID_PRICE);
    const badSl = await backend.modifyOrder(modifyPending(ticket, { sl: 1.0995 }));
    expect(badSl.retcode).toBe(Retcode.INVALID_STOPS);
    const past = await backend.modifyOrder(
      modifyPending(ticket, { typeTime: "SPECIFIED", expiration: harness.clock.now() - 1000 }),
    );
    expect(past.retcode).toBe(Retcode.INVALID_EXPIRATION);
    const noTime = await backend.modifyOrder(modifyPending(ticket, { typeTime: "SPECIFIED" }));
    expect(noTime.retcode).toBe(Retcode.INVALID_EXPIRATION);
    expect((await backend.orders())[0]?.price_open).toBe(1.099);
  });

  test("an unknown ticket is INVALID with 'Order not found'", async () => {
    const backend = await sim();
    const result = await backend.modifyOrder(modifyPending(123, { price: 1.09 }));
    expect(result).toMatchObject({ retcode: Retcode.INVALID, comment: "Order not found" });
  });
});

describe("freeze level (10029)", () => {
  test("an order within the freeze level of its trigger can be neither modified nor cancelled", async () => {
    const backend = await sim();
    const ticket = await place({ price: 1.0998 });
    // Ask 1.10000 → 1.09984: the buy limit at 1.09980 is 4 points away, inside the 5-point level
    await backend.setQuote("EURUSD", 1.09974, 1.09984);
    expect((await backend.modifyOrder(modifyPending(ticket, { price: 1.0995 }))).retcode).toBe(
      Retcode.FROZEN,
    );
    expect((await backend.cancelOrder(cancelPending(ticket))).retcode).toBe(Retcode.FROZEN);
    // 6 points away it is free again
    await backend.setQuote("EURUSD", 1.09976, 1.09986);
    expect((await backend.cancelOrder(cancelPending(ticket))).retcode).toBe(Retcode.DONE);
  });

  test("a symbol without a freeze level never freezes", async () => {
    const backend = await sim({ symbols: [{ symbol: "EURUSD", freeze_level: 0 }] });
    const ticket = await place({ price: 1.0998 });
    await backend.setQuote("EURUSD", 1.09971, 1.09981);
    expect((await backend.cancelOrder(cancelPending(ticket))).retcode).toBe(Retcode.DONE);
  });
});

describe("cancelling", () => {
  test("removes the order, keeps it in the history as CANCELED, and says so", async () => {
    const backend = await sim();
    const ticket = await place();
    harness.events.length = 0;
    const result = await backend.cancelOrder(cancelPending(ticket));
    expect(result).toMatchObject({ retcode: Retcode.DONE, order: ticket });
    expect(await backend.orders()).toEqual([]);
    const [done] = await historyOrders(backend);
    expect(done).toMatchObject({ ticket, state: "CANCELED", time_done: harness.clock.now() });
    expect<unknown>(harness.tradeEvents).toEqual([{ type: "ORDER_CANCELED", order: done }]);
  });

  test("twice: the second finds no order", async () => {
    const backend = await sim();
    const ticket = await place();
    await backend.cancelOrder(cancelPending(ticket));
    expect((await backend.cancelOrder(cancelPending(ticket))).retcode).toBe(Retcode.INVALID);
  });

  test("a close-only symbol still lets orders be cancelled; a disabled one does not", async () => {
    const backend = await sim();
    const ticket = await place();
    backend.updateSymbol({ symbol: "EURUSD", trade_mode: "DISABLED" });
    expect((await backend.cancelOrder(cancelPending(ticket))).retcode).toBe(Retcode.TRADE_DISABLED);
    backend.updateSymbol({ symbol: "EURUSD", trade_mode: "CLOSE_ONLY" });
    expect((await backend.cancelOrder(cancelPending(ticket))).retcode).toBe(Retcode.DONE);
  });

  test("Algo Trading off in the terminal refuses it (10027)", async () => {
    const backend = await sim();
    const ticket = await place();
    backend.setTradeAllowed(false);
    expect((await backend.cancelOrder(cancelPending(ticket))).retcode).toBe(
      Retcode.CLIENT_DISABLES_AT,
    );
  });
});

describe("listing", () => {
  test("by symbol, group mask and ticket", async () => {
    const backend = await sim();
    await backend.setQuote("GBPUSD", 1.2699, 1.27);
    await backend.setQuote("USDJPY", 149.99, 150);
    const eur = await place();
    const gbp = await place({ symbol: "GBPUSD", price: 1.26 });
    const jpy = await place({ symbol: "USDJPY", price: 149 });
    const tickets = async (filter: Parameters<typeof backend.orders>[0]) =>
      (await backend.orders(filter)).map((order) => order.ticket);
    expect(await tickets({})).toEqual([eur, gbp, jpy]);
    expect(await tickets({ symbol: "GBPUSD" })).toEqual([gbp]);
    expect(await tickets({ group: "*USD,!EUR*" })).toEqual([gbp]);
    expect(await tickets({ group: "USD*" })).toEqual([jpy]);
    expect(await tickets({ ticket: jpy })).toEqual([jpy]);
    expect(await tickets({ ticket: 1 })).toEqual([]);
  });
});
