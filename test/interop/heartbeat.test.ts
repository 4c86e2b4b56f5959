/**
 * ZMTP heartbeats against real libzmq (RFC 37 §2.6, research §3.5 and §7.2 "Heartbeats").
 *
 * libzmq with HEARTBEAT_IVL drops a connection when nothing arrives within HEARTBEAT_TIMEOUT
 * (default: the interval) of its PING, so an idle link that survives many intervals proves we
 * answer its PINGs (they travel as CURVE MESSAGEs with inner flags 0x02). The other way round,
 * our PINGs must get libzmq's PONGs. A peer frozen with SIGSTOP keeps its TCP connection (the
 * kernel still ACKs) but sends nothing: our heartbeat timeout, or the TTL it advertised, must
 * drop it, and the link must come back once it resumes.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { eventually } from "../../scripts/harness/eventually.ts";
import type { RouterMessage } from "../../shared/net/index.ts";
import { LibzmqPeer } from "./libzmq.ts";
import {
  Cleanup,
  type CurveKeys,
  curveClient,
  curveKeys,
  curveServer,
  decode,
  EventLog,
  newDealer,
  newRouter,
  pattern,
  portOf,
  text,
} from "./support.ts";

const cleanup = new Cleanup();
let serverKeys: CurveKeys;
let clientKeys: CurveKeys;

beforeEach(() => {
  serverKeys = curveKeys();
  clientKeys = curveKeys();
});
afterEach(() => cleanup.run());

/**
 * The heartbeat timeouts: a second, not the interval libzmq and we default to, so a stall of a
 * few hundred milliseconds on a loaded machine cannot fail a PONG; unanswered PINGs still time
 * out well inside IDLE_MS.
 */
const TIMEOUT_MS = 1000;
/** Long enough for several 200–300 ms intervals and more than one TIMEOUT_MS. */
const IDLE_MS = 2500;

function libzmqRouter(heartbeat?: {
  interval: number;
  ttl?: number;
  timeout?: number;
}): Promise<LibzmqPeer> {
  return LibzmqPeer.start({
    type: "router",
    bind: "tcp://127.0.0.1:0",
    echo: true,
    curve: { server: true, publicKey: serverKeys.publicZ85, secretKey: serverKeys.secretZ85 },
    ...(heartbeat === undefined ? {} : { heartbeat }),
  });
}

function libzmqDealer(
  endpoint: string,
  heartbeat?: { interval: number; ttl?: number; timeout?: number },
): Promise<LibzmqPeer> {
  return LibzmqPeer.start({
    type: "dealer",
    connect: endpoint,
    reconnectInterval: 100,
    curve: {
      publicKey: clientKeys.publicZ85,
      secretKey: clientKeys.secretZ85,
      serverKey: serverKeys.publicZ85,
    },
    ...(heartbeat === undefined ? {} : { heartbeat }),
  });
}

/** Our ROUTER, echoing every message back. */
async function echoRouter(heartbeatIntervalMs?: number) {
  const router = newRouter(cleanup, {
    security: curveServer(serverKeys, [clientKeys]),
    ...(heartbeatIntervalMs === undefined
      ? {}
      : { heartbeatIntervalMs, heartbeatTimeoutMs: TIMEOUT_MS }),
  });
  const received: RouterMessage[] = [];
  router.onMessage((message) => {
    received.push(message);
    router.send(message.routingId, message.parts);
  });
  const log = new EventLog(router);
  const endpoint = await router.bind("tcp://127.0.0.1:0");
  return { router, received, log, endpoint };
}

describe("libzmq's heartbeats against our sockets", () => {
  test("our ROUTER answers a libzmq DEALER's PINGs, so an idle link stays up", async () => {
    const { router, log, endpoint } = await echoRouter();
    const peer = cleanup.add(await libzmqDealer(endpoint, { interval: 300, timeout: TIMEOUT_MS }));
    await peer.waitFor((record) => record["type"] === "handshake");
    await Bun.sleep(IDLE_MS);

    expect(peer.socketEvents("disconnect")).toHaveLength(0);
    expect(peer.socketEvents("handshake")).toHaveLength(1);
    expect(log.count("disconnected")).toBe(0);
    expect(router.connectedPeers).toBe(1);
    peer.send([text("still here")]);
    const [reply] = await peer.waitForMessages(1);
    expect(decode(reply?.[0])).toBe("still here");
  });

  test("our DEALER answers a libzmq ROUTER's PINGs, so an idle link stays up", async () => {
    const peer = cleanup.add(await libzmqRouter({ interval: 300, timeout: TIMEOUT_MS }));
    const dealer = newDealer(cleanup, { security: curveClient(clientKeys, serverKeys.publicKey) });
    const log = new EventLog(dealer);
    const replies: Uint8Array[][] = [];
    dealer.onMessage((parts) => replies.push(parts));
    dealer.connect(peer.endpoint);
    await eventually(() => dealer.connectedPeers === 1);
    await Bun.sleep(IDLE_MS);

    expect(peer.socketEvents("disconnect")).toHaveLength(0);
    expect(log.count("disconnected")).toBe(0);
    expect(log.count("handshake_succeeded")).toBe(1);
    dealer.send([text("still here")]);
    await eventually(() => replies.length === 1);
    expect(decode(replies[0]?.[0])).toBe("still here");
  });
});

describe("our heartbeats against libzmq", () => {
  test("our DEALER's PINGs get libzmq's PONGs, so its heartbeat timeout never fires", async () => {
    const peer = cleanup.add(await libzmqRouter());
    const dealer = newDealer(cleanup, {
      security: curveClient(clientKeys, serverKeys.publicKey),
      heartbeatIntervalMs: 200,
      heartbeatTimeoutMs: TIMEOUT_MS,
    });
    const log = new EventLog(dealer);
    dealer.connect(peer.endpoint);
    await eventually(() => dealer.connectedPeers === 1);
    await Bun.sleep(IDLE_MS);

    expect(log.count("disconnected")).toBe(0);
    expect(log.count("handshake_succeeded")).toBe(1);
    expect(peer.socketEvents("disconnect")).toHaveLength(0);
  });

  test("our ROUTER's PINGs get libzmq's PONGs, so its heartbeat timeout never fires", async () => {
    const { router, log, endpoint } = await echoRouter(200);
    const peer = cleanup.add(await libzmqDealer(endpoint));
    await peer.waitFor((record) => record["type"] === "handshake");
    await Bun.sleep(IDLE_MS);

    expect(log.count("disconnected")).toBe(0);
    expect(router.connectedPeers).toBe(1);
    expect(peer.socketEvents("disconnect")).toHaveLength(0);
  });
});

describe("a libzmq peer that goes silent", () => {
  test("our DEALER drops a frozen libzmq ROUTER by heartbeat timeout and reconnects once it resumes", async () => {
    const peer = cleanup.add(await libzmqRouter());
    const dealer = newDealer(cleanup, {
      security: curveClient(clientKeys, serverKeys.publicKey),
      heartbeatIntervalMs: 200,
      handshakeTimeoutMs: 1000,
      reconnectIntervalMs: 100,
      reconnectIntervalMaxMs: 400,
    });
    const log = new EventLog(dealer);
    const replies: Uint8Array[][] = [];
    dealer.onMessage((parts) => replies.push(parts));
    dealer.connect(peer.endpoint);
    await eventually(() => dealer.connectedPeers === 1);

    peer.pause();
    const dropped = await eventually(() => log.of("disconnected")[0], { timeoutMs: 3000 });
    expect(dropped.reason).toMatch(/heartbeat/);
    expect(dealer.connectedPeers).toBe(0);
    // Stay frozen a while: reconnects reach the kernel's backlog but no handshake can finish
    await Bun.sleep(1500);
    expect(dealer.connectedPeers).toBe(0);

    peer.resume();
    await eventually(() => dealer.connectedPeers === 1, { timeoutMs: 8000 });
    expect(log.count("handshake_succeeded")).toBeGreaterThanOrEqual(2);
    dealer.send([text("after the pause")]);
    await eventually(() => replies.length === 1, { timeoutMs: 3000 });
    expect(decode(replies[0]?.[0])).toBe("after the pause");
  }, 20_000);

  test("our ROUTER drops a frozen libzmq DEALER when the TTL it advertised expires", async () => {
    // Our ROUTER sends no PINGs of its own: only the TTL in libzmq's PINGs can end the link
    const { router, log, endpoint } = await echoRouter();
    const peer = cleanup.add(await libzmqDealer(endpoint, { interval: 200, ttl: 1000 }));
    await peer.waitFor((record) => record["type"] === "handshake");
    await Bun.sleep(500); // let at least one PING carrying the TTL arrive
    expect(router.connectedPeers).toBe(1);

    peer.pause();
    const dropped = await eventually(() => log.of("disconnected")[0], { timeoutMs: 4000 });
    expect(dropped.reason).toMatch(/TTL/);
    expect(router.connectedPeers).toBe(0);

    peer.resume();
    await eventually(() => router.connectedPeers === 1, { timeoutMs: 8000 });
    peer.send([text("back")]);
    await eventually(() => peer.messages.some((parts) => decode(parts[0]) === "back"), {
      timeoutMs: 3000,
    });
  }, 20_000);

  test("a frozen peer with a send backlog is dropped without leaving its TCP connection open", async () => {
    // Before the fix the dropped connection waited for a drain that a frozen peer never gives,
    // and stayed ESTABLISHED with every queued byte, even after close()
    const peer = cleanup.add(await libzmqRouter());
    const dealer = newDealer(cleanup, {
      security: curveClient(clientKeys, serverKeys.publicKey),
      heartbeatIntervalMs: 200,
      reconnectIntervalMs: 5000,
      reconnectIntervalMaxMs: 5000,
    });
    const log = new EventLog(dealer);
    dealer.connect(peer.endpoint);
    await eventually(() => dealer.connectedPeers === 1);
    const port = portOf(peer.endpoint);
    expect(await establishedTo(port)).toBe(1);

    peer.pause();
    // far more than the loopback socket buffers hold, so our queue is blocked on the kernel
    for (let i = 0; i < 32; i++) dealer.send([pattern(1024 * 1024, i)]);
    await eventually(() => log.of("disconnected")[0], { timeoutMs: 3000 });

    expect(await establishedTo(port)).toBe(0);
  });
});

/**
 * Our ESTABLISHED IPv4 connections to 127.0.0.1:`port`, from /proc/net/tcp (Linux). A socket
 * we closed with data unsent may linger in FIN_WAIT as a kernel orphan; that is the kernel's,
 * not ours, and is not counted.
 */
async function establishedTo(port: number): Promise<number> {
  const table = await Bun.file("/proc/net/tcp").text();
  const remote = `0100007F:${port.toString(16).toUpperCase().padStart(4, "0")}`;
  return table
    .split("\n")
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => fields[2] === remote && fields[3] === "01").length;
}
