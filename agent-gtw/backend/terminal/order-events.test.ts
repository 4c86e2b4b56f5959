/**
 * ORDER events → order events, pure (docs/EA-LINK.md §12.5): what each transaction means given
 * what came before, a fill paired with its deal in either order, and the tickets the gateway
 * never saw placed.
 */
import { describe, expect, test } from "bun:test";
import type { Deal, TradeOrder } from "../../../shared/protocol/index.ts";
import { makeTradeOrder } from "../../../shared/protocol/testing/fixtures.ts";
import { OrderEventMapper } from "./order-events.ts";
import { LinkProtocolError } from "./wire-fields.ts";

function order(overrides: Partial<TradeOrder> = {}): TradeOrder {
  return makeTradeOrder({
    ticket: 7,
    price_open: 1.09,
    type_filling: "RETURN",
    magic: 1,
    comment: "",
    time_setup: 1,
    ...overrides,
  });
}

const deal = (overrides: Partial<Deal> = {}): Deal => ({
  ticket: 70,
  order: 7,
  position: 7,
  symbol: "EURUSD",
  side: "BUY",
  entry: "IN",
  reason: "EXPERT",
  volume: 0.1,
  price: 1.09,
  profit: 0,
  commission: 0,
  swap: 0,
  magic: 1,
  comment: "",
  time: 2,
  ...overrides,
});

const types = (events: readonly { type: string }[]) => events.map((event) => event.type);

describe("active orders", () => {
  test("a placement reported as ADD and then UPDATE is one ORDER_PLACED", () => {
    const mapper = new OrderEventMapper();
    expect(types(mapper.order("ORDER_ADD", order()))).toEqual(["ORDER_PLACED"]);
    expect(mapper.order("ORDER_UPDATE", order({ price_current: 1.1001 }))).toEqual([]);
  });

  test("an ADD seen while the order is still STARTED places it on its first PLACED update", () => {
    const mapper = new OrderEventMapper();
    expect(mapper.order("ORDER_ADD", order({ state: "STARTED" }))).toEqual([]);
    expect(types(mapper.order("ORDER_UPDATE", order()))).toEqual(["ORDER_PLACED"]);
  });

  test("a changed term is ORDER_MODIFIED; request states in between change nothing", () => {
    const mapper = new OrderEventMapper();
    mapper.order("ORDER_ADD", order());
    expect(mapper.order("ORDER_UPDATE", order({ state: "REQUEST_MODIFY" }))).toEqual([]);
    const moved = order({ price_open: 1.0895, sl: 1.08 });
    expect(mapper.order("ORDER_UPDATE", moved)).toEqual([{ type: "ORDER_MODIFIED", order: moved }]);
    expect(mapper.order("ORDER_UPDATE", moved)).toEqual([]);
  });

  test("an update of an order placed before the gateway watched is ORDER_MODIFIED", () => {
    const mapper = new OrderEventMapper();
    expect(types(mapper.order("ORDER_UPDATE", order()))).toEqual(["ORDER_MODIFIED"]);
  });

  test("a stop-limit that becomes its limit order is ORDER_TRIGGERED without a deal", () => {
    const mapper = new OrderEventMapper();
    mapper.order("ORDER_ADD", order({ type: "BUY_STOP_LIMIT", price_stoplimit: 1.1 }));
    const limit = order({ type: "BUY_LIMIT", price_open: 1.1 });
    expect(mapper.order("ORDER_UPDATE", limit)).toEqual([
      { type: "ORDER_TRIGGERED", order: limit },
    ]);
  });

  test("market and close-by orders are left to their deals", () => {
    const mapper = new OrderEventMapper();
    expect(mapper.order("ORDER_ADD", order({ type: "BUY" }))).toEqual([]);
    expect(mapper.order("HISTORY_ADD", order({ type: "CLOSE_BY", state: "FILLED" }))).toEqual([]);
  });

  test("a transaction outside the contract is a protocol error", () => {
    expect(() => new OrderEventMapper().order("ORDER_DELETE", order())).toThrow(LinkProtocolError);
  });
});

describe("orders leaving the book", () => {
  test.each([
    ["CANCELED", "ORDER_CANCELED"],
    ["EXPIRED", "ORDER_EXPIRED"],
    ["REJECTED", "ORDER_REJECTED"],
  ] as const)("%s → %s", (state, event) => {
    const gone = order({ state, time_done: 5 });
    expect(new OrderEventMapper().order("HISTORY_ADD", gone)).toEqual([
      { type: event, order: gone },
    ]);
  });

  test("a fill is ORDER_TRIGGERED with its deal whichever comes first", () => {
    const filled = order({ state: "FILLED", volume_current: 0, position_id: 7 });
    const first = new OrderEventMapper();
    expect(first.order("HISTORY_ADD", filled)).toEqual([]);
    expect(first.deal(deal())).toEqual([{ type: "ORDER_TRIGGERED", order: filled, deal: deal() }]);
    const second = new OrderEventMapper();
    expect(second.deal(deal())).toEqual([]);
    expect(second.order("HISTORY_ADD", filled)).toEqual([
      { type: "ORDER_TRIGGERED", order: filled, deal: deal() },
    ]);
    // Each pairs once
    expect(second.deal(deal({ ticket: 71 }))).toEqual([]);
  });

  test("a stop-limit filled in the history placed its limit order: triggered, no deal to wait for", () => {
    const filled = order({ type: "SELL_STOP_LIMIT", state: "FILLED" });
    expect(new OrderEventMapper().order("HISTORY_ADD", filled)).toEqual([
      { type: "ORDER_TRIGGERED", order: filled },
    ]);
  });

  test("a new session drops half-made pairs; a ticket that left can be placed anew", () => {
    const mapper = new OrderEventMapper();
    mapper.order("HISTORY_ADD", order({ state: "FILLED" }));
    mapper.newSession();
    expect(mapper.deal(deal())).toEqual([]);
    expect(types(mapper.order("ORDER_ADD", order()))).toEqual(["ORDER_PLACED"]);
  });

  test("memory stays bounded: the oldest waiting fills are forgotten", () => {
    const mapper = new OrderEventMapper();
    for (let ticket = 1; ticket <= 200; ticket++) {
      mapper.order("HISTORY_ADD", order({ ticket, state: "FILLED" }));
    }
    expect(mapper.deal(deal({ order: 1 }))).toEqual([]);
    expect(types(mapper.deal(deal({ order: 200 })))).toEqual(["ORDER_TRIGGERED"]);
  });
});
