/**
 * Orders priced on the live view: once the stream is LIVE an order asks the gateway for nothing
 * it already knows, the risk checks judge the same values (spread and quote age from the
 * streamed quote), and what is not fresh is asked for as before.
 */
import { afterEach, describe, expect, test } from "bun:test";
import type { QueryBody } from "../../agent-inf/gateway/gateway-client.ts";
import { createDeployment } from "../../scripts/harness/deployment.ts";
import { eventually } from "../../scripts/harness/eventually.ts";
import {
  type InferenceStack,
  startInferenceStack,
  startInProcessGateway,
  streamLive,
} from "./support.ts";

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(options: {
  risk?: Record<string, unknown>;
  stream?: Record<string, unknown>;
}) {
  const deployment = createDeployment();
  cleanups.push(() => deployment.remove());
  const gateway = await startInProcessGateway(deployment, { tickIntervalMs: 60_000 });
  cleanups.push(() => gateway.stop());
  const inf = await startInferenceStack(deployment, gateway.endpoint, {
    ...options,
    heartbeatMs: 60_000,
  });
  cleanups.push(() => inf.stop());
  await streamLive(inf.app);
  return { gateway, inf, asked: spy(inf), lane: inf.app.lane() };
}

/**
 * The queries of the order path, by action. It asks with the client's default options; the
 * stream's own reads in the background (the account after a fill) and the heartbeat pass theirs.
 */
function spy(inf: InferenceStack): string[] {
  const client = inf.app.lane().client;
  const asked: string[] = [];
  const query = client.query.bind(client);
  client.query = (body: QueryBody, opts?: { timeoutMs?: number; retries?: number }) => {
    if (opts === undefined) asked.push(body.action);
    return query(body, opts);
  };
  return asked;
}

async function open(inf: InferenceStack, body: Record<string, unknown>) {
  return post(inf, "/v1/orders", { symbol: "EURUSD", side: "BUY", volume: 0.1, ...body });
}

async function post(inf: InferenceStack, path: string, body: Record<string, unknown>) {
  const response = await fetch(`${inf.api.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return (await response.json()) as {
    outcome: string;
    reply?: { ticket?: number };
    denial?: { code: string; context: Record<string, unknown> };
  };
}

const snapshotQueries = (asked: readonly string[]) =>
  asked.filter((action) => ["GET_ACCOUNT", "GET_POSITIONS", "GET_SYMBOL_INFO"].includes(action));

/** After a fill: the RESYNC that learns its position and the account read have both come back. */
async function inSync(inf: InferenceStack): Promise<void> {
  const view = inf.app.lane().stream?.view;
  await eventually(() => view?.positions() !== undefined && view.account() !== undefined, {
    message: "positions and account fresh",
  });
}

/**
 * Freshness limits far beyond a test, so only the orders' own needs show (with the defaults, a
 * second's stall on a loaded machine between two orders aged the account out of the view).
 */
const fresh = {
  account_max_age_ms: 60_000,
  symbol_info_max_age_ms: 60_000,
  quote_idle_ms: 60_000,
};

describe("orders on the live view", () => {
  test("once the view is fresh, an order asks the gateway for no snapshot", async () => {
    const { gateway, inf, asked } = await setup({ stream: fresh });
    await gateway.sim.setQuote("EURUSD", 1.1);
    expect((await open(inf, {})).outcome).toBe("FILLED");
    const first = snapshotQueries(asked);
    await inSync(inf);
    asked.length = 0;
    expect((await open(inf, {})).outcome).toBe("FILLED");

    // The first order read what the view did not have yet (account, the symbol's specification)
    expect(first).toEqual(["GET_ACCOUNT", "GET_SYMBOL_INFO"]);
    expect(snapshotQueries(asked)).toEqual([]);
  });

  test("the spread check judges the streamed quote", async () => {
    const { gateway, inf, asked } = await setup({ stream: fresh, risk: { max_spread_points: 20 } });
    await gateway.sim.setQuote("EURUSD", 1.1, 1.1001);
    expect((await open(inf, {})).outcome).toBe("FILLED");
    await inSync(inf);
    await gateway.sim.setQuote("EURUSD", 1.1, 1.1005);
    await eventually(() => inf.app.lane().stream?.view.quote("EURUSD")?.ask === 1.1005);
    asked.length = 0;
    const denied = await open(inf, {});

    expect(denied.denial).toMatchObject({
      code: "SPREAD_TOO_WIDE",
      context: { spread_points: 50, max_spread_points: 20 },
    });
    expect(snapshotQueries(asked)).toEqual([]);
  });

  test("a quote the stream has not refreshed within quote_idle_ms is asked for", async () => {
    const { gateway, inf, asked } = await setup({ stream: { quote_idle_ms: 100 } });
    await gateway.sim.setQuote("EURUSD", 1.1);
    expect((await open(inf, {})).outcome).toBe("FILLED");
    await inSync(inf);
    await Bun.sleep(150);
    asked.length = 0;
    expect((await open(inf, {})).outcome).toBe("FILLED");

    expect(snapshotQueries(asked)).toEqual(["GET_SYMBOL_INFO"]);
  });

  test("with the stream off, every order asks for the whole snapshot as before", async () => {
    const deployment = createDeployment();
    cleanups.push(() => deployment.remove());
    const gateway = await startInProcessGateway(deployment, { tickIntervalMs: 60_000 });
    cleanups.push(() => gateway.stop());
    const inf = await startInferenceStack(deployment, gateway.endpoint, {
      stream: { enabled: false },
      heartbeatMs: 60_000,
    });
    cleanups.push(() => inf.stop());
    await eventually(() => inf.app.lane().client.connected);
    const subscribers = gateway.app.streaming.stats().subscribers;
    const asked = spy(inf);
    expect((await open(inf, {})).outcome).toBe("FILLED");
    expect((await open(inf, {})).outcome).toBe("FILLED");

    expect(subscribers).toBe(0);
    expect(snapshotQueries(asked)).toEqual([
      "GET_ACCOUNT",
      "GET_POSITIONS",
      "GET_SYMBOL_INFO",
      "GET_ACCOUNT",
      "GET_POSITIONS",
      "GET_SYMBOL_INFO",
    ]);
  });
});

/**
 * Every request agent-inf sends the gateway (the order path's, the stream's in the background,
 * the heartbeat's), by action, and the gateway's own count of what it answered.
 */
function allRequests(
  inf: InferenceStack,
  gateway: { app: { gateway: { counters: { requests: number } } } },
) {
  const client = inf.app.lane().client;
  const sent: string[] = [];
  const query = client.query.bind(client);
  const submit = client.submit.bind(client);
  client.query = (body, opts) => {
    sent.push(body.action);
    return query(body, opts);
  };
  client.submit = (body) => {
    sent.push(body.action);
    return submit(body);
  };
  const start = gateway.app.gateway.counters.requests;
  return { sent, answered: () => gateway.app.gateway.counters.requests - start };
}

describe("one gateway request per order (issue 17 §1)", () => {
  test("back-to-back OPENs and CLOSEs with the strategy's own ids cost one request each, and the view stays right", async () => {
    const { gateway, inf } = await setup({ stream: fresh });
    await gateway.sim.setQuote("EURUSD", 1.1);
    const view = inf.app.lane().stream?.view;
    // The first order reads what the view does not have yet (the account, the symbol)
    expect((await open(inf, { client_order_id: "warm", sl: 1.09 })).outcome).toBe("FILLED");
    await eventually(() => view?.positions() !== undefined && view.account() !== undefined);
    const counted = allRequests(inf, gateway);
    const pairs = 10;
    for (let i = 0; i < pairs; i++) {
      const open = await post(inf, "/v1/orders", {
        client_order_id: `o-${i}`,
        symbol: "EURUSD",
        side: i % 2 === 0 ? "BUY" : "SELL",
        volume: 0.1,
        ...(i % 2 === 0 ? { sl: 1.09, tp: 1.12 } : {}),
      });
      expect(open.outcome).toBe("FILLED");
      const close = await post(inf, `/v1/positions/${open.reply?.ticket}/close`, {
        client_order_id: `c-${i}`,
        ...(i % 3 === 0 ? { volume: 0.05 } : {}),
      });
      expect(close.outcome).toBe("FILLED");
    }
    // Late background requests (a RESYNC after a fill, an account read) would show up here
    await Bun.sleep(200);
    const sent = counted.sent.filter((action) => action !== "PING");
    expect(sent).toEqual(Array.from({ length: pairs }, () => ["OPEN", "CLOSE"]).flat());
    expect(counted.answered() - (counted.sent.length - sent.length)).toBe(2 * pairs);
    // The view kept from the replies and the stream is what the broker holds
    const shape = (p: {
      ticket: number;
      symbol: string;
      side: string;
      volume: number;
      sl: number | null;
      tp: number | null;
      magic: number;
      comment: string;
    }) => [p.ticket, p.symbol, p.side, p.volume, p.sl, p.tp, p.magic, p.comment].join(" ");
    const broker = (await gateway.sim.positions()).map(shape).sort();
    expect(view?.positions()?.map(shape).sort()).toEqual(broker);
    expect(broker).toHaveLength(5);
  });

  test("a fill that is not ours still costs a RESYNC, and the next order's checks count it", async () => {
    const { gateway, inf } = await setup({ stream: fresh, risk: { max_positions: 2 } });
    await gateway.sim.setQuote("EURUSD", 1.1);
    const view = inf.app.lane().stream?.view;
    expect((await open(inf, { client_order_id: "mine" })).outcome).toBe("FILLED");
    await eventually(() => view?.positions()?.length === 1 && view.account() !== undefined);
    const counted = allRequests(inf, gateway);
    // Someone else trades on the account (the terminal, another client): only its DEAL says so
    await gateway.sim.open({
      clientOrderId: "manual",
      symbol: "EURUSD",
      side: "SELL",
      volume: 0.2,
      sl: null,
      tp: null,
      deviation: 20,
      magic: 1,
      comment: "manual",
    });
    const denied = await open(inf, { client_order_id: "next" });
    expect(denied.denial?.code).toBe("MAX_POSITIONS");
    // The view asked the gateway again: a RESYNC after the foreign DEAL, or the order's own read
    expect(counted.sent.some((action) => action === "RESYNC" || action === "GET_POSITIONS")).toBe(
      true,
    );
    await eventually(() => view?.positions()?.length === 2);
  });

  test("an account older than account_max_age_ms is read again before the checks run", async () => {
    const { gateway, inf, asked } = await setup({ stream: { ...fresh, account_max_age_ms: 100 } });
    await gateway.sim.setQuote("EURUSD", 1.1);
    expect((await open(inf, {})).outcome).toBe("FILLED");
    await inSync(inf);
    await Bun.sleep(150);
    asked.length = 0;
    expect((await open(inf, {})).outcome).toBe("FILLED");
    expect(snapshotQueries(asked)).toEqual(["GET_ACCOUNT"]);
  });
});
