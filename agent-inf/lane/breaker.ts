/**
 * The circuit breaker (DESIGN §7): while engaged, the risk monitor refuses new positions
 * (BREAKER_OPEN); closes and modifies still pass. It engages when the heartbeat goes FAILED and
 * resets when the heartbeat is HEALTHY again (which HeartbeatMonitor only reports after its
 * recovery successes). The operator can engage it (a kill switch) and reset it at any time.
 *
 * An operator engagement is sticky: heartbeat recovery never resets it, only the operator does.
 * An operator reset while the heartbeat is still FAILED stands until the heartbeat fails again
 * after recovering; the operator is trusted to know why.
 */
import type { Clock } from "../../shared/clock.ts";
import { describeError } from "../../shared/errors.ts";
import { type Logger, silentLogger } from "../../shared/log.ts";
import type { HeartbeatListener } from "./heartbeat.ts";

/** The slice of HeartbeatMonitor the breaker listens to. */
export interface HeartbeatFeed {
  onStatusChange(listener: HeartbeatListener): () => void;
}

export type BreakerSource = "heartbeat" | "operator";

export interface BreakerChange {
  readonly engaged: boolean;
  readonly source: BreakerSource;
  readonly reason: string;
  /** Wall-clock Unix ms. */
  readonly at: number;
}

export type BreakerListener = (change: BreakerChange) => void;

export interface CircuitBreakerOptions {
  readonly clock: Clock;
  readonly logger?: Logger;
  /** Subscribe to this heartbeat; omit to drive the breaker by hand only. */
  readonly heartbeat?: HeartbeatFeed;
}

export class CircuitBreaker {
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #listeners = new Set<BreakerListener>();
  readonly #unsubscribe: (() => void) | undefined;
  #engaged = false;
  #source: BreakerSource | undefined;
  #reason: string | undefined;
  #since: number | undefined;

  constructor(options: CircuitBreakerOptions) {
    this.#clock = options.clock;
    this.#logger = options.logger ?? silentLogger;
    this.#unsubscribe = options.heartbeat?.onStatusChange((change) => {
      if (change.status === "FAILED") {
        this.#engage("heartbeat", `heartbeat failed: ${change.reason}`);
      } else if (change.status === "HEALTHY" && this.#source === "heartbeat") {
        this.#reset("heartbeat", "heartbeat recovered");
      }
    });
  }

  get engaged(): boolean {
    return this.#engaged;
  }

  /** Why it is engaged; undefined while reset. */
  get reason(): string | undefined {
    return this.#reason;
  }

  get source(): BreakerSource | undefined {
    return this.#source;
  }

  /** Wall-clock Unix ms since which it has been engaged; undefined while reset. */
  get since(): number | undefined {
    return this.#since;
  }

  /** Operator kill switch. Re-engaging an engaged breaker makes it operator-held. */
  engage(reason: string): void {
    this.#engage("operator", reason);
  }

  /** Operator reset, whatever engaged it. */
  reset(reason = "operator reset"): void {
    this.#reset("operator", reason);
  }

  onChange(listener: BreakerListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Stop listening to the heartbeat. */
  dispose(): void {
    this.#unsubscribe?.();
  }

  #engage(source: BreakerSource, reason: string): void {
    if (this.#engaged) {
      // The operator taking over a heartbeat engagement must stop recovery from resetting it
      if (source === "operator") {
        this.#source = source;
        this.#reason = reason;
      }
      return;
    }
    this.#engaged = true;
    this.#source = source;
    this.#reason = reason;
    this.#since = this.#clock.now();
    this.#logger.error("[BREAKER_ENGAGED]", { source, reason });
    this.#emit({ engaged: true, source, reason, at: this.#since });
  }

  #reset(source: BreakerSource, reason: string): void {
    if (!this.#engaged) return;
    const at = this.#clock.now();
    const engagedMs = at - (this.#since ?? at);
    this.#engaged = false;
    this.#source = undefined;
    this.#reason = undefined;
    this.#since = undefined;
    this.#logger.info("[BREAKER_RESET]", { source, reason, engaged_ms: engagedMs });
    this.#emit({ engaged: false, source, reason, at });
  }

  #emit(change: BreakerChange): void {
    for (const listener of this.#listeners) {
      try {
        listener(change);
      } catch (error) {
        this.#logger.error("Breaker listener failed", { error: describeError(error) });
      }
    }
  }
}
