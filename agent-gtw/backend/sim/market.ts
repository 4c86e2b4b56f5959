/**
 * What the simulated server knows about the market at this instant: the symbol table, the feed's
 * current quotes, whether each symbol's session is open and whether its quote is fresh. Shared by
 * the money maths (as a MarketView), the trading checks and the trigger loop.
 */
import type { MarketView } from "./account/margin.ts";
import type { Quote, QuoteFeed } from "./quotes.ts";
import { isSessionOpen, type SessionSchedule } from "./sessions.ts";
import { type SymbolOverride, type SymbolSpec, validateSpec } from "./symbols.ts";

export class Market implements MarketView {
  readonly #specs: Map<string, SymbolSpec>;
  readonly #feed: QuoteFeed;
  readonly #schedule: SessionSchedule;
  readonly #staleQuoteMs: number;

  constructor(
    specs: Map<string, SymbolSpec>,
    feed: QuoteFeed,
    schedule: SessionSchedule,
    staleQuoteMs: number,
  ) {
    this.#specs = specs;
    this.#feed = feed;
    this.#schedule = schedule;
    this.#staleQuoteMs = staleQuoteMs;
  }

  get feed(): QuoteFeed {
    return this.#feed;
  }

  spec(symbol: string): SymbolSpec | undefined {
    return this.#specs.get(symbol);
  }

  specs(): Iterable<SymbolSpec> {
    return this.#specs.values();
  }

  mid(symbol: string): number | undefined {
    return this.#feed.mid(symbol);
  }

  quote(symbol: string): Quote {
    const quote = this.#feed.quote(symbol);
    if (quote === undefined) throw new RangeError(`sim: unknown symbol ${symbol}`);
    return quote;
  }

  isOpen(spec: SymbolSpec, nowMs: number): boolean {
    return isSessionOpen(this.#schedule, spec.session, nowMs);
  }

  /**
   * Whether the symbol has no usable quote (10021). Judged only while the session is open: over
   * the weekend every quote is old and the honest answer is MARKET_CLOSED, not "no prices".
   */
  isStale(spec: SymbolSpec, nowMs: number): boolean {
    if (!this.isOpen(spec, nowMs)) return false;
    return nowMs - this.quote(spec.symbol).time > this.#staleQuoteMs;
  }

  /** Change a symbol's properties at run time, as a broker can (e.g. switch it to close-only). */
  update(override: SymbolOverride): SymbolSpec {
    const current = this.#specs.get(override.symbol);
    if (current === undefined) throw new RangeError(`sim: unknown symbol ${override.symbol}`);
    const spec: SymbolSpec = { ...current, ...override };
    validateSpec(spec);
    this.#specs.set(spec.symbol, spec);
    this.#feed.updateSpec(spec);
    return spec;
  }
}
