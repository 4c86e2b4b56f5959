/**
 * The OPEN checks run in one fixed order and the first denial wins. One scenario breaks every
 * rule at once; removing the breakages from the front, one at a time, must reveal the codes in
 * the documented order and finally a pass.
 */
import { describe, expect, test } from "bun:test";
import type { SymbolInfo } from "../../shared/protocol/index.ts";
import {
  DAY_MS,
  makePosition,
  makeScenario,
  makeSymbol,
  type OpenScenario,
  outcome,
  runOpenScenario,
} from "./testing/fixtures.ts";
import type { OpenIntent, RiskLimits } from "./types.ts";

type Apply = (scenario: OpenScenario) => void;
type Breakage = readonly [code: string, apply: Apply];

const patch =
  (change: (s: OpenScenario) => Partial<OpenScenario>): Apply =>
  (s) => {
    Object.assign(s, change(s));
  };
const intent = (overrides: Partial<OpenIntent>) =>
  patch((s) => ({ intent: { ...s.intent, ...overrides } }));
const limits = (overrides: Partial<RiskLimits>) =>
  patch((s) => ({ limits: { ...s.limits, ...overrides } }));
const symbol = (overrides: Partial<SymbolInfo>) =>
  patch((s) => ({
    market: { ...s.market, symbol: { ...(s.market.symbol ?? makeSymbol()), ...overrides } },
  }));
const both =
  (...applies: Apply[]): Apply =>
  (s) => {
    for (const apply of applies) apply(s);
  };

// In check order. Breakages are applied last to first, so where two touch the same field the
// earlier (higher-priority) one wins, as it does in the scenario that is meant to reveal it.
const BREAKAGES: readonly Breakage[] = [
  ["INVALID_INTENT", intent({ tp: -1 })],
  ["TRADING_HALTED", patch(() => ({ state: "HALTED" }))],
  ["REDUCING_ONLY", patch(() => ({ state: "REDUCING" }))],
  ["BREAKER_OPEN", patch(() => ({ breakerEngaged: true }))],
  ["SYMBOL_NOT_ALLOWED", limits({ allowedSymbols: [] })],
  ["UNKNOWN_SYMBOL", patch((s) => ({ market: { ...s.market, symbol: undefined } }))],
  ["INVALID_SYMBOL_INFO", symbol({ tick_value: 0 })],
  ["NO_QUOTE", symbol({ bid: 0 })],
  [
    "KELLY_NO_EDGE",
    both(
      limits({ kelly: { enabled: true, fraction: 0.25, maxFraction: 0.05 } }),
      intent({ edge: { winProbability: 0, payoffRatio: 1 } }),
    ),
  ],
  ["VOLUME_BELOW_MIN", intent({ volume: 0.001 })],
  ["VOLUME_ABOVE_SYMBOL_MAX", symbol({ volume_max: 0.05 })],
  ["VOLUME_STEP", intent({ volume: 0.105 })],
  ["VOLUME_ABOVE_MAX", limits({ maxLots: 0.05 })],
  ["NOTIONAL_ABOVE_MAX", limits({ maxNotional: 1000 })],
  ["SL_REQUIRED", intent({ sl: null })],
  ["SL_WRONG_SIDE", intent({ sl: 1.2 })],
  ["SL_TOO_CLOSE", intent({ sl: 1.09995 })],
  ["TP_WRONG_SIDE", intent({ tp: 1.0 })],
  ["TP_TOO_CLOSE", intent({ tp: 1.10005 })],
  ["RISK_ABOVE_MAX", limits({ maxRiskPercent: 0.01 })],
  [
    "MAX_POSITIONS",
    both(
      limits({ maxPositions: 1 }),
      patch((s) => ({ market: { ...s.market, positions: [makePosition({ symbol: "USDJPY" })] } })),
    ),
  ],
  [
    "MAX_POSITIONS_PER_SYMBOL",
    both(
      limits({ maxPositionsPerSymbol: 1 }),
      patch((s) => ({ market: { ...s.market, positions: [makePosition()] } })),
    ),
  ],
  [
    "RATE_LIMIT_PER_SECOND",
    both(
      limits({ maxOrdersPerSecond: 1 }),
      patch(() => ({ recordedOrders: 1 })),
    ),
  ],
  [
    "RATE_LIMIT_PER_MINUTE",
    both(
      limits({ maxOrdersPerMinute: 1 }),
      patch(() => ({ recordedOrders: 1 })),
    ),
  ],
  // 600 lost since earlier today (limit 500)
  [
    "DAILY_LOSS_LIMIT",
    patch(() => ({ equityHistory: [{ atMs: Date.UTC(2026, 10, 18, 1), equity: 10_600 }] })),
  ],
  // 9 % below yesterday's high (limit 5 %), nothing lost today
  [
    "MAX_DRAWDOWN",
    both(
      limits({ maxDrawdownPercent: 5 }),
      patch(() => ({
        equityHistory: [{ atMs: Date.UTC(2026, 10, 18, 12) - DAY_MS, equity: 11_000 }],
      })),
    ),
  ],
  ["SPREAD_TOO_WIDE", limits({ maxSpreadPoints: 5 })],
  ["STALE_QUOTE", symbol({ quote_time: Date.UTC(2026, 10, 18, 11) })],
  ["MARKET_CLOSED", symbol({ session_open: false })],
  ["SIDE_NOT_ALLOWED", symbol({ trade_mode: "SHORT_ONLY" })],
];

function decideWith(breakages: readonly Breakage[]): string {
  const scenario = makeScenario();
  for (const [, apply] of breakages.toReversed()) apply(scenario);
  return outcome(runOpenScenario(scenario));
}

describe("open check order", () => {
  test.each(BREAKAGES.map(([code], index) => [code, index] as const))(
    "%s is the first denial once every earlier rule is satisfied",
    (code, index) => {
      expect(decideWith(BREAKAGES.slice(index))).toBe(code);
    },
  );

  test("each breakage alone is denied with its own code", () => {
    const alone = BREAKAGES.map(([, apply]) => decideWith([["", apply]]));
    expect(alone).toEqual(BREAKAGES.map(([code]) => code));
  });

  test("with every rule satisfied the order passes", () => {
    expect(decideWith([])).toBe("PASS");
  });
});
