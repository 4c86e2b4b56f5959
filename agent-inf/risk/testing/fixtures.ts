/**
 * Test-only builders for the risk tests: an EURUSD-like symbol on a 10,000 USD account, limits
 * under which the default intent passes every check, and a scenario runner that builds a fresh
 * RiskMonitor on a TestClock. Production code never imports this file.
 */
import type {
  AccountInfo,
  Position,
  SymbolInfo,
  TradingState,
} from "../../../shared/protocol/index.ts";
import { TestClock } from "../../../shared/testing/test-clock.ts";
import { type OpenDecision, RiskMonitor } from "../risk-monitor.ts";
import type { MarketSnapshot, OpenIntent, PlaceIntent, RiskLimits } from "../types.ts";

/** 2026-11-18 12:00 UTC, TestClock's default start. */
export const BASE_MS = Date.UTC(2026, 10, 18, 12, 0, 0);
export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;

export function makeSymbol(overrides: Partial<SymbolInfo> = {}): SymbolInfo {
  return {
    symbol: "EURUSD",
    description: "Euro vs US Dollar",
    digits: 5,
    point: 0.00001,
    tick_size: 0.00001,
    tick_value: 1,
    contract_size: 100_000,
    volume_min: 0.01,
    volume_max: 100,
    volume_step: 0.01,
    volume_limit: 0,
    stops_level: 10,
    freeze_level: 0,
    filling_modes: ["FOK", "IOC"],
    execution_mode: "MARKET",
    trade_mode: "FULL",
    calc_mode: "FOREX",
    currency_base: "EUR",
    currency_profit: "USD",
    currency_margin: "EUR",
    margin_hedged: 100_000,
    bid: 1.1,
    ask: 1.1001,
    quote_time: BASE_MS,
    spread: 10,
    session_open: true,
    ...overrides,
  };
}

export function makeAccount(overrides: Partial<AccountInfo> = {}): AccountInfo {
  return {
    login: 1001,
    server: "Sim-Demo",
    name: "Test",
    currency: "USD",
    balance: 10_000,
    equity: 10_000,
    profit: 0,
    margin: 0,
    margin_free: 10_000,
    margin_level: 0,
    leverage: 100,
    margin_mode: "HEDGING",
    trade_allowed: true,
    margin_so_call: 100,
    margin_so_so: 50,
    ...overrides,
  };
}

export function makePosition(overrides: Partial<Position> = {}): Position {
  return {
    ticket: 501,
    symbol: "EURUSD",
    side: "BUY",
    volume: 0.1,
    price_open: 1.1,
    price_current: 1.1,
    sl: 1.099,
    tp: 1.102,
    profit: 0,
    swap: 0,
    magic: 7,
    comment: "",
    time: BASE_MS - HOUR_MS,
    time_update: BASE_MS - HOUR_MS,
    ...overrides,
  };
}

export function makeLimits(overrides: Partial<RiskLimits> = {}): RiskLimits {
  return {
    allowedSymbols: ["EURUSD", "USDJPY"],
    maxLots: 1,
    maxNotional: 200_000,
    requireStopLoss: true,
    maxRiskPercent: 2,
    maxPositions: 5,
    maxPositionsPerSymbol: 2,
    maxOrdersPerSecond: 5,
    maxOrdersPerMinute: 20,
    dailyLossLimit: { money: 500, percent: null },
    dailyLossAction: "REDUCING",
    maxDrawdownPercent: 10,
    maxSpreadPoints: 20,
    maxQuoteAgeMs: 2000,
    timeZone: "UTC",
    kelly: { enabled: false, fraction: 0.25, maxFraction: 0.05 },
    ...overrides,
  };
}

/** BUY 0.1 EURUSD, SL 110 points under the ask (11 USD at risk), TP 200 points over the bid. */
export function makeOpen(overrides: Partial<OpenIntent> = {}): OpenIntent {
  return { symbol: "EURUSD", side: "BUY", volume: 0.1, sl: 1.099, tp: 1.102, ...overrides };
}

/** BUY_LIMIT 0.1 EURUSD at 1.0950 (under the ask of 1.1001), SL 100 points under it (10 USD). */
export function makePlace(overrides: Partial<PlaceIntent> = {}): PlaceIntent {
  return {
    type: "BUY_LIMIT",
    symbol: "EURUSD",
    side: "BUY",
    volume: 0.1,
    price: 1.095,
    sl: 1.094,
    tp: 1.099,
    ...overrides,
  };
}

export function makeMarket(overrides: Partial<MarketSnapshot> = {}): MarketSnapshot {
  return { symbol: makeSymbol(), account: makeAccount(), positions: [], ...overrides };
}

/** Everything one OPEN decision depends on, for table tests that change one thing at a time. */
export interface OpenScenario {
  limits: RiskLimits;
  intent: OpenIntent;
  market: MarketSnapshot;
  state: TradingState;
  breakerEngaged: boolean;
  /** Orders recorded just before the decision. */
  recordedOrders: number;
  /** Equity readings fed before the decision, at absolute Unix ms before BASE_MS. */
  equityHistory: { atMs: number; equity: number }[];
}

export function makeScenario(): OpenScenario {
  return {
    limits: makeLimits(),
    intent: makeOpen(),
    market: makeMarket(),
    state: "ACTIVE",
    breakerEngaged: false,
    recordedOrders: 0,
    equityHistory: [],
  };
}

/** Replays the scenario on a fresh monitor whose clock ends at BASE_MS, then decides the OPEN. */
export function runOpenScenario(scenario: OpenScenario): OpenDecision {
  const history = scenario.equityHistory.toSorted((a, b) => a.atMs - b.atMs);
  const clock = new TestClock(history[0]?.atMs ?? BASE_MS);
  const monitor = new RiskMonitor({
    limits: scenario.limits,
    clock,
    breaker: { engaged: scenario.breakerEngaged },
  });
  for (const reading of history) {
    clock.advance(reading.atMs - clock.now());
    monitor.updateEquity(makeAccount({ equity: reading.equity }));
  }
  clock.advance(BASE_MS - clock.now());
  monitor.setTradingState(scenario.state, "test");
  for (let index = 0; index < scenario.recordedOrders; index++) monitor.recordOrder();
  return monitor.checkOpen(scenario.intent, scenario.market);
}

/**
 * A decision whose order has come back with nothing to hold (its reservation released), for
 * tests of other limits that take many decisions in a row on one monitor.
 */
export function released<D extends { ok: boolean; reservation?: { release(): void } }>(
  decision: D,
): D {
  decision.reservation?.release();
  return decision;
}

/** The denial code of a decision, or "PASS". */
export function outcome(decision: { ok: boolean; denial?: { code: string } }): string {
  return decision.ok ? "PASS" : (decision.denial?.code ?? "?");
}
