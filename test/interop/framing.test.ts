/**
 * Wire details that only real libzmq can confirm (research §0 key conclusions, §7.2 #6 and #8):
 * - CURVE MESSAGE must travel in a frame whose COMMAND bit is clear: libzmq ≥ 4.3.3 with
 *   libsodium silently drops data that arrives in a command-flagged frame. This regression test
 *   documents why our codec sends outer flags 0x00.
 * - libzmq releases its greeting in stages (10, 1, 53 bytes); a relay that dribbles every byte
 *   separately, both ways, must not stop either side from completing the handshake.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import type { Socket, TCPSocketListener } from "bun";
import { eventually } from "../../scripts/harness/eventually.ts";
import { curveHandshake, RawZmtp } from "../../scripts/harness/raw-zmtp.ts";
import { CurveClient } from "../../shared/curve/curve-client.ts";
import type { RouterMessage } from "../../shared/net/index.ts";
import { encodeFrame } from "../../shared/zmtp/frame.ts";
import { FrameFlag } from "../../shared/zmtp/mechanism.ts";
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

function handClient(): CurveClient {
  return new CurveClient({
    socketType: "DEALER",
    publicKey: clientKeys.publicKey,
    secretKey: clientKeys.secretKey,
    serverKey: serverKeys.publicKey,
  });
}

describe("CURVE MESSAGE framing against libzmq", () => {
  test("a MESSAGE inside a COMMAND-flagged frame is dropped by libzmq; with flags 0x00 it is delivered", async () => {
    const peer = cleanup.add(
      await LibzmqPeer.start({
        type: "router",
        bind: "tcp://127.0.0.1:0",
        curve: { server: true, publicKey: serverKeys.publicZ85, secretKey: serverKeys.secretZ85 },
      }),
    );
    const raw = cleanup.add(await RawZmtp.connect(portOf(peer.endpoint)));
    const client = handClient();
    await curveHandshake(raw, client);

    // Same codec, same nonce sequence; only the outer ZMTP flags differ
    const wrong = client.encode(text("in a command frame"), false, false);
    raw.write(encodeFrame(FrameFlag.COMMAND, wrong.body));
    const right = client.encode(text("in a message frame"), false, false);
    expect(right.flags).toBe(0);
    raw.write(encodeFrame(right.flags, right.body));

    // In-order delivery on one connection: once the second is in, the first was processed
    const [message] = await peer.waitForMessages(1);
    expect(decode(message?.[1])).toBe("in a message frame");
    await Bun.sleep(100);
    expect(peer.messages).toHaveLength(1);
    expect(raw.closed).toBe(false);
  });

  test("our ROUTER accepts a MESSAGE in either kind of frame, taking flags from the inner byte", async () => {
    const router = newRouter(cleanup, { security: curveServer(serverKeys, [clientKeys]) });
    const received: RouterMessage[] = [];
    router.onMessage((message) => received.push(message));
    const endpoint = await router.bind("tcp://127.0.0.1:0");
    const raw = cleanup.add(await RawZmtp.connect(portOf(endpoint)));
    const client = handClient();
    await curveHandshake(raw, client);

    const first = client.encode(text("command-flagged"), false, false);
    raw.write(encodeFrame(FrameFlag.COMMAND, first.body));
    const second = client.encode(text("plain"), false, false);
    raw.write(encodeFrame(0, second.body));
    await eventually(() => received.length === 2);
    expect(received.map((message) => decode(message.parts[0]))).toEqual([
      "command-flagged",
      "plain",
    ]);
  });
});

/**
 * A TCP relay that forwards the first `dribbleBytes` of each direction one byte per write, each
 * write a timer tick apart (Nagle off), so the receiver sees 1-byte reads; the rest flows as is.
 */
class DribbleRelay {
  readonly singleByteWrites = { toServer: 0, toClient: 0 };
  #listener: TCPSocketListener<undefined> | undefined;
  readonly #sockets = new Set<Socket<undefined>>();

  static start(targetPort: number, dribbleBytes: number): DribbleRelay {
    const relay = new DribbleRelay();
    relay.#listener = Bun.listen<undefined>({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        binaryType: "uint8array",
        open: (client) => relay.#open(client, targetPort, dribbleBytes),
        data: (client, chunk) => relay.#toServer.get(client)?.(chunk),
        close: (client) => relay.#closeBoth(client),
        error: (client) => relay.#closeBoth(client),
      },
    });
    return relay;
  }

  get port(): number {
    return this.#listener?.port ?? 0;
  }

  readonly #toServer = new Map<Socket<undefined>, (chunk: Uint8Array) => void>();
  readonly #partner = new Map<Socket<undefined>, Socket<undefined>>();

  #open(client: Socket<undefined>, targetPort: number, dribbleBytes: number): void {
    client.setNoDelay(true);
    this.#sockets.add(client);
    const early: Uint8Array[] = [];
    this.#toServer.set(client, (chunk) => early.push(chunk));
    void Bun.connect<undefined>({
      hostname: "127.0.0.1",
      port: targetPort,
      socket: {
        binaryType: "uint8array",
        data: (_server, chunk) => toClient(chunk),
        close: (server) => this.#closeBoth(server),
        error: (server) => this.#closeBoth(server),
      },
    }).then((server) => {
      server.setNoDelay(true);
      this.#sockets.add(server);
      this.#partner.set(client, server);
      this.#partner.set(server, client);
      const toServer = this.#pump(server, dribbleBytes, "toServer");
      this.#toServer.set(client, toServer);
      for (const chunk of early) toServer(chunk);
    });
    const toClient = this.#pump(client, dribbleBytes, "toClient");
  }

  /** Returns the function that accepts bytes for `target`, dribbling the first ones. */
  #pump(
    target: Socket<undefined>,
    dribbleBytes: number,
    direction: "toServer" | "toClient",
  ): (chunk: Uint8Array) => void {
    const queue: number[] = [];
    let dribbled = 0;
    let running = false;
    const run = async (): Promise<void> => {
      running = true;
      while (queue.length > 0 && dribbled < dribbleBytes) {
        target.write(new Uint8Array([queue.shift() as number]));
        dribbled += 1;
        this.singleByteWrites[direction] += 1;
        await Bun.sleep(1);
      }
      if (queue.length > 0) target.write(new Uint8Array(queue.splice(0)));
      running = false;
    };
    return (chunk) => {
      if (dribbled >= dribbleBytes && !running) {
        target.write(chunk);
        return;
      }
      for (const byte of chunk) queue.push(byte);
      if (!running) void run();
    };
  }

  #closeBoth(socket: Socket<undefined>): void {
    this.#sockets.delete(socket);
    const partner = this.#partner.get(socket);
    if (partner !== undefined && this.#sockets.has(partner)) {
      this.#sockets.delete(partner);
      partner.end();
    }
  }

  close(): void {
    this.#listener?.stop(true);
    for (const socket of this.#sockets) socket.terminate();
    this.#sockets.clear();
  }
}

describe("greeting staging through a byte-by-byte relay", () => {
  // Greeting (64) + WELCOME (170) + READY (~67) one way, greeting + HELLO (202) + INITIATE the
  // other: 600 bytes covers every handshake byte in both directions
  const DRIBBLE_BYTES = 600;

  test("our DEALER completes a CURVE handshake with a libzmq ROUTER and exchanges messages", async () => {
    const peer = cleanup.add(
      await LibzmqPeer.start({
        type: "router",
        bind: "tcp://127.0.0.1:0",
        echo: true,
        curve: { server: true, publicKey: serverKeys.publicZ85, secretKey: serverKeys.secretZ85 },
      }),
    );
    const relay = cleanup.add(DribbleRelay.start(portOf(peer.endpoint), DRIBBLE_BYTES));
    const dealer = newDealer(cleanup, { security: curveClient(clientKeys, serverKeys.publicKey) });
    const replies: Uint8Array[][] = [];
    dealer.onMessage((parts) => replies.push(parts));
    dealer.connect(`tcp://127.0.0.1:${relay.port}`);
    dealer.send([text("through the relay")]);
    await eventually(() => replies.length === 1, { timeoutMs: 10_000 });

    expect(decode(replies[0]?.[0])).toBe("through the relay");
    expect(relay.singleByteWrites.toClient).toBeGreaterThanOrEqual(64 + 170);
    expect(relay.singleByteWrites.toServer).toBeGreaterThanOrEqual(64 + 202);
    expect(peer.socketEvents("handshake")).toHaveLength(1);
  }, 20_000);

  test("a libzmq DEALER completes a CURVE handshake with our ROUTER and exchanges messages", async () => {
    const router = newRouter(cleanup, { security: curveServer(serverKeys, [clientKeys]) });
    router.onMessage((message) => router.send(message.routingId, message.parts));
    const endpoint = await router.bind("tcp://127.0.0.1:0");
    const relay = cleanup.add(DribbleRelay.start(portOf(endpoint), DRIBBLE_BYTES));
    const peer = cleanup.add(
      await LibzmqPeer.start({
        type: "dealer",
        connect: `tcp://127.0.0.1:${relay.port}`,
        curve: {
          publicKey: clientKeys.publicZ85,
          secretKey: clientKeys.secretZ85,
          serverKey: serverKeys.publicZ85,
        },
      }),
    );
    peer.send([text("through the relay")]);
    const [reply] = await peer.waitForMessages(1, 10_000);

    expect(decode(reply?.[0])).toBe("through the relay");
    expect(relay.singleByteWrites.toClient).toBeGreaterThanOrEqual(64 + 170);
    expect(relay.singleByteWrites.toServer).toBeGreaterThanOrEqual(64 + 202);
    expect(router.connectedPeers).toBe(1);
  }, 20_000);
});
