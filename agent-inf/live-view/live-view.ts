/**
 * agent-inf's live view of one gateway's account, kept from its event stream (sync.ts):
 * open positions, the latest quote per symbol, and the account and symbol specifications the
 * order path last read. The order path (orders/order-service.ts) takes from here what is fresh
 * enough and asks the gateway only for the rest, so an order no longer costs three queries.
 *
 * Freshness, so the risk checks see what they saw before (same fields, same meaning):
 * - positions only while the stream is LIVE and no refresh is owed (`positionsInSync`);
 * - a quote only while the stream delivers it (received within quoteIdleMs), laid over a
 *   specification read within symbolInfoMaxAgeMs; quote_time stays the broker's tick time, so
 *   the stale-quote and spread checks judge the same values as with a query;
 * - the account only within accountMaxAgeMs of reading it (a fill also triggers a fresh read in
 *   the background; the risk checks use only its equity, which a fill barely changes).
 */
import {
  type AccountInfo,
  MAX_POSITIONS_PER_REPLY,
  type Position,
  type SymbolInfo,
} from "../../shared/protocol/index.ts";

/** Positions one account can have here: what a GET_POSITIONS or RESYNC reply may list. */
const MAX_POSITIONS = MAX_POSITIONS_PER_REPLY;

export interface LiveQuote {
  readonly symbol: string;
  readonly bid: number;
  readonly ask: number;
  /** Tick time, Unix ms (gateway / broker clock). */
  readonly time: number;
}

export interface FreshnessLimits {
  readonly accountMaxAgeMs: number;
  readonly symbolInfoMaxAgeMs: number;
  readonly quoteIdleMs: number;
}

export const DEFAULT_FRESHNESS: FreshnessLimits = {
  accountMaxAgeMs: 1000,
  symbolInfoMaxAgeMs: 5000,
  quoteIdleMs: 2000,
};

/** What orders/order-service.ts may use instead of a query; undefined means "ask the gateway". */
export interface LiveMarket {
  positions(): readonly Position[] | undefined;
  account(): AccountInfo | undefined;
  symbol(name: string): SymbolInfo | undefined;
  /** What the order path had to read from the gateway, kept for the next order. */
  remember(data: { readonly account?: AccountInfo; readonly symbol?: SymbolInfo }): void;
  /**
   * One of our orders filled into position `ticket`. The gateway may send the FILLED reply
   * before the DEAL event, so a view in sync that does not hold it yet stops answering for
   * positions until the stream has caught up: the exposure ledger (risk/exposure-ledger.ts)
   * counts on a snapshot read after a fill showing it.
   */
  expectPosition(ticket: number): void;
}

interface Timed<T> {
  readonly value: T;
  /** Monotonic ms when it was read or received. */
  readonly at: number;
}

export class LiveView implements LiveMarket {
  readonly #limits: FreshnessLimits;
  readonly #monotonic: () => number;
  readonly #positions = new Map<number, Position>();
  readonly #quotes = new Map<string, Timed<LiveQuote>>();
  readonly #specs = new Map<string, Timed<SymbolInfo>>();
  #account: Timed<AccountInfo> | undefined;
  /** Set by the sync: the stream is LIVE and no positions refresh is owed. */
  positionsInSync = false;
  /** Set by the sync: positions need a RESYNC (expectPosition found one missing). */
  onPositionsOwed: (() => void) | undefined;

  constructor(monotonic: () => number, limits: FreshnessLimits = DEFAULT_FRESHNESS) {
    this.#monotonic = monotonic;
    this.#limits = limits;
  }

  // ----- LiveMarket (orders/order-service.ts) ------------------------------------------------

  positions(): readonly Position[] | undefined {
    return this.positionsInSync ? [...this.#positions.values()] : undefined;
  }

  account(): AccountInfo | undefined {
    const account = this.#account;
    if (account === undefined) return undefined;
    return this.#monotonic() - account.at <= this.#limits.accountMaxAgeMs
      ? account.value
      : undefined;
  }

  symbol(name: string): SymbolInfo | undefined {
    const spec = this.#specs.get(name);
    const quote = this.#quotes.get(name);
    const now = this.#monotonic();
    if (spec === undefined || quote === undefined) return undefined;
    if (now - spec.at > this.#limits.symbolInfoMaxAgeMs) return undefined;
    if (now - quote.at > this.#limits.quoteIdleMs) return undefined;
    // The specification's own quote may be newer (read after the last tick arrived)
    if (spec.value.quote_time >= quote.value.time) return spec.value;
    const { bid, ask, time } = quote.value;
    return {
      ...spec.value,
      bid,
      ask,
      quote_time: time,
      spread: Math.round((ask - bid) / spec.value.point),
    };
  }

  remember(data: { readonly account?: AccountInfo; readonly symbol?: SymbolInfo }): void {
    const at = this.#monotonic();
    if (data.account !== undefined) this.#account = { value: data.account, at };
    if (data.symbol !== undefined) this.#specs.set(data.symbol.symbol, { value: data.symbol, at });
  }

  expectPosition(ticket: number): void {
    if (!this.positionsInSync || this.#positions.has(ticket)) return;
    this.positionsInSync = false;
    this.onPositionsOwed?.();
  }

  // ----- the stream (sync.ts) ----------------------------------------------------------------

  /** Every open position as last known (also while not in sync), by ticket. */
  get knownPositions(): ReadonlyMap<number, Position> {
    return this.#positions;
  }

  quote(symbol: string): LiveQuote | undefined {
    return this.#quotes.get(symbol)?.value;
  }

  quotes(): LiveQuote[] {
    return [...this.#quotes.values()].map((quote) => quote.value);
  }

  setQuote(quote: LiveQuote): void {
    this.#quotes.set(quote.symbol, { value: quote, at: this.#monotonic() });
  }

  /** A symbol nobody streams any more: its quote would only go stale. */
  forgetQuote(symbol: string): void {
    this.#quotes.delete(symbol);
  }

  /** False (and nothing kept) for a new ticket past MAX_POSITIONS: only a RESYNC adds more. */
  upsertPosition(position: Position): boolean {
    if (!this.#positions.has(position.ticket) && this.#positions.size >= MAX_POSITIONS) {
      return false;
    }
    this.#positions.set(position.ticket, position);
    return true;
  }

  removePosition(ticket: number): boolean {
    return this.#positions.delete(ticket);
  }

  replacePositions(positions: readonly Position[]): void {
    this.#positions.clear();
    for (const position of positions) this.#positions.set(position.ticket, position);
  }
}
