/**
 * Bounds the log lines that peers who never authenticated can cause. Each refused or failed
 * handshake is worth a line when it is rare, but a flood from one host makes one line per
 * connection: hundreds a second, appended synchronously to the log file, filling the disk and
 * costing the event loop more than the refusal itself (test/hostile/flood.test.ts). Per window
 * the first `perWindow` events are logged as they are; the rest are counted, and the count is
 * reported in one line when the window ends.
 */

export interface LogThrottleOptions {
  /** Called at the end of a window in which events were left out. */
  readonly report: (suppressed: number, windowMs: number) => void;
  readonly windowMs?: number;
  readonly perWindow?: number;
  /** Monotonic ms; and the timer the report waits on (tests pass their own). */
  readonly now?: () => number;
  readonly setTimer?: (fn: () => void, ms: number) => { cancel(): void };
}

export class LogThrottle {
  readonly #options: LogThrottleOptions;
  readonly #windowMs: number;
  readonly #perWindow: number;
  #windowStart = Number.NEGATIVE_INFINITY;
  #admitted = 0;
  #suppressed = 0;
  #timer: { cancel(): void } | undefined;

  constructor(options: LogThrottleOptions) {
    this.#options = options;
    this.#windowMs = options.windowMs ?? 10_000;
    this.#perWindow = options.perWindow ?? 20;
  }

  /** Whether to log this event; if not, it is counted for the window's report. */
  admit(): boolean {
    const now = this.#now();
    if (now - this.#windowStart >= this.#windowMs) {
      this.#flush();
      this.#windowStart = now;
      this.#admitted = 0;
    }
    if (this.#admitted < this.#perWindow) {
      this.#admitted += 1;
      return true;
    }
    this.#suppressed += 1;
    if (this.#timer === undefined) {
      const left = Math.max(0, this.#windowStart + this.#windowMs - now);
      this.#timer = this.#setTimer(() => {
        this.#timer = undefined;
        this.#flush();
      }, left);
    }
    return false;
  }

  /** Report what is counted now and cancel the timer (shutdown). */
  stop(): void {
    this.#flush();
  }

  #flush(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
    if (this.#suppressed === 0) return;
    const suppressed = this.#suppressed;
    this.#suppressed = 0;
    this.#options.report(suppressed, this.#windowMs);
  }

  #now(): number {
    return this.#options.now?.() ?? performance.now();
  }

  #setTimer(fn: () => void, ms: number): { cancel(): void } {
    if (this.#options.setTimer !== undefined) return this.#options.setTimer(fn, ms);
    const timer = setTimeout(fn, ms);
    // A pending report must not keep a stopping process alive
    timer.unref();
    return { cancel: () => clearTimeout(timer) };
  }
}
