/**
 * A Clock for tests: time moves only when the test calls advance(), and timers due within the
 * advanced span fire in order. No sleeps, fully deterministic.
 */
import type { Clock, TimerHandle } from "../clock.ts";

interface PendingTimer {
  id: number;
  due: number;
  interval: number | undefined;
  fn: () => void;
}

export class TestClock implements Clock {
  #now: number;
  #monotonic = 0;
  #nextId = 1;
  #timers: PendingTimer[] = [];

  constructor(startMs = Date.UTC(2026, 10, 18, 12, 0, 0)) {
    this.#now = startMs;
  }

  now(): number {
    return this.#now;
  }

  monotonic(): number {
    return this.#monotonic;
  }

  setTimeout(fn: () => void, delayMs: number): TimerHandle {
    return this.#add(fn, delayMs, undefined);
  }

  setInterval(fn: () => void, intervalMs: number): TimerHandle {
    return this.#add(fn, intervalMs, Math.max(1, intervalMs));
  }

  /** Number of timers still scheduled; a component that cleaned up leaves none. */
  get pendingTimers(): number {
    return this.#timers.length;
  }

  /** Move wall time without moving monotonic time (a clock step, as NTP may do). */
  jumpWallClock(deltaMs: number): void {
    this.#now += deltaMs;
  }

  /** Advance both clocks by `ms`, firing every timer that falls due, earliest first. */
  advance(ms: number): void {
    const target = this.#monotonic + ms;
    for (;;) {
      const next = this.#earliest();
      if (next === undefined || next.due > target) break;
      const step = next.due - this.#monotonic;
      this.#monotonic = next.due;
      this.#now += step;
      if (next.interval === undefined) {
        this.#remove(next.id);
      } else {
        next.due += next.interval;
      }
      next.fn();
    }
    this.#now += target - this.#monotonic;
    this.#monotonic = target;
  }

  #add(fn: () => void, delayMs: number, interval: number | undefined): TimerHandle {
    const timer: PendingTimer = {
      id: this.#nextId++,
      due: this.#monotonic + Math.max(0, delayMs),
      interval,
      fn,
    };
    this.#timers.push(timer);
    return { cancel: () => this.#remove(timer.id) };
  }

  #earliest(): PendingTimer | undefined {
    let best: PendingTimer | undefined;
    for (const timer of this.#timers) {
      if (
        best === undefined ||
        timer.due < best.due ||
        (timer.due === best.due && timer.id < best.id)
      ) {
        best = timer;
      }
    }
    return best;
  }

  #remove(id: number): void {
    this.#timers = this.#timers.filter((timer) => timer.id !== id);
  }
}
