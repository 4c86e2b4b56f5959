/**
 * What the server does with pending orders on its own: trigger them when a tick reaches their
 * price (rules.ts has the table), and expire them when their lifetime ends.
 *
 * A triggered limit or stop order becomes a market deal at the current price (Ask for buys, Bid
 * for sells; a gap fills beyond the order price, as on a real server), with the order's own
 * ticket, SL, TP, magic and comment. The server re-checks what could have changed since the
 * order was placed (free margin, volume limit, trade mode, position limit); a failure rejects
 * the order (state REJECTED, an ORDER_REJECTED event with the retcode) instead of filling it. A
 * stop-limit order that triggers becomes its limit order at the stop-limit price, under the same
 * ticket, and may fill on the same tick if the price is already there.
 */
import { orderSide, type TradeOrder } from "../../../../shared/protocol/index.ts";
import type { BackendEvent } from "../../backend.ts";
import { checkTradeMode, RETCODE_COMMENTS } from "../checks.ts";
import { openFill } from "../fills.ts";
import { roundVolume, type SymbolSpec } from "../symbols.ts";
import { orderEffect } from "../trading.ts";
import type { PendingContext } from "./engine.ts";
import { applyOrderChange, type OrderState, type PendingRecord } from "./order-book.ts";
import { isTriggered } from "./rules.ts";
import { doneView, orderView } from "./view.ts";

export interface PendingChange {
  readonly record: PendingRecord;
  readonly events: readonly BackendEvent[];
}

/** Expire every order whose lifetime has ended by `now`. */
export function runExpirations(ctx: PendingContext, now: number): PendingChange[] {
  const changes: PendingChange[] = [];
  for (const order of [...ctx.book.orders.values()]) {
    if (order.expires_at === 0 || now < order.expires_at) continue;
    // A sim that was stopped past the time still records when the server would have expired it
    const done = doneView(ctx.market, order, "EXPIRED", order.expires_at);
    changes.push(leave(ctx, order, done, [{ type: "ORDER_EXPIRED", order: done }]));
  }
  return changes;
}

/** Trigger every order on `symbols` that the current quote has reached. */
export function runPendingTriggers(
  ctx: PendingContext,
  symbols: ReadonlySet<string>,
): PendingChange[] {
  const changes: PendingChange[] = [];
  for (const order of [...ctx.book.orders.values()]) {
    if (!symbols.has(order.symbol)) continue;
    const spec = ctx.market.spec(order.symbol);
    if (spec === undefined) continue;
    const quote = ctx.market.quote(spec.symbol);
    if (!isTriggered(spec, order.type, order.price_open, quote)) continue;
    let current = order;
    if (order.price_stoplimit !== null) {
      current = {
        ...order,
        type: order.type === "BUY_STOP_LIMIT" ? "BUY_LIMIT" : "SELL_LIMIT",
        price_open: order.price_stoplimit,
        price_stoplimit: null,
      };
      const record: PendingRecord = {
        type: "pending",
        ticket: current.ticket,
        order: current,
        next_order: ctx.book.nextOrder,
      };
      applyOrderChange(ctx.book, record);
      const view = orderView(ctx.market, current);
      changes.push({ record, events: [{ type: "ORDER_TRIGGERED", order: view }] });
      if (!isTriggered(spec, current.type, current.price_open, quote)) continue;
    }
    changes.push(fill(ctx, spec, current));
  }
  return changes;
}

function fill(ctx: PendingContext, spec: SymbolSpec, order: OrderState): PendingChange {
  const { trading, market, book, money, clock } = ctx;
  const now = clock.now();
  const quote = market.quote(spec.symbol);
  const side = orderSide(order.type);
  const price = side === "BUY" ? quote.ask : quote.bid;
  const volume = roundVolume(order.volume, spec.volume_step);
  const existing = trading.nettingPosition(spec.symbol);
  const after = trading.exposureAfter({ symbol: spec.symbol, side, volume }, existing, price);
  const effect = orderEffect({ side, volume }, existing, spec);
  const refusal =
    trading.checkMoney(after) ??
    trading.checkVolumeLimit(spec, side, after, order.ticket) ??
    checkTradeMode(spec.trade_mode, side, effect) ??
    trading.checkPositionLimit(effect);
  if (refusal !== undefined) {
    const done = doneView(market, order, "REJECTED", now);
    const comment = RETCODE_COMMENTS[refusal] ?? "Request rejected";
    return leave(ctx, order, done, [
      { type: "ORDER_REJECTED", order: done, retcode: refusal, comment },
    ]);
  }
  const filled = openFill(
    book,
    money,
    { spec, side, volume, price, sl: order.sl, tp: order.tp, existing },
    {
      reason: order.reason,
      magic: order.magic,
      comment: order.comment,
      time: now,
      order: order.ticket,
    },
  );
  const done = doneView(market, order, "FILLED", now, filled.deal.position);
  return leave(
    ctx,
    order,
    done,
    [...trading.eventsOf(filled), { type: "ORDER_TRIGGERED", order: done, deal: filled.deal }],
    [filled.record],
  );
}

function leave(
  ctx: PendingContext,
  order: OrderState,
  done: TradeOrder,
  events: BackendEvent[],
  trades?: PendingRecord["trades"],
): PendingChange {
  const record: PendingRecord = {
    type: "pending",
    ticket: order.ticket,
    order: null,
    done,
    ...(trades === undefined ? {} : { trades }),
    next_order: ctx.book.nextOrder,
  };
  applyOrderChange(ctx.book, record);
  return { record, events };
}
