/**
 * The simulated trade server: OPEN, CLOSE and MODIFY requests run through the checks in MT5's
 * order and, when accepted, become deals on the books. Synchronous on purpose: a request is
 * checked and applied in one turn of the event loop, so concurrent requests cannot interleave;
 * the caller makes the returned records durable before reporting the result.
 *
 * Check order (research/mt5-bridges.md §4.1 "Server-side checks in order"), with where each
 * retcode sits:
 *   0. request rate: TOO_MANY_REQUESTS (10024); a flood is refused before it is read
 *   1. validity: INVALID (10013), POSITION_CLOSED (10036), INVALID_FILL (10030), NO_CHANGES (10025)
 *   2. money: NO_MONEY (10019)
 *   3. prices: PRICE_OFF (10021), FROZEN (10029), INVALID_STOPS (10016)
 *   4. volume: INVALID_VOLUME (10014), LIMIT_VOLUME (10034), INVALID_CLOSE_VOLUME (10038)
 *   5. symbol state: MARKET_CLOSED (10018), TRADE_DISABLED (10017), LONG_ONLY, SHORT_ONLY,
 *      CLOSE_ONLY (10042–10044)
 *   6. permissions: CLIENT_DISABLES_AT (10027)
 *   7. limits: LIMIT_POSITIONS (10040)
 *   then execution: REQUOTE (10004) on Instant/Request execution, else DONE (10009).
 */
import type { Clock } from "../../../shared/clock.ts";
import {
  type FillingMode,
  orderSide,
  Retcode,
  type Side,
  type TradeResult,
} from "../../../shared/protocol/index.ts";
import type { BackendEvent, CloseOrder, ModifyOrder, OpenOrder } from "../backend.ts";
import { accountFigures, positionView } from "./account/figures.ts";
import { type Exposure, type MoneyContext, totalMargin } from "./account/margin.ts";
import type { Book, BookRecord } from "./book.ts";
import {
  checkCloseVolume,
  checkCommonFields,
  checkFreeze,
  checkStopField,
  checkStops,
  checkTradeMode,
  checkVolume,
  needsRequote,
  normaliseStop,
  type OrderEffect,
  RETCODE_COMMENTS,
} from "./checks.ts";
import { closeFill, type Fill, openFill, requestReason } from "./fills.ts";
import type { Market } from "./market.ts";
import type { Quote } from "./quotes.ts";
import type { PositionState } from "./records.ts";
import { allowedFillings, requestFilling, roundVolume, type SymbolSpec } from "./symbols.ts";

export interface TradingSettings {
  /** The terminal's "Algo Trading" switch; off gives CLIENT_DISABLES_AT (10027). */
  tradeAllowed: boolean;
  /** Filling mode every request carries instead of the EA-style choice (see symbols.ts). */
  forceFilling: FillingMode | undefined;
  maxPositions: number | undefined;
  maxPendingOrders: number | undefined;
  maxOrdersPerSecond: number | undefined;
}

export interface Outcome {
  readonly result: TradeResult;
  /** Records to make durable before the result is reported; empty when refused. */
  readonly records: readonly BookRecord[];
  /** Events to publish once the records are durable. */
  readonly events: readonly BackendEvent[];
}

const RATE_WINDOW_MS = 1000;

export class TradingEngine {
  readonly #clock: Clock;
  readonly #book: Book;
  readonly #market: Market;
  readonly #money: MoneyContext;
  readonly settings: TradingSettings;
  readonly #requestTimes: number[] = [];
  readonly #priceMoves = new Map<string, number[]>();

  constructor(
    clock: Clock,
    book: Book,
    market: Market,
    money: MoneyContext,
    settings: TradingSettings,
  ) {
    this.#clock = clock;
    this.#book = book;
    this.#market = market;
    this.#money = money;
    this.settings = settings;
  }

  /** The next request on `symbol` finds the price moved by `points` between request and fill. */
  queuePriceMove(symbol: string, points: number): void {
    const moves = this.#priceMoves.get(symbol) ?? [];
    moves.push(points);
    this.#priceMoves.set(symbol, moves);
  }

  /** `check`: run every check without executing or counting against the rate (ORDER_CHECK). */
  open(order: OpenOrder, mode: "send" | "check" = "send"): Outcome {
    if (mode === "send" && this.throttled()) return refuse(Retcode.TOO_MANY_REQUESTS);
    const spec = this.#market.spec(order.symbol);
    if (spec === undefined) return refuse(Retcode.INVALID);
    const quote = this.#market.quote(spec.symbol);
    const invalid =
      (order.side !== "BUY" && order.side !== "SELL") || !Number.isFinite(order.volume)
        ? Retcode.INVALID
        : (checkStopField(order.sl) ?? checkStopField(order.tp) ?? checkCommonFields(order));
    if (invalid !== undefined) return refuse(invalid, quote);
    if (!this.#fillingAllowed(spec)) return refuse(Retcode.INVALID_FILL, quote);

    const now = this.#clock.now();
    const existing = this.nettingPosition(spec.symbol);
    const effect = orderEffect(order, existing, spec);
    const price = order.side === "BUY" ? quote.ask : quote.bid;
    const sl = normaliseStop(order.sl, spec);
    const tp = normaliseStop(order.tp, spec);
    const after = this.exposureAfter(order, existing, price);

    const refusal =
      this.checkMoney(after) ??
      (this.#market.isStale(spec, now) ? Retcode.PRICE_OFF : undefined) ??
      (effect === "close"
        ? undefined
        : checkStops(spec, effect === "reduce" ? existing!.side : order.side, sl, tp, quote)) ??
      checkVolume(spec, order.volume) ??
      this.checkVolumeLimit(spec, order.side, after) ??
      (this.#market.isOpen(spec, now) ? undefined : Retcode.MARKET_CLOSED) ??
      checkTradeMode(spec.trade_mode, order.side, effect) ??
      (this.settings.tradeAllowed ? undefined : Retcode.CLIENT_DISABLES_AT) ??
      this.checkPositionLimit(effect);
    if (refusal !== undefined) return refuse(refusal, quote);
    if (mode === "check") return refuse(Retcode.CHECK_OK, quote);

    const execution = this.#execute(spec, order.side, order.deviation, quote);
    if (execution.requote) return refuse(Retcode.REQUOTE, execution.quote, execution.events);
    const fill = openFill(
      this.#book,
      this.#money,
      {
        spec,
        side: order.side,
        volume: roundVolume(order.volume, spec.volume_step),
        price: execution.price,
        sl,
        tp,
        existing,
      },
      { reason: requestReason(order.magic), magic: order.magic, comment: order.comment, time: now },
    );
    return this.#filled(fill, execution.quote, execution.events);
  }

  close(order: CloseOrder): Outcome {
    if (this.throttled()) return refuse(Retcode.TOO_MANY_REQUESTS);
    const malformed =
      !Number.isSafeInteger(order.ticket) ||
      (order.volume !== null && !Number.isFinite(order.volume)) ||
      checkCommonFields(order) !== undefined;
    if (malformed) return refuse(Retcode.INVALID);
    const position = this.#book.positions.get(order.ticket);
    if (position === undefined) return refuse(Retcode.POSITION_CLOSED);
    const spec = this.#requireSpec(position.symbol);
    const quote = this.#market.quote(spec.symbol);
    if (!this.#fillingAllowed(spec)) return refuse(Retcode.INVALID_FILL, quote);

    const now = this.#clock.now();
    const volume = order.volume ?? position.volume;
    const refusal =
      (this.#market.isStale(spec, now) ? Retcode.PRICE_OFF : undefined) ??
      checkFreeze(spec, position, quote) ??
      checkCloseVolume(spec, volume, position.volume) ??
      (this.#market.isOpen(spec, now) ? undefined : Retcode.MARKET_CLOSED) ??
      checkTradeMode(spec.trade_mode, position.side === "BUY" ? "SELL" : "BUY", "close") ??
      (this.settings.tradeAllowed ? undefined : Retcode.CLIENT_DISABLES_AT);
    if (refusal !== undefined) return refuse(refusal, quote);

    const closingSide = position.side === "BUY" ? "SELL" : "BUY";
    const execution = this.#execute(spec, closingSide, order.deviation, quote);
    if (execution.requote) return refuse(Retcode.REQUOTE, execution.quote, execution.events);
    const closeVolume = roundVolume(Math.min(volume, position.volume), spec.volume_step);
    const fill = closeFill(this.#book, this.#money, spec, position, closeVolume, execution.price, {
      reason: requestReason(order.magic),
      magic: order.magic,
      comment: order.comment,
      time: now,
    });
    return this.#filled(fill, execution.quote, execution.events);
  }

  modify(order: ModifyOrder): Outcome {
    if (this.throttled()) return refuse(Retcode.TOO_MANY_REQUESTS);
    const malformed =
      !Number.isSafeInteger(order.ticket) ||
      checkStopField(order.sl) !== undefined ||
      checkStopField(order.tp) !== undefined;
    if (malformed) return refuse(Retcode.INVALID);
    const position = this.#book.positions.get(order.ticket);
    if (position === undefined) return refuse(Retcode.POSITION_CLOSED);
    const spec = this.#requireSpec(position.symbol);
    const quote = this.#market.quote(spec.symbol);
    const sl = order.sl === undefined ? position.sl : normaliseStop(order.sl, spec);
    const tp = order.tp === undefined ? position.tp : normaliseStop(order.tp, spec);
    if (sl === position.sl && tp === position.tp) return refuse(Retcode.NO_CHANGES, quote);

    const now = this.#clock.now();
    const refusal =
      (this.#market.isStale(spec, now) ? Retcode.PRICE_OFF : undefined) ??
      checkFreeze(spec, position, quote) ??
      checkStops(spec, position.side, sl, tp, quote) ??
      (this.#market.isOpen(spec, now) ? undefined : Retcode.MARKET_CLOSED) ??
      (spec.trade_mode === "DISABLED" ? Retcode.TRADE_DISABLED : undefined) ??
      (this.settings.tradeAllowed ? undefined : Retcode.CLIENT_DISABLES_AT);
    if (refusal !== undefined) return refuse(refusal, quote);

    const updated: PositionState = { ...position, sl, tp, time_update: now };
    const record: BookRecord = { type: "modify", position: updated };
    this.#book.apply(record);
    return {
      result: { ...success(quote), position: updated.ticket },
      records: [record],
      events: [{ type: "POSITION_MODIFIED", position: this.view(updated) }],
    };
  }

  view(position: PositionState) {
    return positionView(this.#money, this.#market, position);
  }

  /** What a fill publishes: its deal (and close), and the position it changed, if it stays open. */
  eventsOf(fill: Fill): BackendEvent[] {
    const events: BackendEvent[] = [...fill.events];
    if (fill.changed !== undefined) {
      events.push({ type: "POSITION_MODIFIED", position: this.view(fill.changed) });
    }
    return events;
  }

  #filled(fill: Fill, quote: Quote, before: readonly BackendEvent[]): Outcome {
    const events: BackendEvent[] = [...before, ...this.eventsOf(fill)];
    const { deal } = fill;
    return {
      result: {
        ...success(quote),
        deal: deal.ticket,
        order: deal.order,
        position: deal.position,
        volume: deal.volume,
        price: deal.price,
      },
      records: [fill.record],
      events,
    };
  }

  /**
   * The price the request executes at. A queued move (tests, fault injection) stands for the
   * market moving between the request and the server's fill; Instant and Request execution then
   * requote beyond `deviation`, Market execution fills at the new price (slippage).
   */
  #execute(
    spec: SymbolSpec,
    side: "BUY" | "SELL",
    deviation: number,
    quote: Quote,
  ): { price: number; quote: Quote; requote: boolean; events: BackendEvent[] } {
    const requested = side === "BUY" ? quote.ask : quote.bid;
    const move = this.#priceMoves.get(spec.symbol)?.shift();
    if (move === undefined) return { price: requested, quote, requote: false, events: [] };
    const moved = this.#market.feed.shift(spec.symbol, move, this.#clock.now());
    const events: BackendEvent[] = [{ type: "QUOTE", ...moved }];
    const executable = side === "BUY" ? moved.ask : moved.bid;
    const requote = needsRequote(spec, requested, executable, deviation);
    return { price: executable, quote: moved, requote, events };
  }

  /** Sliding one-second window; refused requests do not count against it. */
  throttled(): boolean {
    const limit = this.settings.maxOrdersPerSecond;
    if (limit === undefined) return false;
    const now = this.#clock.monotonic();
    while (this.#requestTimes.length > 0 && this.#requestTimes[0]! <= now - RATE_WINDOW_MS) {
      this.#requestTimes.shift();
    }
    if (this.#requestTimes.length >= limit) return true;
    this.#requestTimes.push(now);
    return false;
  }

  #fillingAllowed(spec: SymbolSpec): boolean {
    return allowedFillings(spec).includes(requestFilling(spec, this.settings.forceFilling));
  }

  nettingPosition(symbol: string): PositionState | undefined {
    if (this.#money.marginMode !== "NETTING") return undefined;
    for (const position of this.#book.positions.values()) {
      if (position.symbol === symbol) return position;
    }
    return undefined;
  }

  /** Every exposure on the account as it would be after the order. */
  exposureAfter(
    order: Pick<OpenOrder, "symbol" | "side" | "volume">,
    existing: PositionState | undefined,
    price: number,
  ): Exposure[] {
    const added: Exposure = {
      symbol: order.symbol,
      side: order.side,
      volume: order.volume,
      price_open: price,
    };
    const others = [...this.#book.positions.values()].filter((position) => position !== existing);
    return existing === undefined ? [...others, added] : [...others, existing, added];
  }

  /**
   * Free margin after the trade must not be negative (10019). An order that lowers the margin
   * (a netting reduction) always passes: closing is never refused for lack of money.
   */
  checkMoney(after: readonly Exposure[]): number | undefined {
    const figures = accountFigures(
      this.#money,
      this.#market,
      this.#book.balance,
      this.#book.positions.values(),
    );
    const marginAfter = totalMargin(this.#money, after);
    if (marginAfter <= figures.margin) return undefined;
    return figures.equity - marginAfter < 0 ? Retcode.NO_MONEY : undefined;
  }

  /**
   * volume_limit caps the volume in one direction on the symbol, positions and pending orders
   * together (SYMBOL_VOLUME_LIMIT, 10034). `after` holds the positions as they would be;
   * `exceptOrder` leaves out a pending order that is itself filling.
   */
  checkVolumeLimit(
    spec: SymbolSpec,
    side: Side,
    after: readonly Exposure[],
    exceptOrder?: number,
  ): number | undefined {
    if (spec.volume_limit <= 0) return undefined;
    let buys = 0;
    let sells = 0;
    for (const exposure of after) {
      if (exposure.symbol !== spec.symbol) continue;
      if (exposure.side === "BUY") buys += exposure.volume;
      else sells += exposure.volume;
    }
    // On a netting account opposite exposures offset each other into one position
    const net = this.#money.marginMode === "NETTING" ? Math.abs(buys - sells) : undefined;
    let inDirection = net ?? (side === "BUY" ? buys : sells);
    for (const order of this.#book.orders.values()) {
      if (order.symbol === spec.symbol && order.ticket !== exceptOrder) {
        if (orderSide(order.type) === side) inDirection += order.volume;
      }
    }
    return inDirection > spec.volume_limit + spec.volume_step * 1e-7
      ? Retcode.LIMIT_VOLUME
      : undefined;
  }

  checkPositionLimit(effect: OrderEffect): number | undefined {
    const limit = this.settings.maxPositions;
    if (limit === undefined || effect !== "new") return undefined;
    return this.#book.positions.size >= limit ? Retcode.LIMIT_POSITIONS : undefined;
  }

  #requireSpec(symbol: string): SymbolSpec {
    const spec = this.#market.spec(symbol);
    if (spec === undefined) throw new RangeError(`sim: position on unknown symbol ${symbol}`);
    return spec;
  }
}

export function orderEffect(
  order: Pick<OpenOrder, "side" | "volume">,
  existing: PositionState | undefined,
  spec: SymbolSpec,
): OrderEffect {
  if (existing === undefined) return "new";
  if (existing.side === order.side) return "increase";
  const remainder = roundVolume(existing.volume - order.volume, spec.volume_step);
  if (remainder > 0) return "reduce";
  return remainder === 0 ? "close" : "reverse";
}

export function success(quote: Quote): TradeResult {
  return {
    retcode: Retcode.DONE,
    deal: 0,
    order: 0,
    position: 0,
    volume: 0,
    price: 0,
    bid: quote.bid,
    ask: quote.ask,
    comment: RETCODE_COMMENTS[Retcode.DONE]!,
  };
}

export function refuse(
  retcode: number,
  quote?: Quote,
  events: readonly BackendEvent[] = [],
): Outcome {
  return {
    result: {
      retcode,
      deal: 0,
      order: 0,
      position: 0,
      volume: 0,
      price: 0,
      bid: quote?.bid ?? 0,
      ask: quote?.ask ?? 0,
      comment: RETCODE_COMMENTS[retcode] ?? "Request rejected",
    },
    records: [],
    events,
  };
}
