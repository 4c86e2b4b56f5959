/**
 * The simulated broker's answers to market reads (backend/market-reads.ts): symbols from its
 * table, the live tick from its feed, bars and ticks from its generated history (the same ticks
 * the feed publishes), deals and orders from its books (account-history.ts).
 */
import type { Clock } from "../../../../shared/clock.ts";
import type {
  Deal,
  FillingMode,
  HistoryDeal,
  RateRow,
  SymbolInfo,
  Tick,
  TickRow,
  TradeOrder,
} from "../../../../shared/protocol/index.ts";
import type {
  Chunk,
  HistoryCursor,
  HistoryQuery,
  MarketReads,
  RateSpan,
  RateSpanQuery,
  RatesQuery,
  TicksQuery,
} from "../../market-reads.ts";
import type { Market } from "../market.ts";
import { DealPages, historyDeal, OrderHistoryPages } from "./account-history.ts";
import { tickRange } from "./tick-range.ts";

export interface SimMarketReadsOptions {
  readonly market: Market;
  readonly clock: Clock;
  /** SimBackend.symbolInfo (live quote, tick value). */
  readonly symbolInfo: (symbol: string) => Promise<SymbolInfo | undefined>;
  /** The books' deals; throws BACKEND_UNAVAILABLE while the sim is stopped. */
  readonly deals: () => readonly Deal[];
  /** The orders that left the order book (book.orderHistory); throws like deals(). */
  readonly orderHistory: () => readonly TradeOrder[];
  /** The filling mode the sim uses for the symbol's market orders. */
  readonly filling: (symbol: string) => FillingMode;
}

export class SimMarketReads implements MarketReads {
  readonly #options: SimMarketReadsOptions;
  readonly #dealPages = new DealPages();
  readonly #orderPages = new OrderHistoryPages();

  constructor(options: SimMarketReadsOptions) {
    this.#options = options;
  }

  async symbolNames(): Promise<readonly string[]> {
    return [...this.#options.market.specs()].map((spec) => spec.symbol);
  }

  async symbolInfos(names: readonly string[]): Promise<SymbolInfo[]> {
    const infos: SymbolInfo[] = [];
    for (const name of names) {
      const info = await this.#options.symbolInfo(name);
      if (info !== undefined) infos.push(info);
    }
    return infos;
  }

  async lastTick(symbol: string): Promise<Tick | undefined> {
    return this.#options.market.feed.lastTick(symbol);
  }

  async rateSpan(query: RateSpanQuery): Promise<RateSpan | "none" | undefined> {
    const bars = this.#options.market.feed.history.get(query.symbol)?.bars;
    if (bars === undefined) return undefined;
    const now = this.#options.clock.now();
    const anchor = query.anchor === "now" ? now : query.anchor;
    return bars.span(query.timeframe, anchor, query.skip, query.count, now) ?? "none";
  }

  async rates(query: RatesQuery): Promise<Chunk<RateRow, number> | undefined> {
    const bars = this.#options.market.feed.history.get(query.symbol)?.bars;
    if (bars === undefined) return undefined;
    const now = this.#options.clock.now();
    return bars.rates(query.timeframe, query.from, query.to, query.limit, now);
  }

  async ticks(
    query: TicksQuery,
  ): Promise<Chunk<TickRow, { from: number; skip: number }> | undefined> {
    const history = this.#options.market.feed.history.get(query.symbol)?.history;
    if (history === undefined) return undefined;
    const now = this.#options.clock.now();
    const start = { from: query.from, skip: query.skip };
    return tickRange(history, start, query.to, query.kind, query.limit, now);
  }

  async historyDeals(
    query: HistoryQuery,
    after: HistoryCursor | undefined,
    limit: number,
  ): Promise<Chunk<HistoryDeal, HistoryCursor>> {
    const page = this.#dealPages.page(
      this.#options.deals(),
      query,
      after,
      limit,
      (deal) => deal.ticket,
    );
    return { rows: page.rows.map(historyDeal), next: page.next };
  }

  async historyOrders(
    query: HistoryQuery,
    after: HistoryCursor | undefined,
    limit: number,
  ): Promise<Chunk<TradeOrder, HistoryCursor>> {
    const { deals, orderHistory, filling } = this.#options;
    return this.#orderPages.page(deals(), orderHistory(), query, after, limit, filling);
  }
}
