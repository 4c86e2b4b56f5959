/**
 * The sim's whole market history: one SymbolHistory (and its bar builder) per symbol, all drawn
 * from one seed, plus what must be persisted so the history survives a restart unchanged: the
 * seed itself, each symbol's base segment (calibration and volatility), and the pins and marks.
 *
 * The volatility setting (a multiplier of each symbol's own daily volatility) never rewrites the
 * past: a fresh history has it from the start; a restored one keeps what it had and, when the
 * setting differs, changes from the restart on (a mark, symbol-history.ts), as a run-time change
 * (`setVolatility`) does from the time it is made.
 *
 * The price-shaping properties of a symbol (digits, typical spread, anchor price, daily
 * volatility, session) are read once, here: history is a function of them, so changing them at
 * run time (updateSymbol) does not rewrite the past. Sessions come from the sim's schedule.
 */
import { AgentError, FaultCode } from "../../../../shared/errors.ts";
import type { SessionSchedule } from "../sessions.ts";
import type { SymbolSpec } from "../symbols.ts";
import { BarBuilder } from "./bars.ts";
import { hash, nameKey } from "./noise.ts";
import { SymbolPath } from "./path.ts";
import {
  MAX_PINS,
  MAX_VOLATILITY,
  MIN_VOLATILITY,
  type Pin,
  SymbolHistory,
} from "./symbol-history.ts";

/** Persisted with the feed (quotes.ts FeedState.path). */
export interface PriceHistoryState {
  readonly seed: number;
  /** Calibration factor per symbol. */
  readonly base: Readonly<Record<string, number>>;
  /** Volatility multiplier of the base segment per symbol; absent in older state (1). */
  readonly volatility?: Readonly<Record<string, number>>;
  readonly pins: Readonly<Record<string, readonly Pin[]>>;
}

export interface SymbolMarket {
  readonly history: SymbolHistory;
  readonly bars: BarBuilder;
}

export class PriceHistory {
  readonly #specs: readonly SymbolSpec[];
  readonly #schedule: SessionSchedule;
  /** The volatility setting per symbol (1 where none is given). */
  readonly #volatility: ReadonlyMap<string, number>;
  #seed: number;
  #symbols = new Map<string, SymbolMarket>();

  constructor(
    specs: Iterable<SymbolSpec>,
    seed: number,
    schedule: SessionSchedule,
    volatility: ReadonlyMap<string, number> = new Map(),
  ) {
    if (!Number.isSafeInteger(seed)) {
      throw new RangeError(`sim: seed must be an integer (was ${seed})`);
    }
    this.#specs = [...specs];
    this.#schedule = schedule;
    this.#volatility = volatility;
    this.#seed = seed >>> 0;
    this.#build();
  }

  get seed(): number {
    return this.#seed;
  }

  get(symbol: string): SymbolMarket | undefined {
    return this.#symbols.get(symbol);
  }

  /** Every symbol's price at `time` becomes its anchor price (a fresh state directory). */
  calibrate(time: number): void {
    for (const { history } of this.#symbols.values()) history.calibrate(time);
  }

  /**
   * Bring every symbol to its volatility setting from `time` on (a mark where it differs from
   * the one in force); returns the symbols that changed.
   */
  applyVolatility(time: number): string[] {
    const changed: string[] = [];
    for (const [symbol, { history }] of this.#symbols) {
      const wanted = this.#volatility.get(symbol) ?? 1;
      if (history.volatilityAfter(time) === wanted) continue;
      history.mark(time, wanted);
      changed.push(symbol);
    }
    return changed;
  }

  snapshot(): PriceHistoryState {
    const base: Record<string, number> = {};
    const volatility: Record<string, number> = {};
    const pins: Record<string, readonly Pin[]> = {};
    for (const [symbol, { history }] of this.#symbols) {
      base[symbol] = history.base.factor;
      volatility[symbol] = history.base.volatility;
      if (history.pins.length > 0) pins[symbol] = history.pins;
    }
    return { seed: this.#seed, base, volatility, pins };
  }

  /**
   * Continue the persisted history. Symbols added since keep the base they were given at start
   * (their history begins with this run's prices); a damaged state is refused. The volatility
   * setting is not applied here: applyVolatility does that from a time on.
   */
  restore(value: unknown, where: string): void {
    if (!isState(value)) {
      throw new AgentError(
        FaultCode.JOURNAL_CORRUPT,
        `sim: market history state in ${where} is corrupt`,
      );
    }
    const kept = new Map(
      [...this.#symbols].map(([symbol, market]) => [symbol, market.history.base]),
    );
    if (value.seed !== this.#seed) {
      this.#seed = value.seed;
      this.#build();
    }
    for (const [symbol, { history }] of this.#symbols) {
      const factor = value.base[symbol];
      const base =
        factor === undefined
          ? (kept.get(symbol) ?? history.base)
          : { factor, volatility: value.volatility?.[symbol] ?? 1 };
      history.reset(base, value.pins[symbol] ?? []);
    }
  }

  #build(): void {
    const symbols = new Map<string, SymbolMarket>();
    for (const spec of this.#specs) {
      const key = hash(this.#seed, 0, nameKey(spec.symbol), 0);
      const path = new SymbolPath({
        key,
        dailyVolatility: spec.daily_volatility,
        session: spec.session,
        schedule: this.#schedule,
      });
      const history = new SymbolHistory({
        spec,
        key,
        path,
        volatility: this.#volatility.get(spec.symbol) ?? 1,
      });
      symbols.set(spec.symbol, { history, bars: new BarBuilder(history) });
    }
    this.#symbols = symbols;
  }
}

const isNumber = (value: unknown): value is number =>
  typeof value === "number" && Number.isFinite(value);

const isVolatility = (value: unknown): boolean =>
  isNumber(value) && value >= MIN_VOLATILITY && value <= MAX_VOLATILITY;

function isState(value: unknown): value is PriceHistoryState {
  if (typeof value !== "object" || value === null) return false;
  const state = value as Record<string, unknown>;
  const base = state["base"];
  const pins = state["pins"];
  if (!Number.isSafeInteger(state["seed"]) || (state["seed"] as number) < 0) return false;
  if (typeof base !== "object" || base === null || typeof pins !== "object" || pins === null) {
    return false;
  }
  if (!Object.values(base).every((factor) => isNumber(factor) && factor > 0)) return false;
  const volatility = state["volatility"];
  if (
    volatility !== undefined &&
    (typeof volatility !== "object" ||
      volatility === null ||
      !Object.values(volatility).every(isVolatility))
  ) {
    return false;
  }
  return Object.values(pins).every(
    (list) =>
      Array.isArray(list) &&
      list.length <= MAX_PINS &&
      list.every(
        (pin) =>
          Array.isArray(pin) &&
          (pin.length === 4 || (pin.length === 5 && isVolatility(pin[4]))) &&
          pin.every(isNumber) &&
          (pin[3] as number) > 0,
      ),
  );
}
