/**
 * The trading state (DESIGN §6), used by both agents: ACTIVE allows everything, REDUCING allows only
 * closes and modifies that do not add risk, HALTED allows nothing. One holder is shared by the
 * risk monitor (which reads it on every order and escalates it on loss limits) and the operator
 * API (which may set any state). Not the circuit breaker: that is a separate flag (breaker.ts)
 * which refuses OPENs only.
 */
import type { Clock } from "./clock.ts";
import { type Logger, silentLogger } from "./log.ts";
import type { TradingState } from "./protocol/types.ts";

export type { TradingState };

/** Who moved the state; loss-limit sources come from the risk monitor. */
export const TRADING_STATE_SOURCES = ["operator", "daily_loss", "max_drawdown"] as const;
export type TradingStateSource = (typeof TRADING_STATE_SOURCES)[number];

/** Higher is more restrictive; automatic triggers only ever move up this scale. */
const SEVERITY: Readonly<Record<TradingState, number>> = { ACTIVE: 0, REDUCING: 1, HALTED: 2 };

/** The state as a number for a metric: 0 ACTIVE, 1 REDUCING, 2 HALTED (the same scale). */
export function tradingStateLevel(state: TradingState): number {
  return SEVERITY[state];
}

export function isMoreRestrictive(candidate: TradingState, current: TradingState): boolean {
  return SEVERITY[candidate] > SEVERITY[current];
}

export interface TradingStateChange {
  readonly previous: TradingState;
  readonly state: TradingState;
  readonly source: TradingStateSource;
  readonly reason: string;
  /** Wall-clock Unix ms of the change. */
  readonly at: number;
}

export type TradingStateListener = (change: TradingStateChange) => void;

/**
 * A loss limit's claim on the state (agent-inf): the least restrictive state it allows. It stays
 * when the operator tightens the state further and after the limit's condition clears, until the
 * operator lifts it explicitly (releaseHold).
 */
export interface RiskHold {
  readonly state: TradingState;
  readonly source: Exclude<TradingStateSource, "operator">;
  readonly reason: string;
}

export interface TradingStateHolderOptions {
  readonly clock: Clock;
  readonly logger?: Logger;
  readonly initial?: TradingState;
  /** Why the initial state holds (restored from a state file); default "startup". */
  readonly initialReason?: string;
  /** A loss limit's hold restored from a state file. */
  readonly initialHold?: RiskHold;
}

export class TradingStateHolder {
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #listeners = new Set<TradingStateListener>();
  #state: TradingState;
  #reason = "startup";
  #source: TradingStateSource = "operator";
  #hold: RiskHold | undefined;
  #since: number;

  constructor(options: TradingStateHolderOptions) {
    this.#clock = options.clock;
    this.#logger = options.logger ?? silentLogger;
    this.#state = options.initial ?? "ACTIVE";
    this.#reason = options.initialReason ?? "startup";
    this.#hold = options.initialHold;
    if (this.#hold !== undefined) this.#source = this.#hold.source;
    this.#since = this.#clock.now();
  }

  get state(): TradingState {
    return this.#state;
  }

  get reason(): string {
    return this.#reason;
  }

  get source(): TradingStateSource {
    return this.#source;
  }

  /** The loss limit holding the state, if one does (agent-inf). */
  get hold(): RiskHold | undefined {
    return this.#hold;
  }

  /** The operator lifts the loss limit's hold (logged by the caller); returns what it was. */
  releaseHold(): RiskHold | undefined {
    const hold = this.#hold;
    this.#hold = undefined;
    return hold;
  }

  /** Wall-clock Unix ms since which the current state holds. */
  get since(): number {
    return this.#since;
  }

  /** Set any state (operator). Returns the change, or undefined when the state is already `state`. */
  set(
    state: TradingState,
    reason: string,
    source: TradingStateSource = "operator",
  ): TradingStateChange | undefined {
    if (state === this.#state) return undefined;
    return this.#apply(state, reason, source);
  }

  /**
   * Move to `state` only if it is more restrictive than the current one. Automatic triggers use
   * this so a loss limit can never relax a state the operator (or a worse limit) chose.
   */
  escalate(
    state: TradingState,
    reason: string,
    source: TradingStateSource,
  ): TradingStateChange | undefined {
    // A loss limit holds what it asks for, even under a stricter state the operator chose
    if (source !== "operator" && !isMoreRestrictive(this.#hold?.state ?? "ACTIVE", state))
      this.#hold = { state, source, reason };
    if (!isMoreRestrictive(state, this.#state)) return undefined;
    return this.#apply(state, reason, source);
  }

  /** Subscribe to changes; returns the unsubscribe function. */
  onChange(listener: TradingStateListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #apply(state: TradingState, reason: string, source: TradingStateSource): TradingStateChange {
    const change: TradingStateChange = {
      previous: this.#state,
      state,
      source,
      reason,
      at: this.#clock.now(),
    };
    this.#state = state;
    this.#reason = reason;
    this.#source = source;
    this.#since = change.at;
    const log = isMoreRestrictive(state, change.previous) ? "warn" : "info";
    this.#logger[log]("Trading state changed", {
      from: change.previous,
      to: state,
      source,
      reason,
    });
    for (const listener of this.#listeners) {
      // A failing listener must not stop the others from hearing about a state change
      try {
        listener(change);
      } catch (error) {
        this.#logger.error("Trading state listener failed", { error: String(error) });
      }
    }
    return change;
  }
}
