/**
 * The gateway's event stream over CURVE (docs/PROTOCOL.md §13): SUBSCRIBE, EVENTs with
 * sequence numbers, throttling, UNSUBSCRIBE, the refusals, and subscribers that stop reading
 * (a consumer process frozen with SIGSTOP): quotes conflate, trade events are kept or, past
 * the cap, replaced by an explicit RESYNC_REQUIRED.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { createDeployment, type Deployment } from "../../scripts/harness/deployment.ts";
import { eventually } from "../../scripts/harness/eventually.ts";
import type {
  Deal,
  ResyncReply,
  StreamEvent,
  SubscribeReply,
  TradeReply,
} from "../../shared/protocol/index.ts";
import { type InProcessGateway, StreamTestClient, startInProcessGateway } from "./support.ts";

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(options: { tickIntervalMs?: number; maxQueuedEvents?: number } = {}) {
  const deployment: Deployment = createDeployment();
  cleanups.push(() => deployment.remove());
  const gateway: InProcessGateway = await startInProcessGateway(deployment, options);
  cleanups.push(() => gateway.stop());
  const client = new StreamTestClient(gateway.endpoint, deployment);
  cleanups.push(() => client.close());
  return { deployment, gateway, client };
}

describe("gateway stream", () => {
  test("seeds the quote, streams ticks, fills and an SL hit with seq from 1", async () => {
    const { gateway, client } = await setup({ tickIntervalMs: 60_000 });
    const reply = (await client.send({
      action: "SUBSCRIBE",
      symbols: ["EURUSD"],
      events: true,
    })) as SubscribeReply;
    expect(reply).toMatchObject({
      status: "OK",
      seq: 0,
      subscription: { quotes: [{ symbol: "EURUSD", throttle_ms: 0 }], events: true },
    });
    await eventually(() => client.of("QUOTE").length === 1);
    await gateway.sim.setQuote("EURUSD", 1.1);
    await eventually(() => client.of("QUOTE").at(-1)?.bid === 1.1);
    const open = (await client.send({
      action: "OPEN",
      symbol: "EURUSD",
      side: "BUY",
      volume: 0.1,
      sl: 1.099,
    })) as TradeReply;
    expect(open.status).toBe("FILLED");
    await gateway.sim.setQuote("EURUSD", 1.0985);
    await eventually(() => client.of("POSITION_CLOSED").length === 1);

    const closed = client.of("POSITION_CLOSED")[0];
    expect(closed).toMatchObject({ ticket: open.ticket, reason: "SL", symbol: "EURUSD" });
    expect(client.of("DEAL").map((event) => event.deal.entry)).toEqual(["IN", "OUT"]);
    expect(client.events.map((event) => event.seq)).toEqual(
      client.events.map((_, index) => index + 1),
    );
    const resync = (await client.send({ action: "RESYNC", since: 0 })) as ResyncReply;
    expect(resync.positions).toEqual([]);
    expect(resync.deals.map((deal) => deal.ticket)).toEqual(
      client.of("DEAL").map((event) => event.deal.ticket),
    );
  });

  test("throttle_ms: at most one quote per window, the latest one", async () => {
    const { gateway, client } = await setup({ tickIntervalMs: 60_000 });
    await client.send({ action: "SUBSCRIBE", symbols: ["GBPUSD"], throttle_ms: 200 });
    await eventually(() => client.of("QUOTE").length === 1);
    const started = performance.now();
    let bid = 1.27;
    while (performance.now() - started < 1000) {
      bid = Number((bid + 0.00001).toFixed(5));
      gateway.sim.inject({
        type: "QUOTE",
        symbol: "GBPUSD",
        bid,
        ask: bid + 0.0002,
        time: Date.now(),
      });
      await Bun.sleep(5);
    }
    await eventually(() => client.of("QUOTE").at(-1)?.bid === bid, { message: "the last one" });

    // About one per 200 ms window over the second (five or six): never more than the windows
    // allow; fewer only when this process stalled between injections, so the floor is loose
    const quotes = client.of("QUOTE").slice(1);
    expect(quotes.length).toBeGreaterThanOrEqual(2);
    expect(quotes.length).toBeLessThanOrEqual(7);
  });

  test("UNSUBSCRIBE stops quotes; ending everything restarts seq at 1", async () => {
    const { gateway, client } = await setup({ tickIntervalMs: 60_000 });
    await client.send({ action: "SUBSCRIBE", symbols: ["EURUSD", "GBPUSD"] });
    await eventually(() => client.of("QUOTE").length === 2);
    const partial = (await client.send({
      action: "UNSUBSCRIBE",
      symbols: ["GBPUSD"],
    })) as SubscribeReply;
    await gateway.sim.setQuote("GBPUSD", 1.3);
    await gateway.sim.setQuote("EURUSD", 1.12);
    await eventually(() => client.of("QUOTE").length === 3);
    const ended = (await client.send({ action: "UNSUBSCRIBE" })) as SubscribeReply;
    await gateway.sim.setQuote("EURUSD", 1.13);
    const again = (await client.send({
      action: "SUBSCRIBE",
      symbols: ["EURUSD"],
    })) as SubscribeReply;
    await eventually(() => client.of("QUOTE").length === 4);

    expect(partial.subscription).toEqual({
      quotes: [{ symbol: "EURUSD", throttle_ms: 0 }],
      events: false,
    });
    expect(client.of("QUOTE").map((quote) => quote.symbol)).toEqual([
      "EURUSD",
      "GBPUSD",
      "EURUSD",
      "EURUSD",
    ]);
    expect(ended).toMatchObject({ seq: 3, subscription: { quotes: [], events: false } });
    expect(again.seq).toBe(0);
    expect(client.events.at(-1)).toMatchObject({ seq: 1, bid: 1.13 });
  });

  test("refuses unknown symbols and malformed subscriptions, and changes nothing", async () => {
    const { client } = await setup({ tickIntervalMs: 60_000 });
    const unknown = await client.send({ action: "SUBSCRIBE", symbols: ["EURUSD", "NOPE"] });
    const throttleAlone = await client.sendRaw({ action: "SUBSCRIBE", throttle_ms: 5 });
    const eventsFalse = await client.sendRaw({ action: "SUBSCRIBE", events: false });
    const repeated = await client.sendRaw({ action: "SUBSCRIBE", symbols: ["EURUSD", "EURUSD"] });
    const badCursor = await client.sendRaw({ action: "RESYNC", since: -1 });
    await Bun.sleep(50);

    expect(unknown).toMatchObject({ status: "REJECTED", error_code: "UNKNOWN_SYMBOL" });
    for (const reply of [throttleAlone, eventsFalse, repeated, badCursor]) {
      expect(reply).toMatchObject({ status: "ERROR", error_code: "INVALID_REQUEST" });
    }
    expect(client.events).toEqual([]);
  });

  test("a peer that disconnects loses its subscription", async () => {
    const { deployment, gateway, client } = await setup({ tickIntervalMs: 60_000 });
    await client.send({ action: "SUBSCRIBE", symbols: ["EURUSD"], events: true });
    const second = new StreamTestClient(gateway.endpoint, deployment);
    cleanups.push(() => second.close());
    await second.send({ action: "SUBSCRIBE", events: true });
    expect(gateway.app.streaming.stats().subscribers).toBe(2);
    await client.close();

    await eventually(() => gateway.app.streaming.stats().subscribers === 1);
  });
});

// ---------------------------------------------------------------------------------------------
// Slow subscribers: a consumer process frozen with SIGSTOP stops reading its socket

interface Consumer {
  readonly process: Subprocess<"ignore", "pipe", "pipe">;
  readonly lines: string[];
  events(): StreamEvent[];
}

function startConsumer(deployment: Deployment, endpoint: string, symbols: string[]): Consumer {
  const script = join(import.meta.dir, "fixtures", "stream-consumer.ts");
  const paths = JSON.stringify({
    clientSecret: deployment.inferenceKeys.curveSecretPath,
    serverPublic: deployment.gatewayKeys.publicPath,
  });
  const child = Bun.spawn([process.execPath, script, endpoint, paths, symbols.join(",")], {
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const lines: string[] = [];
  void (async () => {
    const decoder = new TextDecoder();
    let buffer = "";
    for await (const chunk of child.stdout) {
      buffer += decoder.decode(chunk, { stream: true });
      const parts = buffer.split("\n");
      buffer = parts.pop() ?? "";
      lines.push(...parts);
    }
  })();
  cleanups.push(async () => {
    child.kill("SIGCONT");
    child.kill("SIGKILL");
    await child.exited;
  });
  return {
    process: child,
    lines,
    events: () =>
      lines.filter((line) => line.startsWith("{")).map((line) => JSON.parse(line) as StreamEvent),
  };
}

function fakeDeal(ticket: number): Deal {
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
    comment: "filler to make the event a realistic size",
    time: 1_795_000_000_000 + ticket,
  };
}

function expectContiguous(events: readonly StreamEvent[]): void {
  expect(events.map((event) => event.seq)).toEqual(events.map((_, index) => index + 1));
}

describe("slow subscriber", () => {
  test("quotes are conflated to the latest per symbol, every trade event arrives in order", async () => {
    const { deployment, gateway } = await setup({ tickIntervalMs: 60_000 });
    const symbols = ["EURUSD", "GBPUSD", "USDJPY"];
    const consumer = startConsumer(deployment, gateway.endpoint, symbols);
    await eventually(() => consumer.events().length === 3, { message: "seed quotes" });
    consumer.process.kill("SIGSTOP");
    const hub = gateway.app.streaming;
    let ticket = 0;
    let blocked = 0;
    // Trade events (never conflated) until the frozen peer's socket is full and they queue up
    await eventually(
      async () => {
        for (let i = 0; i < 200; i++)
          gateway.sim.inject({ type: "DEAL", deal: fakeDeal(++ticket) });
        await Bun.sleep(5);
        blocked = hub.stats().queued_events > 0 ? blocked + 1 : 0;
        return blocked >= 2;
      },
      { timeoutMs: 45_000, intervalMs: 0, message: "the frozen peer's socket fills" },
    );
    const last = new Map<string, number>();
    let injected = 0;
    for (let round = 0; round < 3000; round++) {
      for (const [index, symbol] of symbols.entries()) {
        const bid = 1 + index + round / 100_000;
        gateway.sim.inject({ type: "QUOTE", symbol, bid, ask: bid + 0.0002, time: round });
        last.set(symbol, bid);
        injected += 1;
      }
      if (round % 30 === 0) gateway.sim.inject({ type: "DEAL", deal: fakeDeal(++ticket) });
      if (round % 300 === 0) await Bun.sleep(1);
    }
    const conflated = hub.stats().conflated_quotes;
    consumer.process.kill("SIGCONT");
    await eventually(
      () => consumer.events().filter((event) => event.event === "DEAL").length === ticket,
      { timeoutMs: 30_000, message: "every deal" },
    );
    await eventually(
      () => {
        const quotes = consumer.events().filter((event) => event.event === "QUOTE");
        return symbols.every(
          (symbol) =>
            (
              quotes.filter((q) => q.event === "QUOTE" && q.symbol === symbol).at(-1) as {
                bid?: number;
              }
            )?.bid === last.get(symbol),
        );
      },
      { message: "the latest quote of every symbol" },
    );

    const events = consumer.events();
    expectContiguous(events);
    const deals = events.flatMap((event) => (event.event === "DEAL" ? [event.deal.ticket] : []));
    expect(deals).toEqual(Array.from({ length: ticket }, (_, index) => index + 1));
    const quotes = events.filter((event) => event.event === "QUOTE").length - 3;
    expect(quotes).toBeLessThan(injected / 10);
    expect(conflated).toBeGreaterThan(injected - 200);
    expect(hub.stats().subscribers).toBe(1);
  }, 90_000);

  test("past the event cap it gets RESYNC_REQUIRED and its subscription ends", async () => {
    const { deployment, gateway } = await setup({ tickIntervalMs: 60_000, maxQueuedEvents: 50 });
    const consumer = startConsumer(deployment, gateway.endpoint, ["EURUSD"]);
    await eventually(() => consumer.events().length === 1, { message: "seed quote" });
    consumer.process.kill("SIGSTOP");
    const hub = gateway.app.streaming;
    let ticket = 0;
    await eventually(
      async () => {
        for (let i = 0; i < 20; i++) gateway.sim.inject({ type: "DEAL", deal: fakeDeal(++ticket) });
        await Bun.sleep(1);
        return hub.stats().resync_required === 1;
      },
      { timeoutMs: 45_000, intervalMs: 0, message: "the cap is hit" },
    );
    consumer.process.kill("SIGCONT");
    await eventually(() => consumer.events().at(-1)?.event === "RESYNC_REQUIRED", {
      timeoutMs: 30_000,
    });
    await eventually(() => hub.stats().subscribers === 0);

    const events = consumer.events();
    expectContiguous(events);
    const deals = events.flatMap((event) => (event.event === "DEAL" ? [event.deal.ticket] : []));
    expect(deals).toEqual(Array.from({ length: deals.length }, (_, index) => index + 1));
    expect(deals.length).toBeLessThan(ticket);
    expect(events.at(-1)).toMatchObject({ event: "RESYNC_REQUIRED" });
  }, 90_000);
});
