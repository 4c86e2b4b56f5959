/**
 * Pending orders and pre-trade calculations through the fake terminal (docs/EA-LINK.md §7.9–
 * §7.12, §10.6, §12.5): each order type placed, modified and cancelled with the fields the
 * contract names, CLOSE_BY, the order lists paged and filtered, history orders in server time,
 * ORDER_CHECK / CALC_MARGIN / CALC_PROFIT as the broker computes them, and the order events.
 * Every frame the gateway sent must pass the EA's reader.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { eventually } from "../../../scripts/harness/eventually.ts";
import { type PendingOrderType, Retcode } from "../../../shared/protocol/index.ts";
import { PLAIN_TERMS } from "../pending.ts";
import { placeOrder, historyOrders as simHistoryOrders } from "../sim/testing/support.ts";
import {
  cleanupRigs,
  expectNoReaderViolations,
  openOrder,
  type Rig,
  startPendingRig,
} from "./testing/rig.ts";

afterEach(async () => {
  expectNoReaderViolations();
  await cleanupRigs();
});

const rig = startPendingRig;

const sent = (r: Rig, cmd: string) => r.fake.commands.filter((c) => c.cmd === cmd);
const last = (r: Rig, cmd: string) => sent(r, cmd).at(-1)?.frame;
const orderEvents = (r: Rig) => r.events.filter((e) => e.type.startsWith("ORDER_"));

describe("each order type places, modifies and cancels", () => {
  test.each<[PendingOrderType, number, number | null, { price?: number; stoplimit?: number }]>([
    ["BUY_LIMIT", 1.099, null, { price: 1.0985 }],
    ["SELL_LIMIT", 1.101, null, { price: 1.1015 }],
    ["BUY_STOP", 1.101, null, { price: 1.1015 }],
    ["SELL_STOP", 1.099, null, { price: 1.0985 }],
    ["BUY_STOP_LIMIT", 1.101, 1.1005, { stoplimit: 1.1003 }],
    ["SELL_STOP_LIMIT", 1.099, 1.0995, { stoplimit: 1.0997 }],
  ])("%s", async (type, price, stoplimit, change) => {
    const r = await rig();
    const placed = await r.backend.placeOrderDetailed(
      placeOrder({ clientOrderId: `p-${type}`, type, price, stoplimit, comment: "grid" }),
    );
    expect(placed).toMatchObject({ source: "SERVER", duplicate: false });
    expect(placed.result.retcode).toBe(Retcode.DONE);
    const ticket = placed.result.order;
    expect(ticket).toBeGreaterThan(0);
    const frame = last(r, "PLACE");
    expect(frame?.keys.sort()).toEqual(
      [
        "client_order_id",
        "cmd",
        "comment",
        "id",
        "magic",
        "price",
        "order_type",
        "symbol",
        "type",
        "type_time",
        "volume",
        ...(stoplimit === null ? [] : ["stoplimit"]),
      ].sort(),
    );
    const [order] = await r.backend.orders();
    expect(order).toEqual((await r.fake.sim.orders())[0]);
    expect(order).toMatchObject({ ticket, type, state: "PLACED", price_stoplimit: stoplimit });

    const modified = await r.backend.modifyOrder({
      clientOrderId: `m-${type}`,
      ticket,
      price: change.price,
      stoplimit: change.stoplimit,
      sl: undefined,
      tp: undefined,
      typeTime: undefined,
      expiration: undefined,
    });
    expect(modified.retcode).toBe(Retcode.DONE);
    // Only what changes goes out; the EA fills the rest from the order
    expect(last(r, "MODIFY_ORDER")?.keys.sort()).toEqual(
      ["client_order_id", "cmd", "id", "ticket", "type", ...Object.keys(change)].sort(),
    );
    const after =
      change.price === undefined
        ? { price_stoplimit: change.stoplimit }
        : { price_open: change.price };
    expect((await r.backend.orders({ ticket }))[0]).toMatchObject(after);

    const cancelled = await r.backend.cancelOrder({ clientOrderId: `c-${type}`, ticket });
    expect(cancelled.retcode).toBe(Retcode.DONE);
    expect(await r.backend.orders()).toEqual([]);
    const now = r.clock.now();
    const span = { kind: "range", from: now - 3600_000, to: now + 3600_000 } as const;
    const history = await r.backend.market.historyOrders(span, undefined, 500);
    expect(history).toEqual({
      rows: [expect.objectContaining({ ticket, state: "CANCELED", external_id: "" })],
      next: undefined,
    });
    await eventually(() => orderEvents(r).length === 3);
    expect(orderEvents(r).map((e) => e.type)).toEqual([
      "ORDER_PLACED",
      "ORDER_MODIFIED",
      "ORDER_CANCELED",
    ]);
  });
});

describe("the fields of a pending order", () => {
  test("sl/tp, lifetime and filling go out as the contract says, expiration in server ms", async () => {
    const r = await rig();
    const expiration = Math.floor(r.clock.now() / 1000) * 1000 + 7200_000;
    const placed = await r.backend.placeOrder(
      placeOrder({
        clientOrderId: "fields",
        sl: 1.085,
        tp: 1.095,
        typeTime: "SPECIFIED",
        expiration,
        filling: "RETURN",
      }),
    );
    expect(placed.retcode).toBe(Retcode.DONE);
    const frame = last(r, "PLACE");
    const offsetMs = 7200 * 1000;
    expect(frame?.integer("expiration")).toBe(expiration + offsetMs);
    expect(frame?.string("type_time")).toBe("SPECIFIED");
    expect(frame?.string("filling")).toBe("RETURN");
    expect([frame?.number("sl"), frame?.number("tp")]).toEqual([1.085, 1.095]);
    const [order] = await r.backend.orders();
    expect(order).toMatchObject({
      sl: 1.085,
      tp: 1.095,
      type_time: "SPECIFIED",
      time_expiration: expiration,
      type_filling: "RETURN",
      time_setup: (await r.fake.sim.orders())[0]?.time_setup,
    });

    // null removes a level (0 on the wire); a new lifetime without an expiration has none
    await r.backend.modifyOrder({
      clientOrderId: "fields-m",
      ticket: placed.order,
      price: undefined,
      stoplimit: undefined,
      sl: null,
      tp: undefined,
      typeTime: "GTC",
      expiration: undefined,
    });
    const modify = last(r, "MODIFY_ORDER");
    expect([modify?.number("sl"), modify?.has("tp"), modify?.string("type_time")]).toEqual([
      0,
      false,
      "GTC",
    ]);
    expect((await r.backend.orders())[0]).toMatchObject({
      sl: null,
      tp: 1.095,
      type_time: "GTC",
      time_expiration: 0,
    });
  });

  test("CLOSE_BY closes a position by an opposite one; the reply names the close-by order", async () => {
    const r = await rig();
    const buy = await r.backend.open(openOrder({ clientOrderId: "buy", volume: 0.3 }));
    const sell = await r.backend.open(openOrder({ clientOrderId: "sell", side: "SELL" }));
    const closed = await r.backend.closeBy({
      clientOrderId: "by",
      ticket: sell.position,
      ticketBy: buy.position,
      magic: 4242,
      comment: "by",
    });
    expect(closed).toMatchObject({ retcode: Retcode.DONE, volume: 0.1 });
    expect(closed.order).toBeGreaterThan(0);
    expect(last(r, "CLOSE_BY")?.integer("ticket_by")).toBe(buy.position);
    const positions = await r.backend.positions();
    expect(positions.map((p) => [p.ticket, p.volume])).toEqual([[buy.position, 0.2]]);
    const deals = await r.backend.deals({ from: 0, to: r.clock.now() + 60_000 });
    expect(deals.filter((d) => d.order === closed.order).map((d) => d.entry)).toEqual([
      "OUT",
      "OUT",
    ]);
  });
});

describe("order lists", () => {
  test("orders() pages until `more` is false and filters by symbol, ticket and group", async () => {
    const r = await rig({ fake: { pageSize: 2 } });
    for (let i = 0; i < 5; i++) {
      await r.fake.sim.placeOrder(placeOrder({ clientOrderId: `o-${i}`, price: 1.09 - i * 0.001 }));
    }
    await r.fake.sim.placeOrder(placeOrder({ clientOrderId: "gbp", symbol: "GBPUSD", price: 0.5 }));
    const all = await r.backend.orders();
    expect(all).toEqual(await r.fake.sim.orders());
    expect(sent(r, "GET_ORDERS").map((c) => c.frame.integer("offset"))).toEqual([0, 2, 4]);
    expect(sent(r, "GET_ORDERS")[0]?.frame.integer("limit")).toBe(1000);
    expect((await r.backend.orders({ symbol: "GBPUSD" })).map((o) => o.symbol)).toEqual(["GBPUSD"]);
    const gbp = all.find((o) => o.symbol === "GBPUSD")?.ticket as number;
    expect(await r.backend.orders({ ticket: gbp })).toEqual([
      expect.objectContaining({ ticket: gbp }),
    ]);
    expect(last(r, "GET_ORDERS")?.integer("ticket")).toBe(gbp);
    // A group mask is matched by the gateway: the EA gets no filter
    expect((await r.backend.orders({ group: "*,!EUR*" })).map((o) => o.ticket)).toEqual([gbp]);
    expect(last(r, "GET_ORDERS")?.keys.sort()).toEqual(["cmd", "id", "limit", "offset", "type"]);
  });

  test("a page exactly full, then an empty last page, ends the listing", async () => {
    const r = await rig({ fake: { pageSize: 2 } });
    for (let i = 0; i < 4; i++) {
      await r.fake.sim.placeOrder(placeOrder({ clientOrderId: `o-${i}`, price: 1.09 - i * 0.001 }));
    }
    expect(await r.backend.orders()).toHaveLength(4);
    expect(sent(r, "GET_ORDERS").map((c) => c.frame.integer("offset"))).toEqual([0, 2]);
    expect(await r.backend.orders({ symbol: "USDJPY" })).toEqual([]);
  });

  test("market.historyOrders() asks in server ms and pages; times come back in Unix ms", async () => {
    const r = await rig({ fake: { pageSize: 1 } });
    const from = r.clock.now() - 60_000;
    const tickets: number[] = [];
    for (let i = 0; i < 3; i++) {
      const placed = await r.fake.sim.placeOrder(placeOrder({ clientOrderId: `h-${i}` }));
      await r.fake.sim.cancelOrder({ clientOrderId: `hc-${i}`, ticket: placed.order });
      tickets.push(placed.order);
    }
    const range = { kind: "range", from, to: from + 120_000 } as const;
    const history = await r.backend.market.historyOrders(range, undefined, 500);
    expect(history.rows).toEqual(await simHistoryOrders(r.fake.sim, range));
    expect(history.rows.map((o) => o.state)).toEqual(["CANCELED", "CANCELED", "CANCELED"]);
    const frames = sent(r, "GET_HISTORY_ORDERS");
    expect(frames.map((c) => c.frame.integer("offset"))).toEqual([0, 1, 2]);
    expect(frames[0]?.frame.integer("from")).toBe(from + 7_200_000);

    // The gateway's pages: two orders, then the third after the cursor (asked from its time on)
    const first = await r.backend.market.historyOrders(range, undefined, 2);
    expect(first.rows.map((o) => o.ticket)).toEqual(tickets.slice(0, 2));
    const second = await r.backend.market.historyOrders(range, first.next, 2);
    expect({ rows: second.rows.map((o) => o.ticket), next: second.next }).toEqual({
      rows: tickets.slice(2),
      next: undefined,
    });
    // A ticket or a position reads the whole history and keeps what it selects
    const byTicket = { kind: "ticket", ticket: tickets[1] as number } as const;
    const one = await r.backend.market.historyOrders(byTicket, undefined, 500);
    expect(one.rows).toEqual(history.rows.slice(1, 2));
    // from Unix 0, in server ms (the rig's server is 2 h ahead)
    expect(sent(r, "GET_HISTORY_ORDERS").at(-1)?.frame.integer("from")).toBe(7_200_000);
  });
});

describe("pre-trade calculations", () => {
  test("ORDER_CHECK answers what the broker would: pass, refusal, unknown symbol; nothing trades", async () => {
    const r = await rig();
    const check = (overrides: Partial<Parameters<Rig["backend"]["orderCheck"]>[0]>) =>
      r.backend.orderCheck({
        symbol: "EURUSD",
        type: "BUY",
        volume: 0.1,
        price: undefined,
        ...PLAIN_TERMS,
        deviation: 10,
        magic: 0,
        comment: "",
        ...overrides,
      });
    const market = await check({});
    expect(market).toEqual(
      await r.fake.sim.orderCheck({
        ...{ symbol: "EURUSD", type: "BUY", volume: 0.1, price: undefined, ...PLAIN_TERMS },
        ...{ filling: "FOK", deviation: 10, magic: 570_100, comment: "" },
      }),
    );
    expect(market.retcode).toBe(Retcode.CHECK_OK);
    expect(market.margin).toBeGreaterThan(0);
    const pending = await check({ type: "BUY_LIMIT", price: 1.099 });
    expect(pending.retcode).toBe(Retcode.CHECK_OK);
    expect((await check({ type: "BUY_LIMIT", price: 1.1005 })).retcode).toBe(Retcode.INVALID_PRICE);
    const unknown = await check({ symbol: "NOPE" });
    expect(unknown).toMatchObject({ retcode: Retcode.INVALID, comment: "unknown symbol NOPE" });
    expect(await r.fake.sim.orders()).toEqual([]);
    expect(await r.fake.sim.positions()).toEqual([]);
  });

  test("CALC_MARGIN and CALC_PROFIT are the broker's figures; an unknown symbol is undefined", async () => {
    const r = await rig();
    const margin = { symbol: "EURUSD", side: "BUY" as const, volume: 0.5, price: 1.1 };
    expect(await r.backend.calcMargin(margin)).toBe(
      (await r.fake.sim.calcMargin(margin)) as number,
    );
    const profit = { ...margin, side: "SELL" as const, priceOpen: 1.1, priceClose: 1.09 };
    expect(await r.backend.calcProfit(profit)).toBe(
      (await r.fake.sim.calcProfit(profit)) as number,
    );
    expect(await r.backend.calcMargin({ ...margin, symbol: "NOPE" })).toBeUndefined();
    expect(await r.backend.calcProfit({ ...profit, symbol: "NOPE" })).toBeUndefined();
    expect(last(r, "CALC_PROFIT")?.keys.sort()).toEqual(
      ["cmd", "id", "price_close", "price_open", "side", "symbol", "type", "volume"].sort(),
    );
  });
});

describe("order events (§12.5)", () => {
  test("a limit order that fills: ORDER_TRIGGERED carries its deal, after the DEAL event", async () => {
    const r = await rig();
    const placed = await r.backend.placeOrder(placeOrder({ clientOrderId: "fill", price: 1.0995 }));
    await r.fake.sim.setQuote("EURUSD", 1.0985, 1.0995);
    await eventually(() => r.events.some((e) => e.type === "ORDER_TRIGGERED"));
    const triggered = r.events.find((e) => e.type === "ORDER_TRIGGERED");
    const deal = r.events.find((e) => e.type === "DEAL");
    expect(triggered).toMatchObject({
      order: { ticket: placed.order, state: "FILLED" },
      deal: { order: placed.order, entry: "IN", volume: 0.1 },
    });
    expect(deal !== undefined && triggered !== undefined).toBe(true);
    expect(r.events.indexOf(deal as never)).toBeLessThan(r.events.indexOf(triggered as never));
    // The EA reported the fill's history entry before its deal (HISTORY_ADD, then DEAL_ADD)
    expect(orderEvents(r).map((e) => e.type)).toEqual(["ORDER_PLACED", "ORDER_TRIGGERED"]);
  });

  test("a stop-limit that triggers becomes its limit order: ORDER_TRIGGERED without a deal", async () => {
    const r = await rig();
    const placed = await r.backend.placeOrder(
      placeOrder({ clientOrderId: "sl", type: "BUY_STOP_LIMIT", price: 1.101, stoplimit: 1.1 }),
    );
    await r.fake.sim.setQuote("EURUSD", 1.1005, 1.1015);
    await eventually(() => r.events.some((e) => e.type === "ORDER_TRIGGERED"));
    expect(r.events.find((e) => e.type === "ORDER_TRIGGERED")).toEqual({
      type: "ORDER_TRIGGERED",
      order: expect.objectContaining({ ticket: placed.order, type: "BUY_LIMIT", price_open: 1.1 }),
    });
  });

  test("expiry and a rejection at trigger are reported as such", async () => {
    const r = await rig();
    // Short enough that the fake's silence watchdog (3 heartbeats of its own clock) stays quiet
    const expiration = Math.floor(r.fakeClock.now() / 1000) * 1000 + 2000;
    await r.backend.placeOrder(
      placeOrder({ clientOrderId: "exp", typeTime: "SPECIFIED", expiration }),
    );
    r.fakeClock.advance(2100);
    await r.fake.sim.setQuote("EURUSD", 1.0999, 1.1);
    await eventually(() => r.events.some((e) => e.type === "ORDER_EXPIRED"));
    // Margin taken since placement leaves no room for the fill: the server rejects it
    const big = await r.fake.sim.placeOrder(
      placeOrder({ clientOrderId: "rej", volume: 5, price: 1.0995 }),
    );
    await r.fake.sim.open(openOrder({ clientOrderId: "hog", symbol: "GBPUSD", volume: 5 }));
    await r.fake.sim.setQuote("EURUSD", 1.0994, 1.0995);
    await eventually(() => r.events.some((e) => e.type === "ORDER_REJECTED"));
    expect(r.events.find((e) => e.type === "ORDER_REJECTED")).toMatchObject({
      order: { ticket: big.order, state: "REJECTED" },
    });
  });
});
