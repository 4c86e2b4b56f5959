/**
 * HeartbeatMonitor on a TestClock with a scripted gateway: schedule, status machine, timeouts,
 * no overlapping pings, latency statistics, clock offset and cleanup.
 */
import { describe, expect, test } from "bun:test";
import { AgentError } from "../../shared/errors.ts";
import { flush } from "../../shared/testing/drive.ts";
import { TestClock } from "../../shared/testing/test-clock.ts";
import {
  HeartbeatMonitor,
  type HeartbeatOptions,
  type HeartbeatStatusChange,
  type PingResult,
} from "./heartbeat.ts";
import {
  FAIL,
  HANG,
  OK,
  run,
  ScriptedGateway,
  type ScriptedReply,
  step,
} from "./testing/heartbeat-fixtures.ts";

type Options = Partial<Omit<HeartbeatOptions<PingResult>, "clock" | "ping">>;

function setup(script: (call: number) => ScriptedReply, options: Options = {}) {
  const clock = new TestClock();
  const gateway = new ScriptedGateway(clock, script);
  const heartbeat = new HeartbeatMonitor({ clock, ping: gateway.ping, ...options });
  const changes: HeartbeatStatusChange[] = [];
  heartbeat.onStatusChange((change) => changes.push(change));
  return { clock, gateway, heartbeat, changes };
}

const sequence = (replies: readonly ScriptedReply[]) => (call: number) => replies[call] ?? OK;

describe("schedule", () => {
  test("pings on start, then every 5 s by default", async () => {
    const { clock, gateway, heartbeat } = setup(() => OK);
    heartbeat.start();
    const calls = [gateway.calls];
    await step(clock, 4999);
    calls.push(gateway.calls);
    await step(clock, 1);
    calls.push(gateway.calls);
    await step(clock, 5000);
    await step(clock, 5000);
    calls.push(gateway.calls);
    heartbeat.stop();
    expect(calls).toEqual([1, 1, 2, 4]);
  });

  test("start twice schedules once; stop leaves no timers, even with a ping in flight", async () => {
    const { clock, gateway, heartbeat } = setup(() => HANG);
    heartbeat.start();
    heartbeat.start();
    await step(clock, 1000);
    const before = clock.pendingTimers;
    heartbeat.stop();
    expect([gateway.calls, before, clock.pendingTimers, gateway.aborted]).toEqual([1, 2, 0, 1]);
    expect(heartbeat.running).toBe(false);
  });

  test("a reply arriving after stop changes nothing", async () => {
    const { clock, heartbeat, changes } = setup(() => ({ kind: "ok", latencyMs: 100 }));
    heartbeat.start();
    heartbeat.stop();
    await run(clock, 200);
    expect([changes, heartbeat.latency(), clock.pendingTimers]).toEqual([[], undefined, 0]);
  });

  test("it can be restarted after stop", async () => {
    const { clock, gateway, heartbeat } = setup(() => OK);
    heartbeat.start();
    heartbeat.stop();
    heartbeat.start();
    await step(clock, 5000);
    heartbeat.stop();
    expect(gateway.calls).toBe(3);
  });
});

describe("status machine", () => {
  // Each reply answers one ping; the status after each ping settles
  test.each<[string, Options, ScriptedReply[], string[]]>([
    ["all good", {}, [OK, OK], ["HEALTHY", "HEALTHY"]],
    ["one failure degrades, one success heals", {}, [FAIL, OK], ["DEGRADED", "HEALTHY"]],
    ["three failures in a row fail", {}, [FAIL, FAIL, FAIL], ["DEGRADED", "DEGRADED", "FAILED"]],
    [
      "failures not in a row do not fail",
      {},
      [FAIL, FAIL, OK, FAIL, FAIL],
      ["DEGRADED", "DEGRADED", "HEALTHY", "DEGRADED", "DEGRADED"],
    ],
    [
      "FAILED needs three successes in a row",
      {},
      [FAIL, FAIL, FAIL, OK, OK, OK],
      ["DEGRADED", "DEGRADED", "FAILED", "FAILED", "FAILED", "HEALTHY"],
    ],
    [
      "a failure during recovery starts the count again",
      {},
      [FAIL, FAIL, FAIL, OK, OK, FAIL, OK, OK, OK],
      [
        "DEGRADED",
        "DEGRADED",
        "FAILED",
        "FAILED",
        "FAILED",
        "FAILED",
        "FAILED",
        "FAILED",
        "HEALTHY",
      ],
    ],
    ["threshold 1 fails at once", { failureThreshold: 1 }, [FAIL, OK], ["FAILED", "FAILED"]],
    [
      "recoverySuccesses 1",
      { recoverySuccesses: 1 },
      [FAIL, FAIL, FAIL, OK],
      ["DEGRADED", "DEGRADED", "FAILED", "HEALTHY"],
    ],
    ["a ping that throws is a failure", {}, [{ kind: "throw" }, OK], ["DEGRADED", "HEALTHY"]],
  ])("%s", async (_name, options, replies, expected) => {
    const { clock, heartbeat } = setup(sequence(replies), options);
    const statuses: string[] = [];
    heartbeat.start();
    await flush();
    statuses.push(heartbeat.status);
    for (let index = 1; index < replies.length; index++) {
      await step(clock, 5000);
      statuses.push(heartbeat.status);
    }
    heartbeat.stop();
    expect(statuses).toEqual(expected);
  });

  test("status changes are emitted with their cause", async () => {
    const { clock, heartbeat, changes } = setup(sequence([FAIL, FAIL, FAIL, OK, OK, OK]));
    heartbeat.start();
    await flush();
    for (let index = 0; index < 5; index++) await step(clock, 5000);
    heartbeat.stop();
    expect(changes.map((c) => [c.previous, c.status, c.at - changes[0]!.at])).toEqual([
      ["HEALTHY", "DEGRADED", 0],
      ["DEGRADED", "FAILED", 10_000],
      ["FAILED", "HEALTHY", 25_000],
    ]);
    expect(changes[0]?.reason).toBe("gateway refused");
  });

  test("a throwing listener does not stop the others", async () => {
    const { heartbeat, changes } = setup(() => FAIL);
    heartbeat.onStatusChange(() => {
      throw new Error("listener bug");
    });
    const late: string[] = [];
    heartbeat.onStatusChange((change) => late.push(change.status));
    heartbeat.start();
    await flush();
    heartbeat.stop();
    expect([changes.length, late]).toEqual([1, ["DEGRADED"]]);
  });
});

describe("timeouts and overlap", () => {
  test("an unanswered ping fails at the next tick, is aborted, and a new ping goes out", async () => {
    const { clock, gateway, heartbeat } = setup(sequence([HANG, HANG, HANG]));
    heartbeat.start();
    const seen: [number, string, number][] = [];
    for (let index = 0; index < 3; index++) {
      await step(clock, 5000);
      seen.push([clock.monotonic(), heartbeat.status, gateway.calls]);
    }
    heartbeat.stop();
    expect(seen).toEqual([
      [5000, "DEGRADED", 2],
      [10_000, "DEGRADED", 3],
      [15_000, "FAILED", 4],
    ]);
    expect([gateway.maxActive, gateway.aborted]).toEqual([1, 3]);
  });

  test("a shorter timeout fails early but the next ping still waits for the interval", async () => {
    const { clock, gateway, heartbeat } = setup(sequence([HANG]), { timeoutMs: 1000 });
    heartbeat.start();
    await step(clock, 999);
    const before = heartbeat.status;
    await step(clock, 1);
    const after = [heartbeat.status, gateway.calls];
    await step(clock, 3999);
    const beforeTick = gateway.calls;
    await step(clock, 1);
    heartbeat.stop();
    expect([before, after, beforeTick, gateway.calls]).toEqual(["HEALTHY", ["DEGRADED", 1], 1, 2]);
  });

  test("a reply after the timeout is ignored", async () => {
    const late: ScriptedReply = { kind: "ok", latencyMs: 1500, ignoresAbort: true };
    const { clock, heartbeat } = setup(sequence([late]), {
      timeoutMs: 1000,
    });
    heartbeat.start();
    await run(clock, 2000);
    heartbeat.stop();
    expect([heartbeat.status, heartbeat.latency(), heartbeat.lastResult]).toEqual([
      "DEGRADED",
      undefined,
      undefined,
    ]);
  });

  test("slow replies inside the timeout never overlap the next ping", async () => {
    const { clock, gateway, heartbeat } = setup(() => ({ kind: "ok", latencyMs: 999 }), {
      intervalMs: 1000,
    });
    heartbeat.start();
    await run(clock, 10_000);
    heartbeat.stop();
    expect([gateway.calls, gateway.maxActive, heartbeat.status]).toEqual([11, 1, "HEALTHY"]);
    expect(heartbeat.latency()).toMatchObject({ count: 10, min: 999, max: 999 });
  });
});

describe("latency and clock offset", () => {
  test("statistics over known samples, nearest-rank percentiles", async () => {
    // Ping n answers after n + 1 ms: samples 1..100
    const { clock, heartbeat } = setup((call) => ({ kind: "ok", latencyMs: call + 1 }), {
      intervalMs: 200,
    });
    heartbeat.start();
    await run(clock, 99 * 200 + 150);
    const full = heartbeat.latency();
    heartbeat.stop();
    expect(full).toEqual({ count: 100, min: 1, mean: 50.5, p50: 50, p95: 95, p99: 99, max: 100 });
  });

  test("the window keeps only the last samples", async () => {
    const { clock, heartbeat } = setup((call) => ({ kind: "ok", latencyMs: call < 5 ? 100 : 10 }), {
      intervalMs: 200,
      windowSamples: 4,
    });
    heartbeat.start();
    await run(clock, 8 * 200 + 150);
    heartbeat.stop();
    expect(heartbeat.latency()).toMatchObject({ count: 4, min: 10, max: 10 });
  });

  test("offset is serverTime − (sent + rtt / 2), the median over the window", async () => {
    const aheads = [250, 250, 900, 250, -400];
    const { clock, heartbeat } = setup(
      (call) => ({ kind: "ok", latencyMs: 40, aheadMs: aheads[call] ?? 250 }),
      { intervalMs: 200 },
    );
    const estimates: (number | undefined)[] = [heartbeat.clockOffsetMs];
    heartbeat.start();
    for (let index = 0; index < aheads.length; index++) {
      await run(clock, 200);
      estimates.push(heartbeat.clockOffsetMs);
    }
    heartbeat.stop();
    expect(estimates).toEqual([undefined, 250, 250, 250, 250, 250]);
    expect(heartbeat.lastResult?.serverTime).toBe(Date.UTC(2026, 10, 18, 12) + 4 * 200 + 20 - 400);
  });
});

describe("options", () => {
  test.each<[string, Options]>([
    ["interval 0", { intervalMs: 0 }],
    ["timeout above the interval", { intervalMs: 1000, timeoutMs: 1001 }],
    ["threshold 0", { failureThreshold: 0 }],
    ["fractional recovery", { recoverySuccesses: 1.5 }],
    ["empty window", { windowSamples: 0 }],
  ])("%s is refused", (_name, options) => {
    expect(() => setup(() => OK, options)).toThrow(AgentError);
  });
});
