/**
 * OPEN rules one at a time: for each limit, the value exactly at the limit passes and one step
 * beyond is denied with the rule's code. Every case starts from a scenario that passes.
 */
import { describe, expect, test } from "bun:test";
import {
  BASE_MS,
  type makeLimits,
  makeMarket,
  makeOpen,
  makePosition,
  makeScenario,
  makeSymbol,
  type OpenScenario,
  outcome,
  runOpenScenario,
} from "./testing/fixtures.ts";

type Change = (scenario: OpenScenario) => void;

const limits =
  (overrides: Parameters<typeof makeLimits>[0]): Change =>
  (s) => {
    s.limits = { ...s.limits, ...overrides };
  };
const intent =
  (overrides: Parameters<typeof makeOpen>[0]): Change =>
  (s) => {
    s.intent = { ...s.intent, ...overrides };
  };
const symbol =
  (overrides: Parameters<typeof makeSymbol>[0]): Change =>
  (s) => {
    s.market = { ...s.market, symbol: makeSymbol(overrides) };
  };
const both =
  (...changes: Change[]): Change =>
  (s) => {
    for (const change of changes) change(s);
  };

function decide(...changes: Change[]): string {
  const scenario = makeScenario();
  for (const change of changes) change(scenario);
  return outcome(runOpenScenario(scenario));
}

describe("open checks", () => {
  test("the default scenario passes", () => {
    expect(decide()).toBe("PASS");
  });

  // [rule, change at the limit (passes), change one step beyond (denied), code]
  test.each<[string, Change, Change, string]>([
    ["volume min", intent({ volume: 0.01 }), intent({ volume: 0.005 }), "VOLUME_BELOW_MIN"],
    [
      "symbol volume max",
      both(symbol({ volume_max: 0.5 }), intent({ volume: 0.5 })),
      both(symbol({ volume_max: 0.5 }), intent({ volume: 0.51 })),
      "VOLUME_ABOVE_SYMBOL_MAX",
    ],
    ["volume step", intent({ volume: 0.07 }), intent({ volume: 0.075 }), "VOLUME_STEP"],
    [
      "configured max lots",
      both(limits({ maxLots: 0.3 }), intent({ volume: 0.3 })),
      both(limits({ maxLots: 0.3 }), intent({ volume: 0.31 })),
      "VOLUME_ABOVE_MAX",
    ],
    [
      // 0.1 lot at the ask 1.1001 is 11,001 USD
      "max notional",
      limits({ maxNotional: 11_001 }),
      both(limits({ maxNotional: 11_001 }), intent({ volume: 0.11 })),
      "NOTIONAL_ABOVE_MAX",
    ],
    ["SL required", intent({ sl: 1.099 }), intent({ sl: null }), "SL_REQUIRED"],
    // BUY: SL ≤ bid − 10 points = 1.0999
    ["BUY SL stops level", intent({ sl: 1.0999 }), intent({ sl: 1.09991 }), "SL_TOO_CLOSE"],
    // With stops_level 0 a stop one point inside the price is fine; on the price it is not
    [
      "BUY SL side",
      both(symbol({ stops_level: 0 }), intent({ sl: 1.09999 })),
      both(symbol({ stops_level: 0 }), intent({ sl: 1.1 })),
      "SL_WRONG_SIDE",
    ],
    // BUY: TP ≥ bid + 10 points = 1.1001
    ["BUY TP stops level", intent({ tp: 1.1001 }), intent({ tp: 1.10009 }), "TP_TOO_CLOSE"],
    [
      "BUY TP side",
      both(symbol({ stops_level: 0 }), intent({ tp: 1.10001 })),
      both(symbol({ stops_level: 0 }), intent({ tp: 1.1 })),
      "TP_WRONG_SIDE",
    ],
    // SELL: SL ≥ ask + 10 points = 1.1002, TP ≤ ask − 10 points = 1.1
    [
      "SELL SL stops level",
      intent({ side: "SELL", sl: 1.1002, tp: 1.098 }),
      intent({ side: "SELL", sl: 1.10019, tp: 1.098 }),
      "SL_TOO_CLOSE",
    ],
    [
      "SELL SL side",
      both(symbol({ stops_level: 0 }), intent({ side: "SELL", sl: 1.10011, tp: 1.098 })),
      both(symbol({ stops_level: 0 }), intent({ side: "SELL", sl: 1.1001, tp: 1.098 })),
      "SL_WRONG_SIDE",
    ],
    [
      "SELL TP stops level",
      intent({ side: "SELL", sl: 1.102, tp: 1.1 }),
      intent({ side: "SELL", sl: 1.102, tp: 1.10001 }),
      "TP_TOO_CLOSE",
    ],
    [
      "SELL TP side",
      both(symbol({ stops_level: 0 }), intent({ side: "SELL", sl: 1.102, tp: 1.10009 })),
      both(symbol({ stops_level: 0 }), intent({ side: "SELL", sl: 1.102, tp: 1.1001 })),
      "TP_WRONG_SIDE",
    ],
    [
      // 2 % of 10,000 = 200 USD = 0.1 lot × 2000 points from the ask 1.1001
      "money at risk",
      intent({ sl: 1.0801 }),
      intent({ sl: 1.08009 }),
      "RISK_ABOVE_MAX",
    ],
    [
      "max positions",
      both(limits({ maxPositions: 2 }), (s) => {
        s.market = { ...s.market, positions: [makePosition({ symbol: "USDJPY" })] };
      }),
      both(limits({ maxPositions: 2 }), (s) => {
        s.market = {
          ...s.market,
          positions: [makePosition({ symbol: "USDJPY" }), makePosition({ ticket: 502 })],
        };
      }),
      "MAX_POSITIONS",
    ],
    [
      "max positions per symbol",
      both(limits({ maxPositionsPerSymbol: 1 }), (s) => {
        s.market = { ...s.market, positions: [makePosition({ symbol: "USDJPY" })] };
      }),
      both(limits({ maxPositionsPerSymbol: 1 }), (s) => {
        s.market = { ...s.market, positions: [makePosition()] };
      }),
      "MAX_POSITIONS_PER_SYMBOL",
    ],
    [
      "max orders per second",
      both(limits({ maxOrdersPerSecond: 3 }), (s) => {
        s.recordedOrders = 2;
      }),
      both(limits({ maxOrdersPerSecond: 3 }), (s) => {
        s.recordedOrders = 3;
      }),
      "RATE_LIMIT_PER_SECOND",
    ],
    [
      "max orders per minute",
      both(limits({ maxOrdersPerSecond: null, maxOrdersPerMinute: 4 }), (s) => {
        s.recordedOrders = 3;
      }),
      both(limits({ maxOrdersPerSecond: null, maxOrdersPerMinute: 4 }), (s) => {
        s.recordedOrders = 4;
      }),
      "RATE_LIMIT_PER_MINUTE",
    ],
    [
      "daily loss (money)",
      (s) => {
        s.equityHistory = [{ atMs: BASE_MS - 60_000, equity: 10_500 }];
      },
      (s) => {
        s.equityHistory = [{ atMs: BASE_MS - 60_000, equity: 10_500.01 }];
      },
      "DAILY_LOSS_LIMIT",
    ],
    [
      "daily loss (percent)",
      both(limits({ dailyLossLimit: { money: null, percent: 5 } }), (s) => {
        s.equityHistory = [{ atMs: BASE_MS - 60_000, equity: 10_000 / 0.95 }];
      }),
      both(limits({ dailyLossLimit: { money: null, percent: 5 } }), (s) => {
        s.equityHistory = [{ atMs: BASE_MS - 60_000, equity: 10_000 / 0.9499 }];
      }),
      "DAILY_LOSS_LIMIT",
    ],
    [
      // A high-water mark set yesterday, so today's loss is 0
      "max drawdown",
      (s) => {
        s.equityHistory = [{ atMs: BASE_MS - 86_400_000, equity: 10_000 / 0.9 }];
      },
      (s) => {
        s.equityHistory = [{ atMs: BASE_MS - 86_400_000, equity: 10_000 / 0.8999 }];
      },
      "MAX_DRAWDOWN",
    ],
    [
      // Bid 1.1, ask 1.1002 is 20 points
      "max spread",
      symbol({ ask: 1.1002 }),
      symbol({ ask: 1.10021 }),
      "SPREAD_TOO_WIDE",
    ],
    [
      "quote age",
      symbol({ quote_time: BASE_MS - 2000 }),
      symbol({ quote_time: BASE_MS - 2001 }),
      "STALE_QUOTE",
    ],
  ])("%s: at the limit passes, one step beyond is denied", (_rule, atLimit, beyond, code) => {
    expect([decide(atLimit), decide(beyond)]).toEqual(["PASS", code]);
  });

  test.each<[string, Change, string]>([
    ["symbol off the allow-list", intent({ symbol: "GBPUSD" }), "SYMBOL_NOT_ALLOWED"],
    [
      "no symbol info",
      (s) => {
        s.market = makeMarket({ symbol: undefined });
      },
      "UNKNOWN_SYMBOL",
    ],
    ["symbol info for another symbol", symbol({ symbol: "USDJPY" }), "UNKNOWN_SYMBOL"],
    ["tick value 0", symbol({ tick_value: 0 }), "INVALID_SYMBOL_INFO"],
    ["volume step NaN", symbol({ volume_step: Number.NaN }), "INVALID_SYMBOL_INFO"],
    ["no bid", symbol({ bid: 0 }), "NO_QUOTE"],
    ["ask below bid", symbol({ ask: 1.0999 }), "NO_QUOTE"],
    ["session closed", symbol({ session_open: false }), "MARKET_CLOSED"],
    ["trade mode disabled", symbol({ trade_mode: "DISABLED" }), "SIDE_NOT_ALLOWED"],
    ["trade mode close-only", symbol({ trade_mode: "CLOSE_ONLY" }), "SIDE_NOT_ALLOWED"],
    ["BUY on a short-only symbol", symbol({ trade_mode: "SHORT_ONLY" }), "SIDE_NOT_ALLOWED"],
    ["BUY on a long-only symbol", symbol({ trade_mode: "LONG_ONLY" }), "PASS"],
    [
      "SELL on a long-only symbol",
      both(symbol({ trade_mode: "LONG_ONLY" }), intent({ side: "SELL", sl: 1.102, tp: 1.098 })),
      "SIDE_NOT_ALLOWED",
    ],
    ["volume NaN", intent({ volume: Number.NaN }), "INVALID_INTENT"],
    ["volume 0", intent({ volume: 0 }), "INVALID_INTENT"],
    ["negative SL", intent({ sl: -1 }), "INVALID_INTENT"],
    ["infinite TP", intent({ tp: Number.POSITIVE_INFINITY }), "INVALID_INTENT"],
    [
      "win probability above 1",
      intent({ edge: { winProbability: 1.1, payoffRatio: 2 } }),
      "INVALID_INTENT",
    ],
    ["payoff ratio 0", intent({ edge: { winProbability: 0.5, payoffRatio: 0 } }), "INVALID_INTENT"],
    [
      "no SL when not required",
      both(limits({ requireStopLoss: false }), intent({ sl: null })),
      "PASS",
    ],
    ["no TP", intent({ tp: null }), "PASS"],
    [
      "gateway clock 500 ms ahead, quote 2000 ms old",
      (s) => {
        s.market = makeMarket({
          clockOffsetMs: 500,
          symbol: makeSymbol({ quote_time: BASE_MS - 1500 }),
        });
      },
      "PASS",
    ],
    [
      "gateway clock 500 ms ahead, quote 2001 ms old",
      (s) => {
        s.market = makeMarket({
          clockOffsetMs: 500,
          symbol: makeSymbol({ quote_time: BASE_MS - 1501 }),
        });
      },
      "STALE_QUOTE",
    ],
  ])("%s", (_name, change, code) => {
    expect(decide(change)).toBe(code);
  });

  test.each([0.29, 0.57, 0.58, 0.07, 1])(
    "volume %p on a 0.01 step passes despite FP noise",
    (volume) => {
      expect(decide(intent({ volume, sl: 1.0999 }))).toBe("PASS");
    },
  );

  test("null limits switch their checks off", () => {
    const off = limits({
      maxNotional: null,
      maxRiskPercent: null,
      maxPositions: null,
      maxPositionsPerSymbol: null,
      maxOrdersPerSecond: null,
      maxOrdersPerMinute: null,
      dailyLossLimit: { money: null, percent: null },
      maxDrawdownPercent: null,
      maxSpreadPoints: null,
      maxQuoteAgeMs: null,
    });
    const extreme: Change = (s) => {
      s.intent = makeOpen({ volume: 1, sl: 1.0 });
      s.recordedOrders = 50;
      s.equityHistory = [{ atMs: BASE_MS - 60_000, equity: 50_000 }];
      s.market = makeMarket({
        positions: [makePosition(), makePosition({ ticket: 502 }), makePosition({ ticket: 503 })],
        symbol: makeSymbol({ ask: 1.105, quote_time: BASE_MS - 3_600_000 }),
      });
    };
    expect([decide(extreme), decide(off, extreme)]).toEqual(["RISK_ABOVE_MAX", "PASS"]);
  });
});
