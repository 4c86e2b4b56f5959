import { describe, expect, test } from "bun:test";
import { errorReply, filledReply, okReply } from "./codec.ts";
import {
  FIXTURE_NOW_MS,
  makeAccount,
  makePosition,
  makeSymbolInfo,
  rawBytes,
} from "./testing/fixtures.ts";
import type { Action, Reply } from "./types.ts";
import { MAX_POSITIONS_PER_REPLY, parseReply } from "./validate-reply.ts";

const ping = okReply("r1", {
  gateway: "gtw-1",
  server_time: FIXTURE_NOW_MS,
  trading_state: "ACTIVE",
  mt5: { link: "UP", backend: "sim" },
  version: "0.1.0",
});
const fill = filledReply("r2", {
  client_order_id: "c1",
  retcode: 10009,
  ticket: 5001,
  deal: 7001,
  order: 6001,
  volume: 0.1,
  price: 1.10135,
  bid: 1.10125,
  ask: 1.10135,
  sl: 1.095,
  tp: null,
});
const orderRecord = okReply("r3", {
  order: {
    client_order_id: "c1",
    action: "OPEN",
    state: "FILLED",
    received_at: FIXTURE_NOW_MS,
    reply: { ...fill, duplicate: true },
  },
});

const VALID: readonly (readonly [string, Reply, Action | undefined])[] = [
  ["PING", ping, "PING"],
  [
    "PING with its signature window",
    { ...ping, signature_window: { ttl_ms: 2000, max_skew_ms: 500 } } as Reply,
    "PING",
  ],
  [
    "PING from a broker at UTC−5",
    { ...ping, mt5: { ...ping.mt5, server_offset_ms: -18_000_000 } } as Reply,
    "PING",
  ],
  ["OPEN filled", fill, "OPEN"],
  [
    "CLOSE partial",
    filledReply("r", { client_order_id: "c", ticket: 5001, volume: 0.05, remaining_volume: 0.05 }),
    "CLOSE",
  ],
  [
    "MODIFY",
    filledReply("r", { client_order_id: "c", ticket: 5001, sl: 1.096, tp: null }),
    "MODIFY",
  ],
  ["GET_ACCOUNT", okReply("r", { account: makeAccount() }), "GET_ACCOUNT"],
  [
    "GET_POSITIONS",
    okReply("r", { positions: [makePosition(), makePosition({ ticket: 5002, side: "SELL" })] }),
    "GET_POSITIONS",
  ],
  ["GET_POSITIONS empty", okReply("r", { positions: [] }), "GET_POSITIONS"],
  ["GET_SYMBOL_INFO", okReply("r", { symbol_info: makeSymbolInfo() }), "GET_SYMBOL_INFO"],
  ["GET_ORDER found", orderRecord, "GET_ORDER"],
  ["GET_ORDER not found", okReply("r", { order: null }), "GET_ORDER"],
  [
    "GET_ORDER unknown outcome",
    okReply("r", {
      order: {
        client_order_id: "c",
        action: "CLOSE",
        state: "UNKNOWN",
        received_at: 1,
        reply: null,
      },
    }),
    "GET_ORDER",
  ],
  ["an error", errorReply("r", "BAD_SIGNATURE", "signature does not verify"), "OPEN"],
  [
    "an error with no id",
    errorReply("", "INVALID_REQUEST", "request is not valid JSON"),
    undefined,
  ],
  [
    "an error code this build does not know",
    { ...errorReply("r", "REQUOTE", "m"), error_code: "NEW_CODE_2" },
    "OPEN",
  ],
  ["a filled reply without the action", fill, undefined],
  ["a GET_ORDER reply without the action", orderRecord, undefined],
];

describe("parseReply accepts", () => {
  test.each(VALID)("%s", (_name, reply, action) => {
    expect(parseReply(rawBytes(reply), action)).toEqual({ ok: true, reply });
  });

  test("drops unknown fields, at the top and inside objects", () => {
    const extended = { ...ping, extra: 1, mt5: { ...ping.mt5, future: true } };

    expect(parseReply(rawBytes(extended), "PING")).toEqual({ ok: true, reply: ping });
  });

  test("does not take fields from the object prototype", () => {
    const result = parseReply(rawBytes({ v: 1, id: "r", status: "OK", constructor: 1 }));

    expect(result.ok && Object.hasOwn(result.reply, "constructor")).toBe(false);
  });
});

const base = { v: 1, id: "r1", status: "OK" };
const REFUSED: readonly (readonly [string, unknown, Action | undefined, string])[] = [
  ["not JSON", "{", undefined, "reply is not valid UTF-8 JSON ("],
  ["an array", [1], undefined, "reply must be a JSON object, was an array"],
  ["null", null, undefined, "reply must be a JSON object, was null"],
  ["v missing", { id: "r", status: "OK" }, undefined, "field v must be 1, was undefined"],
  ["v a string", { ...base, v: "1" }, undefined, 'field v must be 1, was "1"'],
  ["id missing", { v: 1, status: "OK" }, undefined, "field id is required"],
  [
    "id a number",
    { ...base, id: 5 },
    undefined,
    "field id must be a string of at most 64 characters, was 5",
  ],
  [
    "id too long",
    { ...base, id: "i".repeat(65) },
    undefined,
    "field id must be a string of at most 64",
  ],
  [
    "status unknown",
    { ...base, status: "DONE" },
    undefined,
    "field status must be one of OK, FILLED, REJECTED, ERROR",
  ],
  [
    "error without code",
    { ...base, status: "ERROR", error_msg: "m" },
    undefined,
    "field error_code is required when status is ERROR",
  ],
  [
    "error without message",
    { ...base, status: "REJECTED", error_code: "REQUOTE" },
    undefined,
    "field error_msg is required when status is REJECTED",
  ],
  [
    "error code lowercase",
    { ...base, status: "ERROR", error_code: "bad", error_msg: "m" },
    undefined,
    "field error_code must contain only A-Z 0-9 _",
  ],
  [
    "error message an object",
    { ...base, status: "ERROR", error_code: "X", error_msg: {} },
    undefined,
    "field error_msg must be a string",
  ],
  [
    "error message too long",
    { ...base, status: "ERROR", error_code: "X", error_msg: "m".repeat(1025) },
    undefined,
    "at most 1024 characters",
  ],
  [
    "retcode fractional",
    { ...base, retcode: 10009.5 },
    undefined,
    "field retcode must be an integer, was 10009.5",
  ],
  [
    "duplicate a string",
    { ...base, duplicate: "yes" },
    undefined,
    "field duplicate must be a boolean",
  ],
  [
    "OK to an OPEN",
    { ...base, client_order_id: "c", ticket: 1 },
    "OPEN",
    'field status must be FILLED or an error for OPEN, was "OK"',
  ],
  [
    "FILLED to a PING",
    { ...ping, status: "FILLED" },
    "PING",
    "field status must be OK or an error for PING",
  ],
  [
    "PING with a negative signature window",
    { ...ping, signature_window: { ttl_ms: -1, max_skew_ms: 500 } },
    "PING",
    "field signature_window.ttl_ms",
  ],
  [
    "PING with a signature window missing its skew",
    { ...ping, signature_window: { ttl_ms: 2000 } },
    "PING",
    "field signature_window.max_skew_ms",
  ],
  [
    "PING without mt5",
    { ...ping, mt5: undefined },
    "PING",
    "field mt5 is required in a OK reply to PING",
  ],
  [
    "PING trading state unknown",
    { ...ping, trading_state: "PAUSED" },
    "PING",
    "field trading_state must be one of ACTIVE, REDUCING, HALTED",
  ],
  [
    "PING mt5 link unknown",
    { ...ping, mt5: { link: "MAYBE", backend: "sim" } },
    "PING",
    "field mt5.link must be one of UP, DOWN, TRADE_DISABLED",
  ],
  ["PING mt5 a string", { ...ping, mt5: "UP" }, "PING", 'field mt5 must be an object, was "UP"'],
  [
    "PING server offset beyond a time zone",
    { ...ping, mt5: { link: "UP", backend: "terminal", server_offset_ms: 15 * 3_600_000 } },
    "PING",
    "field mt5.server_offset_ms must be an integer of ms within ±50400000",
  ],
  [
    "FILLED without ticket",
    { ...fill, ticket: undefined },
    "OPEN",
    "field ticket is required in a FILLED reply to OPEN",
  ],
  [
    "ticket negative",
    { ...fill, ticket: -1 },
    "OPEN",
    "field ticket must be a non-negative integer, was -1",
  ],
  [
    "price a string",
    { ...fill, price: "1.1" },
    "OPEN",
    'field price must be a finite number, was "1.1"',
  ],
  [
    "sl a string",
    { ...fill, sl: "none" },
    "MODIFY",
    'field sl must be a finite number, was "none"',
  ],
  [
    "client_order_id hostile",
    { ...fill, client_order_id: "../../etc" },
    "OPEN",
    "field client_order_id must contain only",
  ],
  [
    "account missing",
    base,
    "GET_ACCOUNT",
    "field account is required in a OK reply to GET_ACCOUNT",
  ],
  [
    "account balance a string",
    { ...base, account: { ...makeAccount(), balance: "10000" } },
    "GET_ACCOUNT",
    "field account.balance must be a finite number",
  ],
  [
    "account margin mode unknown",
    { ...base, account: { ...makeAccount(), margin_mode: "X" } },
    "GET_ACCOUNT",
    "field account.margin_mode must be one of NETTING, HEDGING",
  ],
  [
    "account field missing",
    { ...base, account: { ...makeAccount(), login: undefined } },
    "GET_ACCOUNT",
    "field account.login is required",
  ],
  [
    "positions an object",
    { ...base, positions: {} },
    "GET_POSITIONS",
    "field positions must be an array, was an object",
  ],
  [
    "position with a bad side",
    { ...base, positions: [makePosition(), { ...makePosition(), side: "LONG" }] },
    "GET_POSITIONS",
    "field positions.1.side must be one of BUY, SELL",
  ],
  [
    "position a number",
    { ...base, positions: [5] },
    "GET_POSITIONS",
    "field positions.0 must be an object, was 5",
  ],
  [
    "too many positions",
    { ...base, positions: new Array(MAX_POSITIONS_PER_REPLY + 1).fill(0) },
    "GET_POSITIONS",
    `must have at most ${MAX_POSITIONS_PER_REPLY} entries`,
  ],
  [
    "symbol info filling mode unknown",
    { ...base, symbol_info: { ...makeSymbolInfo(), filling_modes: ["BOC"] } },
    "GET_SYMBOL_INFO",
    "field symbol_info.filling_modes.0 must be one of FOK, IOC, RETURN",
  ],
  [
    "symbol info filling modes repeated beyond the list",
    { ...base, symbol_info: { ...makeSymbolInfo(), filling_modes: ["FOK", "FOK", "FOK", "FOK"] } },
    "GET_SYMBOL_INFO",
    "must have at most 3 entries",
  ],
  [
    "symbol info digits fractional",
    { ...base, symbol_info: { ...makeSymbolInfo(), digits: 5.5 } },
    "GET_SYMBOL_INFO",
    "field symbol_info.digits must be a non-negative integer",
  ],
  [
    "symbol info description too long",
    { ...base, symbol_info: { ...makeSymbolInfo(), description: "d".repeat(257) } },
    "GET_SYMBOL_INFO",
    "field symbol_info.description must be a string of at most 256",
  ],
  [
    "GET_ORDER order a number",
    { ...base, order: 5 },
    "GET_ORDER",
    "field order must be an object, was 5",
  ],
  [
    "GET_ORDER state unknown",
    { ...orderRecord, order: { ...orderRecord.order, state: "DONE" } },
    "GET_ORDER",
    "field order.state must be one of PENDING, FILLED",
  ],
  [
    "GET_ORDER action unknown",
    { ...orderRecord, order: { ...orderRecord.order, action: "PING" } },
    "GET_ORDER",
    "field order.action must be one of OPEN, CLOSE, MODIFY",
  ],
  [
    "GET_ORDER reply missing",
    { ...orderRecord, order: { ...orderRecord.order, reply: undefined } },
    "GET_ORDER",
    "field order.reply is required (null when there is none)",
  ],
  [
    "GET_ORDER nested reply bad",
    { ...orderRecord, order: { ...orderRecord.order, reply: { ...fill, volume: "x" } } },
    "GET_ORDER",
    "field order.reply.volume must be a finite number",
  ],
  [
    "GET_ORDER nested reply an array",
    { ...orderRecord, order: { ...orderRecord.order, reply: [] } },
    "GET_ORDER",
    "field order.reply must be an object or null, was an array",
  ],
  [
    "GET_ORDER nesting a record",
    { ...orderRecord, order: { ...orderRecord.order, reply: orderRecord } },
    "GET_ORDER",
    "field order.reply.order must not nest an order record",
  ],
  [
    "trade order ticket a string",
    { ...fill, order: "6001" },
    "OPEN",
    'field order must be a non-negative integer, was "6001"',
  ],
];

describe("parseReply refuses", () => {
  test.each(REFUSED)("%s", (_name, value, action, message) => {
    const bytes = typeof value === "string" ? new TextEncoder().encode(value) : rawBytes(value);
    const result = parseReply(bytes, action);

    expect(result.ok).toBe(false);
    expect(result.ok ? "" : result.error.message).toContain(message);
  });

  test("returns a newer protocol version as UNSUPPORTED_VERSION with the id", () => {
    expect(parseReply(rawBytes({ ...base, v: 2 }))).toEqual({
      ok: false,
      error: {
        code: "UNSUPPORTED_VERSION",
        message: "field v is 2, this peer speaks 1",
        field: "v",
        id: "r1",
      },
    });
  });

  test("recovers the id of a malformed reply so the pending request can fail at once", () => {
    const result = parseReply(rawBytes({ ...fill, price: null }), "OPEN");

    expect(result.ok ? undefined : result.error).toEqual({
      code: "INVALID_REPLY",
      message: "field price must be a finite number, was null",
      field: "price",
      id: "r2",
    });
  });

  test("refuses a reply over the size cap without parsing it", () => {
    const result = parseReply(new Uint8Array(1_048_577).fill(0x5b));

    expect(result.ok ? "" : result.error.message).toBe("reply is 1048577 bytes, limit is 1048576");
  });

  test("refuses invalid UTF-8 and deep nesting without throwing", () => {
    const deep = new TextEncoder().encode(
      `{"v":1,"id":"r","status":"OK","mt5":${"[".repeat(100_000)}${"]".repeat(100_000)}}`,
    );

    expect(parseReply(new Uint8Array([0x7b, 0xff, 0x7d])).ok).toBe(false);
    expect(parseReply(deep).ok).toBe(false);
  });
});
