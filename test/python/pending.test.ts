/**
 * mt5bridge's pending orders and pre-trade checks against the real agents as processes
 * (agent-gtw on the simulated MT5, agent-inf): order_send's PENDING, MODIFY, REMOVE and
 * CLOSE_BY, orders_get, order_check, order_calc_margin/profit and the native Client's calls
 * (clients/python/tests/live_pending.py), and examples/python/mt5_pending_orders.py, a
 * MetaTrader5-style script that runs unchanged but for its import.
 */
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  apiGet,
  EXAMPLES,
  liveStackForFile,
  runPython,
  runUnittest,
  TEST_TIMEOUT_MS,
} from "./support.ts";

setDefaultTimeout(TEST_TIMEOUT_MS);

// An SL is required (the default); 10 lots an order here, 5 at the gateway
const stack = liveStackForFile({ risk: { max_lots: 10 } });

async function left(what: "pending" | "positions"): Promise<unknown[]> {
  const answer = (await (await apiGet(stack(), `/v1/${what}`)).json()) as Record<string, unknown[]>;
  return answer[what === "pending" ? "orders" : "positions"] ?? [];
}

describe("mt5bridge pending orders on the real agents", () => {
  test("order_send, orders_get, order_check, calculations, Client (live_pending.py)", async () => {
    await runUnittest(["live_pending"], stack().env);
    // Every order and position the tests made was removed again, through the bridge
    expect([await left("pending"), await left("positions")]).toEqual([[], []]);
  });

  test("examples/python/mt5_pending_orders.py: only the import differs from MetaTrader5", async () => {
    const source = readFileSync(join(EXAMPLES, "mt5_pending_orders.py"), "utf8");
    const imports = source.split("\n").filter((line) => /^(import|from) /.test(line));
    expect(imports).toEqual(["import mt5bridge as mt5"]);
    expect(source).not.toMatch(/mt5\.(Client|AsyncClient|initialize\(\w)/);

    const run = await runPython([join(EXAMPLES, "mt5_pending_orders.py")], {
      cwd: EXAMPLES,
      env: { AGENT_INF_CONFIG: stack().inference.configPath },
    });

    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: "" });
    expect(run.stdout).toMatch(
      /1\. order_check\(\): buy limit EURUSD 0\.1 lots at [\d.]+: retcode=0 \(Done\)/,
    );
    expect(run.stdout).toMatch(/2\. order_send\(\): placed order #\d+: retcode=10009/);
    expect(run.stdout).toMatch(/3\. orders_total\(\)=1: #\d+ 0\.1 at [\d.]+/);
    expect(run.stdout).toMatch(/4\. modified order #\d+: price [\d.]+ sl [\d.]+ tp [\d.]+/);
    expect(run.stdout).toMatch(/5\. removed order #\d+: orders left 0/);
    expect(await left("pending")).toEqual([]);
  });
});
