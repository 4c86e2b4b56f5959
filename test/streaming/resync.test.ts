/**
 * Event delivery across lost connections and gateway restarts: whatever happened meanwhile
 * (fills, SL/TP hits, modifications) reaches agent-inf's live view and a strategy's SSE stream
 * after the reconnect and RESYNC, every deal exactly once and in deal-time order.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { startGateway } from "../../scripts/harness/agents.ts";
import { createDeployment } from "../../scripts/harness/deployment.ts";
import { eventually } from "../../scripts/harness/eventually.ts";
import { freePort } from "../../scripts/harness/free-port.ts";
import type {
  Deal,
  Position,
  ResyncReply,
  SymbolInfo,
  TradeReply,
} from "../../shared/protocol/index.ts";
import {
  type InferenceStack,
  SseReader as Sse,
  type SseReader,
  StreamTestClient,
  startCutProxy,
  startInferenceStack,
  startInProcessGateway,
  streamLive,
} from "./support.ts";

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function later<T>(cleanup: () => Promise<T> | T): void {
  cleanups.push(cleanup);
}

/** Every deal the gateway ever made, in (time, ticket) order, paging through RESYNC. */
async function allDeals(client: StreamTestClient): Promise<Deal[]> {
  const deals: Deal[] = [];
  let since = 0;
  let after = 0;
  for (;;) {
    const reply = (await client.send({
      action: "RESYNC",
      since,
      after_deal: after,
    })) as ResyncReply;
    deals.push(...reply.deals);
    const last = reply.deals.at(-1);
    if (!reply.more || last === undefined) return deals;
    since = last.time;
    after = last.ticket;
  }
}

function sseDeals(sse: SseReader): Deal[] {
  return sse.of("DEAL").map((message) => message.data["deal"] as Deal);
}

function byTime(deals: readonly Deal[]): Deal[] {
  return [...deals].sort((a, b) => a.time - b.time || a.ticket - b.ticket);
}

async function post(inf: InferenceStack, path: string, body: unknown) {
  const response = await fetch(`${inf.api.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return (await response.json()) as { outcome: string; reply?: TradeReply };
}

describe("stream resync", () => {
  test("trades made while agent-inf is cut off arrive after the reconnect, once and in order", async () => {
    const deployment = createDeployment();
    later(() => deployment.remove());
    const gateway = await startInProcessGateway(deployment, { tickIntervalMs: 60_000 });
    later(() => gateway.stop());
    const proxy = startCutProxy(gateway.endpoint);
    later(() => proxy.close());
    const inf = await startInferenceStack(deployment, proxy.endpoint);
    later(() => inf.stop());
    const direct = new StreamTestClient(gateway.endpoint, deployment);
    later(() => direct.close());
    await streamLive(inf.app);
    const sse = await Sse.open(`${inf.api.url}/v1/stream?events=1`);
    later(() => sse.close());
    await gateway.sim.setQuote("EURUSD", 1.1);

    const first = await post(inf, "/v1/orders", { symbol: "EURUSD", side: "BUY", volume: 0.1 });
    const p1 = first.reply?.ticket as number;
    await eventually(() => sseDeals(sse).length === 1, { message: "first fill streamed" });

    proxy.cut();
    await eventually(() => inf.app.health().gateways[0]?.stream?.state === "DISCONNECTED");
    const p2 = (
      (await direct.send({
        action: "OPEN",
        symbol: "EURUSD",
        side: "SELL",
        volume: 0.2,
      })) as TradeReply
    ).ticket as number;
    await direct.send({ action: "CLOSE", ticket: p1 });
    await direct.send({ action: "MODIFY", ticket: p2, sl: 1.2 });
    const p3 = (
      (await direct.send({
        action: "OPEN",
        symbol: "EURUSD",
        side: "BUY",
        volume: 0.1,
        sl: 1.095,
      })) as TradeReply
    ).ticket as number;
    await gateway.sim.setQuote("EURUSD", 1.094); // P3's stop-loss
    await direct.send({ action: "CLOSE", ticket: p2, volume: 0.05 });
    proxy.restore();

    await streamLive(inf.app, 15_000);
    const history = await allDeals(direct);
    await eventually(() => sseDeals(sse).length >= history.length, { message: "deals streamed" });

    const streamed = sseDeals(sse);
    expect(streamed.map((deal) => deal.ticket)).toEqual(history.map((deal) => deal.ticket));
    expect(streamed).toEqual(byTime(streamed));
    const closes = sse.of("POSITION_CLOSED").map((message) => message.data);
    expect(closes).toEqual([
      // A CLOSE sent with a magic number is the expert's (DEAL_REASON_EXPERT)
      expect.objectContaining({ ticket: p1, reason: "EXPERT" }),
      expect.objectContaining({ ticket: p3, reason: "SL" }),
    ]);
    const modified = sse
      .of("POSITION_MODIFIED")
      .map((message) => message.data["position"] as Position);
    expect(modified.at(-1)).toMatchObject({ ticket: p2, sl: 1.2, volume: 0.15 });
    const states = sse.of("STREAM_STATE").map((message) => message.data["state"]);
    expect(states).toEqual(["DISCONNECTED", "SYNCING", "LIVE"]);

    const lane = inf.app.lanes.get(inf.gateway);
    const view = [...(lane?.stream?.view.knownPositions.values() ?? [])];
    const truth = (
      (await direct.send({ action: "GET_POSITIONS" })) as unknown as { positions: Position[] }
    ).positions;
    expect(view.map((p) => [p.ticket, p.volume, p.sl])).toEqual(
      truth.map((p) => [p.ticket, p.volume, p.sl]),
    );
    await eventually(() => lane?.stream?.view.positions() !== undefined, { message: "in sync" });
  });

  test("a gateway killed with open positions: SL/TP hits after its restart reach the stream once, in order", async () => {
    const deployment = createDeployment({
      gateway: {
        endpoint: `tcp://127.0.0.1:${freePort()}`,
        // Three times the realistic pace: the stops below are hit in about a second, so the
        // random walk's long tail (a minute and more at the realistic pace) cannot flake the test
        backend: { sim: { tick_interval_ms: 20, volatility: 3 } },
        limits: { symbols: ["EURUSD", "BTCUSD"] },
      },
    });
    later(() => deployment.remove());
    let gateway = await startGateway(deployment.gtwConfigPath, deployment.gtwStateDir);
    later(() => gateway.kill());
    const inf = await startInferenceStack(deployment, gateway.endpoint, { symbols: ["BTCUSD"] });
    later(() => inf.stop());
    await streamLive(inf.app);
    const sse = await Sse.open(`${inf.api.url}/v1/stream?events=1&quotes=BTCUSD`);
    later(() => sse.close());

    // BTCUSD moves ~6.6 USD per √s in the sim at the realistic pace, ~20 at volatility 3 (stops
    // level 10 USD): stops 16 USD away, set from a fresh quote, are accepted and hit within seconds
    const round = (value: number) => Number(value.toFixed(2));
    const tickets: number[] = [];
    for (const [index, side] of (["BUY", "SELL", "BUY", "SELL"] as const).entries()) {
      // The price may cross a stop between the quote and the fill on a loaded machine: that
      // order is refused (nothing opened), and one from a fresher quote is sent instead
      let filled: Awaited<ReturnType<typeof post>> | undefined;
      for (let attempt = 0; attempt < 5 && filled === undefined; attempt++) {
        const info = (await (await fetch(`${inf.api.url}/v1/symbols/BTCUSD`)).json()) as {
          symbol_info: SymbolInfo;
        };
        const close = side === "BUY" ? info.symbol_info.bid : info.symbol_info.ask;
        const away = 16 + index;
        const sign = side === "BUY" ? 1 : -1;
        const result = await post(inf, "/v1/orders", {
          symbol: "BTCUSD",
          side,
          volume: 0.01,
          sl: round(close - sign * away),
          tp: round(close + sign * away),
        });
        if (result.outcome === "FILLED") filled = result;
        // Only a refusal may be retried: anything else could have opened a position
        else expect(["DENIED", "REJECTED"]).toContain(result.outcome);
      }
      expect(filled).toBeDefined();
      tickets.push(filled?.reply?.ticket as number);
    }
    await gateway.kill();
    await eventually(() => inf.app.health().gateways[0]?.stream?.state === "DISCONNECTED");
    await Bun.sleep(300);
    gateway = await startGateway(deployment.gtwConfigPath, deployment.gtwStateDir);
    later(() => gateway.stop());
    const direct = new StreamTestClient(gateway.endpoint, deployment);
    later(() => direct.close());

    await eventually(
      async () =>
        ((await direct.send({ action: "GET_POSITIONS" })) as unknown as { positions: Position[] })
          .positions.length === 0,
      { timeoutMs: 60_000, intervalMs: 200, message: "every SL/TP hit" },
    );
    const history = await allDeals(direct);
    await eventually(() => sse.of("POSITION_CLOSED").length >= tickets.length, {
      timeoutMs: 15_000,
      message: "every close streamed",
    });
    await eventually(() => sseDeals(sse).length >= history.length);

    const streamed = sseDeals(sse);
    expect(streamed.map((deal) => deal.ticket)).toEqual(history.map((deal) => deal.ticket));
    expect(new Set(streamed.map((deal) => deal.ticket)).size).toBe(streamed.length);
    const closes = sse.of("POSITION_CLOSED").map((message) => message.data);
    expect(closes.map((close) => close["ticket"]).sort()).toEqual([...tickets].sort());
    for (const close of closes) {
      expect(["SL", "TP"]).toContain(close["reason"] as string);
      expect((close["deal"] as Deal).reason).toBe(close["reason"] as Deal["reason"]);
    }
    expect(sse.of("STREAM_STATE").map((message) => message.data["state"])).toContain(
      "DISCONNECTED",
    );
    expect(inf.app.lanes.get(inf.gateway)?.stream?.view.knownPositions.size).toBe(0);
  }, 120_000);
});
