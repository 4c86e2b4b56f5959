/**
 * Hostile local peers before HELLO (docs/EA-LINK.md §6.3): a process holding every pre-HELLO
 * slot cannot keep a restarted EA out, a fresh connection is not evicted, the whole handshake
 * has one deadline, and a flood of unauthenticated connections makes a bounded number of log
 * lines (the throttle of the CURVE server).
 */
import { afterEach, describe, expect, test } from "bun:test";
import { eventually } from "../../../scripts/harness/eventually.ts";
import { RawClient } from "../../../shared/testing/raw-tcp.ts";
import { encodeOutbound } from "./framing.ts";
import {
  DEFAULT_HELLO_TIMEOUT_MS,
  DEFAULT_MAX_PENDING_CONNECTIONS,
  DEFAULT_PENDING_GRACE_MS,
} from "./link-server.ts";
import { cleanupRigs, connected, framesIn, onCleanup, type Rig, startRig } from "./testing/rig.ts";

afterEach(cleanupRigs);

async function raw(port: number): Promise<RawClient> {
  const client = await RawClient.connect(port);
  onCleanup(() => client.destroy());
  return client;
}

/** One slot holder: connects, says nothing, and reconnects whenever it is closed (bounded). */
function holdSlot(port: number, stats: { reopened: number }, stop: { done: boolean }) {
  return (async () => {
    for (let round = 0; round < 40 && !stop.done; round++) {
      const client = await raw(port).catch(() => undefined);
      if (client === undefined) return;
      while (!stop.done && !(await client.waitClosed(50))) {
        // still holding
      }
      client.destroy();
      stats.reopened += 1;
    }
  })();
}

const linkLines = (rig: Rig) =>
  rig.logs.filter(
    (line) =>
      line.message.startsWith("EA handshake failed") ||
      line.message.startsWith("EA connection refused") ||
      line.message.startsWith("EA connection closed before"),
  );

describe("pre-HELLO slots", () => {
  test("a process holding every slot and reopening each one closed does not keep a restarted EA out", async () => {
    const rig = await startRig({ connect: false });
    const stats = { reopened: 0 };
    const stop = { done: false };
    const holders = Array.from({ length: DEFAULT_MAX_PENDING_CONNECTIONS }, () =>
      holdSlot(rig.port, stats, stop),
    );
    await eventually(() => rig.clock.pendingTimers === DEFAULT_MAX_PENDING_CONNECTIONS);
    // The holders had their chance; the EA (re)starts
    rig.clock.advance(DEFAULT_PENDING_GRACE_MS);
    rig.fake.start();
    await connected(rig);
    stop.done = true;
    await Promise.all(holders);
    expect(stats.reopened).toBeGreaterThan(0);
    expect(rig.logs.some((l) => l.message.includes("evicted"))).toBe(true);
  });

  test("connections younger than the grace are not evicted: a newcomer is refused instead", async () => {
    const rig = await startRig({ connect: false });
    const waiting: RawClient[] = [];
    for (let i = 0; i < DEFAULT_MAX_PENDING_CONNECTIONS; i++) waiting.push(await raw(rig.port));
    await eventually(() => rig.clock.pendingTimers === DEFAULT_MAX_PENDING_CONNECTIONS);
    const newcomer = await raw(rig.port);
    expect(await newcomer.waitClosed(5000)).toBe(true);
    for (const client of waiting) expect(client.closed).toBe(false);
    // Once they are stale the next newcomer takes the oldest one's place
    rig.clock.advance(DEFAULT_PENDING_GRACE_MS);
    const next = await raw(rig.port);
    expect(await waiting[0]?.waitClosed(5000)).toBe(true);
    expect(next.closed).toBe(false);
  });
});

describe("time to HELLO", () => {
  test("one deadline covers the handshake: a peer that got its CHALLENGE and says nothing is closed", async () => {
    const rig = await startRig({ connect: false });
    const client = await raw(rig.port);
    client.write(encodeOutbound({ type: "AUTH", proto: 2, ea_nonce: "c".repeat(64) }));
    await eventually(() => framesIn(client.bytes).length === 1);
    expect(framesIn(client.bytes)[0]).toMatchObject({ type: "CHALLENGE" });
    rig.clock.advance(DEFAULT_HELLO_TIMEOUT_MS - 1);
    expect(await client.waitClosed(50)).toBe(false);
    rig.clock.advance(1);
    expect(await client.waitClosed(5000)).toBe(true);
    expect(rig.backend.handshakeFailure()).toContain("no HELLO in time");
  });
});

describe("log lines from unauthenticated peers", () => {
  test("a flood of connections logs the first 20 per 10 s, then one line with the count", async () => {
    const rig = await startRig({ connect: false });
    const flood = 150;
    for (let i = 0; i < flood; i++) {
      const client = await raw(rig.port);
      // Not an AUTH: refused and closed, one log line each without the throttle
      client.write(encodeOutbound({ type: "HELLO", proto: 1 }));
    }
    await eventually(() => rig.backend.handshakeFailure()?.includes("PROTO_UNSUPPORTED"));
    await eventually(() => rig.clock.pendingTimers <= 1, { timeoutMs: 10_000 });
    expect(linkLines(rig).length).toBe(20);
    rig.clock.advance(10_000);
    const summary = rig.logs.find((l) => l.message.includes("not logged one by one"));
    expect(summary?.fields?.["count"]).toBeGreaterThan(0);
    expect(linkLines(rig).length + Number(summary?.fields?.["count"])).toBeGreaterThanOrEqual(
      flood,
    );
  });
});
