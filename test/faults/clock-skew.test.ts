/**
 * Clock skew (issue 7 §1c): the inference host's wall clock is off from the gateway's. Within the
 * signature TTL plus the allowed skew (2,000 + 500 ms by default) orders fill; beyond it, behind
 * or ahead, the gateway refuses them EXPIRED with a message that says by how much and what the
 * limit is, executes nothing, and agent-inf's health shows the measured offset so the operator
 * can see why.
 *
 * The skewed host is agent-inf built in this process (createInferenceApp) on a clock whose wall
 * time is shifted, against the real gateway process: the same code the agent-inf binary runs,
 * with a clock no test can give a real process without changing the machine's time.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { createInferenceApp, type InferenceApp } from "../../agent-inf/app.ts";
import { loadInferenceConfig } from "../../agent-inf/config.ts";
import type { OrderResult } from "../../agent-inf/orders/order-service.ts";
import { eventually } from "../../scripts/harness/eventually.ts";
import { type Clock, systemClock } from "../../shared/clock.ts";
import { silentLogger } from "../../shared/log.ts";
import { auditBooks, Cleanups, startStack } from "./support.ts";

const cleanups = new Cleanups();
afterEach(() => cleanups.run());

/** The gateway's defaults: signatures.ttl_ms 2000, signatures.max_skew_ms 500. */
const TTL_MS = 2000;
const SKEW_MS = 500;

function skewedClock(offsetMs: number): Clock {
  return {
    now: () => Date.now() + offsetMs,
    monotonic: () => systemClock.monotonic(),
    setTimeout: (fn, ms) => systemClock.setTimeout(fn, ms),
    setInterval: (fn, ms) => systemClock.setInterval(fn, ms),
  };
}

describe("clock skew between the inference host and the gateway", () => {
  test("within TTL + skew orders fill; beyond it, behind or ahead, they are EXPIRED and nothing executes", async () => {
    const stack = await startStack(cleanups, {
      inference: false,
      heartbeatMs: 200,
      risk: { max_quote_age_ms: null },
    });
    const config = loadInferenceConfig(stack.setup.configPath);
    const outcomes = new Map<string, OrderResult>();
    const results: Record<string, unknown>[] = [];

    // Behind by 1.5 s and ahead by 0.4 s are inside the limits; the rest are outside
    const cases = [
      { offsetMs: -1500, expired: false },
      { offsetMs: 400, expired: false },
      { offsetMs: -(TTL_MS + SKEW_MS + 1000), expired: true },
      { offsetMs: -60_000, expired: true },
      { offsetMs: SKEW_MS + 500, expired: true },
      { offsetMs: 3_600_000, expired: true },
    ];
    for (const [index, { offsetMs, expired }] of cases.entries()) {
      const app: InferenceApp = createInferenceApp(config, silentLogger, {
        clock: skewedClock(offsetMs),
      });
      await app.start();
      try {
        await eventually(() => app.lane().heartbeat.clockOffsetMs !== undefined, {
          message: "a heartbeat measured the offset",
        });
        // The agent measures the gateway clock minus its own: the skew, with the sign flipped
        const measured = app.health().gateways[0]?.clock_offset_ms as number;
        expect(Math.abs(measured + offsetMs)).toBeLessThan(100);
        const coid = `skew-${index}`;
        const result = await app.orders.open({
          client_order_id: coid,
          symbol: "EURUSD",
          side: "BUY",
          volume: 0.01,
        });
        outcomes.set(coid, result);
        if (expired) {
          expect(result.outcome).toBe("ERROR");
          const reply = (result as { reply: { error_code?: string; error_msg?: string } }).reply;
          expect(reply.error_code).toBe("EXPIRED");
          expect(reply.error_msg).toMatch(
            offsetMs < 0
              ? /^request is \d+ ms old, limit is 2500 ms \(ttl 2000 \+ skew 500\)$/
              : /^request ts is \d+ ms in the future, limit is 500 ms \(clock skew\)$/,
          );
          // Refused before the journal: the gateway never saw it as an intent
          expect(await app.lane().client.orderRecord(coid)).toBeNull();
        } else {
          expect(result.outcome).toBe("FILLED");
        }
        results.push({
          skew_ms: offsetMs,
          measured_offset_ms: Math.round(measured),
          outcome: result.outcome,
          message: (result as { reply?: { error_msg?: string } }).reply?.error_msg,
        });
      } finally {
        await app.stop();
      }
    }

    expect(await stack.gateway.stop()).toBe(0);
    const audit = await auditBooks(stack.deployment, outcomes.keys());
    for (const [coid, result] of outcomes) {
      expect(audit.dealsByCoid.get(coid)?.length ?? 0).toBe(result.outcome === "FILLED" ? 1 : 0);
    }
    expect(audit.strangers).toEqual([]);
    console.log(`[faults] clock skew ${JSON.stringify(results)}`);
  }, 60_000);
});
