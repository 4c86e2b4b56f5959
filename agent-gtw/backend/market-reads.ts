/**
 * The read side of a backend (issue 14): symbols, the last tick, bars, ticks and the account's
 * deal and order history, in bounded chunks. The gateway's market handler (agent-gtw/market/)
 * turns requests into these calls and chunks into pages; it owns the group filter, the page
 * limits and the cursors, so a backend only answers plain, bounded questions.
 *
 * Contract, for every method:
 * - A symbol the broker does not know resolves to undefined (the reply is UNKNOWN_SYMBOL).
 * - Rows come oldest first (history: by (time, ticket)), at most `limit` of them.
 * - `next` says where to continue when the backend stopped before the end of what was asked
 *   (the limit was reached, or it bounded its own work); undefined means nothing is left.
 * - Bar and tick times (rates, ticks, lastTick, rateSpan, and their queries) are the broker's
 *   server time as MT5 reports them, in ms; deal and order times are Unix ms (UTC), like every
 *   other record of the gateway. The sim's server time is UTC, so the two agree there.
 * - A BackendError with code BACKEND_UNSUPPORTED means this backend cannot answer the action
 *   (yet): NOT_SUPPORTED, as for every other call (backend.ts); any other BackendError means MT5
 *   could not be asked (link down, timeout): MT5_LINK_DOWN.
 */
import {
  type HistoryDeal,
  MAX_HISTORY_PER_PAGE,
  type RateRow,
  type SymbolInfo,
  type Tick,
  type TickKind,
  type TickRow,
  type Timeframe,
  type TradeOrder,
} from "../../shared/protocol/index.ts";

export interface RatesQuery {
  readonly symbol: string;
  readonly timeframe: Timeframe;
  /** Bars opening within [from, to]. */
  readonly from: number;
  readonly to: number;
  readonly limit: number;
}

/**
 * Which bars copy_rates_from (anchor: the date, skip 0) or _from_pos (anchor "now", skip: start)
 * means. "now" is the broker's current bar, whatever the clocks say (a terminal counts positions
 * from its newest bar, not from a time).
 */
export interface RateSpanQuery {
  readonly symbol: string;
  readonly timeframe: Timeframe;
  /** The newest bar opens at or before this time; "now": the current bar is the newest. */
  readonly anchor: number | "now";
  /** Existing bars to pass over first, counting back from the newest (a position). */
  readonly skip: number;
  readonly count: number;
}

export interface RateSpan {
  readonly from: number;
  readonly to: number;
}

export interface TicksQuery {
  readonly symbol: string;
  /** Ticks with time_msc ≥ from … */
  readonly from: number;
  /** … except the first `skip` ticks at exactly `from` (sent on a previous page). */
  readonly skip: number;
  /** … and ≤ to. */
  readonly to: number;
  readonly kind: TickKind;
  readonly limit: number;
}

export type HistoryQuery =
  | { readonly kind: "range"; readonly from: number; readonly to: number }
  | { readonly kind: "position"; readonly position: number }
  | { readonly kind: "ticket"; readonly ticket: number };

/** The (time, ticket) of the last row a page considered; the next page starts after it. */
export interface HistoryCursor {
  readonly time: number;
  readonly ticket: number;
}

export interface Chunk<Row, Next> {
  readonly rows: readonly Row[];
  readonly next: Next | undefined;
}

export interface MarketReads {
  /**
   * The broker's server clock now, in the ms bars and ticks carry (a tick count reads up to it).
   * Absent: the gateway's clock (the sim's server time is UTC).
   */
  serverNow?(): number;
  /** Every symbol the broker offers, by name (the gateway filters and sorts). */
  symbolNames(): Promise<readonly string[]>;
  /** The specifications of these symbols, in the order given; unknown names are left out. */
  symbolInfos(names: readonly string[]): Promise<SymbolInfo[]>;
  lastTick(symbol: string): Promise<Tick | undefined>;
  /** Open times of the oldest and newest bar of a count query; "none" when there are no bars. */
  rateSpan(query: RateSpanQuery): Promise<RateSpan | "none" | undefined>;
  rates(query: RatesQuery): Promise<Chunk<RateRow, number> | undefined>;
  ticks(query: TicksQuery): Promise<Chunk<TickRow, { from: number; skip: number }> | undefined>;
  /** Deals of the query after `after`, by (time, ticket). */
  historyDeals(
    query: HistoryQuery,
    after: HistoryCursor | undefined,
    limit: number,
  ): Promise<Chunk<HistoryDeal, HistoryCursor>>;
  /**
   * Orders that left the book (market orders, pending orders filled, cancelled, expired or
   * rejected, close-by orders) of the query after `after`, by (time_setup, ticket). A range
   * selects by time_setup, a position by position_id. The one source of order history: GET_ORDER
   * and reconciliation read it too.
   */
  historyOrders(
    query: HistoryQuery,
    after: HistoryCursor | undefined,
    limit: number,
  ): Promise<Chunk<TradeOrder, HistoryCursor>>;
}

/** History pages one search reads at most (reconciliation, GET_ORDER): 50,000 orders. */
export const MAX_HISTORY_SEARCH_PAGES = 100;

/**
 * The first order of a history query that `wanted` accepts, reading page after page; undefined
 * when none does. Throws when the query holds more than MAX_HISTORY_SEARCH_PAGES pages, since
 * "not found" would then be a guess (reconciliation must leave the intent UNKNOWN instead).
 */
export async function findHistoryOrder(
  reads: MarketReads,
  query: HistoryQuery,
  wanted: (order: TradeOrder) => boolean,
): Promise<TradeOrder | undefined> {
  let after: HistoryCursor | undefined;
  for (let page = 0; page < MAX_HISTORY_SEARCH_PAGES; page++) {
    const chunk = await reads.historyOrders(query, after, MAX_HISTORY_PER_PAGE);
    const found = chunk.rows.find(wanted);
    if (found !== undefined) return found;
    if (chunk.next === undefined) return undefined;
    after = chunk.next;
  }
  throw new Error(
    `the order history holds more than ${MAX_HISTORY_SEARCH_PAGES * MAX_HISTORY_PER_PAGE} orders in the searched span`,
  );
}

/** Whether a row with this time, position and ticket is one the query asks for. */
export function inHistoryQuery(
  query: HistoryQuery,
  time: number,
  position: number,
  ticket: number,
): boolean {
  switch (query.kind) {
    case "range":
      return time >= query.from && time <= query.to;
    case "position":
      return position === query.position;
    case "ticket":
      return ticket === query.ticket;
  }
}

/** Whether a row keyed (time, ticket) comes after the cursor; every row does without one. */
export function afterHistoryCursor(
  time: number,
  ticket: number,
  after: HistoryCursor | undefined,
): boolean {
  return after === undefined || time > after.time || (time === after.time && ticket > after.ticket);
}

/** History orders by (time_setup, ticket), the order of GET_HISTORY_ORDERS. */
export const byTimeSetup = (a: TradeOrder, b: TradeOrder): number =>
  a.time_setup - b.time_setup || a.ticket - b.ticket;

/** Where a history row sits: its (time, ticket) order key and the position it belongs to. */
export interface HistoryKey<Row> {
  readonly time: (row: Row) => number;
  readonly position: (row: Row) => number;
  readonly ticket: (row: Row) => number;
}

export const DEAL_KEY: HistoryKey<HistoryDeal> = {
  time: (deal) => deal.time,
  position: (deal) => deal.position,
  ticket: (deal) => deal.ticket,
};

export const ORDER_KEY: HistoryKey<TradeOrder> = {
  time: (order) => order.time_setup,
  position: (order) => order.position_id,
  ticket: (order) => order.ticket,
};

/**
 * One page out of rows listed whole, in any order (a backend that can only list a span, such as
 * the terminal's GET_HISTORY_ORDERS and GET_HISTORY_DEALS): those the query selects after the
 * cursor, by (time, ticket), at most `limit`.
 */
export function pageOfHistory<Row>(
  listed: readonly Row[],
  key: HistoryKey<Row>,
  query: HistoryQuery,
  after: HistoryCursor | undefined,
  limit: number,
): Chunk<Row, HistoryCursor> {
  const selected = listed
    .filter(
      (row) =>
        afterHistoryCursor(key.time(row), key.ticket(row), after) &&
        inHistoryQuery(query, key.time(row), key.position(row), key.ticket(row)),
    )
    .sort((a, b) => key.time(a) - key.time(b) || key.ticket(a) - key.ticket(b));
  const rows = selected.slice(0, limit);
  const last = rows[rows.length - 1];
  const next =
    selected.length > limit && last !== undefined
      ? { time: key.time(last), ticket: key.ticket(last) }
      : undefined;
  return { rows, next };
}
