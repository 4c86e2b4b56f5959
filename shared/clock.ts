/**
 * The one seam for time. Components that need wall time, a monotonic reading or a timer take a
 * Clock, so tests drive them with shared/testing/test-clock.ts instead of sleeping.
 */

export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  /** Wall-clock time in Unix milliseconds (what goes into `ts` fields). */
  now(): number;
  /** Monotonic milliseconds with sub-millisecond resolution, for durations only. */
  monotonic(): number;
  /** Run `fn` once after `delayMs`; the handle cancels it. */
  setTimeout(fn: () => void, delayMs: number): TimerHandle;
  /** Run `fn` every `intervalMs` until cancelled. */
  setInterval(fn: () => void, intervalMs: number): TimerHandle;
}

class SystemClock implements Clock {
  now(): number {
    return Date.now();
  }

  monotonic(): number {
    return performance.now();
  }

  setTimeout(fn: () => void, delayMs: number): TimerHandle {
    const timer = setTimeout(fn, delayMs);
    return { cancel: () => clearTimeout(timer) };
  }

  setInterval(fn: () => void, intervalMs: number): TimerHandle {
    const timer = setInterval(fn, intervalMs);
    return { cancel: () => clearInterval(timer) };
  }
}

export const systemClock: Clock = new SystemClock();
