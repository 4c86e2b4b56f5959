/**
 * Issue 15's proof, end to end through agent-inf: agent-gtw on the simulated MT5 and agent-inf
 * as processes, every order type placed through agent-inf's local API, modified, then the
 * gateway killed (SIGKILL) between placement and trigger and started again; the orders trigger
 * on the sim's own moving prices (a straddle of each kind on the most volatile symbol, so one
 * side of each triggers within seconds), expire, and are cancelled through the API and the CLI.
 * Retries of a client_order_id answer the first outcome, before and after the restart, and the
 * risk accounting holds throughout: a pending order counts as a position from placement, and
 * the position it becomes counts once.
 */
import { afterEach, expect, test } from "bun:test";
import { spawnAgent } from "../../scripts/harness/agents.ts";
import { eventually } from "../../scripts/harness/eventually.ts";
import type { Position, SymbolInfo, TradeOrder } from "../../shared/protocol/index.ts";
import { type ApiClient, Cleanups, startStack } from "../faults/support.ts";

const cleanups = new Cleanups();
afterEach(() => cleanups.run());

const SYMBOLS = ["EURUSD", "GBPUSD", "USDJPY", "BTCUSD"];
/** Every pending order and position counts: 6 straddle orders and one far order fill it. */
const MAX_POSITIONS = 7;

async function quote(api: ApiClient, symbol: string): Promise<SymbolInfo> {
  return (await api.call("GET", `/v1/symbols/${symbol}`)).json["symbol_info"] as SymbolInfo;
}

async function pending(api: ApiClient): Promise<TradeOrder[]> {
  return (await api.call("GET", "/v1/pending")).json["orders"] as TradeOrder[];
}

async function positions(api: ApiClient): Promise<Position[]> {
  return (await api.call("GET", "/v1/positions")).json["positions"] as Position[];
}

interface Placed {
  readonly type: string;
  readonly coid: string;
  readonly ticket: number;
  readonly body: Record<string, unknown>;
}

test("every order type through agent-inf: placed, modified, across a gateway restart triggered, expired, cancelled; retries and risk accounting", async () => {
  const stack = await startStack(cleanups, {
    gatewayConfig: { limits: { symbols: SYMBOLS } },
    risk: { allowed_symbols: SYMBOLS, max_positions: MAX_POSITIONS },
  });
  const { api } = stack;
  const round2 = (value: number) => Number(value.toFixed(2));

  // A straddle of each kind on BTCUSD, 20 USD from the market (stops level 10 USD), each
  // modified at once (a take-profit far on its side), before the price can reach it
  const place = async (
    type: string,
    coid: string,
    at: (q: SymbolInfo) => Record<string, number>,
  ): Promise<Placed> => {
    const q = await quote(api, "BTCUSD");
    const prices = at(q);
    const body = { type, symbol: "BTCUSD", volume: 0.01, client_order_id: coid, ...prices };
    const answer = await api.call("POST", "/v1/pending", body);
    const ticket = (answer.json["reply"] as { order: number }).order;
    const opensAt = Number(prices["stoplimit"] ?? prices["price"]);
    const tp = round2(type.startsWith("BUY") ? opensAt + 500 : opensAt - 500);
    const modified = await api.call("POST", `/v1/pending/${ticket}/modify`, { tp });
    expect([coid, answer.json["outcome"], modified.json["outcome"]]).toEqual([
      coid,
      "FILLED",
      "FILLED",
    ]);
    expect(modified.json["reply"]).toMatchObject({ pending_order: { ticket, tp } });
    return { type, coid, ticket, body };
  };
  const orders: Placed[] = [
    await place("BUY_STOP", "e2e-bs", (q) => ({ price: round2(q.ask + 20) })),
    await place("SELL_STOP", "e2e-ss", (q) => ({ price: round2(q.bid - 20) })),
    await place("BUY_LIMIT", "e2e-bl", (q) => ({ price: round2(q.ask - 20) })),
    await place("SELL_LIMIT", "e2e-sl", (q) => ({ price: round2(q.bid + 20) })),
    await place("BUY_STOP_LIMIT", "e2e-bsl", (q) => ({
      price: round2(q.ask + 20),
      stoplimit: round2(q.ask + 8),
    })),
    await place("SELL_STOP_LIMIT", "e2e-ssl", (q) => ({
      price: round2(q.bid - 20),
      stoplimit: round2(q.bid - 8),
    })),
  ];
  const eur = await quote(api, "EURUSD");
  const far = {
    type: "BUY_LIMIT",
    symbol: "EURUSD",
    volume: 0.1,
    price: Number((eur.ask - 0.01).toFixed(5)),
    client_order_id: "e2e-far",
  };
  const farPlaced = await api.call("POST", "/v1/pending", far);
  const farTicket = (farPlaced.json["reply"] as { order: number }).order;

  // Seven orders fill max_positions 7: a pending order counts as the position it may become
  const eighth = await api.call("POST", "/v1/pending", { ...far, client_order_id: "e2e-8th" });
  expect(eighth.json).toMatchObject({
    outcome: "DENIED",
    denial: { code: "MAX_POSITIONS", context: { positions: MAX_POSITIONS } },
  });
  // A retry of a placed id answers its first outcome, nothing placed again
  const [first] = orders as [Placed, ...Placed[]];
  const retried = await api.call("POST", "/v1/pending", first.body);
  expect((retried.json["reply"] as { order: number }).order).toBe(first.ticket);

  const modifiedFar = await api.call("POST", `/v1/pending/${farTicket}/modify`, {
    price: Number((eur.ask - 0.011).toFixed(5)),
  });
  expect(modifiedFar.json["outcome"]).toBe("FILLED");

  // The gateway dies between placement and trigger, and comes back on its state
  await stack.gateway.kill();
  await stack.restartGateway();
  await eventually(async () => (await api.health()).gateways.every((lane) => lane.connected), {
    timeoutMs: 15_000,
    message: "agent-inf reconnected",
  });
  for (const order of orders) {
    const record = await api.order(order.coid);
    expect(record).toMatchObject({
      action: "PLACE",
      state: "FILLED",
      reply: { order: order.ticket },
    });
  }
  const afterRestart = await api.call("POST", "/v1/pending", { ...far });
  expect((afterRestart.json["reply"] as { order: number }).order).toBe(farTicket);

  // The price moves: one side of each straddle triggers (stops and limits fill into positions
  // under their own tickets; a stop-limit places its limit order under the same ticket)
  const byTicket = (list: readonly { ticket: number }[]) =>
    new Set(list.map((item) => item.ticket));
  await eventually(
    async () => {
      const open = byTicket(await positions(api));
      const left = await pending(api);
      const filled = (a: string, b: string) =>
        orders.some((o) => (o.coid === a || o.coid === b) && open.has(o.ticket));
      const stopLimitTriggered = left.some(
        (o) =>
          (o.ticket === orders[4]?.ticket || o.ticket === orders[5]?.ticket) &&
          !o.type.includes("STOP"),
      );
      const stopLimitFilled = open.has(orders[4]?.ticket ?? 0) || open.has(orders[5]?.ticket ?? 0);
      return (
        filled("e2e-bs", "e2e-ss") &&
        filled("e2e-bl", "e2e-sl") &&
        (stopLimitTriggered || stopLimitFilled)
      );
    },
    { timeoutMs: 90_000, intervalMs: 250, message: "one side of each straddle triggered" },
  );

  // Counted once: what left the book as an order is there as a position, under its ticket
  // (read in this order, an order that triggers between the two reads shows in both)
  const [left, open] = [await pending(api), await positions(api)];
  expect(new Set([...left, ...open].map((item) => item.ticket)).size).toBe(MAX_POSITIONS);
  const blocked = await api.call("POST", "/v1/orders", {
    symbol: "EURUSD",
    side: "BUY",
    volume: 0.01,
  });
  expect(blocked.json).toMatchObject({
    denial: { code: "MAX_POSITIONS", context: { positions: MAX_POSITIONS } },
  });

  // Cancelled through the API (a retry of the same id answers the same), then refused
  const cancel = { client_order_id: "e2e-cancel-far" };
  const cancelled = await api.call("POST", `/v1/pending/${farTicket}/cancel`, cancel);
  const cancelledAgain = await api.call("POST", `/v1/pending/${farTicket}/cancel`, cancel);
  const gone = await api.call("POST", `/v1/pending/${farTicket}/cancel`, {});
  expect(cancelled.json["outcome"]).toBe("FILLED");
  expect(cancelledAgain.json).toEqual(cancelled.json);
  expect(gone.json).toMatchObject({ outcome: "DENIED", denial: { code: "ORDER_NOT_FOUND" } });

  // One slot free again: an order that expires on the sim's clock takes it, then gives it back
  const expiration = Math.ceil((Date.now() + 3000) / 1000) * 1000;
  const expiring = await api.call("POST", "/v1/pending", {
    ...far,
    client_order_id: "e2e-expiring",
    type_time: "SPECIFIED",
    expiration,
  });
  expect(expiring.json["outcome"]).toBe("FILLED");
  const expiringTicket = (expiring.json["reply"] as { order: number }).order;
  const full = await api.call("POST", "/v1/pending", { ...far, client_order_id: "e2e-full" });
  expect(full.json).toMatchObject({ denial: { code: "MAX_POSITIONS" } });
  await eventually(async () => !byTicket(await pending(api)).has(expiringTicket), {
    timeoutMs: 20_000,
    intervalMs: 250,
    message: "the SPECIFIED order expired",
  });
  const record = (await api.order("e2e-expiring"))?.reply as { order?: number } | undefined;
  expect(record?.order).toBe(expiringTicket);
  const freed = await api.call("POST", "/v1/pending", { ...far, client_order_id: "e2e-freed" });
  expect(freed.json["outcome"]).toBe("FILLED");

  // The last order is cancelled from the command line: HALTED lets only the operator's through
  const freedTicket = (freed.json["reply"] as { order: number }).order;
  const cli = (...args: string[]) =>
    spawnAgent("agent-inf", [...args, "--config", stack.setup.configPath]).process.exited;
  expect(await cli("halt")).toBe(0);
  expect(await cli("cancel", String(freedTicket))).toBe(5);
  expect(await cli("cancel", String(freedTicket), "--operator")).toBe(0);
  expect(byTicket(await pending(api)).has(freedTicket)).toBe(false);
  expect(await cli("resume")).toBe(0);

  // What is left of the straddles is cancelled, unless the price reached it first
  for (const order of await pending(api)) {
    const answer = await api.call("POST", `/v1/pending/${order.ticket}/cancel`, {});
    if (answer.json["outcome"] !== "FILLED")
      expect(byTicket(await positions(api)).has(order.ticket)).toBe(true);
  }
  expect(await pending(api)).toEqual([]);
}, 180_000);
