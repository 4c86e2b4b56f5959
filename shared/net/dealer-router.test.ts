import { afterEach, describe, expect, test } from "bun:test";
import { eventually } from "../../scripts/harness/eventually.ts";
import { TrackingClock } from "../testing/tracking-clock.ts";
import { DealerSocket } from "./dealer.ts";
import type { SocketEvent } from "./events.ts";
import type { SocketOptions } from "./options.ts";
import { type RouterMessage, RouterSocket } from "./router.ts";

const NULL: SocketOptions["security"] = { mechanism: "NULL" };
const text = (value: string) => new TextEncoder().encode(value);
const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

const open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const socket of open.splice(0)) await socket.close();
});

function router(options: Partial<SocketOptions> = {}): RouterSocket {
  const socket = new RouterSocket({ security: NULL, ...options });
  open.push(socket);
  return socket;
}

function dealer(options: Partial<SocketOptions> = {}): DealerSocket {
  const socket = new DealerSocket({ security: NULL, ...options });
  open.push(socket);
  return socket;
}

function echo(socket: RouterSocket): RouterMessage[] {
  const seen: RouterMessage[] = [];
  socket.onMessage((message) => {
    seen.push(message);
    socket.send(message.routingId, message.parts);
  });
  return seen;
}

describe("DEALER and ROUTER", () => {
  test("a multipart message goes out and comes back with empty and large parts intact", async () => {
    const server = router();
    echo(server);
    const endpoint = await server.bind("tcp://127.0.0.1:0");
    const client = dealer();
    const replies: Uint8Array[][] = [];
    client.onMessage((parts) => replies.push(parts));
    client.connect(endpoint);
    const big = new Uint8Array(300_000).map((_, i) => i % 251);
    expect(client.send([text("a"), new Uint8Array(0), big])).toBe(true);
    const [reply] = await eventually(() => (replies.length > 0 ? replies : undefined));
    expect(reply?.map((part) => part.length)).toEqual([1, 0, 300_000]);
    expect(reply?.[2]).toEqual(big);
  });

  test("10,000 messages arrive in order", async () => {
    const server = router();
    echo(server);
    const endpoint = await server.bind("tcp://127.0.0.1:0");
    const client = dealer();
    const got: number[] = [];
    client.onMessage((parts) => got.push(Number(decode(parts[0] as Uint8Array))));
    client.connect(endpoint);
    await eventually(() => client.connectedPeers === 1);
    const accepted = Array.from({ length: 10_000 }, (_, i) => client.send([text(String(i))]));
    expect(accepted.every(Boolean)).toBe(true);
    await eventually(() => got.length === 10_000, { timeoutMs: 10_000 });
    expect(got).toEqual(Array.from({ length: 10_000 }, (_, i) => i));
  });

  test("messages sent before the connection exists are delivered once it does", async () => {
    const server = router();
    const seen = echo(server);
    const client = dealer({ reconnectIntervalMs: 20, reconnectIntervalMaxMs: 50 });
    const probe = await server.bind("tcp://127.0.0.1:0");
    await server.close();
    client.connect(probe);
    expect(client.send([text("early")])).toBe(true);
    const late = router();
    echo(late);
    const lateSeen: RouterMessage[] = [];
    late.onMessage((message) => lateSeen.push(message));
    await late.bind(probe);
    await eventually(() => lateSeen.length === 1, { timeoutMs: 5000 });
    expect(decode(lateSeen[0]?.parts[0] as Uint8Array)).toBe("early");
    expect(seen).toHaveLength(0);
  });

  test("the router keeps peers apart by routing id", async () => {
    const server = router();
    const ids = new Set<string>();
    server.onMessage((message) => {
      ids.add(Buffer.from(message.routingId).toString("hex"));
      server.send(message.routingId, [text(`for ${decode(message.parts[0] as Uint8Array)}`)]);
    });
    const endpoint = await server.bind("tcp://127.0.0.1:0");
    const replies: Record<string, string[]> = { a: [], b: [] };
    for (const name of ["a", "b"] as const) {
      const client = dealer();
      client.onMessage((parts) => replies[name]?.push(decode(parts[0] as Uint8Array)));
      client.connect(endpoint);
      client.send([text(name)]);
    }
    await eventually(() => (replies["a"]?.length ?? 0) + (replies["b"]?.length ?? 0) === 2);
    expect(replies).toEqual({ a: ["for a"], b: ["for b"] });
    expect(ids.size).toBe(2);
  });

  test("a peer's Identity becomes its routing id, and a taken identity is refused without handover", async () => {
    const server = router();
    const seen = echo(server);
    const endpoint = await server.bind("tcp://127.0.0.1:0");
    const first = dealer({ identity: text("inf-1") });
    first.connect(endpoint);
    first.send([text("one")]);
    await eventually(() => seen.length === 1);
    expect(decode(seen[0]?.routingId as Uint8Array)).toBe("inf-1");

    const events: SocketEvent[] = [];
    server.on((event) => events.push(event));
    const second = dealer({ identity: text("inf-1"), reconnectIntervalMs: 1000 });
    second.connect(endpoint);
    await eventually(() =>
      events.some((event) => event.type === "disconnected" || event.type === "handshake_succeeded"),
    );
    expect(server.connectedPeers).toBe(1);
  });

  test("with handover, a reconnecting peer takes over its identity", async () => {
    const server = router({ routerHandover: true });
    const seen = echo(server);
    const endpoint = await server.bind("tcp://127.0.0.1:0");
    const first = dealer({ identity: text("inf-1") });
    first.connect(endpoint);
    first.send([text("one")]);
    await eventually(() => seen.length === 1);
    const second = dealer({ identity: text("inf-1") });
    const replies: string[] = [];
    second.onMessage((parts) => replies.push(decode(parts[0] as Uint8Array)));
    second.connect(endpoint);
    second.send([text("two")]);
    await eventually(() => replies.length === 1);
    expect(replies).toEqual(["two"]);
    expect(server.connectedPeers).toBe(1);
  });

  test("a routing id object kept by the caller routes by its bytes and to the current peer only", async () => {
    const server = router({ routerHandover: true });
    const seen: RouterMessage[] = [];
    server.onMessage((message) => seen.push(message));
    const endpoint = await server.bind("tcp://127.0.0.1:0");
    const inbox: Record<string, string[]> = { a: [], b: [], a2: [] };
    const connect = (name: string, identity: string) => {
      const socket = dealer({ identity: text(identity) });
      socket.onMessage((parts) => inbox[name]?.push(decode(parts[0] as Uint8Array)));
      socket.connect(endpoint);
      socket.send([text(name)]);
      return socket;
    };
    const a = connect("a", "peer-a");
    connect("b", "peer-b");
    await eventually(() => seen.length === 2);
    const idOfA = seen.find((message) => decode(message.parts[0] as Uint8Array) === "a")
      ?.routingId as Uint8Array;
    expect(server.send(idOfA, [text("1")])).toBe(true);
    // The same array, rewritten in place to name the other peer: routed by its new bytes
    idOfA.set(text("peer-b"));
    expect(server.send(idOfA, [text("2")])).toBe(true);
    await eventually(() => inbox["a"]?.length === 1 && inbox["b"]?.length === 1);
    expect(inbox).toEqual({ a: ["1"], b: ["2"], a2: [] });

    // peer-a hands over to a new connection: a kept id object must reach the new one, never the old
    idOfA.set(text("peer-a"));
    expect(server.send(idOfA, [text("3")])).toBe(true);
    await eventually(() => inbox["a"]?.length === 2);
    connect("a2", "peer-a");
    await eventually(() => seen.length === 3);
    expect(server.send(idOfA, [text("4")])).toBe(true);
    await eventually(() => inbox["a2"]?.length === 1);
    await a.close();
    expect(inbox).toEqual({ a: ["1", "3"], b: ["2"], a2: ["4"] });
  });

  test("sending to an unknown routing id drops the message and says so", async () => {
    const server = router();
    await server.bind("tcp://127.0.0.1:0");
    const events: SocketEvent[] = [];
    server.on((event) => events.push(event));
    expect(server.send(new Uint8Array([0, 1, 2, 3, 4]), [text("x")])).toBe(false);
    expect(events).toContainEqual({ type: "dropped", reason: "no_peer" });
  });

  test("the pre-connection queue is bounded by the high-water mark", () => {
    const client = dealer({ sendHighWaterMark: 3 });
    client.connect("tcp://127.0.0.1:9");
    const results = Array.from({ length: 5 }, () => client.send([text("x")]));
    expect(results).toEqual([true, true, true, false, false]);
  });

  test("a message larger than the peer's maximum closes the connection instead of allocating it", async () => {
    const server = router({ maxMessageSize: 1000 });
    const seen = echo(server);
    const events: SocketEvent[] = [];
    server.on((event) => events.push(event));
    const endpoint = await server.bind("tcp://127.0.0.1:0");
    const client = dealer();
    client.connect(endpoint);
    client.send([new Uint8Array(5000)]);
    await eventually(() => events.find((event) => event.type === "disconnected"));
    expect(seen).toHaveLength(0);
  });

  test("close() leaves no timer and no listener behind", async () => {
    const clock = new TrackingClock();
    const server = new RouterSocket({ security: NULL, clock, heartbeatIntervalMs: 50 });
    echo(server);
    const endpoint = await server.bind("tcp://127.0.0.1:0");
    const client = new DealerSocket({ security: NULL, clock, heartbeatIntervalMs: 50 });
    const replies: Uint8Array[][] = [];
    client.onMessage((parts) => replies.push(parts));
    client.connect(endpoint);
    client.connect("tcp://127.0.0.1:9");
    client.send([text("x")]);
    await eventually(() => replies.length > 0);
    expect(clock.liveTimers).toBeGreaterThan(0);
    await client.close();
    await server.close();
    expect(clock.liveTimers).toBe(0);
    const port = Number(endpoint.split(":").pop());
    await expect(
      Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {} } }),
    ).rejects.toThrow();
  });
});

describe("socket construction", () => {
  test("a bad CURVE key or identity fails the constructor, not a later connection", () => {
    const good = new Uint8Array(32).fill(7);
    expect(
      () =>
        new DealerSocket({
          security: {
            mechanism: "CURVE",
            role: "client",
            publicKey: good,
            secretKey: good,
            serverKey: new Uint8Array(31),
          },
        }),
    ).toThrow(/server public key must be 32 bytes, was 31/);
    expect(
      () =>
        new RouterSocket({
          security: {
            mechanism: "CURVE",
            role: "server",
            publicKey: new Uint8Array(16),
            secretKey: good,
            authorize: () => ({ status: 200 }),
          },
        }),
    ).toThrow(/server public key must be 32 bytes/);
    expect(() => new DealerSocket({ security: NULL, identity: new Uint8Array([0, 1]) })).toThrow(
      /identity/,
    );
  });
});
