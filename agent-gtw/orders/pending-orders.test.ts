/**
 * Pending orders through the gateway's signed path (executor.ts, pending-orders.ts): every type
 * places, triggers, modifies and cancels; retries are idempotent by client_order_id; the reads
 * answer; a restart between placement and trigger loses nothing.
 */
import { describe, expect, test } from "bun:test";
import type {
  OrderCheckReply,
  OrderReply,
  OrdersReply,
  PendingOrderType,
  PendingTradeReply,
  PositionsReply,
} from "../../shared/protocol/index.ts";
import { orderOf, pendingHarnesses, placeRequest } from "../testing/pending-harness.ts";

const { harness, restart } = pendingHarnesses();
const place = placeRequest;

describe("each order type through the gateway", () => {
  test.each<[PendingOrderType, Record<string, unknown>, Record<string, unknown>]>([
    ["BUY_LIMIT", { price: 1.099 }, { price: 1.0985 }],
    ["SELL_LIMIT", { price: 1.101 }, { price: 1.1015 }],
    ["BUY_STOP", { price: 1.101 }, { price: 1.1015 }],
    ["SELL_STOP", { price: 1.099 }, { price: 1.0985 }],
    ["BUY_STOP_LIMIT", { price: 1.101, stoplimit: 1.1005 }, { stoplimit: 1.1003 }],
    ["SELL_STOP_LIMIT", { price: 1.099, stoplimit: 1.0995 }, { stoplimit: 1.0997 }],
  ])("%s places, modifies and cancels", async (type, prices, change) => {
    const h = await harness();
    const placed = await h.send(place({ type, ...prices, sl: null, comment: "grid-1" }));
    expect(placed).toMatchObject({
      status: "FILLED",
      retcode: 10009,
      pending_order: { type, state: "PLACED", volume_current: 0.1, ...priceFields(prices) },
    });
    const ticket = orderOf(placed);
    expect((placed as PendingTradeReply).pending_order?.comment).toMatch(/^B[0-9A-Z]{10} grid-1$/);

    const modified = await h.send({ action: "MODIFY_ORDER", ticket, ...change, tp: null });
    expect(modified).toMatchObject({
      status: "FILLED",
      order: ticket,
      pending_order: priceFields(change),
    });

    const listed = (await h.send({ action: "GET_ORDERS", symbol: "EURUSD" })) as OrdersReply;
    expect(listed.orders.map((order) => order.ticket)).toEqual([ticket]);

    const cancelled = await h.send({ action: "CANCEL", ticket });
    expect(cancelled).toMatchObject({ status: "FILLED", order: ticket, retcode: 10009 });
    expect(((await h.send({ action: "GET_ORDERS" })) as OrdersReply).orders).toEqual([]);
  });

  test("a placed order triggers into a position; GET_ORDER of the PLACE shows it filled", async () => {
    const h = await harness();
    const placed = await h.send(place({ type: "BUY_STOP", price: 1.1005, client_order_id: "p-1" }));
    const ticket = orderOf(placed);
    await h.backend.sim.setQuote("EURUSD", 1.1004, 1.1005);
    const positions = ((await h.send({ action: "GET_POSITIONS" })) as PositionsReply).positions;
    expect(positions).toEqual([expect.objectContaining({ ticket, volume: 0.1 })]);
    const record = (await h.send({ action: "GET_ORDER", client_order_id: "p-1" })) as OrderReply;
    expect(record).toMatchObject({
      order: { action: "PLACE", state: "FILLED", reply: { order: ticket } },
      pending_order: { ticket, state: "FILLED", position_id: ticket },
    });
  });

  test("MT5's refusal comes back REJECTED with its retcode and error code", async () => {
    const h = await harness();
    const wrongSide = await h.send(place({ price: 1.1005 }));
    expect(wrongSide).toMatchObject({
      status: "REJECTED",
      error_code: "INVALID_PRICE",
      retcode: 10015,
    });
    const past = await h.send(place({ type_time: "SPECIFIED", expiration: h.clock.now() - 1000 }));
    expect(past).toMatchObject({ error_code: "INVALID_EXPIRATION", retcode: 10022 });
    const unknown = await h.send({ action: "CANCEL", ticket: 42 });
    expect(unknown).toMatchObject({ error_code: "MT5_INVALID_REQUEST", retcode: 10013 });
  });

  test("a malformed PLACE is refused before anything is journaled", async () => {
    const h = await harness();
    // Signed bytes a client could send, bypassing the encoder's own check
    const bytes = new TextEncoder().encode(
      JSON.stringify({
        v: 1,
        id: "r-1",
        ts: h.clock.now(),
        client_order_id: "bad",
        gateway: "gtw-test",
        key_id: h.signer.keyId,
        ...place({ type: "BUY_STOP_LIMIT" }),
      }),
    );
    const reply = await h.gateway.handle([bytes, h.signer.sign(bytes)], "inf-1");
    expect(reply).toMatchObject({
      status: "ERROR",
      error_code: "INVALID_REQUEST",
      error_msg: "BUY_STOP_LIMIT needs stoplimit (the price of the limit order it places)",
    });
    expect(h.journal.lookup("inf-1", "bad")).toBeUndefined();
    expect(h.backend.calls).toBe(0);
  });
});

describe("close by", () => {
  /** A BUY 0.3 and a SELL 0.1: their tickets. */
  async function opposite(h: Awaited<ReturnType<typeof harness>>) {
    const buy = await h.send({ action: "OPEN", symbol: "EURUSD", side: "BUY", volume: 0.3 });
    const sell = await h.send({ action: "OPEN", symbol: "EURUSD", side: "SELL", volume: 0.1 });
    return {
      ticket: (buy as PendingTradeReply).ticket as number,
      ticketBy: (sell as PendingTradeReply).ticket as number,
    };
  }

  test("closes a position by an opposite one and reports what is left of each", async () => {
    const h = await harness();
    const { ticket, ticketBy } = await opposite(h);
    const closed = await h.send({ action: "CLOSE_BY", ticket, ticket_by: ticketBy });
    expect(closed).toMatchObject({
      status: "FILLED",
      ticket,
      ticket_by: ticketBy,
      volume: 0.1,
      remaining_volume: 0.2,
      remaining_volume_by: 0,
    });
  });

  test("when the positions cannot be read back, what is left is not claimed to be 0", async () => {
    const h = await harness();
    const { ticket, ticketBy } = await opposite(h);
    h.backend.positionsFailing = true;
    const closed = await h.send({ action: "CLOSE_BY", ticket, ticket_by: ticketBy });
    expect(closed).toMatchObject({ status: "FILLED", volume: 0.1 });
    expect(closed).not.toHaveProperty("remaining_volume");
    expect(closed).not.toHaveProperty("remaining_volume_by");
  });
});

describe("idempotency by client_order_id", () => {
  test("the same PLACE again answers the first outcome; nothing is placed twice", async () => {
    const h = await harness();
    const first = await h.send(place({ client_order_id: "p-1" }));
    const again = await h.send(place({ client_order_id: "p-1" }));
    expect(again).toMatchObject({ status: "FILLED", duplicate: true, order: orderOf(first) });
    expect(h.backend.calls).toBe(1);
    expect(await h.backend.orders()).toHaveLength(1);
  });

  test("another intent under a used id is CLIENT_ORDER_ID_REUSED, across actions too", async () => {
    const h = await harness();
    await h.send(place({ client_order_id: "p-1" }));
    const otherPrice = await h.send(place({ client_order_id: "p-1", price: 1.0985 }));
    expect(otherPrice).toMatchObject({ status: "ERROR", error_code: "CLIENT_ORDER_ID_REUSED" });
    const otherType = await h.send(place({ client_order_id: "p-1", type: "SELL_LIMIT" }));
    expect(otherType.error_code).toBe("CLIENT_ORDER_ID_REUSED");
    const otherAction = await h.send({ action: "CANCEL", ticket: 1, client_order_id: "p-1" });
    expect(otherAction.error_code).toBe("CLIENT_ORDER_ID_REUSED");
    expect(h.backend.calls).toBe(1);
  });

  test("a CANCEL retried after it executed answers the first outcome, not 'order not found'", async () => {
    const h = await harness();
    const ticket = orderOf(await h.send(place()));
    await h.send({ action: "CANCEL", ticket, client_order_id: "c-1" });
    const again = await h.send({ action: "CANCEL", ticket, client_order_id: "c-1" });
    expect(again).toMatchObject({ status: "FILLED", duplicate: true, order: ticket });
  });

  test("across a gateway restart between placement and trigger", async () => {
    const h = await harness();
    const first = await h.send(place({ type: "BUY_STOP", price: 1.1005, client_order_id: "p-1" }));
    const restarted = await restart(h);
    const again = await restarted.send(
      place({ type: "BUY_STOP", price: 1.1005, client_order_id: "p-1" }),
    );
    expect(again).toMatchObject({ duplicate: true, order: orderOf(first) });
    expect(await restarted.backend.orders()).toHaveLength(1);
    await restarted.backend.sim.setQuote("EURUSD", 1.1004, 1.1005);
    expect(await restarted.backend.positions()).toEqual([
      expect.objectContaining({ ticket: orderOf(first) }),
    ]);
  });
});

describe("reads", () => {
  test("ORDER_CHECK answers MqlTradeCheckResult without trading", async () => {
    const h = await harness();
    const check = (await h.send({
      action: "ORDER_CHECK",
      symbol: "EURUSD",
      type: "BUY_LIMIT",
      volume: 0.1,
      price: 1.099,
    })) as OrderCheckReply;
    expect(check).toMatchObject({ status: "OK", check: { retcode: 0, comment: "Done" } });
    expect(check.check.margin).toBeGreaterThan(100);
    const tooBig = (await h.send({
      action: "ORDER_CHECK",
      symbol: "EURUSD",
      type: "BUY",
      volume: 50,
    })) as OrderCheckReply;
    expect(tooBig.check).toMatchObject({ retcode: 10019, comment: "No money" });
    expect(await h.backend.orders()).toEqual([]);
    expect(await h.backend.positions()).toEqual([]);
  });

  test("CALC_MARGIN and CALC_PROFIT, and UNKNOWN_SYMBOL for a symbol the broker lacks", async () => {
    const h = await harness();
    const margin = await h.send({
      action: "CALC_MARGIN",
      symbol: "EURUSD",
      type: "BUY",
      volume: 1,
      price: 1.1,
    });
    expect(margin).toMatchObject({ status: "OK" });
    expect((margin as { margin: number }).margin).toBeCloseTo(1099.95, 1);
    const profit = await h.send({
      action: "CALC_PROFIT",
      symbol: "EURUSD",
      type: "SELL",
      volume: 1,
      price_open: 1.1,
      price_close: 1.099,
    });
    expect(profit).toMatchObject({ status: "OK", profit: 100 });
    const unknown = await h.send({
      action: "CALC_PROFIT",
      symbol: "NOPE",
      type: "SELL",
      volume: 1,
      price_open: 1,
      price_close: 2,
    });
    expect(unknown).toMatchObject({ error_code: "UNKNOWN_SYMBOL" });
  });

  test("amounts beyond a double are refused rather than sent as null", async () => {
    const h = await harness();
    const huge = { symbol: "BTCUSD", type: "BUY", volume: 1_000_000 };
    expect(await h.send({ action: "CALC_MARGIN", ...huge, price: 1e305 })).toMatchObject({
      status: "ERROR",
      error_code: "INVALID_REQUEST",
    });
    expect(
      await h.send({ action: "CALC_PROFIT", ...huge, price_open: 1, price_close: 1e305 }),
    ).toMatchObject({ error_code: "INVALID_REQUEST" });
    expect(
      await h.send({ action: "ORDER_CHECK", ...huge, type: "BUY_LIMIT", price: 1e305 }),
    ).toMatchObject({ error_code: "INVALID_REQUEST" });
  });

  test("GET_ORDERS filters by group mask and ticket", async () => {
    const h = await harness();
    await h.backend.sim.setQuote("GBPUSD", 1.2699, 1.27);
    const eur = orderOf(await h.send(place()));
    const gbp = orderOf(await h.send(place({ symbol: "GBPUSD", price: 1.26 })));
    const tickets = async (filter: Record<string, unknown>) =>
      ((await h.send({ action: "GET_ORDERS", ...filter })) as OrdersReply).orders.map(
        (order) => order.ticket,
      );
    expect(await tickets({ group: "GBP*" })).toEqual([gbp]);
    expect(await tickets({ group: "*,!GBP*" })).toEqual([eur]);
    expect(await tickets({ ticket: eur })).toEqual([eur]);
  });
});

function priceFields(prices: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (prices["price"] !== undefined) out["price_open"] = prices["price"];
  if (prices["stoplimit"] !== undefined) out["price_stoplimit"] = prices["stoplimit"];
  return out;
}
