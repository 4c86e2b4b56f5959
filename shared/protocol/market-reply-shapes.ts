/**
 * Reply fields of the market-data actions, read the way validate-reply.ts reads the others: known
 * fields are checked and copied, sizes are bounded before anything is kept. Rows of bars and
 * ticks are checked to be finite numbers of the width `fields` announces, and `fields` must start
 * with the columns this build knows (a newer gateway may append columns; they are kept as given).
 */
import { type Check, describeValue } from "./checks.ts";
import {
  HISTORY_DEAL_ENTRIES,
  HISTORY_DEAL_TYPES,
  HISTORY_REASONS,
  MAX_CURSOR_LENGTH,
  MAX_HISTORY_PER_PAGE,
  MAX_RATES_PER_PAGE,
  MAX_SYMBOLS_PER_PAGE,
  MAX_TICKS_PER_PAGE,
  RATE_FIELDS,
  TICK_FIELDS,
} from "./market-types.ts";
import { tradeOrder } from "./pending-shapes.ts";
import {
  arrayOf,
  count,
  finite,
  Invalid,
  nested,
  oneOf,
  opt,
  type Reader,
  readShape,
  req,
  type Shape,
  SYMBOL_INFO_SHAPE,
  shapeReader,
  text,
} from "./reply-shapes.ts";
import { MAX_COMMENT_LENGTH, MAX_SYMBOL_LENGTH } from "./types.ts";

/** Room over MT5's own limits (31-character comments and symbols), still bounded. */
const MAX_HISTORY_TEXT = 2 * MAX_COMMENT_LENGTH + 2;
const MAX_COLUMNS = 16;

const symbolText = text(MAX_SYMBOL_LENGTH);
const historyText = text(MAX_HISTORY_TEXT);
const cursorText: Check = (value) =>
  typeof value === "string" && value.length >= 1 && value.length <= MAX_CURSOR_LENGTH
    ? undefined
    : `must be a string of 1 to ${MAX_CURSOR_LENGTH} characters`;

export const TICK_SHAPE: Shape = [
  req("time_msc", count),
  req("bid", finite),
  req("ask", finite),
  req("last", finite),
  req("volume", finite),
  req("flags", count),
  req("volume_real", finite),
];

export const HISTORY_DEAL_SHAPE: Shape = [
  req("ticket", count),
  req("order", count),
  req("position", count),
  req("symbol", symbolText),
  req("type", oneOf(HISTORY_DEAL_TYPES)),
  req("entry", oneOf(HISTORY_DEAL_ENTRIES)),
  req("reason", oneOf(HISTORY_REASONS)),
  req("volume", finite),
  req("price", finite),
  req("profit", finite),
  req("commission", finite),
  req("swap", finite),
  req("fee", finite),
  req("magic", count),
  req("comment", historyText),
  req("external_id", historyText),
  req("time", count),
];

/** One row: an array of finite numbers, MAX_COLUMNS at most (its width is checked later). */
const row: Reader = (value, path) => {
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_COLUMNS) {
    throw new Invalid(
      path,
      `must be an array of 1 to ${MAX_COLUMNS} numbers, was ${describeValue(value)}`,
    );
  }
  for (let index = 0; index < value.length; index++) {
    const cell = value[index];
    if (typeof cell !== "number" || !Number.isFinite(cell)) {
      throw new Invalid(`${path}.${index}`, `must be a finite number, was ${describeValue(cell)}`);
    }
  }
  return value;
};

const columns: Reader = (value, path) => {
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_COLUMNS) {
    throw new Invalid(path, `must be a list of 1 to ${MAX_COLUMNS} column names`);
  }
  for (const name of value) {
    if (typeof name !== "string" || name.length === 0 || name.length > 32) {
      throw new Invalid(path, "must hold column names of 1 to 32 characters");
    }
  }
  return value;
};

/** Market fields of a reply; BASE_SHAPE (reply-shapes.ts) has the rest, `more` included. */
const MARKET_REPLY_SHAPE: Shape = [
  opt("next", cursorText),
  opt("total", count),
  nested("symbols", false, arrayOf(shapeReader(SYMBOL_INFO_SHAPE), MAX_SYMBOLS_PER_PAGE)),
  nested("tick", false, shapeReader(TICK_SHAPE)),
  nested("fields", false, columns),
  nested("rates", false, arrayOf(row, MAX_RATES_PER_PAGE)),
  nested("ticks", false, arrayOf(row, MAX_TICKS_PER_PAGE)),
  nested("history_deals", false, arrayOf(shapeReader(HISTORY_DEAL_SHAPE), MAX_HISTORY_PER_PAGE)),
  nested("history_orders", false, arrayOf(tradeOrder, MAX_HISTORY_PER_PAGE)),
];

const PAGED_LISTS = ["symbols", "rates", "ticks", "history_deals", "history_orders"] as const;

/** The market fields of `source`, checked; throws Invalid like the other readers. */
export function readMarketReply(source: Record<string, unknown>): Record<string, unknown> {
  const out = readShape(source, MARKET_REPLY_SHAPE, "");
  for (const [name, known] of [
    ["rates", RATE_FIELDS],
    ["ticks", TICK_FIELDS],
  ] as const) {
    const rows = out[name] as readonly (readonly number[])[] | undefined;
    if (rows === undefined) continue;
    const fields = out["fields"] as readonly string[] | undefined;
    if (fields === undefined) throw new Invalid("fields", `is required with ${name}`);
    if (known.some((column, index) => fields[index] !== column)) {
      throw new Invalid("fields", `must start with ${known.join(", ")} for ${name}`);
    }
    rows.forEach((cells, index) => {
      if (cells.length !== fields.length) {
        throw new Invalid(
          `${name}.${index}`,
          `must have ${fields.length} numbers like fields, was ${cells.length}`,
        );
      }
    });
  }
  if (out["next"] !== undefined && source["more"] !== true) {
    throw new Invalid("next", "is only given with more: true");
  }
  const paged = PAGED_LISTS.some((name) => out[name] !== undefined);
  if (paged && source["more"] === true && out["next"] === undefined) {
    throw new Invalid("next", "is required with more: true");
  }
  return out;
}

/** Fields each market action's OK reply must carry (validate-reply.ts SUCCESS_FIELDS). */
export const MARKET_SUCCESS_FIELDS = {
  GET_SYMBOLS: ["symbols", "total", "more"],
  GET_TICK: ["tick"],
  GET_RATES: ["fields", "rates", "more"],
  GET_TICKS: ["fields", "ticks", "more"],
  GET_HISTORY_DEALS: ["history_deals", "more"],
  GET_HISTORY_ORDERS: ["history_orders", "more"],
} as const;
