import { describe, expect, test } from "bun:test";
import type { Deal } from "../../../shared/protocol/index.ts";
import { Book } from "./book.ts";

const deal = (ticket: number, time: number, magic = 1): Deal => ({
  ticket,
  order: ticket,
  position: ticket,
  symbol: "EURUSD",
  side: "BUY",
  entry: "IN",
  reason: "EXPERT",
  volume: 0.1,
  price: 1.1,
  profit: 0,
  commission: 0,
  swap: 0,
  magic,
  comment: "",
  time,
});

describe("Book.dealsBetween", () => {
  test("finds deals by time range and magic, in history order", () => {
    const times = [100, 200, 200, 300, 400, 500];
    const book = Book.fromSnapshot(
      { balance: 0, next_order: 1, next_deal: 1, positions: [] },
      times.map((time, i) => deal(i + 1, time, i % 2 === 0 ? 7 : 8)),
    );
    expect(book.dealsBetween(200, 400, undefined).map((d) => d.ticket)).toEqual([2, 3, 4, 5]);
    expect(book.dealsBetween(200, 400, 7).map((d) => d.ticket)).toEqual([3, 5]);
    expect(book.dealsBetween(0, 99, undefined)).toEqual([]);
    expect(book.dealsBetween(501, 10_000, undefined)).toEqual([]);
    expect(book.dealsBetween(0, 10_000, undefined)).toHaveLength(6);
  });

  test("still finds every deal after the wall clock stepped back (history no longer sorted)", () => {
    const book = Book.fromSnapshot({ balance: 0, next_order: 1, next_deal: 1, positions: [] }, [
      deal(1, 100),
      deal(2, 500),
      deal(3, 150),
      deal(4, 600),
    ]);
    // A binary search would start after ticket 3 here and miss it; reconciliation must not.
    expect(book.dealsBetween(120, 200, undefined).map((d) => d.ticket)).toEqual([3]);
    expect(book.dealsBetween(0, 550, undefined).map((d) => d.ticket)).toEqual([1, 2, 3]);
  });
});
