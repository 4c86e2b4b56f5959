/**
 * The gateway's stream fan-out without sockets: a fake ROUTER (a queue per peer whose depth the
 * test sets) and a fake backend, on a TestClock. Covers what the process tests cannot reach
 * cheaply: the limits, RESYNC paging over thousands of deals, the throttle timing, handed-over
 * routing ids and the terminal's SUBSCRIBE_TICKS set.
 */
import { describe, expect, test } from "bun:test";
import { silentLogger } from "../../shared/log.ts";
import type { Deal, Reply, ResyncReply, SubscribeReply } from "../../shared/protocol/index.ts";
import { TestClock } from "../../shared/testing/test-clock.ts";
import type { Backend, BackendEvent, BackendListener } from "../backend/backend.ts";
import { type StreamConnection, StreamHub } from "./stream-hub.ts";
import { FakeRouter } from "./testing/fake-router.ts";

class FakeBackend {
  readonly kind = "terminal" as const;
  readonly listeners = new Set<BackendListener>();
  dealList: Deal[] = [];
  readonly known = new Set<string>();
  readonly tickSets: string[] = [];

  subscribe(listener: BackendListener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  emit(event: BackendEvent) {
    for (const listener of this.listeners) listener(event);
  }
  async positions() {
    return [];
  }
  async deals() {
    return this.dealList;
  }
  async orders() {
    return [];
  }
  async symbolInfo(symbol: string) {
    return this.known.has(symbol) || /^S\d+$/.test(symbol)
      ? ({ symbol, bid: 1, ask: 1.1, quote_time: 5 } as never)
      : undefined;
  }
  async subscribeQuotes(symbols: readonly string[], throttleMs: number) {
    this.tickSets.push(`${symbols.join(",")}@${throttleMs}`);
  }
}

function setup(options: { maxSubscribers?: number; maxQueuedEvents?: number } = {}) {
  const clock = new TestClock();
  const backend = new FakeBackend();
  const router = new FakeRouter();
  const hub = new StreamHub({
    backend: backend as unknown as Backend,
    clock,
    logger: silentLogger,
    ...options,
  });
  hub.attach(router);
  hub.start();
  let n = 0;
  const ask = (body: Record<string, unknown>, connection?: StreamConnection) =>
    hub.handle(
      { v: 1, id: `r${++n}`, ts: clock.now(), ...body } as never,
      connection,
      "inf-1",
    ) as Promise<Reply>;
  const settle = () => new Promise((resolve) => setTimeout(resolve, 0));
  return { clock, backend, router, hub, ask, settle };
}

function deal(ticket: number, time: number): Deal {
  return {
    ticket,
    order: ticket,
    position: ticket,
    symbol: "EURUSD",
    side: "BUY",
    entry: "IN",
    reason: "CLIENT",
    volume: 1,
    price: 1,
    profit: 0,
    commission: 0,
    swap: 0,
    magic: 0,
    comment: "",
    time,
  };
}

describe("StreamHub", () => {
  test("RESYNC pages through thousands of deals by (time, ticket), none twice", async () => {
    const { backend, ask } = setup();
    // 2500 deals, many sharing a millisecond, listed out of order
    backend.dealList = Array.from({ length: 2500 }, (_, n) =>
      deal(2500 - n, 1000 + Math.floor((2500 - n) / 7)),
    );
    const seen: number[] = [];
    const cursor = { since: 0, after_deal: 0 };
    for (;;) {
      const reply = (await ask({ action: "RESYNC", ...cursor })) as ResyncReply;
      seen.push(...reply.deals.map((d) => d.ticket));
      const last = reply.deals.at(-1);
      if (!reply.more || last === undefined) break;
      expect(reply.deals).toHaveLength(1000);
      cursor.since = last.time;
      cursor.after_deal = last.ticket;
    }
    expect(seen).toEqual(Array.from({ length: 2500 }, (_, n) => n + 1));
  });

  test("limits: 64 symbols per peer, max_subscribers peers", async () => {
    const { router, ask } = setup({ maxSubscribers: 2 });
    const a = router.connect("a");
    const many = Array.from({ length: 60 }, (_, n) => `S${n}`);
    expect((await ask({ action: "SUBSCRIBE", symbols: many }, a)).status).toBe("OK");
    const over = await ask(
      { action: "SUBSCRIBE", symbols: ["S60", "S61", "S62", "S63", "S64"] },
      a,
    );
    const again = await ask({ action: "SUBSCRIBE", symbols: ["S0", "S1"] }, a);
    await ask({ action: "SUBSCRIBE", events: true }, router.connect("b"));
    const third = await ask({ action: "SUBSCRIBE", events: true }, router.connect("c"));

    expect(over).toMatchObject({ status: "ERROR", error_code: "TOO_MANY_SUBSCRIPTIONS" });
    expect(String(over.error_msg)).toContain("this would make 65");
    expect(again.status).toBe("OK");
    expect(third).toMatchObject({ status: "ERROR", error_code: "TOO_MANY_SUBSCRIPTIONS" });
  });

  test("the throttle sends the first quote, holds the rest, then the latest at the window's end", async () => {
    const { clock, backend, router, ask, settle } = setup();
    backend.known.add("EURUSD");
    const a = router.connect("a");
    await ask({ action: "SUBSCRIBE", symbols: ["EURUSD"], throttle_ms: 100 }, a);
    await settle();
    const quote = (bid: number) =>
      backend.emit({ type: "QUOTE", symbol: "EURUSD", bid, ask: bid + 0.1, time: clock.now() });
    clock.advance(200);
    quote(2);
    await settle();
    clock.advance(10);
    quote(3);
    clock.advance(10);
    quote(4);
    await settle();
    const before = router.events("a").length;
    clock.advance(80);
    await settle();

    const bids = router.events("a").map((event) => (event.event === "QUOTE" ? event.bid : 0));
    expect(before).toBe(2);
    expect(bids).toEqual([1, 2, 4]);
  });

  test("a handed-over routing id does not inherit the old connection's subscription", async () => {
    const { backend, router, hub, ask, settle } = setup();
    const old = router.connect("a");
    await ask({ action: "SUBSCRIBE", events: true }, old);
    router.connect("a"); // same routing id, a new connection (ROUTER_HANDOVER)
    backend.emit({ type: "DEAL", deal: deal(1, 1) });
    await settle();

    expect(router.events("a")).toEqual([]);
    expect(hub.stats().subscribers).toBe(0);
  });

  test("a peer whose socket is full is fed again as it drains, quotes conflated", async () => {
    const { clock, backend, router, ask, settle } = setup();
    backend.known.add("EURUSD");
    const a = router.connect("a");
    await ask({ action: "SUBSCRIBE", symbols: ["EURUSD"], events: true }, a);
    await settle();
    const state = router.peers.get("a") as { queuedMessages: number };
    state.queuedMessages = 1000;
    for (let n = 2; n <= 50; n++) {
      backend.emit({ type: "QUOTE", symbol: "EURUSD", bid: n, ask: n + 1, time: n });
      if (n % 10 === 0) backend.emit({ type: "DEAL", deal: deal(n, n) });
    }
    await settle();
    clock.advance(100);
    expect(router.events("a")).toHaveLength(1);
    state.queuedMessages = 0;
    clock.advance(100);
    await settle();

    const events = router.events("a");
    expect(events.map((event) => event.event)).toEqual([
      "QUOTE",
      "DEAL",
      "DEAL",
      "DEAL",
      "DEAL",
      "DEAL",
      "QUOTE",
    ]);
    expect(events.at(-1)).toMatchObject({ bid: 50 });
    expect(events.map((event) => event.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  test("keeps the terminal's SUBSCRIBE_TICKS set the union of every peer's symbols", async () => {
    const { backend, router, ask, hub, settle } = setup();
    for (const symbol of ["EURUSD", "GBPUSD"]) backend.known.add(symbol);
    const a = router.connect("a");
    const b = router.connect("b");
    await ask({ action: "SUBSCRIBE", symbols: ["EURUSD"], throttle_ms: 500 }, a);
    await settle();
    await ask({ action: "SUBSCRIBE", symbols: ["GBPUSD"] }, b);
    await settle();
    await ask({ action: "UNSUBSCRIBE" }, a);
    await settle();
    router.peers.delete("b");
    hub.sweep();
    await settle();

    expect(backend.tickSets).toEqual(["EURUSD@500", "EURUSD,GBPUSD@10", "GBPUSD@10", "@100"]);
  });

  test("SUBSCRIBE and UNSUBSCRIBE need a connection; RESYNC does not", async () => {
    const { ask } = setup();
    expect((await ask({ action: "SUBSCRIBE", events: true })).error_code).toBe("INVALID_REQUEST");
    expect((await ask({ action: "UNSUBSCRIBE" })).error_code).toBe("INVALID_REQUEST");
    const resync = (await ask({ action: "RESYNC", since: 0 })) as ResyncReply;
    expect(resync).toMatchObject({ status: "OK", positions: [], deals: [], more: false });
    const nothing = (await ask(
      { action: "UNSUBSCRIBE" },
      { routingId: new Uint8Array(1), peer: {} },
    )) as SubscribeReply;
    expect(nothing).toMatchObject({
      status: "OK",
      seq: 0,
      subscription: { quotes: [], events: false },
    });
  });
});
