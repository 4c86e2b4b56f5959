/**
 * The conformance suite against the fake terminal (the CI stand-in for a real MT5 terminal):
 * read-only, each behaviour step by name, the DEMO round trips (market and pending), the refusal to trade anything
 * but DEMO (by HELLO and by GET_ACCOUNT), and how failures read.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { Retcode } from "../../../shared/protocol/index.ts";
import { bookOrderHistory } from "../../backend/sim/testing/support.ts";
import type { FlatObject } from "../../backend/terminal/testing/ea-json.ts";
import { cleanupRigs, type Rig, startRig, tradeBody } from "../../backend/terminal/testing/rig.ts";
import { runSelftest, type SelftestReport } from "./selftest.ts";

afterEach(cleanupRigs);

async function selftest(
  rig: Rig,
  options: { trade?: boolean; symbol?: string } = {},
): Promise<{ report: SelftestReport; lines: string[] }> {
  const lines: string[] = [];
  const report = await runSelftest({
    backend: rig.backend,
    trade: options.trade ?? false,
    symbol: options.symbol ?? "EURUSD",
    out: (line) => lines.push(line),
    clock: rig.clock,
    magic: 31337,
    eventTimeoutMs: 5000,
  });
  return { report, lines };
}

/** The next `cmd` is answered with this trade reply instead of being run (the fake's "reply" fault). */
function answerNext(
  rig: Rig,
  cmd: "OPEN" | "MODIFY" | "MODIFY_ORDER",
  source: "EA" | "SERVER",
  retcode: number,
  comment: string,
  levels: (frame: FlatObject) => { sl?: number; tp?: number } = () => ({}),
  filling = "",
): void {
  rig.fake.faults.push({
    kind: "reply",
    cmd,
    body: (frame) =>
      tradeBody(
        cmd,
        frame.string("client_order_id") as string,
        source,
        retcode,
        comment,
        levels(frame),
        filling,
      ),
  });
}

/** A position someone else opened (the read-only steps list it, the deals step counts its deal). */
function openExisting(rig: Rig) {
  return rig.fake.sim.open({
    clientOrderId: "existing",
    symbol: "GBPUSD",
    side: "SELL",
    volume: 0.2,
    sl: null,
    tp: null,
    deviation: 10,
    magic: 1,
    comment: "",
  });
}

const names = (report: SelftestReport) =>
  report.results.map((r) => `${r.ok ? "PASS" : "FAIL"} ${r.name}`);

describe("read-only", () => {
  test("every check passes against a healthy terminal, one line each", async () => {
    const rig = await startRig();
    await openExisting(rig);
    const { report, lines } = await selftest(rig);
    expect(names(report)).toEqual([
      "PASS link",
      "PASS hello",
      "PASS link authentication",
      "PASS ping",
      "PASS server time",
      "PASS account",
      "PASS positions",
      "PASS symbol EURUSD",
      "PASS order mode EURUSD",
      "PASS filling EURUSD",
      "PASS unknown symbol",
      "PASS deals",
      "PASS orders",
      "PASS pending modes EURUSD",
      "PASS order check EURUSD",
      "PASS calc margin EURUSD",
      "PASS calc profit EURUSD",
      "PASS symbols",
      "PASS tick EURUSD",
      "PASS rates EURUSD M1 by position",
      "PASS rates EURUSD M1 from a date",
      "PASS rates EURUSD M1 range",
      "PASS ticks EURUSD",
      "PASS history deals",
    ]);
    expect(report).toMatchObject({ passed: 24, failed: 0 });
    expect(lines).toHaveLength(24);
    expect(lines.find((l) => l.startsWith("PASS positions"))).toBe("PASS positions: 1 open");
    expect(lines.find((l) => l.startsWith("PASS symbol"))).toContain(
      "tick size 0.00001, volume 0.01–",
    );
    expect(lines.find((l) => l.startsWith("PASS account"))).toContain("DEMO (GET_ACCOUNT)");
    expect(lines.find((l) => l.startsWith("PASS filling"))).toContain(
      "the EA sends ORDER_FILLING_FOK on OPEN and CLOSE (MARKET execution",
    );
    expect(lines.find((l) => l.startsWith("PASS order mode"))).toContain(
      "market orders allowed, SL allowed, TP allowed",
    );
    expect(lines.find((l) => l.startsWith("PASS pending modes"))).toBe(
      "PASS pending modes EURUSD: SYMBOL_ORDER_MODE allows LIMIT, STOP, STOP_LIMIT; SYMBOL_EXPIRATION_MODE allows GTC, DAY, SPECIFIED, SPECIFIED_DAY",
    );
    expect(lines.find((l) => l.startsWith("PASS order check"))).toContain(
      "a BUY of 0.01: 0 Done, margin after",
    );
    const trades = ["OPEN", "CLOSE", "MODIFY", "PLACE", "MODIFY_ORDER", "CANCEL", "CLOSE_BY"];
    expect(rig.fake.commands.some((c) => trades.includes(c.cmd))).toBe(false);
  });

  test("the market steps read the broker's data in every form and say what they found", async () => {
    const rig = await startRig();
    await openExisting(rig);
    const { lines } = await selftest(rig);
    const line = (start: string) => lines.find((l) => l.startsWith(start)) ?? "";
    expect(line("PASS symbols")).toBe(
      "PASS symbols: 7 symbols on the server (Market Watch or not), 7 on the first page; EURUSD among them as GET_SYMBOL_INFO gives it",
    );
    expect(line("PASS tick EURUSD")).toMatch(
      /^PASS tick EURUSD: bid 1\.\d+ ask 1\.\d+ at 2026-11-18 1\d:\d\d:\d\d server time, -?\d+\.\d s old/,
    );
    // The fake broker's clock is UTC+2
    expect(line("PASS rates EURUSD M1 by position")).toBe(
      "PASS rates EURUSD M1 by position: 60 bars, 2026-11-18 13:00:00 to 2026-11-18 13:59:00 server time",
    );
    expect(line("PASS rates EURUSD M1 from a date")).toContain("the same as by position");
    expect(line("PASS rates EURUSD M1 range")).toContain("60 bars from 2026-11-18 13:00:00");
    expect(line("PASS ticks EURUSD")).toMatch(
      /ticks \(\d+ INFO\) in the bar of .*; its open [\d.]+ is the first tick's bid/,
    );
    expect(line("PASS history deals")).toBe(
      "PASS history deals: 1 in the last 24 hours (1 trades, 0 other: balance, commission…), as GET_DEALS",
    );
  });

  test("an EA older than the market commands fails each market step by name", async () => {
    const rig = await startRig({ fake: { eaVersion: "2.1.0" } });
    const { report, lines } = await selftest(rig);
    expect(names(report).filter((n) => n.startsWith("FAIL"))).toEqual([
      "FAIL symbols",
      "FAIL tick EURUSD",
      "FAIL rates EURUSD M1 by position",
      "FAIL rates EURUSD M1 from a date",
      "FAIL rates EURUSD M1 range",
      "FAIL ticks EURUSD",
      "FAIL history deals",
    ]);
    expect(lines.find((l) => l.startsWith("FAIL symbols"))).toContain(
      "NOT_SUPPORTED: terminal: the EA is GatewayBridge 2.1.0; market data needs 2.2.0 or later",
    );
  });

  test("history MT5 is still loading is asked again, and named when it takes too long", async () => {
    const rig = await startRig();
    rig.fake.historyLoading.set("EURUSD", 30);
    const { lines } = await selftest(rig);
    expect(lines.find((l) => l.startsWith("PASS rates EURUSD M1 by position"))).toContain(
      "MT5 loaded the history after 1 HISTORY_LOADING answers",
    );
    const slow = await startRig();
    slow.fake.historyLoading.set("EURUSD", 1000);
    const failed = await selftest(slow);
    expect(failed.lines.find((l) => l.startsWith("PASS tick EURUSD"))).toBeDefined();
    expect(failed.lines.find((l) => l.startsWith("FAIL rates EURUSD M1 by position"))).toContain(
      "GET_RATES: HISTORY_LOADING: terminal: MT5 is still loading the history of EURUSD M1",
    );
  });

  test("a DOWN link fails at once and checks nothing else", async () => {
    const rig = await startRig({ connect: false });
    const { report, lines } = await selftest(rig);
    expect(report).toMatchObject({ passed: 0, failed: 1 });
    expect(lines).toEqual(["FAIL link: DOWN (EA not connected); nothing else can be checked"]);
  });

  test("TRADE_DISABLED fails the link and names the flag in the PING check", async () => {
    const rig = await startRig({ fake: { status: { terminal_trade_allowed: false } } });
    const { report, lines } = await selftest(rig, { trade: true });
    expect(names(report).filter((n) => n.startsWith("FAIL"))).toEqual([
      "FAIL link",
      "FAIL ping",
      "FAIL trade",
    ]);
    expect(lines.find((l) => l.startsWith("FAIL ping"))).toContain("terminal_trade_allowed false");
    expect(lines.at(-1)).toContain("refusing to trade: the link is TRADE_DISABLED");
  });

  test("an unknown --symbol fails its check", async () => {
    const rig = await startRig();
    const { report } = await selftest(rig, { symbol: "NOPE" });
    expect(names(report)).toContain("FAIL symbol NOPE");
  });
});

describe("--trade", () => {
  test("the DEMO round trip opens, repeats, modifies and closes one minimum lot", async () => {
    const rig = await startRig();
    const { report, lines } = await selftest(rig, { trade: true });
    expect(report.failed).toBe(0);
    expect(names(report).slice(-8)).toEqual([
      "PASS open",
      "PASS duplicate",
      "PASS modify",
      "PASS close",
      "PASS pending place",
      "PASS pending duplicate",
      "PASS pending modify",
      "PASS pending cancel",
    ]);
    expect(lines.find((l) => l.startsWith("PASS duplicate"))).toContain("duplicate: true");
    expect(await rig.fake.sim.positions()).toEqual([]);
    // The pending order rested far below the market, was moved, and is cancelled
    expect(await rig.fake.sim.orders()).toEqual([]);
    const [cancelled] = await bookOrderHistory(rig.fake.sim);
    const bid = (await rig.fake.sim.symbolInfo("EURUSD"))?.bid as number;
    expect(cancelled).toMatchObject({ type: "BUY_LIMIT", state: "CANCELED", volume_initial: 0.01 });
    expect(cancelled?.price_open).toBeLessThan(bid * 0.98);
    expect(cancelled?.sl).toBeLessThan(cancelled?.price_open as number);
    expect(rig.fake.commands.filter((c) => c.cmd === "PLACE")).toHaveLength(2);
    const deals = await rig.fake.sim.deals({ from: 0, to: Number.MAX_SAFE_INTEGER });
    expect(deals.map((d) => [d.entry, d.volume, d.magic])).toEqual([
      ["IN", 0.01, 31337],
      ["OUT", 0.01, 31337],
    ]);
  });

  test("refuses to trade unless the account is DEMO", async () => {
    const rig = await startRig({ fake: { accountTradeMode: "REAL" } });
    const { report, lines } = await selftest(rig, { trade: true });
    expect(report.failed).toBe(1);
    expect(lines.at(-1)).toBe(
      "FAIL trade: refusing to trade: account_trade_mode is REAL (HELLO REAL, GET_ACCOUNT REAL); --trade runs only on DEMO accounts",
    );
    expect(rig.fake.commands.some((c) => c.cmd === "OPEN" || c.cmd === "PLACE")).toBe(false);
  });

  test("reads the trade mode from GET_ACCOUNT too: a HELLO saying DEMO is not enough", async () => {
    const rig = await startRig();
    const account = await rig.backend.accountDetails();
    rig.fake.faults.push({
      kind: "reply",
      cmd: "GET_ACCOUNT",
      body: {
        ok: true,
        ...account.account,
        company: "x",
        account_trade_mode: "REAL",
        trade_expert: true,
        margin_so_mode: "PERCENT",
      },
    });
    const { report, lines } = await selftest(rig, { trade: true });
    expect(names(report)).toContain("FAIL account");
    expect(lines.find((l) => l.startsWith("FAIL account"))).toContain(
      "GET_ACCOUNT says REAL, HELLO said DEMO",
    );
    expect(lines.at(-1)).toContain("account_trade_mode is unknown");
    expect(rig.fake.commands.some((c) => c.cmd === "OPEN")).toBe(false);
  });

  test("the round trip names the filling it used and checks the EA put the stops on the tick grid", async () => {
    const rig = await startRig({
      simOptions: { symbols: [{ symbol: "US500", tick_size: 0.25 }] },
    });
    const { report, lines } = await selftest(rig, { trade: true, symbol: "US500" });
    expect(report.failed).toBe(0);
    expect(lines.find((l) => l.startsWith("PASS open"))).toContain("with ORDER_FILLING_FOK");
    expect(lines.find((l) => l.startsWith("PASS modify"))).toContain(
      "sent off the 0.25 tick grid and rounded onto it by the EA",
    );
  });

  test("an EA that does not round stops onto the tick grid fails the modify step by name", async () => {
    const rig = await startRig();
    answerNext(rig, "MODIFY", "SERVER", Retcode.DONE, "Request executed", (frame) => ({
      sl: frame.number("sl") as number,
      tp: frame.number("tp") as number,
    }));
    const { lines } = await selftest(rig, { trade: true });
    expect(lines.find((l) => l.startsWith("FAIL modify"))).toContain("not the tick grid's");
  });

  test("a market order the broker refuses for its filling (10030) is named with the filling", async () => {
    const rig = await startRig();
    answerNext(
      rig,
      "OPEN",
      "SERVER",
      Retcode.INVALID_FILL,
      "Unsupported filling mode",
      undefined,
      "FOK",
    );
    const { lines } = await selftest(rig, { trade: true });
    expect(lines.find((l) => l.startsWith("FAIL open"))).toContain(
      "the broker refused ORDER_FILLING_FOK on MARKET execution",
    );
  });

  test("a failed step stops the trip and leaves the position, naming its ticket", async () => {
    const rig = await startRig();
    answerNext(rig, "MODIFY", "EA", Retcode.INVALID_STOPS, "sl must be <= bid - stops_level");
    const { report, lines } = await selftest(rig, { trade: true });
    expect(names(report).slice(-7, -4)).toEqual(["PASS open", "PASS duplicate", "FAIL modify"]);
    expect(lines.find((l) => l.startsWith("FAIL modify"))).toContain("10016 INVALID_STOPS from EA");
    const [position] = await rig.fake.sim.positions();
    expect(lines).toContain(
      `INFO test position ${position?.ticket} on EURUSD is left open for inspection; close it by hand`,
    );
  });

  test("a failed pending step stops that trip and leaves the order, naming its ticket", async () => {
    const rig = await startRig();
    answerNext(rig, "MODIFY_ORDER", "SERVER", Retcode.FROZEN, "Frozen");
    const { report, lines } = await selftest(rig, { trade: true });
    expect(names(report).slice(-3)).toEqual([
      "PASS pending place",
      "PASS pending duplicate",
      "FAIL pending modify",
    ]);
    expect(lines.find((l) => l.startsWith("FAIL pending modify"))).toContain(
      "10029 FROZEN from SERVER (Frozen)",
    );
    const [order] = await rig.fake.sim.orders();
    expect(lines.at(-1)).toBe(
      `INFO test order ${order?.ticket} on EURUSD is left for inspection; cancel it by hand`,
    );
  });

  test("a symbol without limit orders fails the pending trip by name, placing nothing", async () => {
    const rig = await startRig();
    rig.fake.orderModes.set("EURUSD", 1 | 16 | 32);
    const { report, lines } = await selftest(rig, { trade: true });
    expect(names(report).at(-1)).toBe("FAIL pending place");
    expect(lines.at(-1)).toBe(
      "FAIL pending place: EURUSD allows no limit orders (SYMBOL_ORDER_MODE)",
    );
    expect(rig.fake.commands.some((c) => c.cmd === "PLACE")).toBe(false);
  });
});
