/**
 * agent-inf's live view of one gateway's account, kept from its event stream (sync.ts):
 * open positions, pending orders, the latest quote per symbol, and the account and symbol
 * specifications the order path last read. The order path (orders/order-service.ts) takes from
 * here what is fresh enough and asks the gateway only for the rest, so a steady-state order
 * costs one gateway request: the order itself (issue 17 §1).
 *
 * Freshness, so the risk checks see what they saw before (same fields, same meaning):
 * - positions only while the stream is LIVE, no refresh is owed (`positionsInSync`) and no DEAL
 *   is waiting for the reply of one of our orders (own-orders.ts). Our own fills are applied
 *   from their replies (`ownOrder`), which carry what their DEAL lacks (the stops, the lots left
 *   after a CLOSE); a fill a reply cannot fully explain, and every other deal, still costs a
 *   RESYNC;
 * - pending orders likewise, once a RESYNC brought them (a backend without pending orders
 *   sends none, and then they are asked for); our PLACEs and CANCELs are told after their
 *   reply (`expectOrder`, `orderGone`);
 * - a quote only while the stream delivers it (received within quoteIdleMs), laid over a
 *   specification read within symbolInfoMaxAgeMs; quote_time stays the broker's tick time, so
 *   the stale-quote and spread checks judge the same values as with a query;
 * - the account only within accountMaxAgeMs of reading it. Once it is past half that age, using
 *   it (or a fill) asks for a fresh read in the background, so a steady flow of orders never
 *   waits for one; the risk checks use only its equity, which a fill barely changes.
 */
import {
  type AccountInfo,
  type Deal,
  MAX_ORDERS_PER_REPLY,
  MAX_POSITIONS_PER_REPLY,
  type Position,
  type Side,
  type SymbolInfo,
  type TradeOrder,
  type TradeOrderState,
  type TradeReply,
} from "../../shared/protocol/index.ts";
import { type DealVerdict, OwnOrders } from "./own-orders.ts";

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
   * One of our orders is about to be sent; `finish` it with the gateway's FILLED reply (or
   * undefined for any other answer) before its reservation is settled. The view applies the
   * fill, or stops answering for positions until a RESYNC has caught up: the exposure ledger
   * (risk/exposure-ledger.ts) counts on a snapshot read after a fill showing it.
   */
  ownOrder(order: OwnOrder): OwnOrderHandle;
  /** One of our PLACEs made order `ticket`: the view stops answering until it shows it. */
  expectOrder(ticket: number): void;
  /** One of our CANCELs removed order `ticket` (its event may come after the reply). */
  orderGone(ticket: number): void;
}

/** An order of ours as the view needs to know it. */
export type OwnOrder =
  | {
      readonly action: "OPEN";
      readonly symbol: string;
      readonly side: Side;
      readonly magic?: number | undefined;
    }
  | { readonly action: "CLOSE"; readonly ticket: number }
  | { readonly action: "MODIFY"; readonly ticket: number };

export interface OwnOrderHandle {
  finish(filled: TradeReply | undefined): void;
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
  readonly #own = new OwnOrders();
  /** Set by the sync: the stream is LIVE and no positions refresh is owed. */
  positionsInSync = false;
  /** Set by the sync: positions need a RESYNC (a fill of ours the view could not apply). */
  onPositionsOwed: (() => void) | undefined;
  /** Set by the sync: the account is past half its age limit, read it again in the background. */
  onAccountAging: (() => void) | undefined;

  constructor(monotonic: () => number, limits: FreshnessLimits = DEFAULT_FRESHNESS) {
    this.#monotonic = monotonic;
    this.#limits = limits;
  }

  // ----- LiveMarket (orders/order-service.ts) ------------------------------------------------

  positions(): readonly Position[] | undefined {
    return this.inSync ? [...this.#positions.values()] : undefined;
  }

  /** Positions may be answered from here: in step with the stream, no deal unexplained. */
  get inSync(): boolean {
    return this.positionsInSync && this.#own.waiting === 0;
  }

  orders(): readonly TradeOrder[] | undefined {
    const orders = this.#orders;
    return this.inSync && orders !== undefined ? [...orders.values()] : undefined;
  }

  account(): AccountInfo | undefined {
    const account = this.#account;
    if (account === undefined) return undefined;
    const age = this.#monotonic() - account.at;
    if (age > this.#limits.accountMaxAgeMs / 2) this.onAccountAging?.();
    return age <= this.#limits.accountMaxAgeMs ? account.value : undefined;
  }

  /** Whether the account is missing or past half its age limit (a fill asks for a new one then). */
  get accountAging(): boolean {
    const account = this.#account;
    return (
      account === undefined || this.#monotonic() - account.at > this.#limits.accountMaxAgeMs / 2
    );
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

  ownOrder(order: OwnOrder): OwnOrderHandle {
    const tracked = order.action === "MODIFY" ? undefined : order;
    if (tracked !== undefined) this.#own.begin(tracked);
    let finished = false;
    return {
      finish: (filled) => {
        if (finished) return;
        finished = true;
        if (filled !== undefined && !this.#apply(order, filled)) this.#owe();
        if (tracked !== undefined) this.#own.end(tracked);
        // Deals still waiting with none of our orders in flight were not ours
        if (this.#own.settleIdle()) this.#owe();
      },
    };
  }

  /**
   * A live DEAL (sync.ts): ours and already applied ("explained": its details are patched in),
   * possibly ours and in flight ("waiting"), or "foreign" (the caller owes a RESYNC).
   */
  onDeal(deal: Deal): DealVerdict {
    const verdict = this.#own.classify(deal, this.#positions.has(deal.position));
    if (verdict === "explained" && deal.entry === "IN") this.#patch(deal);
    return verdict;
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
    // The RESYNC's snapshot and the deals after it are the whole story now
    this.#own.reset();
  }

  // ----- our own fills -------------------------------------------------------------------------

  /** Apply a FILLED reply of ours; false when it cannot be done exactly (a RESYNC must). */
  #apply(order: OwnOrder, reply: TradeReply): boolean {
    // Out of sync, a RESYNC is running or owed, and its snapshot may predate this fill: owe one
    // more rather than trust it
    if (!this.positionsInSync) return false;
    if (order.action === "OPEN") return this.#applyOpen(order, reply);
    const position = this.#positions.get(order.ticket);
    if (order.action === "MODIFY") {
      if (position === undefined || !("sl" in reply) || !("tp" in reply)) return false;
      return this.#put({ ...position, sl: reply.sl ?? null, tp: reply.tp ?? null });
    }
    return this.#applyClose(order.ticket, position, reply);
  }

  /**
   * The lots left after our CLOSE must be what the view holds already (the stream's
   * POSITION_CLOSED or POSITION_MODIFIED came first) or what it held minus the deal; anything
   * else means the view is behind.
   */
  #applyClose(ticket: number, position: Position | undefined, reply: TradeReply): boolean {
    const left = reply.remaining_volume;
    const dealt = reply.volume;
    if (left === undefined || dealt === undefined) return false;
    const held = position?.volume ?? 0;
    const same = (a: number, b: number) => Math.abs(a - b) < 1e-9;
    if (!same(held, left) && !same(held - dealt, left)) return false;
    this.#own.claim(ticket, "OUT");
    if (position === undefined || same(held, left)) return true;
    if (left === 0) {
      this.#positions.delete(ticket);
      return true;
    }
    return this.#put({ ...position, volume: left });
  }

  #applyOpen(order: Extract<OwnOrder, { action: "OPEN" }>, reply: TradeReply): boolean {
    const { ticket, volume, price } = reply;
    // A position the view already holds was added to (netting) or reversed: only a RESYNC knows
    if (ticket === undefined || volume === undefined || price === undefined) return false;
    if (this.#positions.has(ticket) || !("sl" in reply) || !("tp" in reply)) return false;
    const deal = this.#own.claim(ticket, "IN");
    const time = deal?.time ?? 0;
    return this.#put({
      ticket,
      symbol: order.symbol,
      side: order.side,
      volume,
      price_open: price,
      price_current: price,
      sl: reply.sl ?? null,
      tp: reply.tp ?? null,
      profit: 0,
      swap: 0,
      magic: deal?.magic ?? order.magic ?? 0,
      comment: deal?.comment ?? "",
      time,
      time_update: time,
    });
  }

  /** The DEAL of a position a reply of ours opened: what only the deal knows. */
  #patch(deal: Deal): void {
    const position = this.#positions.get(deal.position);
    if (position === undefined) return;
    this.#positions.set(deal.position, {
      ...position,
      magic: deal.magic,
      comment: deal.comment,
      time: deal.time,
      time_update: deal.time,
    });
  }

  #put(position: Position): boolean {
    return this.upsertPosition(position);
  }

  /** Positions need a RESYNC that starts after now (sync.ts coalesces the asks). */
  #owe(): void {
    this.positionsInSync = false;
    this.onPositionsOwed?.();
  }
}
