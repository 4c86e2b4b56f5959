/**
 * The pending-order commands: each command line to the local API request it makes, each
 * malformed one to a UsageError (exit 2) before anything is sent, and what they print with the
 * exit code each outcome maps to.
 */
import { describe, expect, test } from "bun:test";
import { ExitCode, UsageError } from "../../shared/cli.ts";
import { makeTradeOrder } from "../../shared/protocol/testing/fixtures.ts";
import { parseCli } from "./command-line.ts";
import { renderApiResponse } from "./format.ts";
import { expires } from "./pending-commands.ts";

const call = (args: string[]) => {
  const command = parseCli(args);
  if (command.kind !== "api") throw new Error(`not an API command: ${command.kind}`);
  return { view: command.view, ...command.call };
};

describe("pending-order commands make their API requests", () => {
  test.each([
    [
      "place with every option",
      [
        "place",
        "buy_stop_limit",
        "EURUSD",
        "0.1",
        "--price",
        "1.105",
        "--stoplimit",
        "1.104",
        "--sl",
        "1.1",
        "--tp",
        "1.115",
        "--expires",
        "2026-11-20T21:00:00Z",
        "--filling",
        "return",
        "--magic",
        "7",
        "--comment",
        "breakout",
        "--client-order-id",
        "pl-1",
        "-g",
        "g1",
      ],
      {
        view: "order-result",
        method: "POST",
        path: "/v1/pending",
        body: {
          gateway: "g1",
          client_order_id: "pl-1",
          type: "BUY_STOP_LIMIT",
          symbol: "EURUSD",
          volume: 0.1,
          price: 1.105,
          stoplimit: 1.104,
          sl: 1.1,
          tp: 1.115,
          type_time: "SPECIFIED",
          expiration: Date.UTC(2026, 10, 20, 21),
          type_filling: "RETURN",
          magic: 7,
          comment: "breakout",
        },
      },
    ],
    [
      "place for the day",
      ["place", "SELL_LIMIT", "EURUSD", "0.2", "--price", "1.11", "--expires", "day"],
      {
        body: { type: "SELL_LIMIT", symbol: "EURUSD", volume: 0.2, price: 1.11, type_time: "DAY" },
      },
    ],
    ["pending", ["pending"], { view: "pending", method: "GET", path: "/v1/pending" }],
    [
      "pending of a group",
      ["pending", "--group", "*USD*,!EUR*", "-g", "g1"],
      { path: "/v1/pending?gateway=g1&group=*USD*%2C%21EUR*" },
    ],
    ["pending by ticket", ["pending", "--ticket", "42"], { path: "/v1/pending?ticket=42" }],
    [
      "modify-order",
      ["modify-order", "42", "--price", "1.096", "--sl", "none", "--expires", "GTC"],
      {
        view: "order-result",
        path: "/v1/pending/42/modify",
        body: { price: 1.096, sl: null, type_time: "GTC" },
      },
    ],
    [
      "cancel",
      ["cancel", "42", "--client-order-id", "c-1"],
      { path: "/v1/pending/42/cancel", body: { client_order_id: "c-1" } },
    ],
    [
      "close-by",
      ["close-by", "5", "7", "--comment", "flat"],
      { path: "/v1/positions/5/close-by", body: { ticket_by: 7, comment: "flat" } },
    ],
    [
      "check of a pending order",
      ["check", "BUY_LIMIT", "EURUSD", "1", "--price", "1.095", "--sl", "1.09"],
      {
        view: "order-check",
        method: "POST",
        path: "/v1/check",
        body: { type: "BUY_LIMIT", symbol: "EURUSD", volume: 1, price: 1.095, sl: 1.09 },
      },
    ],
    [
      "check of a market order",
      ["check", "sell", "EURUSD", "50", "-g", "g1"],
      { body: { gateway: "g1", type: "SELL", symbol: "EURUSD", volume: 50 } },
    ],
    [
      "check margin",
      ["check", "margin", "BUY", "EURUSD", "1", "--price", "1.1"],
      {
        view: "calc",
        path: "/v1/check/margin",
        body: { type: "BUY", symbol: "EURUSD", volume: 1, price: 1.1 },
      },
    ],
    [
      "check profit",
      ["check", "profit", "SELL", "USDJPY", "1", "--open", "150", "--close", "149"],
      {
        path: "/v1/check/profit",
        body: { type: "SELL", symbol: "USDJPY", volume: 1, price_open: 150, price_close: 149 },
      },
    ],
  ] as const)("%s", (_name, args, expected) => {
    const made = call([...args]);
    expect(made).toMatchObject(expected);
    if ("body" in expected) expect(made.body).toEqual(expected.body);
  });

  test("cancel --operator sends the operator's token; a plain cancel the strategy's", () => {
    expect(call(["cancel", "42", "--operator"]).role).toBe("operator");
    expect(call(["cancel", "42"]).role).toBeUndefined();
  });
});

describe("malformed command lines are usage errors", () => {
  test.each([
    [["place", "BUY", "EURUSD", "0.1", "--price", "1.1"], "TYPE must be one of"],
    [["place", "BUY_LIMIT", "EURUSD", "0.1"], "needs --price"],
    [["place", "BUY_LIMIT", "EURUSD", "0.1", "--price", "-1"], "is a negative number"],
    [
      ["place", "BUY_LIMIT", "EURUSD", "0.1", "--price", "1", "--expires", "tomorrow"],
      "--expires must be",
    ],
    [
      ["place", "BUY_LIMIT", "EURUSD", "0.1", "--price", "1", "--expires", "2026-11-20T21:00:00"],
      "--expires must be",
    ],
    [
      [
        "place",
        "BUY_LIMIT",
        "EURUSD",
        "0.1",
        "--price",
        "1",
        "--expires",
        "2026-11-20T21:00:00.5Z",
      ],
      "--expires must be",
    ],
    [
      ["place", "BUY_LIMIT", "EURUSD", "0.1", "--price", "1", "--filling", "BOC"],
      "--filling must be",
    ],
    [["pending", "--symbol", "EURUSD", "--ticket", "5"], "at most one"],
    [["modify-order", "42"], "needs one of"],
    [["cancel"], "cancel needs TICKET"],
    [["close-by", "5"], "close-by needs TICKET TICKET_BY"],
    [["check", "margin", "BUY", "EURUSD", "1"], "needs --price"],
    [["check", "profit", "BUY", "EURUSD", "1", "--open", "1"], "needs --close"],
    [["check", "BUY_STOP", "EURUSD", "1"], "needs --price"],
  ])("%j", (args, words) => {
    expect(() => parseCli(args)).toThrow(UsageError);
    expect(() => parseCli(args)).toThrow(words);
  });

  test("--expires: GTC, DAY, or a zoned time on a whole second", () => {
    expect(expires("gtc")).toEqual({ type_time: "GTC" });
    expect(expires("2026-11-20T23:00:00+02:00")).toEqual({
      type_time: "SPECIFIED",
      expiration: Date.UTC(2026, 10, 20, 21),
    });
    expect(expires(undefined)).toEqual({});
  });
});

describe("what they print", () => {
  const order = makeTradeOrder({
    ticket: 42,
    sl: 1.094,
    type_time: "DAY",
    time_expiration: Date.UTC(2026, 10, 18, 22),
  });

  test("pending orders as a table", () => {
    const rendered = renderApiResponse("pending", 200, { gateway: "g", orders: [order] }, false);
    expect(rendered.exit).toBe(ExitCode.OK);
    expect(rendered.stdout).toContain("TICKET");
    expect(rendered.stdout).toMatch(
      /42\s+EURUSD\s+BUY_LIMIT\s+0\.1\s+1\.095\s+-\s+1\.094\s+-\s+DAY 2026-11-18T22:00:00Z/,
    );
    expect(renderApiResponse("pending", 200, { orders: [] }, false).stdout).toBe(
      "no pending orders\n",
    );
  });

  test("a placement shows the order; a close-by both positions", () => {
    const placed = renderApiResponse(
      "order-result",
      200,
      {
        outcome: "FILLED",
        client_order_id: "pl-1",
        reply: { status: "FILLED", order: 42, pending_order: order },
      },
      false,
    );
    expect(placed.stdout).toStartWith("FILLED  order 42  BUY_LIMIT EURUSD 0.1  at 1.095  sl 1.094");
    const closed = renderApiResponse(
      "order-result",
      200,
      {
        outcome: "FILLED",
        client_order_id: "cb",
        reply: {
          status: "FILLED",
          ticket: 5,
          ticket_by: 7,
          volume: 0.1,
          remaining_volume: 0.2,
          remaining_volume_by: 0,
        },
      },
      false,
    );
    expect(closed.stdout).toContain(
      "ticket 5  closed by 7  0.1 lots  0.2 lots remain  the other closed",
    );
  });

  test("an order check exits 0 when MT5 would pass it and 6 when it would refuse", () => {
    const check = (retcode: number, comment: string) =>
      renderApiResponse(
        "order-check",
        200,
        {
          check: {
            retcode,
            comment,
            balance: 10_000,
            equity: 10_000,
            profit: 0,
            margin: 1100,
            margin_free: 8900,
            margin_level: 909,
          },
        },
        false,
      );
    expect([check(0, "Done").exit, check(10019, "No money").exit]).toEqual([
      ExitCode.OK,
      ExitCode.REJECTED,
    ]);
    expect(check(10019, "No money").stdout).toContain("would be refused: No money (retcode 10019)");
    expect(renderApiResponse("calc", 200, { margin: 1101.25 }, false).stdout).toBe(
      "margin 1101.25\n",
    );
    expect(renderApiResponse("calc", 200, { profit: -3 }, false).stdout).toBe("profit -3.00\n");
  });

  test("a refusal of bad input is a failure with the field named", () => {
    const rendered = renderApiResponse(
      "order-check",
      400,
      { error: { code: "INVALID_REQUEST", message: "field price is required", field: "price" } },
      false,
    );
    expect(rendered).toMatchObject({
      exit: ExitCode.FAILURE,
      stderr: "INVALID_REQUEST: field price is required (field price)\n",
    });
  });
});
