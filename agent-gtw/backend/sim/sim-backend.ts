/**
 * The simulated MT5 broker: the gateway's embedded default backend, meant to be mistaken for a
 * demo account. It quotes (quotes.ts), checks and executes requests with MT5's retcodes
 * (trading.ts), fires SL/TP and stop-out (triggers.ts), keeps the account's money right
 * (account/), and keeps its books in a state directory that survives the gateway (store.ts):
 * a trade is fdatasync'ed before its result is returned.
 *
 * Besides the Backend interface it offers hooks a test or a demo can use to steer the market:
 * setQuote, queuePriceMove, setFeedPaused, updateSymbol, setTradeAllowed, setForceFilling, and
 * settle() to wait until everything triggered so far is durable and published.
 */
import type { TimerHandle } from "../../../shared/clock.ts";
import { describeError, FaultCode } from "../../../shared/errors.ts";
import { type Logger, silentLogger } from "../../../shared/log.ts";
import type {
  AccountInfo,
  Deal,
  FillingMode,
  OrderCheckResult,
  Position,
  SymbolInfo,
  TradeOrder,
  TradeResult,
} from "../../../shared/protocol/index.ts";
import {
  type Backend,
  BackendError,
  type BackendEvent,
  type BackendListener,
  type CloseOrder,
  type DealQuery,
  type LinkStatus,
  type ModifyOrder,
  type OpenOrder,
} from "../backend.ts";
import type { MarketReads } from "../market-reads.ts";
import type {
  CancelPendingOrder,
  CheckOrder,
  CloseByOrder,
  MarginQuery,
  ModifyPendingOrder,
  OrderFilter,
  PlaceOrder,
  ProfitQuery,
} from "../pending.ts";
import { accountFigures } from "./account/figures.ts";
import { CurrencyConverter, type MoneyContext, tickValue } from "./account/margin.ts";
import type { Book, BookRecord } from "./book.ts";
import type { Fill } from "./fills.ts";
import { SimMarketReads } from "./history/sim-market-reads.ts";
import { Market } from "./market.ts";
import {
  DEFAULT_COMPACT_EVERY,
  DEFAULT_STALE_QUOTE_MS,
  DEFAULT_TICK_INTERVAL_MS,
  positiveInteger,
  type ResolvedAccount,
  resolveAccount,
  resolveVolatility,
  SIM_SERVER_NAME,
  type SimBackendOptions,
} from "./options.ts";
import { closeBy } from "./pending/close-by.ts";
import { PendingEngine } from "./pending/engine.ts";
import { calcMargin, calcProfit, checkOrder, listOrders } from "./pending/reads.ts";
import { type PendingChange, runExpirations, runPendingTriggers } from "./pending/triggers.ts";
import { type Quote, QuoteFeed } from "./quotes.ts";
import { loadBook } from "./restore.ts";
import { SimStore, type StoreStats } from "./store.ts";
import {
  pointOf,
  requestFilling,
  resolveSymbols,
  type SymbolOverride,
  staticInfo,
} from "./symbols.ts";
import { type Outcome, TradingEngine } from "./trading.ts";
import { runStopOut, runStops, type TriggerContext } from "./triggers.ts";

export type { SimBackendOptions } from "./options.ts";

interface Running {
  readonly book: Book;
  readonly engine: TradingEngine;
  readonly pending: PendingEngine;
  readonly store: SimStore;
  readonly triggers: TriggerContext;
  readonly timer: TimerHandle;
}

export class SimBackend implements Backend {
  readonly kind = "sim" as const;
  readonly market: MarketReads;
  readonly #options: SimBackendOptions;
  readonly #logger: Logger;
  readonly #account: ResolvedAccount;
  readonly #market: Market;
  readonly #money: MoneyContext;
  readonly #tickIntervalMs: number;
  readonly #settings: TradingEngine["settings"];
  readonly #listeners = new Set<BackendListener>();
  readonly #paused = new Set<string>();
  #pausedAll = false;
  #running: Running | undefined;

  constructor(options: SimBackendOptions) {
    this.#options = options;
    this.#logger = options.logger?.child("sim") ?? silentLogger;
    this.#account = resolveAccount(options.account);
    this.#tickIntervalMs =
      positiveInteger("tickIntervalMs", options.tickIntervalMs) ?? DEFAULT_TICK_INTERVAL_MS;
    const staleQuoteMs =
      positiveInteger("staleQuoteMs", options.staleQuoteMs) ?? DEFAULT_STALE_QUOTE_MS;
    const specs = resolveSymbols(options.symbols);
    const sessions = options.sessions ?? "forex";
    const volatility = resolveVolatility(options.volatility, [...specs.keys()]);
    const feed = new QuoteFeed(
      specs.values(),
      options.seed,
      options.clock.now(),
      sessions,
      volatility,
    );
    this.#market = new Market(specs, feed, sessions, staleQuoteMs);
    this.#money = {
      market: this.#market,
      converter: new CurrencyConverter(this.#market),
      currency: this.#account.currency,
      leverage: this.#account.leverage,
      marginMode: this.#account.marginMode,
    };
    // Fail now, not on the first trade, when a symbol's money cannot reach the deposit currency
    for (const spec of specs.values()) {
      this.#money.converter.route(spec.currency_profit, this.#account.currency);
      this.#money.converter.route(spec.currency_margin, this.#account.currency);
    }
    this.#settings = {
      tradeAllowed: options.tradeAllowed ?? true,
      forceFilling: options.forceFilling,
      maxPositions: positiveInteger("maxPositions", options.maxPositions),
      maxPendingOrders: positiveInteger("maxPendingOrders", options.maxPendingOrders),
      maxOrdersPerSecond: positiveInteger("maxOrdersPerSecond", options.maxOrdersPerSecond),
    };
    this.market = new SimMarketReads({
      market: this.#market,
      clock: options.clock,
      symbolInfo: (symbol) => this.symbolInfo(symbol),
      deals: () => this.#require().book.deals,
      orderHistory: () => this.#require().book.orderHistory,
      filling: (symbol) => {
        const spec = this.#market.spec(symbol);
        return spec === undefined ? "FOK" : requestFilling(spec, this.#settings.forceFilling);
      },
    });
  }

  async start(): Promise<void> {
    if (this.#running !== undefined) return;
    const clock = this.#options.clock;
    let book: Book | undefined;
    const store = new SimStore({
      dir: this.#options.stateDir,
      account: {
        login: this.#account.login,
        currency: this.#account.currency,
        margin_mode: this.#account.marginMode,
      },
      logger: this.#logger,
      clock: this.#options.clock,
      compactEvery:
        positiveInteger("compactEvery", this.#options.compactEvery) ?? DEFAULT_COMPACT_EVERY,
      source: () => ({
        book: book!.snapshot(),
        deals: book!.deals,
        feed: this.#market.feed.snapshot(),
      }),
    });
    const loaded = loadBook(store, {
      stateDir: this.#options.stateDir,
      account: this.#account,
      feed: this.#market.feed,
    });
    book = loaded.book;
    store.open();
    if (loaded.volatilityChanged.length > 0) {
      // The change must outlive a crash, or the next start would re-render what was served
      try {
        await store.append({ type: "feed" }, this.#market.feed.snapshot());
      } catch (error) {
        await store.close();
        throw error;
      }
      this.#logger.info("Volatility setting applies from now on", {
        symbols: loaded.volatilityChanged.join(","),
      });
    }
    const engine = new TradingEngine(clock, book, this.#market, this.#money, this.#settings);
    const pending = new PendingEngine({
      clock,
      book,
      market: this.#market,
      money: this.#money,
      trading: engine,
    });
    const triggers: TriggerContext = {
      book,
      market: this.#market,
      money: this.#money,
      logger: this.#logger,
      stopOutLevel: this.#account.stopOutLevel,
      now: () => clock.now(),
    };
    const timer = clock.setInterval(() => this.#tick(), this.#tickIntervalMs);
    this.#running = { book, engine, pending, store, triggers, timer };
    this.#logger.info("Simulated broker started", {
      login: this.#account.login,
      balance: book.balance,
      positions: book.positions.size,
      orders: book.orders.size,
      deals: book.deals.length,
    });
    // Quotes restored from disk are as old as the last record; refresh them at once
    this.#tick();
  }

  async stop(): Promise<void> {
    const running = this.#running;
    if (running === undefined) return;
    this.#running = undefined;
    running.timer.cancel();
    try {
      // Remember where the feed was, so quotes resume there rather than at the last trade
      await running.store.append({ type: "feed" }, this.#market.feed.snapshot());
    } catch (error) {
      this.#logger.error("Could not record feed state at stop", { error: describeError(error) });
    } finally {
      await running.store.close();
    }
  }

  link(): LinkStatus {
    return { state: "UP", serverTime: this.#options.clock.now(), serverOffsetMs: 0 };
  }

  async account(): Promise<AccountInfo> {
    const { book } = this.#require();
    const figures = accountFigures(
      this.#money,
      this.#market,
      book.balance,
      book.positions.values(),
    );
    return {
      login: this.#account.login,
      server: SIM_SERVER_NAME,
      name: this.#account.name,
      currency: this.#account.currency,
      ...figures,
      leverage: this.#account.leverage,
      margin_mode: this.#account.marginMode,
      trade_allowed: this.#settings.tradeAllowed,
      margin_so_call: this.#account.marginCallLevel,
      margin_so_so: this.#account.stopOutLevel,
    };
  }

  async positions(symbol?: string): Promise<Position[]> {
    const { book, engine } = this.#require();
    const views: Position[] = [];
    for (const position of book.positions.values()) {
      if (symbol === undefined || position.symbol === symbol) views.push(engine.view(position));
    }
    return views;
  }

  async symbolInfo(symbol: string): Promise<SymbolInfo | undefined> {
    const spec = this.#market.spec(symbol);
    if (spec === undefined) return undefined;
    const quote = this.#market.quote(symbol);
    const point = pointOf(spec);
    return {
      ...staticInfo(spec),
      point,
      tick_value: tickValue(this.#money, spec),
      bid: quote.bid,
      ask: quote.ask,
      quote_time: quote.time,
      spread: Math.round((quote.ask - quote.bid) / point),
      session_open: this.#market.isOpen(spec, this.#options.clock.now()),
    };
  }

  async open(order: OpenOrder): Promise<TradeResult> {
    const running = this.#require();
    return this.#commit(running, running.engine.open(order));
  }

  async close(order: CloseOrder): Promise<TradeResult> {
    const running = this.#require();
    return this.#commit(running, running.engine.close(order));
  }

  async modify(order: ModifyOrder): Promise<TradeResult> {
    const running = this.#require();
    return this.#commit(running, running.engine.modify(order));
  }

  async deals(query: DealQuery): Promise<Deal[]> {
    const { book } = this.#require();
    return book.dealsBetween(query.from, query.to, query.magic);
  }

  // Pending orders and pre-trade calculations (pending/)

  async placeOrder(order: PlaceOrder): Promise<TradeResult> {
    const running = this.#require();
    return this.#commit(running, running.pending.place(order));
  }

  async modifyOrder(order: ModifyPendingOrder): Promise<TradeResult> {
    const running = this.#require();
    return this.#commit(running, running.pending.modify(order));
  }

  async cancelOrder(order: CancelPendingOrder): Promise<TradeResult> {
    const running = this.#require();
    return this.#commit(running, running.pending.cancel(order));
  }

  async closeBy(order: CloseByOrder): Promise<TradeResult> {
    const running = this.#require();
    return this.#commit(running, closeBy(running.pending.context, order));
  }

  async orders(filter?: OrderFilter): Promise<TradeOrder[]> {
    return listOrders(this.#require().pending.context, filter);
  }

  async orderCheck(order: CheckOrder): Promise<OrderCheckResult> {
    const { pending } = this.#require();
    return checkOrder(pending.context, pending, order);
  }

  async calcMargin(query: MarginQuery): Promise<number | undefined> {
    return calcMargin(this.#require().pending.context, query);
  }

  async calcProfit(query: ProfitQuery): Promise<number | undefined> {
    return calcProfit(this.#require().pending.context, query);
  }

  subscribe(listener: BackendListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  // -------------------------------------------------------------------------------------------
  // Hooks for tests and demos

  /** Pin a symbol's quote as if it ticked there (ask defaults to bid + typical spread). */
  async setQuote(symbol: string, bid: number, ask?: number): Promise<void> {
    const spec = this.#market.spec(symbol);
    if (spec === undefined) throw new RangeError(`sim: unknown symbol ${symbol}`);
    this.#pinQuote(symbol, bid, ask ?? bid + spec.typical_spread * pointOf(spec));
    await this.settle();
  }

  /**
   * The operator's price move (`agent-gtw sim price|jump`): a pinned tick the market continues
   * from, durable in the state log (so a restart serves it as history) before this resolves,
   * with the SL/TP, pending orders and stop-out it triggers already durable and published.
   */
  async pinPrice(symbol: string, bid: number, ask: number): Promise<Quote> {
    const running = this.#require();
    const quote = this.#pinQuote(symbol, bid, ask);
    await this.#append(running, { type: "feed" });
    await this.settle();
    return quote;
  }

  /** The volatility multiplier in force for a symbol (undefined: unknown symbol). */
  volatility(symbol: string): number | undefined {
    return this.#market.feed.volatility(symbol);
  }

  /**
   * From now on the symbol moves `multiplier` times its own daily volatility (`agent-gtw sim
   * volatility`); durable before it resolves. The next start applies the configured setting again.
   */
  async setVolatility(symbol: string, multiplier: number): Promise<void> {
    const running = this.#require();
    this.#market.feed.setVolatility(symbol, multiplier, this.#options.clock.now());
    await this.#append(running, { type: "feed" });
  }

  #pinQuote(symbol: string, bid: number, ask: number): Quote {
    const quote = this.#market.feed.set(symbol, bid, ask, this.#options.clock.now());
    this.#emit([{ type: "QUOTE", ...quote }]);
    this.#trigger(new Set([symbol]));
    return quote;
  }

  /** The next trade request on `symbol` meets a price `points` away from its quote. */
  queuePriceMove(symbol: string, points: number): void {
    this.#require().engine.queuePriceMove(symbol, points);
  }

  /** Stop (or resume) ticks for one symbol or, without a symbol, for all: a feed outage. */
  setFeedPaused(paused: boolean, symbol?: string): void {
    if (symbol === undefined) this.#pausedAll = paused;
    else if (paused) this.#paused.add(symbol);
    else this.#paused.delete(symbol);
  }

  /** Change a symbol's properties while running, e.g. `{ symbol, trade_mode: "CLOSE_ONLY" }`. */
  updateSymbol(override: SymbolOverride): void {
    this.#market.update(override);
  }

  setTradeAllowed(allowed: boolean): void {
    this.#settings.tradeAllowed = allowed;
  }

  setForceFilling(mode: FillingMode | undefined): void {
    this.#settings.forceFilling = mode;
  }

  /** State-log counters of the running sim (records since the snapshot, syncs, compactions). */
  stats(): StoreStats {
    return this.#require().store.stats();
  }

  /** Resolves once every trade and trigger so far is durable and its events are published. */
  async settle(): Promise<void> {
    await this.#running?.store.drain();
  }

  // -------------------------------------------------------------------------------------------

  #tick(): void {
    const now = this.#options.clock.now();
    const running = this.#running;
    if (running !== undefined && running.book.orders.size > 0) {
      this.#publish(running, runExpirations(running.pending.context, now));
    }
    const quotes = this.#market.feed.tick(
      now,
      (spec) =>
        !this.#pausedAll && !this.#paused.has(spec.symbol) && this.#market.isOpen(spec, now),
    );
    if (quotes.length === 0) return;
    this.#emit(quotes.map((quote): BackendEvent => ({ type: "QUOTE", ...quote })));
    this.#trigger(new Set(quotes.map((quote) => quote.symbol)));
  }

  /**
   * Pending orders on the symbols that moved, then SL/TP, then stop-out; durable first, then
   * published. A position a pending order just opened is already subject to its stops.
   */
  #trigger(symbols: ReadonlySet<string>): void {
    const running = this.#running;
    if (running === undefined) return;
    if (running.book.orders.size > 0) {
      this.#publish(running, runPendingTriggers(running.pending.context, symbols));
    }
    if (running.book.positions.size === 0) return;
    const fills: Fill[] = [...runStops(running.triggers, symbols), ...runStopOut(running.triggers)];
    if (fills.length === 0) return;
    let durable: Promise<void> | undefined;
    for (const fill of fills) durable = this.#append(running, fill.record);
    const events = fills.flatMap((fill) => fill.events);
    durable?.then(
      () => this.#emit(events),
      (error: unknown) =>
        this.#logger.error("Triggered deal not durable", { error: describeError(error) }),
    );
  }

  /** Make changes the server made on its own durable, then publish their events. */
  #publish(running: Running, changes: readonly PendingChange[]): void {
    if (changes.length === 0) return;
    let durable: Promise<void> | undefined;
    for (const change of changes) durable = this.#append(running, change.record);
    const events = changes.flatMap((change) => change.events);
    durable?.then(
      () => this.#emit(events),
      (error: unknown) =>
        this.#logger.error("Pending order change not durable", { error: describeError(error) }),
    );
  }

  async #commit(running: Running, outcome: Outcome): Promise<TradeResult> {
    let durable: Promise<void> | undefined;
    for (const record of outcome.records) durable = this.#append(running, record);
    const moved = outcome.events.some((event) => event.type === "QUOTE");
    if (durable === undefined) {
      this.#emit(outcome.events);
    } else {
      try {
        await durable;
      } catch (error) {
        // The trade is in memory but maybe not on disk: its outcome is unknown to the caller
        throw new BackendError(
          FaultCode.BACKEND_TIMEOUT,
          "sim: trade executed but its state could not be made durable",
          { cause: error },
        );
      }
      this.#emit(outcome.events);
    }
    // A request that met a moved price is a tick: stops on that symbol may now be hit
    if (moved && this.#running === running) this.#trigger(symbolsOf(outcome.events));
    return outcome.result;
  }

  #append(running: Running, record: BookRecord): Promise<void> {
    return running.store.append(record, this.#market.feed.snapshot());
  }

  #emit(events: readonly BackendEvent[]): void {
    for (const event of events) {
      for (const listener of this.#listeners) {
        try {
          listener(event);
        } catch (error) {
          this.#logger.error("Backend listener threw", { error: describeError(error) });
        }
      }
    }
  }

  #require(): Running {
    const running = this.#running;
    if (running === undefined) {
      throw new BackendError(FaultCode.BACKEND_UNAVAILABLE, "sim: backend is not running");
    }
    return running;
  }
}

function symbolsOf(events: readonly BackendEvent[]): Set<string> {
  const symbols = new Set<string>();
  for (const event of events) if (event.type === "QUOTE") symbols.add(event.symbol);
  return symbols;
}
