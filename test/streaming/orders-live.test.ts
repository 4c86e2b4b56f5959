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
  const response = await fetch(`${inf.api.url}/v1/orders`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ symbol: "EURUSD", side: "BUY", volume: 0.1, ...body }),
  });
  return (await response.json()) as {
    outcome: string;
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

describe("orders on the live view", () => {
  test("once the view is fresh, an order asks the gateway for no snapshot", async () => {
    const { gateway, inf, asked } = await setup({});
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
    const { gateway, inf, asked } = await setup({ risk: { max_spread_points: 20 } });
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
