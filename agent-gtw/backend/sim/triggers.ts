/**
 * What the server does on its own at each tick: SL and TP hits, then stop-out. A buy is closed at
 * the bid (SL when bid ≤ sl, TP when bid ≥ tp), a sell at the ask (SL when ask ≥ sl, TP when
 * ask ≤ tp), at the market price, so a gap fills beyond the stop as on a real server. Stop-out
 * closes the most losing position while the margin level is at or below ACCOUNT_MARGIN_SO_SO.
 */
import type { Logger } from "../../../shared/log.ts";
import { accountFigures, floatingProfit } from "./account/figures.ts";
import type { MoneyContext } from "./account/margin.ts";
import type { Book } from "./book.ts";
import { closeFill, type Fill } from "./fills.ts";
import type { Market } from "./market.ts";
import type { PositionState } from "./records.ts";
import { roundPrice } from "./symbols.ts";

export interface TriggerContext {
  readonly book: Book;
  readonly market: Market;
  readonly money: MoneyContext;
  readonly logger: Logger;
  /** Percent. */
  readonly stopOutLevel: number;
  readonly now: () => number;
}

/** Close every position on `symbols` whose SL or TP the current quote has reached. */
export function runStops(ctx: TriggerContext, symbols: ReadonlySet<string>): Fill[] {
  const fills: Fill[] = [];
  for (const position of [...ctx.book.positions.values()]) {
    if (!symbols.has(position.symbol)) continue;
    const hit = stopHit(ctx.market, position);
    if (hit === undefined) continue;
    const spec = ctx.market.spec(position.symbol)!;
    const level = hit.reason === "SL" ? position.sl! : position.tp!;
    // MT5 rewrites the closing deal's comment to the stop that fired, e.g. "[sl 1.09500]"
    const comment = `[${hit.reason.toLowerCase()} ${level.toFixed(spec.digits)}]`;
    fills.push(
      closeFill(ctx.book, ctx.money, spec, position, position.volume, hit.price, {
        reason: hit.reason,
        magic: position.magic,
        comment,
        time: ctx.now(),
      }),
    );
  }
  return fills;
}

function stopHit(
  market: Market,
  position: PositionState,
): { reason: "SL" | "TP"; price: number } | undefined {
  const quote = market.quote(position.symbol);
  if (position.side === "BUY") {
    if (position.sl !== null && quote.bid <= position.sl) return { reason: "SL", price: quote.bid };
    if (position.tp !== null && quote.bid >= position.tp) return { reason: "TP", price: quote.bid };
    return undefined;
  }
  if (position.sl !== null && quote.ask >= position.sl) return { reason: "SL", price: quote.ask };
  if (position.tp !== null && quote.ask <= position.tp) return { reason: "TP", price: quote.ask };
  return undefined;
}

/**
 * Stop-out: while margin is in use and the margin level is at or below the stop-out level, close
 * the position with the largest floating loss (reason SO). One position at a time, because each
 * close releases margin and may be enough.
 */
export function runStopOut(ctx: TriggerContext): Fill[] {
  const fills: Fill[] = [];
  for (;;) {
    const figures = accountFigures(
      ctx.money,
      ctx.market,
      ctx.book.balance,
      ctx.book.positions.values(),
    );
    if (figures.margin <= 0 || figures.margin_level > ctx.stopOutLevel) return fills;
    const worst = mostLosing(ctx);
    if (worst === undefined) return fills;
    const spec = ctx.market.spec(worst.symbol)!;
    const quote = ctx.market.quote(worst.symbol);
    const price = worst.side === "BUY" ? quote.bid : quote.ask;
    ctx.logger.warn("Stop-out", {
      ticket: worst.ticket,
      symbol: worst.symbol,
      margin_level: figures.margin_level,
    });
    fills.push(
      closeFill(ctx.book, ctx.money, spec, worst, worst.volume, price, {
        reason: "SO",
        magic: worst.magic,
        comment: `[so ${roundPrice(figures.margin_level, 2).toFixed(2)}%]`,
        time: ctx.now(),
      }),
    );
  }
}

function mostLosing(ctx: TriggerContext): PositionState | undefined {
  let worst: PositionState | undefined;
  let worstProfit = Number.POSITIVE_INFINITY;
  for (const position of ctx.book.positions.values()) {
    const profit = floatingProfit(ctx.money, ctx.market, position);
    if (profit < worstProfit) {
      worst = position;
      worstProfit = profit;
    }
  }
  return worst;
}
