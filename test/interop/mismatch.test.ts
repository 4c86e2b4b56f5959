/**
 * Peers that must never connect, against real libzmq (research §4.4, §7.2 negative cases 3–4):
 * a mechanism mismatch (NULL against CURVE) ends at the greeting, an incompatible Socket-Type
 * (REQ against DEALER, RFC 37 §2.3 / research §5.1) ends after INITIATE with a silent close. In
 * every case no data crosses and neither side reports a completed handshake.
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
  EventLog,
  newDealer,
  newRouter,
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

/** libzmq reports a failed handshake in one of these (which one depends on who closed first). */
const HANDSHAKE_ERRORS = ["handshake:error:protocol", "handshake:error:other", "disconnect"];

function libzmqGaveUp(peer: LibzmqPeer): boolean {
  return HANDSHAKE_ERRORS.some((type) => peer.socketEvents(type).length > 0);
}

describe("mechanism mismatch", () => {
  test("a libzmq NULL DEALER is closed by our CURVE ROUTER at the greeting, without data", async () => {
    const router = newRouter(cleanup, { security: curveServer(serverKeys, [clientKeys]) });
    const received: RouterMessage[] = [];
    router.onMessage((message) => received.push(message));
    const log = new EventLog(router);
    const endpoint = await router.bind("tcp://127.0.0.1:0");
    const peer = cleanup.add(
      await LibzmqPeer.start({ type: "dealer", connect: endpoint, reconnectInterval: 100 }),
    );
    peer.send([text("plaintext that must not arrive")]);
    const failure = await eventually(() => log.of("handshake_failed")[0]);
    await eventually(() => libzmqGaveUp(peer));

    // Ended in the greeting phase; whoever read the other's mechanism first closed (libzmq
    // holds back the last 53 bytes of its greeting until it has read our first 11)
    expect(failure.code).toBe("PROTOCOL");
    expect(failure.message).toMatch(/mechanism mismatch|closed/);
    expect(peer.socketEvents("handshake")).toHaveLength(0);
    expect(router.connectedPeers).toBe(0);
    expect(received).toHaveLength(0);
  });

  test("our CURVE DEALER is refused by a libzmq NULL ROUTER, without data", async () => {
    const peer = cleanup.add(await LibzmqPeer.start({ type: "router", bind: "tcp://127.0.0.1:0" }));
    const dealer = newDealer(cleanup, {
      security: curveClient(clientKeys, serverKeys.publicKey),
      reconnectIntervalMs: 100,
    });
    const log = new EventLog(dealer);
    dealer.send([text("must not arrive")]);
    dealer.connect(peer.endpoint);
    const failure = await eventually(() => log.of("handshake_failed")[0]);
    await eventually(() => libzmqGaveUp(peer));

    expect(failure.code).toBe("PROTOCOL");
    expect(failure.fatal).toBe(false);
    const protocolErrors = peer.socketEvents("handshake:error:protocol");
    if (protocolErrors.length > 0) {
      expect(protocolErrors[0]?.["error"]).toMatchObject({ code: "ERR_ZMTP_MECHANISM_MISMATCH" });
    }
    expect(peer.socketEvents("handshake")).toHaveLength(0);
    expect(dealer.connectedPeers).toBe(0);
    expect(peer.messages).toHaveLength(0);
  });
});

describe("socket-type mismatch (REQ and DEALER are incompatible)", () => {
  test("a libzmq REQ is closed by our bound CURVE DEALER after INITIATE, without data", async () => {
    const server = newDealer(cleanup, { security: curveServer(serverKeys, [clientKeys]) });
    const received: Uint8Array[][] = [];
    server.onMessage((parts) => received.push(parts));
    const log = new EventLog(server);
    const endpoint = await server.bind("tcp://127.0.0.1:0");
    const peer = cleanup.add(
      await LibzmqPeer.start({
        type: "req",
        connect: endpoint,
        reconnectInterval: 100,
        curve: {
          publicKey: clientKeys.publicZ85,
          secretKey: clientKeys.secretZ85,
          serverKey: serverKeys.publicZ85,
        },
      }),
    );
    peer.send([text("must not arrive")]);
    const failure = await eventually(() => log.of("handshake_failed")[0]);
    await eventually(() => libzmqGaveUp(peer));

    expect(failure.code).toBe("SOCKET_TYPE_MISMATCH");
    // a silent close, no ERROR: libzmq keeps retrying rather than reporting an auth failure
    expect(peer.socketEvents("handshake:error:auth")).toHaveLength(0);
    expect(peer.socketEvents("handshake")).toHaveLength(0);
    expect(log.count("handshake_succeeded")).toBe(0);
    expect(server.connectedPeers).toBe(0);
    expect(received).toHaveLength(0);
  });

  test("our CURVE DEALER is closed by a libzmq REQ server after INITIATE, without data", async () => {
    const peer = cleanup.add(
      await LibzmqPeer.start({
        type: "req",
        bind: "tcp://127.0.0.1:0",
        curve: { server: true, publicKey: serverKeys.publicZ85, secretKey: serverKeys.secretZ85 },
      }),
    );
    const dealer = newDealer(cleanup, {
      security: curveClient(clientKeys, serverKeys.publicKey),
      reconnectIntervalMs: 100,
    });
    const log = new EventLog(dealer);
    dealer.send([text("must not arrive")]);
    dealer.connect(peer.endpoint);
    const failure = await eventually(() => log.of("handshake_failed")[0]);
    await eventually(() => libzmqGaveUp(peer));

    expect(failure.fatal).toBe(false);
    expect(log.count("handshake_succeeded")).toBe(0);
    expect(peer.socketEvents("handshake")).toHaveLength(0);
    expect(dealer.connectedPeers).toBe(0);
    expect(peer.messages).toHaveLength(0);
  });
});
