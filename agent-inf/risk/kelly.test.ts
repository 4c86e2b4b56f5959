/**
 * Kelly sizing: the formula's edge cases, fraction and cap, rounding down to the step, and the
 * volume the risk monitor ends up sending.
 */
import { describe, expect, test } from "bun:test";
import { TestClock } from "../../shared/testing/test-clock.ts";
import { kellyFraction, kellyVolume } from "./kelly.ts";
import { RiskMonitor } from "./risk-monitor.ts";
import { makeAccount, makeLimits, makeMarket, makeOpen, outcome } from "./testing/fixtures.ts";
import type { KellyLimits } from "./types.ts";

const QUARTER: KellyLimits = { enabled: true, fraction: 0.25, maxFraction: 0.05 };

describe("kellyFraction", () => {
  test.each<[number, number, number]>([
    [0.5, 2, 0.25],
    [0.6, 1, 0.2],
    [0.5, 1, 0],
    [0, 2, -0.5],
    [1, 2, 1],
    [1, 0, 1], // a sure win needs no payoff ratio
    [0.9, 1e-9, 0.9 - 0.1 / 1e-9],
  ])("p=%p b=%p → f*=%p", (winProbability, payoffRatio, expected) => {
    expect(kellyFraction({ winProbability, payoffRatio })).toBeCloseTo(expected, 6);
  });
});

describe("kellyVolume", () => {
  // equity 10,000; 110 USD lost per lot at the SL (110 points on EURUSD)
  const size = (winProbability: number, payoffRatio: number, limits = QUARTER, equity = 10_000) =>
    kellyVolume({
      edge: { winProbability, payoffRatio },
      limits,
      equity,
      lossPerLot: 110,
      volumeMin: 0.01,
      volumeStep: 0.01,
    });

  test.each<[string, number, number, KellyLimits, number, string | number]>([
    // f* 0.25 × 0.25 = 0.0625 → capped 0.05 → 500 / 110 = 4.545 → 4.54
    ["capped at maxFraction", 0.5, 2, QUARTER, 10_000, 4.54],
    // f* 0.2 × 0.25 = 0.05 → 4.545… → 4.54 (rounded down, never up)
    ["rounded down to the step", 0.6, 1, QUARTER, 10_000, 4.54],
    // f* 0.4 − 0.6 / 2.5 = 0.16, × 0.25 = 0.04 → 400 / 110 = 3.636 → 3.63
    ["quarter Kelly", 0.4, 2.5, { ...QUARTER, maxFraction: 1 }, 10_000, 3.63],
    // A sure win is still capped
    ["p = 1", 1, 2, QUARTER, 10_000, 4.54],
    ["p = 0", 0, 2, QUARTER, 10_000, "KELLY_NO_EDGE"],
    ["break-even edge", 0.5, 1, QUARTER, 10_000, "KELLY_NO_EDGE"],
    ["tiny payoff ratio", 0.9, 1e-9, QUARTER, 10_000, "KELLY_NO_EDGE"],
    // 0.05 × 20 / 110 = 0.0091 lots → 0.00 after rounding
    ["below the symbol minimum", 0.5, 2, QUARTER, 20, "KELLY_BELOW_MIN"],
    // 0.05 × 22 / 110 = 0.01 exactly: the minimum passes
    ["exactly the symbol minimum", 0.5, 2, QUARTER, 22, 0.01],
    ["no equity", 0.5, 2, QUARTER, 0, "KELLY_BELOW_MIN"],
  ])("%s", (_name, p, b, limits, equity, expected) => {
    const sized = size(p, b, limits, equity);
    expect<string | number>(sized.ok ? sized.volume : sized.denial.code).toBe(expected);
  });

  test("without an SL there is nothing to size against", () => {
    const sized = kellyVolume({
      edge: { winProbability: 0.6, payoffRatio: 2 },
      limits: QUARTER,
      equity: 10_000,
      lossPerLot: undefined,
      volumeMin: 0.01,
      volumeStep: 0.01,
    });
    expect(sized.ok ? "sized" : sized.denial.code).toBe("SL_REQUIRED");
  });
});

describe("Kelly in the risk monitor", () => {
  const edge = { winProbability: 0.6, payoffRatio: 1 };

  function decide(enabled: boolean, intent: Parameters<typeof makeOpen>[0], equity = 10_000) {
    const monitor = new RiskMonitor({
      limits: makeLimits({
        kelly: { ...QUARTER, enabled, maxFraction: 0.01 },
        maxRiskPercent: null,
        maxLots: 10,
        maxNotional: null,
      }),
      clock: new TestClock(),
    });
    return monitor.checkOpen(makeOpen(intent), makeMarket({ account: makeAccount({ equity }) }));
  }

  test.each<[string, boolean, Parameters<typeof makeOpen>[0], number, string | number]>([
    // 1 % of 10,000 = 100 USD over 110 points per lot → 0.909 → 0.9 lots, under the 5 requested
    ["sizes down to the Kelly volume", true, { volume: 5, edge }, 10_000, 0.9],
    ["never sizes above the requested volume", true, { volume: 0.3, edge }, 10_000, 0.3],
    ["disabled: the requested volume", false, { volume: 5, edge }, 10_000, 5],
    ["no edge on the intent: the requested volume", true, { volume: 5 }, 10_000, 5],
    ["no SL", true, { volume: 5, edge, sl: null }, 10_000, "SL_REQUIRED"],
    [
      "no edge",
      true,
      { volume: 5, edge: { winProbability: 0.3, payoffRatio: 1 } },
      10_000,
      "KELLY_NO_EDGE",
    ],
    ["too little equity", true, { volume: 5, edge }, 100, "KELLY_BELOW_MIN"],
    // SL at the ask: nothing to size against, and the SL check refuses it
    ["SL at the entry price", true, { volume: 5, edge, sl: 1.1001 }, 10_000, "SL_WRONG_SIDE"],
  ])("%s", (_name, enabled, intent, equity, expected) => {
    const decision = decide(enabled, intent, equity);
    expect(decision.ok ? decision.volume : outcome(decision)).toBe(expected);
  });

  test("a Kelly-sized pass reports the fraction it risked", () => {
    expect(decide(true, { volume: 5, edge })).toMatchObject({
      ok: true,
      volume: 0.9,
      kellyFraction: 0.01,
    });
  });
});
