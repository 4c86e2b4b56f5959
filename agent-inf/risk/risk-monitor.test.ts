/**
 * RiskMonitor across actions: trading states and the breaker for OPEN/CLOSE/MODIFY, the CLOSE and
 * MODIFY rules, operator control and state events, invalid limits, and the audit log calls.
 */
import { describe, expect, test } from "bun:test";
import { AgentError } from "../../shared/errors.ts";
import type { LogFields, Logger } from "../../shared/log.ts";
import type { TradingState } from "../../shared/protocol/index.ts";
import { TestClock } from "../../shared/testing/test-clock.ts";
import type { TradingStateChange } from "../../shared/trading-state.ts";
import { RiskMonitor } from "./risk-monitor.ts";
import {
  makeLimits,
  makeMarket,
  makeOpen,
  makePosition,
  makeSymbol,
  outcome,
} from "./testing/fixtures.ts";
import type { CloseIntent, MarketSnapshot, ModifyIntent, RiskLimits } from "./types.ts";

interface Setup {
  state?: TradingState;
  breakerEngaged?: boolean;
  limits?: Partial<RiskLimits>;
}

function monitorFor(setup: Setup = {}): RiskMonitor {
  const monitor = new RiskMonitor({
    limits: makeLimits(setup.limits),
    clock: new TestClock(),
    breaker: { engaged: setup.breakerEngaged ?? false },
  });
  monitor.setTradingState(setup.state ?? "ACTIVE", "test");
  return monitor;
}

/** A BUY 0.1 EURUSD position, ticket 501, SL 1.099, TP 1.102, with bid 1.1 / ask 1.1001. */
const withPosition = (overrides: Parameters<typeof makePosition>[0] = {}): MarketSnapshot =>
  makeMarket({ positions: [makePosition(overrides)] });

const close = (intent: Partial<CloseIntent> = {}) => ({ ticket: 501, ...intent });
const modify = (intent: Partial<ModifyIntent> = {}) => ({ ticket: 501, ...intent });

describe("trading state and breaker", () => {
  // [state, breaker engaged, OPEN, CLOSE, MODIFY tightening the SL]
  test.each<[TradingState, boolean, string, string, string]>([
    ["ACTIVE", false, "PASS", "PASS", "PASS"],
    ["REDUCING", false, "REDUCING_ONLY", "PASS", "PASS"],
    ["HALTED", false, "TRADING_HALTED", "TRADING_HALTED", "TRADING_HALTED"],
    ["ACTIVE", true, "BREAKER_OPEN", "PASS", "PASS"],
    ["REDUCING", true, "REDUCING_ONLY", "PASS", "PASS"],
    ["HALTED", true, "TRADING_HALTED", "TRADING_HALTED", "TRADING_HALTED"],
  ])(
    "%s with breaker engaged=%p: open %s, close %s, modify %s",
    (state, engaged, openCode, closeCode, modifyCode) => {
      const monitor = monitorFor({ state, breakerEngaged: engaged });
      const market = withPosition();
      const results = [
        monitor.checkOpen(makeOpen(), market),
        monitor.checkClose(close(), market),
        monitor.checkModify(modify({ sl: 1.0995 }), market),
      ].map(outcome);
      expect(results).toEqual([openCode, closeCode, modifyCode]);
    },
  );

  test("the breaker flag is read at each decision", () => {
    const breaker = { engaged: true };
    const monitor = new RiskMonitor({ limits: makeLimits(), clock: new TestClock(), breaker });
    const before = outcome(monitor.checkOpen(makeOpen(), makeMarket()));
    breaker.engaged = false;
    const after = outcome(monitor.checkOpen(makeOpen(), makeMarket()));
    expect([before, after]).toEqual(["BREAKER_OPEN", "PASS"]);
  });

  test("operator state changes are returned and emitted once", () => {
    const monitor = monitorFor();
    const seen: TradingStateChange[] = [];
    monitor.onStateChange((change) => seen.push(change));
    const first = monitor.setTradingState("HALTED", "kill switch");
    const repeat = monitor.setTradingState("HALTED", "again");
    const back = monitor.setTradingState("ACTIVE", "all clear");
    expect(first).toMatchObject({ previous: "ACTIVE", state: "HALTED", source: "operator" });
    expect(repeat).toBeUndefined();
    expect(back?.state).toBe("ACTIVE");
    expect(seen.map((change) => change.state)).toEqual(["HALTED", "ACTIVE"]);
    expect([monitor.tradingState, monitor.tradingStateReason]).toEqual(["ACTIVE", "all clear"]);
  });

  test("a denial carries the state's reason", () => {
    const monitor = monitorFor();
    monitor.setTradingState("HALTED", "operator kill switch");
    const decision = monitor.checkOpen(makeOpen(), makeMarket());
    expect(decision).toMatchObject({
      ok: false,
      denial: { code: "TRADING_HALTED", context: { reason: "operator kill switch" } },
    });
  });
});

describe("close checks", () => {
  test.each<[string, Partial<CloseIntent>, MarketSnapshot, string]>([
    ["whole position", {}, withPosition(), "PASS"],
    ["exactly the position volume", { volume: 0.1 }, withPosition(), "PASS"],
    [
      "one step above the position volume",
      { volume: 0.11 },
      withPosition(),
      "INVALID_CLOSE_VOLUME",
    ],
    ["off the volume step", { volume: 0.055 }, withPosition(), "INVALID_CLOSE_VOLUME"],
    [
      "below the symbol minimum",
      { volume: 0.01 },
      makeMarket({ symbol: makeSymbol({ volume_min: 0.02 }), positions: [makePosition()] }),
      "INVALID_CLOSE_VOLUME",
    ],
    [
      "off step without symbol info is left to the gateway",
      { volume: 0.055 },
      makeMarket({ symbol: undefined, positions: [makePosition()] }),
      "PASS",
    ],
    ["unknown ticket", { ticket: 999 }, withPosition(), "POSITION_NOT_FOUND"],
    ["ticket 0", { ticket: 0 }, withPosition(), "INVALID_INTENT"],
    ["negative volume", { volume: -0.1 }, withPosition(), "INVALID_INTENT"],
    [
      "stale quote and wide spread do not block a close",
      {},
      makeMarket({
        symbol: makeSymbol({ ask: 1.2, quote_time: 0, session_open: false }),
        positions: [makePosition()],
      }),
      "PASS",
    ],
  ])("%s", (_name, intent, market, expected) => {
    expect(outcome(monitorFor().checkClose(close(intent), market))).toBe(expected);
  });

  test("the decision names the volume to close", () => {
    const monitor = monitorFor();
    const part = monitor.checkClose(close({ volume: 0.1 }), withPosition({ volume: 0.3 }));
    // A whole close takes what the close in flight leaves
    const whole = monitor.checkClose(close(), withPosition({ volume: 0.3 }));
    expect([part, whole]).toMatchObject([
      { ok: true, volume: 0.1 },
      { ok: true, volume: 0.2 },
    ]);
  });

  test("passed volumes leave without floating-point noise", () => {
    const monitor = monitorFor();
    const noisy = 0.1 + 0.2; // 0.30000000000000004
    const open = monitor.checkOpen(makeOpen({ volume: noisy }), makeMarket());
    const part = monitor.checkClose(close({ volume: noisy }), withPosition({ volume: 0.5 }));
    expect([open, part]).toMatchObject([
      { ok: true, volume: 0.3 },
      { ok: true, volume: 0.3 },
    ]);
  });
});

describe("modify checks", () => {
  // Position: BUY, SL 1.099, bid 1.1; SELL rows use SL 1.102 and ask 1.1001
  test.each<[string, Setup, Partial<ModifyIntent>, MarketSnapshot, string]>([
    ["tighten SL", {}, { sl: 1.0995 }, withPosition(), "PASS"],
    ["tighten SL while REDUCING", { state: "REDUCING" }, { sl: 1.0995 }, withPosition(), "PASS"],
    ["loosen SL", {}, { sl: 1.098 }, withPosition(), "PASS"],
    [
      "loosen SL while REDUCING",
      { state: "REDUCING" },
      { sl: 1.098 },
      withPosition(),
      "REDUCING_ONLY",
    ],
    [
      "remove SL while REDUCING",
      { state: "REDUCING" },
      { sl: null },
      withPosition(),
      "REDUCING_ONLY",
    ],
    ["remove a required SL", {}, { sl: null }, withPosition(), "SL_REQUIRED"],
    [
      "remove an optional SL",
      { limits: { requireStopLoss: false } },
      { sl: null },
      withPosition(),
      "PASS",
    ],
    [
      "first SL while REDUCING",
      { state: "REDUCING" },
      { sl: 1.099 },
      withPosition({ sl: null }),
      "PASS",
    ],
    ["change TP while REDUCING", { state: "REDUCING" }, { tp: 1.105 }, withPosition(), "PASS"],
    ["remove TP while REDUCING", { state: "REDUCING" }, { tp: null }, withPosition(), "PASS"],
    [
      "SELL: loosen SL upwards while REDUCING",
      { state: "REDUCING" },
      { sl: 1.103 },
      withPosition({ side: "SELL", sl: 1.102, tp: 1.098 }),
      "REDUCING_ONLY",
    ],
    [
      "SELL: tighten SL downwards while REDUCING",
      { state: "REDUCING" },
      { sl: 1.1015 },
      withPosition({ side: "SELL", sl: 1.102, tp: 1.098 }),
      "PASS",
    ],
    ["SL inside the stops level", {}, { sl: 1.09995 }, withPosition(), "SL_TOO_CLOSE"],
    ["SL through the bid", {}, { sl: 1.1 }, withPosition(), "SL_WRONG_SIDE"],
    ["TP through the bid", {}, { tp: 1.0995 }, withPosition(), "TP_WRONG_SIDE"],
    // Loosened: 2000 points from the bid × 0.1 lot = 200 = 2 % of 10,000
    ["loosened SL risk exactly at the max", {}, { sl: 1.08 }, withPosition(), "PASS"],
    ["loosened SL risk one point over", {}, { sl: 1.07999 }, withPosition(), "RISK_ABOVE_MAX"],
    [
      "tightened SL on a big position is never refused for risk",
      {},
      { sl: 1.06 },
      withPosition({ volume: 10, sl: 1.05 }),
      "PASS",
    ],
    ["unknown ticket", {}, { ticket: 999, sl: 1.0995 }, withPosition(), "POSITION_NOT_FOUND"],
    [
      "no symbol info",
      {},
      { sl: 1.0995 },
      makeMarket({ symbol: undefined, positions: [makePosition()] }),
      "UNKNOWN_SYMBOL",
    ],
    ["NaN SL", {}, { sl: Number.NaN }, withPosition(), "INVALID_INTENT"],
  ])("%s", (_name, setup, intent, market, expected) => {
    expect(outcome(monitorFor(setup).checkModify(modify(intent), market))).toBe(expected);
  });
});

describe("construction and logging", () => {
  test("invalid limits are a fault listing every problem", () => {
    const build = () =>
      new RiskMonitor({
        limits: makeLimits({ maxLots: 0, timeZone: "Mars/Olympus", maxPositions: 1.5 }),
        clock: new TestClock(),
      });
    expect(build).toThrow(AgentError);
    expect(build).toThrow(/maxLots.*maxPositions.*timeZone/);
  });

  test("denials log [RISK_DENY] at warn and passes [RISK_PASS] at info, with the code", () => {
    const calls: { level: string; message: string; fields: LogFields | undefined }[] = [];
    const record =
      (level: string) =>
      (message: string, fields?: LogFields): void => {
        calls.push({ level, message, fields });
      };
    const logger: Logger = {
      level: "debug",
      error: record("error"),
      warn: record("warn"),
      info: record("info"),
      debug: record("debug"),
      child: () => logger,
    };
    const monitor = new RiskMonitor({ limits: makeLimits(), clock: new TestClock(), logger });
    monitor.checkOpen(makeOpen({ clientOrderId: "a1" }), makeMarket());
    monitor.checkOpen(makeOpen({ clientOrderId: "a2", volume: 5 }), makeMarket());
    const audit = calls.filter((call) => call.message.startsWith("[RISK_"));
    expect(audit.map((call) => [call.level, call.message, call.fields?.["code"]])).toEqual([
      ["info", "[RISK_PASS]", undefined],
      ["warn", "[RISK_DENY]", "VOLUME_ABOVE_MAX"],
    ]);
    expect(audit[1]?.fields).toMatchObject({ client_order_id: "a2", volume: 5, max_lots: 1 });
  });
});
