/**
 * The sim's price feed: one seeded random walk per symbol (log-normal steps scaled from the
 * symbol's daily volatility, with a weak pull back to its anchor so long runs stay plausible),
 * a floating spread around the typical one, and bid/ask rounded to the symbol's digits.
 *
 * The feed is a pure state machine driven by `tick(now)`: no timers, no I/O. The same seed and the
 * same sequence of tick times give the same quotes. Its state (generator plus each symbol's mid
 * and last quote) is small enough to travel in every state-log record, so a restarted sim
 * continues from where the broker was instead of jumping back to the anchors.
 */
import { Prng } from "./prng.ts";
import { pointOf, roundPrice, type SymbolSpec } from "./symbols.ts";

const DAY_MS = 86_400_000;

/** Fraction of the distance to the anchor recovered per tick; small enough to be invisible. */
const MEAN_REVERSION_PER_TICK = 2e-6;

/** The spread floats ±30 % around the typical value, like a floating-spread demo server. */
const SPREAD_FLOAT = 0.3;

export interface Quote {
  readonly symbol: string;
  readonly bid: number;
  readonly ask: number;
  /** Unix ms of the last tick. */
  readonly time: number;
}

interface SymbolFeed {
  spec: SymbolSpec;
  mid: number;
  quote: Quote;
}

/** What the feed persists: generator state and, per symbol, [mid, bid, ask, time]. */
export interface FeedState {
  readonly rng: number;
  readonly symbols: Readonly<Record<string, readonly [number, number, number, number]>>;
}

export class QuoteFeed {
  readonly #rng: Prng;
  readonly #feeds = new Map<string, SymbolFeed>();
  readonly #tickIntervalMs: number;

  constructor(specs: Iterable<SymbolSpec>, seed: number, nowMs: number, tickIntervalMs: number) {
    this.#rng = new Prng(seed);
    this.#tickIntervalMs = tickIntervalMs;
    for (const spec of specs) {
      const feed: SymbolFeed = { spec, mid: spec.anchor_price, quote: emptyQuote(spec) };
      feed.quote = this.#priced(feed, nowMs);
      this.#feeds.set(spec.symbol, feed);
    }
  }

  quote(symbol: string): Quote | undefined {
    return this.#feeds.get(symbol)?.quote;
  }

  /** Mid of the current quote, the rate used for currency conversion. */
  mid(symbol: string): number | undefined {
    const quote = this.#feeds.get(symbol)?.quote;
    return quote === undefined ? undefined : (quote.bid + quote.ask) / 2;
  }

  /** Replace a symbol's static properties (digits and spread apply from the next tick). */
  updateSpec(spec: SymbolSpec): void {
    const feed = this.#feeds.get(spec.symbol);
    if (feed !== undefined) feed.spec = spec;
  }

  /**
   * Move every symbol whose session is open by one random step, in table order, and return the
   * new quotes. Closed symbols draw nothing, so their quotes go stale.
   */
  tick(nowMs: number, isOpen: (spec: SymbolSpec) => boolean): Quote[] {
    const changed: Quote[] = [];
    for (const feed of this.#feeds.values()) {
      if (!isOpen(feed.spec)) continue;
      const spec = feed.spec;
      const sigma = spec.daily_volatility * Math.sqrt(this.#tickIntervalMs / DAY_MS);
      const drift = MEAN_REVERSION_PER_TICK * Math.log(spec.anchor_price / feed.mid);
      feed.mid *= Math.exp(drift + sigma * this.#rng.normal());
      feed.quote = this.#priced(feed, nowMs);
      changed.push(feed.quote);
    }
    return changed;
  }

  /** Pin a quote (tests, fault injection); the walk continues from its mid. */
  set(symbol: string, bid: number, ask: number, nowMs: number): Quote {
    const feed = this.#require(symbol);
    const digits = feed.spec.digits;
    feed.quote = {
      symbol,
      bid: roundPrice(bid, digits),
      ask: roundPrice(ask, digits),
      time: nowMs,
    };
    feed.mid = (feed.quote.bid + feed.quote.ask) / 2;
    return feed.quote;
  }

  /** Shift a symbol's price by `points`, keeping its spread (a move between request and fill). */
  shift(symbol: string, points: number, nowMs: number): Quote {
    const feed = this.#require(symbol);
    const delta = points * pointOf(feed.spec);
    return this.set(symbol, feed.quote.bid + delta, feed.quote.ask + delta, nowMs);
  }

  snapshot(): FeedState {
    const symbols: Record<string, [number, number, number, number]> = {};
    for (const [symbol, feed] of this.#feeds) {
      symbols[symbol] = [feed.mid, feed.quote.bid, feed.quote.ask, feed.quote.time];
    }
    return { rng: this.#rng.state, symbols };
  }

  /** Continue from a persisted state; symbols added since keep their fresh anchor quote. */
  restore(state: FeedState): void {
    this.#rng.state = state.rng;
    for (const [symbol, values] of Object.entries(state.symbols)) {
      const feed = this.#feeds.get(symbol);
      if (feed === undefined) continue;
      const [mid, bid, ask, time] = values;
      feed.mid = mid;
      feed.quote = { symbol, bid, ask, time };
    }
  }

  #priced(feed: SymbolFeed, nowMs: number): Quote {
    const spec = feed.spec;
    const point = pointOf(spec);
    const wobble = 1 + SPREAD_FLOAT * (2 * this.#rng.next() - 1);
    const spread = Math.max(1, Math.round(spec.typical_spread * wobble));
    const bid = roundPrice(feed.mid - (spread * point) / 2, spec.digits);
    const ask = roundPrice(bid + spread * point, spec.digits);
    return { symbol: spec.symbol, bid, ask, time: nowMs };
  }

  #require(symbol: string): SymbolFeed {
    const feed = this.#feeds.get(symbol);
    if (feed === undefined) throw new RangeError(`sim: unknown symbol ${symbol}`);
    return feed;
  }
}

function emptyQuote(spec: SymbolSpec): Quote {
  return { symbol: spec.symbol, bid: 0, ask: 0, time: 0 };
}
