import { describe, expect, test } from "bun:test";
import {
  barOpenTime,
  isTimeframe,
  maxBarMs,
  minBarMs,
  mt5Timeframe,
  nextBarOpenTime,
  previousBarOpenTime,
  TIMEFRAMES,
} from "./timeframes.ts";

const at = (text: string) => Date.parse(`${text}Z`);

describe("timeframes", () => {
  test("lists MT5's 21 timeframes with their ENUM_TIMEFRAMES values", () => {
    expect(TIMEFRAMES).toHaveLength(21);
    expect(mt5Timeframe("M1")).toBe(1);
    expect(mt5Timeframe("M30")).toBe(30);
    expect(mt5Timeframe("H1")).toBe(16385);
    expect(mt5Timeframe("H12")).toBe(16396);
    expect(mt5Timeframe("D1")).toBe(16408);
    expect(mt5Timeframe("W1")).toBe(32769);
    expect(mt5Timeframe("MN1")).toBe(49153);
    expect(isTimeframe("M7")).toBe(false);
    expect(isTimeframe("m1")).toBe(false);
    expect(isTimeframe(1)).toBe(false);
  });

  test.each([
    ["M1", "2026-11-18T12:34:56.789", "2026-11-18T12:34:00"],
    ["M5", "2026-11-18T12:34:56", "2026-11-18T12:30:00"],
    ["M12", "2026-11-18T12:59:59", "2026-11-18T12:48:00"],
    ["M20", "2026-11-18T00:19:00", "2026-11-18T00:00:00"],
    ["H1", "2026-11-18T12:34:56", "2026-11-18T12:00:00"],
    ["H3", "2026-11-18T11:59:59", "2026-11-18T09:00:00"],
    ["H4", "2026-11-18T03:00:00", "2026-11-18T00:00:00"],
    ["H8", "2026-11-18T23:59:59", "2026-11-18T16:00:00"],
    ["H12", "2026-11-18T12:00:00", "2026-11-18T12:00:00"],
    ["D1", "2026-11-18T23:59:59.999", "2026-11-18T00:00:00"],
    // MT5 weeks start on Sunday 00:00: 2026-11-18 is a Wednesday
    ["W1", "2026-11-18T12:00:00", "2026-11-15T00:00:00"],
    ["W1", "2026-11-15T00:00:00", "2026-11-15T00:00:00"],
    ["W1", "2026-11-14T23:59:59", "2026-11-08T00:00:00"],
    ["W1", "1970-01-01T00:00:00", "1969-12-28T00:00:00"],
    ["MN1", "2026-11-18T12:00:00", "2026-11-01T00:00:00"],
    ["MN1", "2024-02-29T23:59:59", "2024-02-01T00:00:00"],
  ] as const)("%s bar of %s opens at %s", (timeframe, time, open) => {
    expect(new Date(barOpenTime(timeframe, at(time))).toISOString()).toBe(
      new Date(at(open)).toISOString(),
    );
  });

  test("W1 bars open on Sundays and last seven days", () => {
    const open = barOpenTime("W1", at("2026-11-18T12:00:00"));
    expect(new Date(open).getUTCDay()).toBe(0);
    expect(nextBarOpenTime("W1", open) - open).toBe(7 * 86_400_000);
    expect(previousBarOpenTime("W1", open)).toBe(open - 7 * 86_400_000);
  });

  test("MN1 bars follow the calendar: 28, 29, 30 and 31 days, across the year end", () => {
    const days = (from: string) => {
      const open = at(from);
      return (nextBarOpenTime("MN1", open) - open) / 86_400_000;
    };
    expect(days("2026-02-01T00:00:00")).toBe(28);
    expect(days("2024-02-01T00:00:00")).toBe(29);
    expect(days("2026-11-01T00:00:00")).toBe(30);
    expect(nextBarOpenTime("MN1", at("2026-12-01T00:00:00"))).toBe(at("2027-01-01T00:00:00"));
    expect(previousBarOpenTime("MN1", at("2026-01-01T00:00:00"))).toBe(at("2025-12-01T00:00:00"));
    expect(minBarMs("MN1")).toBe(28 * 86_400_000);
    expect(maxBarMs("MN1")).toBe(31 * 86_400_000);
  });

  test("next and previous open times invert each other for every timeframe", () => {
    const time = at("2026-11-18T12:34:56");
    for (const timeframe of TIMEFRAMES) {
      const open = barOpenTime(timeframe, time);
      expect(open).toBeLessThanOrEqual(time);
      const next = nextBarOpenTime(timeframe, open);
      expect(next).toBeGreaterThan(time);
      expect(previousBarOpenTime(timeframe, next)).toBe(open);
      expect(barOpenTime(timeframe, next - 1)).toBe(open);
      expect(next - open).toBeGreaterThanOrEqual(minBarMs(timeframe));
      expect(next - open).toBeLessThanOrEqual(maxBarMs(timeframe));
    }
  });
});
