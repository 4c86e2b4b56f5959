/**
 * GET_HISTORY_ORDERS is the one order history: market orders, pending orders that filled, were
 * cancelled or expired, and close-by orders, each once, as TradeOrder, by (time_setup, ticket);
 * GET_ORDER of a PLACE and its position query read the same entries, and a restart keeps them.
 */
import { expect, test } from "bun:test";
import {
  encodeReply,
  type HistoryOrdersReply,
  type PendingTradeReply,
  parseReply,
  type Reply,
  type TradeOrder,
} from "../../shared/protocol/index.ts";
import type { Harness } from "../testing/harness.ts";
import { orderOf, pendingHarnesses, placeRequest } from "../testing/pending-harness.ts";

const { harness, restart } = pendingHarnesses();
const MINUTE = 60_000;

async function history(h: Harness, query: Record<string, unknown>): Promise<TradeOrder[]> {
  const reply = await h.send({ action: "GET_HISTORY_ORDERS", ...query });
  const checked = parseReply(encodeReply(reply), "GET_HISTORY_ORDERS");
  expect(checked.ok ? "valid" : checked.error.message).toBe("valid");
  return [...(reply as HistoryOrdersReply).history_orders];
}

const ticketOf = (reply: Reply) => (reply as PendingTradeReply).ticket as number;

test("market, triggered, cancelled, expired and close-by orders, each once", async () => {
  const h = await harness();
  const bought = await h.send({ action: "OPEN", symbol: "EURUSD", side: "BUY", volume: 0.2 });
  h.clock.advance(MINUTE);
  const limit = orderOf(await h.send(placeRequest({ client_order_id: "lim-1" })));
  const cancelled = orderOf(await h.send(placeRequest({ price: 1.098, client_order_id: "c-1" })));
  await h.send({ action: "CANCEL", ticket: cancelled });
  const expiring = orderOf(
    await h.send(
      placeRequest({ price: 1.097, type_time: "SPECIFIED", expiration: h.clock.now() + MINUTE }),
    ),
  );
  h.clock.advance(MINUTE);
  await h.backend.sim.setQuote("EURUSD", 1.0985, 1.099); // the buy limit at 1.099 fills
  await h.backend.sim.settle();
  h.clock.advance(MINUTE);
  const sold = await h.send({ action: "OPEN", symbol: "EURUSD", side: "SELL", volume: 0.1 });
  const closeBy = await h.send({ action: "CLOSE_BY", ticket: limit, ticket_by: ticketOf(sold) });
  expect(closeBy).toMatchObject({ status: "FILLED" });
  await h.backend.sim.settle();

  const all = await history(h, { from: 0, to: h.clock.now() });
  const summary = all.map((order): unknown[] => [order.ticket, order.type, order.state]);
  expect(summary).toEqual([
    [ticketOf(bought), "BUY", "FILLED"],
    [limit, "BUY_LIMIT", "FILLED"],
    [cancelled, "BUY_LIMIT", "CANCELED"],
    [expiring, "BUY_LIMIT", "EXPIRED"],
    [ticketOf(sold), "SELL", "FILLED"],
    [(closeBy as PendingTradeReply).order, "CLOSE_BY", "FILLED"],
  ]);
  const keys = all.map((order) => [order.time_setup, order.ticket] as const);
  expect(keys).toEqual([...keys].sort((a, b) => a[0] - b[0] || a[1] - b[1]));

  // The triggered order's position: its own order and the close-by that closed it
  const position = await history(h, { position: limit });
  expect(position.map((order): unknown[] => [order.ticket, order.type])).toEqual([
    [limit, "BUY_LIMIT"],
    [(closeBy as PendingTradeReply).order, "CLOSE_BY"],
  ]);
  expect(await history(h, { ticket: cancelled })).toEqual([all[2]!]);
  expect(await history(h, { from: 0, to: h.clock.now(), group: "GBP*" })).toEqual([]);

  // GET_ORDER of a PLACE shows the order's history entry
  for (const [id, entry] of [
    ["lim-1", all[1]],
    ["c-1", all[2]],
  ] as const) {
    const record = await h.send({ action: "GET_ORDER", client_order_id: id });
    expect(record).toMatchObject({
      pending_order: { ...entry, price_current: expect.any(Number) },
    });
  }

  const again = await restart(h);
  expect(await history(again, { from: 0, to: h.clock.now() })).toEqual(all);
});
