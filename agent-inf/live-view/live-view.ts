/**
 * agent-inf's live view of one gateway's account, kept from its event stream (sync.ts):
 * open positions, pending orders, the latest quote per symbol, and the account and symbol
 * specifications the order path last read. The order path (orders/order-service.ts) takes from here what is fresh
 * enough and asks the gateway only for the rest, so an order no longer costs three queries.
 *
 * Freshness, so the risk checks see what they saw before (same fields, same meaning):
 * - positions only while the stream is LIVE and no refresh is owed (`positionsInSync`);
 * - pending orders likewise, once a RESYNC brought them (a backend without pending orders
 *   sends none, and then they are asked for);
 * - a quote only while the stream delivers it (received within quoteIdleMs), laid over a
 *   specification read within symbolInfoMaxAgeMs; quote_time stays the broker's tick time, so
 *   the stale-quote and spread checks judge the same values as with a query;
 * - the account only within accountMaxAgeMs of reading it (a fill also triggers a fresh read in
 *   the background; the risk checks use only its equity, which a fill barely changes).
 */
import {
  type AccountInfo,
  MAX_ORDERS_PER_REPLY,
  MAX_POSITIONS_PER_REPLY,
  type Position,
  type SymbolInfo,
  type TradeOrder,
  type TradeOrderState,
} from "../../shared/protocol/index.ts";

/** Positions one account can have here: what a GET_POSITIONS or RESYNC reply may list. */
const MAX_POSITIONS = MAX_POSITIONS_PER_REPLY;
const MAX_ORDERS = MAX_ORDERS_PER_REPLY;
/** Order states after which an order is no longer pending (the others are still in the book). */
const LEFT_THE_BOOK: ReadonlySet<TradeOrderState> = new Set([
  "FILLED",
  "CANCELED",
  "EXPIRED",
  "REJECTED",
]);

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
  /** The pending orders, under the same freshness as the positions. */
  orders(): readonly TradeOrder[] | undefined;
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
  /** One of our PLACEs made order `ticket`: as expectPosition, for the orders. */
  expectOrder(ticket: number): void;
  /** One of our CANCELs removed order `ticket` (its event may come after the reply). */
  orderGone(ticket: number): void;
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
  /** undefined until a RESYNC brings them (none from a backend without pending orders). */
  #orders: Map<number, TradeOrder> | undefined;
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

  orders(): readonly TradeOrder[] | undefined {
    const orders = this.#orders;
    return this.positionsInSync && orders !== undefined ? [...orders.values()] : undefined;
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

  expectOrder(ticket: number): void {
    const orders = this.#orders;
    if (!this.positionsInSync || orders === undefined || orders.has(ticket)) return;
    // Or it filled already: its position then shows under the same ticket
    if (this.#positions.has(ticket)) return;
    this.positionsInSync = false;
    this.onPositionsOwed?.();
  }

  orderGone(ticket: number): void {
    this.#orders?.delete(ticket);
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

  /** Every pending order as last known (undefined: the gateway sends none), by ticket. */
  get knownOrders(): ReadonlyMap<number, TradeOrder> | undefined {
    return this.#orders;
  }

  /** An order event's order: kept while PLACED, dropped once it left the book. */
  applyOrder(order: TradeOrder): boolean {
    const orders = this.#orders;
    if (orders === undefined) return true;
    if (LEFT_THE_BOOK.has(order.state)) {
      orders.delete(order.ticket);
      return true;
    }
    if (!orders.has(order.ticket) && orders.size >= MAX_ORDERS) return false;
    orders.set(order.ticket, order);
    return true;
  }

  /** A RESYNC's orders; undefined when the gateway's backend has none (asked per order then). */
  replaceOrders(orders: readonly TradeOrder[] | undefined): void {
    this.#orders =
      orders === undefined ? undefined : new Map(orders.map((order) => [order.ticket, order]));
  }

  replacePositions(positions: readonly Position[]): void {
    this.#positions.clear();
    for (const position of positions) this.#positions.set(position.ticket, position);
  }
}
