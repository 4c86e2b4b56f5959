/**
 * Pending orders end to end on the terminal backend: the real agent-gtw process, the fake terminal
 * dialling its EA port, our CURVE test client in front. PLACE, MODIFY_ORDER and CANCEL go through
 * the EA link, their order events reach the client, the reads and calculators answer from the
 * broker, CLOSE_BY closes a hedge, and a PLACE whose reply is lost with the link is reconciled from
 * the EA's orders after it reconnects — placed once, its retry answered from the journal.
 */
import { afterEach, expect, test } from "bun:test";
import { cleanupRigs } from "../../agent-gtw/backend/terminal/testing/rig.ts";
import { eventually } from "../../scripts/harness/eventually.ts";
import type { TestClient } from "../../scripts/harness/test-client.ts";
import {
  type CalcMarginReply,
  type CalcProfitReply,
  type OrderCheckReply,
  type OrderEvent,
  type OrderReply,
  type OrdersReply,
  type PendingTradeReply,
  parseEvent,
  type SymbolInfoReply,
  type TradeReply,
} from "../../shared/protocol/index.ts";
import { liveTerminalGateway } from "../support/terminal-gateway.ts";

afterEach(cleanupRigs);

function orderEvents(c: TestClient): OrderEvent[] {
  return c.unmatched.flatMap((parts) => {
    const parsed = parseEvent(parts[0] as Uint8Array);
    return parsed.ok && parsed.event?.event.startsWith("ORDER_")
      ? [parsed.event as OrderEvent]
      : [];
  });
}

const orderOf = (reply: unknown) => (reply as PendingTradeReply).order as number;

/** agent-gtw on the terminal backend, the fake EA connected, a client that sees the link UP. */
const liveGateway = () => liveTerminalGateway();

test("pending orders and their events go through agent-gtw and the EA link", async () => {
  const { fake, gtw, c } = await liveGateway();
  expect(await c.send({ action: "SUBSCRIBE", events: true })).toMatchObject({ status: "OK" });
  const info = ((await c.send({ action: "GET_SYMBOL_INFO", symbol: "EURUSD" })) as SymbolInfoReply)
    .symbol_info;
  expect(info).toMatchObject({ order_modes: expect.arrayContaining(["LIMIT"]) });
  expect(info.expiration_modes).toEqual(["GTC", "DAY", "SPECIFIED", "SPECIFIED_DAY"]);

  const far = {
    action: "PLACE",
    symbol: "EURUSD",
    type: "BUY_LIMIT",
    volume: 0.1,
    price: Number((info.ask - 0.01).toFixed(5)),
    client_order_id: "e2e-t-far",
  } as const;
  const placed = await c.send(far);
  expect(placed).toMatchObject({
    status: "FILLED",
    retcode: 10009,
    pending_order: { type: "BUY_LIMIT", state: "PLACED", price_open: far.price },
  });
  const ticket = orderOf(placed);
  expect(await c.send(far)).toMatchObject({ status: "FILLED", duplicate: true, order: ticket });

  const moved = Number((far.price - 0.001).toFixed(5));
  const modified = await c.send({
    action: "MODIFY_ORDER",
    ticket,
    price: moved,
    sl: moved - 0.005,
  });
  expect(modified).toMatchObject({ status: "FILLED", pending_order: { price_open: moved } });
  const listed = (await c.send({ action: "GET_ORDERS", symbol: "EURUSD" })) as OrdersReply;
  expect(listed.orders.map((o) => [o.ticket, o.price_open])).toEqual([[ticket, moved]]);

  const check = (await c.send({
    action: "ORDER_CHECK",
    symbol: "EURUSD",
    type: "BUY",
    volume: 0.1,
  })) as OrderCheckReply;
  expect(check.check.retcode).toBe(0);
  const margin = (await c.send({
    action: "CALC_MARGIN",
    symbol: "EURUSD",
    type: "BUY",
    volume: 1,
    price: 1.1,
  })) as CalcMarginReply;
  expect(margin.margin).toBe(
    (await fake.sim.calcMargin({ symbol: "EURUSD", side: "BUY", volume: 1, price: 1.1 })) as number,
  );
  const profit = (await c.send({
    action: "CALC_PROFIT",
    symbol: "EURUSD",
    type: "SELL",
    volume: 1,
    price_open: 1.1,
    price_close: 1.09,
  })) as CalcProfitReply;
  expect(profit.profit).toBeGreaterThan(0);

  expect(await c.send({ action: "CANCEL", ticket })).toMatchObject({
    status: "FILLED",
    order: ticket,
  });
  await eventually(() => orderEvents(c).length >= 3, { timeoutMs: 5000 });
  expect(orderEvents(c).map((e) => [e.event, e.order.ticket])).toEqual([
    ["ORDER_PLACED", ticket],
    ["ORDER_MODIFIED", ticket],
    ["ORDER_CANCELED", ticket],
  ]);
  expect(await fake.sim.orders()).toEqual([]);

  const buy = (await c.send({
    action: "OPEN",
    symbol: "EURUSD",
    side: "BUY",
    volume: 0.2,
  })) as TradeReply;
  const sell = (await c.send({
    action: "OPEN",
    symbol: "EURUSD",
    side: "SELL",
    volume: 0.1,
  })) as TradeReply;
  const closed = await c.send({
    action: "CLOSE_BY",
    ticket: sell.ticket as number,
    ticket_by: buy.ticket as number,
  });
  expect(closed).toMatchObject({
    status: "FILLED",
    volume: 0.1,
    remaining_volume: 0,
    remaining_volume_by: 0.1,
  });
  expect(fake.commands.map((command) => command.cmd)).toContain("CLOSE_BY");
  expect(await gtw.stop()).toBe(0);
});

test("a PLACE whose reply is lost with the link is reconciled from the EA's orders, placed once", async () => {
  const { fake, c } = await liveGateway();
  const bid = (await fake.sim.symbolInfo("EURUSD"))?.bid as number;
  const place = {
    action: "PLACE",
    symbol: "EURUSD",
    type: "BUY_LIMIT",
    volume: 0.1,
    price: Number((bid - 0.01).toFixed(5)),
    client_order_id: "e2e-t-lost",
  } as const;
  fake.faults.push({ kind: "drop", cmd: "PLACE", execute: true });
  expect(await c.send(place)).toMatchObject({ status: "ERROR", error_code: "OUTCOME_UNKNOWN" });

  // The EA redials; the gateway finds the order by its comment tag instead of placing it again
  const decided = async () =>
    ((await c.send({ action: "GET_ORDER", client_order_id: place.client_order_id })) as OrderReply)
      .order?.state;
  await eventually(async () => (await decided()) === "FILLED", {
    timeoutMs: 15_000,
    intervalMs: 200,
  });
  const [order] = await fake.sim.orders();
  const record = (await c.send({
    action: "GET_ORDER",
    client_order_id: place.client_order_id,
  })) as OrderReply;
  expect(record).toMatchObject({
    order: { action: "PLACE", state: "FILLED", reply: { order: order?.ticket } },
    pending_order: { ticket: order?.ticket, state: "PLACED" },
  });
  expect(await c.send(place)).toMatchObject({ duplicate: true, order: order?.ticket });
  expect(fake.commands.filter((command) => command.cmd === "PLACE")).toHaveLength(1);
  expect(await fake.sim.orders()).toHaveLength(1);
});
