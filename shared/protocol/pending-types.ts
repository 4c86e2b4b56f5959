/**
 * Pending orders and pre-trade calculations (issue 15, docs/PROTOCOL.md §15): the signed PLACE,
 * MODIFY_ORDER, CANCEL and CLOSE_BY, the unsigned GET_ORDERS, ORDER_CHECK, CALC_MARGIN and
 * CALC_PROFIT, their replies, the order object they travel with, and the order events.
 *
 * Names follow MqlTradeRequest and the MetaTrader5 Python package (`type`, `type_time`,
 * `type_filling`, `stoplimit`, `expiration`; TradeOrder's `time_setup`, `price_open`, …) with the
 * enum prefixes dropped ("BUY_LIMIT" for ORDER_TYPE_BUY_LIMIT), so a strategy ported from
 * `MetaTrader5` reads the same words. Times are Unix ms, and MT5's "0 = none" for a price is
 * null on the wire, as for sl/tp elsewhere. Validation lives in validate-pending.ts.
 */
import type { Deal, DealReason, FillingMode, ReplyBase, RequestBase, Side } from "./types.ts";

/** ENUM_ORDER_TYPE values a pending order can have. */
export const PENDING_ORDER_TYPES = [
  "BUY_LIMIT",
  "SELL_LIMIT",
  "BUY_STOP",
  "SELL_STOP",
  "BUY_STOP_LIMIT",
  "SELL_STOP_LIMIT",
] as const;
export type PendingOrderType = (typeof PENDING_ORDER_TYPES)[number];

/** Every ENUM_ORDER_TYPE: history orders also hold market orders and close-by orders. */
export const ORDER_TYPES = ["BUY", "SELL", ...PENDING_ORDER_TYPES, "CLOSE_BY"] as const;
export type OrderType = (typeof ORDER_TYPES)[number];

/** What ORDER_CHECK can check: a market order (BUY, SELL) or a pending order. */
export type CheckOrderType = Exclude<OrderType, "CLOSE_BY">;

/** ENUM_ORDER_TYPE_TIME: how long a pending order lives. */
export const ORDER_TIME_TYPES = ["GTC", "DAY", "SPECIFIED", "SPECIFIED_DAY"] as const;
export type OrderTimeType = (typeof ORDER_TIME_TYPES)[number];

/** ENUM_ORDER_STATE without the prefix (MT5 spells it CANCELED). */
export const TRADE_ORDER_STATES = [
  "STARTED",
  "PLACED",
  "CANCELED",
  "PARTIAL",
  "FILLED",
  "REJECTED",
  "EXPIRED",
  "REQUEST_ADD",
  "REQUEST_MODIFY",
  "REQUEST_CANCEL",
] as const;
export type TradeOrderState = (typeof TRADE_ORDER_STATES)[number];

/** Orders per GET_ORDERS or RESYNC reply; far above any account's pending-order limit. */
export const MAX_ORDERS_PER_REPLY = 10_000;

/** The side a pending or market order type buys or sells on. */
export function orderSide(type: CheckOrderType): Side {
  return type.startsWith("BUY") ? "BUY" : "SELL";
}

/** Whether an order type carries a stop-limit price (the limit order it places when triggered). */
export function isStopLimit(type: OrderType): boolean {
  return type === "BUY_STOP_LIMIT" || type === "SELL_STOP_LIMIT";
}

/** Whether an expiration type needs the `expiration` time (SPECIFIED, SPECIFIED_DAY). */
export function needsExpiration(type: OrderTimeType): boolean {
  return type === "SPECIFIED" || type === "SPECIFIED_DAY";
}

// ---------------------------------------------------------------------------------------------
// The order object (MT5 TradeOrder): GET_ORDERS (orders_get), GET_HISTORY_ORDERS
// (history_orders_get, market-types.ts), the order events and GET_ORDER

export interface TradeOrder {
  readonly ticket: number;
  readonly symbol: string;
  readonly type: OrderType;
  readonly state: TradeOrderState;
  readonly volume_initial: number;
  readonly volume_current: number;
  /** The order price (a stop-limit's trigger price until it triggers). */
  readonly price_open: number;
  /** The limit price a stop-limit order places when triggered; null for other types. */
  readonly price_stoplimit: number | null;
  readonly sl: number | null;
  readonly tp: number | null;
  /** The symbol's current price on the order's side (ask for buys, bid for sells). */
  readonly price_current: number;
  readonly type_time: OrderTimeType;
  /** When the order expires, Unix ms (the end of the trading day for DAY); 0 for GTC. */
  readonly time_expiration: number;
  readonly type_filling: FillingMode;
  readonly magic: number;
  readonly comment: string;
  /** Placement time, Unix ms. */
  readonly time_setup: number;
  /** When it filled, was cancelled, expired or was rejected; 0 while active. */
  readonly time_done: number;
  /** The position it opened or changed when it filled; 0 until then. */
  readonly position_id: number;
  /** CLOSE_BY orders: the opposite position; 0 otherwise. */
  readonly position_by_id: number;
  /** Who placed it: CLIENT (magic 0) or EXPERT; SL, TP or SO for the market order a stop made. */
  readonly reason: DealReason;
  /** The order's ID in an external trading system (exchanges); "" otherwise. */
  readonly external_id: string;
}

/** MqlTradeCheckResult: what the trade would leave behind, and whether it would pass. */
export interface OrderCheckResult {
  /** 0 ("Done") when the request would pass, else the retcode it would get. */
  readonly retcode: number;
  readonly balance: number;
  readonly equity: number;
  readonly profit: number;
  /** Margin in use on the account after the trade. */
  readonly margin: number;
  readonly margin_free: number;
  readonly margin_level: number;
  readonly comment: string;
}

// ---------------------------------------------------------------------------------------------
// Requests

interface SignedFields extends RequestBase {
  readonly client_order_id: string;
  readonly gateway: string;
  readonly key_id: string;
}

/** The terms of an order, shared by PLACE and ORDER_CHECK. */
interface OrderTerms {
  readonly symbol: string;
  /** Lots. */
  readonly volume: number;
  /** Stop-limit types only (and required there): the price of the limit order it places. */
  readonly stoplimit?: number;
  readonly sl?: number | null;
  readonly tp?: number | null;
  /** Default GTC. */
  readonly type_time?: OrderTimeType;
  /** SPECIFIED and SPECIFIED_DAY only (and required there): Unix ms on a whole second. */
  readonly expiration?: number;
  /** Default: what the EA picks for market orders (FOK if allowed, else IOC, else RETURN). */
  readonly type_filling?: FillingMode;
  readonly magic?: number;
  readonly comment?: string;
}

export interface PlaceRequest extends SignedFields, OrderTerms {
  readonly action: "PLACE";
  readonly type: PendingOrderType;
  /** Order price: the limit price, the stop price, or a stop-limit's trigger price. */
  readonly price: number;
}

export interface ModifyOrderRequest extends SignedFields {
  readonly action: "MODIFY_ORDER";
  /** Order ticket. Every other field: omitted keeps the current value. */
  readonly ticket: number;
  readonly price?: number;
  readonly stoplimit?: number;
  /** A price, null to remove it. */
  readonly sl?: number | null;
  readonly tp?: number | null;
  readonly type_time?: OrderTimeType;
  readonly expiration?: number;
}

export interface CancelRequest extends SignedFields {
  readonly action: "CANCEL";
  /** Order ticket. */
  readonly ticket: number;
}

export interface CloseByRequest extends SignedFields {
  readonly action: "CLOSE_BY";
  /** The position to close… */
  readonly ticket: number;
  /** …by this opposite position on the same symbol (hedging accounts only). */
  readonly ticket_by: number;
  readonly comment?: string;
}

export interface GetOrdersRequest extends RequestBase {
  readonly action: "GET_ORDERS";
  /** At most one of symbol, group and ticket; none lists every pending order. */
  readonly symbol?: string;
  readonly group?: string;
  readonly ticket?: number;
}

export interface OrderCheckRequest extends RequestBase, OrderTerms {
  readonly action: "ORDER_CHECK";
  readonly type: CheckOrderType;
  /** Required for pending types; a market order is checked at the current price. */
  readonly price?: number;
  /** Market types only. */
  readonly deviation?: number;
}

export interface CalcMarginRequest extends RequestBase {
  readonly action: "CALC_MARGIN";
  readonly symbol: string;
  readonly type: Side;
  readonly volume: number;
  readonly price: number;
}

export interface CalcProfitRequest extends RequestBase {
  readonly action: "CALC_PROFIT";
  readonly symbol: string;
  readonly type: Side;
  readonly volume: number;
  readonly price_open: number;
  readonly price_close: number;
}

export type PendingSignedRequest =
  | PlaceRequest
  | ModifyOrderRequest
  | CancelRequest
  | CloseByRequest;
export type PendingReadRequest =
  | GetOrdersRequest
  | OrderCheckRequest
  | CalcMarginRequest
  | CalcProfitRequest;
export type PendingRequest = PendingSignedRequest | PendingReadRequest;

// ---------------------------------------------------------------------------------------------
// Replies (FILLED for the signed ones: MT5 executed the trade request, retcode 10008/10009)

export interface PendingTradeReply extends ReplyBase {
  readonly client_order_id: string;
  /** Order ticket (PLACE, MODIFY_ORDER, CANCEL) or the close-by order's ticket (CLOSE_BY). */
  readonly order?: number;
  /** The order after the request, when the backend reports it. */
  readonly pending_order?: TradeOrder;
  readonly bid?: number;
  readonly ask?: number;
  // CLOSE_BY
  readonly ticket?: number;
  readonly ticket_by?: number;
  readonly deal?: number;
  readonly volume?: number;
  readonly price?: number;
  readonly remaining_volume?: number;
  readonly remaining_volume_by?: number;
}

export interface OrdersReply extends ReplyBase {
  readonly orders: readonly TradeOrder[];
}

export interface OrderCheckReply extends ReplyBase {
  readonly check: OrderCheckResult;
}

export interface CalcMarginReply extends ReplyBase {
  /** In the account currency. */
  readonly margin: number;
}

export interface CalcProfitReply extends ReplyBase {
  /** In the account currency. */
  readonly profit: number;
}

export type PendingReply =
  | PendingTradeReply
  | OrdersReply
  | OrderCheckReply
  | CalcMarginReply
  | CalcProfitReply;

// ---------------------------------------------------------------------------------------------
// Events (stream-types.ts carries them like the others)

export const ORDER_EVENT_TYPES = [
  "ORDER_PLACED",
  "ORDER_MODIFIED",
  "ORDER_TRIGGERED",
  "ORDER_CANCELED",
  "ORDER_EXPIRED",
  "ORDER_REJECTED",
] as const;
export type OrderEventType = (typeof ORDER_EVENT_TYPES)[number];

/** The fields of an order event after `v`, `event` and `seq`. */
export interface OrderEventFields {
  /** The order after what happened (state PLACED, FILLED, CANCELED, EXPIRED or REJECTED). */
  readonly order: TradeOrder;
  /**
   * ORDER_TRIGGERED: the deal it filled with. Absent when a stop-limit order triggered and
   * placed its limit order instead (the order is then PLACED, of type BUY_LIMIT / SELL_LIMIT,
   * at its former stop-limit price, under the same ticket).
   */
  readonly deal?: Deal;
  /** ORDER_REJECTED: why the server refused to fill it when it triggered (e.g. 10019). */
  readonly retcode?: number;
  readonly comment?: string;
}
