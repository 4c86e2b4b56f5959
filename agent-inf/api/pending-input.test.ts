/**
 * The pending-order routes' input rules: the wire action's own fields and rules across fields,
 * each refusal a 400 INVALID_REQUEST that names the field; the path's ticket is not a body field.
 */
import { describe, expect, test } from "bun:test";
import { ApiError } from "./input.ts";
import {
  parseCancelBody,
  parseCheckBody,
  parseCloseByBody,
  parseModifyOrderBody,
  parsePendingQuery,
  parsePlaceBody,
} from "./pending-input.ts";

const PLACE = { type: "BUY_LIMIT", symbol: "EURUSD", volume: 0.1, price: 1.095 };

function refusal(run: () => unknown): { status: number; field?: string; message: string } {
  try {
    run();
  } catch (error) {
    if (error instanceof ApiError)
      return {
        status: error.status,
        message: error.message,
        ...(error.field === undefined ? {} : { field: error.field }),
      };
    throw error;
  }
  throw new Error("accepted");
}

describe("POST /v1/pending", () => {
  test("a full placement is taken as given", () => {
    const body = {
      ...PLACE,
      type: "SELL_STOP_LIMIT",
      price: 1.09,
      stoplimit: 1.091,
      sl: 1.1,
      tp: null,
      type_time: "SPECIFIED",
      expiration: 1_795_039_200_000,
      type_filling: "RETURN",
      magic: 7,
      comment: "breakout",
      client_order_id: "pl-1",
      gateway: "gtw-1",
      edge: { win_probability: 0.6, payoff_ratio: 2 },
    };
    expect(parsePlaceBody(body)).toEqual(body as never);
  });

  test.each([
    ["no price", { ...PLACE, price: undefined }, "price", "field price is required"],
    ["a market type", { ...PLACE, type: "BUY" }, "type", "field type must be"],
    [
      "a stop-limit without stoplimit",
      { ...PLACE, type: "BUY_STOP_LIMIT" },
      "stoplimit",
      "needs stoplimit",
    ],
    ["stoplimit on a limit", { ...PLACE, stoplimit: 1.09 }, "stoplimit", "only for BUY_STOP_LIMIT"],
    [
      "SPECIFIED without expiration",
      { ...PLACE, type_time: "SPECIFIED" },
      "expiration",
      "needs expiration",
    ],
    [
      "expiration with GTC",
      { ...PLACE, expiration: 1_795_039_200_000 },
      "expiration",
      "only for type_time",
    ],
    [
      "an expiration off the second",
      { ...PLACE, type_time: "SPECIFIED", expiration: 1_795_039_200_001 },
      "expiration",
      "whole second",
    ],
    ["a ticket in the body", { ...PLACE, ticket: 5 }, "ticket", "not allowed"],
    ["an unknown filling", { ...PLACE, type_filling: "BOC" }, "type_filling", "must be"],
    ["a negative volume", { ...PLACE, volume: -1 }, "volume", "positive"],
    ["a bad client_order_id", { ...PLACE, client_order_id: "has space" }, "client_order_id", "A-Z"],
  ])("%s is refused", (_name, body, field, words) => {
    const found = refusal(() => parsePlaceBody(body));
    expect(found).toMatchObject({ status: 400, field });
    expect(found.message).toContain(words);
  });
});

describe("modify, cancel and close-by", () => {
  test("a modify changes something; the path gives the ticket", () => {
    expect(parseModifyOrderBody({ price: 1.096, sl: null }, 42)).toEqual({
      ticket: 42,
      price: 1.096,
      sl: null,
    });
    expect(refusal(() => parseModifyOrderBody({}, 42))).toMatchObject({
      status: 400,
      field: "price",
    });
    expect(refusal(() => parseModifyOrderBody({ ticket: 43, price: 1 }, 42))).toMatchObject({
      field: "ticket",
    });
    expect(refusal(() => parseModifyOrderBody({ type_time: "SPECIFIED_DAY" }, 42))).toMatchObject({
      field: "expiration",
    });
  });

  test("a cancel takes only the gateway and the id", () => {
    expect(parseCancelBody({}, 9)).toEqual({ ticket: 9 });
    expect(refusal(() => parseCancelBody({ operator: true }, 9))).toMatchObject({
      field: "operator",
    });
  });

  test("a close-by needs another position", () => {
    expect(parseCloseByBody({ ticket_by: 8, comment: "hedge off" }, 7)).toEqual({
      ticket: 7,
      ticket_by: 8,
      comment: "hedge off",
    });
    expect(refusal(() => parseCloseByBody({}, 7))).toMatchObject({ field: "ticket_by" });
    expect(refusal(() => parseCloseByBody({ ticket_by: 7 }, 7))).toMatchObject({
      field: "ticket_by",
    });
  });
});

describe("checks", () => {
  test("ORDER_CHECK takes market and pending types; the gateway is set apart", () => {
    expect(
      parseCheckBody("ORDER_CHECK", { gateway: "g", type: "SELL", symbol: "EURUSD", volume: 1 }),
    ).toEqual({
      gateway: "g",
      request: { type: "SELL", symbol: "EURUSD", volume: 1 },
    });
    expect(
      refusal(() => parseCheckBody("ORDER_CHECK", { ...PLACE, price: undefined })),
    ).toMatchObject({
      field: "price",
    });
    expect(
      refusal(() =>
        parseCheckBody("ORDER_CHECK", { type: "BUY", symbol: "EURUSD", volume: 1, stoplimit: 1 }),
      ),
    ).toMatchObject({ field: "stoplimit" });
  });

  test("margin and profit take BUY or SELL and their prices", () => {
    const margin = { type: "BUY", symbol: "EURUSD", volume: 1, price: 1.1 };
    expect(parseCheckBody("CALC_MARGIN", margin)).toEqual({ request: margin });
    expect(
      refusal(() => parseCheckBody("CALC_MARGIN", { ...margin, type: "BUY_LIMIT" })),
    ).toMatchObject({ field: "type" });
    expect(
      refusal(() => parseCheckBody("CALC_PROFIT", { ...margin, price_open: 1.1 })),
    ).toMatchObject({ field: "price" });
  });
});

describe("GET /v1/pending", () => {
  const query = (text: string) => parsePendingQuery(new URLSearchParams(text));

  test("one filter at most: symbol, group or ticket", () => {
    expect(query("symbol=EURUSD&gateway=g")).toEqual({
      gateway: "g",
      filter: { symbol: "EURUSD" },
    });
    expect(query("group=*USD*,!EUR*")).toEqual({ filter: { group: "*USD*,!EUR*" } });
    expect(query("ticket=100000042")).toEqual({ filter: { ticket: 100000042 } });
    expect(query("")).toEqual({ filter: {} });
    expect(refusal(() => query("symbol=EURUSD&ticket=5"))).toMatchObject({
      status: 400,
      field: "ticket",
    });
  });

  test.each([["ticket=0"], ["ticket=-5"], ["ticket=1e3"], ["side=BUY"], ["symbol=EUR USD"]])(
    "%s is refused",
    (text) => {
      expect(refusal(() => query(text)).status).toBe(400);
    },
  );
});
