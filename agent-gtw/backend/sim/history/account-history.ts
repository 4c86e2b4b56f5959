/**
 * The sim's deal and order history (history_deals_get / history_orders_get) from its own books:
 * the deals it has made (the state log and the deal history file keep them across restarts) and
 * the orders that left its order book (book.orderHistory: pending orders filled, cancelled,
 * expired or rejected, and close-by orders; pending/order-book.ts).
 *
 * A market order (a request, or the order an SL, TP or stop-out makes) fills at once with one
 * deal and is never in the order book, so its history entry is built from that deal: its ticket
 * is the deal's order, its times the deal's time. What the books do not keep is reported as MT5
 * reports an unknown: no SL/TP on the order (null), the filling mode the sim would choose for the
 * symbol. Deals of book orders (a triggered pending order, the two OUT_BY deals of a close-by)
 * are left out here: the book's own entry is that order.
 *
 * The order book keeps its most recent MAX_ORDER_HISTORY entries; a pending order older than
 * that still shows by its fill, as the market order it became, and one cancelled, expired,
 * rejected or closed-by that long ago is gone (README: "Order history").
 */

import type {
  Deal,
  FillingMode,
  HistoryDeal,
  TradeOrder,
} from "../../../../shared/protocol/index.ts";
import {
  afterHistoryCursor,
  byTimeSetup,
  type Chunk,
  type HistoryCursor,
  type HistoryQuery,
  inHistoryQuery,
} from "../../market-reads.ts";

export function historyDeal(deal: Deal): HistoryDeal {
  return {
    ticket: deal.ticket,
    order: deal.order,
    position: deal.position,
    symbol: deal.symbol,
    type: deal.side,
    entry: deal.entry,
    reason: deal.reason,
    volume: deal.volume,
    price: deal.price,
    profit: deal.profit,
    commission: deal.commission,
    swap: deal.swap,
    fee: 0,
    magic: deal.magic,
    comment: deal.comment,
    external_id: "",
    time: deal.time,
  };
}

/** The market order a deal filled. */
export function marketOrder(deal: Deal, filling: FillingMode): TradeOrder {
  return {
    ticket: deal.order,
    symbol: deal.symbol,
    type: deal.side,
    state: "FILLED",
    volume_initial: deal.volume,
    volume_current: 0,
    price_open: deal.price,
    price_stoplimit: null,
    sl: null,
    tp: null,
    price_current: deal.price,
    type_time: "GTC",
    time_expiration: 0,
    type_filling: filling,
    magic: deal.magic,
    comment: deal.comment,
    time_setup: deal.time,
    time_done: deal.time,
    position_id: deal.position,
    position_by_id: 0,
    reason: deal.reason,
    external_id: "",
  };
}

/**
 * Pages of the order history: the market orders of the deals (DealPages) merged with the order
 * book's history, both by (time_setup, ticket). Each source gives at most `limit` rows after the
 * cursor and the page keeps the first `limit` of both, so a page costs what one source's page
 * costs, and the next page starts after its last row in both.
 */
export class OrderHistoryPages {
  readonly #deals = new DealPages();
  /** book.orderHistory by (time_setup, ticket), and its tickets; rebuilt when it changed. */
  #sorted: readonly TradeOrder[] = [];
  #tickets: ReadonlySet<number> = new Set();
  #seenLength = -1;
  #seenLast: TradeOrder | undefined;

  page(
    deals: readonly Deal[],
    bookHistory: readonly TradeOrder[],
    query: HistoryQuery,
    after: HistoryCursor | undefined,
    limit: number,
    filling: (symbol: string) => FillingMode,
  ): Chunk<TradeOrder, HistoryCursor> {
    this.#index(bookHistory);
    const tickets = this.#tickets;
    const fromDeals = this.#deals.page(
      deals,
      query,
      after,
      limit,
      (deal) => deal.order,
      (deal) => deal.entry !== "OUT_BY" && !tickets.has(deal.order),
    );
    const fromBook: TradeOrder[] = [];
    for (const order of this.#sorted) {
      if (fromBook.length > limit) break;
      if (query.kind === "range" && order.time_setup > query.to) break;
      if (!afterHistoryCursor(order.time_setup, order.ticket, after)) continue;
      if (inHistoryQuery(query, order.time_setup, order.position_id, order.ticket)) {
        fromBook.push(order);
      }
    }
    const merged = [
      ...fromDeals.rows.map((deal) => marketOrder(deal, filling(deal.symbol))),
      ...fromBook,
    ].sort(byTimeSetup);
    const rows = merged.slice(0, limit);
    const last = rows[rows.length - 1];
    const more = merged.length > limit || fromDeals.next !== undefined;
    const next =
      more && last !== undefined ? { time: last.time_setup, ticket: last.ticket } : undefined;
    return { rows, next };
  }

  #index(history: readonly TradeOrder[]): void {
    const last = history[history.length - 1];
    if (history.length === this.#seenLength && last === this.#seenLast) return;
    // State written before TradeOrder had external_id lacks it
    const sorted = history.map((order) => ({ ...order, external_id: order.external_id ?? "" }));
    this.#sorted = sorted.sort(byTimeSetup);
    this.#tickets = new Set(history.map((order) => order.ticket));
    this.#seenLength = history.length;
    this.#seenLast = last;
  }
}

/**
 * One page of the books' deals for a query (those `include` keeps), keyed by (time, deal ticket)
 * or, for market orders, by (time, order ticket); both grow with the array order. The array only
 * ever grows, so whether it is in time order (it is unless the clock stepped back) is checked
 * once per new deal.
 */
export class DealPages {
  #checked = 0;
  #sorted = true;

  page(
    deals: readonly Deal[],
    query: HistoryQuery,
    after: HistoryCursor | undefined,
    limit: number,
    ticketOf: (deal: Deal) => number,
    include: (deal: Deal) => boolean = () => true,
  ): Chunk<Deal, HistoryCursor> {
    this.#check(deals);
    const matches = (deal: Deal): boolean => {
      const ticket = ticketOf(deal);
      if (!afterHistoryCursor(deal.time, ticket, after)) return false;
      return include(deal) && inHistoryQuery(query, deal.time, deal.position, ticket);
    };
    const rows: Deal[] = [];
    if (this.#sorted && query.kind === "range") {
      const start = lowerBound(deals, Math.max(query.from, after?.time ?? 0));
      for (let index = start; index < deals.length && rows.length < limit; index++) {
        const deal = deals[index] as Deal;
        if (deal.time > query.to) break;
        if (matches(deal)) rows.push(deal);
      }
    } else {
      const all = deals.filter(matches);
      if (!this.#sorted) {
        all.sort((a, b) => a.time - b.time || ticketOf(a) - ticketOf(b));
      }
      rows.push(...all.slice(0, limit));
    }
    const last = rows[rows.length - 1];
    const next =
      rows.length === limit && last !== undefined
        ? { time: last.time, ticket: ticketOf(last) }
        : undefined;
    return { rows, next };
  }

  #check(deals: readonly Deal[]): void {
    for (let index = Math.max(1, this.#checked); index < deals.length; index++) {
      if ((deals[index] as Deal).time < (deals[index - 1] as Deal).time) this.#sorted = false;
    }
    this.#checked = deals.length;
  }
}

/** First index whose deal time is ≥ time, in a time-ordered array. */
function lowerBound(deals: readonly Deal[], time: number): number {
  let low = 0;
  let high = deals.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((deals[middle] as Deal).time < time) low = middle + 1;
    else high = middle;
  }
  return low;
}
