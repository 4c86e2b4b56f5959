import { describe, expect, test } from "bun:test";
import { makeClose, makeGetOrder, makeModify, makeOpen, rawBytes } from "./testing/fixtures.ts";
import { parseRequest, type RequestErrorCode } from "./validate.ts";

// Field rules of OPEN, CLOSE, MODIFY and the queries; the envelope rows are in validate.test.ts.

type Row = Record<string, unknown>;

function set(request: object, field: string, value: unknown): Row {
  return { ...request, [field]: value };
}

function drop(request: object, field: string): Row {
  const copy: Row = { ...request };
  delete copy[field];
  return copy;
}

interface Refusal {
  readonly name: string;
  readonly request: Row;
  readonly code?: RequestErrorCode;
  readonly field: string;
  readonly message: string;
}

const open = makeOpen();
const close = makeClose();
const modify = makeModify();

// One row per field and rule. `message` is a fragment of the expected error message.
const REFUSALS: readonly Refusal[] = [
  // OPEN
  {
    name: "symbol missing",
    request: drop(open, "symbol"),
    field: "symbol",
    message: "field symbol is required",
  },
  {
    name: "symbol with a space",
    request: set(open, "symbol", "EUR USD"),
    field: "symbol",
    message: "A-Z a-z 0-9 . _ # + -",
  },
  {
    name: "symbol too long",
    request: set(open, "symbol", "S".repeat(33)),
    field: "symbol",
    message: "at most 32",
  },
  {
    name: "symbol with a newline",
    request: set(open, "symbol", "EURUSD\n"),
    field: "symbol",
    message: 'was "EURUSD\\n"',
  },
  {
    name: "symbol with a Cyrillic E",
    request: set(open, "symbol", "\u0415URUSD"),
    field: "symbol",
    message: "must contain only",
  },
  {
    name: "side missing",
    request: drop(open, "side"),
    field: "side",
    message: "field side is required",
  },
  {
    name: "side lowercase",
    request: set(open, "side", "buy"),
    field: "side",
    message: 'must be "BUY" or "SELL", was "buy"',
  },
  { name: "side LONG", request: set(open, "side", "LONG"), field: "side", message: "must be" },
  {
    name: "volume missing",
    request: drop(open, "volume"),
    field: "volume",
    message: "field volume is required",
  },
  {
    name: "volume negative",
    request: set(open, "volume", -1),
    field: "volume",
    message: "must be a positive number, was -1",
  },
  { name: "volume zero", request: set(open, "volume", 0), field: "volume", message: "was 0" },
  {
    name: "volume a string",
    request: set(open, "volume", "0.1"),
    field: "volume",
    message: 'was "0.1"',
  },
  { name: "volume null", request: set(open, "volume", null), field: "volume", message: "was null" },
  {
    name: "volume above 1e6",
    request: set(open, "volume", 1_000_000.5),
    field: "volume",
    message: "must be at most 1000000",
  },
  {
    name: "volume with 9 decimals",
    request: set(open, "volume", 0.123456789),
    field: "volume",
    message: "at most 8 decimal places, was 0.123456789",
  },
  {
    name: "volume an unrounded float",
    request: set(open, "volume", 0.1 + 0.2),
    field: "volume",
    message: "was 0.30000000000000004",
  },
  {
    name: "volume 1e-9",
    request: set(open, "volume", 1e-9),
    field: "volume",
    message: "decimal places, was 1e-9",
  },
  {
    name: "sl zero",
    request: set(open, "sl", 0),
    field: "sl",
    message: "must be a positive number or null, was 0",
  },
  { name: "sl negative", request: set(open, "sl", -1.1), field: "sl", message: "was -1.1" },
  { name: "sl a string", request: set(open, "sl", "1.1"), field: "sl", message: 'was "1.1"' },
  { name: "tp a boolean", request: set(open, "tp", true), field: "tp", message: "was true" },
  {
    name: "tp an object",
    request: set(open, "tp", { price: 1 }),
    field: "tp",
    message: "was an object",
  },
  {
    name: "deviation negative",
    request: set(open, "deviation", -1),
    field: "deviation",
    message: "from 0 to 100000, was -1",
  },
  {
    name: "deviation above max",
    request: set(open, "deviation", 100_001),
    field: "deviation",
    message: "was 100001",
  },
  {
    name: "deviation fractional",
    request: set(open, "deviation", 1.5),
    field: "deviation",
    message: "was 1.5",
  },
  {
    name: "deviation null",
    request: set(open, "deviation", null),
    field: "deviation",
    message: "was null",
  },
  { name: "magic negative", request: set(open, "magic", -1), field: "magic", message: "was -1" },
  {
    name: "magic 2^53",
    request: set(open, "magic", 2 ** 53),
    field: "magic",
    message: "from 0 to 9007199254740991",
  },
  { name: "magic a string", request: set(open, "magic", "7"), field: "magic", message: 'was "7"' },
  {
    name: "comment too long",
    request: set(open, "comment", "c".repeat(32)),
    field: "comment",
    message: "at most 31 characters",
  },
  {
    name: "comment with a newline",
    request: set(open, "comment", "a\nb"),
    field: "comment",
    message: "printable ASCII",
  },
  {
    name: "comment with unicode",
    request: set(open, "comment", "caf\u00e9"),
    field: "comment",
    message: "printable ASCII",
  },
  {
    name: "comment with NUL",
    request: set(open, "comment", "a\u0000"),
    field: "comment",
    message: "printable ASCII",
  },
  {
    name: "comment an array",
    request: set(open, "comment", ["a"]),
    field: "comment",
    message: "was an array",
  },
  {
    name: "unknown field in OPEN",
    request: set(open, "price", 1.1),
    field: "price",
    message: "field price is not allowed in OPEN",
  },
  {
    name: "misspelt optional field",
    request: set(open, "s1", 1.1),
    field: "s1",
    message: "field s1 is not allowed",
  },
  {
    name: "ticket in OPEN",
    request: set(open, "ticket", 1),
    field: "ticket",
    message: "not allowed in OPEN",
  },
  // CLOSE
  {
    name: "ticket missing",
    request: drop(close, "ticket"),
    field: "ticket",
    message: "field ticket is required",
  },
  {
    name: "ticket zero",
    request: set(close, "ticket", 0),
    field: "ticket",
    message: "must be a positive integer, was 0",
  },
  {
    name: "ticket negative",
    request: set(close, "ticket", -5),
    field: "ticket",
    message: "was -5",
  },
  {
    name: "ticket fractional",
    request: set(close, "ticket", 1.5),
    field: "ticket",
    message: "was 1.5",
  },
  {
    name: "ticket 2^53",
    request: set(close, "ticket", 2 ** 53),
    field: "ticket",
    message: "was 9007199254740992",
  },
  {
    name: "ticket a string",
    request: set(close, "ticket", "5001"),
    field: "ticket",
    message: 'was "5001"',
  },
  {
    name: "CLOSE volume zero",
    request: set(close, "volume", 0),
    field: "volume",
    message: "must be a positive number, was 0",
  },
  {
    name: "CLOSE volume negative",
    request: set(close, "volume", -0.1),
    field: "volume",
    message: "was -0.1",
  },
  {
    name: "CLOSE volume null",
    request: set(close, "volume", null),
    field: "volume",
    message: "was null",
  },
  {
    name: "symbol in CLOSE",
    request: set(close, "symbol", "EURUSD"),
    field: "symbol",
    message: "not allowed in CLOSE",
  },
  // MODIFY
  {
    name: "MODIFY without sl and tp",
    request: drop(drop(modify, "sl"), "tp"),
    field: "sl",
    message: "sl or tp must be set in MODIFY",
  },
  {
    name: "MODIFY ticket missing",
    request: drop(modify, "ticket"),
    field: "ticket",
    message: "is required",
  },
  { name: "MODIFY tp zero", request: set(modify, "tp", 0), field: "tp", message: "was 0" },
  {
    name: "volume in MODIFY",
    request: set(modify, "volume", 1),
    field: "volume",
    message: "not allowed in MODIFY",
  },
  // queries
  {
    name: "GET_SYMBOL_INFO without symbol",
    request: { v: 1, id: "a", action: "GET_SYMBOL_INFO", ts: 1 },
    field: "symbol",
    message: "is required",
  },
  {
    name: "GET_POSITIONS symbol null",
    request: { v: 1, id: "a", action: "GET_POSITIONS", ts: 1, symbol: null },
    field: "symbol",
    message: "was null",
  },
  {
    name: "GET_ORDER without client_order_id",
    request: drop(makeGetOrder(), "client_order_id"),
    field: "client_order_id",
    message: "is required",
  },
  {
    name: "key_id in GET_ORDER",
    request: set(makeGetOrder(), "key_id", "k"),
    field: "key_id",
    message: "not allowed in GET_ORDER",
  },
  {
    name: "GET_ACCOUNT with symbol",
    request: { v: 1, id: "a", action: "GET_ACCOUNT", ts: 1, symbol: "EURUSD" },
    field: "symbol",
    message: "not allowed",
  },
];

describe("parseRequest refuses a field", () => {
  test.each(REFUSALS.map((row) => [row.name, row] as const))("%s", (_name, row) => {
    const result = parseRequest(rawBytes(row.request));

    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.code).toBe(row.code ?? "INVALID_REQUEST");
    expect(result.error.field).toBe(row.field);
    expect(result.error.message).toContain(row.message);
    expect(result.error.message.charAt(0)).toBe(result.error.message.charAt(0).toLowerCase());
  });
});
