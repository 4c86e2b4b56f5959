/**
 * The operator's sim commands at the gateway: a price or a jump is a pinned tick that triggers
 * SL/TP at once and is durable before the answer (a crash right after still has it in history);
 * a volatility change applies from now; refusals are named (terminal backend, unknown symbol,
 * closed session, bad prices, a likely misplaced decimal point, bad multipliers and requests).
 */
import { afterEach, describe, expect, test } from "bun:test";
import { silentLogger } from "../../shared/log.ts";
import type { TickRow } from "../../shared/protocol/index.ts";
import { TestClock } from "../../shared/testing/test-clock.ts";
import type { Backend } from "../backend/backend.ts";
import { SimBackend } from "../backend/sim/sim-backend.ts";
import {
  openOrder,
  SATURDAY_NOON,
  SimHarness,
  WEDNESDAY_NOON,
} from "../backend/sim/testing/support.ts";
import { readOperatorResult, runOperatorRequests, writeOperatorRequest } from "./requests.ts";
import { type SimResult, simHandler } from "./sim-market.ts";

const harnesses: SimHarness[] = [];
const others: SimBackend[] = [];
afterEach(async () => {
  for (const sim of others.splice(0)) await sim.stop();
  for (const harness of harnesses.splice(0)) await harness.cleanup();
});

async function started(clock = new TestClock(WEDNESDAY_NOON)): Promise<SimHarness> {
  const harness = new SimHarness({ seed: 4 }, clock);
  harnesses.push(harness);
  return harness.start();
}

/** One request through the operator channel, as `agent-gtw sim` sends it. */
async function ask(
  dir: string,
  backend: Backend,
  clock: TestClock,
  body: Record<string, unknown>,
): Promise<SimResult> {
  const id = writeOperatorRequest(dir, "sim", { ...body, at: clock.now() });
  const ran = await runOperatorRequests({
    stateDir: dir,
    clock,
    logger: silentLogger,
    handlers: { sim: simHandler({ backend, logger: silentLogger }) },
  });
  expect(ran).toBe(1);
  return readOperatorResult<SimResult>(dir, "sim", id) as SimResult;
}

describe("agent-gtw sim at the gateway", () => {
  test("a jump past the TP closes the position before the answer, and the market continues there", async () => {
    const h = await started();
    const quote = (await h.sim.symbolInfo("EURUSD"))!;
    const opened = await h.sim.open(
      openOrder({ tp: Number((quote.ask + 0.001).toFixed(5)), sl: null }),
    );
    const ticket = opened.position;
    const result = await ask(h.dir, h.sim, h.clock, {
      action: "jump",
      symbol: "EURUSD",
      points: 150,
    });
    expect(result.error).toBeUndefined();
    expect(result.before).toEqual({ bid: quote.bid, ask: quote.ask });
    expect(result.after!.bid).toBeCloseTo(quote.bid + 0.0015, 5);
    expect(result.after!.ask - result.after!.bid).toBeCloseTo(quote.ask - quote.bid, 5);
    expect(result.closed).toEqual([ticket]);
    expect(await h.sim.positions()).toEqual([]);
    const deals = await h.sim.deals({ from: 0, to: h.clock.now() + 1 });
    expect(deals.at(-1)).toMatchObject({ entry: "OUT", reason: "TP", position: ticket });
    // The market continues from the new price
    h.clock.advance(2_000);
    const next = (await h.sim.symbolInfo("EURUSD"))!;
    expect(Math.abs(next.bid - result.after!.bid)).toBeLessThan(0.0003);
  });

  test("a price sets the bid (keeping the spread) or both; percent jumps move the mid", async () => {
    const h = await started();
    const spread = (await h.sim.symbolInfo("XAUUSD"))!;
    const set = await ask(h.dir, h.sim, h.clock, {
      action: "price",
      symbol: "XAUUSD",
      bid: 2500.123,
    });
    expect(set.after).toEqual({
      bid: 2500.12,
      ask: Number((2500.12 + spread.ask - spread.bid).toFixed(2)),
    });
    const both = await ask(h.dir, h.sim, h.clock, {
      action: "price",
      symbol: "XAUUSD",
      bid: 2400,
      ask: 2400.5,
    });
    expect(both.after).toEqual({ bid: 2400, ask: 2400.5 });
    const down = await ask(h.dir, h.sim, h.clock, {
      action: "jump",
      symbol: "XAUUSD",
      percent: -1,
    });
    expect(down.after!.bid).toBeCloseTo(2400 - 24.0025, 1);
  });

  test("a pinned price is durable before the answer: a crash right after keeps it in history", async () => {
    const h = await started();
    h.clock.advance(1000);
    const at = h.clock.now();
    await ask(h.dir, h.sim, h.clock, { action: "price", symbol: "GBPUSD", bid: 1.3, ask: 1.3002 });
    // No stop (a crash): a new process on the same state directory
    const next = new SimBackend({ seed: 4, clock: h.clock, stateDir: h.dir });
    others.push(next);
    await next.start();
    const chunk = await next.market.ticks({
      symbol: "GBPUSD",
      from: at,
      skip: 0,
      to: at,
      kind: "ALL",
      limit: 10,
    });
    expect(chunk!.rows.map((row: TickRow) => row.slice(1, 3))).toContainEqual([1.3, 1.3002]);
  });

  test("volatility changes from now; the answer names it", async () => {
    const h = await started();
    const result = await ask(h.dir, h.sim, h.clock, {
      action: "volatility",
      symbol: "EURUSD",
      multiplier: 25,
    });
    expect(result).toMatchObject({ symbol: "EURUSD", volatility: 25 });
    expect(h.sim.volatility("EURUSD")).toBe(25);
  });

  test("refusals are named", async () => {
    const h = await started();
    const refused = async (body: Record<string, unknown>) => {
      const result = await ask(h.dir, h.sim, h.clock, body);
      return `${result.error_code}: ${result.error}`;
    };
    expect(await refused({ action: "price", symbol: "EURUSX", bid: 1 })).toStartWith(
      "UNKNOWN_SYMBOL",
    );
    expect(await refused({ action: "price", symbol: "EURUSD", bid: 11.05 })).toStartWith(
      "PRICE_TOO_FAR",
    );
    expect(await refused({ action: "price", symbol: "EURUSD", bid: "1.1" })).toStartWith(
      "INVALID_PRICE",
    );
    expect(await refused({ action: "jump", symbol: "EURUSD", points: -200_000 })).toStartWith(
      "INVALID_PRICE",
    );
    expect(await refused({ action: "jump", symbol: "EURUSD", points: 1.5 })).toStartWith(
      "INVALID_PRICE",
    );
    expect(await refused({ action: "jump", symbol: "EURUSD", points: 5, percent: 1 })).toStartWith(
      "INVALID_REQUEST",
    );
    expect(await refused({ action: "volatility", symbol: "EURUSD", multiplier: 1000 })).toStartWith(
      "INVALID_VOLATILITY",
    );
    expect(await refused({ action: "crash", symbol: "EURUSD" })).toStartWith("INVALID_REQUEST");
    expect(await refused({ action: "price", symbol: "EUR USD", bid: 1 })).toStartWith(
      "INVALID_REQUEST",
    );
  });

  test("refused while the session is closed and on the terminal backend", async () => {
    const h = await started(new TestClock(SATURDAY_NOON));
    const closed = await ask(h.dir, h.sim, h.clock, {
      action: "jump",
      symbol: "EURUSD",
      points: 5,
    });
    expect(closed.error_code).toBe("MARKET_CLOSED");
    // BTCUSD trades at weekends
    const open = await ask(h.dir, h.sim, h.clock, { action: "jump", symbol: "BTCUSD", points: 5 });
    expect(open.error).toBeUndefined();

    const terminal = { kind: "terminal" } as unknown as Backend;
    const refused = await ask(h.dir, terminal, h.clock, {
      action: "price",
      symbol: "EURUSD",
      bid: 1.1,
    });
    expect(refused.error_code).toBe("SIM_ONLY");
  });
});
