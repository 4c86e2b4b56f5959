/**
 * The operator's drain: it answers only once the orders in flight have finished, holds the
 * gateway drained for its lease and then resumes by itself (an upgrade that died must not leave
 * the gateway refusing orders), resumes at once on request or when the orders do not finish in
 * time, and never resumes a gateway that is stopping.
 */
import { describe, expect, test } from "bun:test";
import { silentLogger } from "../../shared/log.ts";
import { TestClock } from "../../shared/testing/test-clock.ts";
import { type DrainResult, OperatorDrain } from "./drain.ts";

function rig() {
  const clock = new TestClock();
  const gateway = { draining: false, drain: () => {}, resume: () => {} };
  gateway.drain = () => {
    gateway.draining = true;
  };
  gateway.resume = () => {
    gateway.draining = false;
  };
  const executor = { inFlight: 0 };
  const drain = new OperatorDrain({
    gateway,
    executor,
    journal: { unresolved: () => [] },
    clock,
    logger: silentLogger,
  });
  const context = { id: "test", stopped: () => false };
  const ask = (request: Record<string, unknown>) =>
    drain.handler()({ at: clock.now(), ...request }, context) as Promise<Partial<DrainResult>>;
  /** Let the handler's awaits run, moving the clock in steps. */
  const run = async <T>(promise: Promise<T>, stepMs = 10, steps = 1000): Promise<T> => {
    let done = false;
    void promise.finally(() => {
      done = true;
    });
    for (let i = 0; i < steps && !done; i++) {
      await Bun.sleep(0);
      if (!done) clock.advance(stepMs);
    }
    return promise;
  };
  return { clock, gateway, executor, drain, ask, run };
}

describe("operator drain", () => {
  test("answers once in-flight orders finish, then holds its lease and resumes by itself", async () => {
    const r = rig();
    r.executor.inFlight = 2;
    const answer = r.ask({ wait_ms: 5000, hold_ms: 60_000 });
    await r.run(Promise.resolve(), 10, 5);
    expect(r.gateway.draining).toBe(true);
    r.executor.inFlight = 0;
    const result = await r.run(answer);
    expect(result).toMatchObject({ drained: true, in_flight_at_start: 2, in_flight: 0 });
    r.clock.advance(59_000);
    expect(r.gateway.draining).toBe(true);
    r.clock.advance(2000);
    expect(r.gateway.draining).toBe(false);
    expect(r.clock.pendingTimers).toBe(0);
  });

  test("orders that do not finish in time: the gateway takes orders again and says so", async () => {
    const r = rig();
    r.executor.inFlight = 1;
    const result = await r.run(r.ask({ wait_ms: 200, hold_ms: 60_000 }));
    expect(result).toMatchObject({ drained: false, in_flight: 1 });
    expect(result.error).toContain("1 order(s) still in flight");
    expect(r.gateway.draining).toBe(false);
  });

  test("resume ends it at once; a stopping gateway is never resumed", async () => {
    const r = rig();
    await r.run(r.ask({ wait_ms: 1000, hold_ms: 60_000 }));
    expect(await r.ask({ resume: true })).toEqual({ resumed: true });
    expect(r.gateway.draining).toBe(false);
    expect(r.clock.pendingTimers).toBe(0);

    await r.run(r.ask({ wait_ms: 1000, hold_ms: 1000 }));
    r.drain.stop();
    r.gateway.drain();
    r.clock.advance(5000);
    expect(r.gateway.draining).toBe(true);
    expect(await r.ask({ wait_ms: 1000, hold_ms: 1000 })).toMatchObject({
      error: "the gateway is stopping already",
    });
  });

  test("bad durations are refused", async () => {
    const r = rig();
    expect((await r.ask({ wait_ms: 0, hold_ms: 1 })).error).toContain("wait_ms and hold_ms");
    expect((await r.ask({ wait_ms: "5", hold_ms: 1 })).error).toContain("wait_ms and hold_ms");
    expect(r.gateway.draining).toBe(false);
  });
});
