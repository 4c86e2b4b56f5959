/**
 * The market-data commands: each command line to the API request it makes, and each malformed
 * one to a UsageError (exit 2) before anything is sent; and the CSV line reader of the table.
 */
import { describe, expect, test } from "bun:test";
import { UsageError } from "../../shared/cli.ts";
import { parseCli } from "./command-line.ts";
import { parseCsvLine } from "./market-output.ts";

describe("market commands", () => {
  test.each([
    [["symbols"], "symbols", "/v1/symbols", false],
    [
      ["symbols", "--group", "EUR*", "-g", "gtw-2"],
      "symbols",
      "/v1/symbols?gateway=gtw-2&group=EUR*",
      false,
    ],
    [["rates", "EURUSD", "m5"], "rates", "/v1/rates/EURUSD?timeframe=M5&count=100", false],
    [
      ["rates", "EURUSD", "M5", "--count", "500", "--csv"],
      "rates",
      "/v1/rates/EURUSD?timeframe=M5&count=500",
      true,
    ],
    [
      ["rates", "EURUSD", "H1", "--start", "10", "-n", "5"],
      "rates",
      "/v1/rates/EURUSD?timeframe=H1&start=10&count=5",
      false,
    ],
    [
      ["rates", "EURUSD", "M1", "--from", "2026-12-01", "--count", "3"],
      "rates",
      "/v1/rates/EURUSD?timeframe=M1&from=2026-12-01&count=3",
      false,
    ],
    [
      ["rates", "BTCUSD#", "D1", "--from", "2026-01-01", "--to", "1795003200"],
      "rates",
      "/v1/rates/BTCUSD%23?timeframe=D1&from=2026-01-01&to=1795003200",
      false,
    ],
    [
      ["ticks", "EURUSD", "--from", "2026-12-01T10:00:00Z", "--count", "10", "--flags", "info"],
      "ticks",
      "/v1/ticks/EURUSD?from=2026-12-01T10%3A00%3A00Z&count=10&flags=INFO",
      false,
    ],
    [
      ["history", "deals", "--from", "2026-12-01"],
      "deals",
      "/v1/history/deals?from=2026-12-01",
      false,
    ],
    [
      [
        "history",
        "orders",
        "--from",
        "2026-12-01",
        "--to",
        "2026-12-02",
        "--group",
        "*USD*",
        "--csv",
      ],
      "orders",
      "/v1/history/orders?from=2026-12-01&to=2026-12-02&group=*USD*",
      true,
    ],
    [
      ["history", "deals", "--position", "100000001"],
      "deals",
      "/v1/history/deals?position=100000001",
      false,
    ],
  ] as const)("%j", (args, view, path, csv) => {
    expect(parseCli(args)).toMatchObject({ kind: "market", view, path, csv });
  });

  test.each([
    [["symbols", "EURUSD"], "no arguments"],
    [["symbols", "--csv"], "JSON only"],
    [["rates", "EURUSD"], "SYMBOL TIMEFRAME"],
    [["rates", "EURUSD", "M7"], "TIMEFRAME must be one of"],
    [["rates", "EURUSD", "M1", "--count", "0"], "--count must be"],
    [["rates", "EURUSD", "M1", "--count", "1000001"], "--count must be"],
    [["rates", "EURUSD", "M1", "--from", "yesterday"], "--from must be an ISO-8601 time"],
    [["rates", "EURUSD", "M1", "--to", "2026-12-01"], "--to goes with --from"],
    [["rates", "EURUSD", "M1", "--start", "1", "--from", "2026-12-01"], "give one"],
    [["rates", "EURUSD", "M1", "--csv", "--json"], "one of --json and --csv"],
    [["rates", "EUR USD", "M1"], "SYMBOL must be"],
    [["ticks", "EURUSD", "--count", "5"], "needs --from"],
    [["ticks", "EURUSD", "--from", "2026-12-01"], "--count or --to"],
    [["ticks", "EURUSD", "--from", "2026-12-01", "-n", "5", "--flags", "BOTH"], "--flags must be"],
    [["history"], "deals or orders"],
    [["history", "trades", "--from", "2026-12-01"], "deals or orders"],
    [["history", "deals"], "one of --from"],
    [["history", "deals", "--from", "2026-12-01", "--ticket", "5"], "one of --from"],
    [["history", "deals", "--position", "5", "--group", "EUR*"], "--group goes with --from"],
    [["history", "deals", "--ticket", "0"], "--ticket must be"],
  ])("%j is a usage error (%s)", (args, message) => {
    expect(() => parseCli(args)).toThrow(UsageError);
    expect(() => parseCli(args)).toThrow(message);
  });
});

describe("parseCsvLine", () => {
  test.each([
    ["a,b,c", ["a", "b", "c"]],
    ["1,,3", ["1", "", "3"]],
    ['x,"a,b",y', ["x", "a,b", "y"]],
    ['"say ""hi""",2', ['say "hi"', "2"]],
    ['""', [""]],
    ["", [""]],
    ["a,", ["a", ""]],
  ])("%p", (line, cells) => {
    expect(parseCsvLine(line)).toEqual(cells);
  });
});
