/**
 * Pending orders in the simulated broker's books: the active orders, the orders that left the
 * book (the order history MT5 keeps), and the one state-log record that changes them.
 *
 * A change that also moves money (an order filling, a close-by) travels as ONE record carrying
 * the trade records with it, so a crash can never leave a filled order still active (it would
 * fill twice after a restart) or an order gone without its deal. Live trading applies each trade
 * record as its fill is built (fills.ts) and then the order part with applyOrderChange(); replay
 * applies the trades and then the same order part (Book.apply), so both paths agree.
 */
import {
  type DealReason,
  type FillingMode,
  ORDER_TIME_TYPES,
  ORDER_TYPES,
  type OrderTimeType,
  PENDING_ORDER_TYPES,
  type PendingOrderType,
  TRADE_ORDER_STATES,
  type TradeOrder,
} from "../../../../shared/protocol/index.ts";
import type { TradeRecord } from "../records.ts";
import { isNumber, isObject, isOneOf, isPrice, type Shape } from "../shapes.ts";

/** An active pending order as the broker stores it; TradeOrder adds the live price. */
export interface OrderState {
  readonly ticket: number;
  readonly symbol: string;
  readonly type: PendingOrderType;
  readonly volume: number;
  readonly price_open: number;
  readonly price_stoplimit: number | null;
  readonly sl: number | null;
  readonly tp: number | null;
  readonly type_time: OrderTimeType;
  /** The expiration the client gave (SPECIFIED, SPECIFIED_DAY), 0 otherwise. */
  readonly expiration: number;
  /** When the order expires, Unix ms, as derived from type_time; 0 for GTC. */
  readonly expires_at: number;
  readonly type_filling: FillingMode;
  readonly magic: number;
  readonly comment: string;
  readonly time_setup: number;
  readonly reason: DealReason;
}

/** Placed, changed, activated, filled, cancelled, expired or rejected: one atomic record. */
export interface PendingRecord {
  readonly type: "pending";
  /** The order this record is about (the close-by order's ticket for a close-by). */
  readonly ticket: number;
  /** The order afterwards; null when it left the book. */
  readonly order: OrderState | null;
  /** The order as it entered the history, when it left the book (or a close-by order). */
  readonly done?: TradeOrder;
  /** The deals it caused, applied before the order part. */
  readonly trades?: readonly TradeRecord[];
  readonly next_order: number;
}

/**
 * History orders kept (and snapshotted): enough for reconciliation and recent history; the
 * oldest are dropped first. Deals keep the full record of what was traded.
 */
export const MAX_ORDER_HISTORY = 10_000;

/** The part of the book (book.ts) that the order part of a record changes. */
export interface OrderLedger {
  readonly orders: Map<number, OrderState>;
  readonly orderHistory: TradeOrder[];
  nextOrder: number;
}

/** The order part of a record (the trades are applied by whoever built or replays them). */
export function applyOrderChange(book: OrderLedger, record: PendingRecord): void {
  if (record.order === null) book.orders.delete(record.ticket);
  else book.orders.set(record.ticket, record.order);
  if (record.done !== undefined) {
    book.orderHistory.push(record.done);
    if (book.orderHistory.length > MAX_ORDER_HISTORY) {
      book.orderHistory.splice(0, book.orderHistory.length - MAX_ORDER_HISTORY);
    }
  }
  book.nextOrder = Math.max(book.nextOrder, record.next_order);
}

// ---------------------------------------------------------------------------------------------
// Shape checks for what comes back from disk (see book.ts)

const isReason = isOneOf(["CLIENT", "EXPERT", "SL", "TP", "SO"]);
const isFilling = isOneOf(["FOK", "IOC", "RETURN"]);

export function isOrderState(value: unknown): value is OrderState {
  return (
    isObject(value) &&
    isNumber(value["ticket"]) &&
    typeof value["symbol"] === "string" &&
    isOneOf(PENDING_ORDER_TYPES)(value["type"]) &&
    isNumber(value["volume"]) &&
    isNumber(value["price_open"]) &&
    isPrice(value["price_stoplimit"]) &&
    isPrice(value["sl"]) &&
    isPrice(value["tp"]) &&
    isOneOf(ORDER_TIME_TYPES)(value["type_time"]) &&
    isNumber(value["expiration"]) &&
    isNumber(value["expires_at"]) &&
    isFilling(value["type_filling"]) &&
    isNumber(value["magic"]) &&
    typeof value["comment"] === "string" &&
    isNumber(value["time_setup"]) &&
    isReason(value["reason"])
  );
}

export function isHistoryOrder(value: unknown): value is TradeOrder {
  return (
    isObject(value) &&
    isNumber(value["ticket"]) &&
    typeof value["symbol"] === "string" &&
    isOneOf(ORDER_TYPES)(value["type"]) &&
    isOneOf(TRADE_ORDER_STATES)(value["state"]) &&
    isNumber(value["volume_initial"]) &&
    isNumber(value["volume_current"]) &&
    isNumber(value["price_open"]) &&
    isPrice(value["price_stoplimit"]) &&
    isPrice(value["sl"]) &&
    isPrice(value["tp"]) &&
    isNumber(value["price_current"]) &&
    isOneOf(ORDER_TIME_TYPES)(value["type_time"]) &&
    isNumber(value["time_expiration"]) &&
    isFilling(value["type_filling"]) &&
    isNumber(value["magic"]) &&
    typeof value["comment"] === "string" &&
    isNumber(value["time_setup"]) &&
    isNumber(value["time_done"]) &&
    isNumber(value["position_id"]) &&
    isNumber(value["position_by_id"]) &&
    isReason(value["reason"]) &&
    // Absent in state written before TradeOrder had it (account-history.ts fills in "")
    (value["external_id"] === undefined || typeof value["external_id"] === "string")
  );
}

/** The order part of a pending record; book.ts checks its trades as trade records. */
export function isPendingRecordShape(value: Shape): boolean {
  return (
    isNumber(value["ticket"]) &&
    (value["order"] === null || isOrderState(value["order"])) &&
    (value["done"] === undefined || isHistoryOrder(value["done"])) &&
    (value["trades"] === undefined || Array.isArray(value["trades"])) &&
    isNumber(value["next_order"])
  );
}
