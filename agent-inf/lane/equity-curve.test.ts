import { describe, expect, test } from "bun:test";
import { EquityCurve, readEquityPoints } from "./equity-curve.ts";

describe("equity curve", () => {
  test("keeps every reading until the bound, in time order", () => {
    const curve = new EquityCurve([], 8);
    for (let i = 0; i < 8; i++) curve.add(1000 + i, 10_000 + i);

    expect(curve.points).toHaveLength(8);
    expect(curve.points[0]).toEqual([1000, 10_000]);
    expect(curve.points.at(-1)).toEqual([1007, 10_007]);
  });

  test("never grows past the bound: old points thin out, the newest stay fine-grained", () => {
    const curve = new EquityCurve([], 100);
    for (let i = 0; i < 100_000; i++) curve.add(i * 1000, 10_000 + (i % 50));

    const times = curve.points.map(([time]) => time);
    expect(curve.points.length).toBeLessThanOrEqual(100);
    expect(curve.points.length).toBeGreaterThan(50);
    // The latest reading is always there, and the newest stretch is at full resolution
    expect(times.at(-1)).toBe(99_999_000);
    expect(
      times.slice(-40).every((time, i, all) => i === 0 || time - (all[i - 1] ?? 0) === 1000),
    ).toBe(true);
    // The oldest stretch is coarser than the newest
    expect((times[1] ?? 0) - (times[0] ?? 0)).toBeGreaterThan(1000);
    expect(times.every((time, i) => i === 0 || time > (times[i - 1] ?? 0))).toBe(true);
  });

  test("a reading at the same time replaces the last; an earlier one is ignored", () => {
    const curve = new EquityCurve([[1000, 1]]);
    curve.add(1000, 2);
    curve.add(999, 3);
    curve.add(Number.NaN, 4);

    expect(curve.points).toEqual([[1000, 2]]);
  });

  test("a seed longer than the bound is thinned like live readings", () => {
    const seed = Array.from({ length: 50 }, (_, i) => [i, i] as const);
    expect(new EquityCurve(seed, 10).points.length).toBeLessThanOrEqual(10);
  });
});

describe("equity points from the state file", () => {
  test.each([
    ["not a list", { a: 1 }],
    ["a point that is not a pair", [[1, 2, 3]]],
    ["a string", [["1", 2]]],
    ["not finite", [[1, null]]],
    [
      "times going back",
      [
        [2, 1],
        [1, 1],
      ],
    ],
  ])("%s is refused", (_, value) => {
    expect(readEquityPoints(value)).toBeUndefined();
  });

  test("pairs with increasing times are read", () => {
    expect(
      readEquityPoints([
        [1, 10],
        [2, 11.5],
      ]),
    ).toEqual([
      [1, 10],
      [2, 11.5],
    ]);
  });
});
