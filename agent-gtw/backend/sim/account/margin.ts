/**
 * Money maths of the simulated account (research/mt5-bridges.md §4.2): margin per calculation
 * mode, profit, tick value, and conversion of both into the deposit currency at the sim's own
 * quotes. Pure functions over a MarketView; no state, no I/O.
 *
 * Conversions use the mid of the current quote. A real server converts profit at bid or ask
 * depending on the sign; the difference is half a spread on the converted amount.
 */
import type { MarginMode, Side } from "../../../../shared/protocol/index.ts";
import type { SymbolSpec } from "../symbols.ts";

export interface MarketView {
  spec(symbol: string): SymbolSpec | undefined;
  /** Mid of the current quote. */
  mid(symbol: string): number | undefined;
  specs(): Iterable<SymbolSpec>;
}

/** Anything that holds volume on a symbol: an open position or a hypothetical one. */
export interface Exposure {
  readonly symbol: string;
  readonly side: Side;
  readonly volume: number;
  readonly price_open: number;
}

interface Leg {
  readonly symbol: string;
  readonly invert: boolean;
}

/** Account money in two decimals, as MT5 reports a USD/EUR deposit. */
export function roundMoney(amount: number): number {
  return Math.round(amount * 100) / 100;
}

/**
 * Converts amounts between currencies using the symbol table: a direct pair (EURUSD for EUR→USD),
 * an inverse pair (USDJPY for JPY→USD: divide by the rate, research §4.2) or a cross through USD.
 * Routes are found once per currency pair; rates are read from the market on every call.
 */
export class CurrencyConverter {
  readonly #market: MarketView;
  readonly #routes = new Map<string, readonly Leg[]>();

  constructor(market: MarketView) {
    this.#market = market;
  }

  rate(from: string, to: string): number {
    if (from === to) return 1;
    let rate = 1;
    for (const leg of this.route(from, to)) {
      const mid = this.#market.mid(leg.symbol);
      if (mid === undefined || !(mid > 0)) {
        throw new RangeError(`sim: no quote for ${leg.symbol} to convert ${from} to ${to}`);
      }
      rate *= leg.invert ? 1 / mid : mid;
    }
    return rate;
  }

  /** The symbols a conversion goes through; throws when the table cannot convert. */
  route(from: string, to: string): readonly Leg[] {
    const key = `${from}>${to}`;
    const cached = this.#routes.get(key);
    if (cached !== undefined) return cached;
    const route = this.#find(from, to);
    if (route === undefined) {
      throw new RangeError(`sim: no symbol converts ${from} to ${to}`);
    }
    this.#routes.set(key, route);
    return route;
  }

  #find(from: string, to: string): Leg[] | undefined {
    if (from === to) return [];
    const single = this.#single(from, to);
    if (single !== undefined) return [single];
    const pivot = "USD";
    if (from === pivot || to === pivot) return undefined;
    const first = this.#single(from, pivot);
    const second = this.#single(pivot, to);
    return first === undefined || second === undefined ? undefined : [first, second];
  }

  #single(from: string, to: string): Leg | undefined {
    for (const spec of this.#market.specs()) {
      if (spec.currency_base === from && spec.currency_profit === to) {
        return { symbol: spec.symbol, invert: false };
      }
    }
    for (const spec of this.#market.specs()) {
      if (spec.currency_base === to && spec.currency_profit === from) {
        return { symbol: spec.symbol, invert: true };
      }
    }
    return undefined;
  }
}

/**
 * Margin in the symbol's margin currency (research §4.2):
 * FOREX lots × contract / leverage × rate; FOREX_NO_LEVERAGE lots × contract × rate;
 * CFD and CFD_INDEX lots × contract × price × rate (the sim's indices have tick price equal to
 * tick size, so MT5's TickPrice / TickSize factor is 1); CFD_LEVERAGE the CFD formula / leverage.
 */
export function marginInMarginCurrency(
  spec: SymbolSpec,
  lots: number,
  price: number,
  leverage: number,
  contractSize: number = spec.contract_size,
): number {
  const units = lots * contractSize * spec.margin_rate;
  switch (spec.calc_mode) {
    case "FOREX":
      return units / leverage;
    case "FOREX_NO_LEVERAGE":
      return units;
    case "CFD":
    case "CFD_INDEX":
      return units * price;
    case "CFD_LEVERAGE":
      return (units * price) / leverage;
  }
}

/** Profit in the symbol's profit currency: (close − open) × contract × lots, sign by side. */
export function profitInProfitCurrency(
  spec: SymbolSpec,
  side: Side,
  lots: number,
  priceOpen: number,
  priceClose: number,
): number {
  const move = side === "BUY" ? priceClose - priceOpen : priceOpen - priceClose;
  return move * spec.contract_size * lots;
}

export interface MoneyContext {
  readonly market: MarketView;
  readonly converter: CurrencyConverter;
  readonly currency: string;
  readonly leverage: number;
  readonly marginMode: MarginMode;
}

/** Profit of closing `lots` at `priceClose`, in the deposit currency, rounded to cents. */
export function profitInDeposit(
  ctx: MoneyContext,
  spec: SymbolSpec,
  side: Side,
  lots: number,
  priceOpen: number,
  priceClose: number,
): number {
  const raw = profitInProfitCurrency(spec, side, lots, priceOpen, priceClose);
  return roundMoney(raw * ctx.converter.rate(spec.currency_profit, ctx.currency));
}

/** SYMBOL_TRADE_TICK_VALUE: deposit-currency P/L of one tick on one lot at current rates. */
export function tickValue(ctx: MoneyContext, spec: SymbolSpec): number {
  return (
    spec.tick_size * spec.contract_size * ctx.converter.rate(spec.currency_profit, ctx.currency)
  );
}

interface SideTotals {
  volume: number;
  notional: number;
}

/**
 * Total margin of a set of exposures in the deposit currency. Margin is taken at each position's
 * open price and converted at current rates. On hedging accounts the covered volume of opposite
 * legs (min of buys and sells) is charged once at `margin_hedged` instead of the contract size,
 * and only the uncovered rest at the full rate (MT5 SYMBOL_MARGIN_HEDGED).
 */
export function totalMargin(ctx: MoneyContext, exposures: Iterable<Exposure>): number {
  const bySymbol = new Map<string, { buy: SideTotals; sell: SideTotals }>();
  for (const exposure of exposures) {
    let totals = bySymbol.get(exposure.symbol);
    if (totals === undefined) {
      totals = { buy: { volume: 0, notional: 0 }, sell: { volume: 0, notional: 0 } };
      bySymbol.set(exposure.symbol, totals);
    }
    const side = exposure.side === "BUY" ? totals.buy : totals.sell;
    side.volume += exposure.volume;
    side.notional += exposure.volume * exposure.price_open;
  }
  let total = 0;
  for (const [symbol, { buy, sell }] of bySymbol) {
    const spec = ctx.market.spec(symbol);
    if (spec === undefined) throw new RangeError(`sim: unknown symbol ${symbol} in margin`);
    total += symbolMargin(ctx, spec, buy, sell);
  }
  return roundMoney(total);
}

function symbolMargin(
  ctx: MoneyContext,
  spec: SymbolSpec,
  buy: SideTotals,
  sell: SideTotals,
): number {
  const average = (side: SideTotals) => (side.volume > 0 ? side.notional / side.volume : 0);
  const rate = ctx.converter.rate(spec.currency_margin, ctx.currency);
  if (ctx.marginMode === "NETTING") {
    const margin =
      marginInMarginCurrency(spec, buy.volume, average(buy), ctx.leverage) +
      marginInMarginCurrency(spec, sell.volume, average(sell), ctx.leverage);
    return margin * rate;
  }
  const covered = Math.min(buy.volume, sell.volume);
  const larger = buy.volume >= sell.volume ? buy : sell;
  const uncovered = larger.volume - covered;
  let margin = marginInMarginCurrency(spec, uncovered, average(larger), ctx.leverage);
  if (covered > 0) {
    const coveredPrice = (average(buy) + average(sell)) / 2;
    margin += marginInMarginCurrency(spec, covered, coveredPrice, ctx.leverage, spec.margin_hedged);
  }
  return margin * rate;
}
