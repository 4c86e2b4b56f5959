/**
 * Pending orders with agent-gtw as a real process on the simulated MT5, over CURVE: placed,
 * announced as events, killed with SIGKILL between placement and trigger, and after the restart
 * the retry answers from the journal, the market moved by `agent-gtw sim price` triggers one side
 * of a straddle, an order expires on the sim's own clock, and the operator cancels what is left
 * with `agent-gtw cancel` while trading is HALTED.
 */
import { afterEach, describe, expect, test } from "bun:test";
import {
  agentCommand,
  type RunningGateway,
  spawnAgent,
  startGateway,
} from "../../scripts/harness/agents.ts";
import { createDeployment, type Deployment } from "../../scripts/harness/deployment.ts";
import { eventually } from "../../scripts/harness/eventually.ts";
import { TestClient } from "../../scripts/harness/test-client.ts";
import {
  type OrderEvent,
  type OrderReply,
  type OrdersReply,
  type PendingTradeReply,
  type PingReply,
  type PositionsReply,
  parseEvent,
  type ResyncReply,
  type SymbolInfoReply,
  type TradeOrder,
} from "../../shared/protocol/index.ts";

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const SYMBOLS = ["EURUSD", "GBPUSD", "USDJPY", "BTCUSD"];

async function gateway(): Promise<{ deployment: Deployment; gtw: RunningGateway }> {
  // BTCUSD at a tenth of its realistic pace: it stays within a few USD of where the straddle is
  // placed, and the test moves it with `agent-gtw sim price` (left to the random walk, the
  // straddle sometimes did not trigger within the test's time, or triggered on both sides)
  const deployment = createDeployment({
    gateway: {
      limits: { symbols: SYMBOLS },
      backend: { sim: { volatility: { BTCUSD: 0.1 } } },
    },
  });
  cleanups.push(() => deployment.remove());
  const gtw = await startGateway(deployment.gtwConfigPath, deployment.gtwStateDir);
  cleanups.push(() => gtw.kill());
  return { deployment, gtw };
}

function client(endpoint: string, deployment: Deployment): TestClient {
  const built = new TestClient(endpoint, deployment);
  cleanups.push(() => built.close());
  return built;
}

const orderOf = (reply: unknown) => (reply as PendingTradeReply).order as number;

async function quote(c: TestClient, symbol: string): Promise<{ bid: number; ask: number }> {
  const info = (await c.send({ action: "GET_SYMBOL_INFO", symbol })) as SymbolInfoReply;
  return { bid: info.symbol_info.bid, ask: info.symbol_info.ask };
}

/** The order events the client has received so far (events never match a request id). */
function orderEvents(c: TestClient): OrderEvent[] {
  const events: OrderEvent[] = [];
  for (const parts of c.unmatched) {
    const parsed = parseEvent(parts[0] as Uint8Array);
    if (parsed.ok && parsed.event?.event.startsWith("ORDER_")) {
      events.push(parsed.event as OrderEvent);
    }
  }
  return events;
}

async function pendingOrder(c: TestClient, coid: string): Promise<TradeOrder | undefined> {
  const reply = (await c.send({ action: "GET_ORDER", client_order_id: coid })) as OrderReply;
  return reply.pending_order;
}

describe("pending orders on agent-gtw", () => {
  test("survive SIGKILL between placement and trigger: retried from the journal, then trigger and expire", async () => {
    const { deployment, gtw } = await gateway();
    let c = client(gtw.endpoint, deployment);
    expect(await c.send({ action: "SUBSCRIBE", events: true })).toMatchObject({ status: "OK" });

    const eur = await quote(c, "EURUSD");
    const far = {
      action: "PLACE",
      symbol: "EURUSD",
      type: "BUY_LIMIT",
      volume: 0.1,
      price: Number((eur.ask - 0.01).toFixed(5)),
      client_order_id: "e2e-far",
    } as const;
    const placed = await c.send(far);
    expect(placed).toMatchObject({ status: "FILLED", pending_order: { state: "PLACED" } });
    const farTicket = orderOf(placed);
    await eventually(() => orderEvents(c).some((e) => e.event === "ORDER_PLACED"), {
      timeoutMs: 5000,
    });
    expect(orderEvents(c)[0]?.order.ticket).toBe(farTicket);

    // A straddle on BTCUSD, 15 USD each side; the market is moved up through it after the restart
    const btc = await quote(c, "BTCUSD");
    const straddle = async (type: "BUY_STOP" | "SELL_STOP", price: number, coid: string) =>
      orderOf(
        await c.send({
          action: "PLACE",
          symbol: "BTCUSD",
          type,
          volume: 0.01,
          price: Number(price.toFixed(2)),
          client_order_id: coid,
        }),
      );
    const up = await straddle("BUY_STOP", btc.ask + 15, "e2e-up");
    const down = await straddle("SELL_STOP", btc.bid - 15, "e2e-down");
    const expiresAt = Math.ceil((Date.now() + 3000) / 1000) * 1000;
    const expiring = await c.send({
      ...far,
      price: Number((eur.ask - 0.011).toFixed(5)),
      type_time: "SPECIFIED",
      expiration: expiresAt,
      client_order_id: "e2e-expiring",
    });
    expect(expiring.status).toBe("FILLED");

    await gtw.kill();
    const again = await startGateway(deployment.gtwConfigPath, deployment.gtwStateDir);
    cleanups.push(() => again.kill());
    c = client(again.endpoint, deployment);

    const retry = await c.send(far);
    expect(retry).toMatchObject({ status: "FILLED", duplicate: true, order: farTicket });

    // The operator lifts BTCUSD 40 USD: the buy stop becomes a position with the order's
    // ticket, the sell stop 55 USD below stays
    const lift = spawnAgent("agent-gtw", [
      "sim",
      "price",
      "BTCUSD",
      (btc.bid + 40).toFixed(2),
      "--config",
      deployment.gtwConfigPath,
    ]);
    expect([await lift.exited(), lift.log()]).toEqual([0, ""]);
    await eventually(
      async () =>
        ((await c.send({ action: "GET_POSITIONS", symbol: "BTCUSD" })) as PositionsReply).positions
          .length > 0,
      { timeoutMs: 10_000, intervalMs: 100 },
    );
    const [position] = ((await c.send({ action: "GET_POSITIONS" })) as PositionsReply).positions;
    expect(position?.ticket).toBe(up);
    expect(await pendingOrder(c, "e2e-up")).toMatchObject({
      state: "FILLED",
      position_id: position?.ticket,
    });

    await eventually(async () => (await pendingOrder(c, "e2e-expiring"))?.state === "EXPIRED", {
      timeoutMs: 15_000,
      intervalMs: 200,
    });
    const left = ((await c.send({ action: "GET_ORDERS" })) as OrdersReply).orders;
    expect(left.map((order) => order.ticket).sort()).toEqual([farTicket, down].sort());
    const resync = (await c.send({ action: "RESYNC", since: 0 })) as ResyncReply;
    expect(resync.orders?.map((order) => order.ticket).sort()).toEqual(
      left.map((order) => order.ticket).sort(),
    );
    expect(await again.stop()).toBe(0);
  });

  test("the operator cancels with `agent-gtw cancel` while HALTED, where a client cannot", async () => {
    const { deployment, gtw } = await gateway();
    const c = client(gtw.endpoint, deployment);
    const eur = await quote(c, "EURUSD");
    const ticket = orderOf(
      await c.send({
        action: "PLACE",
        symbol: "EURUSD",
        type: "SELL_LIMIT",
        volume: 0.1,
        price: Number((eur.bid + 0.01).toFixed(5)),
      }),
    );
    const halt = spawnAgent("agent-gtw", ["state", "HALTED", "--config", deployment.gtwConfigPath]);
    expect(await halt.exited()).toBe(0);
    await eventually(
      async () => ((await c.send({ action: "PING" })) as PingReply).trading_state === "HALTED",
      { timeoutMs: 5000 },
    );
    expect(await c.send({ action: "CANCEL", ticket })).toMatchObject({
      error_code: "TRADING_HALTED",
    });

    const cancel = Bun.spawn(
      [
        ...agentCommand("agent-gtw"),
        "cancel",
        String(ticket),
        "--reason",
        "end of day",
        "--config",
        deployment.gtwConfigPath,
      ],
      { stdout: "pipe", stderr: "pipe" },
    );
    const stdout = await new Response(cancel.stdout).text();
    expect(await cancel.exited).toBe(0);
    expect(stdout).toContain(`order ${ticket} cancelled`);
    expect(((await c.send({ action: "GET_ORDERS" })) as OrdersReply).orders).toEqual([]);

    // With no gateway running, the request is withdrawn rather than left to act later
    await gtw.stop();
    const orphan = spawnAgent("agent-gtw", [
      "cancel",
      "--all",
      "--wait",
      "1",
      "--config",
      deployment.gtwConfigPath,
    ]);
    expect(await orphan.exited()).toBe(1);
    expect(orphan.log()).toContain("no running gateway took the request");
  });
});
