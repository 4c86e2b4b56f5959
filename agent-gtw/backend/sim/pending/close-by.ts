/**
 * CLOSE_BY (TRADE_ACTION_CLOSE_BY): close a position by an opposite one on the same symbol, on a
 * hedging account. The server creates a CLOSE_BY order and two OUT_BY deals for the covered
 * volume, both at the opening price of the position it closes by: the first position realises
 * the whole difference between the two opening prices, the second none, so the pair pays one
 * spread less than two separate closes. The larger position stays open with the rest.
 *
 * Checks: rate (10024); malformed (10013); netting account (10035 INVALID_ORDER: there is never
 * an opposite position to close by); either position gone (10036); not the same symbol or not
 * opposite sides (10013); symbol without SYMBOL_ORDER_CLOSEBY (10035); no prices (10021); either
 * position frozen (10029); closed session (10018); trading disabled (10017); Algo Trading (10027).
 */
import { Retcode, type TradeOrder } from "../../../../shared/protocol/index.ts";
import type { BackendEvent } from "../../backend.ts";
import type { CloseByOrder } from "../../pending.ts";
import { checkCommonFields, checkFreeze } from "../checks.ts";
import { closeFill, requestReason } from "../fills.ts";
import { orderModes, roundVolume } from "../symbols.ts";
import { type Outcome, refuse, success } from "../trading.ts";
import type { PendingContext } from "./engine.ts";
import { applyOrderChange, type PendingRecord } from "./order-book.ts";

export function closeBy(ctx: PendingContext, order: CloseByOrder): Outcome {
  const { trading, market, book, money, clock } = ctx;
  if (trading.throttled()) return refuse(Retcode.TOO_MANY_REQUESTS);
  const malformed =
    !Number.isSafeInteger(order.ticket) ||
    !Number.isSafeInteger(order.ticketBy) ||
    checkCommonFields(order) !== undefined;
  if (malformed) return refuse(Retcode.INVALID);
  if (money.marginMode !== "HEDGING") return refuse(Retcode.INVALID_ORDER);
  const position = book.positions.get(order.ticket);
  const by = book.positions.get(order.ticketBy);
  if (position === undefined || by === undefined) return refuse(Retcode.POSITION_CLOSED);
  const spec = market.spec(position.symbol);
  if (
    spec === undefined ||
    position.ticket === by.ticket ||
    position.symbol !== by.symbol ||
    position.side === by.side
  ) {
    return refuse(Retcode.INVALID);
  }
  const quote = market.quote(spec.symbol);
  const now = clock.now();
  const refusal =
    (orderModes(spec).includes("CLOSE_BY") ? undefined : Retcode.INVALID_ORDER) ??
    (market.isStale(spec, now) ? Retcode.PRICE_OFF : undefined) ??
    checkFreeze(spec, position, quote) ??
    checkFreeze(spec, by, quote) ??
    (market.isOpen(spec, now) ? undefined : Retcode.MARKET_CLOSED) ??
    (spec.trade_mode === "DISABLED" ? Retcode.TRADE_DISABLED : undefined) ??
    (trading.settings.tradeAllowed ? undefined : Retcode.CLIENT_DISABLES_AT);
  if (refusal !== undefined) return refuse(refusal, quote);

  const ticket = book.nextOrder;
  const volume = roundVolume(Math.min(position.volume, by.volume), spec.volume_step);
  const origin = {
    reason: requestReason(order.magic),
    magic: order.magic,
    comment: order.comment,
    time: now,
    order: ticket,
    entry: "OUT_BY" as const,
  };
  const first = closeFill(book, money, spec, position, volume, by.price_open, origin);
  const second = closeFill(book, money, spec, by, volume, by.price_open, origin);
  const done: TradeOrder = {
    ticket,
    symbol: spec.symbol,
    type: "CLOSE_BY",
    state: "FILLED",
    volume_initial: volume,
    volume_current: 0,
    price_open: by.price_open,
    price_stoplimit: null,
    sl: null,
    tp: null,
    price_current: by.price_open,
    type_time: "GTC",
    time_expiration: 0,
    type_filling: "FOK",
    magic: order.magic,
    comment: order.comment,
    time_setup: now,
    time_done: now,
    position_id: position.ticket,
    position_by_id: by.ticket,
    reason: origin.reason,
    external_id: "",
  };
  const record: PendingRecord = {
    type: "pending",
    ticket,
    order: null,
    done,
    trades: [first.record, second.record],
    next_order: book.nextOrder,
  };
  applyOrderChange(book, record);
  const events: BackendEvent[] = [...trading.eventsOf(first), ...trading.eventsOf(second)];
  return {
    result: {
      ...success(quote),
      deal: first.deal.ticket,
      order: ticket,
      position: position.ticket,
      volume,
      price: by.price_open,
    },
    records: [record],
    events,
  };
}
