/**
 * The market-data routes on the real agents as processes (agent-gtw on the simulated MT5 with
 * forex sessions, agent-inf): every route, answers spanning many gateway pages, empty ranges,
 * the weekend gap, refusals with their named codes (never a 500), CSV equal to JSON, the deal
 * and order history of a real trade, and the limit on answers in flight.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { type MarketStack, startMarketStack } from "./market-stack.ts";

setDefaultTimeout(90_000);

let s: MarketStack;
beforeAll(async () => {
  s = await startMarketStack();
}, 60_000);
afterAll(async () => {
  await s?.stop();
}, 60_000);

interface Rows {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly rows: number[][];
}

async function rates(query: string, symbol = "EURUSD"): Promise<Rows> {
  const response = await s.get(`/v1/rates/${symbol}?${query}`);
  const body = (await response.json()) as Record<string, unknown>;
  return { status: response.status, body, rows: (body["rates"] ?? []) as number[][] };
}

async function ticks(query: string, symbol = "EURUSD"): Promise<Rows> {
  const response = await s.get(`/v1/ticks/${symbol}?${query}`);
  const body = (await response.json()) as Record<string, unknown>;
  return { status: response.status, body, rows: (body["ticks"] ?? []) as number[][] };
}

const iso = (ms: number) => new Date(ms).toISOString();
const MON = Date.UTC(2026, 10, 2); // Monday 2026-11-02 00:00 UTC

describe("bars", () => {
  test("a range across many gateway pages equals the same range read in parts", async () => {
    // Ten weekdays and two weekends of M1 bars: 14,400 rows, three gateway pages
    const from = MON;
    const to = Date.UTC(2026, 10, 16) - 1;
    const whole = await rates(`timeframe=M1&from=${iso(from)}&to=${iso(to)}`);
    const parts: number[][] = [];
    for (let start = from; start <= to; start += 4 * 86_400_000) {
      const end = Math.min(to, start + 4 * 86_400_000 - 1);
      parts.push(
        ...(await rates(`timeframe=M1&from=${start / 1000}&to=${Math.floor(end / 1000)}.999`)).rows,
      );
    }

    expect(whole.status).toBe(200);
    expect(whole.body["count"]).toBe(whole.rows.length);
    expect(whole.rows.length).toBe(10 * 1440);
    expect(whole.rows).toEqual(parts);
    const times = whole.rows.map((row) => row[0] as number);
    expect(times.every((t, i) => i === 0 || t > (times[i - 1] as number))).toBe(true);
    expect(times.every((t) => t % 60 === 0)).toBe(true);
    expect(whole.body).toMatchObject({
      symbol: "EURUSD",
      timeframe: "M1",
      fields: ["time", "open", "high", "low", "close", "tick_volume", "spread", "real_volume"],
    });
  });

  test("the weekend has no EURUSD bars, BTCUSD trades through it", async () => {
    const query = `timeframe=M1&from=2026-11-27T21:58:00Z&to=2026-11-29T22:01:00Z`;
    const eur = (await rates(query)).rows.map((row) => iso((row[0] as number) * 1000));
    const btc = await rates(query, "BTCUSD");

    expect(eur).toEqual([
      "2026-11-27T21:58:00.000Z",
      "2026-11-27T21:59:00.000Z",
      "2026-11-29T22:00:00.000Z",
      "2026-11-29T22:01:00.000Z",
    ]);
    expect(btc.rows.length).toBe(2 * 1440 + 4);
  });

  test("copy_rates_from: the count bars at or before from; copy_rates_from_pos by position", async () => {
    const from = await rates("timeframe=M1&from=2026-11-04T10:00:30Z&count=3");
    const latest = await rates("timeframe=H1&count=3");
    const shifted = await rates("timeframe=H1&start=1&count=2");

    expect(from.rows.map((row) => iso((row[0] as number) * 1000))).toEqual([
      "2026-11-04T09:58:00.000Z",
      "2026-11-04T09:59:00.000Z",
      "2026-11-04T10:00:00.000Z",
    ]);
    expect(latest.rows).toHaveLength(3);
    // The current bar is still being built; the two before it are the same bars either way
    expect(shifted.rows).toEqual(latest.rows.slice(0, 2));
  });

  test("empty ranges: before the history, or a closed market", async () => {
    const early = await rates("timeframe=D1&from=2014-01-01&to=2014-12-31");
    const weekend = await rates("timeframe=M5&from=2026-11-28T00:00:00Z&to=2026-11-28T23:59:59Z");

    expect(early).toMatchObject({ status: 200, rows: [] });
    expect(early.body["count"]).toBe(0);
    expect(weekend).toMatchObject({ status: 200, rows: [] });
  });

  test("CSV carries the same bars as JSON", async () => {
    const query = "timeframe=M15&from=2026-11-02&to=2026-11-03";
    const json = await rates(query);
    const response = await s.get(`/v1/rates/EURUSD?${query}`, { accept: "text/csv" });
    const lines = (await response.text()).trimEnd().split("\r\n");

    expect(response.headers.get("content-type")).toStartWith("text/csv");
    expect(lines[0]).toBe("time,open,high,low,close,tick_volume,spread,real_volume");
    expect(lines.slice(1).map((line) => line.split(",").map(Number))).toEqual(json.rows);
  });
});

describe("ticks and the last tick", () => {
  test("a tick range over several pages equals its parts, oldest first", async () => {
    const from = Date.UTC(2026, 10, 3, 13);
    const to = from + 3 * 3_600_000 - 1;
    const whole = await ticks(`from=${iso(from)}&to=${iso(to)}`);
    const parts: number[][] = [];
    for (let start = from; start < to; start += 3_600_000)
      parts.push(...(await ticks(`from=${iso(start)}&to=${iso(start + 3_599_999)}`)).rows);

    expect(whole.status).toBe(200);
    expect(whole.rows.length).toBeGreaterThan(5000);
    expect(whole.rows).toEqual(parts);
    expect(whole.body["fields"]).toEqual([
      "time",
      "bid",
      "ask",
      "last",
      "volume",
      "time_msc",
      "flags",
      "volume_real",
    ]);
    const msc = whole.rows.map((row) => row[5] as number);
    expect(msc.every((t, i) => i === 0 || t >= (msc[i - 1] as number))).toBe(true);
    expect(whole.rows.every((row) => row[0] === Math.floor((row[5] as number) / 1000))).toBe(true);
  });

  test("from+count, and the flags", async () => {
    const all = await ticks("from=2026-11-03T13:00:00Z&count=10");
    const info = await ticks("from=2026-11-03T13:00:00Z&count=10&flags=INFO");
    const trade = await ticks("from=2026-11-03T13:00:00Z&count=10&flags=TRADE");

    expect(all.rows).toHaveLength(10);
    expect(info.rows).toEqual(all.rows);
    // The sim quotes bid and ask only: no trade ticks
    expect(trade.rows).toEqual([]);
  });

  test("the last tick, as symbol_info_tick gives it", async () => {
    const response = await s.get("/v1/ticks/BTCUSD/last");
    const body = (await response.json()) as { tick: Record<string, number> };

    expect(response.status).toBe(200);
    expect(Object.keys(body.tick)).toEqual([
      "time",
      "bid",
      "ask",
      "last",
      "volume",
      "time_msc",
      "flags",
      "volume_real",
    ]);
    expect(body.tick["time"]).toBe(Math.floor((body.tick["time_msc"] as number) / 1000));
    expect(Math.abs((body.tick["time_msc"] as number) - Date.now())).toBeLessThan(60_000);
  });
});

describe("symbols", () => {
  test("all symbols and a group, sorted, with the total", async () => {
    const all = (await (await s.get("/v1/symbols")).json()) as {
      symbols: { symbol: string }[];
      total: number;
      count: number;
    };
    const group = (await (await s.get("/v1/symbols?group=*,!*USD*")).json()) as {
      symbols: { symbol: string }[];
    };

    const names = all.symbols.map((info) => info.symbol);
    expect(names).toEqual([...names].sort());
    expect(names).toContain("EURUSD");
    expect(all.total).toBe(names.length);
    expect(all.count).toBe(names.length);
    expect(group.symbols.map((info) => info.symbol)).toEqual(
      names.filter((name) => !name.includes("USD")),
    );
  });
});

describe("history", () => {
  test("the deals and orders of a trade, by range, position, ticket and group, JSON and CSV", async () => {
    const before = Math.floor(Date.now() / 1000) - 1;
    const opened = (await (
      await s.post("/v1/orders", { symbol: "BTCUSD", side: "BUY", volume: 0.01 })
    ).json()) as { outcome: string; reply: { ticket: number; deal: number } };
    expect(opened.outcome).toBe("FILLED");
    const position = opened.reply.ticket;
    const closed = await s.post(`/v1/positions/${position}/close`, {});
    expect(closed.status).toBe(200);
    const after = Math.ceil(Date.now() / 1000) + 1;

    const get = async (path: string) =>
      (await (await s.get(path)).json()) as Record<string, unknown>;
    const range = await get(`/v1/history/deals?from=${before}&to=${after}`);
    const byPosition = await get(`/v1/history/deals?position=${position}`);
    const byTicket = await get(`/v1/history/deals?ticket=${opened.reply.deal}`);
    const otherGroup = await get(`/v1/history/deals?from=${before}&to=${after}&group=EUR*`);
    const orders = await get(`/v1/history/orders?position=${position}`);
    const csv = await (await s.get(`/v1/history/deals?position=${position}&format=csv`)).text();

    const deals = range["history_deals"] as Record<string, unknown>[];
    expect(deals.map((deal) => deal["entry"])).toEqual(["IN", "OUT"]);
    expect(deals.every((deal) => deal["position"] === position)).toBe(true);
    for (const deal of deals) {
      expect(deal["time"]).toBe(Math.floor((deal["time_msc"] as number) / 1000));
      expect(deal["time"] as number).toBeGreaterThanOrEqual(before);
    }
    expect(byPosition["history_deals"]).toEqual(deals);
    expect(byTicket["history_deals"]).toEqual([deals[0]]);
    expect(otherGroup["history_deals"]).toEqual([]);
    const orderList = orders["history_orders"] as Record<string, unknown>[];
    expect(orderList.map((order) => order["state"])).toEqual(["FILLED", "FILLED"]);
    expect(orderList[0]).toMatchObject({ position_id: position, symbol: "BTCUSD" });
    expect(orderList[0]?.["time_setup"]).toBe(
      Math.floor((orderList[0]?.["time_setup_msc"] as number) / 1000),
    );
    const lines = csv.trimEnd().split("\r\n");
    expect(lines).toHaveLength(3);
    expect(lines[0]?.split(",")).toContain("time_msc");
  });
});

describe("refusals", () => {
  // Every one a 4xx with its code, none a 500, and nothing left in flight
  test.each([
    ["/v1/rates/EURUSD?timeframe=M7&count=5", 400, "INVALID_TIMEFRAME"],
    ["/v1/rates/EURUSD?timeframe=M1&count=1000001", 400, "INVALID_COUNT"],
    ["/v1/rates/EURUSD?timeframe=M1&from=2010-01-01&to=2026-01-01", 400, "RANGE_TOO_LONG"],
    ["/v1/rates/EURUSD?timeframe=M1&from=tomorrow&count=5", 400, "INVALID_TIME"],
    ["/v1/rates/EURUSD?timeframe=M1&from=2026-12-02&to=2026-12-01", 400, "INVALID_RANGE"],
    ["/v1/ticks/EURUSD?from=2026-10-01&to=2026-12-01", 400, "RANGE_TOO_LONG"],
    ["/v1/ticks/EURUSD?from=2026-10-01", 400, "INVALID_REQUEST"],
    ["/v1/history/deals", 400, "INVALID_REQUEST"],
    ["/v1/rates/NOPE?timeframe=M1&count=5", 404, "UNKNOWN_SYMBOL"],
    ["/v1/ticks/NOPE/last", 404, "UNKNOWN_SYMBOL"],
    ["/v1/rates/EURUSD?timeframe=M1&count=5&gateway=elsewhere", 404, "UNKNOWN_GATEWAY"],
    ["/v1/symbols?format=csv", 406, "NOT_ACCEPTABLE"],
  ])("%s: %d %s", async (path, status, code) => {
    const response = await s.get(path);
    const body = (await response.json()) as { error: { code: string } };

    expect(response.status).toBe(status);
    expect(body.error.code).toBe(code);
  });

  test("answers in flight are limited per gateway and released when clients go away", async () => {
    const controllers: AbortController[] = [];
    const open = async () => {
      const controller = new AbortController();
      controllers.push(controller);
      return s.get("/v1/rates/EURUSD?timeframe=M1&count=1000000", {}, controller.signal);
    };
    const held: Response[] = [];
    for (let i = 0; i < 16; i++) held.push(await open());
    const refused = await open();
    const refusedBody = (await refused.json()) as { error: { code: string } };
    for (const controller of controllers) controller.abort();
    await Promise.allSettled(held.map((response) => response.body?.cancel()));

    expect(held.every((response) => response.status === 200)).toBe(true);
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBe("1");
    expect(refusedBody.error.code).toBe("TOO_MANY_REQUESTS");
    // Freed: the agent sees the clients leave and gives their places back
    let again: Response | undefined;
    for (let attempt = 0; attempt < 100; attempt++) {
      again = await s.get("/v1/rates/EURUSD?timeframe=M1&count=10");
      if (again.status === 200) break;
      await again.body?.cancel();
      await Bun.sleep(50);
    }
    expect(again?.status).toBe(200);
  });
});
