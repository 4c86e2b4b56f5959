/**
 * CVE-class tests, research §7.4 and §8, against our CURVE ROUTER over real TCP:
 * - downgrade (CVE-2014-7202, CVE-2014-9721): ZMTP 1.0 and 2.0 greetings, and ZMTP 3 greetings
 *   announcing NULL or PLAIN to a CURVE server, are closed with no READY and no data delivered;
 * - size overflow (CVE-2019-6250): long-frame sizes 2^63−1, 2^64−1, 2^53+1 and just over the
 *   cap, before and after the handshake, close the connection on the header alone, before any
 *   body arrives and without trying to allocate it.
 *
 * "Without allocating" is observed directly with closedWithoutAllocating (allocation-probe.ts).
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { eventually } from "../../scripts/harness/eventually.ts";
import { curveHandshake, RawZmtp } from "../../scripts/harness/raw-zmtp.ts";
import { CurveClient } from "../../shared/curve/curve-client.ts";
import type { RouterMessage, RouterSocket } from "../../shared/net/index.ts";
import { MAX_HANDSHAKE_FRAME_BYTES } from "../../shared/net/options.ts";
import { encodeFrame } from "../../shared/zmtp/frame.ts";
import { encodeGreeting } from "../../shared/zmtp/greeting.ts";
import {
  Cleanup,
  type CurveKeys,
  curveKeys,
  curveServer,
  decode,
  EventLog,
  newRouter,
  pattern,
  portOf,
  text,
} from "../interop/support.ts";
import { closedWithoutAllocating } from "./allocation-probe.ts";

const cleanup = new Cleanup();
let serverKeys: CurveKeys;
let clientKeys: CurveKeys;

beforeEach(() => {
  serverKeys = curveKeys();
  clientKeys = curveKeys();
});
afterEach(() => cleanup.run());

/** How long the server may take to react to bytes it can reject outright. */
const PROMPT_MS = 2000;

interface Server {
  readonly router: RouterSocket;
  readonly port: number;
  readonly log: EventLog;
  readonly received: RouterMessage[];
}

async function server(maxMessageSize?: number): Promise<Server> {
  const router = newRouter(cleanup, {
    security: curveServer(serverKeys, [clientKeys]),
    ...(maxMessageSize === undefined ? {} : { maxMessageSize }),
  });
  const received: RouterMessage[] = [];
  router.onMessage((message) => received.push(message));
  const log = new EventLog(router);
  const port = portOf(await router.bind("tcp://127.0.0.1:0"));
  return { router, port, log, received };
}

function longFrameHeader(flags: number, size: bigint): Uint8Array {
  const header = new Uint8Array(9);
  header[0] = flags | 0x02;
  new DataView(header.buffer).setBigUint64(1, size);
  return header;
}

const ascii = (value: string): Uint8Array => new TextEncoder().encode(value);

/** A ZMTP 3.0 greeting with any mechanism name (ours only encodes NULL and CURVE). */
function greetingWith(mechanism: string): Uint8Array {
  const greeting = encodeGreeting("NULL", false);
  greeting.fill(0, 12, 32);
  greeting.set(ascii(mechanism), 12);
  return greeting;
}

const DOWNGRADES: ReadonlyArray<readonly [string, Uint8Array]> = [
  // ZMTP 1.0: the stream starts with an identity frame (length, flags, body), then messages
  ["ZMTP 1.0 (no signature)", Uint8Array.from([0x01, 0x00, 0x03, 0x00, 0x68, 0x69])],
  // ZMTP 2.0: signature, revision 1, socket type DEALER, then an identity frame
  [
    "ZMTP 2.0 (revision 1)",
    Uint8Array.from([0xff, 0, 0, 0, 0, 0, 0, 0, 1, 0x7f, 0x01, 0x05, 0x00, 0x00]),
  ],
  // ZMTP 3.0 with NULL: greeting, a NULL READY with DEALER metadata, then a plaintext message
  [
    "ZMTP 3.0 with NULL",
    Buffer.concat([
      greetingWith("NULL"),
      encodeFrame(
        0x04,
        Uint8Array.from([
          5,
          ...ascii("READY"),
          11,
          ...ascii("Socket-Type"),
          0,
          0,
          0,
          6,
          ...ascii("DEALER"),
        ]),
      ),
      encodeFrame(0, ascii("plaintext")),
    ]),
  ],
  // ZMTP 3.0 with PLAIN: greeting and a PLAIN HELLO (username, password)
  [
    "ZMTP 3.0 with PLAIN",
    Buffer.concat([
      greetingWith("PLAIN"),
      encodeFrame(0x04, Uint8Array.from([5, ...ascii("HELLO"), 4, ...ascii("user"), 0])),
    ]),
  ],
];

describe("downgrade attempts against a CURVE server", () => {
  test.each(DOWNGRADES)("%s is closed with no READY and nothing delivered", async (_, bytes) => {
    const { router, port, log, received } = await server();
    const raw = cleanup.add(await RawZmtp.connect(port));
    raw.write(bytes);

    expect(await raw.waitClosed(PROMPT_MS)).toBe(true);
    // our own greeting at most, and no frame after it
    expect(raw.receivedBytes).toBeLessThanOrEqual(64);
    expect(raw.frames).toHaveLength(0);
    await eventually(() => log.of("handshake_failed")[0]);
    expect(log.of("handshake_failed")[0]?.code).toBe("PROTOCOL");
    expect(log.count("handshake_succeeded")).toBe(0);
    expect(router.connectedPeers).toBe(0);
    expect(received).toHaveLength(0);
  });
});

/** Sizes that must be refused from the 9-byte header alone. */
const HOSTILE_SIZES: ReadonlyArray<readonly [string, bigint]> = [
  ["2^63 - 1", 2n ** 63n - 1n],
  ["2^64 - 1", 2n ** 64n - 1n],
  ["2^53 + 1", 2n ** 53n + 1n],
];

describe("frame sizes before the handshake", () => {
  const cases: ReadonlyArray<readonly [string, bigint]> = [
    ...HOSTILE_SIZES,
    ["the handshake cap + 1", BigInt(MAX_HANDSHAKE_FRAME_BYTES + 1)],
  ];

  test.each(cases)(
    "a command frame announcing %s bytes is refused on its header",
    async (_, size) => {
      const { port, log } = await server();
      const raw = cleanup.add(await RawZmtp.connect(port));
      raw.write(encodeGreeting("CURVE", false));
      await raw.greeting();

      expect(await closedWithoutAllocating(raw, longFrameHeader(0x04, size))).toEqual([]);
      expect(raw.frames).toHaveLength(0);
      await eventually(() => log.of("handshake_failed")[0]);
      expect(log.of("handshake_failed")[0]?.message).toMatch(/frame size/);
    },
  );
});

describe("frame sizes after the handshake", () => {
  // A large limit, so a decoder that allocated before checking would visibly take 256 MiB
  const BIG_LIMIT = 256 * 1024 * 1024;

  async function authenticated(maxMessageSize: number) {
    const target = await server(maxMessageSize);
    const raw = cleanup.add(await RawZmtp.connect(target.port));
    const client = new CurveClient({
      socketType: "DEALER",
      publicKey: clientKeys.publicKey,
      secretKey: clientKeys.secretKey,
      serverKey: serverKeys.publicKey,
    });
    await curveHandshake(raw, client);
    await eventually(() => target.router.connectedPeers === 1);
    return { ...target, raw, client };
  }

  const cases: ReadonlyArray<readonly [string, bigint]> = [
    ...HOSTILE_SIZES,
    // the session allows maxMessageSize plus 64 bytes of CURVE envelope per frame
    ["maxMessageSize + 65", BigInt(BIG_LIMIT + 65)],
  ];

  test.each(cases)("a frame announcing %s bytes is refused on its header", async (_, size) => {
    const { router, raw, log, received } = await authenticated(BIG_LIMIT);

    expect(await closedWithoutAllocating(raw, longFrameHeader(0, size))).toEqual([]);
    const dropped = await eventually(() => log.of("disconnected")[0]);
    expect(dropped.reason).toMatch(/frame size/);
    expect(router.connectedPeers).toBe(0);
    expect(received).toHaveLength(0);
  });

  test("a message of maxMessageSize bytes is delivered and one of maxMessageSize + 1 closes the link", async () => {
    const limit = 64 * 1024;
    const { router, raw, client, log, received } = await authenticated(limit);
    const fits = client.encode(pattern(limit, 11), false, false);
    raw.write(encodeFrame(fits.flags, fits.body));
    await eventually(() => received.length === 1);
    expect(received[0]?.parts[0]).toEqual(pattern(limit, 11));

    const tooBig = client.encode(pattern(limit + 1, 12), false, false);
    raw.write(encodeFrame(tooBig.flags, tooBig.body));
    expect(await raw.waitClosed(PROMPT_MS)).toBe(true);
    const dropped = await eventually(() => log.of("disconnected")[0]);
    expect(dropped.reason).toMatch(/exceeds/);
    expect(received).toHaveLength(1);
    expect(router.connectedPeers).toBe(0);
  });

  test("a connection that is refused does not affect another authenticated peer", async () => {
    const { router, raw, port, received } = await authenticated(BIG_LIMIT);
    const other = cleanup.add(await RawZmtp.connect(port));
    const otherClient = new CurveClient({
      socketType: "DEALER",
      publicKey: clientKeys.publicKey,
      secretKey: clientKeys.secretKey,
      serverKey: serverKeys.publicKey,
    });
    await curveHandshake(other, otherClient);
    raw.write(longFrameHeader(0, 2n ** 64n - 1n));
    expect(await raw.waitClosed(PROMPT_MS)).toBe(true);

    const message = otherClient.encode(text("unaffected"), false, false);
    other.write(encodeFrame(message.flags, message.body));
    await eventually(() => received.length === 1);
    expect(decode(received[0]?.parts[0])).toBe("unaffected");
    expect(router.connectedPeers).toBe(1);
  });
});
