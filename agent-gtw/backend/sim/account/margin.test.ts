/**
 * Money maths against research §4.2: the worked EURUSD example, USDJPY, XAUUSD and index cases,
 * hedged margin, and conversion into USD and EUR deposits through direct, inverse and cross rates.
 */
import { beforeEach, describe, expect, test } from "bun:test";
import type { MarginMode } from "../../../../shared/protocol/index.ts";
import { Market } from "../market.ts";
import { QuoteFeed } from "../quotes.ts";
import { resolveSymbols, type SymbolSpec } from "../symbols.ts";
import {
  CurrencyConverter,
  type MoneyContext,
  marginInMarginCurrency,
  profitInDeposit,
  tickValue,
  totalMargin,
} from "./margin.ts";

const NOW = Date.UTC(2026, 10, 18, 12);

function setup(currency = "USD", marginMode: MarginMode = "HEDGING") {
  const specs = resolveSymbols();
  const feed = new QuoteFeed(specs.values(), 1, NOW, "always");
  const market = new Market(specs, feed, "always", 30_000);
  const money: MoneyContext = {
    market,
    converter: new CurrencyConverter(market),
    currency,
    leverage: 100,
    marginMode,
  };
  const spec = (symbol: string): SymbolSpec => specs.get(symbol)!;
  const quote = (symbol: string, bid: number, ask: number) => feed.set(symbol, bid, ask, NOW);
  return { market, money, spec, quote };
}

describe("margin and profit (research §4.2)", () => {
  let env: ReturnType<typeof setup>;
  beforeEach(() => {
    env = setup();
    env.quote("EURUSD", 1.0999, 1.1);
    env.quote("USDJPY", 150.5, 150.512);
  });

  test("worked example: buy 0.10 EURUSD at 1.10000 with 1:100 needs 100 EUR, about 110 USD", () => {
    const eurusd = env.spec("EURUSD");
    expect(marginInMarginCurrency(eurusd, 0.1, 1.1, 100)).toBeCloseTo(100, 10);
    const exposure = { symbol: "EURUSD", side: "BUY" as const, volume: 0.1, price_open: 1.1 };
    expect(totalMargin(env.money, [exposure])).toBeCloseTo(110, 1);
  });

  test("worked example: closing that buy at 1.10500 makes +50 USD", () => {
    const profit = profitInDeposit(env.money, env.spec("EURUSD"), "BUY", 0.1, 1.1, 1.105);
    expect(profit).toBe(50);
  });

  test("a sell profits when the price falls", () => {
    expect(profitInDeposit(env.money, env.spec("EURUSD"), "SELL", 0.1, 1.1, 1.095)).toBe(50);
    expect(profitInDeposit(env.money, env.spec("EURUSD"), "SELL", 0.1, 1.1, 1.105)).toBe(-50);
  });

  test("USDJPY: margin is in USD, profit in JPY divided by the USDJPY rate", () => {
    const usdjpy = env.spec("USDJPY");
    const exposure = { symbol: "USDJPY", side: "BUY" as const, volume: 0.1, price_open: 150 };
    expect(totalMargin(env.money, [exposure])).toBe(100);
    const profit = profitInDeposit(env.money, usdjpy, "BUY", 0.1, 150, 150.5);
    const mid = (150.5 + 150.512) / 2;
    expect(profit).toBe(Math.round((5000 / mid) * 100) / 100);
    expect(profit).toBeCloseTo(33.22, 2);
  });

  test("XAUUSD (CFD leverage): margin lots × 100 oz × price / leverage in USD", () => {
    const xau = env.spec("XAUUSD");
    const exposure = { symbol: "XAUUSD", side: "BUY" as const, volume: 0.1, price_open: 2400 };
    expect(totalMargin(env.money, [exposure])).toBe(240);
    expect(profitInDeposit(env.money, xau, "BUY", 0.1, 2400, 2410)).toBe(100);
  });

  test("US500 (CFD leverage index): 1 lot at 5500 needs 55 USD and a point is 1 USD", () => {
    const exposure = { symbol: "US500", side: "SELL" as const, volume: 1, price_open: 5500 };
    expect(totalMargin(env.money, [exposure])).toBe(55);
    expect(profitInDeposit(env.money, env.spec("US500"), "SELL", 1, 5500, 5490)).toBe(10);
  });

  test("GER40 (CFD index in EUR): margin lots × price × rate, converted at EURUSD", () => {
    env.quote("EURUSD", 1.2, 1.2);
    const ger = env.spec("GER40");
    expect(marginInMarginCurrency(ger, 1, 18500, 100)).toBeCloseTo(925, 9);
    const exposure = { symbol: "GER40", side: "BUY" as const, volume: 1, price_open: 18500 };
    expect(totalMargin(env.money, [exposure])).toBe(1110);
    expect(profitInDeposit(env.money, ger, "BUY", 1, 18500, 18600)).toBe(120);
  });

  test("BTCUSD (plain CFD): margin lots × price × margin rate, no leverage", () => {
    const exposure = { symbol: "BTCUSD", side: "BUY" as const, volume: 0.1, price_open: 65000 };
    expect(totalMargin(env.money, [exposure])).toBe(3250);
  });

  test("FOREX_NO_LEVERAGE ignores the account leverage", () => {
    const spec: SymbolSpec = { ...env.spec("EURUSD"), calc_mode: "FOREX_NO_LEVERAGE" };
    expect(marginInMarginCurrency(spec, 0.1, 1.1, 100)).toBe(10_000);
  });

  test("tick value follows the profit currency's rate", () => {
    expect(tickValue(env.money, env.spec("EURUSD"))).toBeCloseTo(1, 12);
    expect(tickValue(env.money, env.spec("XAUUSD"))).toBeCloseTo(1, 12);
    expect(tickValue(env.money, env.spec("USDJPY"))).toBeCloseTo(100 / 150.506, 9);
  });
});

describe("hedged margin", () => {
  test("covered volume is charged once at margin_hedged, the rest at the contract size", () => {
    const env = setup();
    env.quote("EURUSD", 1, 1);
    const leg = (side: "BUY" | "SELL", volume: number) => ({
      symbol: "EURUSD",
      side,
      volume,
      price_open: 1,
    });
    expect(totalMargin(env.money, [leg("BUY", 1)])).toBe(1000);
    expect(totalMargin(env.money, [leg("BUY", 1), leg("SELL", 1)])).toBe(500);
    expect(totalMargin(env.money, [leg("BUY", 1), leg("SELL", 0.4)])).toBe(800);
  });

  test("netting accounts never apply the hedged rate", () => {
    const env = setup("USD", "NETTING");
    env.quote("EURUSD", 1, 1);
    const exposures = [
      { symbol: "EURUSD", side: "BUY" as const, volume: 1, price_open: 1 },
      { symbol: "EURUSD", side: "SELL" as const, volume: 1, price_open: 1 },
    ];
    expect(totalMargin(env.money, exposures)).toBe(2000);
  });
});

describe("currency conversion", () => {
  test("a EUR account converts USD profit by dividing by EURUSD", () => {
    const env = setup("EUR");
    env.quote("EURUSD", 1.1, 1.1);
    expect(profitInDeposit(env.money, env.spec("EURUSD"), "BUY", 0.1, 1.1, 1.105)).toBe(45.45);
    const exposure = { symbol: "EURUSD", side: "BUY" as const, volume: 0.1, price_open: 1.1 };
    expect(totalMargin(env.money, [exposure])).toBe(100);
  });

  test("a EUR account converts JPY through USD (USDJPY then EURUSD)", () => {
    const env = setup("EUR");
    env.quote("EURUSD", 1.25, 1.25);
    env.quote("USDJPY", 160, 160);
    expect(env.money.converter.rate("JPY", "EUR")).toBeCloseTo(1 / 160 / 1.25, 12);
    expect(env.money.converter.route("JPY", "EUR").map((leg) => leg.symbol)).toEqual([
      "USDJPY",
      "EURUSD",
    ]);
    expect(profitInDeposit(env.money, env.spec("USDJPY"), "BUY", 1, 150, 151)).toBe(500);
  });

  test("a currency no symbol can convert is a clear error", () => {
    const env = setup();
    expect(() => env.money.converter.rate("CHF", "USD")).toThrow(
      "sim: no symbol converts CHF to USD",
    );
  });
});
