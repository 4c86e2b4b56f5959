/**
 * order_send's retry under one client_order_id (live_retry.py), on real processes: the gateway's
 * replies reach agent-inf 300 ms late through a proxy, past agent-inf's 100 ms order timeout and
 * 250 ms reconcile deadline, so the first attempt is UNKNOWN although the gateway executed it.
 * The retry with the same id is answered from the gateway's journal: one position, not two.
 */
import { expect, setDefaultTimeout, test } from "bun:test";
import { apiGet, liveStackForFile, runUnittest, TEST_TIMEOUT_MS } from "./support.ts";

setDefaultTimeout(TEST_TIMEOUT_MS);

const stack = liveStackForFile({
  replyDelayMs: 300,
  heartbeatMs: 1000,
  gateway: { request_timeout_ms: 2000, order_timeout_ms: 100, reconcile_deadline_ms: 250 },
});

test("a lost answer is retried with the same client_order_id and trades once", async () => {
  await runUnittest(["live_retry"], stack().env);

  const metrics = await (await apiGet(stack(), "/metrics")).text();
  // Both attempts reached agent-inf as one intent: the first UNKNOWN, the retry FILLED from the
  // gateway's journal (without the retry, order_send would have reported an unknown outcome)
  expect(metrics).toContain('agent_inf_orders_total{action="OPEN",outcome="UNKNOWN"} 1');
  expect(metrics).toContain('agent_inf_orders_total{action="OPEN",outcome="FILLED"} 1');
  const positions = (await (await apiGet(stack(), "/v1/positions")).json()) as {
    positions: unknown[];
  };
  expect(positions.positions).toHaveLength(1);
});
