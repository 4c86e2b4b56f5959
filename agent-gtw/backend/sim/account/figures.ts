/**
 * Account-level figures of the simulated account (research §4.2): floating profit per position,
 * equity = balance + floating P/L, free margin = equity − margin, margin level =
 * equity / margin × 100 (0 with no margin in use, as MT5 reports it).
 */
import type { Position } from "../../../../shared/protocol/index.ts";
import type { Market } from "../market.ts";
import type { PositionState } from "../records.ts";
import {
  type Exposure,
  type MoneyContext,
  profitInDeposit,
  roundMoney,
  totalMargin,
} from "./margin.ts";

export interface AccountFigures {
  readonly balance: number;
  readonly profit: number;
  readonly equity: number;
  readonly margin: number;
  readonly margin_free: number;
  readonly margin_level: number;
}

/** The price a position would close at now: bid for a buy, ask for a sell. */
export function closingPrice(market: Market, position: Exposure): number {
  const quote = market.quote(position.symbol);
  return position.side === "BUY" ? quote.bid : quote.ask;
}

export function floatingProfit(ctx: MoneyContext, market: Market, position: Exposure): number {
  const spec = market.spec(position.symbol);
  if (spec === undefined) throw new RangeError(`sim: unknown symbol ${position.symbol}`);
  const close = closingPrice(market, position);
  return profitInDeposit(ctx, spec, position.side, position.volume, position.price_open, close);
}

export function accountFigures(
  ctx: MoneyContext,
  market: Market,
  balance: number,
  positions: Iterable<PositionState>,
): AccountFigures {
  let profit = 0;
  const exposures: PositionState[] = [];
  for (const position of positions) {
    profit += floatingProfit(ctx, market, position);
    exposures.push(position);
  }
  profit = roundMoney(profit);
  const margin = totalMargin(ctx, exposures);
  const equity = roundMoney(balance + profit);
  return {
    balance,
    profit,
    equity,
    margin,
    margin_free: roundMoney(equity - margin),
    margin_level: margin > 0 ? roundMoney((equity / margin) * 100) : 0,
  };
}

export function positionView(ctx: MoneyContext, market: Market, position: PositionState): Position {
  return {
    ticket: position.ticket,
    symbol: position.symbol,
    side: position.side,
    volume: position.volume,
    price_open: position.price_open,
    price_current: closingPrice(market, position),
    sl: position.sl,
    tp: position.tp,
    profit: floatingProfit(ctx, market, position),
    swap: 0,
    magic: position.magic,
    comment: position.comment,
    time: position.time,
    time_update: position.time_update,
  };
}
