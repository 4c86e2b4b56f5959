/**
 * What agent-inf remembers across restarts, per gateway: the trading state (an operator HALT, or
 * a loss limit's REDUCING, must not be undone by a restart), the equity high-water mark and
 * start-of-day equity (or drawdown protection would restart from zero), and the dashboard's
 * equity curve (bounded, equity-curve.ts). One small JSON file, written atomically; a broken
 * file is an error naming it, never a silent reset.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Clock } from "../../shared/clock.ts";
import { AgentError, describeError, FaultCode } from "../../shared/errors.ts";
import type { Logger } from "../../shared/log.ts";
import { TRADING_STATES, type TradingState } from "../../shared/protocol/index.ts";
import { type RiskHold, TRADING_STATE_SOURCES } from "../../shared/trading-state.ts";
import type { EquitySeed } from "../risk/equity-tracker.ts";
import { EQUITY_CURVE_MAX_POINTS, type EquityPoint, readEquityPoints } from "./equity-curve.ts";

export const INF_STATE_FILE = "agent-inf-state.json";
// Room for the equity curves of many gateways (each at most EQUITY_CURVE_MAX_POINTS points)
const MAX_BYTES = 1024 * 1024;

export interface LaneState {
  readonly tradingState?: {
    readonly state: TradingState;
    readonly reason: string;
    /** A loss limit's hold, so a restart does not lift it (absent in older files). */
    readonly hold?: RiskHold;
  };
  readonly equity?: EquitySeed;
  /** The dashboard's equity curve (absent in older files). */
  readonly equityCurve?: readonly EquityPoint[];
}

export type StoredState = Readonly<Record<string, LaneState>>;

export function readInferenceState(stateDir: string): StoredState {
  const path = join(stateDir, INF_STATE_FILE);
  if (!existsSync(path)) return {};
  const fail = (why: string): never => {
    throw new AgentError(
      FaultCode.CONFIG_INVALID,
      `state: ${path}: ${why}; fix or remove it (removing resets the drawdown high-water mark)`,
    );
  };
  const text = readFileSync(path, "utf8");
  if (text.length > MAX_BYTES) fail("file is too large");
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return fail("not valid JSON");
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
    return fail("expected an object");
  const out: Record<string, LaneState> = {};
  for (const [gateway, value] of Object.entries(parsed as Record<string, unknown>)) {
    const lane = value as {
      tradingState?: { state?: unknown; reason?: unknown; hold?: unknown };
      equity?: Record<string, unknown>;
      equityCurve?: unknown;
    };
    const state = lane.tradingState?.state;
    if (state !== undefined && !TRADING_STATES.includes(state as TradingState))
      fail(`${gateway}.tradingState.state is not a trading state`);
    const hold = readHold(lane.tradingState?.hold, `${gateway}.tradingState.hold`, fail);
    const equity = lane.equity;
    const number = (key: string) =>
      typeof equity?.[key] === "number" && Number.isFinite(equity[key])
        ? (equity[key] as number)
        : undefined;
    const curve = lane.equityCurve === undefined ? undefined : readEquityPoints(lane.equityCurve);
    if (lane.equityCurve !== undefined && curve === undefined)
      fail(`${gateway}.equityCurve is not a list of [time, equity] pairs in time order`);
    const highWaterMark = number("highWaterMark");
    const dayStartEquity = number("dayStartEquity");
    out[gateway] = {
      ...(state === undefined
        ? {}
        : {
            tradingState: {
              state: state as TradingState,
              reason: String(lane.tradingState?.reason ?? "restored").slice(0, 200),
              ...(hold === undefined ? {} : { hold }),
            },
          }),
      ...(equity === undefined
        ? {}
        : {
            equity: {
              ...(highWaterMark === undefined ? {} : { highWaterMark }),
              ...(dayStartEquity === undefined ? {} : { dayStartEquity }),
              ...(typeof equity["day"] === "string" ? { day: equity["day"] } : {}),
            },
          }),
      ...(curve === undefined ? {} : { equityCurve: curve.slice(-EQUITY_CURVE_MAX_POINTS) }),
    };
  }
  return out;
}

function readHold(
  value: unknown,
  where: string,
  fail: (why: string) => never,
): RiskHold | undefined {
  if (value === undefined) return undefined;
  const hold = value as { state?: unknown; source?: unknown; reason?: unknown };
  const sources: readonly unknown[] = TRADING_STATE_SOURCES.filter((s) => s !== "operator");
  if (
    typeof value !== "object" ||
    value === null ||
    !TRADING_STATES.includes(hold.state as TradingState) ||
    !sources.includes(hold.source)
  )
    return fail(`${where} is not a loss limit's hold (state, source, reason)`);
  return {
    state: hold.state as TradingState,
    source: hold.source as RiskHold["source"],
    reason: String(hold.reason ?? "restored").slice(0, 200),
  };
}

export function writeInferenceState(stateDir: string, state: StoredState): void {
  mkdirSync(stateDir, { recursive: true });
  const path = join(stateDir, INF_STATE_FILE);
  writeFileSync(`${path}.tmp`, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  renameSync(`${path}.tmp`, path);
}

/**
 * The state file as the running agent keeps it: what was read at start, and every change to a
 * lane's trading state or equity marks written back. Equity changes with every account poll, so
 * it is written at most every `equityWriteMs`; trading-state changes at once. A failed write is
 * logged, not thrown: the agent keeps trading on what it has in memory.
 */
export class LaneStateStore {
  readonly #stateDir: string;
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #equityWriteMs: number;
  readonly #state: Record<string, LaneState>;
  #equityWrittenAt = 0;

  constructor(stateDir: string, logger: Logger, clock: Clock, equityWriteMs = 10_000) {
    this.#stateDir = stateDir;
    this.#logger = logger;
    this.#clock = clock;
    this.#equityWriteMs = equityWriteMs;
    this.#state = { ...readInferenceState(stateDir) };
  }

  /** What was stored for a gateway's lane, if anything. */
  remembered(gateway: string): LaneState | undefined {
    return this.#state[gateway];
  }

  saveTradingState(gateway: string, state: TradingState, reason: string, hold?: RiskHold): void {
    this.#state[gateway] = {
      ...this.#state[gateway],
      tradingState: { state, reason, ...(hold === undefined ? {} : { hold }) },
    };
    this.flush();
  }

  /** Kept in memory; written with the next equity write (or flush), which follows each poll. */
  saveEquityCurve(gateway: string, points: readonly EquityPoint[]): void {
    this.#state[gateway] = { ...this.#state[gateway], equityCurve: points };
  }

  saveEquity(gateway: string, equity: EquitySeed): void {
    this.#state[gateway] = { ...this.#state[gateway], equity };
    const now = this.#clock.monotonic();
    if (now - this.#equityWrittenAt <= this.#equityWriteMs) return;
    this.#equityWrittenAt = now;
    this.flush();
  }

  flush(): void {
    try {
      writeInferenceState(this.#stateDir, this.#state);
    } catch (error) {
      this.#logger.error("Could not save agent state", {
        dir: this.#stateDir,
        error: describeError(error),
      });
    }
  }
}
