/**
 * Pre-handshake starvation (research §7.4, CVE-2020-15166: libzmq attached a peer before its
 * handshake finished, so one raw TCP connection could starve legitimate clients). 200 raw
 * connections that send nothing, a partial greeting, or HELLO only must not keep a real client
 * from authenticating and exchanging messages; none of them ever becomes a ROUTER peer; the
 * handshake timeout closes them all. The pre-authentication limits (per address, overall, accept
 * rate) must refuse excess connections at once with accept_rejected.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { eventually } from "../../scripts/harness/eventually.ts";
import { HandCurveClient } from "../../scripts/harness/hand-curve.ts";
import { commandFrame, RawZmtp } from "../../scripts/harness/raw-zmtp.ts";
import type { SocketOptions } from "../../shared/net/index.ts";
import { encodeGreeting } from "../../shared/zmtp/greeting.ts";
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
  portOf,
  text,
} from "../interop/support.ts";

const cleanup = new Cleanup();
let serverKeys: CurveKeys;
let clientKeys: CurveKeys;

beforeEach(() => {
  serverKeys = curveKeys();
  clientKeys = curveKeys();
});
afterEach(() => cleanup.run());

async function echoRouter(options: Partial<SocketOptions>) {
  const router = newRouter(cleanup, {
    security: curveServer(serverKeys, [clientKeys]),
    ...options,
  });
  router.onMessage((message) => router.send(message.routingId, message.parts));
  const log = new EventLog(router);
  const endpoint = await router.bind("tcp://127.0.0.1:0");
  return { router, log, endpoint, port: portOf(endpoint) };
}

async function openRaw(port: number, count: number): Promise<RawZmtp[]> {
  return Promise.all(
    Array.from({ length: count }, async () => cleanup.add(await RawZmtp.connect(port))),
  );
}

describe("pre-handshake starvation", () => {
  test("200 stalled raw connections do not keep a real client out, and all time out", async () => {
    const HANDSHAKE_TIMEOUT_MS = 1500;
    // Every connection here comes from 127.0.0.1: raise the per-address and overall limits so
    // this test measures starvation, not the limits (tested below)
    const { router, log, endpoint, port } = await echoRouter({
      handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS,
      maxHandshakingConnections: 256,
      maxHandshakingPerAddress: 256,
      acceptRatePerSecond: 10_000,
      acceptBurst: 1000,
    });
    const openedAt = performance.now();
    const raws = await openRaw(port, 200);
    raws.forEach((raw, i) => {
      if (i % 3 === 1) raw.write(encodeGreeting("CURVE", false).subarray(0, 20));
      if (i % 3 === 2) {
        raw.write(encodeGreeting("CURVE", false));
        raw.write(commandFrame(new HandCurveClient(curveKeys(), serverKeys.publicKey).hello()));
      }
    });
    // the HELLO-only ones got their WELCOME and now sit waiting for INITIATE
    await eventually(() => raws.filter((raw) => raw.frames.length === 1).length === 66, {
      timeoutMs: 3000,
    });

    const dealer = newDealer(cleanup, { security: curveClient(clientKeys, serverKeys.publicKey) });
    const replies: string[] = [];
    dealer.onMessage((parts) => replies.push(decode(parts[0])));
    dealer.connect(endpoint);
    dealer.send([text("not starved")]);
    await eventually(() => replies.length === 1, { timeoutMs: 3000 });
    const servedAt = performance.now();

    expect(servedAt - openedAt).toBeLessThan(HANDSHAKE_TIMEOUT_MS);
    expect(raws.every((raw) => !raw.closed)).toBe(true);
    expect(router.connectedPeers).toBe(1);
    expect(log.count("handshake_succeeded")).toBe(1);

    await eventually(() => raws.every((raw) => raw.closed), {
      timeoutMs: HANDSHAKE_TIMEOUT_MS + 3000,
    });
    const earliest = Math.min(...raws.map((raw) => (raw.closedAt as number) - openedAt));
    expect(earliest).toBeGreaterThanOrEqual(HANDSHAKE_TIMEOUT_MS - 50);
    const failures = log.of("handshake_failed");
    expect(failures).toHaveLength(200);
    expect(failures.every((failure) => failure.code === "TIMEOUT")).toBe(true);
    expect(log.count("accept_rejected")).toBe(0);
    expect(log.count("handshake_succeeded")).toBe(1);
    expect(router.connectedPeers).toBe(1);

    dealer.send([text("still served")]);
    await eventually(() => replies.length === 2);
    expect(replies).toEqual(["not starved", "still served"]);
  }, 15_000);
});

describe("pre-authentication limits", () => {
  const HANDSHAKE_TIMEOUT_MS = 800;
  const cases: ReadonlyArray<readonly [string, Partial<SocketOptions>, number, RegExp, boolean]> = [
    [
      "per address",
      { maxHandshakingPerAddress: 16, maxHandshakingConnections: 64 },
      16,
      /from this address/,
      true,
    ],
    [
      "overall",
      { maxHandshakingPerAddress: 100, maxHandshakingConnections: 10 },
      10,
      /too many connections handshaking$/,
      true,
    ],
    // the bucket starts full (burst) and refills at 1 per second
    ["accept rate", { acceptRatePerSecond: 1, acceptBurst: 5 }, 5, /accept rate limit/, false],
  ];

  test.each(cases)(
    "the %s limit refuses the excess at once with accept_rejected; the rest time out",
    async (_, limits, admitted, reason, clientAfterwards) => {
      const { router, log, endpoint, port } = await echoRouter({
        handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS,
        acceptBurst: 1000,
        acceptRatePerSecond: 10_000,
        ...limits,
      });
      const raws = await openRaw(port, 40);
      await eventually(() => raws.filter((raw) => raw.closed).length >= 40 - admitted, {
        timeoutMs: 2000,
      });

      // refused at once, before any handshake timer could fire
      expect(raws.filter((raw) => raw.closed)).toHaveLength(40 - admitted);
      const rejected = log.of("accept_rejected");
      expect(rejected).toHaveLength(40 - admitted);
      expect(rejected.every((event) => reason.test(event.reason))).toBe(true);
      // the refused ones never got a greeting: no handshake work was spent on them
      expect(raws.filter((raw) => raw.closed && raw.receivedBytes > 0)).toHaveLength(0);

      await eventually(() => raws.every((raw) => raw.closed), {
        timeoutMs: HANDSHAKE_TIMEOUT_MS + 3000,
      });
      expect(log.of("handshake_failed").filter((f) => f.code === "TIMEOUT")).toHaveLength(admitted);
      expect(router.connectedPeers).toBe(0);

      if (clientAfterwards) {
        const dealer = newDealer(cleanup, {
          security: curveClient(clientKeys, serverKeys.publicKey),
        });
        const replies: string[] = [];
        dealer.onMessage((parts) => replies.push(decode(parts[0])));
        dealer.connect(endpoint);
        dealer.send([text("admitted")]);
        await eventually(() => replies.length === 1, { timeoutMs: 3000 });
        expect(router.connectedPeers).toBe(1);
      }
    },
    10_000,
  );
});

describe("HELLO flood (research §7.4 CPU DoS)", () => {
  test("300 connections sending valid HELLOs at once neither stall the event loop nor an established link", async () => {
    // Default limits: what production runs with
    const { router, log, endpoint, port } = await echoRouter({});
    const dealer = newDealer(cleanup, { security: curveClient(clientKeys, serverKeys.publicKey) });
    const replies: string[] = [];
    dealer.onMessage((parts) => replies.push(decode(parts[0])));
    dealer.connect(endpoint);
    await eventually(() => router.connectedPeers === 1);
    // Built before measuring: each costs the client an X25519 too
    const hellos = Array.from({ length: 300 }, () =>
      Buffer.concat([
        encodeGreeting("CURVE", false),
        commandFrame(new HandCurveClient(curveKeys(), serverKeys.publicKey).hello()),
      ]),
    );

    let maxLagMs = 0;
    let last = performance.now();
    const lagTimer = setInterval(() => {
      const now = performance.now();
      maxLagMs = Math.max(maxLagMs, now - last - 5);
      last = now;
    }, 5);
    try {
      const raws = await Promise.all(
        hellos.map(async (hello) => {
          const raw = cleanup.add(await RawZmtp.connect(port));
          raw.write(hello);
          return raw;
        }),
      );
      for (let i = 0; i < 20; i++) dealer.send([text(`during ${i}`)]);
      await eventually(() => replies.length === 20, { timeoutMs: 5000 });
      for (const raw of raws) raw.destroy();
    } finally {
      clearInterval(lagTimer);
    }

    expect(replies).toEqual(Array.from({ length: 20 }, (_, i) => `during ${i}`));
    // the limits turned most of the flood away before any X25519 was spent on it
    expect(log.count("accept_rejected")).toBeGreaterThan(200);
    expect(maxLagMs).toBeLessThan(250);
    expect(router.connectedPeers).toBe(1);
  });
});
