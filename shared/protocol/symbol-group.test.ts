import { describe, expect, test } from "bun:test";
import { checkGroup, filterByGroup, maskMatches, parseGroup } from "./symbol-group.ts";

const SYMBOLS = ["EURUSD", "GBPUSD", "USDJPY", "EURGBP", "XAUUSD", "US500", "BTCUSD", "eurchf"];
const select = (group: string) => filterByGroup(SYMBOLS, parseGroup(group));

describe("mask", () => {
  test.each([
    ["*", "EURUSD", true],
    ["*", "", true],
    ["EUR*", "EURUSD", true],
    ["EUR*", "XEURUSD", false],
    ["*USD", "EURUSD", true],
    ["*USD", "USDJPY", false],
    ["*USD*", "USDJPY", true],
    ["EURUSD", "EURUSD", true],
    ["EUR", "EURUSD", false],
    ["E*R*D", "EURUSD", true],
    ["E*R*X", "EURUSD", false],
    ["**", "A", true],
    ["A*B*C", "AXBYC", true],
    ["A*B*C", "AXBYCZ", false],
  ] as const)("%s on %s is %s", (mask, name, expected) => {
    expect(maskMatches(mask, name)).toBe(expected);
  });

  test("a hostile mask cannot make matching slow", () => {
    const mask = `${"*A".repeat(200)}*B`;
    const started = performance.now();
    for (let i = 0; i < 100; i++) expect(maskMatches(mask, "A".repeat(32))).toBe(false);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

describe("group", () => {
  test("selects by masks, ignoring case", () => {
    expect(select("*")).toEqual(SYMBOLS);
    expect(select("EUR*")).toEqual(["EURUSD", "EURGBP", "eurchf"]);
    expect(select("*USD*")).toEqual(["EURUSD", "GBPUSD", "USDJPY", "XAUUSD", "BTCUSD"]);
    expect(select("US500,XAU*")).toEqual(["XAUUSD", "US500"]);
  });

  test("applies conditions in order: inclusions add, exclusions remove what was selected", () => {
    expect(select("*,!*USD*")).toEqual(["EURGBP", "US500", "eurchf"]);
    expect(select("*USD*,!EUR*,!BTC*")).toEqual(["GBPUSD", "USDJPY", "XAUUSD"]);
    // The documented order matters: an exclusion before any inclusion removes nothing
    expect(select("!*USD*,*")).toEqual(SYMBOLS);
    expect(select("!EUR*")).toEqual([]);
    // A later inclusion adds back what an earlier exclusion removed
    expect(select("*,!EUR*,EURUSD")).toEqual([
      "EURUSD",
      "GBPUSD",
      "USDJPY",
      "XAUUSD",
      "US500",
      "BTCUSD",
    ]);
  });

  test("ignores spaces around conditions and empty conditions", () => {
    expect(select("*, !*USD*")).toEqual(["EURGBP", "US500", "eurchf"]);
    expect(select(" EURUSD , ,")).toEqual(["EURUSD"]);
  });

  test.each([
    ["", "must be 1-1024 characters"],
    ["EUR/USD", "must be 1-1024 characters"],
    ["EUR?", "must be 1-1024 characters"],
    [",, ,", "must hold at least one condition"],
    ["*,!", "must not have a lone !"],
    ["x".repeat(1025), "must be 1-1024 characters"],
    [5, "must be 1-1024 characters"],
  ] as const)("refuses %p", (group, phrase) => {
    expect(checkGroup(group)).toContain(phrase);
  });

  test("accepts what MT5's documentation shows", () => {
    expect(checkGroup("*, !EUR")).toBeUndefined();
    expect(checkGroup("*,!*USD*,!*EUR*,!*JPY*,!*GBP*")).toBeUndefined();
    expect(checkGroup("US500.cash,BTCUSD#")).toBeUndefined();
  });
});
