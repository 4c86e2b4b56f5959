/**
 * The session clock: the arithmetic agrees with a calendar reading of the rule (Sunday 22:00 to
 * Friday 22:00 UTC) at every half hour of three weeks and around each boundary, before 1970 too,
 * and the trading day rolls over at 22:00 UTC.
 */
import { describe, expect, test } from "bun:test";
import { isSessionOpen, tradingDayEnd } from "./sessions.ts";

const HOUR = 3_600_000;

/** The rule read off a calendar. */
function reference(time: number): boolean {
  const date = new Date(time);
  const day = date.getUTCDay();
  const hour = date.getUTCHours();
  if (day === 6) return false;
  if (day === 5) return hour < 22;
  if (day === 0) return hour >= 22;
  return true;
}

describe("isSessionOpen", () => {
  test("agrees with the calendar every half hour and a millisecond around each boundary", () => {
    for (const start of [Date.UTC(2026, 10, 15), Date.UTC(1969, 5, 1)]) {
      for (let time = start; time < start + 21 * 24 * HOUR; time += HOUR / 2) {
        for (const at of [time, time - 1, time + 1]) {
          expect([at, isSessionOpen("forex", "forex", at)]).toEqual([at, reference(at)]);
        }
      }
    }
  });
});

describe("tradingDayEnd", () => {
  test.each([
    [Date.UTC(2026, 10, 18, 12), Date.UTC(2026, 10, 18, 22)],
    [Date.UTC(2026, 10, 18, 21, 59, 59, 999), Date.UTC(2026, 10, 18, 22)],
    [Date.UTC(2026, 10, 18, 22), Date.UTC(2026, 10, 19, 22)],
    [Date.UTC(2026, 10, 18, 23, 30), Date.UTC(2026, 10, 19, 22)],
    [Date.UTC(2026, 10, 19, 0), Date.UTC(2026, 10, 19, 22)],
    [Date.UTC(1969, 11, 31, 23), Date.UTC(1970, 0, 1, 22)],
  ])("the trading day holding %p ends at %p", (time, end) => {
    expect(tradingDayEnd(time)).toBe(end);
  });
});
