/**
 * The sim's whole market history: one SymbolHistory (and its bar builder) per symbol, all drawn
 * from one seed, plus what must be persisted so the history survives a restart unchanged: the
 * seed itself, each symbol's calibration, and the pinned quotes.
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
import { MAX_PINS, type Pin, SymbolHistory } from "./symbol-history.ts";

/** Persisted with the feed (quotes.ts FeedState.path). */
export interface PriceHistoryState {
  readonly seed: number;
  /** Calibration factor per symbol. */
  readonly base: Readonly<Record<string, number>>;
  readonly pins: Readonly<Record<string, readonly Pin[]>>;
}

export interface SymbolMarket {
  readonly history: SymbolHistory;
  readonly bars: BarBuilder;
}

export class PriceHistory {
  readonly #specs: readonly SymbolSpec[];
  readonly #schedule: SessionSchedule;
  #seed: number;
  #symbols = new Map<string, SymbolMarket>();

  constructor(specs: Iterable<SymbolSpec>, seed: number, schedule: SessionSchedule) {
    if (!Number.isSafeInteger(seed)) {
      throw new RangeError(`sim: seed must be an integer (was ${seed})`);
    }
    this.#specs = [...specs];
    this.#schedule = schedule;
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

  snapshot(): PriceHistoryState {
    const base: Record<string, number> = {};
    const pins: Record<string, readonly Pin[]> = {};
    for (const [symbol, { history }] of this.#symbols) {
      base[symbol] = history.base;
      if (history.pins.length > 0) pins[symbol] = history.pins;
    }
    return { seed: this.#seed, base, pins };
  }

  /**
   * Continue the persisted history. Symbols added since keep the calibration they were given at
   * start (their history begins with this run's prices); a damaged state is refused.
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
      history.reset(value.base[symbol] ?? kept.get(symbol) ?? 1, value.pins[symbol] ?? []);
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
      const history = new SymbolHistory({ spec, key, path });
      symbols.set(spec.symbol, { history, bars: new BarBuilder(history) });
    }
    this.#symbols = symbols;
  }
}

const isNumber = (value: unknown): value is number =>
  typeof value === "number" && Number.isFinite(value);

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
  return Object.values(pins).every(
    (list) =>
      Array.isArray(list) &&
      list.length <= MAX_PINS &&
      list.every(
        (pin) =>
          Array.isArray(pin) && pin.length === 4 && pin.every(isNumber) && (pin[3] as number) > 0,
      ),
  );
}
