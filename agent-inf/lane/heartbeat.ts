/**
 * Application-level heartbeat to the gateway (DESIGN §7): PING every interval, track health,
 * latency and the gateway's clock offset. HEALTHY → DEGRADED after one failure → FAILED after
 * `failureThreshold` in a row; DEGRADED recovers on one success, FAILED only after
 * `recoverySuccesses` in a row (so one lucky reply does not reset the breaker on a flapping link).
 *
 * No I/O of its own: the caller passes `ping(signal)` (send PING, resolve with the reply) and a
 * Clock. One ping at a time: a ping still unanswered after `timeoutMs` counts as a failure, its
 * signal is aborted (so the caller can drop the request) and a late reply is ignored. The first
 * ping goes out on start(), then one per interval. This is not the ZMTP-level PING/PONG, which
 * only proves the TCP peer is alive.
 */
import type { Clock, TimerHandle } from "../../shared/clock.ts";
import { AgentError, describeError, FaultCode } from "../../shared/errors.ts";
import { type Logger, silentLogger } from "../../shared/log.ts";

export const HeartbeatStatus = {
  HEALTHY: "HEALTHY",
  DEGRADED: "DEGRADED",
  FAILED: "FAILED",
} as const;
export type HeartbeatStatus = (typeof HeartbeatStatus)[keyof typeof HeartbeatStatus];

export const DEFAULT_HEARTBEAT_INTERVAL_MS = 5000;
export const DEFAULT_HEARTBEAT_FAILURE_THRESHOLD = 3;
export const DEFAULT_HEARTBEAT_RECOVERY_SUCCESSES = 3;
export const DEFAULT_LATENCY_WINDOW_SAMPLES = 100;

/** What a ping must resolve with; a PingReply mapped to `{ serverTime: reply.server_time, ... }`. */
export interface PingResult {
  /** Gateway wall clock when it answered, Unix ms. */
  readonly serverTime: number;
}

export interface HeartbeatOptions<Result extends PingResult> {
  readonly clock: Clock;
  /** Sends one PING; rejects or never settles on failure. `signal` aborts when it is given up. */
  readonly ping: (signal: AbortSignal) => Promise<Result>;
  readonly logger?: Logger;
  readonly intervalMs?: number;
  /** Unanswered this long counts as a failure; at most intervalMs (default: intervalMs). */
  readonly timeoutMs?: number;
  readonly failureThreshold?: number;
  readonly recoverySuccesses?: number;
  /** Latency and offset statistics cover the last this many successful pings. */
  readonly windowSamples?: number;
}

export interface HeartbeatStatusChange {
  readonly previous: HeartbeatStatus;
  readonly status: HeartbeatStatus;
  /** Wall-clock Unix ms. */
  readonly at: number;
  readonly consecutiveFailures: number;
  readonly consecutiveSuccesses: number;
  /** The failure that caused a downgrade, or "recovered". */
  readonly reason: string;
}

export type HeartbeatListener = (change: HeartbeatStatusChange) => void;

/** Round-trip statistics in ms; percentiles are nearest-rank over the window. */
export interface LatencyStats {
  readonly count: number;
  readonly min: number;
  readonly mean: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
}

interface InFlight {
  readonly seq: number;
  readonly sentWallMs: number;
  readonly sentMonotonicMs: number;
  readonly timeout: TimerHandle;
  readonly abort: AbortController;
}

export class HeartbeatMonitor<Result extends PingResult = PingResult> {
  readonly #clock: Clock;
  readonly #ping: (signal: AbortSignal) => Promise<Result>;
  readonly #logger: Logger;
  readonly #intervalMs: number;
  readonly #timeoutMs: number;
  readonly #failureThreshold: number;
  readonly #recoverySuccesses: number;
  readonly #listeners = new Set<HeartbeatListener>();
  // Ring buffers of the last windowSamples successful pings
  readonly #roundTrips: number[] = [];
  readonly #offsets: number[] = [];
  readonly #windowSamples: number;
  #nextSample = 0;

  #status: HeartbeatStatus = HeartbeatStatus.HEALTHY;
  #failures = 0;
  #successes = 0;
  #seq = 0;
  #inFlight: InFlight | undefined;
  #interval: TimerHandle | undefined;
  #lastResult: Result | undefined;

  constructor(options: HeartbeatOptions<Result>) {
    this.#clock = options.clock;
    this.#ping = options.ping;
    this.#logger = options.logger ?? silentLogger;
    this.#intervalMs = options.intervalMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS;
    this.#timeoutMs = options.timeoutMs ?? this.#intervalMs;
    this.#failureThreshold = options.failureThreshold ?? DEFAULT_HEARTBEAT_FAILURE_THRESHOLD;
    this.#recoverySuccesses = options.recoverySuccesses ?? DEFAULT_HEARTBEAT_RECOVERY_SUCCESSES;
    this.#windowSamples = options.windowSamples ?? DEFAULT_LATENCY_WINDOW_SAMPLES;
    const problems = [
      this.#intervalMs > 0 ? "" : `intervalMs must be positive, was ${this.#intervalMs}`,
      this.#timeoutMs > 0 && this.#timeoutMs <= this.#intervalMs
        ? ""
        : `timeoutMs must be in (0, intervalMs], was ${this.#timeoutMs}`,
      wholeAtLeastOne("failureThreshold", this.#failureThreshold),
      wholeAtLeastOne("recoverySuccesses", this.#recoverySuccesses),
      wholeAtLeastOne("windowSamples", this.#windowSamples),
    ].filter((problem) => problem !== "");
    if (problems.length > 0) {
      throw new AgentError(FaultCode.CONFIG_INVALID, `heartbeat: ${problems.join("; ")}`);
    }
  }

  get status(): HeartbeatStatus {
    return this.#status;
  }

  get running(): boolean {
    return this.#interval !== undefined;
  }

  get consecutiveFailures(): number {
    return this.#failures;
  }

  /** The last successful reply (e.g. for the gateway's trading and MT5 link state). */
  get lastResult(): Result | undefined {
    return this.#lastResult;
  }

  /**
   * Estimated gateway clock minus ours, ms: per ping serverTime − (sent + rtt / 2), smoothed as
   * the median over the window so one delayed reply does not move it. Undefined before a reply.
   */
  get clockOffsetMs(): number | undefined {
    if (this.#offsets.length === 0) return undefined;
    return percentile(this.#offsets.toSorted(byNumber), 50);
  }

  latency(): LatencyStats | undefined {
    const count = this.#roundTrips.length;
    if (count === 0) return undefined;
    const sorted = this.#roundTrips.toSorted(byNumber);
    let sum = 0;
    for (const value of sorted) sum += value;
    return {
      count,
      min: sorted[0] as number,
      mean: sum / count,
      p50: percentile(sorted, 50),
      p95: percentile(sorted, 95),
      p99: percentile(sorted, 99),
      max: sorted[count - 1] as number,
    };
  }

  onStatusChange(listener: HeartbeatListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Ping now, then every interval. Calling it while running does nothing. */
  start(): void {
    if (this.#interval !== undefined) return;
    this.#interval = this.#clock.setInterval(() => this.#tick(), this.#intervalMs);
    this.#send();
  }

  /** Cancel every timer; a reply still on its way is ignored. */
  stop(): void {
    this.#interval?.cancel();
    this.#interval = undefined;
    const pending = this.#inFlight;
    this.#inFlight = undefined;
    pending?.timeout.cancel();
    pending?.abort.abort();
  }

  #tick(): void {
    // timeoutMs ≤ intervalMs, so a ping still out now is overdue even if its timeout timer has
    // not fired yet (both can fall due at the same instant)
    const pending = this.#inFlight;
    if (pending !== undefined) this.#failed(pending.seq, `timeout after ${this.#timeoutMs} ms`);
    this.#send();
  }

  #send(): void {
    const seq = ++this.#seq;
    const abort = new AbortController();
    this.#inFlight = {
      seq,
      sentWallMs: this.#clock.now(),
      sentMonotonicMs: this.#clock.monotonic(),
      timeout: this.#clock.setTimeout(
        () => this.#failed(seq, `timeout after ${this.#timeoutMs} ms`),
        this.#timeoutMs,
      ),
      abort,
    };
    let reply: Promise<Result>;
    try {
      reply = this.#ping(abort.signal);
    } catch (error) {
      this.#failed(seq, describeError(error));
      return;
    }
    reply.then(
      (result) => this.#succeeded(seq, result),
      (error: unknown) => this.#failed(seq, describeError(error)),
    );
  }

  /** Take the in-flight ping if `seq` is still it; a stale or stopped ping yields undefined. */
  #settle(seq: number): InFlight | undefined {
    const pending = this.#inFlight;
    if (pending === undefined || pending.seq !== seq) return undefined;
    pending.timeout.cancel();
    this.#inFlight = undefined;
    return pending;
  }

  #succeeded(seq: number, result: Result): void {
    const pending = this.#settle(seq);
    if (pending === undefined) return;
    const roundTrip = this.#clock.monotonic() - pending.sentMonotonicMs;
    this.#roundTrips[this.#nextSample] = roundTrip;
    this.#offsets[this.#nextSample] = result.serverTime - (pending.sentWallMs + roundTrip / 2);
    this.#nextSample = (this.#nextSample + 1) % this.#windowSamples;
    this.#lastResult = result;
    this.#failures = 0;
    this.#successes++;
    const recovered =
      this.#status === HeartbeatStatus.DEGRADED ||
      (this.#status === HeartbeatStatus.FAILED && this.#successes >= this.#recoverySuccesses);
    if (recovered) this.#transition(HeartbeatStatus.HEALTHY, "recovered");
  }

  #failed(seq: number, reason: string): void {
    const pending = this.#settle(seq);
    if (pending === undefined) return;
    pending.abort.abort();
    this.#failures++;
    this.#successes = 0;
    this.#logger.warn("[HEARTBEAT_FAIL]", {
      reason,
      consecutive_failures: this.#failures,
      threshold: this.#failureThreshold,
      status: this.#status,
    });
    if (this.#failures >= this.#failureThreshold) {
      this.#transition(HeartbeatStatus.FAILED, reason);
    } else if (this.#status === HeartbeatStatus.HEALTHY) {
      this.#transition(HeartbeatStatus.DEGRADED, reason);
    }
  }

  #transition(status: HeartbeatStatus, reason: string): void {
    if (status === this.#status) return;
    const change: HeartbeatStatusChange = {
      previous: this.#status,
      status,
      at: this.#clock.now(),
      consecutiveFailures: this.#failures,
      consecutiveSuccesses: this.#successes,
      reason,
    };
    this.#status = status;
    const log = status === HeartbeatStatus.HEALTHY ? "info" : "warn";
    this.#logger[log]("Heartbeat status changed", { from: change.previous, to: status, reason });
    for (const listener of this.#listeners) {
      // Runs inside a timer or promise callback: a throwing listener is logged, not lost
      try {
        listener(change);
      } catch (error) {
        this.#logger.error("Heartbeat listener failed", { error: describeError(error) });
      }
    }
  }
}

function wholeAtLeastOne(name: string, value: number): string {
  return Number.isInteger(value) && value >= 1
    ? ""
    : `${name} must be a whole number ≥ 1, was ${value}`;
}

const byNumber = (a: number, b: number) => a - b;

/** Nearest-rank percentile of an ascending, non-empty array. */
function percentile(sorted: readonly number[], p: number): number {
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] as number;
}
