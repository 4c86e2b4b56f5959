/**
 * The volatility setting: it scales the typical move per tick and per minute as configured, per
 * symbol or for all; a change never rewrites history already generated (it applies from a mark
 * at the time it is made), the market is continuous across it, and a restart, or a crash after
 * the start that applied it, serves the same past.
 */
import { afterEach, describe, expect, test } from "bun:test";
import type { TickRow } from "../../../../shared/protocol/index.ts";
import { TestClock } from "../../../../shared/testing/test-clock.ts";
import { resolveVolatility } from "../options.ts";
import { SimBackend } from "../sim-backend.ts";
import { resolveSymbols } from "../symbols.ts";
import { SimHarness, WEDNESDAY_NOON } from "../testing/support.ts";
import { PriceHistory } from "./price-history.ts";
import type { SymbolHistory } from "./symbol-history.ts";

const MINUTE = 60_000;
const specs = resolveSymbols();
const names = [...specs.keys()];

function market(setting: number | Record<string, number>, seed = 5): PriceHistory {
  const history = new PriceHistory(
    specs.values(),
    seed,
    "forex",
    resolveVolatility(setting, names),
  );
  history.calibrate(WEDNESDAY_NOON);
  return history;
}

/** Mean absolute bid change between consecutive ticks, in points, over [from, to). */
function pointsPerTick(history: SymbolHistory, from: number, to: number): number {
  let sum = 0;
  let count = 0;
  let previous: number | undefined;
  for (let minute = from / MINUTE; minute < to / MINUTE; minute++) {
    for (const tick of history.ticks(minute)) {
      if (tick[0] >= to) break;
      if (previous !== undefined) {
        sum += Math.abs(tick[1] - previous) * history.price.scale;
        count += 1;
      }
      previous = tick[1];
    }
  }
  return sum / count;
}

/** Standard deviation of minute-to-minute log returns of the M1 closes over [from, to). */
function minuteSd(history: SymbolHistory, from: number, to: number): number {
  const returns: number[] = [];
  let previous: number | undefined;
  for (let minute = from / MINUTE; minute < to / MINUTE; minute++) {
    const bar = history.bar(minute);
    if (bar === undefined) continue;
    if (previous !== undefined) returns.push(Math.log(bar.close / previous));
    previous = bar.close;
  }
  const mean = returns.reduce((sum, value) => sum + value, 0) / returns.length;
  return Math.sqrt(returns.reduce((sum, value) => sum + (value - mean) ** 2, 0) / returns.length);
}

describe("volatility setting", () => {
  test("scales the typical move per tick and per minute as configured", () => {
    const day = [WEDNESDAY_NOON - 24 * 60 * MINUTE, WEDNESDAY_NOON] as const;
    const calm = market(1);
    const fast = market(10);
    for (const symbol of ["EURUSD", "USDJPY", "XAUUSD", "US500", "BTCUSD"]) {
      const base = calm.get(symbol)!.history;
      const scaled = fast.get(symbol)!.history;
      const tickRatio = pointsPerTick(scaled, ...day) / pointsPerTick(base, ...day);
      const minuteRatio = minuteSd(scaled, ...day) / minuteSd(base, ...day);
      expect({ symbol, tick: tickRatio > 8 && tickRatio < 12 }).toEqual({ symbol, tick: true });
      expect({ symbol, minute: minuteRatio > 8.5 && minuteRatio < 11.5 }).toEqual({
        symbol,
        minute: true,
      });
    }
    // Realistic at 1: EURUSD moves one or two points per tick, a 100-point stop takes many minutes
    const eurusd = pointsPerTick(calm.get("EURUSD")!.history, ...day);
    expect(eurusd).toBeGreaterThan(0.8);
    expect(eurusd).toBeLessThan(3);
  });

  test("per symbol, with a default for the others", () => {
    const setting = { default: 5, EURUSD: 20 };
    const resolved = resolveVolatility(setting, names);
    expect(resolved.get("EURUSD")).toBe(20);
    expect(resolved.get("XAUUSD")).toBe(5);
    const day = [WEDNESDAY_NOON - 6 * 60 * MINUTE, WEDNESDAY_NOON] as const;
    const base = market(1);
    const mixed = market(setting);
    const ratio = (symbol: string) =>
      minuteSd(mixed.get(symbol)!.history, ...day) / minuteSd(base.get(symbol)!.history, ...day);
    expect(ratio("EURUSD")).toBeGreaterThan(16);
    expect(ratio("XAUUSD")).toBeGreaterThan(4);
    expect(ratio("XAUUSD")).toBeLessThan(6);
  });

  test("bad settings are refused, naming what is wrong", () => {
    expect(() => resolveVolatility(0, names)).toThrow("from 0.1 to 100");
    expect(() => resolveVolatility({ EURUSD: 1000 }, names)).toThrow("volatility of EURUSD");
    expect(() => resolveVolatility({ EURUSX: 2 }, names)).toThrow(
      "volatility names EURUSX, which is not a sim symbol",
    );
    expect(() => resolveVolatility(Number.NaN, names)).toThrow("was NaN");
  });

  test("the same seed and setting give the same history", () => {
    const a = market({ EURUSD: 7 }).get("EURUSD")!.history;
    const b = market({ EURUSD: 7 }).get("EURUSD")!.history;
    const minute = WEDNESDAY_NOON / MINUTE - 100;
    expect(a.ticks(minute)).toEqual(b.ticks(minute));
    expect(a.bar(minute - 500)).toEqual(b.bar(minute - 500));
  });
});

describe("volatility changes across restarts", () => {
  const harnesses: SimHarness[] = [];
  const extra: SimBackend[] = [];
  afterEach(async () => {
    for (const sim of extra.splice(0)) await sim.stop();
    for (const harness of harnesses.splice(0)) await harness.cleanup();
  });

  async function ticks(sim: SimBackend, symbol: string, from: number, to: number) {
    const rows: TickRow[] = [];
    let start = { from, skip: 0 };
    for (;;) {
      const chunk = (await sim.market.ticks({ symbol, ...start, to, kind: "ALL", limit: 10_000 }))!;
      rows.push(...chunk.rows);
      if (chunk.next === undefined) return rows;
      start = chunk.next;
    }
  }

  const bars = async (sim: SimBackend, from: number, to: number) =>
    (await sim.market.rates({ symbol: "EURUSD", timeframe: "M1", from, to, limit: 5000 }))!.rows;

  const meanMove = (rows: readonly TickRow[]) => {
    let sum = 0;
    for (let i = 1; i < rows.length; i++)
      sum += Math.abs((rows[i]![1] - rows[i - 1]![1]) * 100_000);
    return sum / (rows.length - 1);
  };

  test("a new setting applies from the restart on: the past served stays, the market is continuous", async () => {
    const clock = new TestClock(WEDNESDAY_NOON);
    const harness = new SimHarness({ seed: 9 }, clock);
    harnesses.push(harness);
    await harness.start();
    clock.advance(10 * MINUTE);
    const since = WEDNESDAY_NOON - 30 * MINUTE;
    const restartAt = clock.now();
    const servedTicks = await ticks(harness.sim, "EURUSD", since, restartAt);
    const servedBars = await bars(harness.sim, since, restartAt);

    const faster = await harness.restart({ seed: 9, volatility: { EURUSD: 20 } });
    expect(faster.volatility("EURUSD")).toBe(20);
    expect(faster.volatility("GBPUSD")).toBe(1);
    expect(await ticks(faster, "EURUSD", since, restartAt)).toEqual(servedTicks);
    // Complete bars: the same; the bar being built at the restart continues at the new pace
    const complete = servedBars.filter((bar) => bar[0] < restartAt);
    expect(complete.length).toBeGreaterThan(20);
    expect(await bars(faster, since, restartAt - MINUTE)).toEqual(complete);

    clock.advance(10 * MINUTE);
    const after = await ticks(faster, "EURUSD", restartAt + 1, clock.now());
    expect(meanMove(after) / meanMove(servedTicks)).toBeGreaterThan(10);
    // Continuous: the first tick after the change is one tick's move (at the new pace) away
    const gap = Math.abs(after[0]![1] - servedTicks.at(-1)![1]) * 100_000;
    expect(gap).toBeLessThan(6 * meanMove(after));

    // The same setting again: nothing changes, every bar read twice is the same bar
    const served = await ticks(faster, "EURUSD", since, clock.now());
    const again = await harness.restart({ seed: 9, volatility: { EURUSD: 20 } });
    expect(await ticks(again, "EURUSD", since, clock.now())).toEqual(served);
    // And back to 1: again only from this restart on
    const back = await harness.restart({ seed: 9 });
    expect(await ticks(back, "EURUSD", since, clock.now())).toEqual(served);
    expect(back.volatility("EURUSD")).toBe(1);
  });

  test("the change is durable at start: a crash right after serves the same past", async () => {
    const clock = new TestClock(WEDNESDAY_NOON);
    const harness = new SimHarness({ seed: 9 }, clock);
    harnesses.push(harness);
    await harness.start();
    clock.advance(MINUTE);
    const changedAt = clock.now();
    const faster = await harness.restart({ seed: 9, volatility: 20 });
    clock.advance(5 * MINUTE);
    const served = await ticks(faster, "EURUSD", changedAt - MINUTE, clock.now());
    // A crash: no stop, so no feed record at stop; a new process starts later, same setting
    clock.advance(5 * MINUTE);
    const next = new SimBackend({ seed: 9, volatility: 20, clock, stateDir: harness.dir });
    extra.push(next);
    await next.start();
    expect(await ticks(next, "EURUSD", changedAt - MINUTE, changedAt + 5 * MINUTE)).toEqual(served);
  });

  test("at run time (the operator command), from that moment on", async () => {
    const clock = new TestClock(WEDNESDAY_NOON);
    const harness = new SimHarness({ seed: 3 }, clock);
    harnesses.push(harness);
    await harness.start();
    clock.advance(5 * MINUTE);
    const before = await ticks(harness.sim, "EURUSD", WEDNESDAY_NOON, clock.now());
    const changedAt = clock.now();
    await harness.sim.setVolatility("EURUSD", 30);
    expect(await ticks(harness.sim, "EURUSD", WEDNESDAY_NOON, changedAt)).toEqual(before);
    clock.advance(5 * MINUTE);
    const after = await ticks(harness.sim, "EURUSD", changedAt + 1, clock.now());
    expect(meanMove(after) / meanMove(before)).toBeGreaterThan(15);
    // Persisted: a restart with the same config keeps the served past (the config applies anew)
    const served = await ticks(harness.sim, "EURUSD", WEDNESDAY_NOON, clock.now());
    const restarted = await harness.restart();
    expect(await ticks(restarted, "EURUSD", WEDNESDAY_NOON, clock.now())).toEqual(served);
    expect(restarted.volatility("EURUSD")).toBe(1);
  });
});
