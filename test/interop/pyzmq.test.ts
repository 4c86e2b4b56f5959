/**
 * The second libzmq oracle (research §7.2): Debian's python3-zmq (pyzmq 24, libzmq 4.3.4, run
 * with /usr/bin/python3), driven by pyzmq-peer.py. A different libzmq build and binding from
 * zeromq.js, so agreement with both is good evidence the wire format is libzmq's, not one
 * binding's. Authentication on the pyzmq side uses zmq.auth's ThreadAuthenticator (ZAP, RFC 27).
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { eventually } from "../../scripts/harness/eventually.ts";
import { z85Encode } from "../../shared/curve/z85.ts";
import type { RouterMessage } from "../../shared/net/index.ts";
import { LibzmqPeer, type LibzmqPeerConfig } from "./libzmq.ts";
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

async function pyzmq(config: LibzmqPeerConfig): Promise<LibzmqPeer> {
  return cleanup.add(await LibzmqPeer.start(config, { runtime: "pyzmq" }));
}

const multipart = (label: string): Uint8Array[] => [
  text(label),
  new Uint8Array(0),
  pattern(255, 8),
  pattern(256, 9),
  pattern(70_000, 10),
];

describe("pyzmq DEALER with our ROUTER (CURVE)", () => {
  async function connectedPair(keys: CurveKeys) {
    const router = newRouter(cleanup, { security: curveServer(serverKeys, [clientKeys]) });
    const received: RouterMessage[] = [];
    router.onMessage((message) => received.push(message));
    const log = new EventLog(router);
    const endpoint = await router.bind("tcp://127.0.0.1:0");
    const peer = await pyzmq({
      type: "dealer",
      connect: endpoint,
      reconnectInterval: 100,
      curve: {
        publicKey: keys.publicZ85,
        secretKey: keys.secretZ85,
        serverKey: serverKeys.publicZ85,
      },
    });
    return { router, received, log, peer };
  }

  test("multipart messages and 1,000 numbered messages arrive intact and in order both ways", async () => {
    const { router, received, peer } = await connectedPair(clientKeys);
    peer.send(multipart("from pyzmq"));
    await eventually(() => received.length === 1, { timeoutMs: 5000 });
    const first = received[0] as RouterMessage;
    expect(first.parts).toEqual(multipart("from pyzmq"));
    expect(first.peer.publicKey).toEqual(clientKeys.publicKey);

    expect(router.send(first.routingId, multipart("from us"))).toBe(true);
    const [reply] = await peer.waitForMessages(1);
    expect(reply).toEqual(multipart("from us"));

    peer.burst(1000, "n-");
    await eventually(() => received.length === 1001, { timeoutMs: 10_000 });
    expect(received.slice(1).map((message) => decode(message.parts[0]))).toEqual(
      Array.from({ length: 1000 }, (_, i) => `n-${i}`),
    );

    // 1,000 is our ROUTER's high-water mark: send in steps so none is refused
    for (let i = 0; i < 1000; i++) {
      while (!router.send(first.routingId, [text(`m-${i}`)])) await Bun.sleep(1);
    }
    const got = await peer.waitForMessages(1001, 10_000);
    expect(got.slice(1).map((parts) => decode(parts[0]))).toEqual(
      Array.from({ length: 1000 }, (_, i) => `m-${i}`),
    );
  });

  test("an unlisted key gets ERROR 400: pyzmq reports auth failure 400 and does not reconnect", async () => {
    const { router, received, log, peer } = await connectedPair(curveKeys());
    peer.send([text("must not arrive")]);
    const failure = await peer.waitFor((record) => record["type"] === "handshake:error:auth");
    expect(failure["error"]).toMatchObject({ status: 400 });
    await Bun.sleep(1500);

    expect(peer.socketEvents("connect").length).toBeLessThanOrEqual(1);
    expect(peer.socketEvents("connect:retry")).toHaveLength(0);
    expect(log.count("refused_key")).toBe(1);
    expect(router.connectedPeers).toBe(0);
    expect(received).toHaveLength(0);
  });
});

describe("our DEALER with a pyzmq ROUTER (CURVE)", () => {
  async function pyzmqRouter(allowed: CurveKeys[]): Promise<LibzmqPeer> {
    return pyzmq({
      type: "router",
      bind: "tcp://127.0.0.1:0",
      curve: { server: true, publicKey: serverKeys.publicZ85, secretKey: serverKeys.secretZ85 },
      zap: { allow: allowed.map((keys) => keys.publicZ85) },
    });
  }

  test("a listed client exchanges multipart messages both ways", async () => {
    const peer = await pyzmqRouter([clientKeys]);
    const dealer = newDealer(cleanup, {
      security: curveClient(clientKeys, serverKeys.publicKey),
      identity: text("ts-1"),
    });
    const received: Uint8Array[][] = [];
    dealer.onMessage((parts) => received.push(parts));
    dealer.connect(peer.endpoint);
    dealer.send(multipart("from us"));
    const [message] = await peer.waitForMessages(1);
    expect(decode(message?.[0])).toBe("ts-1");
    expect(message?.slice(1)).toEqual(multipart("from us"));

    peer.send([text("ts-1"), ...multipart("from pyzmq")]);
    await eventually(() => received.length === 1);
    expect(received[0]).toEqual(multipart("from pyzmq"));
    expect(peer.records.find((record) => record.ev === "zap")).toMatchObject({
      key: clientKeys.publicZ85,
      status: 200,
    });
  });

  test("an unlisted client gets ERROR 400 from the authenticator and stops reconnecting", async () => {
    const peer = await pyzmqRouter([curveKeys()]);
    const dealer = newDealer(cleanup, {
      security: curveClient(clientKeys, serverKeys.publicKey),
      reconnectIntervalMs: 50,
      reconnectIntervalMaxMs: 100,
    });
    const log = new EventLog(dealer);
    dealer.connect(peer.endpoint);
    const failure = await eventually(() => log.of("handshake_failed")[0], { timeoutMs: 5000 });
    await Bun.sleep(1000);

    expect(failure.code).toBe("ERROR_RECEIVED");
    expect(failure.fatal).toBe(true);
    expect(failure.message).toMatch(/400/);
    expect(log.count("reconnecting")).toBe(0);
    expect(peer.socketEvents("accept")).toHaveLength(1);
    expect(
      peer.records.filter((record) => record.ev === "zap").map((record) => record["key"]),
    ).toEqual([z85Encode(clientKeys.publicKey)]);
  });
});
