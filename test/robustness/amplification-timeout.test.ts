/**
 * Before authentication a CURVE server must not amplify traffic and must not wait forever
 * (research §7.4 "Amplification", §7.2 #5 "Handshake timeout", RFC 26 §2.6: HELLO is padded so
 * that WELCOME is smaller):
 * - it never sends more bytes than it received: 64 against 64, then 170 against 202, and a
 *   refusal (ERROR "400", 12 bytes) against the much larger INITIATE;
 * - a connection that stalls after 10 bytes, after the greeting, or after HELLO is closed at
 *   the configured handshake timeout.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { eventually } from "../../scripts/harness/eventually.ts";
import { dealerMetadata, HandCurveClient } from "../../scripts/harness/hand-curve.ts";
import { commandFrame, RawZmtp } from "../../scripts/harness/raw-zmtp.ts";
import type { RouterSocket } from "../../shared/net/index.ts";
import { encodeGreeting } from "../../shared/zmtp/greeting.ts";
import {
  Cleanup,
  type CurveKeys,
  curveKeys,
  curveServer,
  EventLog,
  newRouter,
  portOf,
} from "../interop/support.ts";

const cleanup = new Cleanup();
let serverKeys: CurveKeys;
let clientKeys: CurveKeys;

beforeEach(() => {
  serverKeys = curveKeys();
  clientKeys = curveKeys();
});
afterEach(() => cleanup.run());

const HANDSHAKE_TIMEOUT_MS = 400;

async function server(): Promise<{ router: RouterSocket; log: EventLog; port: number }> {
  // clientKeys is the only listed key; the tests below use unlisted ones where noted
  const router = newRouter(cleanup, {
    security: curveServer(serverKeys, [clientKeys]),
    handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS,
  });
  const log = new EventLog(router);
  const port = portOf(await router.bind("tcp://127.0.0.1:0"));
  return { router, log, port };
}

/** Give the server time to answer (or to stay quiet). */
const settle = (): Promise<void> => Bun.sleep(100);

describe("no amplification before authentication", () => {
  test("64 bytes answer our greeting, 170 our HELLO, 12 (ERROR 400) our refused INITIATE", async () => {
    const { port } = await server();
    const raw = cleanup.add(await RawZmtp.connect(port));
    const client = new HandCurveClient(curveKeys(), serverKeys.publicKey);

    raw.write(encodeGreeting("CURVE", false));
    await raw.greeting();
    await settle();
    expect(raw.sentBytes).toBe(64);
    expect(raw.receivedBytes).toBe(64);

    raw.write(commandFrame(client.hello()));
    const welcome = await raw.frame();
    client.welcome(welcome.body);
    await settle();
    expect(raw.sentBytes).toBe(64 + 202);
    expect(welcome.body.length + 2).toBe(170);
    expect(raw.receivedBytes).toBe(64 + 170);

    // an unlisted key: the server's whole answer is ERROR "400"
    raw.write(commandFrame(client.initiate(dealerMetadata())));
    expect(await raw.waitClosed(2000)).toBe(true);
    expect(raw.frames).toHaveLength(2);
    expect(raw.receivedBytes).toBe(64 + 170 + 12);
    expect(raw.receivedBytes).toBeLessThan(raw.sentBytes);
  });

  test("a HELLO for another server key gets nothing back but the greeting and a close", async () => {
    const { port, log } = await server();
    const raw = cleanup.add(await RawZmtp.connect(port));
    const client = new HandCurveClient(clientKeys, curveKeys().publicKey);
    raw.write(encodeGreeting("CURVE", false));
    raw.write(commandFrame(client.hello()));

    expect(await raw.waitClosed(2000)).toBe(true);
    expect(raw.receivedBytes).toBe(64);
    expect((await eventually(() => log.of("handshake_failed")[0])).code).toBe("CRYPTOGRAPHIC");
  });

  test("a connection that sends nothing gets only the 64-byte greeting", async () => {
    const { port } = await server();
    const raw = cleanup.add(await RawZmtp.connect(port));
    expect(await raw.waitClosed(HANDSHAKE_TIMEOUT_MS + 2000)).toBe(true);
    expect(raw.receivedBytes).toBe(64);
  });
});

describe("handshake timeout", () => {
  const stalls: ReadonlyArray<readonly [string, (client: HandCurveClient) => Uint8Array[]]> = [
    ["10 bytes of greeting", () => [encodeGreeting("CURVE", false).subarray(0, 10)]],
    ["a full greeting but no HELLO", () => [encodeGreeting("CURVE", false)]],
    [
      "greeting and HELLO but no INITIATE",
      (client) => [encodeGreeting("CURVE", false), commandFrame(client.hello())],
    ],
  ];

  test.each(stalls)("a peer that stops after %s is closed at the timeout", async (_, bytes) => {
    const { router, port, log } = await server();
    const started = performance.now();
    const raw = cleanup.add(await RawZmtp.connect(port));
    for (const chunk of bytes(new HandCurveClient(clientKeys, serverKeys.publicKey))) {
      raw.write(chunk);
    }

    expect(await raw.waitClosed(HANDSHAKE_TIMEOUT_MS + 2000)).toBe(true);
    const elapsed = (raw.closedAt as number) - started;
    // the timer starts at accept, a hair after our connect began: allow a little slack below
    expect(elapsed).toBeGreaterThanOrEqual(HANDSHAKE_TIMEOUT_MS - 50);
    const failure = await eventually(() => log.of("handshake_failed")[0]);
    expect(failure.code).toBe("TIMEOUT");
    expect(router.connectedPeers).toBe(0);
  });
});
