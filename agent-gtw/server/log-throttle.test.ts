import { describe, expect, test } from "bun:test";
import { LogThrottle } from "./log-throttle.ts";

function rig(perWindow: number, windowMs: number) {
  let now = 0;
  const timers: { at: number; fn: () => void; cancelled: boolean }[] = [];
  const reports: number[] = [];
  const throttle = new LogThrottle({
    windowMs,
    perWindow,
    report: (suppressed) => reports.push(suppressed),
    now: () => now,
    setTimer: (fn, ms) => {
      const timer = { at: now + ms, fn, cancelled: false };
      timers.push(timer);
      return {
        cancel: () => {
          timer.cancelled = true;
        },
      };
    },
  });
  const advance = (to: number) => {
    now = to;
    for (const timer of timers.splice(0)) {
      if (timer.cancelled) continue;
      if (timer.at <= now) timer.fn();
      else timers.push(timer);
    }
  };
  return { throttle, reports, advance };
}

describe("LogThrottle", () => {
  test("logs the first events of a window, counts the rest and reports them when it ends", () => {
    const { throttle, reports, advance } = rig(3, 1000);
    const decisions = Array.from({ length: 10 }, () => throttle.admit());

    expect(decisions).toEqual([...Array(3).fill(true), ...Array(7).fill(false)]);
    advance(999);
    expect(reports).toEqual([]);
    advance(1000);
    expect(reports).toEqual([7]);
    expect(throttle.admit()).toBe(true);
  });

  test("a quiet stretch logs everything and reports nothing", () => {
    const { throttle, reports, advance } = rig(1, 100);
    for (let i = 1; i <= 5; i++) {
      advance(i * 100);
      expect(throttle.admit()).toBe(true);
    }
    expect(reports).toEqual([]);
  });

  test("stop() reports what is counted", () => {
    const { throttle, reports } = rig(1, 1000);
    throttle.admit();
    throttle.admit();
    throttle.stop();
    expect(reports).toEqual([1]);
  });
});
