/**
 * Our own fills reach the live view from their replies (issue 17 §1): the view stays in sync
 * without a RESYNC after each of them, and falls back to one whenever a reply cannot explain
 * exactly what the stream told.
 */
import { describe, expect, test } from "bun:test";
import type { Deal, Position, TradeReply } from "../../shared/protocol/index.ts";
import { makePosition } from "../risk/testing/fixtures.ts";
import { LiveView } from "./live-view.ts";

const limits = { accountMaxAgeMs: 1000, symbolInfoMaxAgeMs: 5000, quoteIdleMs: 2000 };

/** A position as the broker holds it after one of the deals below. */
const position = (ticket: number, fields: Partial<Position> = {}): Position =>
  makePosition({ ticket, sl: null, tp: null, comment: "Bx", time: 5, time_update: 5, ...fields });

function deal(position: number, fields: Partial<Deal> = {}): Deal {
  return {
    ticket: 9000 + position,
    order: 8000 + position,
    position,
    symbol: "EURUSD",
    side: "BUY",
    entry: "IN",
    reason: "EXPERT",
    volume: 0.1,
    price: 1.1,
    profit: 0,
    commission: 0,
    swap: 0,
    magic: 7,
    comment: "Bx",
    time: 5,
    ...fields,
  };
}

const filled = (fields: Partial<TradeReply>): TradeReply => ({
  v: 1,
  id: "r",
  status: "FILLED",
  client_order_id: "c",
  ...fields,
});

const OPEN = { action: "OPEN", symbol: "EURUSD", side: "BUY" } as const;

/** A view in sync holding `positions`, counting the RESYNCs it asks for. */
function live(positions: Position[] = []) {
  const view = new LiveView(() => 0, limits);
  const owed = { count: 0 };
  view.onPositionsOwed = () => {
    owed.count += 1;
  };
  view.replacePositions(positions);
  view.positionsInSync = true;
  return { view, owed };
}

describe("our own fills on the live view", () => {
  test("an OPEN answered before its DEAL: the reply makes the position, the DEAL fills in its details", () => {
    const { view, owed } = live();
    const order = view.ownOrder(OPEN);
    order.finish(filled({ ticket: 1, volume: 0.1, price: 1.1, sl: 1.09, tp: null }));
    expect(view.positions()).toEqual([
      position(1, { sl: 1.09, magic: 0, comment: "", time: 0, time_update: 0 }),
    ]);
    expect(view.onDeal(deal(1))).toBe("explained");
    expect(view.positions()).toEqual([position(1, { sl: 1.09 })]);
    expect(owed.count).toBe(0);
  });

  test("a DEAL before its reply: out of sync while it waits, in sync again with the reply", () => {
    const { view, owed } = live([position(1)]);
    const order = view.ownOrder(OPEN);
    expect(view.onDeal(deal(2))).toBe("waiting");
    // The broker holds a position the view does not show yet: no answer for positions
    expect(view.positions()).toBeUndefined();
    order.finish(filled({ ticket: 2, volume: 0.1, price: 1.1, sl: null, tp: 1.2 }));
    expect(view.positions()).toEqual([position(1), position(2, { tp: 1.2 })]);
    expect(owed.count).toBe(0);
  });

  test("a DEAL no order of ours can explain is foreign: the caller RESYNCs", () => {
    const { view } = live([position(1)]);
    expect(view.onDeal(deal(2))).toBe("foreign");
    // One OPEN in flight explains at most one unknown opening deal
    const order = view.ownOrder(OPEN);
    expect(view.onDeal(deal(3))).toBe("waiting");
    expect(view.onDeal(deal(4))).toBe("foreign");
    // A closing deal of a position no CLOSE of ours is taking lots off
    expect(view.onDeal(deal(1, { entry: "OUT" }))).toBe("foreign");
    order.finish(filled({ ticket: 3, volume: 0.1, price: 1.1, sl: null, tp: null }));
  });

  test("a DEAL still waiting when our orders are all answered was not ours: RESYNC", () => {
    const { view, owed } = live();
    const order = view.ownOrder(OPEN);
    expect(view.onDeal(deal(2))).toBe("waiting");
    // Our OPEN was refused: the deal was someone else's (or a pending order's)
    order.finish(undefined);
    expect([view.positions(), owed.count]).toEqual([undefined, 1]);
  });

  test("a CLOSE: full or partial from the reply, and a view that was behind asks for a RESYNC", () => {
    const { view, owed } = live([position(1, { volume: 0.3 }), position(2)]);
    const partial = view.ownOrder({ action: "CLOSE", ticket: 1 });
    expect(view.onDeal(deal(1, { entry: "OUT", volume: 0.1 }))).toBe("waiting");
    partial.finish(filled({ ticket: 1, volume: 0.1, remaining_volume: 0.2 }));
    const full = view.ownOrder({ action: "CLOSE", ticket: 2 });
    full.finish(filled({ ticket: 2, volume: 0.1, remaining_volume: 0 }));
    expect(view.onDeal(deal(2, { entry: "OUT" }))).toBe("explained");
    expect([view.positions(), owed.count]).toEqual([[position(1, { volume: 0.2 })], 0]);
    // The view held 0.2 lots; the broker says 0.1 were taken and 0.05 are left: it was behind
    const odd = view.ownOrder({ action: "CLOSE", ticket: 1 });
    odd.finish(filled({ ticket: 1, volume: 0.1, remaining_volume: 0.05 }));
    expect([view.positions(), owed.count]).toEqual([undefined, 1]);
  });

  test.each([
    [
      "a position the view already holds (netting added to it)",
      { ticket: 1, volume: 0.1, price: 1.1, sl: null, tp: null },
    ],
    ["a reply without the broker's stops", { ticket: 2, volume: 0.1, price: 1.1 }],
    ["a reply without a ticket", { volume: 0.1, price: 1.1, sl: null, tp: null }],
  ])("an OPEN the reply cannot place exactly, %s, asks for a RESYNC", (_, reply) => {
    const { view, owed } = live([position(1)]);
    view.ownOrder(OPEN).finish(filled(reply));
    expect([view.positions(), owed.count]).toEqual([undefined, 1]);
  });

  test("a fill answered while the view is out of sync asks for one more RESYNC", () => {
    const { view, owed } = live();
    view.positionsInSync = false;
    view.ownOrder(OPEN).finish(filled({ ticket: 1, volume: 0.1, price: 1.1, sl: null, tp: null }));
    expect(owed.count).toBe(1);
    expect(view.knownPositions.size).toBe(0);
  });

  test("a MODIFY takes the broker's stops from its reply", () => {
    const { view, owed } = live([position(1)]);
    view.ownOrder({ action: "MODIFY", ticket: 1 }).finish(filled({ ticket: 1, sl: 1.05, tp: 1.2 }));
    expect([view.positions(), owed.count]).toEqual([[position(1, { sl: 1.05, tp: 1.2 })], 0]);
  });
});

describe("the account's age", () => {
  test("past half its age limit, using it asks for a fresh read; past the limit it is not answered", () => {
    let now = 0;
    const view = new LiveView(() => now, limits);
    let asked = 0;
    view.onAccountAging = () => {
      asked += 1;
    };
    expect(view.accountAging).toBe(true);
    view.remember({ account: { login: 1, equity: 1 } as never });
    now = 500;
    expect(view.account()).toBeDefined();
    expect([asked, view.accountAging]).toEqual([0, false]);
    now = 501;
    expect(view.account()).toBeDefined();
    expect([asked, view.accountAging]).toEqual([1, true]);
    now = 1001;
    expect(view.account()).toBeUndefined();
  });
});
