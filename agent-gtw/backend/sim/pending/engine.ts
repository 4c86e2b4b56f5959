/**
 * The simulated trade server's pending-order requests: place, modify and cancel, checked in
 * MT5's order (trading.ts has the list) and, when accepted, applied to the books as one record
 * each. Synchronous like TradingEngine, so a request is checked and applied in one turn.
 *
 * Check order for a placement:
 *   0. rate: TOO_MANY_REQUESTS (10024)
 *   1. validity: INVALID (10013), INVALID_ORDER (10035, SYMBOL_ORDER_MODE), INVALID_STOPS (10016,
 *      SL/TP not allowed), INVALID_FILL (10030), INVALID_EXPIRATION (10022)
 *   2. money: NO_MONEY (10019), as if the order filled at its opening price
 *   3. prices: PRICE_OFF (10021), INVALID_PRICE (10015), INVALID_STOPS (10016)
 *   4. volume: INVALID_VOLUME (10014), LIMIT_VOLUME (10034, positions and orders together)
 *   5. symbol state: MARKET_CLOSED (10018), TRADE_DISABLED, LONG/SHORT/CLOSE_ONLY (10017, 10042–44)
 *   6. permissions: CLIENT_DISABLES_AT (10027)
 *   7. limits: LIMIT_ORDERS (10033), LIMIT_POSITIONS (10040, positions plus pending orders)
 * Modify and cancel add FROZEN (10029) before the prices, and NO_CHANGES (10025) for a modify
 * that changes nothing. An unknown order ticket gets INVALID (10013) "Order not found".
 */
import type { Clock } from "../../../../shared/clock.ts";
import {
  isStopLimit,
  orderSide,
  PENDING_ORDER_TYPES,
  Retcode,
} from "../../../../shared/protocol/index.ts";
import type { CancelPendingOrder, ModifyPendingOrder, PlaceOrder } from "../../pending.ts";
import type { MoneyContext } from "../account/margin.ts";
import type { Book } from "../book.ts";
import {
  type Check,
  checkCommonFields,
  checkStopField,
  checkTradeMode,
  checkVolume,
  normaliseStop,
} from "../checks.ts";
import { requestReason } from "../fills.ts";
import type { Market } from "../market.ts";
import type { Quote } from "../quotes.ts";
import { pendingFillings, requestFilling, type SymbolSpec } from "../symbols.ts";
import { type Outcome, orderEffect, refuse, success, type TradingEngine } from "../trading.ts";
import { applyOrderChange, type OrderState, type PendingRecord } from "./order-book.ts";
import {
  checkOrderFreeze,
  checkOrderMode,
  checkOrderStops,
  checkPlacement,
  expiryOf,
  openPrice,
} from "./rules.ts";
import { doneView, orderView } from "./view.ts";

export interface PendingContext {
  readonly clock: Clock;
  readonly book: Book;
  readonly market: Market;
  readonly money: MoneyContext;
  readonly trading: TradingEngine;
}

export class PendingEngine {
  readonly #ctx: PendingContext;

  constructor(ctx: PendingContext) {
    this.#ctx = ctx;
  }

  get context(): PendingContext {
    return this.#ctx;
  }

  /** `check`: run every check without placing or counting against the rate (ORDER_CHECK). */
  place(order: PlaceOrder, mode: "send" | "check" = "send"): Outcome {
    const { trading, market, book, clock } = this.#ctx;
    if (mode === "send" && trading.throttled()) return refuse(Retcode.TOO_MANY_REQUESTS);
    const spec = market.spec(order.symbol);
    if (spec === undefined) return refuse(Retcode.INVALID);
    const quote = market.quote(spec.symbol);
    const now = clock.now();
    if (malformedPlacement(order)) return refuse(Retcode.INVALID, quote);
    const filling = order.filling ?? requestFilling(spec, trading.settings.forceFilling);
    const expiry = expiryOf(spec, order.typeTime, order.expiration, now);
    const validity =
      checkOrderMode(spec, order.type, order.sl, order.tp) ??
      (pendingFillings(spec, order.type).includes(filling) ? undefined : Retcode.INVALID_FILL) ??
      ("refusal" in expiry ? expiry.refusal : undefined);
    if (validity !== undefined || "refusal" in expiry) {
      return refuse(validity ?? Retcode.INVALID_EXPIRATION, quote);
    }

    const price = normaliseStop(order.price, spec);
    const stoplimit = normaliseStop(order.stoplimit, spec);
    const sl = normaliseStop(order.sl, spec);
    const tp = normaliseStop(order.tp, spec);
    const side = orderSide(order.type);
    const opensAt = openPrice(price ?? Number.NaN, stoplimit);
    const existing = trading.nettingPosition(spec.symbol);
    const after = trading.exposureAfter(
      { symbol: spec.symbol, side, volume: order.volume },
      existing,
      opensAt,
    );
    const refusal =
      trading.checkMoney(after) ??
      (market.isStale(spec, now) ? Retcode.PRICE_OFF : undefined) ??
      checkPlacement(spec, order.type, price, stoplimit, quote) ??
      checkOrderStops(spec, order.type, opensAt, sl, tp) ??
      checkVolume(spec, order.volume) ??
      trading.checkVolumeLimit(spec, side, after) ??
      this.#checkSymbolState(spec, now) ??
      checkTradeMode(
        spec.trade_mode,
        side,
        orderEffect({ side, volume: order.volume }, existing, spec),
      ) ??
      (trading.settings.tradeAllowed ? undefined : Retcode.CLIENT_DISABLES_AT) ??
      this.#checkOrderLimits();
    if (refusal !== undefined) return refuse(refusal, quote);
    if (mode === "check") return refuse(Retcode.CHECK_OK, quote);

    const state: OrderState = {
      ticket: book.nextOrder,
      symbol: spec.symbol,
      type: order.type,
      volume: order.volume,
      price_open: price as number,
      price_stoplimit: stoplimit,
      sl,
      tp,
      type_time: order.typeTime,
      expiration: order.expiration,
      expires_at: expiry.expiresAt,
      type_filling: filling,
      magic: order.magic,
      comment: order.comment,
      time_setup: now,
      reason: requestReason(order.magic),
    };
    const record: PendingRecord = {
      type: "pending",
      ticket: state.ticket,
      order: state,
      next_order: state.ticket + 1,
    };
    applyOrderChange(book, record);
    return {
      result: { ...accepted(state, quote), volume: state.volume },
      records: [record],
      events: [{ type: "ORDER_PLACED", order: orderView(market, state) }],
    };
  }

  modify(order: ModifyPendingOrder): Outcome {
    const { trading, market, book, clock } = this.#ctx;
    if (trading.throttled()) return refuse(Retcode.TOO_MANY_REQUESTS);
    if (malformedModify(order)) return refuse(Retcode.INVALID);
    const current = book.orders.get(order.ticket);
    if (current === undefined) return orderNotFound();
    const spec = this.#spec(current.symbol);
    const quote = market.quote(spec.symbol);
    const now = clock.now();
    if (order.stoplimit !== undefined && !isStopLimit(current.type)) {
      return refuse(Retcode.INVALID, quote);
    }
    const price = order.price === undefined ? current.price_open : normaliseStop(order.price, spec);
    const stoplimit =
      order.stoplimit === undefined
        ? current.price_stoplimit
        : normaliseStop(order.stoplimit, spec);
    const sl = order.sl === undefined ? current.sl : normaliseStop(order.sl, spec);
    const tp = order.tp === undefined ? current.tp : normaliseStop(order.tp, spec);
    const typeTime = order.typeTime ?? current.type_time;
    // A new type_time without an expiration drops the old one; SPECIFIED* then asks for one
    const expiration = order.expiration ?? (order.typeTime === undefined ? current.expiration : 0);
    const lifetimeChanged = typeTime !== current.type_time || expiration !== current.expiration;
    const unchanged =
      !lifetimeChanged &&
      price === current.price_open &&
      stoplimit === current.price_stoplimit &&
      sl === current.sl &&
      tp === current.tp;
    if (unchanged) return refuse(Retcode.NO_CHANGES, quote);
    const expiry = lifetimeChanged
      ? expiryOf(spec, typeTime, expiration, now)
      : { expiresAt: current.expires_at };
    const refusal =
      checkOrderMode(spec, current.type, sl, tp) ??
      ("refusal" in expiry ? expiry.refusal : undefined) ??
      (market.isStale(spec, now) ? Retcode.PRICE_OFF : undefined) ??
      checkOrderFreeze(spec, current.type, current.price_open, quote) ??
      checkPlacement(spec, current.type, price, stoplimit, quote) ??
      checkOrderStops(spec, current.type, openPrice(price ?? Number.NaN, stoplimit), sl, tp) ??
      this.#checkSymbolState(spec, now) ??
      (trading.settings.tradeAllowed ? undefined : Retcode.CLIENT_DISABLES_AT);
    if (refusal !== undefined || "refusal" in expiry) {
      return refuse(refusal ?? Retcode.INVALID_EXPIRATION, quote);
    }

    const updated: OrderState = {
      ...current,
      price_open: price as number,
      price_stoplimit: stoplimit,
      sl,
      tp,
      type_time: typeTime,
      expiration,
      expires_at: expiry.expiresAt,
    };
    const record: PendingRecord = {
      type: "pending",
      ticket: updated.ticket,
      order: updated,
      next_order: book.nextOrder,
    };
    applyOrderChange(book, record);
    return {
      result: accepted(updated, quote),
      records: [record],
      events: [{ type: "ORDER_MODIFIED", order: orderView(market, updated) }],
    };
  }

  cancel(order: CancelPendingOrder): Outcome {
    const { trading, market, book, clock } = this.#ctx;
    if (trading.throttled()) return refuse(Retcode.TOO_MANY_REQUESTS);
    if (!Number.isSafeInteger(order.ticket)) return refuse(Retcode.INVALID);
    const current = book.orders.get(order.ticket);
    if (current === undefined) return orderNotFound();
    const spec = this.#spec(current.symbol);
    const quote = market.quote(spec.symbol);
    const now = clock.now();
    const refusal =
      checkOrderFreeze(spec, current.type, current.price_open, quote) ??
      this.#checkSymbolState(spec, now) ??
      (trading.settings.tradeAllowed ? undefined : Retcode.CLIENT_DISABLES_AT);
    if (refusal !== undefined) return refuse(refusal, quote);

    const done = doneView(market, current, "CANCELED", now);
    const record: PendingRecord = {
      type: "pending",
      ticket: current.ticket,
      order: null,
      done,
      next_order: book.nextOrder,
    };
    applyOrderChange(book, record);
    return {
      result: accepted(current, quote),
      records: [record],
      events: [{ type: "ORDER_CANCELED", order: done }],
    };
  }

  /** Session and trade mode for requests that change an order: closed 10018, DISABLED 10017. */
  #checkSymbolState(spec: SymbolSpec, now: number): Check {
    if (!this.#ctx.market.isOpen(spec, now)) return Retcode.MARKET_CLOSED;
    return spec.trade_mode === "DISABLED" ? Retcode.TRADE_DISABLED : undefined;
  }

  /** ACCOUNT_LIMIT_ORDERS (10033), and positions plus pending orders against 10040. */
  #checkOrderLimits(): Check {
    const { book, trading } = this.#ctx;
    const { maxPendingOrders, maxPositions } = trading.settings;
    if (maxPendingOrders !== undefined && book.orders.size >= maxPendingOrders) {
      return Retcode.LIMIT_ORDERS;
    }
    if (maxPositions !== undefined && book.positions.size + book.orders.size >= maxPositions) {
      return Retcode.LIMIT_POSITIONS;
    }
    return undefined;
  }

  #spec(symbol: string): SymbolSpec {
    const spec = this.#ctx.market.spec(symbol);
    if (spec === undefined) throw new RangeError(`sim: order on unknown symbol ${symbol}`);
    return spec;
  }
}

function accepted(order: OrderState, quote: Quote) {
  return { ...success(quote), order: order.ticket, price: order.price_open };
}

function orderNotFound(): Outcome {
  const outcome = refuse(Retcode.INVALID);
  return { ...outcome, result: { ...outcome.result, comment: "Order not found" } };
}

function finiteOrNull(value: number | null): boolean {
  return value === null || Number.isFinite(value);
}

function malformedPlacement(order: PlaceOrder): boolean {
  return (
    !PENDING_ORDER_TYPES.includes(order.type) ||
    !Number.isFinite(order.volume) ||
    !Number.isFinite(order.price) ||
    !finiteOrNull(order.stoplimit) ||
    isStopLimit(order.type) !== (order.stoplimit !== null) ||
    !Number.isSafeInteger(order.expiration) ||
    checkStopField(order.sl) !== undefined ||
    checkStopField(order.tp) !== undefined ||
    checkCommonFields(order) !== undefined
  );
}

function malformedModify(order: ModifyPendingOrder): boolean {
  const finiteOrAbsent = (value: number | null | undefined) =>
    value === undefined || finiteOrNull(value);
  return (
    !Number.isSafeInteger(order.ticket) ||
    !finiteOrAbsent(order.price) ||
    !finiteOrAbsent(order.stoplimit) ||
    !finiteOrAbsent(order.sl) ||
    !finiteOrAbsent(order.tp) ||
    (order.expiration !== undefined && !Number.isSafeInteger(order.expiration))
  );
}
