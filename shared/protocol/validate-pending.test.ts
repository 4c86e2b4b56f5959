import { describe, expect, test } from "bun:test";
import { intentHash } from "./codec.ts";
import { makeTradeOrder } from "./testing/fixtures.ts";
import type { SignedRequest } from "./types.ts";
import { isSignedAction, parseMessage, parseRequest } from "./validate.ts";
import { parseEvent } from "./validate-event.ts";
import { parseReply } from "./validate-reply.ts";

const encoder = new TextEncoder();
const bytes = (value: unknown) => encoder.encode(JSON.stringify(value));
const signed = {
  v: 1,
  id: "r-1",
  ts: 1_795_000_000_000,
  client_order_id: "c-1",
  gateway: "gtw",
  key_id: "k",
};
const unsigned = { v: 1, id: "r-1", ts: 1_795_000_000_000 };

const place = (extra: Record<string, unknown> = {}) => ({
  ...signed,
  action: "PLACE",
  symbol: "EURUSD",
  type: "BUY_LIMIT",
  volume: 0.1,
  price: 1.095,
  ...extra,
});

describe("pending-order requests", () => {
  test.each([
    ["a buy limit", place()],
    [
      "a sell stop-limit with everything",
      place({
        type: "SELL_STOP_LIMIT",
        price: 1.09,
        stoplimit: 1.0925,
        sl: 1.1,
        tp: null,
        type_time: "SPECIFIED_DAY",
        expiration: 1_795_046_400_000,
        type_filling: "RETURN",
        magic: 7,
        comment: "grid",
      }),
    ],
    ["a DAY order", place({ type_time: "DAY" })],
    ["a price move", { ...signed, action: "MODIFY_ORDER", ticket: 5, price: 1.094 }],
    ["an SL removed", { ...signed, action: "MODIFY_ORDER", ticket: 5, sl: null }],
    ["a lifetime change", { ...signed, action: "MODIFY_ORDER", ticket: 5, type_time: "GTC" }],
    [
      "a new expiration alone",
      { ...signed, action: "MODIFY_ORDER", ticket: 5, expiration: 1_795_046_400_000 },
    ],
    ["a cancel", { ...signed, action: "CANCEL", ticket: 5 }],
    ["a close-by", { ...signed, action: "CLOSE_BY", ticket: 5, ticket_by: 6, comment: "net" }],
    ["every order", { ...unsigned, action: "GET_ORDERS" }],
    ["orders by group", { ...unsigned, action: "GET_ORDERS", group: "*USD*,!EUR*" }],
    [
      "a market order check",
      {
        ...unsigned,
        action: "ORDER_CHECK",
        symbol: "EURUSD",
        type: "SELL",
        volume: 1,
        deviation: 5,
      },
    ],
    [
      "a pending order check",
      {
        ...unsigned,
        action: "ORDER_CHECK",
        symbol: "EURUSD",
        type: "BUY_STOP",
        volume: 1,
        price: 1.11,
      },
    ],
    [
      "a margin",
      { ...unsigned, action: "CALC_MARGIN", symbol: "EURUSD", type: "BUY", volume: 1, price: 1.1 },
    ],
    [
      "a profit",
      {
        ...unsigned,
        action: "CALC_PROFIT",
        symbol: "EURUSD",
        type: "SELL",
        volume: 1,
        price_open: 1.1,
        price_close: 1.09,
      },
    ],
  ])("accepts %s", (_name, request) => {
    const result = parseRequest(bytes(request));
    expect(result.ok ? "ok" : result.error.message).toBe("ok");
  });

  test.each<[string, unknown, string, string]>([
    ["a market type in PLACE", place({ type: "BUY" }), "type", "must be one of BUY_LIMIT"],
    ["a zero price", place({ price: 0 }), "price", "must be a positive number"],
    [
      "stoplimit on a limit order",
      place({ stoplimit: 1.09 }),
      "stoplimit",
      "only for BUY_STOP_LIMIT",
    ],
    [
      "a stop-limit without stoplimit",
      place({ type: "BUY_STOP_LIMIT" }),
      "stoplimit",
      "needs stoplimit",
    ],
    ["an expiration on GTC", place({ expiration: 1_795_046_400_000 }), "expiration", "not GTC"],
    [
      "SPECIFIED without a time",
      place({ type_time: "SPECIFIED" }),
      "expiration",
      "needs expiration",
    ],
    [
      "a millisecond expiration",
      place({ type_time: "SPECIFIED", expiration: 1_795_046_400_001 }),
      "expiration",
      "whole second",
    ],
    ["an unknown lifetime", place({ type_time: "GTD" }), "type_time", "must be one of GTC"],
    ["an unknown filling", place({ type_filling: "BOC" }), "type_filling", "must be one of FOK"],
    [
      "a deviation (market orders only)",
      place({ deviation: 10 }),
      "deviation",
      "not allowed in PLACE",
    ],
    [
      "a modify that changes nothing",
      { ...signed, action: "MODIFY_ORDER", ticket: 5 },
      "price",
      "must change one of",
    ],
    [
      "a modify to SPECIFIED without a time",
      { ...signed, action: "MODIFY_ORDER", ticket: 5, type_time: "SPECIFIED" },
      "expiration",
      "needs expiration",
    ],
    ["a cancel without ticket", { ...signed, action: "CANCEL" }, "ticket", "is required"],
    [
      "a close-by of a position by itself",
      { ...signed, action: "CLOSE_BY", ticket: 5, ticket_by: 5 },
      "ticket_by",
      "another position",
    ],
    [
      "two filters",
      { ...unsigned, action: "GET_ORDERS", symbol: "EURUSD", ticket: 3 },
      "ticket",
      "at most one of",
    ],
    [
      "a group with a space",
      { ...unsigned, action: "GET_ORDERS", group: "EUR USD" },
      "group",
      "masks like",
    ],
    [
      "an empty mask",
      { ...unsigned, action: "GET_ORDERS", group: "EUR*,,USD*" },
      "group",
      "masks like",
    ],
    [
      "a lone exclusion mark",
      { ...unsigned, action: "GET_ORDERS", group: "!" },
      "group",
      "masks like",
    ],
    [
      "a market check with stoplimit",
      {
        ...unsigned,
        action: "ORDER_CHECK",
        symbol: "EURUSD",
        type: "BUY",
        volume: 1,
        stoplimit: 1,
      },
      "stoplimit",
      "only for pending",
    ],
    [
      "a pending check without price",
      { ...unsigned, action: "ORDER_CHECK", symbol: "EURUSD", type: "BUY_LIMIT", volume: 1 },
      "price",
      "needs price",
    ],
    [
      "a pending type in CALC_MARGIN",
      {
        ...unsigned,
        action: "CALC_MARGIN",
        symbol: "EURUSD",
        type: "BUY_LIMIT",
        volume: 1,
        price: 1,
      },
      "type",
      '"BUY" or "SELL"',
    ],
    [
      "a signed envelope on a read",
      { ...signed, action: "GET_ORDERS" },
      "client_order_id",
      "not allowed",
    ],
  ])("refuses %s", (_name, request, field, phrase) => {
    const result = parseRequest(bytes(request));
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.code).toBe("INVALID_REQUEST");
      expect(result.error.field).toBe(field);
      expect(result.error.message).toContain(phrase);
    }
  });

  test("the four trade actions are signed (two frames), the reads are not", () => {
    for (const action of ["PLACE", "MODIFY_ORDER", "CANCEL", "CLOSE_BY"]) {
      expect(isSignedAction(action)).toBe(true);
    }
    for (const action of ["GET_ORDERS", "ORDER_CHECK", "CALC_MARGIN", "CALC_PROFIT"]) {
      expect(isSignedAction(action)).toBe(false);
    }
    expect(parseMessage([bytes(place()), new Uint8Array(64)]).ok).toBe(true);
    const read = parseMessage([bytes({ ...unsigned, action: "GET_ORDERS" }), new Uint8Array(64)]);
    expect(read.ok ? "ok" : read.error.message).toBe("GET_ORDERS takes at most 1 frame, was 2");
  });
});

describe("intent hash", () => {
  test("an OPEN hashes exactly as before pending orders existed (journals stay valid)", () => {
    const open = {
      ...signed,
      action: "OPEN",
      symbol: "EURUSD",
      side: "BUY",
      volume: 0.1,
      sl: 1.09,
      tp: null,
      comment: "x",
    };
    expect(intentHash(open as SignedRequest)).toBe(
      "8e6bc65f647897a93991685a005357acbff77825af99e53768cf9af2373d2b52",
    );
  });

  test("every field of a PLACE is part of its intent; the envelope is not", () => {
    const base = intentHash(place() as SignedRequest);
    const retry = { ...place(), id: "r-2", ts: 1_795_000_000_500 };
    expect(intentHash(retry as SignedRequest)).toBe(base);
    for (const change of [
      { type: "SELL_LIMIT" },
      { price: 1.0951 },
      { type_time: "DAY" },
      { type_filling: "IOC" },
      { magic: 3 },
    ]) {
      expect(intentHash(place(change) as SignedRequest)).not.toBe(base);
    }
    const closeBy = { ...signed, action: "CLOSE_BY", ticket: 5, ticket_by: 6 };
    expect(intentHash(closeBy as SignedRequest)).not.toBe(
      intentHash({ ...closeBy, ticket_by: 7 } as SignedRequest),
    );
  });
});

const order = makeTradeOrder();

describe("pending-order replies and events", () => {
  test("a FILLED PLACE needs the order ticket", () => {
    const reply = { v: 1, id: "r-1", status: "FILLED", client_order_id: "c-1", retcode: 10009 };
    const without = parseReply(bytes(reply), "PLACE");
    expect(without.ok ? "ok" : without.error.message).toBe(
      "field order is required in a FILLED reply to PLACE",
    );
    const placed = parseReply(bytes({ ...reply, order: 5, pending_order: order }), "PLACE");
    expect(placed.ok && placed.reply).toMatchObject({
      order: 5,
      pending_order: { ticket: 100000001 },
    });
  });

  test("orders are read strictly", () => {
    const ok = parseReply(bytes({ v: 1, id: "r-1", status: "OK", orders: [order] }), "GET_ORDERS");
    expect(ok.ok).toBe(true);
    const bad = parseReply(
      bytes({ v: 1, id: "r-1", status: "OK", orders: [{ ...order, state: "OPEN" }] }),
      "GET_ORDERS",
    );
    expect(bad.ok ? "ok" : bad.error.field).toBe("orders.0.state");
  });

  test("an order check, a margin and a profit", () => {
    const check = {
      retcode: 0,
      balance: 1,
      equity: 1,
      profit: 0,
      margin: 1,
      margin_free: 0,
      margin_level: 100,
      comment: "Done",
    };
    expect(parseReply(bytes({ v: 1, id: "r", status: "OK", check }), "ORDER_CHECK").ok).toBe(true);
    expect(parseReply(bytes({ v: 1, id: "r", status: "OK", margin: 110 }), "CALC_MARGIN").ok).toBe(
      true,
    );
    const noProfit = parseReply(bytes({ v: 1, id: "r", status: "OK" }), "CALC_PROFIT");
    expect(noProfit.ok).toBe(false);
  });

  test("order events carry the order, and ORDER_TRIGGERED its deal", () => {
    const deal = {
      ticket: 50000001,
      order: 100000001,
      position: 100000001,
      symbol: "EURUSD",
      side: "BUY",
      entry: "IN",
      reason: "EXPERT",
      volume: 0.1,
      price: 1.095,
      profit: 0,
      commission: 0,
      swap: 0,
      magic: 7,
      comment: "BABCDEFGHJK",
      time: 1_795_000_000_500,
    };
    const triggered = parseEvent(
      bytes({ v: 1, event: "ORDER_TRIGGERED", seq: 3, order: { ...order, state: "FILLED" }, deal }),
    );
    expect(triggered.ok && triggered.event).toMatchObject({
      event: "ORDER_TRIGGERED",
      deal: { ticket: 50000001 },
    });
    const rejected = parseEvent(
      bytes({ v: 1, event: "ORDER_REJECTED", seq: 4, order, retcode: 10019, comment: "No money" }),
    );
    expect(rejected.ok && rejected.event).toMatchObject({ retcode: 10019 });
    const noOrder = parseEvent(bytes({ v: 1, event: "ORDER_CANCELED", seq: 5 }));
    expect(noOrder.ok ? "ok" : noOrder.error.message).toBe("event: field order is required");
  });
});
