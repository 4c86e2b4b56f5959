/**
 * The shapes of reply fields and MT5 domain objects (account, position, symbol info, MT5 link),
 * and the small reader that checks a value against a shape and copies only the known fields.
 * Used by validate-reply.ts; a reader throws Invalid, which parseReply turns into an error value.
 */
import { type Check, CLIENT_ORDER_ID_PATTERN, describeValue, stringCheck } from "./checks.ts";
import { ORDER_TIME_TYPES } from "./pending-types.ts";
import { MAX_SERVER_OFFSET_MS } from "./timeframes.ts";
import type {
  CalcMode,
  DealReason,
  ExecutionMode,
  FillingMode,
  MarginMode,
  SymbolOrderMode,
  SymbolTradeMode,
} from "./types.ts";
import {
  LINK_STATES,
  MAX_CLIENT_ORDER_ID_LENGTH,
  MAX_REQUEST_ID_LENGTH,
  TRADING_STATES,
} from "./types.ts";

/** More than any account holds; bounds the work a hostile reply can cause. */
export const MAX_POSITIONS_PER_REPLY = 10_000;
/** Deals in one RESYNC reply (the gateway sends at most MAX_DEALS_PER_RESYNC). */
export const MAX_DEALS_PER_REPLY = 10_000;
/** Quote subscriptions listed in a SUBSCRIBE reply (the gateway allows MAX_STREAM_SYMBOLS). */
const MAX_SUBSCRIPTION_ENTRIES = 1024;
const MAX_TEXT_LENGTH = 256;
export const MAX_MESSAGE_LENGTH = 1024;

export type ReplyErrorCode = "INVALID_REPLY" | "UNSUPPORTED_VERSION";

/** Thrown by readers, caught by parseReply; `field` is the dotted path, "" for the whole reply. */
export class Invalid extends Error {
  readonly field: string;
  readonly code: ReplyErrorCode;

  constructor(field: string, message: string, code: ReplyErrorCode = "INVALID_REPLY") {
    super(message);
    this.field = field;
    this.code = code;
  }
}

// ---------------------------------------------------------------------------------------------
// Field checks (phrases as in checks.ts)

export const finite: Check = (value) =>
  typeof value === "number" && Number.isFinite(value) ? undefined : "must be a finite number";
export const count: Check = (value) =>
  Number.isSafeInteger(value) && (value as number) >= 0
    ? undefined
    : "must be a non-negative integer";
export const integer: Check = (value) =>
  Number.isSafeInteger(value) ? undefined : "must be an integer";
export const boolean: Check = (value) =>
  typeof value === "boolean" ? undefined : "must be a boolean";
export const priceOrNull: Check = (value) => (value === null ? undefined : finite(value));
export const text =
  (maxLength: number): Check =>
  (value) =>
    typeof value === "string" && value.length <= maxLength
      ? undefined
      : `must be a string of at most ${maxLength} characters`;
export const shortText = text(MAX_TEXT_LENGTH);

export function oneOf(values: readonly string[]): Check {
  const set = new Set(values);
  return (value) =>
    typeof value === "string" && set.has(value) ? undefined : `must be one of ${values.join(", ")}`;
}

/** The list of a string union's members, checked complete by the compiler. */
function members<T extends string>(all: Record<T, true>): readonly T[] {
  return Object.keys(all) as T[];
}

const EXECUTION_MODES = members<ExecutionMode>({
  REQUEST: true,
  INSTANT: true,
  MARKET: true,
  EXCHANGE: true,
});
const TRADE_MODES = members<SymbolTradeMode>({
  DISABLED: true,
  LONG_ONLY: true,
  SHORT_ONLY: true,
  CLOSE_ONLY: true,
  FULL: true,
});
const CALC_MODES = members<CalcMode>({
  FOREX: true,
  FOREX_NO_LEVERAGE: true,
  CFD: true,
  CFD_INDEX: true,
  CFD_LEVERAGE: true,
});
const FILLING_MODES = members<FillingMode>({ FOK: true, IOC: true, RETURN: true });
const MARGIN_MODES = members<MarginMode>({ NETTING: true, HEDGING: true });
const ORDER_MODES = members<SymbolOrderMode>({
  MARKET: true,
  LIMIT: true,
  STOP: true,
  STOP_LIMIT: true,
  SL: true,
  TP: true,
  CLOSE_BY: true,
});
export const DEAL_REASONS = members<DealReason>({
  CLIENT: true,
  EXPERT: true,
  SL: true,
  TP: true,
  SO: true,
});
const side = oneOf(["BUY", "SELL"]);
export const replyId: Check = (value) =>
  typeof value === "string" && value.length <= MAX_REQUEST_ID_LENGTH
    ? undefined
    : `must be a string of at most ${MAX_REQUEST_ID_LENGTH} characters`;
const errorCode = stringCheck(64, /^[A-Z0-9_]+$/, "A-Z 0-9 _");
export const clientOrderId = stringCheck(
  MAX_CLIENT_ORDER_ID_LENGTH,
  CLIENT_ORDER_ID_PATTERN,
  "A-Z a-z 0-9 _ -",
);

// ---------------------------------------------------------------------------------------------
// Shapes: [name, required, check or nested reader]

export type Reader = (value: unknown, path: string) => unknown;
export type FieldRule = readonly [
  name: string,
  required: boolean,
  rule: Check | Reader,
  nested?: true,
];
export type Shape = readonly FieldRule[];

export const req = (name: string, check: Check): FieldRule => [name, true, check];
export const opt = (name: string, check: Check): FieldRule => [name, false, check];
export const nested = (name: string, isRequired: boolean, reader: Reader): FieldRule => [
  name,
  isRequired,
  reader,
  true,
];

export function readShape(value: unknown, shape: Shape, path: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new Invalid(path, `must be an object, was ${describeValue(value)}`);
  }
  const source = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [name, isRequired, rule, isNested] of shape) {
    const fieldPath = path === "" ? name : `${path}.${name}`;
    // Own properties only: "constructor" and friends must not come from the prototype.
    const field = Object.hasOwn(source, name) ? source[name] : undefined;
    if (field === undefined) {
      if (isRequired) throw new Invalid(fieldPath, "is required");
      continue;
    }
    if (isNested === true) {
      out[name] = (rule as Reader)(field, fieldPath);
      continue;
    }
    const problem = (rule as Check)(field);
    if (problem !== undefined) {
      throw new Invalid(fieldPath, `${problem}, was ${describeValue(field)}`);
    }
    out[name] = field;
  }
  return out;
}

export function arrayOf(reader: Reader, maxLength: number): Reader {
  return (value, path) => {
    if (!Array.isArray(value))
      throw new Invalid(path, `must be an array, was ${describeValue(value)}`);
    if (value.length > maxLength) {
      throw new Invalid(path, `must have at most ${maxLength} entries, was ${value.length}`);
    }
    return value.map((item, index) => reader(item, `${path}.${index}`));
  };
}

export const checked =
  (check: Check): Reader =>
  (value, path) => {
    const problem = check(value);
    if (problem !== undefined) throw new Invalid(path, `${problem}, was ${describeValue(value)}`);
    return value;
  };

export const shapeReader =
  (shape: Shape): Reader =>
  (value, path) =>
    readShape(value, shape, path);

const serverOffset: Check = (value) =>
  Number.isSafeInteger(value) && Math.abs(value as number) <= MAX_SERVER_OFFSET_MS
    ? undefined
    : `must be an integer of ms within ±${MAX_SERVER_OFFSET_MS}`;

export const MT_LINK_SHAPE: Shape = [
  req("link", oneOf(LINK_STATES)),
  req("backend", shortText),
  opt("server_time", count),
  opt("server_offset_ms", serverOffset),
  opt("detail", text(MAX_MESSAGE_LENGTH)),
];

const ACCOUNT_SHAPE: Shape = [
  req("login", count),
  req("server", shortText),
  req("name", shortText),
  req("currency", shortText),
  req("balance", finite),
  req("equity", finite),
  req("profit", finite),
  req("margin", finite),
  req("margin_free", finite),
  req("margin_level", finite),
  req("leverage", count),
  req("margin_mode", oneOf(MARGIN_MODES)),
  req("trade_allowed", boolean),
  req("margin_so_call", finite),
  req("margin_so_so", finite),
];

export const POSITION_SHAPE: Shape = [
  req("ticket", count),
  req("symbol", shortText),
  req("side", side),
  req("volume", finite),
  req("price_open", finite),
  req("price_current", finite),
  req("sl", priceOrNull),
  req("tp", priceOrNull),
  req("profit", finite),
  req("swap", finite),
  req("magic", count),
  req("comment", shortText),
  req("time", count),
  req("time_update", count),
];

export const DEAL_SHAPE: Shape = [
  req("ticket", count),
  req("order", count),
  req("position", count),
  req("symbol", shortText),
  req("side", side),
  req("entry", oneOf(["IN", "OUT", "INOUT", "OUT_BY"])),
  req("reason", oneOf(DEAL_REASONS)),
  req("volume", finite),
  req("price", finite),
  req("profit", finite),
  req("commission", finite),
  req("swap", finite),
  req("magic", count),
  req("comment", shortText),
  req("time", count),
];

const QUOTE_SUBSCRIPTION_SHAPE: Shape = [req("symbol", shortText), req("throttle_ms", count)];

const SUBSCRIPTION_SHAPE: Shape = [
  nested("quotes", true, arrayOf(shapeReader(QUOTE_SUBSCRIPTION_SHAPE), MAX_SUBSCRIPTION_ENTRIES)),
  req("events", boolean),
];

export const SYMBOL_INFO_SHAPE: Shape = [
  req("symbol", shortText),
  req("description", shortText),
  req("digits", count),
  req("point", finite),
  req("tick_size", finite),
  req("tick_value", finite),
  req("contract_size", finite),
  req("volume_min", finite),
  req("volume_max", finite),
  req("volume_step", finite),
  req("volume_limit", finite),
  req("stops_level", count),
  req("freeze_level", count),
  nested("filling_modes", true, arrayOf(checked(oneOf(FILLING_MODES)), FILLING_MODES.length)),
  nested(
    "expiration_modes",
    false,
    arrayOf(checked(oneOf(ORDER_TIME_TYPES)), ORDER_TIME_TYPES.length),
  ),
  nested("order_modes", false, arrayOf(checked(oneOf(ORDER_MODES)), ORDER_MODES.length)),
  req("execution_mode", oneOf(EXECUTION_MODES)),
  req("trade_mode", oneOf(TRADE_MODES)),
  req("calc_mode", oneOf(CALC_MODES)),
  req("currency_base", shortText),
  req("currency_profit", shortText),
  req("currency_margin", shortText),
  req("margin_hedged", finite),
  req("bid", finite),
  req("ask", finite),
  req("quote_time", count),
  req("spread", integer),
  req("session_open", boolean),
];

/** Reply fields; `order` is handled apart (a ticket in trade replies, a record in GET_ORDER). */
export const BASE_SHAPE: Shape = [
  opt("error_code", errorCode),
  opt("error_msg", text(MAX_MESSAGE_LENGTH)),
  opt("retcode", integer),
  opt("duplicate", boolean),
  // PING
  opt("gateway", shortText),
  opt("server_time", count),
  opt("trading_state", oneOf(TRADING_STATES)),
  nested("mt5", false, shapeReader(MT_LINK_SHAPE)),
  opt("version", shortText),
  nested("signature_window", false, shapeReader([req("ttl_ms", count), req("max_skew_ms", count)])),
  opt("client", shortText),
  // OPEN / CLOSE / MODIFY
  opt("client_order_id", clientOrderId),
  opt("ticket", count),
  opt("deal", count),
  opt("volume", finite),
  opt("price", finite),
  opt("bid", finite),
  opt("ask", finite),
  opt("sl", priceOrNull),
  opt("tp", priceOrNull),
  opt("remaining_volume", finite),
  // Queries
  nested("account", false, shapeReader(ACCOUNT_SHAPE)),
  nested("positions", false, arrayOf(shapeReader(POSITION_SHAPE), MAX_POSITIONS_PER_REPLY)),
  nested("symbol_info", false, shapeReader(SYMBOL_INFO_SHAPE)),
  // Streaming (stream-types.ts)
  nested("subscription", false, shapeReader(SUBSCRIPTION_SHAPE)),
  opt("seq", count),
  nested("deals", false, arrayOf(shapeReader(DEAL_SHAPE), MAX_DEALS_PER_REPLY)),
  opt("more", boolean),
];
