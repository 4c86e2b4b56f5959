/**
 * Pending orders in the live view (issue 15 §4): a RESYNC's `orders` and the order events keep
 * them, under the positions' freshness; events received during a RESYNC are applied over its
 * answer in order; every order event reaches the strategies' streams; a backend without
 * pending orders leaves the order path asking for them.
 */
import { describe, expect, test } from "bun:test";
import type { OrderEvent, TradeOrder } from "../../shared/protocol/index.ts";
import { makeTradeOrder } from "../../shared/protocol/testing/fixtures.ts";
import { deal, setup } from "./testing/stream-rig.ts";

const order = (ticket: number, fields: Partial<TradeOrder> = {}) =>
  makeTradeOrder({ ticket, ...fields });

function event(type: OrderEvent["event"], seq: number, o: TradeOrder): OrderEvent {
  return { v: 1, event: type, seq, order: o };
}

const tickets = (orders: readonly TradeOrder[] | undefined) => orders?.map((o) => o.ticket);

describe("pending orders in the live view", () => {
  test("a RESYNC's orders, then placed, modified, triggered and cancelled by events", async () => {
    const { client, view, settle, told } = setup();
    client.orders = [order(1), order(2)];
    client.up();
    await settle();
    expect(tickets(view.orders())).toEqual([1, 2]);

    client.push(event("ORDER_PLACED", 1, order(3)));
    client.push(event("ORDER_MODIFIED", 2, order(1, { price_open: 1.09 })));
    client.push(event("ORDER_CANCELED", 3, order(2, { state: "CANCELED" })));
    // A stop-limit that triggered into its limit order stays; a filled one leaves
    client.push(event("ORDER_TRIGGERED", 4, order(3, { type: "BUY_LIMIT" })));
    client.push(event("ORDER_TRIGGERED", 5, order(1, { state: "FILLED" })));
    await settle();

    expect(tickets(view.orders())).toEqual([3]);
    const orderEvents = told.filter((e) => e.type.startsWith("ORDER_"));
    expect(orderEvents.map((e) => e.type)).toEqual([
      "ORDER_PLACED",
      "ORDER_MODIFIED",
      "ORDER_CANCELED",
      "ORDER_TRIGGERED",
      "ORDER_TRIGGERED",
    ]);
    expect(JSON.parse(orderEvents[1]?.json ?? "{}")).toMatchObject({
      event: "ORDER_MODIFIED",
      gateway: "gtw-1",
      order: { ticket: 1, price_open: 1.09 },
    });
  });

  test("events during a RESYNC are applied over its answer, and told once it is in", async () => {
    const { client, view, settle, told } = setup();
    let open: () => void = () => {};
    client.gate = new Promise((resolve) => (open = resolve));
    client.orders = [order(1), order(2)];
    client.up();
    await settle();
    // The answer was built before these
    client.push(event("ORDER_CANCELED", 1, order(1, { state: "CANCELED" })));
    client.push(event("ORDER_PLACED", 2, order(4)));
    expect(told.filter((e) => e.type.startsWith("ORDER_"))).toEqual([]);
    open();
    await settle();

    expect(tickets(view.orders())).toEqual([2, 4]);
    expect(told.filter((e) => e.type.startsWith("ORDER_")).map((e) => e.type)).toEqual([
      "ORDER_CANCELED",
      "ORDER_PLACED",
    ]);
  });

  test("orders are not offered while positions are owed (a fill), nor after a disconnect", async () => {
    const { client, view, settle } = setup();
    client.orders = [order(1)];
    client.up();
    await settle();
    let open: () => void = () => {};
    client.gate = new Promise((resolve) => (open = resolve));
    client.orders = [];
    client.push({ v: 1, event: "DEAL", seq: 1, deal: deal(1, 1100) });
    expect(view.orders()).toBeUndefined();
    open();
    await settle();
    expect(view.orders()).toEqual([]);
    client.down();
    expect(view.orders()).toBeUndefined();
  });

  test("a backend without pending orders (no `orders` in RESYNC): the view has none to offer", async () => {
    const { client, view, settle } = setup();
    client.up();
    await settle();
    expect(view.positions()).toEqual([]);
    expect(view.orders()).toBeUndefined();
  });

  test("our own placement: a view without it stops answering until a RESYNC brings it", async () => {
    const { client, view, settle } = setup();
    client.orders = [];
    client.up();
    await settle();
    let open: () => void = () => {};
    client.gate = new Promise((resolve) => (open = resolve));
    client.orders = [order(8)];
    view.expectOrder(8);
    expect(view.orders()).toBeUndefined();
    open();
    await settle();
    expect(tickets(view.orders())).toEqual([8]);
    // Known already, or cancelled by us: no RESYNC owed
    const resyncs = client.asked.filter((body) => body.action === "RESYNC").length;
    view.expectOrder(8);
    view.orderGone(8);
    await settle();
    expect([
      tickets(view.orders()),
      client.asked.filter((b) => b.action === "RESYNC").length,
    ]).toEqual([[], resyncs]);
  });
});
