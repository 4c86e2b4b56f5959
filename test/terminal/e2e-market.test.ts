/**
 * Market data end to end on the terminal backend: the real agent-gtw process, the fake terminal
 * (a broker at UTC+2) dialling its EA port, our CURVE test client in front, asking what a strategy
 * asks: the symbol list, the last tick, bars in the three forms, ticks and the deal history of a
 * trade it made. Bars and ticks carry the broker's server time; deals are UTC.
 */
import { afterEach, expect, test } from "bun:test";
import { MARKET_COMMANDS } from "../../agent-gtw/backend/terminal/terminal-market.ts";
import { cleanupRigs } from "../../agent-gtw/backend/terminal/testing/rig.ts";
import type {
  HistoryDeal,
  RateRow,
  Reply,
  SymbolInfo,
  Tick,
  TickRow,
  TradeReply,
} from "../../shared/protocol/index.ts";
import { liveTerminalGateway } from "../support/terminal-gateway.ts";

afterEach(cleanupRigs);

const MINUTE = 60_000;
const SERVER_OFFSET = 7_200_000;

type Page = Reply & Record<string, unknown>;

test("a strategy reads symbols, ticks, bars and its deals through the EA link", async () => {
  const { fake, c } = await liveTerminalGateway({ command_timeout_ms: 5000 });
  const ask = async (body: Record<string, unknown>) => (await c.send(body as never)) as Page;
  const all = async (body: Record<string, unknown>, field: string) => {
    const rows: unknown[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 100; page++) {
      const reply = await ask(cursor === undefined ? body : { ...body, cursor });
      expect(reply).toMatchObject({ status: "OK" });
      rows.push(...(reply[field] as unknown[]));
      if (reply["more"] !== true) return rows;
      cursor = reply["next"] as string;
    }
    throw new Error("paging did not end");
  };

  const symbols = (await all(
    { action: "GET_SYMBOLS", group: "*USD*,!BTC*" },
    "symbols",
  )) as SymbolInfo[];
  expect(symbols.map((s) => s.symbol)).toEqual(["EURUSD", "GBPUSD", "USDJPY", "XAUUSD"]);
  expect(symbols[0]).toMatchObject({ digits: 5, volume_step: 0.01, execution_mode: "MARKET" });

  const serverNow = Date.now() + SERVER_OFFSET;
  const tick = (await ask({ action: "GET_TICK", symbol: "EURUSD" }))["tick"] as Tick;
  expect(Math.abs(tick.time_msc - serverNow)).toBeLessThan(30_000);
  expect(tick.ask).toBeGreaterThan(tick.bid);

  const byPosition = (await all(
    { action: "GET_RATES", symbol: "EURUSD", timeframe: "M1", start: 0, count: 30 },
    "rates",
  )) as RateRow[];
  expect(byPosition).toHaveLength(30);
  const newest = byPosition[29]![0];
  expect(Math.abs(newest - Math.floor(serverNow / MINUTE) * MINUTE)).toBeLessThanOrEqual(MINUTE);
  const range = (await all(
    { action: "GET_RATES", symbol: "EURUSD", timeframe: "M1", from: byPosition[0]![0], to: newest },
    "rates",
  )) as RateRow[];
  expect(range.slice(0, -1)).toEqual(byPosition.slice(0, -1));
  const fromDate = (await all(
    { action: "GET_RATES", symbol: "EURUSD", timeframe: "H1", from: newest, count: 3 },
    "rates",
  )) as RateRow[];
  expect(fromDate).toHaveLength(3);
  expect(fromDate[2]![0]).toBe(Math.floor(newest / 3_600_000) * 3_600_000);

  const ticks = (await all(
    { action: "GET_TICKS", symbol: "EURUSD", from: newest - 5 * MINUTE, to: newest, flags: "INFO" },
    "ticks",
  )) as TickRow[];
  expect(ticks.length).toBeGreaterThan(10);
  expect(ticks.every((t) => t[0] >= newest - 5 * MINUTE && t[0] <= newest)).toBe(true);

  const open = (await c.send({
    action: "OPEN",
    symbol: "EURUSD",
    side: "BUY",
    volume: 0.1,
  })) as TradeReply;
  expect(open).toMatchObject({ status: "FILLED" });
  const close = (await c.send({ action: "CLOSE", ticket: open.ticket as number })) as TradeReply;
  expect(close).toMatchObject({ status: "FILLED" });
  const deals = (await all(
    { action: "GET_HISTORY_DEALS", position: open.ticket },
    "history_deals",
  )) as HistoryDeal[];
  expect(deals.map((d) => [d.type, d.entry, d.volume])).toEqual([
    ["BUY", "IN", 0.1],
    ["SELL", "OUT", 0.1],
  ]);
  // Deals are UTC, like every other record
  expect(Math.abs(deals[0]!.time - Date.now())).toBeLessThan(30_000);

  // A bad timeframe as raw bytes (the client's encoder would refuse it): the gateway refuses it
  const id = "bad-timeframe";
  const bad = {
    v: 1,
    id,
    ts: Date.now(),
    action: "GET_RATES",
    symbol: "EURUSD",
    timeframe: "M7",
    start: 0,
    count: 5,
  };
  expect(await c.sendFrames([new TextEncoder().encode(JSON.stringify(bad))], id)).toMatchObject({
    status: "ERROR",
    error_code: "INVALID_TIMEFRAME",
  });
  expect(await ask({ action: "GET_TICK", symbol: "NOPE" })).toMatchObject({
    status: "REJECTED",
    error_code: "UNKNOWN_SYMBOL",
  });
  const cmds = fake.commands.map((cmd) => cmd.cmd);
  for (const cmd of MARKET_COMMANDS) expect(cmds).toContain(cmd);
  expect(fake.violations).toEqual([]);
});
