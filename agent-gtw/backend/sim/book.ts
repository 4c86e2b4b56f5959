/**
 * The broker's books: balance, open positions, deal history and ticket counters, changed only by
 * applying records. Live trading builds a record and applies it; start-up replays the same
 * records from the state log, so the two paths cannot disagree. Records carry the resulting
 * state (not the request), which keeps replay independent of quotes and of trading rules.
 */
import type { Deal, TradeOrder } from "../../../shared/protocol/index.ts";
import {
  applyOrderChange,
  isHistoryOrder,
  isOrderState,
  isPendingRecordShape,
  type OrderState,
  type PendingRecord,
} from "./pending/order-book.ts";
import type { PositionState, TradeRecord } from "./records.ts";
import { isNumber, isObject, isPrice, isSide } from "./shapes.ts";

/** New SL/TP on a position. */
export interface ModifyRecord {
  readonly type: "modify";
  readonly position: PositionState;
}

/** Only the feed state changed (written at stop so quotes resume where they were). */
export interface FeedRecord {
  readonly type: "feed";
}

export type BookRecord = TradeRecord | ModifyRecord | FeedRecord | PendingRecord;

/** Everything but the deal history, which is kept apart because it only ever grows. */
export interface BookSnapshot {
  readonly balance: number;
  readonly next_order: number;
  readonly next_deal: number;
  readonly positions: readonly PositionState[];
  /** Active pending orders (absent in state written before pending orders existed). */
  readonly orders?: readonly OrderState[];
  /** The most recent orders that left the book (pending/order-book.ts). */
  readonly order_history?: readonly TradeOrder[];
}

/** MT5 keeps order and deal tickets in separate sequences; these are the sim's first values. */
export const FIRST_ORDER_TICKET = 100_000_001;
export const FIRST_DEAL_TICKET = 50_000_001;

export class Book {
  balance: number;
  nextOrder: number;
  nextDeal: number;
  /** Insertion (= ticket) order, which is the order MT5 lists positions in. */
  readonly positions = new Map<number, PositionState>();
  readonly deals: Deal[] = [];
  /** Active pending orders by ticket, in placement order. */
  readonly orders = new Map<number, OrderState>();
  readonly orderHistory: TradeOrder[] = [];
  /**
   * Whether `deals` is in non-decreasing time order, which lets dealsBetween() binary-search.
   * Deals are appended as they happen, so this holds unless the wall clock stepped back.
   */
  #dealsSorted = true;

  constructor(balance: number) {
    this.balance = balance;
    this.nextOrder = FIRST_ORDER_TICKET;
    this.nextDeal = FIRST_DEAL_TICKET;
  }

  apply(record: BookRecord): void {
    switch (record.type) {
      case "trade":
        this.#addDeal(record.deal);
        if (record.position === null) {
          this.positions.delete(record.ticket);
        } else {
          this.positions.set(record.ticket, record.position);
        }
        this.balance = record.balance;
        this.nextOrder = record.next_order;
        this.nextDeal = record.next_deal;
        return;
      case "modify":
        this.positions.set(record.position.ticket, record.position);
        return;
      case "feed":
        return;
      case "pending":
        for (const trade of record.trades ?? []) this.apply(trade);
        applyOrderChange(this, record);
        return;
    }
  }

  snapshot(): BookSnapshot {
    return {
      balance: this.balance,
      next_order: this.nextOrder,
      next_deal: this.nextDeal,
      positions: [...this.positions.values()],
      orders: [...this.orders.values()],
      order_history: [...this.orderHistory],
    };
  }

  static fromSnapshot(snapshot: BookSnapshot, deals: readonly Deal[]): Book {
    const book = new Book(snapshot.balance);
    book.nextOrder = snapshot.next_order;
    book.nextDeal = snapshot.next_deal;
    for (const position of snapshot.positions) book.positions.set(position.ticket, position);
    for (const order of snapshot.orders ?? []) book.orders.set(order.ticket, order);
    book.orderHistory.push(...(snapshot.order_history ?? []));
    for (const deal of deals) book.#addDeal(deal);
    return book;
  }

  /**
   * Deals with from ≤ time ≤ to (and the magic, when given), in history order. A RESYNC after
   * every fill asks for the last few deals; scanning the whole history each time would make a
   * long-running gateway slower with every deal it has ever made.
   */
  dealsBetween(from: number, to: number, magic: number | undefined): Deal[] {
    const deals = this.deals;
    let start = 0;
    if (this.#dealsSorted) {
      let high = deals.length;
      while (start < high) {
        const middle = (start + high) >>> 1;
        if ((deals[middle] as Deal).time < from) start = middle + 1;
        else high = middle;
      }
    }
    const out: Deal[] = [];
    for (let index = start; index < deals.length; index++) {
      const deal = deals[index] as Deal;
      if (deal.time > to) {
        if (this.#dealsSorted) break;
        continue;
      }
      if (deal.time >= from && (magic === undefined || deal.magic === magic)) out.push(deal);
    }
    return out;
  }

  #addDeal(deal: Deal): void {
    const last = this.deals[this.deals.length - 1];
    if (last !== undefined && deal.time < last.time) this.#dealsSorted = false;
    this.deals.push(deal);
  }
}

// ---------------------------------------------------------------------------------------------
// Shape checks for what comes back from disk: a record that parses as JSON but is not one of
// ours is corruption, and must be reported rather than half-applied.

export function isPositionState(value: unknown): value is PositionState {
  return (
    isObject(value) &&
    isNumber(value["ticket"]) &&
    typeof value["symbol"] === "string" &&
    isSide(value["side"]) &&
    isNumber(value["volume"]) &&
    isNumber(value["price_open"]) &&
    isPrice(value["sl"]) &&
    isPrice(value["tp"]) &&
    isNumber(value["magic"]) &&
    typeof value["comment"] === "string" &&
    isNumber(value["time"]) &&
    isNumber(value["time_update"])
  );
}

export function isDeal(value: unknown): value is Deal {
  return (
    isObject(value) &&
    isNumber(value["ticket"]) &&
    isNumber(value["order"]) &&
    isNumber(value["position"]) &&
    typeof value["symbol"] === "string" &&
    isSide(value["side"]) &&
    ["IN", "OUT", "INOUT", "OUT_BY"].includes(value["entry"] as string) &&
    ["CLIENT", "EXPERT", "SL", "TP", "SO"].includes(value["reason"] as string) &&
    isNumber(value["volume"]) &&
    isNumber(value["price"]) &&
    isNumber(value["profit"]) &&
    typeof value["comment"] === "string" &&
    isNumber(value["time"])
  );
}

export function isBookRecord(value: unknown): value is BookRecord {
  if (!isObject(value)) return false;
  switch (value["type"]) {
    case "trade":
      return (
        isDeal(value["deal"]) &&
        isNumber(value["ticket"]) &&
        (value["position"] === null || isPositionState(value["position"])) &&
        isNumber(value["balance"]) &&
        isNumber(value["next_order"]) &&
        isNumber(value["next_deal"])
      );
    case "modify":
      return isPositionState(value["position"]);
    case "feed":
      return true;
    case "pending":
      return (
        isPendingRecordShape(value) &&
        ((value["trades"] as unknown[] | undefined) ?? []).every(
          (trade) => isObject(trade) && trade["type"] === "trade" && isBookRecord(trade),
        )
      );
    default:
      return false;
  }
}

export function isBookSnapshot(value: unknown): value is BookSnapshot {
  return (
    isObject(value) &&
    isNumber(value["balance"]) &&
    isNumber(value["next_order"]) &&
    isNumber(value["next_deal"]) &&
    Array.isArray(value["positions"]) &&
    value["positions"].every(isPositionState) &&
    (value["orders"] === undefined ||
      (Array.isArray(value["orders"]) && value["orders"].every(isOrderState))) &&
    (value["order_history"] === undefined ||
      (Array.isArray(value["order_history"]) && value["order_history"].every(isHistoryOrder)))
  );
}
