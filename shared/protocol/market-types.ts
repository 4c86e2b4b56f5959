/**
 * The market-data and history part of the wire contract (issue 14, docs/PROTOCOL.md §14): the
 * read side of the MetaTrader5 Python API. GET_SYMBOLS (symbols_get), GET_TICK
 * (symbol_info_tick), GET_RATES (copy_rates_from / _from_pos / _range), GET_TICKS
 * (copy_ticks_from / _range), GET_HISTORY_DEALS and GET_HISTORY_ORDERS (history_deals_get,
 * history_orders_get). All unsigned: they change nothing, and the CURVE session says who asks.
 *
 * Large answers come in pages. A reply holds at most the per-page limit below and, when more
 * follow, `more: true` and a `next` cursor; the client sends the same request again (new id and
 * ts) with `cursor` set to it, until `more` is false. A page may hold fewer rows than the limit,
 * even none, while `more` is true: the gateway bounds the work of one page as well as its size.
 * Every time on the wire is Unix ms in the broker's server time, as MT5 reports it.
 */

import type { TradeOrder } from "./pending-types.ts";
import type { Timeframe } from "./timeframes.ts";
import type { ReplyBase, RequestBase, SymbolInfo } from "./types.ts";

// ---------------------------------------------------------------------------------------------
// Limits (both agents and the docs use these)

/**
 * Reply bytes left for rows once the envelope (v, id, status, fields, more, next) is counted.
 * A JSON number is at most 24 characters (`-1.2345678901234567e-308`), so a bar row of 8 numbers
 * is at most 8 × 24 + 7 commas + 2 brackets + 1 separator = 202 bytes, a tick row of 7 at most 177.
 */
export const PAGE_BYTE_BUDGET = 1_048_576 - 16_384;
/** Bars per GET_RATES page: 5000 × 202 bytes < PAGE_BYTE_BUDGET (typically ~300 KiB). */
export const MAX_RATES_PER_PAGE = 5000;
/** Ticks per GET_TICKS page: 5000 × 177 bytes < PAGE_BYTE_BUDGET. */
export const MAX_TICKS_PER_PAGE = 5000;
/** Symbols per GET_SYMBOLS page (a symbol is at most ~2.6 KiB with every text at its limit). */
export const MAX_SYMBOLS_PER_PAGE = 200;
/** Deals or orders per GET_HISTORY_* page (a deal at most ~1 KiB, an order ~1.2 KiB). */
export const MAX_HISTORY_PER_PAGE = 500;
/**
 * Bars one GET_RATES query may cover, all pages together: `count`, `start + count`, and a
 * range's length over the timeframe's shortest bar. A year of M1 bars is ~370,000.
 */
export const MAX_RATES_PER_QUERY = 1_000_000;
/** Ticks one GET_TICKS `count` may ask for. */
export const MAX_TICKS_PER_QUERY = 1_000_000;
/** The longest GET_TICKS range (31 days); ask for longer spans piece by piece. */
export const MAX_TICKS_RANGE_MS = 31 * 86_400_000;
/** The latest time a request may name: MT5's last datetime, 3000-12-31 23:59:59. */
export const MAX_TIME_MS = 32_535_215_999_000;
export const MAX_CURSOR_LENGTH = 256;

// ---------------------------------------------------------------------------------------------
// Rows: bars and ticks travel as arrays of numbers in the order of `fields`

/** MqlRates (copy_rates_*): `time` is the bar's open time in Unix ms (MT5 gives seconds). */
export const RATE_FIELDS = [
  "time",
  "open",
  "high",
  "low",
  "close",
  "tick_volume",
  "spread",
  "real_volume",
] as const;
/** [time, open, high, low, close, tick_volume, spread (points), real_volume]. */
export type RateRow = readonly [number, number, number, number, number, number, number, number];

/** MqlTick (copy_ticks_*), with time in ms only (MT5's `time` in seconds is time_msc / 1000). */
export const TICK_FIELDS = [
  "time_msc",
  "bid",
  "ask",
  "last",
  "volume",
  "flags",
  "volume_real",
] as const;
/** [time_msc, bid, ask, last, volume, flags (TICK_FLAG_* bits), volume_real]. */
export type TickRow = readonly [number, number, number, number, number, number, number];

/** MT5's TICK_FLAG_* bits: what changed with the tick. */
export const TickFlag = {
  BID: 2,
  ASK: 4,
  LAST: 8,
  VOLUME: 16,
  BUY: 32,
  SELL: 64,
} as const;
/** Bits of a tick that carries a bid/ask change (COPY_TICKS_INFO). */
export const INFO_FLAGS = TickFlag.BID | TickFlag.ASK;
/** Bits of a tick that carries a trade (COPY_TICKS_TRADE). */
export const TRADE_FLAGS = TickFlag.LAST | TickFlag.VOLUME | TickFlag.BUY | TickFlag.SELL;

/** COPY_TICKS_INFO (bid/ask changes), COPY_TICKS_TRADE (last/volume changes), COPY_TICKS_ALL. */
export const TICK_KINDS = ["INFO", "TRADE", "ALL"] as const;
export type TickKind = (typeof TICK_KINDS)[number];

/** The last tick of a symbol (symbol_info_tick): the fields of a tick row, by name. */
export interface Tick {
  readonly time_msc: number;
  readonly bid: number;
  readonly ask: number;
  /** Price of the last trade; 0 where the broker reports none (forex, CFDs). */
  readonly last: number;
  readonly volume: number;
  readonly flags: number;
  readonly volume_real: number;
}

// ---------------------------------------------------------------------------------------------
// History: deals with MT5's own enumerations (DEAL_TYPE_*, …); orders are TradeOrder
// (pending-types.ts), the same object GET_ORDERS and the order events carry

export const HISTORY_DEAL_TYPES = [
  "BUY",
  "SELL",
  "BALANCE",
  "CREDIT",
  "CHARGE",
  "CORRECTION",
  "BONUS",
  "COMMISSION",
  "COMMISSION_DAILY",
  "COMMISSION_MONTHLY",
  "COMMISSION_AGENT_DAILY",
  "COMMISSION_AGENT_MONTHLY",
  "INTEREST",
  "BUY_CANCELED",
  "SELL_CANCELED",
  "DIVIDEND",
  "DIVIDEND_FRANKED",
  "TAX",
] as const;
export type HistoryDealType = (typeof HISTORY_DEAL_TYPES)[number];
export const HISTORY_DEAL_ENTRIES = ["IN", "OUT", "INOUT", "OUT_BY"] as const;
export type HistoryDealEntry = (typeof HISTORY_DEAL_ENTRIES)[number];
/** DEAL_REASON_*. */
export const HISTORY_REASONS = [
  "CLIENT",
  "MOBILE",
  "WEB",
  "EXPERT",
  "SL",
  "TP",
  "SO",
  "ROLLOVER",
  "VMARGIN",
  "SPLIT",
  "CORPORATE_ACTION",
] as const;
export type HistoryReason = (typeof HISTORY_REASONS)[number];

/** A deal of the account history (TradeDeal): trades, and balance operations (symbol ""). */
export interface HistoryDeal {
  readonly ticket: number;
  /** Order that made the deal; 0 for balance operations. */
  readonly order: number;
  /** Position it opened, changed or closed (DEAL_POSITION_ID); 0 for balance operations. */
  readonly position: number;
  readonly symbol: string;
  readonly type: HistoryDealType;
  readonly entry: HistoryDealEntry;
  readonly reason: HistoryReason;
  readonly volume: number;
  readonly price: number;
  /** Realised profit (or the amount of a balance operation), deposit currency. */
  readonly profit: number;
  readonly commission: number;
  readonly swap: number;
  readonly fee: number;
  readonly magic: number;
  readonly comment: string;
  readonly external_id: string;
  /** Unix ms (MT5's time_msc). */
  readonly time: number;
}

// ---------------------------------------------------------------------------------------------
// Requests

interface PagedRequest extends RequestBase {
  /** The `next` of the previous page, with every other field as in the first request. */
  readonly cursor?: string;
}

export interface GetSymbolsRequest extends PagedRequest {
  readonly action: "GET_SYMBOLS";
  /** MT5 group filter (symbol-group.ts); absent: every symbol. */
  readonly group?: string;
}

export interface GetTickRequest extends RequestBase {
  readonly action: "GET_TICK";
  readonly symbol: string;
}

/**
 * Exactly one form:
 * - `from` + `count`: the `count` bars opening at or before `from` (copy_rates_from);
 * - `start` + `count`: bars at positions start … start + count − 1, 0 the current one
 *   (copy_rates_from_pos);
 * - `from` + `to`: bars opening within [from, to] (copy_rates_range).
 * Rows come oldest first, like MT5's arrays.
 */
export interface GetRatesRequest extends PagedRequest {
  readonly action: "GET_RATES";
  readonly symbol: string;
  readonly timeframe: Timeframe;
  readonly from?: number;
  readonly to?: number;
  readonly start?: number;
  readonly count?: number;
}

/**
 * `from` + `count`: the first `count` ticks at or after `from` (copy_ticks_from); `from` + `to`:
 * the ticks within [from, to] (copy_ticks_range). `flags` defaults to ALL.
 */
export interface GetTicksRequest extends PagedRequest {
  readonly action: "GET_TICKS";
  readonly symbol: string;
  readonly from: number;
  readonly to?: number;
  readonly count?: number;
  readonly flags?: TickKind;
}

/**
 * Exactly one form: `from` + `to` (with an optional `group` filter on the symbol), `position`
 * (every deal or order of that position), or `ticket` (that one deal or order).
 */
export interface GetHistoryRequestFields extends PagedRequest {
  readonly from?: number;
  readonly to?: number;
  readonly group?: string;
  readonly position?: number;
  readonly ticket?: number;
}

export interface GetHistoryDealsRequest extends GetHistoryRequestFields {
  readonly action: "GET_HISTORY_DEALS";
}

export interface GetHistoryOrdersRequest extends GetHistoryRequestFields {
  readonly action: "GET_HISTORY_ORDERS";
}

export type MarketRequest =
  | GetSymbolsRequest
  | GetTickRequest
  | GetRatesRequest
  | GetTicksRequest
  | GetHistoryDealsRequest
  | GetHistoryOrdersRequest;
export type MarketAction = MarketRequest["action"];

// ---------------------------------------------------------------------------------------------
// Replies

interface PagedReply extends ReplyBase {
  /** More rows follow: send the request again with `cursor: next`. */
  readonly more: boolean;
  /** Present when `more` is true. */
  readonly next?: string;
}

export interface SymbolsReply extends PagedReply {
  /** By name; SymbolInfo as GET_SYMBOL_INFO gives it. */
  readonly symbols: readonly SymbolInfo[];
  /** How many symbols the group selects in all (symbols_total for the group). */
  readonly total: number;
}

export interface TickReply extends ReplyBase {
  readonly tick: Tick;
}

export interface RatesReply extends PagedReply {
  readonly fields: readonly string[];
  readonly rates: readonly RateRow[];
}

export interface TicksReply extends PagedReply {
  readonly fields: readonly string[];
  readonly ticks: readonly TickRow[];
}

export interface HistoryDealsReply extends PagedReply {
  /** By (time, ticket). */
  readonly history_deals: readonly HistoryDeal[];
}

export interface HistoryOrdersReply extends PagedReply {
  /** By (time_setup, ticket): market, pending and close-by orders that left the book. */
  readonly history_orders: readonly TradeOrder[];
}

export type MarketReply =
  | SymbolsReply
  | TickReply
  | RatesReply
  | TicksReply
  | HistoryDealsReply
  | HistoryOrdersReply;
