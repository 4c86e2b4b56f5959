/**
 * The local strategy API on a real stack: agent-gtw as a process on the simulated MT5, the
 * inference app, and the API on loopback, driven with fetch() as a strategy would.
 */
import { afterEach, describe, expect, test } from "bun:test";
import type { Health } from "../../agent-inf/lane/health.ts";
import { eventually } from "../../scripts/harness/eventually.ts";
import type { Position, SymbolInfo, TradeReply } from "../../shared/protocol/index.ts";
import {
  type ApiStack,
  DEAD_GATEWAY,
  MAX_LOTS,
  MISNAMED_GATEWAY,
  SLOW_GATEWAY,
  startStack,
} from "../support/api-stack.ts";

const stacks: ApiStack[] = [];
afterEach(async () => {
  for (const stack of stacks.splice(0)) await stack.close();
});

async function stack(): Promise<ApiStack> {
  const started = await startStack();
  stacks.push(started);
  return started;
}

async function quote(s: ApiStack, symbol = "EURUSD"): Promise<SymbolInfo> {
  const response = await s.call("GET", `/v1/symbols/${symbol}`);
  expect(response.status).toBe(200);
  return response.json["symbol_info"] as SymbolInfo;
}

function round(value: number, digits: number): number {
  return Number(value.toFixed(digits));
}

async function positions(s: ApiStack, query = ""): Promise<Position[]> {
  const response = await s.call("GET", `/v1/positions${query}`);
  expect(response.status).toBe(200);
  return response.json["positions"] as Position[];
}

describe("local API orders", () => {
  test("opens with SL/TP, lists, modifies, partly closes and closes a position", async () => {
    const s = await stack();
    const info = await quote(s);
    const sl = round(info.bid - 0.005, info.digits);
    const tp = round(info.ask + 0.005, info.digits);

    const open = await s.call("POST", "/v1/orders", {
      client_order_id: "api-flow-1",
      symbol: "EURUSD",
      side: "BUY",
      volume: 0.1,
      sl,
      tp,
      comment: "api test",
    });
    const ticket = (open.json["reply"] as TradeReply).ticket as number;
    const listed = await positions(s, "?symbol=EURUSD");
    const modify = await s.call("POST", `/v1/positions/${ticket}/modify`, { sl: null });
    const partial = await s.call("POST", `/v1/positions/${ticket}/close`, { volume: 0.04 });
    const full = await s.call("POST", `/v1/positions/${ticket}/close`, {
      client_order_id: "api-flow-close",
    });
    const after = await positions(s);

    expect(open.status).toBe(200);
    expect(open.headers.get("content-type")).toBe("application/json");
    expect(open.json).toMatchObject({
      outcome: "FILLED",
      gateway: s.gatewayName,
      client_order_id: "api-flow-1",
      reply: { status: "FILLED", volume: 0.1, sl, tp },
    });
    expect(listed).toEqual([expect.objectContaining({ ticket, side: "BUY", volume: 0.1, sl, tp })]);
    expect(modify.status).toBe(200);
    expect(modify.json).toMatchObject({ outcome: "FILLED", reply: { sl: null, tp } });
    expect(partial.json).toMatchObject({ outcome: "FILLED", reply: { remaining_volume: 0.06 } });
    expect(full.status).toBe(200);
    expect(full.json).toMatchObject({
      outcome: "FILLED",
      client_order_id: "api-flow-close",
      reply: { remaining_volume: 0 },
    });
    expect(after.filter((position) => position.ticket === ticket)).toEqual([]);
  });

  test("a repeated client_order_id answers the first outcome and opens nothing more", async () => {
    const s = await stack();
    const body = { client_order_id: "api-retry-1", symbol: "GBPUSD", side: "SELL", volume: 0.2 };

    const first = await s.call("POST", "/v1/orders", body);
    const again = await s.call("POST", "/v1/orders", body);
    const open = await positions(s, "?symbol=GBPUSD");

    expect(first.status).toBe(200);
    expect(again.status).toBe(200);
    expect((again.json["reply"] as TradeReply).ticket).toBe(
      (first.json["reply"] as TradeReply).ticket as number,
    );
    expect(open).toHaveLength(1);
  });

  test("an id reused for another action is refused, not answered with the first fill", async () => {
    const s = await stack();
    const open = await s.call("POST", "/v1/orders", {
      client_order_id: "api-reuse-1",
      symbol: "EURUSD",
      side: "BUY",
      volume: 0.1,
    });
    const ticket = (open.json["reply"] as TradeReply).ticket as number;

    const close = await s.call("POST", `/v1/positions/${ticket}/close`, {
      client_order_id: "api-reuse-1",
    });
    const still = await positions(s);

    expect(open.status).toBe(200);
    expect(close.status).toBe(502);
    expect(close.json).toMatchObject({
      outcome: "ERROR",
      reply: { error_code: "CLIENT_ORDER_ID_REUSED" },
    });
    expect(still.map((position) => position.ticket)).toContain(ticket);
  });

  // Each outcome produced for real: inference risk, the gateway's own limit (5 lots), a
  // signature for another gateway name, and a gateway that does not answer
  test.each([
    ["FILLED", {}, 200, { reply: { status: "FILLED" } }],
    [
      "DENIED",
      { volume: MAX_LOTS + 1 },
      422,
      {
        denial: { code: "VOLUME_ABOVE_MAX", context: { volume: MAX_LOTS + 1, max_lots: MAX_LOTS } },
      },
    ],
    [
      "REJECTED",
      { volume: 6 },
      422,
      { reply: { status: "REJECTED", error_code: "VOLUME_ABOVE_MAX" } },
    ],
    ["ERROR", { gateway: MISNAMED_GATEWAY }, 502, { reply: { error_code: "WRONG_GATEWAY" } }],
    [
      "ERROR",
      { gateway: DEAD_GATEWAY },
      502,
      {
        reply: {
          error_code: "GATEWAY_UNREACHABLE",
          error_msg: expect.stringContaining("nothing was sent"),
        },
      },
    ],
    ["UNKNOWN", { gateway: SLOW_GATEWAY }, 504, { reason: expect.stringContaining("GET_ORDER") }],
  ] as const)("outcome %s answers HTTP status", async (outcome, change, status, shape) => {
    const s = await stack();

    const response = await s.call("POST", "/v1/orders", {
      symbol: "EURUSD",
      side: "BUY",
      volume: 0.1,
      ...change,
    });

    expect(response.status).toBe(status);
    expect(response.json).toMatchObject({ outcome, ...shape });
    expect(response.json["client_order_id"]).toMatch(/^[A-Za-z0-9_-]{1,24}$/);
  });

  test("closing or modifying a ticket that is not open is denied", async () => {
    const s = await stack();

    const close = await s.call("POST", "/v1/positions/424242/close", {});
    const modify = await s.call("POST", "/v1/positions/424242/modify", { tp: 2 });

    expect(close.status).toBe(422);
    expect(close.json).toMatchObject({ outcome: "DENIED", denial: { code: "POSITION_NOT_FOUND" } });
    expect(modify.status).toBe(422);
    expect(modify.json).toMatchObject({
      outcome: "DENIED",
      denial: { code: "POSITION_NOT_FOUND" },
    });
  });
});

describe("local API queries", () => {
  test("GET order: the gateway's record, 404 when never seen, 504 when unreachable", async () => {
    const s = await stack();
    await s.call("POST", "/v1/orders", {
      client_order_id: "api-get-1",
      symbol: "USDJPY",
      side: "BUY",
      volume: 0.1,
    });

    const found = await s.call("GET", "/v1/orders/api-get-1");
    const missing = await s.call("GET", `/v1/orders/never-sent-1?gateway=${s.gatewayName}`);
    const unreachable = await s.call("GET", `/v1/orders/api-get-1?gateway=${DEAD_GATEWAY}`);

    expect(found.status).toBe(200);
    expect(found.json).toMatchObject({
      gateway: s.gatewayName,
      order: { client_order_id: "api-get-1", action: "OPEN", state: "FILLED" },
    });
    expect(missing.status).toBe(404);
    expect(missing.json).toEqual({ gateway: s.gatewayName, order: null });
    expect(unreachable.status).toBe(504);
    expect(unreachable.json).toMatchObject({
      error: { code: "GATEWAY_UNREACHABLE", gateway: DEAD_GATEWAY },
    });
  });

  test("account, positions and symbol info come from the gateway", async () => {
    const s = await stack();

    const account = await s.call("GET", "/v1/account");
    const list = await s.call("GET", `/v1/positions?gateway=${s.gatewayName}&symbol=XAUUSD`);
    const symbol = await s.call("GET", "/v1/symbols/USDJPY");
    const unknown = await s.call("GET", "/v1/symbols/NOPE");

    expect(account.status).toBe(200);
    expect(account.json).toMatchObject({
      gateway: s.gatewayName,
      account: { currency: "USD", balance: 10_000 },
    });
    expect(list.json).toEqual({ gateway: s.gatewayName, positions: [] });
    expect(symbol.json).toMatchObject({ symbol_info: { symbol: "USDJPY", digits: 3 } });
    expect(unknown.status).toBe(404);
    expect(unknown.json).toMatchObject({
      error: { code: "UNKNOWN_SYMBOL", gateway_error_code: "UNKNOWN_SYMBOL" },
    });
  });

  test.each(["/v1/account", "/v1/positions", "/v1/symbols/EURUSD"])(
    "GET %s answers 504 when the gateway does not answer",
    async (path) => {
      const s = await stack();

      const response = await s.call("GET", `${path}?gateway=${DEAD_GATEWAY}`);

      expect(response.status).toBe(504);
      expect(response.json).toMatchObject({ error: { code: "GATEWAY_UNREACHABLE" } });
    },
  );
});

describe("local API health and operator controls", () => {
  test("health reports each gateway's heartbeat, breaker, trading state and links", async () => {
    const s = await stack();

    const health = await eventually(async () => {
      const response = await s.call("GET", "/v1/health");
      const body = response.json as unknown as Health;
      return body.gateways.find((lane) => lane.gateway === s.gatewayName)?.mt5_link === "UP"
        ? { status: response.status, body }
        : undefined;
    });

    expect(health.status).toBe(200);
    expect(health.body.gateways.map((lane) => lane.gateway)).toEqual([
      s.gatewayName,
      MISNAMED_GATEWAY,
      DEAD_GATEWAY,
      SLOW_GATEWAY,
    ]);
    expect(health.body.gateways[0]).toMatchObject({
      connected: true,
      heartbeat: "HEALTHY",
      breaker: { engaged: false },
      trading_state: "ACTIVE",
      gateway_trading_state: "ACTIVE",
      mt5_link: "UP",
    });
    expect(health.body.gateways[2]).toMatchObject({ connected: false });
  });

  test("HALTED denies OPEN with TRADING_HALTED on that gateway only, ACTIVE allows it again", async () => {
    const s = await stack();
    const order = { symbol: "EURUSD", side: "BUY", volume: 0.1 };

    const halted = await s.call("POST", "/v1/trading-state", {
      state: "HALTED",
      reason: "news",
      gateway: s.gatewayName,
    });
    const denied = await s.call("POST", "/v1/orders", order);
    const active = await s.call("POST", "/v1/trading-state", { state: "ACTIVE" });
    const allowed = await s.call("POST", "/v1/orders", order);

    const lanes = (halted.json as unknown as Health).gateways;
    expect(halted.status).toBe(200);
    expect(lanes.map((lane) => [lane.gateway, lane.trading_state])).toEqual([
      [s.gatewayName, "HALTED"],
      [MISNAMED_GATEWAY, "ACTIVE"],
      [DEAD_GATEWAY, "ACTIVE"],
      [SLOW_GATEWAY, "ACTIVE"],
    ]);
    expect(lanes[0]?.trading_state_reason).toBe("news");
    expect(denied.status).toBe(422);
    expect(denied.json).toMatchObject({ outcome: "DENIED", denial: { code: "TRADING_HALTED" } });
    expect((active.json as unknown as Health).gateways[0]?.trading_state).toBe("ACTIVE");
    expect(allowed.json).toMatchObject({ outcome: "FILLED" });
  });

  test("an engaged breaker denies OPEN with BREAKER_OPEN until reset", async () => {
    const s = await stack();
    const order = { symbol: "EURUSD", side: "SELL", volume: 0.1 };

    const engaged = await s.call("POST", "/v1/breaker", { action: "engage", reason: "drill" });
    const denied = await s.call("POST", "/v1/orders", order);
    const reset = await s.call("POST", "/v1/breaker", {
      action: "reset",
      gateway: s.gatewayName,
    });
    const allowed = await s.call("POST", "/v1/orders", order);

    expect(engaged.status).toBe(200);
    expect((engaged.json as unknown as Health).gateways[0]?.breaker).toMatchObject({
      engaged: true,
      reason: "drill",
    });
    expect(denied.status).toBe(422);
    expect(denied.json).toMatchObject({ denial: { code: "BREAKER_OPEN" } });
    expect((reset.json as unknown as Health).gateways[0]?.breaker.engaged).toBe(false);
    expect(allowed.json).toMatchObject({ outcome: "FILLED" });
  });

  test("metrics expose orders, denials, HTTP requests by route template and lane gauges", async () => {
    const s = await stack();
    const open = await s.call("POST", "/v1/orders", { symbol: "EURUSD", side: "BUY", volume: 0.1 });
    const ticket = (open.json["reply"] as TradeReply).ticket as number;
    await s.call("POST", `/v1/positions/${ticket}/close`, {});
    await s.call("POST", "/v1/orders", { symbol: "EURUSD", side: "BUY", volume: MAX_LOTS + 1 });
    await s.call("GET", "/v1/no-such-route");

    const metrics = await s.call("GET", "/metrics");

    expect(metrics.status).toBe(200);
    expect(metrics.headers.get("content-type")).toBe("text/plain; version=0.0.4");
    expect(metrics.text).toContain('agent_inf_orders_total{action="OPEN",outcome="FILLED"} 1');
    expect(metrics.text).toContain('agent_inf_orders_total{action="CLOSE",outcome="FILLED"} 1');
    expect(metrics.text).toContain('agent_inf_risk_denials_total{code="VOLUME_ABOVE_MAX"} 1');
    expect(metrics.text).toContain(
      'agent_inf_http_requests_total{route="/v1/positions/{ticket}/close",method="POST",status="200"} 1',
    );
    expect(metrics.text).toContain(
      'agent_inf_http_requests_total{route="unmatched",method="GET",status="404"} 1',
    );
    expect(metrics.text).toContain(`agent_inf_trading_state{gateway="${s.gatewayName}"} 0`);
    expect(metrics.text).toContain("agent_inf_http_request_seconds_count");
    expect(metrics.text).not.toContain(`/v1/positions/${ticket}`);
    expect(metrics.text).not.toContain("no-such-route");
  });
});
