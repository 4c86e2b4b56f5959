/**
 * Pending orders on the live view and the strategies' streams (issue 15 §4, §5), with the
 * gateway in this process on a sim whose price the test sets: an order placed through the API
 * reaches SSE clients as ORDER_PLACED and the view as an order that counts against the position
 * limits without a GET_ORDERS per order; when the price reaches it, the fill's DEAL and the
 * ORDER_TRIGGERED follow, and the position it became counts once.
 */
import { afterEach, describe, expect, test } from "bun:test";
import type { QueryBody } from "../../agent-inf/gateway/gateway-client.ts";
import { createDeployment } from "../../scripts/harness/deployment.ts";
import { eventually } from "../../scripts/harness/eventually.ts";
import {
  type InferenceStack,
  SseReader,
  startInferenceStack,
  startInProcessGateway,
  streamLive,
} from "./support.ts";

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(risk: Record<string, unknown> = {}) {
  const deployment = createDeployment();
  cleanups.push(() => deployment.remove());
  const gateway = await startInProcessGateway(deployment, { tickIntervalMs: 60_000 });
  cleanups.push(() => gateway.stop());
  await gateway.sim.setQuote("EURUSD", 1.1, 1.1001);
  const inf = await startInferenceStack(deployment, gateway.endpoint, {
    risk,
    heartbeatMs: 60_000,
  });
  cleanups.push(() => inf.stop());
  await streamLive(inf.app);
  const asked: string[] = [];
  const client = inf.app.lane().client;
  const query = client.query.bind(client);
  client.query = (body: QueryBody, opts?: { timeoutMs?: number; retries?: number }) => {
    if (opts === undefined) asked.push(body.action);
    return query(body, opts);
  };
  return { gateway, inf, asked, view: inf.app.lane().stream?.view };
}

async function post(inf: InferenceStack, path: string, body: Record<string, unknown>) {
  const response = await fetch(`${inf.api.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return (await response.json()) as Record<string, unknown> & {
    outcome: string;
    reply?: { order?: number; ticket?: number };
    denial?: { code: string; context: Record<string, unknown> };
  };
}

const BUY_LIMIT = { type: "BUY_LIMIT", symbol: "EURUSD", volume: 0.1, price: 1.095 };

describe("pending orders on the stream", () => {
  test("placed, counted from the view, triggered by the price: events in order, counted once", async () => {
    const { gateway, inf, asked, view } = await setup({ max_positions_per_symbol: 2 });
    const reader = await SseReader.open(`${inf.api.url}/v1/stream?events=true`);
    cleanups.push(() => reader.close());
    await eventually(() => reader.messages.length >= 1);
    expect(reader.messages[0]?.data).toMatchObject({ event: "SNAPSHOT", orders: [] });

    const placed = await post(inf, "/v1/pending", { ...BUY_LIMIT, client_order_id: "ps-1" });
    const ticket = placed.reply?.order as number;
    await eventually(() => view?.orders()?.some((o) => o.ticket === ticket) === true);
    await eventually(() => reader.messages.some((m) => m.event === "ORDER_PLACED"));
    // The order and one OPEN fill max_positions_per_symbol 2; the view answered for the orders
    asked.length = 0;
    const open = await post(inf, "/v1/orders", { symbol: "EURUSD", side: "BUY", volume: 0.1 });
    await eventually(() => view?.positions() !== undefined);
    const third = await post(inf, "/v1/pending", { ...BUY_LIMIT, price: 1.094 });

    expect(placed.outcome).toBe("FILLED");
    expect(open.outcome).toBe("FILLED");
    expect(asked).not.toContain("GET_ORDERS");
    expect(third.denial).toMatchObject({
      code: "MAX_POSITIONS_PER_SYMBOL",
      context: { positions: 2 },
    });

    // The price comes down to the order: it fills and becomes a position under its ticket
    await gateway.sim.setQuote("EURUSD", 1.0949, 1.095);
    await eventually(() => reader.messages.some((m) => m.event === "ORDER_TRIGGERED"));
    await eventually(() => view?.positions()?.some((p) => p.ticket === ticket) === true);
    const events = reader.messages.map((m) => m.event).filter((e) => e !== "STREAM_STATE");
    const triggered = reader.messages.find((m) => m.event === "ORDER_TRIGGERED")?.data;

    expect(events.indexOf("ORDER_TRIGGERED")).toBeGreaterThan(events.lastIndexOf("DEAL"));
    expect(triggered).toMatchObject({
      gateway: inf.gateway,
      order: { ticket, state: "FILLED", position_id: ticket },
      deal: { order: ticket, entry: "IN" },
    });
    expect(view?.orders()).toEqual([]);
    // Two positions now, the order no more: the limit is still 2, not 3
    const still = await post(inf, "/v1/pending", { ...BUY_LIMIT, price: 1.09 });
    expect(still.denial).toMatchObject({
      code: "MAX_POSITIONS_PER_SYMBOL",
      context: { positions: 2 },
    });
  });

  test("a cancel and a modify reach the stream; the view follows", async () => {
    const { inf, view } = await setup();
    const reader = await SseReader.open(`${inf.api.url}/v1/stream?events=true`);
    cleanups.push(() => reader.close());
    const placed = await post(inf, "/v1/pending", BUY_LIMIT);
    const ticket = placed.reply?.order as number;
    const modified = await post(inf, `/v1/pending/${ticket}/modify`, { price: 1.096 });
    await eventually(() => view?.orders()?.[0]?.price_open === 1.096);
    const cancelled = await post(inf, `/v1/pending/${ticket}/cancel`, {});
    await eventually(() => reader.messages.some((m) => m.event === "ORDER_CANCELED"));

    expect([modified.outcome, cancelled.outcome]).toEqual(["FILLED", "FILLED"]);
    expect(reader.messages.map((m) => m.event).filter((e) => e.startsWith("ORDER_"))).toEqual([
      "ORDER_PLACED",
      "ORDER_MODIFIED",
      "ORDER_CANCELED",
    ]);
    expect(view?.orders()).toEqual([]);
  });
});
