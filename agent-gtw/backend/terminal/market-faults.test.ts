/**
 * Market data through the terminal when something is wrong (docs/EA-LINK.md §7.13–§7.19, §9):
 * bad input refused by the gateway before anything reaches the EA, history the terminal is still
 * loading answered HISTORY_LOADING (never as a short page), an EA older than the market commands
 * or beyond its Max bars in chart answered NOT_SUPPORTED by name, a deal type the protocol has no
 * name for, and every kind of malformed EA answer closing the link with its reason.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { eventually } from "../../../scripts/harness/eventually.ts";
import { encodeCursor } from "../../../shared/protocol/index.ts";
import { MARKET_COMMANDS } from "./terminal-market.ts";
import type { EaRecord, FlatObject } from "./testing/ea-json.ts";
import { marketGateways, rowsOf } from "./testing/market-gateway.ts";
import {
  cleanupRigs,
  expectNoReaderViolations,
  openOrder,
  type Rig,
  reconnected,
  startCheckedRig,
} from "./testing/rig.ts";

afterEach(async () => {
  expectNoReaderViolations();
  await cleanupRigs();
});

const MINUTE = 60_000;
const DAY = 86_400_000;

async function rig(options: Parameters<typeof startCheckedRig>[0] = {}) {
  const started = await startCheckedRig({ ...options, fake: { gmtOffsetS: 0, ...options.fake } });
  return { rig: started, ...marketGateways(started) };
}

const marketSent = (r: Rig) =>
  r.fake.commands.filter((c) => (MARKET_COMMANDS as readonly string[]).includes(c.cmd));

describe("refused at the gateway, before the EA", () => {
  test.each([
    [
      { action: "GET_RATES", symbol: "EURUSD", timeframe: "M7", start: 0, count: 10 },
      "INVALID_TIMEFRAME",
    ],
    [
      { action: "GET_RATES", symbol: "EURUSD", timeframe: "H1", start: 0, count: 0 },
      "INVALID_COUNT",
    ],
    [
      { action: "GET_RATES", symbol: "EURUSD", timeframe: "M1", start: 999_999, count: 2 },
      "RANGE_TOO_LONG",
    ],
    [
      { action: "GET_RATES", symbol: "EURUSD", timeframe: "M1", from: 0, to: 1_795_000_000_000 },
      "RANGE_TOO_LONG",
    ],
    [
      { action: "GET_RATES", symbol: "EURUSD", timeframe: "M1", from: 2_000, to: 1_000 },
      "INVALID_RANGE",
    ],
    [{ action: "GET_TICKS", symbol: "EURUSD", from: 0, to: 40 * DAY }, "RANGE_TOO_LONG"],
    [{ action: "GET_TICKS", symbol: "EURUSD", from: 0, count: 1_000_001 }, "INVALID_COUNT"],
    [{ action: "GET_TICKS", symbol: "EURUSD", from: 0, count: 5, flags: "BID" }, "INVALID_REQUEST"],
    [{ action: "GET_HISTORY_DEALS", from: 0, to: 1, ticket: 5 }, "INVALID_REQUEST"],
    [
      {
        action: "GET_RATES",
        symbol: "EURUSD",
        timeframe: "M1",
        start: 0,
        count: 5,
        cursor: "R1.1.2.00000000",
      },
      "INVALID_CURSOR",
    ],
  ])("%o is %s", async (body, code) => {
    const { rig: r, terminal } = await rig();
    expect(await terminal.ask(body)).toMatchObject({ status: "ERROR", error_code: code });
    expect(marketSent(r)).toEqual([]);
  });
});

describe("history the terminal is still loading", () => {
  test("a short wait is waited out inside the EA: the whole answer, not a part", async () => {
    const { rig: r, terminal, sim } = await rig();
    r.fake.historyLoading.set("EURUSD", 15);
    const request = { action: "GET_RATES", symbol: "EURUSD", timeframe: "M5", start: 0, count: 50 };
    expect(rowsOf(await terminal.pages(request), "rates")).toEqual(
      rowsOf(await sim.pages(request), "rates"),
    );
  });

  test("a long one is HISTORY_LOADING, for bars, spans and ticks, until it is done", async () => {
    const { rig: r, terminal, sim } = await rig();
    const now = r.fakeClock.now();
    const requests = [
      { action: "GET_RATES", symbol: "EURUSD", timeframe: "H1", start: 0, count: 24 },
      { action: "GET_RATES", symbol: "EURUSD", timeframe: "M1", from: now - 30 * MINUTE, to: now },
      { action: "GET_TICKS", symbol: "EURUSD", from: now - MINUTE, count: 10 },
    ];
    for (const request of requests) {
      // 21 copies per command: 50 still loading lasts two commands
      r.fake.historyLoading.set("EURUSD", 50);
      for (let attempt = 0; attempt < 2; attempt++) {
        const reply = await terminal.ask(request);
        expect(reply).toMatchObject({ status: "ERROR", error_code: "HISTORY_LOADING" });
        expect(reply["error_msg"]).toContain("still loading");
      }
      const field = request.action === "GET_TICKS" ? "ticks" : "rates";
      expect(rowsOf(await terminal.pages(request), field)).toEqual(
        rowsOf(await sim.pages(request), field),
      );
    }
    expect(r.backend.link().state).toBe("UP");
  });
});

describe("named refusals, the link kept", () => {
  test("an EA older than the market commands: NOT_SUPPORTED naming the version; order history works", async () => {
    const { rig: r, terminal } = await rig({ fake: { eaVersion: "2.1.0" } });
    for (const body of [
      { action: "GET_SYMBOLS" },
      { action: "GET_TICK", symbol: "EURUSD" },
      { action: "GET_RATES", symbol: "EURUSD", timeframe: "M1", start: 0, count: 5 },
      { action: "GET_HISTORY_DEALS", position: 5 },
    ]) {
      const reply = await terminal.ask(body);
      expect(reply).toMatchObject({ status: "ERROR", error_code: "NOT_SUPPORTED" });
      expect(reply["error_msg"]).toContain("GatewayBridge 2.1.0; market data needs 2.2.0");
    }
    expect(await terminal.ask({ action: "GET_HISTORY_ORDERS", position: 5 })).toMatchObject({
      status: "OK",
      history_orders: [],
    });
    expect(marketSent(r)).toEqual([]);
  });

  test("bars beyond the terminal's Max bars in chart: NOT_SUPPORTED with the fix", async () => {
    const { rig: r, terminal } = await rig();
    r.fake.faults.push({
      kind: "reply",
      cmd: "GET_RATES",
      body: {
        ok: false,
        error: "HISTORY_LIMIT",
        error_msg:
          "beyond the terminal's Max bars in chart (100000); raise it in Tools > Options > Charts",
      },
    });
    const now = r.fakeClock.now();
    const reply = await terminal.ask({
      action: "GET_RATES",
      symbol: "EURUSD",
      timeframe: "M1",
      from: now - DAY,
      to: now,
    });
    expect(reply).toMatchObject({ status: "ERROR", error_code: "NOT_SUPPORTED" });
    expect(reply["error_msg"]).toContain("Max bars in chart");
    expect(r.backend.link().state).toBe("UP");
  });

  test("a deal type the protocol has no name for: NOT_SUPPORTED naming it", async () => {
    const { rig: r, terminal } = await rig();
    await r.backend.open(openOrder({ clientOrderId: "d-1" }));
    r.fake.faults.push({
      kind: "reply",
      cmd: "GET_HISTORY_DEALS",
      body: listing("deals", [{ ...deal(), type: "PENALTY" }]),
    });
    const now = r.clock.now();
    const reply = await terminal.ask({ action: "GET_HISTORY_DEALS", from: now - DAY, to: now });
    expect(reply).toMatchObject({ status: "ERROR", error_code: "NOT_SUPPORTED" });
    expect(reply["error_msg"]).toContain("type PENALTY");
    expect(r.backend.link().state).toBe("UP");
  });

  test("a forged tick cursor claiming 20,000 ticks of one millisecond continues after it", async () => {
    const { rig: r, terminal } = await rig();
    const from = r.fakeClock.now() - MINUTE;
    const body = { action: "GET_TICKS", symbol: "EURUSD", from, to: r.fakeClock.now() };
    const cursor = encodeCursor(body, "T", [from, 20_000, r.fakeClock.now(), 0]);
    expect(await terminal.ask({ ...body, cursor })).toMatchObject({ status: "OK" });
    const frame = r.fake.commands.find((c) => c.cmd === "GET_TICKS")?.frame;
    expect([frame?.integer("from"), frame?.integer("skip")]).toEqual([from + 1, 0]);
  });
});

/** A listing reply as the EA pages it (§7.3). */
function listing(key: string, items: EaRecord[]): EaRecord {
  return {
    ok: true,
    total: items.length,
    offset: 0,
    count: items.length,
    more: false,
    [key]: items,
  };
}

function deal(): EaRecord {
  return {
    ticket: 7,
    order: 8,
    position: 8,
    symbol: "EURUSD",
    type: "BUY",
    entry: "IN",
    reason: "EXPERT",
    volume: 0.1,
    price: 1.1,
    profit: 0,
    commission: 0,
    swap: 0,
    fee: 0,
    magic: 1,
    comment: "",
    external_id: "",
    time: Date.UTC(2026, 10, 18, 11, 0, 0),
  };
}

const bar = (time: number): number[] => [time, 1.1, 1.2, 1.0, 1.1, 10, 5, 0];
const tickRow = (time: number): number[] => [time, 1.1, 1.2, 0, 0, 6, 0];

/** Malformed answers: each must close the link (§6.3) and answer MT5_LINK_DOWN. */
describe("a malformed EA answer closes the link", () => {
  const NOW = Date.UTC(2026, 10, 18, 12, 0, 0);
  const cases: [
    string,
    Record<string, unknown>,
    string,
    (frame: FlatObject) => EaRecord,
    string,
  ][] = [
    [
      "a bar outside the range",
      ratesRange(),
      "GET_RATES",
      (f) => ({
        ok: true,
        count: 1,
        more: false,
        next: 0,
        rates: [bar((f.integer("to") as number) + MINUTE)],
      }),
      "outside",
    ],
    [
      "bars out of order",
      ratesRange(),
      "GET_RATES",
      (f) => ({
        ok: true,
        count: 2,
        more: false,
        next: 0,
        rates: [bar((f.integer("from") as number) + MINUTE), bar(f.integer("from") as number)],
      }),
      "time order",
    ],
    [
      "a bar row of 7 numbers",
      ratesRange(),
      "GET_RATES",
      (f) => ({
        ok: true,
        count: 1,
        more: false,
        next: 0,
        rates: [bar(f.integer("from") as number).slice(0, 7)],
      }),
      "8 numbers",
    ],
    [
      "more bars than the limit",
      ratesRange(),
      "GET_RATES",
      (f) => ({
        ok: true,
        count: 5001,
        more: false,
        next: 0,
        rates: Array.from({ length: 5001 }, (_, i) =>
          bar((f.integer("from") as number) + i * 1000),
        ),
      }),
      "at most 5000",
    ],
    [
      "a next that does not move",
      ratesRange(),
      "GET_RATES",
      (f) => ({ ok: true, count: 0, more: true, next: f.integer("from") as number, rates: [] }),
      "does not move",
    ],
    [
      "a count that differs from the rows",
      ratesRange(),
      "GET_RATES",
      () => ({ ok: true, count: 3, more: false, next: 0, rates: [] }),
      "count 3",
    ],
    [
      "a tick after the range",
      ticksRange(),
      "GET_TICKS",
      (f) => ({
        ok: true,
        count: 1,
        more: false,
        next_from: 0,
        next_skip: 0,
        ticks: [tickRow((f.integer("to") as number) + 1)],
      }),
      "outside",
    ],
    [
      "a tick next that goes back",
      ticksRange(),
      "GET_TICKS",
      (f) => ({
        ok: true,
        count: 0,
        more: true,
        next_from: (f.integer("from") as number) - 1,
        next_skip: 0,
        ticks: [],
      }),
      "does not move",
    ],
    [
      "a tick with a fractional volume",
      ticksRange(),
      "GET_TICKS",
      (f) => ({
        ok: true,
        count: 1,
        more: false,
        next_from: 0,
        next_skip: 0,
        ticks: [[f.integer("from") as number, 1.1, 1.2, 0, 0.5, 6, 0]],
      }),
      "volume",
    ],
    [
      "a span in the wrong order",
      { action: "GET_RATES", symbol: "EURUSD", timeframe: "H1", start: 0, count: 5 },
      "GET_RATE_SPAN",
      () => ({ ok: true, found: true, from: NOW, to: NOW - 3_600_000 }),
      "GET_RATE_SPAN",
    ],
    [
      "a span after its date",
      { action: "GET_RATES", symbol: "EURUSD", timeframe: "H1", from: NOW - DAY, count: 5 },
      "GET_RATE_SPAN",
      () => ({ ok: true, found: true, from: NOW - 3_600_000, to: NOW }),
      "at or before",
    ],
    [
      "a symbol name with a comma",
      { action: "GET_SYMBOLS" },
      "GET_SYMBOL_NAMES",
      () => listing("symbols", [{ name: "EUR,USD" }]),
      "without commas",
    ],
    [
      "a batch that took nothing",
      { action: "GET_SYMBOLS" },
      "GET_SYMBOLS",
      () => ({ ok: true, taken: 0, count: 0, symbols: [] }),
      "took 0",
    ],
    [
      "a symbol that was not asked",
      { action: "GET_SYMBOLS", group: "EUR*" },
      "GET_SYMBOLS",
      () => ({ ok: true, taken: 1, count: 1, symbols: [{ symbol: "GBPUSD" }] }),
      "not asked",
    ],
    [
      "a tick without a bid",
      { action: "GET_TICK", symbol: "EURUSD" },
      "GET_TICK",
      () => ({ ok: true, time_msc: NOW, ask: 1.1, last: 0, volume: 0, flags: 6, volume_real: 0 }),
      "bid",
    ],
    [
      "a deal with ticket 0",
      { action: "GET_HISTORY_DEALS", position: 8 },
      "GET_HISTORY_DEALS",
      () => listing("deals", [{ ...deal(), ticket: 0 }]),
      "ticket was 0",
    ],
  ];

  test.each(cases)("%s", async (_name, body, cmd, answer, reason) => {
    const { rig: r, terminal } = await rig();
    const before = r.fake.sessions;
    r.fake.faults.push({ kind: "reply", cmd, body: answer });
    const reply = await terminal.ask(body);
    expect(reply).toMatchObject({ status: "REJECTED", error_code: "MT5_LINK_DOWN" });
    expect(reply["error_msg"]).toContain(reason);
    await eventually(() =>
      r.logs.some((line) => line.message === "EA broke the link protocol; closing the link"),
    );
    // The EA redials, and the same read works on the new session
    await reconnected(r, before);
    expect(await terminal.ask(body)).toMatchObject({ status: "OK" });
  });

  function ratesRange() {
    return {
      action: "GET_RATES",
      symbol: "EURUSD",
      timeframe: "M1",
      from: NOW - 10 * MINUTE,
      to: NOW,
    };
  }

  function ticksRange() {
    return { action: "GET_TICKS", symbol: "EURUSD", from: NOW - MINUTE, to: NOW };
  }
});
