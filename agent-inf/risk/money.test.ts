/**
 * Money and grid arithmetic, and how a denial renders.
 */
import { describe, expect, test } from "bun:test";
import { DENIAL_CODES, deny, formatDenial } from "./denial.ts";
import {
  exceeds,
  fallsShort,
  floorToStep,
  isOnStep,
  lossPerLot,
  notionalInDeposit,
  spreadPoints,
} from "./money.ts";
import { makeSymbol } from "./testing/fixtures.ts";

describe("notionalInDeposit", () => {
  // USD account; tick_value is what MT5 reports for one lot at the current rate
  test.each<[string, Parameters<typeof makeSymbol>[0], number, number, number]>([
    ["EURUSD", {}, 1, 1.1, 110_000],
    ["EURUSD, 0.1 lot", {}, 0.1, 1.1, 11_000],
    // 100,000 USD; tick 0.001 JPY is worth 100,000 × 0.001 / 150 USD
    ["USDJPY at 150", { tick_size: 0.001, tick_value: 100 / 150, point: 0.001 }, 1, 150, 100_000],
    // 100,000 EUR at EURUSD 1.1 = 110,000 USD; EURJPY 165, USDJPY 150
    ["EURJPY at 165", { tick_size: 0.001, tick_value: 100 / 150, point: 0.001 }, 1, 165, 110_000],
    // 100,000 EUR; EURGBP 0.86 quoted in GBP, GBPUSD 1.279 → tick worth 1.279 USD
    ["EURGBP at 0.86", { tick_value: 1.279 }, 1, 0.86, 109_994],
    // Gold: contract 100 oz, tick 0.01 worth 1 USD
    ["XAUUSD at 2000", { tick_size: 0.01, tick_value: 1, contract_size: 100 }, 1, 2000, 200_000],
  ])("%s", (_name, symbol, lots, price, expected) => {
    expect(notionalInDeposit(makeSymbol(symbol), lots, price)).toBeCloseTo(expected, 6);
  });
});

describe("volume grid", () => {
  test.each<[number, number, boolean]>([
    [0.07, 0.01, true],
    [0.58, 0.01, true],
    [0.29, 0.01, true],
    [1.1, 0.1, true],
    [0.075, 0.01, false],
    [0.011, 0.01, false],
    [3, 0.5, true],
    [3.25, 0.5, false],
  ])("%p on step %p: %p", (volume, step, expected) => {
    expect(isOnStep(volume, step)).toBe(expected);
  });

  test.each<[number, number, number]>([
    [4.5454, 0.01, 4.54],
    [0.29999999999999993, 0.01, 0.3],
    [0.3, 0.1, 0.3],
    [0.0099, 0.01, 0],
    [7.9, 0.5, 7.5],
  ])("floorToStep(%p, %p) = %p", (volume, step, expected) => {
    expect(floorToStep(volume, step)).toBe(expected);
  });
});

describe("tolerant comparisons", () => {
  test("noise at the limit is not a breach, a real step is", () => {
    const noisy = 0.1 * 3; // 0.30000000000000004
    expect([exceeds(noisy, 0.3), exceeds(0.31, 0.3), fallsShort(0.3 - 1e-17, 0.3)]).toEqual([
      false,
      true,
      false,
    ]);
  });

  test("loss per lot and spread come from ticks and points", () => {
    const symbol = makeSymbol();
    expect(lossPerLot(symbol, 1.1001, 1.099)).toBeCloseTo(110, 9);
    expect(spreadPoints(symbol)).toBe(10);
  });
});

describe("denial rendering", () => {
  test.each([
    [
      deny("VOLUME_ABOVE_MAX", "m", { volume: 2, max_lots: 1 }),
      "VOLUME_ABOVE_MAX: volume=2, max_lots=1",
    ],
    [deny("TRADING_HALTED", "m"), "TRADING_HALTED"],
    [
      deny("RISK_ABOVE_MAX", "m", { risk: 0.1 + 0.2, side: "BUY" }),
      "RISK_ABOVE_MAX: risk=0.3, side=BUY",
    ],
  ])("%#", (denial, expected) => {
    expect(formatDenial(denial)).toBe(expected);
  });

  test("codes are unique SCREAMING_SNAKE", () => {
    expect(new Set(DENIAL_CODES).size).toBe(DENIAL_CODES.length);
    expect(DENIAL_CODES.filter((code) => !/^[A-Z]+(_[A-Z]+)*$/.test(code))).toEqual([]);
  });
});
