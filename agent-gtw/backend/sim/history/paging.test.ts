/**
 * Resuming where a page stopped: ticks sharing a millisecond are neither repeated nor lost, the
 * scan of a long quiet range is bounded, deal pages are exact at their boundaries, and order
 * pages merge the market orders of the deals with the order book's history.
 */
import { describe, expect, test } from "bun:test";
import type { Deal, TickRow, TradeOrder } from "../../../../shared/protocol/index.ts";
import type { HistoryQuery } from "../../market-reads.ts";
import { resolveSymbols } from "../symbols.ts";
import { DealPages, marketOrder, OrderHistoryPages } from "./account-history.ts";
import { PriceHistory } from "./price-history.ts";
import { tickRange } from "./tick-range.ts";

const WEDNESDAY = Date.UTC(2026, 10, 18, 12);
const MINUTE = 60_000;

function history() {
  const market = new PriceHistory(resolveSymbols().values(), 5, "forex");
  market.calibrate(WEDNESDAY);
  return market.get("EURUSD")!.history;
}

function pageAll(limit: number, from: number, to: number, now: number, source = history()) {
  const pages: TickRow[][] = [];
  let start = { from, skip: 0 };
  for (let guard = 0; guard < 10_000; guard++) {
    const chunk = tickRange(source, start, to, "ALL", limit, now);
    pages.push(chunk.rows);
    if (chunk.next === undefined) return pages;
    start = chunk.next;
  }
  throw new Error("paging did not end");
}

describe("tick pages", () => {
  test("ticks at the same millisecond are split across pages without loss or repeats", () => {
    const source = history();
    const minute = Math.floor(WEDNESDAY / MINUTE) - 5;
    const canonical = source.ticks(minute)[10]!;
    // Two pins at the time of a canonical tick: three ticks share one millisecond
    source.pin(canonical[0], 1.3, 1.30012);
    source.pin(canonical[0], 1.31, 1.31012);
    const from = minute * MINUTE;
    const to = from + MINUTE - 1;
    const whole = pageAll(100_000, from, to, WEDNESDAY, source).flat();
    expect(whole.filter((tick) => tick[0] === canonical[0])).toHaveLength(3);
    for (const limit of [1, 2, 3, 7]) {
      expect(pageAll(limit, from, to, WEDNESDAY, source).flat()).toEqual(whole);
    }
  });

  test("a page ends exactly at its limit, and the range ends where it says", () => {
    const from = WEDNESDAY - 10 * MINUTE;
    const all = pageAll(100_000, from, WEDNESDAY, WEDNESDAY).flat();
    const exact = tickRange(history(), { from, skip: 0 }, WEDNESDAY, "ALL", all.length, WEDNESDAY);
    expect(exact.rows).toEqual(all);
    const rest = tickRange(history(), exact.next!, WEDNESDAY, "ALL", 10, WEDNESDAY);
    expect(rest).toEqual({ rows: [], next: undefined });
    const over = tickRange(
      history(),
      { from, skip: 0 },
      WEDNESDAY,
      "ALL",
      all.length + 1,
      WEDNESDAY,
    );
    expect(over).toEqual({ rows: all, next: undefined });
    expect(all.every((tick) => tick[0] >= from && tick[0] <= WEDNESDAY)).toBe(true);
  });

  test("the sim quotes bid and ask only: INFO is every tick, TRADE none", () => {
    const from = WEDNESDAY - 5 * MINUTE;
    const info = tickRange(history(), { from, skip: 0 }, WEDNESDAY, "INFO", 100_000, WEDNESDAY);
    const all = tickRange(history(), { from, skip: 0 }, WEDNESDAY, "ALL", 100_000, WEDNESDAY);
    expect(info.rows).toEqual(all.rows);
    expect(tickRange(history(), { from, skip: 0 }, WEDNESDAY, "TRADE", 10, WEDNESDAY)).toEqual({
      rows: [],
      next: undefined,
    });
  });

  test("a long range is scanned in bounded steps that resume where they stopped", () => {
    const from = WEDNESDAY - 20 * 86_400_000;
    const first = tickRange(history(), { from, skip: 0 }, WEDNESDAY, "ALL", 100_000_000, WEDNESDAY);
    expect(first.next).toBeDefined();
    expect(first.next!.skip).toBe(0);
    expect(first.rows.every((tick) => tick[0] < first.next!.from)).toBe(true);
    // Nothing exists in the future: a range after now is empty at once
    expect(
      tickRange(
        history(),
        { from: WEDNESDAY + 1, skip: 0 },
        WEDNESDAY + 86_400_000,
        "ALL",
        5,
        WEDNESDAY,
      ),
    ).toEqual({ rows: [], next: undefined });
  });
});

function deal(ticket: number, time: number, position = 1, symbol = "EURUSD"): Deal {
  return {
    ticket,
    order: ticket + 1000,
    position,
    symbol,
    side: "BUY",
    entry: "IN",
    reason: "EXPERT",
    volume: 0.1,
    price: 1.1,
    profit: 0,
    commission: 0,
    swap: 0,
    magic: 1,
    comment: "",
    time,
  };
}

function all(pages: DealPages, deals: Deal[], query: HistoryQuery, limit: number) {
  const out: Deal[][] = [];
  let after: { time: number; ticket: number } | undefined;
  for (let guard = 0; guard < 1000; guard++) {
    const page = pages.page(deals, query, after, limit, (d) => d.ticket);
    out.push([...page.rows]);
    if (page.next === undefined) return out;
    after = page.next;
  }
  throw new Error("paging did not end");
}

describe("deal pages", () => {
  const deals = Array.from({ length: 10 }, (_, i) =>
    deal(i + 1, 1000 + Math.floor(i / 3), (i % 2) + 1),
  );
  const range: HistoryQuery = { kind: "range", from: 0, to: 5000 };

  test("exactly a page, one over, and an empty range", () => {
    expect(all(new DealPages(), deals, range, 10).map((page) => page.length)).toEqual([10, 0]);
    expect(all(new DealPages(), deals, range, 9).map((page) => page.length)).toEqual([9, 1]);
    expect(all(new DealPages(), deals, range, 3).flat()).toEqual(deals);
    expect(all(new DealPages(), deals, { kind: "range", from: 2000, to: 3000 }, 3)).toEqual([[]]);
    expect(
      all(new DealPages(), deals, { kind: "range", from: 1001, to: 1002 }, 2)
        .flat()
        .map((d) => d.ticket),
    ).toEqual([4, 5, 6, 7, 8, 9]);
  });

  test("by position and by ticket, and in (time, ticket) order when the clock stepped back", () => {
    expect(
      all(new DealPages(), deals, { kind: "position", position: 2 }, 2)
        .flat()
        .map((d) => d.ticket),
    ).toEqual([2, 4, 6, 8, 10]);
    expect(
      all(new DealPages(), deals, { kind: "ticket", ticket: 7 }, 500)
        .flat()
        .map((d) => d.ticket),
    ).toEqual([7]);
    const stepped = [...deals, deal(11, 999), deal(12, 1002)];
    const sorted = all(new DealPages(), stepped, range, 4)
      .flat()
      .map((d) => d.ticket);
    expect(sorted).toEqual([11, 1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 10]);
  });
});

describe("order pages: market orders from the deals, and the order book's history", () => {
  /** A pending order that left the book at `done`, placed at `setup`. */
  function bookOrder(
    ticket: number,
    setup: number,
    state: TradeOrder["state"],
    position = 0,
  ): TradeOrder {
    const base = marketOrder(deal(1, setup), "FOK");
    return { ...base, ticket, type: "BUY_LIMIT", state, time_setup: setup, position_id: position };
  }
  // Market orders 1001…1006 at 1000…1005; book orders placed in between, one of them (2002)
  // filled with deal 7 (order 2002, entry IN), a close-by (2005) with two OUT_BY deals
  const deals = Array.from({ length: 6 }, (_, i) => deal(i + 1, 1000 + i));
  deals.push({ ...deal(7, 1006), order: 2002, position: 2002 });
  deals.push({ ...deal(8, 1007), order: 2005, entry: "OUT_BY" });
  deals.push({ ...deal(9, 1007), order: 2005, entry: "OUT_BY" });
  const book: TradeOrder[] = [
    bookOrder(2001, 999, "CANCELED"),
    bookOrder(2003, 1002, "EXPIRED"),
    bookOrder(2002, 1001, "FILLED", 2002),
    { ...bookOrder(2005, 1007, "FILLED", 1), type: "CLOSE_BY" },
    bookOrder(2004, 1002, "REJECTED"),
  ];
  const key = (order: TradeOrder) => [order.time_setup, order.ticket];

  function all(query: HistoryQuery, limit: number, history = book) {
    const pages = new OrderHistoryPages();
    const out: TradeOrder[][] = [];
    let after: { time: number; ticket: number } | undefined;
    for (let guard = 0; guard < 100; guard++) {
      const page = pages.page(deals, history, query, after, limit, () => "FOK");
      out.push([...page.rows]);
      if (page.next === undefined) return out;
      after = page.next;
    }
    throw new Error("paging did not end");
  }
  const range: HistoryQuery = { kind: "range", from: 0, to: 5000 };

  test("each order once, by (time_setup, ticket), whatever the page size", () => {
    const whole = all(range, 500).flat();
    expect(whole.map(key)).toEqual([
      [999, 2001],
      [1000, 1001],
      [1001, 1002],
      [1001, 2002],
      [1002, 1003],
      [1002, 2003],
      [1002, 2004],
      [1003, 1004],
      [1004, 1005],
      [1005, 1006],
      [1007, 2005],
    ]);
    expect(whole.find((order) => order.ticket === 2002)).toMatchObject({ type: "BUY_LIMIT" });
    for (const limit of [1, 2, 3, 4, 10, 11]) {
      expect(all(range, limit).flat()).toEqual(whole);
      expect(all(range, limit).every((page) => page.length <= limit)).toBe(true);
    }
  });

  test("a range, a position and a ticket select from both sources", () => {
    const within = all({ kind: "range", from: 1001, to: 1002 }, 2).flat();
    expect(within.map((order) => order.ticket)).toEqual([1002, 2002, 1003, 2003, 2004]);
    const position = all({ kind: "position", position: 2002 }, 500).flat();
    expect(position.map((order) => order.ticket)).toEqual([2002]);
    expect(all({ kind: "ticket", ticket: 2003 }, 500).flat()).toEqual([book[1]!]);
    expect(all({ kind: "ticket", ticket: 1004 }, 500).flat()).toEqual([
      marketOrder(deals[3]!, "FOK"),
    ]);
  });

  test("the book's entries count as soon as they are there, and old state gets external_id", () => {
    const pages = new OrderHistoryPages();
    const history: TradeOrder[] = [];
    // Not (or no longer) in the book: the pending order shows by its fill, as a market order
    const before = pages.page(deals, history, range, undefined, 500, () => "FOK").rows;
    expect(before).toHaveLength(7);
    expect(before.find((order) => order.ticket === 2002)).toMatchObject({ type: "BUY" });
    const { external_id: _dropped, ...old } = bookOrder(2002, 1001, "FILLED", 2002);
    history.push(old as TradeOrder);
    const rows = pages.page(deals, history, range, undefined, 500, () => "FOK").rows;
    expect(rows).toHaveLength(7);
    expect(rows.find((order) => order.ticket === 2002)).toMatchObject({
      type: "BUY_LIMIT",
      external_id: "",
    });
  });
});
