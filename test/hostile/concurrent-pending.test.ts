/**
 * Pending orders under concurrent orders through the real agents (issue 15 §4): agent-gtw on the
 * simulated MT5 and agent-inf as processes, PLACEs sent at once through agent-inf's local API.
 * A pending order counts as the position it may become, so exactly each limit's worth is placed
 * and the rest are DENIED with the limit's code, PLACEs and OPENs count each other, and the
 * broker holds exactly the orders and positions that were answered FILLED.
 *
 * The gateway's own cap (limits.max_open_positions) is far above these limits, so what holds
 * them is agent-inf's risk monitor alone.
 */
import { afterEach, expect, test } from "bun:test";
import type { SymbolInfo } from "../../shared/protocol/index.ts";
import { type ApiAnswer, type ApiClient, Cleanups, startStack } from "../faults/support.ts";

const cleanups = new Cleanups();
afterEach(() => cleanups.run());

function outcomes(answers: readonly ApiAnswer[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const { json } of answers) {
    const denial = (json["denial"] as { code?: string } | undefined)?.code;
    const key = denial === undefined ? String(json["outcome"]) : `DENIED ${denial}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

/** A BUY_LIMIT 1 % under the market of `symbol`, far from triggering. */
async function buyLimit(api: ApiClient, symbol: string): Promise<Record<string, unknown>> {
  const info = (await api.call("GET", `/v1/symbols/${symbol}`)).json["symbol_info"] as SymbolInfo;
  return {
    type: "BUY_LIMIT",
    symbol,
    volume: 0.01,
    price: Number((info.bid * 0.99).toFixed(info.digits)),
  };
}

async function count(api: ApiClient, what: "pending" | "positions", symbol?: string) {
  const query = symbol === undefined ? "" : `?symbol=${symbol}`;
  const answer = await api.call("GET", `/v1/${what}${query}`);
  return (answer.json[what === "pending" ? "orders" : "positions"] as unknown[]).length;
}

test("30 PLACEs at once against max_positions 10: 10 placed, 20 MAX_POSITIONS", async () => {
  const stack = await startStack(cleanups, { risk: { max_positions: 10 } });
  const symbols = ["EURUSD", "GBPUSD", "USDJPY"];
  const orders = await Promise.all(symbols.map((symbol) => buyLimit(stack.api, symbol)));
  const answers = await Promise.all(
    Array.from({ length: 30 }, (_, i) =>
      stack.api.call("POST", "/v1/pending", { ...orders[i % 3], client_order_id: `hp-max-${i}` }),
    ),
  );

  const held = await count(stack.api, "pending");
  console.log(
    `[hostile] concurrent PLACEs ${JSON.stringify({ sent: 30, max_positions: 10, answers: outcomes(answers), broker_orders: held })}`,
  );
  expect(outcomes(answers)).toEqual({ FILLED: 10, "DENIED MAX_POSITIONS": 20 });
  expect(held).toBe(10);
  // Settled, the orders still count: an OPEN is refused too
  const open = await stack.api.call("POST", "/v1/orders", {
    symbol: "EURUSD",
    side: "BUY",
    volume: 0.01,
  });
  expect(outcomes([open])).toEqual({ "DENIED MAX_POSITIONS": 1 });
});

test("32 PLACEs at once on two symbols against max_positions_per_symbol 3: 3 on each", async () => {
  const stack = await startStack(cleanups, { risk: { max_positions_per_symbol: 3 } });
  const [eur, gbp] = await Promise.all([
    buyLimit(stack.api, "EURUSD"),
    buyLimit(stack.api, "GBPUSD"),
  ]);
  const answers = await Promise.all(
    Array.from({ length: 32 }, (_, i) =>
      stack.api.call("POST", "/v1/pending", {
        ...(i % 2 === 0 ? eur : gbp),
        client_order_id: `hp-sym-${i}`,
      }),
    ),
  );

  console.log(
    `[hostile] concurrent PLACEs per symbol ${JSON.stringify({ sent: 32, max_positions_per_symbol: 3, answers: outcomes(answers) })}`,
  );
  expect(outcomes(answers)).toEqual({ FILLED: 6, "DENIED MAX_POSITIONS_PER_SYMBOL": 26 });
  expect([
    await count(stack.api, "pending", "EURUSD"),
    await count(stack.api, "pending", "GBPUSD"),
  ]).toEqual([3, 3]);
});

test("20 PLACEs and 20 OPENs at once against max_positions 12: 12 in all", async () => {
  const stack = await startStack(cleanups, { risk: { max_positions: 12 } });
  const order = await buyLimit(stack.api, "EURUSD");
  const answers = await Promise.all(
    Array.from({ length: 40 }, (_, i) =>
      i % 2 === 0
        ? stack.api.call("POST", "/v1/pending", { ...order, client_order_id: `hp-mix-p${i}` })
        : stack.api.call("POST", "/v1/orders", {
            symbol: "EURUSD",
            side: "BUY",
            volume: 0.01,
            client_order_id: `hp-mix-o${i}`,
          }),
    ),
  );

  const held = (await count(stack.api, "pending")) + (await count(stack.api, "positions"));
  console.log(
    `[hostile] concurrent PLACEs and OPENs ${JSON.stringify({ sent: 40, max_positions: 12, answers: outcomes(answers), broker_orders_and_positions: held })}`,
  );
  expect(outcomes(answers)).toEqual({ FILLED: 12, "DENIED MAX_POSITIONS": 28 });
  expect(held).toBe(12);
});

test("12 PLACEs at once against max_orders_per_second 4: 4 placed, 8 RATE_LIMIT_PER_SECOND", async () => {
  const stack = await startStack(cleanups, { risk: { max_orders_per_second: 4 } });
  const order = await buyLimit(stack.api, "EURUSD");
  const answers = await Promise.all(
    Array.from({ length: 12 }, (_, i) =>
      stack.api.call("POST", "/v1/pending", { ...order, client_order_id: `hp-rate-${i}` }),
    ),
  );

  console.log(
    `[hostile] concurrent PLACEs per second ${JSON.stringify({ sent: 12, max_orders_per_second: 4, answers: outcomes(answers) })}`,
  );
  expect(outcomes(answers)).toEqual({ FILLED: 4, "DENIED RATE_LIMIT_PER_SECOND": 8 });
  expect(await count(stack.api, "pending")).toBe(4);
});
