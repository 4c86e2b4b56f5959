/**
 * The state file across restarts: trading-state changes written at once, equity marks at most
 * every ten seconds and at stop, a damaged file refused with its name, a failed write logged.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AgentError } from "../../shared/errors.ts";
import { type Logger, silentLogger } from "../../shared/log.ts";
import { TestClock } from "../../shared/testing/test-clock.ts";
import { INF_STATE_FILE, LaneStateStore } from "./state-store.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function stateDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "inf-state-"));
  dirs.push(dir);
  return dir;
}

const stored = (dir: string) => JSON.parse(readFileSync(join(dir, INF_STATE_FILE), "utf8"));
const SEED = { highWaterMark: 10_500, day: "2026-11-18", dayStartEquity: 10_000 };

describe("LaneStateStore", () => {
  test("a trading state is written at once and read back by the next run", () => {
    const dir = stateDir();
    new LaneStateStore(dir, silentLogger, new TestClock()).saveTradingState(
      "gtw-1",
      "HALTED",
      "operator",
    );
    const next = new LaneStateStore(dir, silentLogger, new TestClock());
    expect(next.remembered("gtw-1")).toEqual({
      tradingState: { state: "HALTED", reason: "operator" },
    });
    expect(next.remembered("gtw-2")).toBeUndefined();
  });

  test("a loss limit's hold survives a restart; a hold that is not one is refused", () => {
    const dir = stateDir();
    const hold = { state: "REDUCING", source: "daily_loss", reason: "DAILY_LOSS_LIMIT" } as const;
    new LaneStateStore(dir, silentLogger, new TestClock()).saveTradingState(
      "gtw-1",
      "HALTED",
      "operator after the loss",
      hold,
    );
    expect(new LaneStateStore(dir, silentLogger, new TestClock()).remembered("gtw-1")).toEqual({
      tradingState: { state: "HALTED", reason: "operator after the loss", hold },
    });
    const file = stored(dir);
    file["gtw-1"].tradingState.hold.source = "operator";
    writeFileSync(join(dir, INF_STATE_FILE), JSON.stringify(file));
    expect(() => new LaneStateStore(dir, silentLogger, new TestClock())).toThrow(
      "gtw-1.tradingState.hold is not a loss limit's hold",
    );
  });

  test("equity marks are written at most every 10 s, and the latest at flush", () => {
    const dir = stateDir();
    const clock = new TestClock();
    const store = new LaneStateStore(dir, silentLogger, clock);
    clock.advance(10_001);
    store.saveEquity("gtw-1", SEED);
    expect(stored(dir)["gtw-1"].equity).toEqual(SEED);
    clock.advance(5000);
    store.saveEquity("gtw-1", { ...SEED, highWaterMark: 11_000 });
    expect(stored(dir)["gtw-1"].equity.highWaterMark).toBe(10_500);
    store.flush();
    expect(stored(dir)["gtw-1"].equity.highWaterMark).toBe(11_000);
  });

  test("the equity curve is written with the equity marks and read back by the next run", () => {
    const dir = stateDir();
    const clock = new TestClock();
    const store = new LaneStateStore(dir, silentLogger, clock);
    clock.advance(10_001);
    store.saveEquityCurve("gtw-1", [
      [1000, 10_000],
      [2000, 10_010],
    ]);
    store.saveEquity("gtw-1", SEED);

    expect(new LaneStateStore(dir, silentLogger, new TestClock()).remembered("gtw-1")).toEqual({
      equity: SEED,
      equityCurve: [
        [1000, 10_000],
        [2000, 10_010],
      ],
    });
    const file = stored(dir);
    file["gtw-1"].equityCurve = [
      [2000, 1],
      [1000, 1],
    ];
    writeFileSync(join(dir, INF_STATE_FILE), JSON.stringify(file));
    expect(() => new LaneStateStore(dir, silentLogger, new TestClock())).toThrow(
      "gtw-1.equityCurve is not a list of [time, equity] pairs in time order",
    );
  });

  test("a damaged file is refused with its name", () => {
    const dir = stateDir();
    writeFileSync(join(dir, INF_STATE_FILE), "{not json");
    expect(() => new LaneStateStore(dir, silentLogger, new TestClock())).toThrow(AgentError);
    expect(() => new LaneStateStore(dir, silentLogger, new TestClock())).toThrow(INF_STATE_FILE);
  });

  test("a failed write is logged, not thrown", () => {
    const dir = stateDir();
    const errors: string[] = [];
    const logger = { ...silentLogger, error: (message: string) => errors.push(message) } as Logger;
    const store = new LaneStateStore(
      join(dir, INF_STATE_FILE, "below-a-file"),
      logger,
      new TestClock(),
    );
    writeFileSync(join(dir, INF_STATE_FILE), "{}");
    store.saveTradingState("gtw-1", "REDUCING", "loss limit");
    expect(errors).toEqual(["Could not save agent state"]);
  });
});
