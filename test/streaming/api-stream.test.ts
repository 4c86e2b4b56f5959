/**
 * The strategies' streams on agent-inf's local API (docs/API.md §9): SSE and WebSocket clients
 * see quotes, fills and SL hits without polling; the auth rules of the API apply; a slow reader
 * gets conflated quotes and every trade event, and one that falls too far behind is told so and
 * disconnected; Last-Event-ID resumes exactly.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { createDeployment, type Deployment } from "../../scripts/harness/deployment.ts";
import { eventually } from "../../scripts/harness/eventually.ts";
import type { Deal, Position, TradeReply } from "../../shared/protocol/index.ts";
import {
  type InferenceStack,
  type InProcessGateway,
  SseReader,
  startInferenceStack,
  startInProcessGateway,
  streamLive,
} from "./support.ts";

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Setup {
  readonly deployment: Deployment;
  readonly gateway: InProcessGateway;
  readonly inf: InferenceStack;
}

async function setup(
  options: { token?: string; stream?: Record<string, unknown> } = {},
): Promise<Setup> {
  const deployment = createDeployment();
  cleanups.push(() => deployment.remove());
  const gateway = await startInProcessGateway(deployment, { tickIntervalMs: 60_000 });
  cleanups.push(() => gateway.stop());
  const inf = await startInferenceStack(deployment, gateway.endpoint, options);
  cleanups.push(() => inf.stop());
  if (options.stream?.["enabled"] !== false) await streamLive(inf.app);
  return { deployment, gateway, inf };
}

async function sse(s: Setup, query: string, headers: Record<string, string> = {}) {
  const reader = await SseReader.open(`${s.inf.api.url}/v1/stream?${query}`, headers);
  cleanups.push(() => reader.close());
  return reader;
}

function feed(s: Setup) {
  const stream = s.inf.app.lanes.get(s.inf.gateway)?.stream;
  if (stream === undefined) throw new Error("no stream");
  return stream.feed;
}

function fakeDeal(ticket: number, comment = ""): Deal {
  return {
    ticket,
    order: ticket,
    position: ticket,
    symbol: "EURUSD",
    side: "BUY",
    entry: "IN",
    reason: "EXPERT",
    volume: 0.01,
    price: 1.1,
    profit: 0,
    commission: 0,
    swap: 0,
    magic: 1,
    comment,
    time: 1_795_000_000_000 + ticket,
  };
}

/**
 * Publish rounds of quotes until the paused reader's pipe is full: messages stay queued at the
 * agent across two pauses in which a reading client would have taken them all.
 */
async function untilBlocked(s: Setup, publishRound: () => void): Promise<void> {
  let blockedChecks = 0;
  await eventually(
    async () => {
      publishRound();
      await Bun.sleep(10);
      blockedChecks = s.inf.api.streams.stats().backlogged > 0 ? blockedChecks + 1 : 0;
      return blockedChecks >= 3;
    },
    { timeoutMs: 45_000, intervalMs: 0, message: "backpressure on the paused reader" },
  );
}

async function order(s: Setup, body: Record<string, unknown>): Promise<TradeReply> {
  const response = await fetch(`${s.inf.api.url}/v1/orders`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const result = (await response.json()) as { outcome: string; reply: TradeReply };
  expect(result.outcome).toBe("FILLED");
  return result.reply;
}

describe("SSE stream", () => {
  test("a snapshot, then quotes, a fill and an SL hit as they happen", async () => {
    const s = await setup();
    await s.gateway.sim.setQuote("EURUSD", 1.1);
    await eventually(
      () => s.inf.app.lanes.get(s.inf.gateway)?.stream?.view.quote("EURUSD")?.bid === 1.1,
    );
    const reader = await sse(s, "quotes=EURUSD&events=1");
    await eventually(() => reader.messages.length >= 1);

    const snapshot = reader.messages[0];
    expect(reader.status).toBe(200);
    expect(reader.headers.get("content-type")).toStartWith("text/event-stream");
    expect(snapshot?.event).toBe("SNAPSHOT");
    expect(snapshot?.data).toMatchObject({
      gateway: s.inf.gateway,
      state: "LIVE",
      positions: [],
      quotes: [expect.objectContaining({ symbol: "EURUSD", bid: 1.1 })],
    });

    await s.gateway.sim.setQuote("EURUSD", 1.101);
    await eventually(() => reader.of("QUOTE").some((m) => m.data["bid"] === 1.101));
    const filled = await order(s, { symbol: "EURUSD", side: "BUY", volume: 0.1, sl: 1.099 });
    await eventually(() => reader.of("DEAL").length === 1);
    await s.gateway.sim.setQuote("EURUSD", 1.0985);
    await eventually(() => reader.of("POSITION_CLOSED").length === 1);

    const closed = reader.of("POSITION_CLOSED")[0];
    expect(closed?.data).toMatchObject({ ticket: filled.ticket, reason: "SL", symbol: "EURUSD" });
    expect(reader.of("DEAL").map((m) => (m.data["deal"] as Deal).entry)).toEqual(["IN", "OUT"]);
    const ids = reader.messages.filter((m) => m.id !== undefined).map((m) => m.id as string);
    const numbers = ids.map((id) => Number(id.split("-")[1]));
    expect(numbers).toEqual([...numbers].sort((a, b) => a - b));
    expect(reader.of("QUOTE").every((m) => m.id === undefined)).toBe(true);
  });

  test("quotes only: no trade events, but stream and link state", async () => {
    const s = await setup();
    const reader = await sse(s, "quotes=GBPUSD");
    await eventually(() => reader.messages.length >= 1);
    feed(s).publishEvent("DEAL", { deal: fakeDeal(1) });
    feed(s).publishEvent("LINK_STATE", { mt5: { link: "DOWN", backend: "sim" } });
    await eventually(() => reader.of("LINK_STATE").length === 1);

    expect(reader.of("DEAL")).toEqual([]);
    expect(reader.messages[0]?.data["positions"]).toBeUndefined();
  });

  test("Last-Event-ID resumes with exactly the missed events; an unknown one gets a snapshot", async () => {
    const s = await setup();
    const first = await sse(s, "events=1");
    await eventually(() => first.messages.length >= 1);
    for (const ticket of [1, 2, 3]) feed(s).publishEvent("DEAL", { deal: fakeDeal(ticket) });
    await eventually(() => first.of("DEAL").length === 3);
    const lastSeen = first.of("DEAL")[2]?.id as string;
    await first.close();
    for (const ticket of [4, 5]) feed(s).publishEvent("DEAL", { deal: fakeDeal(ticket) });

    const resumed = await sse(s, "events=1", { "last-event-id": lastSeen });
    await eventually(() => resumed.of("DEAL").length === 2);
    const fresh = await sse(s, "events=1", { "last-event-id": "zzz-1" });
    await eventually(() => fresh.messages.length >= 1);

    expect(resumed.messages.map((m) => m.event)).toEqual(["DEAL", "DEAL"]);
    expect(resumed.of("DEAL").map((m) => (m.data["deal"] as Deal).ticket)).toEqual([4, 5]);
    expect(fresh.messages[0]?.event).toBe("SNAPSHOT");
  });

  test("a slow reader gets the latest quote per symbol and every trade event", async () => {
    const s = await setup();
    const symbols = ["EURUSD", "GBPUSD", "USDJPY"];
    const reader = await sse(s, `quotes=${symbols.join(",")}&events=1`);
    await eventually(() => reader.messages.length >= 1);
    reader.pause();
    const lane = feed(s);
    let ticket = 0;
    // Fill the pipe to the paused reader with trade events (they cannot be conflated)
    await untilBlocked(s, () => {
      for (let i = 0; i < 100; i++) lane.publishEvent("DEAL", { deal: fakeDeal(++ticket) });
    });
    let published = 0;
    let price = 1;
    for (let round = 0; round < 2000; round++) {
      price += 0.00001;
      for (const symbol of symbols) {
        lane.publishQuote({ symbol, bid: price, ask: price + 0.0001, time: published });
        published += 1;
      }
      if (round % 10 === 0) lane.publishEvent("DEAL", { deal: fakeDeal(++ticket) });
      if (round % 100 === 0) await Bun.sleep(1);
    }
    const conflated = s.inf.api.streams.stats().conflated;
    reader.resume();
    await eventually(() => reader.of("DEAL").length === ticket, { timeoutMs: 30_000 });
    await eventually(() => reader.of("QUOTE").at(-1)?.data["time"] === published - 1);

    const deals = reader.of("DEAL").map((m) => (m.data["deal"] as Deal).ticket);
    expect(deals).toEqual(Array.from({ length: ticket }, (_, index) => index + 1));
    // Published while the reader was stuck: only a few quotes per symbol got through
    expect(conflated).toBeGreaterThan(published - 100);
    expect(reader.of("QUOTE").length).toBeLessThan(100);
    for (const symbol of symbols) {
      const last = reader
        .of("QUOTE")
        .filter((m) => m.data["symbol"] === symbol)
        .at(-1);
      expect(last?.data["bid"]).toBe(price);
    }
  }, 60_000);

  test("a reader too far behind gets RESYNC_REQUIRED and is disconnected", async () => {
    const s = await setup({ stream: { max_queued_events: 20 } });
    const reader = await sse(s, "quotes=EURUSD&events=1");
    await eventually(() => reader.messages.length >= 1);
    reader.pause();
    const lane = feed(s);
    let ticket = 0;
    // Ten at a time: a reader that keeps up never has 20 waiting; a stuck one does once the
    // kernel's buffers are full (tens of MB on loopback: big events get there sooner)
    const padding = "x".repeat(2000);
    await eventually(
      async () => {
        for (let i = 0; i < 10; i++) {
          lane.publishEvent("DEAL", { deal: fakeDeal(++ticket, padding) });
        }
        await Bun.sleep(1);
        return s.inf.app.metrics.streamOverflows.get({ gateway: s.inf.gateway }) === 1;
      },
      { timeoutMs: 45_000, intervalMs: 0, message: "the stuck reader is cut off" },
    );
    reader.resume();
    await eventually(() => reader.ended, { timeoutMs: 30_000 });
    await eventually(() => s.inf.api.streams.size === 0);

    const last = reader.messages.at(-1);
    expect(last?.event).toBe("RESYNC_REQUIRED");
    expect(String(last?.data["reason"])).toContain("20 events behind");
    const deals = reader.of("DEAL").map((m) => (m.data["deal"] as Deal).ticket);
    expect(deals).toEqual(Array.from({ length: deals.length }, (_, index) => index + 1));
    expect(deals.length).toBeLessThan(ticket);
    const metrics = await (await fetch(`${s.inf.api.url}/metrics`)).text();
    expect(metrics).toContain('agent_inf_stream_overflows_total{gateway="gtw-test"} 1');
  }, 60_000);

  test("refuses what it cannot stream, with the API's error shape", async () => {
    const s = await setup();
    const cases: [string, number, string][] = [
      ["quotes=NOPE", 404, "UNKNOWN_SYMBOL"],
      ["", 400, "INVALID_REQUEST"],
      ["events=yes", 400, "INVALID_REQUEST"],
      ["quotes=EURUSD&extra=1", 400, "INVALID_REQUEST"],
      ["quotes=EUR%20USD", 400, "INVALID_REQUEST"],
      ["events=1&gateway=gtw-none", 404, "UNKNOWN_GATEWAY"],
    ];
    for (const [query, status, code] of cases) {
      const response = await fetch(`${s.inf.api.url}/v1/stream?${query}`);
      const body = (await response.json()) as { error: { code: string } };
      expect([query, response.status, body.error.code]).toEqual([query, status, code]);
    }
    expect(s.inf.api.streams.size).toBe(0);
  });

  test("stream.max_connections: one more is 503, and a closed one frees its place", async () => {
    const s = await setup({ stream: { max_connections: 2 } });
    const first = await sse(s, "events=1");
    await sse(s, "quotes=EURUSD");
    const third = await fetch(`${s.inf.api.url}/v1/stream?events=1`);
    await first.close();
    await eventually(() => s.inf.api.streams.size === 1);
    const fourth = await sse(s, "events=1");

    expect(third.status).toBe(503);
    expect(((await third.json()) as { error: { code: string } }).error.code).toBe(
      "STREAM_UNAVAILABLE",
    );
    expect(fourth.status).toBe(200);
  });

  test("stream.enabled: false answers 503", async () => {
    const s = await setup({ stream: { enabled: false } });
    const response = await fetch(`${s.inf.api.url}/v1/stream?events=1`);
    expect(response.status).toBe(503);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe(
      "STREAM_UNAVAILABLE",
    );
  });

  test("stopping the API ends open streams with SHUTDOWN", async () => {
    const s = await setup();
    const reader = await sse(s, "events=1");
    await eventually(() => reader.messages.length >= 1);
    const started = performance.now();
    await s.inf.api.stop();
    await eventually(() => reader.ended);

    expect(reader.messages.at(-1)?.event).toBe("SHUTDOWN");
    expect(performance.now() - started).toBeLessThan(2000);
  });
});

describe("stream auth", () => {
  test("the token, the Host guard and a browser Origin apply to both stream routes", async () => {
    const s = await setup({ token: "stream-secret" });
    const url = s.inf.api.url;
    const auth = { authorization: "Bearer stream-secret" };
    const status = async (path: string, headers: Record<string, string>) =>
      (await fetch(`${url}${path}`, { headers })).status;

    expect(await status("/v1/stream?events=1", {})).toBe(401);
    expect(await status("/v1/ws?events=1", {})).toBe(401);
    expect(await status("/v1/stream?events=1", { ...auth, host: "evil.example" })).toBe(403);
    expect(await status("/v1/stream?events=1", { ...auth, origin: "https://evil.example" })).toBe(
      403,
    );
    expect(await status("/v1/ws?events=1", { ...auth, origin: "https://evil.example" })).toBe(403);
    expect(await status("/v1/ws?events=1", auth)).toBe(400); // not an Upgrade request
    // Another loopback port is another origin (a page some other local program serves)
    expect(await status("/v1/stream?events=1", { ...auth, origin: "http://127.0.0.1:3000" })).toBe(
      403,
    );
    const reader = await sse(s, "events=1", { ...auth, origin: new URL(url).origin });
    expect(reader.status).toBe(200);

    const refused = new WebSocket(`${url.replace("http", "ws")}/v1/ws?events=1`);
    const outcome = await new Promise<string>((resolve) => {
      refused.onopen = () => resolve("open");
      refused.onerror = () => resolve("error");
    });
    expect(outcome).toBe("error");
  });
});

describe("WebSocket stream", () => {
  test("the same messages as JSON: snapshot, quotes, fills", async () => {
    const s = await setup({ token: "ws-secret" });
    await s.gateway.sim.setQuote("EURUSD", 1.2);
    await eventually(
      () => s.inf.app.lanes.get(s.inf.gateway)?.stream?.view.quote("EURUSD")?.bid === 1.2,
    );
    const ws = new WebSocket(
      `${s.inf.api.url.replace("http", "ws")}/v1/ws?quotes=EURUSD&events=1`,
      {
        headers: { authorization: "Bearer ws-secret" },
      } as unknown as string[],
    );
    cleanups.push(() => ws.close());
    const messages: Record<string, unknown>[] = [];
    ws.onmessage = (event) => messages.push(JSON.parse(String(event.data)));
    await eventually(() => messages.length >= 1);

    await s.gateway.sim.setQuote("EURUSD", 1.201);
    await eventually(() => messages.some((m) => m["event"] === "QUOTE" && m["bid"] === 1.201));
    const response = await fetch(`${s.inf.api.url}/v1/orders`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer ws-secret" },
      body: JSON.stringify({ symbol: "EURUSD", side: "SELL", volume: 0.2 }),
    });
    expect(response.status).toBe(200);
    await eventually(() => messages.some((m) => m["event"] === "DEAL"));

    expect(messages[0]).toMatchObject({ event: "SNAPSHOT", state: "LIVE", positions: [] });
    const deal = messages.find((m) => m["event"] === "DEAL");
    expect(deal).toMatchObject({ gateway: s.inf.gateway, deal: { side: "SELL", volume: 0.2 } });
    expect(typeof deal?.["id"]).toBe("string");
    await eventually(() => messages.some((m) => m["event"] === "POSITION_MODIFIED") || true);
    const positions = (await (
      await fetch(`${s.inf.api.url}/v1/positions`, {
        headers: { authorization: "Bearer ws-secret" },
      })
    ).json()) as { positions: Position[] };
    expect(positions.positions).toHaveLength(1);
  });
});
