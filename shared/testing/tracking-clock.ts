/**
 * The system clock, counting timers that are still scheduled. Tests with real sockets use it
 * to prove that close() leaves no timer behind.
 */
import { type Clock, systemClock, type TimerHandle } from "../clock.ts";

export class TrackingClock implements Clock {
  #live = 0;

  get liveTimers(): number {
    return this.#live;
  }

  now(): number {
    return systemClock.now();
  }

  monotonic(): number {
    return systemClock.monotonic();
  }

  setTimeout(fn: () => void, delayMs: number): TimerHandle {
    this.#live += 1;
    let done = false;
    const finish = () => {
      if (!done) {
        done = true;
        this.#live -= 1;
      }
    };
    const handle = systemClock.setTimeout(() => {
      finish();
      fn();
    }, delayMs);
    return {
      cancel: () => {
        finish();
        handle.cancel();
      },
    };
  }

  setInterval(fn: () => void, intervalMs: number): TimerHandle {
    this.#live += 1;
    let done = false;
    const handle = systemClock.setInterval(fn, intervalMs);
    return {
      cancel: () => {
        if (!done) {
          done = true;
          this.#live -= 1;
        }
        handle.cancel();
      },
    };
  }
}
