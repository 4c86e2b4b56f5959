/**
 * Issue 15's proof, end to end through agent-inf: agent-gtw on the simulated MT5 and agent-inf
 * as processes. Every order type is placed through agent-inf's local API and cancelled; then a
 * straddle of every type is placed and modified, the gateway is killed (SIGKILL) between
 * placement and trigger and started again, and the operator's `agent-gtw sim price` moves the
 * market up, down and back so that every one of them triggers (stop-limits through their limit
 * order); an order expires, and the last is cancelled from the CLI while HALTED. Retries of a
 * client_order_id answer the first outcome, before and after the restart, and the risk
 * accounting holds throughout: a pending order counts as a position from placement, and the
 * position it becomes counts once.
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
    // BTCUSD at a tenth of its realistic pace: only the operator's `sim price` moves below may
    // bring it to the orders 150 USD away (at full pace it crossed that within the first
    // seconds in about 1 of 300 start times)
    gatewayConfig: {
      limits: { symbols: SYMBOLS },
      backend: { sim: { volatility: { BTCUSD: 0.1 } } },
    },
    risk: { allowed_symbols: SYMBOLS, max_positions: MAX_POSITIONS },
  });
  const { api } = stack;
  const round2 = (value: number) => Number(value.toFixed(2));
  const round5 = (value: number) => Number(value.toFixed(5));

  // Every type placed far from the market on EURUSD and cancelled: each counted while it
  // stands, none after
  const eur0 = await quote(api, "EURUSD");
  const farOfEach: Record<string, Record<string, number>> = {
    BUY_LIMIT: { price: round5(eur0.ask - 0.01) },
    SELL_LIMIT: { price: round5(eur0.bid + 0.01) },
    BUY_STOP: { price: round5(eur0.ask + 0.01) },
    SELL_STOP: { price: round5(eur0.bid - 0.01) },
    BUY_STOP_LIMIT: { price: round5(eur0.ask + 0.01), stoplimit: round5(eur0.ask + 0.005) },
    SELL_STOP_LIMIT: { price: round5(eur0.bid - 0.01), stoplimit: round5(eur0.bid - 0.005) },
  };
  const farTickets: number[] = [];
  for (const [type, prices] of Object.entries(farOfEach)) {
    const body = { type, symbol: "EURUSD", volume: 0.01, ...prices };
    const answer = await api.call("POST", "/v1/pending", body);
    expect([type, answer.json["outcome"]]).toEqual([type, "FILLED"]);
    farTickets.push((answer.json["reply"] as { order: number }).order);
  }
  expect((await pending(api)).map((order): string => order.type).sort()).toEqual(
    Object.keys(farOfEach).sort(),
  );
  const seventh = await api.call("POST", "/v1/pending", {
    type: "BUY_LIMIT",
    symbol: "EURUSD",
    volume: 0.01,
    price: round5(eur0.ask - 0.02),
  });
  expect(seventh.json["outcome"]).toBe("FILLED");
  const eighthEarly = await api.call("POST", "/v1/orders", {
    symbol: "EURUSD",
    side: "BUY",
    volume: 0.01,
  });
  expect(eighthEarly.json).toMatchObject({ denial: { code: "MAX_POSITIONS" } });
  farTickets.push((seventh.json["reply"] as { order: number }).order);
  for (const ticket of farTickets) {
    const answer = await api.call("POST", `/v1/pending/${ticket}/cancel`, {});
    expect([ticket, answer.json["outcome"]]).toEqual([ticket, "FILLED"]);
  }
  expect(await pending(api)).toEqual([]);

  // A straddle of each kind on BTCUSD, 150 USD from the market (stops level 10 USD; the sim,
  // slowed tenfold, moves it under a dollar a second), each modified at once (a take-profit far
  // on its side)
  const q0 = await quote(api, "BTCUSD");
  const place = async (
    type: string,
    coid: string,
    at: (q: SymbolInfo) => Record<string, number>,
  ): Promise<Placed> => {
    const prices = at(q0);
    const body = { type, symbol: "BTCUSD", volume: 0.01, client_order_id: coid, ...prices };
    const answer = await api.call("POST", "/v1/pending", body);
    const ticket = (answer.json["reply"] as { order: number }).order;
    const opensAt = Number(prices["stoplimit"] ?? prices["price"]);
    const tp = round2(type.startsWith("BUY") ? opensAt + 1000 : opensAt - 1000);
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
    await place("BUY_STOP", "e2e-bs", (q) => ({ price: round2(q.ask + 150) })),
    await place("SELL_STOP", "e2e-ss", (q) => ({ price: round2(q.bid - 150) })),
    await place("BUY_LIMIT", "e2e-bl", (q) => ({ price: round2(q.ask - 150) })),
    await place("SELL_LIMIT", "e2e-sl", (q) => ({ price: round2(q.bid + 150) })),
    await place("BUY_STOP_LIMIT", "e2e-bsl", (q) => ({
      price: round2(q.ask + 150),
      stoplimit: round2(q.ask + 50),
    })),
    await place("SELL_STOP_LIMIT", "e2e-ssl", (q) => ({
      price: round2(q.bid - 150),
      stoplimit: round2(q.bid - 50),
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

  // None has triggered: the market has not come near them
  expect((await pending(api)).map((order) => order.ticket).sort()).toEqual(
    [...orders.map((order) => order.ticket), farTicket].sort(),
  );

  // The operator moves the market: up 300 USD, down to 300 under, back. Up fills the buy stop
  // and the sell limit and turns the buy stop-limit into its buy limit; down fills the sell
  // stop, the buy limit and that limit, and turns the sell stop-limit into its sell limit, which
  // the way back fills. Each fill is a position under the order's ticket.
  const simPrice = async (bid: number) => {
    const child = spawnAgent("agent-gtw", [
      "sim",
      "price",
      "BTCUSD",
      String(round2(bid)),
      "--config",
      stack.deployment.gtwConfigPath,
    ]);
    expect([bid, await child.exited(), child.log()]).toEqual([bid, 0, ""]);
  };
  const [bs, ss, bl, sl, bsl, ssl] = orders.map((order) => order.ticket) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const byTicket = (list: readonly { ticket: number }[]) =>
    new Set(list.map((item) => item.ticket));
  const state = async () => {
    const [left, open] = [await pending(api), byTicket(await positions(api))];
    const types = new Map(left.map((order) => [order.ticket, order.type]));
    return (ticket: number) => (open.has(ticket) ? "POSITION" : (types.get(ticket) ?? "GONE"));
  };
  const expectStates = async (expected: Record<number, string>, message: string) => {
    let seen: Record<number, string> = {};
    await eventually(
      async () => {
        const of = await state();
        seen = Object.fromEntries(Object.keys(expected).map((t) => [t, of(Number(t))]));
        return JSON.stringify(seen) === JSON.stringify(expected);
      },
      { timeoutMs: 15_000, intervalMs: 200 },
    ).catch((error) => {
      throw new Error(`${message}: ${JSON.stringify(seen)}`, { cause: error });
    });
  };
  await simPrice(q0.bid + 300);
  await expectStates(
    { [bs]: "POSITION", [sl]: "POSITION", [bsl]: "BUY_LIMIT", [ss]: "SELL_STOP" },
    "the move up",
  );
  await simPrice(q0.bid - 300);
  await expectStates(
    { [ss]: "POSITION", [bl]: "POSITION", [bsl]: "POSITION", [ssl]: "SELL_LIMIT" },
    "the move down",
  );
  await simPrice(q0.bid);
  await expectStates(
    {
      [bs]: "POSITION",
      [ss]: "POSITION",
      [bl]: "POSITION",
      [sl]: "POSITION",
      [bsl]: "POSITION",
      [ssl]: "POSITION",
    },
    "the way back",
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
    spawnAgent("agent-inf", [...args, "--config", stack.setup.configPath]).exited();
  expect(await cli("halt")).toBe(0);
  expect(await cli("cancel", String(freedTicket))).toBe(5);
  expect(await cli("cancel", String(freedTicket), "--operator")).toBe(0);
  expect(byTicket(await pending(api)).has(freedTicket)).toBe(false);
  expect(await cli("resume")).toBe(0);

  expect(await pending(api)).toEqual([]);
}, 180_000);
