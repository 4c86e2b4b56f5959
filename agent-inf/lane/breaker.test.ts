/**
 * CircuitBreaker driven by a real HeartbeatMonitor on a TestClock: engages within three intervals
 * of failures, resets after the recovery successes, operator control, and the risk monitor's
 * BREAKER_OPEN while engaged.
 */
import { describe, expect, test } from "bun:test";
import { flush } from "../../shared/testing/drive.ts";
import { TestClock } from "../../shared/testing/test-clock.ts";
import { RiskMonitor } from "../risk/risk-monitor.ts";
import {
  makeLimits,
  makeMarket,
  makeOpen,
  makePosition,
  outcome,
  released,
} from "../risk/testing/fixtures.ts";
import { type BreakerChange, CircuitBreaker } from "./breaker.ts";
import { HeartbeatMonitor } from "./heartbeat.ts";
import {
  FAIL,
  HANG,
  OK,
  ScriptedGateway,
  type ScriptedReply,
  step,
} from "./testing/heartbeat-fixtures.ts";

function setup(script: (call: number) => ScriptedReply) {
  const clock = new TestClock();
  const gateway = new ScriptedGateway(clock, script);
  const heartbeat = new HeartbeatMonitor({ clock, ping: gateway.ping });
  const breaker = new CircuitBreaker({ clock, heartbeat });
  const changes: BreakerChange[] = [];
  breaker.onChange((change) => changes.push(change));
  return { clock, gateway, heartbeat, breaker, changes };
}

/** Advance `count` ping intervals one at a time, so each reply is handled before the next tick. */
async function intervals(clock: TestClock, count: number) {
  for (let index = 0; index < count; index++) await step(clock, 5000);
}

/** Time from start until the breaker engaged, stepping one interval at a time. */
async function engagedAfter(clock: TestClock, breaker: CircuitBreaker, maxIntervals: number) {
  await flush();
  for (let index = 0; index <= maxIntervals && !breaker.engaged; index++) {
    if (index > 0) await step(clock, 5000);
  }
  return breaker.engaged ? clock.monotonic() : undefined;
}

describe("engaging on heartbeat failure", () => {
  test.each<[string, ScriptedReply, number]>([
    // Refusals are known at once: pings at 0, 5 s, 10 s
    ["refused pings", FAIL, 10_000],
    // Silence is known at the timeout: failures at 5 s, 10 s, 15 s
    ["unanswered pings", HANG, 15_000],
  ])("%s engage it within three intervals", async (_name, reply, expected) => {
    const { clock, heartbeat, breaker, changes } = setup(() => reply);
    heartbeat.start();
    const at = await engagedAfter(clock, breaker, 3);
    heartbeat.stop();
    expect(at).toBe(expected);
    expect(at).toBeLessThanOrEqual(3 * 5000);
    expect(changes).toEqual([
      {
        engaged: true,
        source: "heartbeat",
        reason: expect.stringContaining("heartbeat failed"),
        at: Date.UTC(2026, 10, 18, 12) + expected,
      },
    ]);
    expect([breaker.since, breaker.source]).toEqual([
      Date.UTC(2026, 10, 18, 12) + expected,
      "heartbeat",
    ]);
  });

  test("two failures (DEGRADED) do not engage it", async () => {
    const { clock, heartbeat, breaker } = setup((call) => (call < 2 ? FAIL : OK));
    heartbeat.start();
    await flush();
    await step(clock, 5000);
    const degraded = [heartbeat.status, breaker.engaged];
    await step(clock, 5000);
    heartbeat.stop();
    expect([degraded, heartbeat.status, breaker.engaged]).toEqual([
      ["DEGRADED", false],
      "HEALTHY",
      false,
    ]);
  });
});

describe("resetting", () => {
  test("resets after the third good ping, not before", async () => {
    const { clock, heartbeat, breaker, changes } = setup((call) => (call < 3 ? FAIL : OK));
    heartbeat.start();
    await flush();
    const engaged: boolean[] = [];
    for (let index = 0; index < 5; index++) {
      await step(clock, 5000);
      engaged.push(breaker.engaged);
    }
    heartbeat.stop();
    // Pings at 10 s fail (engage), 15 s and 20 s succeed, 25 s is the third success
    expect(engaged).toEqual([false, true, true, true, false]);
    expect(changes.map((c) => [c.engaged, c.source])).toEqual([
      [true, "heartbeat"],
      [false, "heartbeat"],
    ]);
    expect([breaker.reason, breaker.since, clock.pendingTimers]).toEqual([undefined, undefined, 0]);
  });

  test("an operator engagement survives heartbeat recovery", async () => {
    const { clock, heartbeat, breaker } = setup((call) => (call < 3 ? FAIL : OK));
    heartbeat.start();
    await flush();
    await intervals(clock, 2);
    breaker.engage("operator kill switch");
    await intervals(clock, 3);
    const afterRecovery = [heartbeat.status, breaker.engaged, breaker.source, breaker.reason];
    breaker.reset();
    heartbeat.stop();
    expect(afterRecovery).toEqual(["HEALTHY", true, "operator", "operator kill switch"]);
    expect(breaker.engaged).toBe(false);
  });

  test("operator engage and reset without a heartbeat", () => {
    const clock = new TestClock();
    const breaker = new CircuitBreaker({ clock });
    const changes: BreakerChange[] = [];
    breaker.onChange((change) => changes.push(change));
    breaker.reset(); // not engaged: nothing happens
    breaker.engage("maintenance");
    breaker.engage("again"); // already engaged: no second event
    clock.advance(60_000);
    breaker.reset("done");
    expect(changes.map((c) => [c.engaged, c.source, c.reason, c.at - changes[0]!.at])).toEqual([
      [true, "operator", "maintenance", 0],
      [false, "operator", "done", 60_000],
    ]);
  });

  test("an operator reset while the heartbeat is FAILED holds until the next failure", async () => {
    const { clock, heartbeat, breaker } = setup((call) => (call < 3 || call > 5 ? FAIL : OK));
    heartbeat.start();
    await flush();
    await intervals(clock, 2);
    breaker.reset("operator override");
    const overridden = breaker.engaged;
    await intervals(clock, 3); // three successes: HEALTHY
    await intervals(clock, 3); // three failures: FAILED again
    heartbeat.stop();
    expect([overridden, heartbeat.status, breaker.engaged]).toEqual([false, "FAILED", true]);
  });

  test("dispose stops listening to the heartbeat", async () => {
    const { clock, heartbeat, breaker } = setup(() => FAIL);
    breaker.dispose();
    heartbeat.start();
    await flush();
    await intervals(clock, 2);
    heartbeat.stop();
    expect([heartbeat.status, breaker.engaged]).toEqual(["FAILED", false]);
  });
});

describe("breaker and risk monitor", () => {
  test("OPENs are refused while engaged; closes pass", () => {
    const clock = new TestClock();
    const breaker = new CircuitBreaker({ clock });
    const risk = new RiskMonitor({ limits: makeLimits(), clock, breaker });
    const market = makeMarket({ positions: [makePosition()] });
    // Each order came back with nothing to hold, so the next decision starts clean
    const decide = () => [
      outcome(released(risk.checkOpen(makeOpen(), market))),
      outcome(released(risk.checkClose({ ticket: 501 }, market))),
    ];
    const before = decide();
    breaker.engage("test");
    const during = decide();
    breaker.reset();
    expect([before, during, decide()]).toEqual([
      ["PASS", "PASS"],
      ["BREAKER_OPEN", "PASS"],
      ["PASS", "PASS"],
    ]);
  });
});
