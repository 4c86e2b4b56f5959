/**
 * mt5bridge against the real agents as processes (agent-gtw on the simulated MT5, agent-inf):
 * every MetaTrader5-style function with its types and errors (live_api.py), order_send
 * (live_orders.py), the native Client's routes (live_client.py) and the asyncio client with its
 * streams (live_async.py). The Python modules are clients/python/tests/live_*.py; this file
 * starts the agents and runs them.
 */
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { apiGet, liveStackForFile, runUnittest, TEST_TIMEOUT_MS } from "./support.ts";

setDefaultTimeout(TEST_TIMEOUT_MS);

// 10 lots per order at agent-inf, 5 at the gateway: 6 lots reach the gateway and are refused
const stack = liveStackForFile({ risk: { max_lots: 10, max_risk_percent: null } });

describe("mt5bridge on the real agents", () => {
  test("the MetaTrader5 functions: initialize, queries, types, errors (live_api.py)", async () => {
    await runUnittest(["live_api"], stack().env);
  });

  test("order_send: open with SL/TP, partial close, SLTP, denials (live_orders.py)", async () => {
    await runUnittest(["live_orders"], stack().env);

    // Every position the tests opened was closed again, through the bridge
    const left = (await (await apiGet(stack(), "/v1/positions")).json()) as {
      positions: unknown[];
    };
    expect(left.positions).toEqual([]);
  });

  test("Client: every route of the API, outcomes and typed errors (live_client.py)", async () => {
    await runUnittest(["live_client"], stack().env);
  });

  test("AsyncClient: calls, the stream and a background watch (live_async.py)", async () => {
    await runUnittest(["live_async"], stack().env);
  });
});
