/**
 * DEALER ⇄ ROUTER over CURVE against real libzmq 4.3.5 (zeromq.js under Node), both directions
 * (research §7.2 positive cases): multipart with empty and short/long-boundary parts, 1 MiB
 * messages, 10,000 messages in order, and routing ids from Identity versus generated ones.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { eventually } from "../../scripts/harness/eventually.ts";
import type { DealerSocket, RouterMessage, RouterSocket } from "../../shared/net/index.ts";
import { LibzmqPeer } from "./libzmq.ts";
import {
  Cleanup,
  type CurveKeys,
  curveClient,
  curveKeys,
  curveServer,
  decode,
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

/** Parts that cross every framing boundary: empty, 255 (short frame) and 256 (long frame). */
function boundaryParts(label: string): Uint8Array[] {
  return [text(label), new Uint8Array(0), pattern(255, 1), pattern(256, 2)];
}

/** Send on our socket, retrying while the high-water mark refuses (the app's job, not a drop). */
async function sendAll(send: (parts: Uint8Array[]) => boolean, messages: Uint8Array[][]) {
  for (const message of messages) {
    const deadline = performance.now() + 10_000;
    while (!send(message)) {
      if (performance.now() > deadline) throw new Error("send refused for 10 s");
      await Bun.sleep(1);
    }
  }
}

describe("our ROUTER with a libzmq DEALER (CURVE)", () => {
  async function setup(routingId?: string): Promise<{
    router: RouterSocket;
    peer: LibzmqPeer;
    received: RouterMessage[];
  }> {
    const router = newRouter(cleanup, { security: curveServer(serverKeys, [clientKeys]) });
    const received: RouterMessage[] = [];
    router.onMessage((message) => received.push(message));
    const endpoint = await router.bind("tcp://127.0.0.1:0");
    const peer = cleanup.add(
      await LibzmqPeer.start({
        type: "dealer",
        connect: endpoint,
        ...(routingId === undefined ? {} : { routingId }),
        curve: {
          publicKey: clientKeys.publicZ85,
          secretKey: clientKeys.secretZ85,
          serverKey: serverKeys.publicZ85,
        },
      }),
    );
    await peer.waitFor((record) => record["type"] === "handshake");
    return { router, peer, received };
  }

  test("multipart messages with empty, 255- and 256-byte parts arrive intact both ways", async () => {
    const { router, peer, received } = await setup();
    peer.send(boundaryParts("from libzmq"));
    await eventually(() => received.length === 1);
    const message = received[0] as RouterMessage;
    expect(message.parts).toEqual(boundaryParts("from libzmq"));
    expect(message.peer.publicKey).toEqual(clientKeys.publicKey);
    expect(message.peer.socketType).toBe("DEALER");

    expect(router.send(message.routingId, boundaryParts("from us"))).toBe(true);
    const [reply] = await peer.waitForMessages(1);
    expect(reply).toEqual(boundaryParts("from us"));
  });

  test("a 1 MiB message arrives intact both ways", async () => {
    const { router, peer, received } = await setup();
    const big = pattern(1024 * 1024, 3);
    peer.send([big]);
    await eventually(() => received.length === 1, { timeoutMs: 10_000 });
    expect(received[0]?.parts[0]).toEqual(big);

    const back = pattern(1024 * 1024, 4);
    expect(router.send((received[0] as RouterMessage).routingId, [back])).toBe(true);
    const [reply] = await peer.waitForMessages(1, 10_000);
    expect(reply?.[0]).toEqual(back);
  });

  test("10,000 messages arrive in order both ways", { timeout: 60_000 }, async () => {
    const { router, peer, received } = await setup();
    peer.burst(10_000, "up-");
    await eventually(() => received.length === 10_000, { timeoutMs: 20_000 });
    expect(received.map((message) => decode(message.parts[0]))).toEqual(
      Array.from({ length: 10_000 }, (_, i) => `up-${i}`),
    );

    const routingId = (received[0] as RouterMessage).routingId;
    const messages = Array.from({ length: 10_000 }, (_, i) => [text(`down-${i}`)]);
    await sendAll((parts) => router.send(routingId, parts), messages);
    const got = await peer.waitForMessages(10_000, 20_000);
    expect(got.map((parts) => decode(parts[0]))).toEqual(
      Array.from({ length: 10_000 }, (_, i) => `down-${i}`),
    );
  });

  test("the peer's routing id is its Identity when set", async () => {
    const { received, peer } = await setup("lib-dealer-1");
    peer.send([text("hi")]);
    await eventually(() => received.length === 1);
    expect(decode(received[0]?.routingId)).toBe("lib-dealer-1");
    expect(decode(received[0]?.peer.identity)).toBe("lib-dealer-1");
  });

  test("without an Identity the router generates a 5-byte id starting with 0x00", async () => {
    const { router, received, peer } = await setup();
    peer.send([text("hi")]);
    await eventually(() => received.length === 1);
    const id = received[0]?.routingId as Uint8Array;
    expect(id.length).toBe(5);
    expect(id[0]).toBe(0);
    // and that generated id routes a reply back
    expect(router.send(id, [text("back")])).toBe(true);
    const [reply] = await peer.waitForMessages(1);
    expect(decode(reply?.[0])).toBe("back");
  });
});

describe("our DEALER with a libzmq ROUTER (CURVE)", () => {
  async function setup(identity?: string): Promise<{
    dealer: DealerSocket;
    peer: LibzmqPeer;
    received: Uint8Array[][];
  }> {
    const peer = cleanup.add(
      await LibzmqPeer.start({
        type: "router",
        bind: "tcp://127.0.0.1:0",
        curve: { server: true, publicKey: serverKeys.publicZ85, secretKey: serverKeys.secretZ85 },
        // A libzmq ROUTER silently drops at its high-water mark (1000); mandatory makes a burst
        // wait for room instead, so every message of the ordering test is really sent
        options: { mandatory: true },
      }),
    );
    const dealer = newDealer(cleanup, {
      security: curveClient(clientKeys, serverKeys.publicKey),
      ...(identity === undefined ? {} : { identity: text(identity) }),
    });
    const received: Uint8Array[][] = [];
    dealer.onMessage((parts) => received.push(parts));
    dealer.connect(peer.endpoint);
    await eventually(() => dealer.connectedPeers === 1);
    return { dealer, peer, received };
  }

  test("multipart messages with empty, 255- and 256-byte parts arrive intact both ways", async () => {
    const { dealer, peer, received } = await setup();
    expect(dealer.send(boundaryParts("from us"))).toBe(true);
    const [message] = await peer.waitForMessages(1);
    const [routingId, ...parts] = message as Uint8Array[];
    expect(parts).toEqual(boundaryParts("from us"));

    peer.send([routingId as Uint8Array, ...boundaryParts("from libzmq")]);
    await eventually(() => received.length === 1);
    expect(received[0]).toEqual(boundaryParts("from libzmq"));
  });

  test("a 1 MiB message arrives intact both ways", async () => {
    const { dealer, peer, received } = await setup();
    const big = pattern(1024 * 1024, 5);
    expect(dealer.send([big])).toBe(true);
    const [message] = await peer.waitForMessages(1, 10_000);
    expect(message?.[1]).toEqual(big);

    const back = pattern(1024 * 1024, 6);
    peer.send([message?.[0] as Uint8Array, back]);
    await eventually(() => received.length === 1, { timeoutMs: 10_000 });
    expect(received[0]?.[0]).toEqual(back);
  });

  test("10,000 messages arrive in order both ways", { timeout: 60_000 }, async () => {
    const { dealer, peer, received } = await setup("ts-dealer");
    const messages = Array.from({ length: 10_000 }, (_, i) => [text(`up-${i}`)]);
    await sendAll((parts) => dealer.send(parts), messages);
    const got = await peer.waitForMessages(10_000, 20_000);
    expect(got.map((parts) => decode(parts[1]))).toEqual(
      Array.from({ length: 10_000 }, (_, i) => `up-${i}`),
    );

    // A libzmq ROUTER routes by the first frame: our identity heads every burst message
    peer.burst(10_000, "down-", ["ts-dealer"]);
    await eventually(() => received.length === 10_000, { timeoutMs: 30_000 });
    expect(received.map((parts) => decode(parts[0]))).toEqual(
      Array.from({ length: 10_000 }, (_, i) => `down-${i}`),
    );
  });

  test("our Identity becomes the libzmq ROUTER's routing id when set", async () => {
    const { dealer, peer, received } = await setup("ts-dealer-1");
    dealer.send([text("hi")]);
    const [message] = await peer.waitForMessages(1);
    expect(decode(message?.[0])).toBe("ts-dealer-1");
    peer.send([text("ts-dealer-1"), text("routed by identity")]);
    await eventually(() => received.length === 1);
    expect(decode(received[0]?.[0])).toBe("routed by identity");
  });

  test("without an Identity libzmq generates a 5-byte id starting with 0x00", async () => {
    const { dealer, peer } = await setup();
    dealer.send([text("hi")]);
    const [message] = await peer.waitForMessages(1);
    expect(message?.[0]?.length).toBe(5);
    expect(message?.[0]?.[0]).toBe(0);
  });
});
