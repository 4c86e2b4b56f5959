/**
 * The sim's live price feed: the latest tick of each symbol's market history (history/), read
 * at every feed tick. Live quotes and history are the same ticks, so the bar being built now
 * continues the history and a quote the feed published is a tick a GET_TICKS query returns.
 *
 * History is a pure function of (seed, symbol, time); the feed adds three things to it, all
 * persisted with the sim's state: the calibration (a fresh sim starts at each symbol's anchor
 * price), pinned quotes (`set`, `shift`: test, demo and operator hooks; the market continues from
 * the pinned price) and the volatility setting (`setVolatility`, and at restore the configured
 * one, each from its time on). The feed is a state machine driven by `tick(now)`: no timers, no
 * I/O.
 */
import type { Tick, TickRow } from "../../../shared/protocol/index.ts";
import { PriceHistory, type PriceHistoryState } from "./history/price-history.ts";
import type { SessionSchedule } from "./sessions.ts";
import { pointOf, roundPrice, type SymbolSpec } from "./symbols.ts";

export interface Quote {
  readonly symbol: string;
  readonly bid: number;
  readonly ask: number;
  /** Unix ms of the tick. */
  readonly time: number;
}

/**
 * What the feed persists: the history's seed (`rng`, kept for the format), the current quotes
 * (for people reading the file; recomputed on restore) and the history's own state.
 */
export interface FeedState {
  readonly rng: number;
  readonly symbols: Readonly<Record<string, readonly [number, number, number, number]>>;
  readonly path?: PriceHistoryState;
}

interface SymbolFeed {
  spec: SymbolSpec;
  quote: Quote;
  tick: TickRow;
}

export class QuoteFeed {
  readonly history: PriceHistory;
  readonly #feeds = new Map<string, SymbolFeed>();
  #now: number;

  constructor(
    specs: Iterable<SymbolSpec>,
    seed: number,
    nowMs: number,
    schedule: SessionSchedule,
    volatility?: ReadonlyMap<string, number>,
  ) {
    const list = [...specs];
    this.history = new PriceHistory(list, seed, schedule, volatility);
    this.history.calibrate(nowMs);
    this.#now = nowMs;
    for (const spec of list) {
      const tick = this.#lastTick(spec.symbol, nowMs) ?? anchorTick(spec);
      this.#feeds.set(spec.symbol, { spec, tick, quote: quoteOf(spec.symbol, tick) });
    }
  }

  quote(symbol: string): Quote | undefined {
    return this.#feeds.get(symbol)?.quote;
  }

  /** The current tick with MT5's tick fields (GET_TICK). */
  lastTick(symbol: string): Tick | undefined {
    const tick = this.#feeds.get(symbol)?.tick;
    if (tick === undefined) return undefined;
    const [time_msc, bid, ask, last, volume, flags, volume_real] = tick;
    return { time_msc, bid, ask, last, volume, flags, volume_real };
  }

  /** Mid of the current quote, the rate used for currency conversion. */
  mid(symbol: string): number | undefined {
    const quote = this.#feeds.get(symbol)?.quote;
    return quote === undefined ? undefined : (quote.bid + quote.ask) / 2;
  }

  /** Replace a symbol's static properties (trading rules; prices follow the history). */
  updateSpec(spec: SymbolSpec): void {
    const feed = this.#feeds.get(spec.symbol);
    if (feed !== undefined) feed.spec = spec;
  }

  /**
   * Move every symbol `isOpen` allows to its latest history tick at `nowMs`, and return the quotes
   * that changed. Closed symbols have no new ticks, so their quotes go stale.
   */
  tick(nowMs: number, isOpen: (spec: SymbolSpec) => boolean): Quote[] {
    this.#now = nowMs;
    const changed: Quote[] = [];
    for (const feed of this.#feeds.values()) {
      if (!isOpen(feed.spec)) continue;
      const tick = this.#lastTick(feed.spec.symbol, nowMs);
      if (tick === undefined || sameTick(tick, feed.tick)) continue;
      feed.tick = tick;
      feed.quote = quoteOf(feed.spec.symbol, tick);
      changed.push(feed.quote);
    }
    return changed;
  }

  /** Pin a quote (tests, fault injection): a tick at `nowMs`; the market continues from it. */
  set(symbol: string, bid: number, ask: number, nowMs: number): Quote {
    const feed = this.#require(symbol);
    const digits = feed.spec.digits;
    const market = this.history.get(symbol);
    const pinned = market?.history.pin(nowMs, roundPrice(bid, digits), roundPrice(ask, digits));
    this.#now = Math.max(this.#now, nowMs);
    feed.tick = pinned === undefined ? feed.tick : (this.#lastTick(symbol, nowMs) ?? feed.tick);
    feed.quote = quoteOf(symbol, feed.tick);
    return feed.quote;
  }

  /** Shift a symbol's price by `points`, keeping its spread (a move between request and fill). */
  shift(symbol: string, points: number, nowMs: number): Quote {
    const feed = this.#require(symbol);
    const delta = points * pointOf(feed.spec);
    return this.set(symbol, feed.quote.bid + delta, feed.quote.ask + delta, nowMs);
  }

  /**
   * The symbol moves `volatility` times its own daily volatility from `nowMs` on; what the feed
   * has published so far stays as it was.
   */
  setVolatility(symbol: string, volatility: number, nowMs: number): void {
    this.#require(symbol);
    this.history.get(symbol)?.history.mark(Math.max(this.#now, nowMs), volatility);
  }

  /** The volatility multiplier in force for the symbol now. */
  volatility(symbol: string): number | undefined {
    return this.history.get(symbol)?.history.volatilityAfter(this.#now);
  }

  snapshot(): FeedState {
    const symbols: Record<string, [number, number, number, number]> = {};
    for (const [symbol, feed] of this.#feeds) {
      const { bid, ask, time } = feed.quote;
      symbols[symbol] = [(bid + ask) / 2, bid, ask, time];
    }
    return { rng: this.history.seed, symbols, path: this.history.snapshot() };
  }

  /**
   * Continue from a persisted state: the same seed, calibration and pins, so the history is the
   * one the previous run had; a volatility setting that differs from the state's applies from
   * now on. A state written before the history existed keeps this run's calibration. Returns
   * the symbols whose volatility changed (the caller persists the change).
   */
  restore(state: FeedState): string[] {
    if (state.path !== undefined) this.history.restore(state.path, "the sim's state");
    const changed = this.history.applyVolatility(this.#now);
    for (const feed of this.#feeds.values()) {
      const tick = this.#lastTick(feed.spec.symbol, this.#now);
      if (tick === undefined) continue;
      feed.tick = tick;
      feed.quote = quoteOf(feed.spec.symbol, tick);
    }
    return changed;
  }

  #lastTick(symbol: string, nowMs: number): TickRow | undefined {
    return this.history.get(symbol)?.history.lastTick(nowMs);
  }

  #require(symbol: string): SymbolFeed {
    const feed = this.#feeds.get(symbol);
    if (feed === undefined) throw new RangeError(`sim: unknown symbol ${symbol}`);
    return feed;
  }
}

function quoteOf(symbol: string, tick: TickRow): Quote {
  return { symbol, bid: tick[1], ask: tick[2], time: tick[0] };
}

function sameTick(a: TickRow, b: TickRow): boolean {
  return a[0] === b[0] && a[1] === b[1] && a[2] === b[2];
}

/** Before the history begins (a clock before 2015) there is no tick: a stale one at the anchor. */
function anchorTick(spec: SymbolSpec): TickRow {
  const point = pointOf(spec);
  const bid = roundPrice(spec.anchor_price - (spec.typical_spread * point) / 2, spec.digits);
  const ask = roundPrice(bid + spec.typical_spread * point, spec.digits);
  return [0, bid, ask, 0, 0, 6, 0];
}
