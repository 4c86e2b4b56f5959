/**
 * REQ/REP envelopes against real libzmq (RFC 28, research §5.2 and §7.2 "REQ ↔ ROUTER",
 * "DEALER ↔ REP"): a libzmq REQ's request reaches our ROUTER as [id, "", body] and the reply must
 * be [id, "", reply]; our DEALER talking to a libzmq REP must add and strip the empty delimiter
 * itself, and a request without one is silently discarded by REP.
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

describe("a libzmq REQ with our ROUTER (CURVE)", () => {
  test("requests arrive as ['', body] after the routing id and replies need the same envelope", async () => {
    const router = newRouter(cleanup, { security: curveServer(serverKeys, [clientKeys]) });
    const received: RouterMessage[] = [];
    router.onMessage((message) => {
      received.push(message);
      const [delimiter, body] = message.parts;
      router.send(message.routingId, [delimiter as Uint8Array, text(`re: ${decode(body)}`)]);
    });
    const endpoint = await router.bind("tcp://127.0.0.1:0");
    const peer = cleanup.add(
      await LibzmqPeer.start({
        type: "req",
        connect: endpoint,
        curve: {
          publicKey: clientKeys.publicZ85,
          secretKey: clientKeys.secretZ85,
          serverKey: serverKeys.publicZ85,
        },
      }),
    );

    // Strict lock-step: the second request goes only after the first reply
    peer.send([text("one")]);
    await peer.waitForMessages(1);
    peer.send([text("two")]);
    const replies = await peer.waitForMessages(2);

    expect(received.map((message) => message.parts.map(decode))).toEqual([
      ["", "one"],
      ["", "two"],
    ]);
    expect(received[0]?.peer.socketType).toBe("REQ");
    // zeromq.js's REQ strips the delimiter before handing the reply to the application
    expect(replies.map((parts) => parts.map(decode))).toEqual([["re: one"], ["re: two"]]);
  });
});

describe("our DEALER with a libzmq REP (CURVE)", () => {
  test("sends ['', body], receives ['', reply], and a request without the delimiter is discarded", async () => {
    const peer = cleanup.add(
      await LibzmqPeer.start({
        type: "rep",
        bind: "tcp://127.0.0.1:0",
        echo: true,
        curve: { server: true, publicKey: serverKeys.publicZ85, secretKey: serverKeys.secretZ85 },
      }),
    );
    const dealer = newDealer(cleanup, { security: curveClient(clientKeys, serverKeys.publicKey) });
    const replies: Uint8Array[][] = [];
    const peerTypes: string[] = [];
    dealer.onMessage((parts, peerInfo) => {
      peerTypes.push(peerInfo.socketType);
      replies.push(parts);
    });
    dealer.connect(peer.endpoint);
    await eventually(() => dealer.connectedPeers === 1);

    // REP drops a message with no empty delimiter (research §5.2); the next one still works
    dealer.send([text("no envelope")]);
    dealer.send([new Uint8Array(0), text("with envelope")]);
    const [request] = await peer.waitForMessages(1);
    await eventually(() => replies.length === 1);

    expect(request?.map(decode)).toEqual(["with envelope"]);
    expect(replies[0]?.map(decode)).toEqual(["", "with envelope"]);
    expect(peerTypes).toEqual(["REP"]);
    await Bun.sleep(100);
    expect(peer.messages).toHaveLength(1);
  });
});
