/**
 * Client-side checks of market replies: rows of the announced width, strict enumerations, bounded
 * pages; and the page limits hold in bytes: a page of worst-case rows stays under MAX_REPLY_BYTES.
 */
import { describe, expect, test } from "bun:test";
import {
  type HistoryDeal,
  MAX_CURSOR_LENGTH,
  MAX_HISTORY_PER_PAGE,
  MAX_RATES_PER_PAGE,
  MAX_TICKS_PER_PAGE,
  PAGE_BYTE_BUDGET,
  RATE_FIELDS,
  TICK_FIELDS,
} from "./market-types.ts";
import { FIXTURE_NOW_MS, makeTradeOrder } from "./testing/fixtures.ts";
import { MAX_REPLY_BYTES } from "./types.ts";
import { parseReply } from "./validate-reply.ts";

const encoder = new TextEncoder();
const bytes = (value: unknown) => encoder.encode(JSON.stringify(value));
const base = { v: 1, id: "x".repeat(64), status: "OK" };
/** The longest text a finite JSON number can have. */
const WIDEST = -1.2345678901234567e-308;

function reply(body: Record<string, unknown>, action: Parameters<typeof parseReply>[1]) {
  const result = parseReply(bytes({ ...base, ...body }), action);
  return result.ok ? "ok" : result.error.message;
}

const DEAL: HistoryDeal = {
  ticket: 50000001,
  order: 100000001,
  position: 100000001,
  symbol: "EURUSD",
  type: "BUY",
  entry: "IN",
  reason: "EXPERT",
  volume: 0.1,
  price: 1.10135,
  profit: 0,
  commission: 0,
  swap: 0,
  fee: 0,
  magic: 77,
  comment: "BYZR16VBKCY momentum",
  external_id: "",
  time: 1795003200002,
};
/** A market buy that filled, as GET_HISTORY_ORDERS lists it. */
const ORDER = makeTradeOrder({
  type: "BUY",
  state: "FILLED",
  volume_current: 0,
  price_open: 1.10135,
  price_current: 1.10135,
  time_done: FIXTURE_NOW_MS,
  position_id: 100000001,
});

describe("market replies", () => {
  test("accept a page of each kind", () => {
    const row = [1795003200000, 1.1, 1.2, 1.0, 1.1, 10, 1, 0];
    expect(reply({ fields: RATE_FIELDS, rates: [row], more: false }, "GET_RATES")).toBe("ok");
    expect(
      reply(
        {
          fields: TICK_FIELDS,
          ticks: [[1, 1.1, 1.2, 0, 0, 6, 0]],
          more: true,
          next: "T1.1.0.9.0.abcdef01",
        },
        "GET_TICKS",
      ),
    ).toBe("ok");
    expect(
      reply(
        { tick: { time_msc: 1, bid: 1, ask: 1.1, last: 0, volume: 0, flags: 6, volume_real: 0 } },
        "GET_TICK",
      ),
    ).toBe("ok");
    expect(reply({ history_deals: [DEAL], more: false }, "GET_HISTORY_DEALS")).toBe("ok");
    expect(reply({ history_orders: [ORDER], more: false }, "GET_HISTORY_ORDERS")).toBe("ok");
    expect(reply({ symbols: [], total: 0, more: false }, "GET_SYMBOLS")).toBe("ok");
    // A newer gateway may append columns
    expect(
      reply(
        { fields: [...RATE_FIELDS, "vwap"], rates: [[...row, 1.15]], more: false },
        "GET_RATES",
      ),
    ).toBe("ok");
  });

  test.each([
    [
      { rates: [[1, 2, 3, 4, 5, 6, 7, 8]], more: false },
      "GET_RATES",
      "field fields is required with rates",
    ],
    [
      { fields: TICK_FIELDS, rates: [[1, 2, 3, 4, 5, 6, 7]], more: false },
      "GET_RATES",
      "field fields must start with time, open",
    ],
    [
      { fields: RATE_FIELDS, rates: [[1, 2, 3]], more: false },
      "GET_RATES",
      "field rates.0 must have 8 numbers like fields, was 3",
    ],
    [
      { fields: RATE_FIELDS, rates: [[1, 2, 3, 4, "5", 6, 7, 8]], more: false },
      "GET_RATES",
      "field rates.0.4 must be a finite number",
    ],
    [
      { fields: RATE_FIELDS, rates: [[1, 2, 3, 4, 5, 6, 7, 8]], more: true },
      "GET_RATES",
      "field next is required with more: true",
    ],
    [
      { fields: RATE_FIELDS, rates: [], more: false, next: "R1.1.2.abcdef01" },
      "GET_RATES",
      "field next is only given with more: true",
    ],
    [
      { fields: RATE_FIELDS, rates: [] },
      "GET_RATES",
      "field more is required in a OK reply to GET_RATES",
    ],
    [
      {
        fields: TICK_FIELDS,
        ticks: Array(MAX_TICKS_PER_PAGE + 1).fill([1, 1, 1, 0, 0, 6, 0]),
        more: false,
      },
      "GET_TICKS",
      "field ticks must have at most 5000 entries",
    ],
    [
      { history_deals: [{ ...DEAL, type: "GIFT" }], more: false },
      "GET_HISTORY_DEALS",
      "field history_deals.0.type must be one of BUY, SELL",
    ],
    [
      { history_orders: [{ ...ORDER, state: "DONE" }], more: false },
      "GET_HISTORY_ORDERS",
      "field history_orders.0.state must be one of",
    ],
    [
      { history_deals: [{ ...DEAL, comment: "c".repeat(65) }], more: false },
      "GET_HISTORY_DEALS",
      "field history_deals.0.comment must be a string of at most 64",
    ],
    [{ tick: { time_msc: 1 } }, "GET_TICK", "field tick.bid is required"],
    [{ symbols: [], more: false }, "GET_SYMBOLS", "field total is required"],
    [
      { fields: RATE_FIELDS, rates: [], more: true, next: "n".repeat(MAX_CURSOR_LENGTH + 1) },
      "GET_RATES",
      "field next must be a string of 1 to 256",
    ],
  ] as const)("refuse %p (%s): %s", (body, action, message) => {
    expect(reply(body as Record<string, unknown>, action)).toStartWith(message);
  });

  test("a full page of the widest rows stays under the reply limit", () => {
    const next = "R".repeat(MAX_CURSOR_LENGTH);
    const rates = Array.from({ length: MAX_RATES_PER_PAGE }, () => Array(8).fill(WIDEST));
    const ratesPage = bytes({ ...base, fields: RATE_FIELDS, rates, more: true, next });
    const ticks = Array.from({ length: MAX_TICKS_PER_PAGE }, () => Array(7).fill(WIDEST));
    const ticksPage = bytes({ ...base, fields: TICK_FIELDS, ticks, more: true, next });
    expect(ratesPage.length).toBeLessThanOrEqual(PAGE_BYTE_BUDGET + 16_384);
    expect(ratesPage.length).toBeLessThanOrEqual(MAX_REPLY_BYTES);
    expect(ticksPage.length).toBeLessThanOrEqual(MAX_REPLY_BYTES);
    expect(parseReply(ratesPage, "GET_RATES").ok).toBe(true);
  });

  test("a full page of history at every text limit stays under the reply limit", () => {
    const text = "c".repeat(64);
    const deal = { ...DEAL, symbol: "S".repeat(32), comment: text, external_id: text };
    // An order's texts are checked like GET_ORDERS' (pending-shapes.ts): up to 256 characters
    const long = "c".repeat(256);
    const order = { ...ORDER, symbol: long, comment: long, external_id: long };
    for (const key of ["volume", "price", "profit", "commission", "swap", "fee"] as const) {
      (deal as Record<string, unknown>)[key] = WIDEST;
    }
    for (const key of ["volume_initial", "price_open", "sl", "tp", "price_current"] as const) {
      (order as Record<string, unknown>)[key] = WIDEST;
    }
    const deals = bytes({
      ...base,
      history_deals: Array(MAX_HISTORY_PER_PAGE).fill(deal),
      more: false,
    });
    const orders = bytes({
      ...base,
      history_orders: Array(MAX_HISTORY_PER_PAGE).fill(order),
      more: false,
    });
    expect(deals.length).toBeLessThanOrEqual(MAX_REPLY_BYTES);
    expect(orders.length).toBeLessThanOrEqual(MAX_REPLY_BYTES);
    expect(parseReply(deals, "GET_HISTORY_DEALS").ok).toBe(true);
    expect(parseReply(orders, "GET_HISTORY_ORDERS").ok).toBe(true);
  });
});
