/**
 * The pending-order and pre-trade routes on a real stack (issue 15 §5): agent-gtw as a process
 * on the simulated MT5, the inference app and its API on loopback, driven with fetch() as a
 * strategy would: place, list, modify and cancel pending orders, close a position by an
 * opposite one, ask the order check, margin and profit; retries by client_order_id; named 4xx;
 * the operator's cancel while HALTED.
 */
import { afterEach, describe, expect, test } from "bun:test";
import type { SymbolInfo, TradeOrder, TradeReply } from "../../shared/protocol/index.ts";
import { type ApiStack, startStack } from "../support/api-stack.ts";

const stacks: ApiStack[] = [];
afterEach(async () => {
  for (const stack of stacks.splice(0)) await stack.close();
});

const STRATEGY = "strategy-token-for-pending";
const OPERATOR = "operator-token-for-pending";

async function stack(withTokens = false): Promise<ApiStack> {
  const started = await startStack(
    withTokens ? { auth: { kind: "token", strategyToken: STRATEGY, operatorToken: OPERATOR } } : {},
  );
  stacks.push(started);
  return started;
}

async function quote(s: ApiStack, symbol = "EURUSD", headers = {}): Promise<SymbolInfo> {
  const response = await s.call("GET", `/v1/symbols/${symbol}`, undefined, headers);
  expect(response.status).toBe(200);
  return response.json["symbol_info"] as SymbolInfo;
}

const round = (value: number, digits: number) => Number(value.toFixed(digits));

async function pending(s: ApiStack, query = "", headers = {}): Promise<TradeOrder[]> {
  const response = await s.call("GET", `/v1/pending${query}`, undefined, headers);
  expect(response.status).toBe(200);
  return response.json["orders"] as TradeOrder[];
}

describe("pending orders through the local API", () => {
  test("places, lists by symbol, group and ticket, modifies and cancels; retries answer the first outcome", async () => {
    const s = await stack();
    const info = await quote(s);
    const price = round(info.bid - 0.005, info.digits);
    const body = {
      client_order_id: "api-pend-1",
      type: "BUY_LIMIT",
      symbol: "eurusd",
      volume: 0.1,
      price,
      sl: round(price - 0.002, info.digits),
      type_time: "DAY",
      comment: "api pending",
    };
    const placed = await s.call("POST", "/v1/pending", body);
    const again = await s.call("POST", "/v1/pending", body);
    const ticket = (placed.json["reply"] as TradeReply).order as number;
    const bySymbol = await pending(s, "?symbol=EURUSD");
    const byGroup = await pending(s, "?group=*USD*,!GBP*");
    const byTicket = await pending(s, `?ticket=${ticket}`);
    const none = await pending(s, "?symbol=USDJPY");
    const modified = await s.call("POST", `/v1/pending/${ticket}/modify`, {
      price: round(price - 0.001, info.digits),
      sl: null,
    });
    const cancelled = await s.call("POST", `/v1/pending/${ticket}/cancel`, {
      client_order_id: "api-pend-cancel",
    });
    const cancelledAgain = await s.call("POST", `/v1/pending/${ticket}/cancel`, {
      client_order_id: "api-pend-cancel",
    });
    const gone = await s.call("POST", `/v1/pending/${ticket}/cancel`, {});

    expect(placed.status).toBe(200);
    expect(placed.json).toMatchObject({
      outcome: "FILLED",
      client_order_id: "api-pend-1",
      reply: {
        status: "FILLED",
        order: ticket,
        pending_order: { type: "BUY_LIMIT", state: "PLACED" },
      },
    });
    expect(again.json).toEqual(placed.json);
    for (const list of [bySymbol, byGroup, byTicket])
      expect(list).toEqual([
        expect.objectContaining({ ticket, symbol: "EURUSD", price_open: price }),
      ]);
    expect(none).toEqual([]);
    expect(modified.json).toMatchObject({
      outcome: "FILLED",
      reply: { pending_order: { price_open: round(price - 0.001, info.digits), sl: null } },
    });
    expect(cancelled.json).toMatchObject({ outcome: "FILLED" });
    expect(cancelledAgain.json).toEqual(cancelled.json);
    expect(await pending(s)).toEqual([]);
    // Not pending any more: refused here, nothing sent
    expect(gone.status).toBe(422);
    expect(gone.json).toMatchObject({ outcome: "DENIED", denial: { code: "ORDER_NOT_FOUND" } });
  });

  test("a stop-limit, a sell stop and a specified expiration are placed as asked", async () => {
    const s = await stack();
    const info = await quote(s);
    const expiration = (Math.floor(Date.now() / 1000) + 3600) * 1000;
    const stopLimit = await s.call("POST", "/v1/pending", {
      type: "BUY_STOP_LIMIT",
      symbol: "EURUSD",
      volume: 0.1,
      price: round(info.ask + 0.005, info.digits),
      stoplimit: round(info.ask + 0.004, info.digits),
      type_time: "SPECIFIED",
      expiration,
    });
    const sellStop = await s.call("POST", "/v1/pending", {
      type: "SELL_STOP",
      symbol: "EURUSD",
      volume: 0.2,
      price: round(info.bid - 0.005, info.digits),
    });
    expect([stopLimit.json["outcome"], sellStop.json["outcome"]]).toEqual(["FILLED", "FILLED"]);
    expect((await pending(s)).map((o) => [o.type, o.type_time, o.time_expiration])).toEqual(
      expect.arrayContaining([
        ["BUY_STOP_LIMIT", "SPECIFIED", expiration],
        ["SELL_STOP", "GTC", 0],
      ]),
    );
  });

  test("MT5's refusal of a price on the wrong side is REJECTED with its retcode", async () => {
    const s = await stack();
    const info = await quote(s);
    const wrong = await s.call("POST", "/v1/pending", {
      type: "BUY_LIMIT",
      symbol: "EURUSD",
      volume: 0.1,
      price: round(info.ask + 0.005, info.digits),
    });
    expect(wrong.status).toBe(422);
    expect(wrong.json).toMatchObject({ outcome: "REJECTED", reply: { retcode: 10015 } });
  });

  test("closes a position by an opposite one", async () => {
    const s = await stack();
    const open = async (side: string, volume: number) =>
      (
        (await s.call("POST", "/v1/orders", { symbol: "EURUSD", side, volume })).json[
          "reply"
        ] as TradeReply
      ).ticket as number;
    const buy = await open("BUY", 0.3);
    const sell = await open("SELL", 0.1);
    const closed = await s.call("POST", `/v1/positions/${buy}/close-by`, {
      ticket_by: sell,
      client_order_id: "api-close-by",
    });
    const left = (await s.call("GET", "/v1/positions")).json["positions"] as {
      ticket: number;
      volume: number;
    }[];

    expect(closed.json).toMatchObject({
      outcome: "FILLED",
      reply: { ticket: buy, ticket_by: sell, remaining_volume: 0.2, remaining_volume_by: 0 },
    });
    expect(left).toEqual([expect.objectContaining({ ticket: buy, volume: 0.2 })]);
    const twice = await s.call("POST", `/v1/positions/${buy}/close-by`, { ticket_by: sell });
    expect(twice.json).toMatchObject({
      outcome: "DENIED",
      denial: { code: "POSITION_NOT_FOUND", context: { ticket: sell } },
    });
  });

  test("order check, margin and profit come from the gateway", async () => {
    const s = await stack();
    const info = await quote(s);
    const checked = await s.call("POST", "/v1/check", {
      type: "BUY_LIMIT",
      symbol: "EURUSD",
      volume: 1,
      price: round(info.bid - 0.005, info.digits),
    });
    const tooBig = await s.call("POST", "/v1/check", {
      type: "SELL",
      symbol: "EURUSD",
      volume: 500,
    });
    const margin = await s.call("POST", "/v1/check/margin", {
      type: "BUY",
      symbol: "EURUSD",
      volume: 1,
      price: info.ask,
    });
    const profit = await s.call("POST", "/v1/check/profit", {
      type: "BUY",
      symbol: "EURUSD",
      volume: 1,
      price_open: 1.1,
      price_close: 1.101,
    });
    const unknown = await s.call("POST", "/v1/check/margin", {
      type: "BUY",
      symbol: "NOPE",
      volume: 1,
      price: 1,
    });

    expect(checked.status).toBe(200);
    expect(checked.json).toMatchObject({
      gateway: s.gatewayName,
      check: { retcode: 0, comment: "Done" },
    });
    expect((checked.json["check"] as { margin: number }).margin).toBeGreaterThan(0);
    expect(tooBig.json).toMatchObject({ check: { retcode: 10019 } });
    expect(margin.json["margin"]).toBeGreaterThan(0);
    // 1 lot of EURUSD, 10 pips on a USD account
    expect(profit.json["profit"]).toBeCloseTo(100, 6);
    expect(unknown.status).toBe(404);
    expect(unknown.json).toMatchObject({ error: { code: "UNKNOWN_SYMBOL" } });
  });

  test("bad input is a 400 naming the field, before anything is asked or sent", async () => {
    const s = await stack();
    const cases: [string, string, unknown, string][] = [
      ["POST", "/v1/pending", { type: "BUY_LIMIT", symbol: "EURUSD", volume: 0.1 }, "price"],
      ["POST", "/v1/pending/0/cancel", {}, "ticket"],
      ["POST", "/v1/pending/5/modify", {}, "price"],
      ["POST", "/v1/positions/5/close-by", { ticket_by: 5 }, "ticket_by"],
      ["POST", "/v1/check", { type: "BUY_LIMIT", symbol: "EURUSD", volume: 1 }, "price"],
      ["POST", "/v1/check/profit", { type: "BUY", symbol: "EURUSD", volume: 1 }, "price_open"],
      ["GET", "/v1/pending?symbol=EURUSD&group=*", undefined, "group"],
    ];
    for (const [method, path, body, field] of cases) {
      const response = await s.call(method, path, body);
      expect([path, response.status, response.json]).toMatchObject([
        path,
        400,
        { error: { code: "INVALID_REQUEST", field } },
      ]);
    }
    expect(await pending(s)).toEqual([]);
  });
});

describe("roles and trading states", () => {
  test("HALTED: the strategy's cancel is denied, the operator's goes through; REDUCING allows cancels only", async () => {
    const s = await stack(true);
    const strategy = { authorization: `Bearer ${STRATEGY}` };
    const operator = { authorization: `Bearer ${OPERATOR}` };
    const info = await quote(s, "EURUSD", strategy);
    const order = (n: number) => ({
      type: "SELL_LIMIT",
      symbol: "EURUSD",
      volume: 0.1,
      price: round(info.ask + 0.005 + n * 0.001, info.digits),
    });
    const tickets: number[] = [];
    for (const n of [0, 1]) {
      const placed = await s.call("POST", "/v1/pending", order(n), strategy);
      tickets.push((placed.json["reply"] as TradeReply).order as number);
    }
    const setState = (state: string) => s.call("POST", "/v1/trading-state", { state }, operator);

    await setState("REDUCING");
    const placeReducing = await s.call("POST", "/v1/pending", order(2), strategy);
    const modifyReducing = await s.call(
      "POST",
      `/v1/pending/${tickets[0]}/modify`,
      { price: order(3).price },
      strategy,
    );
    const cancelReducing = await s.call("POST", `/v1/pending/${tickets[0]}/cancel`, {}, strategy);
    await setState("HALTED");
    const cancelHalted = await s.call("POST", `/v1/pending/${tickets[1]}/cancel`, {}, strategy);
    const operatorCancel = await s.call("POST", `/v1/pending/${tickets[1]}/cancel`, {}, operator);

    expect(placeReducing.json).toMatchObject({
      outcome: "DENIED",
      denial: { code: "REDUCING_ONLY" },
    });
    expect(modifyReducing.json).toMatchObject({
      outcome: "DENIED",
      denial: { code: "REDUCING_ONLY" },
    });
    expect(cancelReducing.json).toMatchObject({ outcome: "FILLED" });
    expect(cancelHalted.json).toMatchObject({
      outcome: "DENIED",
      denial: { code: "TRADING_HALTED" },
    });
    expect(operatorCancel.json).toMatchObject({ outcome: "FILLED" });
    expect(await pending(s, "", strategy)).toEqual([]);
  });

  test("without a token nothing is placed", async () => {
    const s = await stack(true);
    const response = await s.call("POST", "/v1/pending", {
      type: "BUY_LIMIT",
      symbol: "EURUSD",
      volume: 0.1,
      price: 1,
    });
    expect(response.status).toBe(401);
  });
});
