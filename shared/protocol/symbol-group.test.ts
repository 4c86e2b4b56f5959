import { describe, expect, test } from "bun:test";
import { checkGroup, compileGroup, MAX_GROUP_LENGTH, maskMatches } from "./symbol-group.ts";
import cases from "./symbol-group-cases.json";

const select = (group: string) => cases.symbols.filter((name) => compileGroup(group).matches(name));

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
    ["*S*D", "EURUSD", true],
    ["E*R*S*X", "EURUSD", false],
    ["**", "A", true],
    ["A*B*C", "AXBYC", true],
    ["A*B*C", "AXBYCZ", false],
  ] as const)("%s on %s is %s", (mask, name, expected) => {
    expect(maskMatches(mask, name)).toBe(expected);
  });

  test("a hostile mask costs mask × symbol steps, not an exponential backtrack", () => {
    // As a regular expression (^.*a.*a…b$) each of these takes about 2 s to say no
    const hostile = `${"*a".repeat(16)}*b`;
    expect(checkGroup(hostile)).toBeUndefined();
    const filter = compileGroup(hostile);
    for (const symbol of ["a".repeat(32), `${"a".repeat(31)}c`, "a".repeat(31), "a".repeat(30)]) {
      expect(filter.matches(symbol)).toBe(false);
    }
    const longest = `${"*A".repeat(MAX_GROUP_LENGTH / 2 - 1)}*B`;
    const started = performance.now();
    for (let i = 0; i < 100; i++) expect(maskMatches(longest, "A".repeat(32))).toBe(false);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

describe("group (the table clients/python/tests/test_groups.py reads too)", () => {
  test.each(cases.selects as [string, string[]][])("%p selects %p", (group, expected) => {
    expect(checkGroup(group)).toBeUndefined();
    expect(select(group)).toEqual(expected);
  });

  test.each(cases.refuses)("refuses %p", (group) => {
    expect(checkGroup(group)).toContain("must be 1 to");
  });

  test("applies conditions in order: an exclusion only removes what was selected before it", () => {
    expect(select("!*USD*,*")).toEqual(cases.symbols);
    expect(select("*,!*USD*")).not.toContain("EURUSD");
    expect(select("*,!EUR*,EURUSD")).toContain("EURUSD");
  });

  test("refuses what is not a group, naming the condition", () => {
    expect(checkGroup("EUR*,,USD*")).toContain('condition ""');
    expect(checkGroup("*,!")).toContain('condition "!"');
    expect(checkGroup("x".repeat(MAX_GROUP_LENGTH + 1))).toContain("must be 1 to");
    expect(checkGroup("x".repeat(MAX_GROUP_LENGTH))).toBeUndefined();
    expect(checkGroup(5)).toContain("must be 1 to");
  });
});
