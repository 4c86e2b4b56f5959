/**
 * The sim's deal and order history (history_deals_get / history_orders_get) from its own books:
 * the deals it has made, which the state log and the deal history file keep across restarts.
 *
 * Every sim deal comes from one market order filled at once (a request, or an SL, TP or
 * stop-out), so the order history is one FILLED order per deal: its ticket is the deal's order,
 * its times the deal's time. What the books do not keep is reported as MT5 reports an unknown:
 * no SL/TP on the order (null), the filling mode the sim would choose for the symbol.
 */

import type { HistoryDeal, HistoryOrder } from "../../../../shared/protocol/market-types.ts";
import type { Deal, FillingMode } from "../../../../shared/protocol/types.ts";
import type { Chunk, HistoryCursor, HistoryQuery } from "../../market-reads.ts";

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

export function historyOrder(deal: Deal, filling: FillingMode): HistoryOrder {
  return {
    ticket: deal.order,
    time_setup: deal.time,
    time_done: deal.time,
    time_expiration: 0,
    type: deal.side,
    type_time: "GTC",
    type_filling: filling,
    state: "FILLED",
    magic: deal.magic,
    position: deal.position,
    position_by: 0,
    reason: deal.reason,
    volume_initial: deal.volume,
    volume_current: 0,
    price_open: deal.price,
    sl: null,
    tp: null,
    price_current: deal.price,
    price_stoplimit: 0,
    symbol: deal.symbol,
    comment: deal.comment,
    external_id: "",
  };
}

const before = (deal: Deal, after: HistoryCursor, ticket: number) =>
  deal.time < after.time || (deal.time === after.time && ticket <= after.ticket);

/**
 * One page of the books' deals for a query, keyed by (time, deal ticket) or, for orders, by
 * (time, order ticket); both grow with the array order. The array only ever grows, so whether it
 * is in time order (it is unless the clock stepped back) is checked once per new deal.
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
  ): Chunk<Deal, HistoryCursor> {
    this.#check(deals);
    const matches = (deal: Deal): boolean => {
      if (after !== undefined && before(deal, after, ticketOf(deal))) return false;
      switch (query.kind) {
        case "range":
          return deal.time >= query.from && deal.time <= query.to;
        case "position":
          return deal.position === query.position;
        case "ticket":
          return ticketOf(deal) === query.ticket;
      }
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
