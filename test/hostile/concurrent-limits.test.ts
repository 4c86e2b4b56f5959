/**
 * Risk limits under concurrent orders through the real agents (issue 12 §1): agent-gtw on the
 * simulated MT5 and agent-inf as processes, orders sent at once through agent-inf's local API as
 * a strategy with many threads would. Before the exposure ledger, 30 OPENs at once opened 30
 * positions against max_positions 10; now exactly the limit fills and the rest are DENIED with
 * the limit's code, and the broker holds exactly the positions that were answered FILLED.
 *
 * The gateway's own cap (limits.max_open_positions) is far above these limits, so what holds
 * them is agent-inf's risk monitor alone.
 */
import { afterEach, expect, test } from "bun:test";
import { type ApiAnswer, type ApiClient, Cleanups, startStack } from "../faults/support.ts";

const cleanups = new Cleanups();
afterEach(() => cleanups.run());

const OPEN = { side: "BUY", volume: 0.01 } as const;

function outcomes(answers: readonly ApiAnswer[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const { json } of answers) {
    const denial = (json["denial"] as { code?: string } | undefined)?.code;
    const key = denial === undefined ? String(json["outcome"]) : `DENIED ${denial}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

async function positionCount(api: ApiClient, symbol?: string): Promise<number> {
  const answer = await api.call(
    "GET",
    `/v1/positions${symbol === undefined ? "" : `?symbol=${symbol}`}`,
  );
  return (answer.json["positions"] as unknown[]).length;
}

test("30 OPENs at once against max_positions 10: 10 fill, 20 are MAX_POSITIONS", async () => {
  const stack = await startStack(cleanups, { risk: { max_positions: 10 } });
  const answers = await Promise.all(
    Array.from({ length: 30 }, (_, i) =>
      stack.api.call("POST", "/v1/orders", {
        ...OPEN,
        symbol: ["EURUSD", "GBPUSD", "USDJPY"][i % 3],
        client_order_id: `cl-max-${i}`,
      }),
    ),
  );

  const held = await positionCount(stack.api);
  console.log(
    `[hostile] concurrent OPENs ${JSON.stringify({ sent: 30, max_positions: 10, answers: outcomes(answers), broker_positions: held })}`,
  );
  expect(outcomes(answers)).toEqual({ FILLED: 10, "DENIED MAX_POSITIONS": 20 });
  expect(held).toBe(10);
  // The limit still holds once they have all settled
  const after = await stack.api.call("POST", "/v1/orders", { ...OPEN, symbol: "EURUSD" });
  expect(outcomes([after])).toEqual({ "DENIED MAX_POSITIONS": 1 });
});

test("16 OPENs at once per symbol against max_positions_per_symbol 3: 3 fill on each", async () => {
  const stack = await startStack(cleanups, { risk: { max_positions_per_symbol: 3 } });
  const answers = await Promise.all(
    Array.from({ length: 32 }, (_, i) =>
      stack.api.call("POST", "/v1/orders", {
        ...OPEN,
        symbol: i % 2 === 0 ? "EURUSD" : "GBPUSD",
        client_order_id: `cl-sym-${i}`,
      }),
    ),
  );

  console.log(
    `[hostile] concurrent OPENs per symbol ${JSON.stringify({ sent: 32, max_positions_per_symbol: 3, answers: outcomes(answers) })}`,
  );
  expect(outcomes(answers)).toEqual({ FILLED: 6, "DENIED MAX_POSITIONS_PER_SYMBOL": 26 });
  expect([
    await positionCount(stack.api, "EURUSD"),
    await positionCount(stack.api, "GBPUSD"),
  ]).toEqual([3, 3]);
});

test("two partial closes at once that only one fits: one fills, one is INVALID_CLOSE_VOLUME", async () => {
  const stack = await startStack(cleanups);
  const opened = await stack.api.call("POST", "/v1/orders", {
    symbol: "EURUSD",
    side: "BUY",
    volume: 0.3,
  });
  const ticket = (opened.json["reply"] as { ticket: number }).ticket;
  const answers = await Promise.all(
    [1, 2].map((n) =>
      stack.api.call("POST", `/v1/positions/${ticket}/close`, {
        volume: 0.2,
        client_order_id: `cl-close-${n}`,
      }),
    ),
  );

  console.log(
    `[hostile] concurrent partial closes ${JSON.stringify({ position: 0.3, closes: [0.2, 0.2], answers: outcomes(answers) })}`,
  );
  expect(outcomes(answers)).toEqual({ FILLED: 1, "DENIED INVALID_CLOSE_VOLUME": 1 });
  const left = await stack.api.call("GET", "/v1/positions");
  expect(left.json["positions"]).toMatchObject([{ ticket, volume: 0.1 }]);
});
