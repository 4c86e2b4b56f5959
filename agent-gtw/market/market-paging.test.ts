/**
 * The market handler against scripted backends: symbol pages at their boundaries, pages cut to
 * the reply limit when a backend's text is long, a backend that cannot answer (NOT_SUPPORTED,
 * MT5_LINK_DOWN) and one whose answer the protocol cannot carry (INTERNAL_ERROR).
 */
import { describe, expect, test } from "bun:test";
import { FaultCode } from "../../shared/errors.ts";
import { silentLogger } from "../../shared/log.ts";
import {
  encodeReply,
  type MarketRequest,
  parseReply,
  parseRequest,
  type Reply,
  type SymbolInfo,
} from "../../shared/protocol/index.ts";
import { makeSymbolInfo } from "../../shared/protocol/testing/fixtures.ts";
import { TestClock } from "../../shared/testing/test-clock.ts";
import { BackendError } from "../backend/backend.ts";
import type { MarketReads } from "../backend/market-reads.ts";
import { unsupportedMarketReads } from "../backend/unsupported-reads.ts";
import { MarketHandler } from "./market-handler.ts";

const encoder = new TextEncoder();

function request(body: Record<string, unknown>): MarketRequest {
  const parsed = parseRequest(encoder.encode(JSON.stringify({ v: 1, id: "q1", ts: 1, ...body })));
  if (!parsed.ok) throw new Error(parsed.error.message);
  return parsed.request as MarketRequest;
}

function info(symbol: string, description = "x"): SymbolInfo {
  return makeSymbolInfo({ symbol, description });
}

function reads(overrides: Partial<MarketReads>): MarketReads {
  return { ...unsupportedMarketReads("scripted backend: not scripted"), ...overrides };
}

const handler = (source: MarketReads) =>
  new MarketHandler({ reads: source, clock: new TestClock(), logger: silentLogger });

async function symbolPages(source: MarketReads, group?: string) {
  const pages: (Reply & Record<string, unknown>)[] = [];
  let cursor: string | undefined;
  for (let guard = 0; guard < 100; guard++) {
    const body = {
      action: "GET_SYMBOLS",
      ...(group ? { group } : {}),
      ...(cursor ? { cursor } : {}),
    };
    const reply = (await handler(source).handle(request(body), "inf-1")) as Reply &
      Record<string, unknown>;
    const bytes = encodeReply(reply);
    expect(bytes.length).toBeLessThanOrEqual(1_048_576);
    expect(parseReply(bytes, "GET_SYMBOLS").ok).toBe(true);
    pages.push(reply);
    if (reply["more"] !== true) return pages;
    cursor = reply["next"] as string;
  }
  throw new Error("paging did not end");
}

const named = (count: number) =>
  Array.from({ length: count }, (_, i) => `S${String(i).padStart(4, "0")}`);
const broker = (names: string[], describe = (name: string) => info(name)): MarketReads =>
  reads({
    symbolNames: async () => [...names].reverse(),
    symbolInfos: async (page) => page.map(describe),
  });

describe("symbol pages", () => {
  test("exactly a page is one page; one more is a second page of one; every symbol once", async () => {
    expect(
      (await symbolPages(broker(named(200)))).map((page) => (page["symbols"] as unknown[]).length),
    ).toEqual([200]);
    const over = await symbolPages(broker(named(201)));
    expect(over.map((page) => (page["symbols"] as unknown[]).length)).toEqual([200, 1]);
    expect(over.every((page) => page["total"] === 201)).toBe(true);
    const many = await symbolPages(broker(named(1234)), "S0*,!S00*");
    const listed = many.flatMap((page) => (page["symbols"] as SymbolInfo[]).map((s) => s.symbol));
    expect(listed).toEqual(
      named(1234).filter((name) => name.startsWith("S0") && !name.startsWith("S00")),
    );
  });

  test("a page of long texts is cut to fit the reply limit, and paging still visits every symbol", async () => {
    // 256 control characters escape to 1536 bytes each: 200 such symbols would not fit 1 MiB
    const long = "\u0001".repeat(256);
    const pages = await symbolPages(
      broker(named(450), (name) => ({
        ...info(name, long),
        currency_base: long,
        currency_profit: long,
        currency_margin: long,
      })),
    );
    expect(pages.every((page) => (page["symbols"] as unknown[]).length < 200)).toBe(true);
    expect(pages.flatMap((page) => (page["symbols"] as SymbolInfo[]).map((s) => s.symbol))).toEqual(
      named(450),
    );
  });
});

describe("backends that cannot answer", () => {
  test("a backend without market reads answers NOT_SUPPORTED with its reason", async () => {
    const reply = await handler(unsupportedMarketReads("terminal: not yet")).handle(
      request({ action: "GET_RATES", symbol: "EURUSD", timeframe: "H1", start: 0, count: 5 }),
      "inf-1",
    );
    expect(reply).toMatchObject({
      id: "q1",
      status: "ERROR",
      error_code: "NOT_SUPPORTED",
      error_msg: "terminal: not yet",
    });
  });

  test("a backend that cannot reach MT5 answers MT5_LINK_DOWN", async () => {
    const down = reads({
      lastTick: async () => {
        throw new BackendError(FaultCode.BACKEND_UNAVAILABLE, "EA not connected");
      },
    });
    expect(
      await handler(down).handle(request({ action: "GET_TICK", symbol: "EURUSD" }), "inf-1"),
    ).toMatchObject({
      error_code: "MT5_LINK_DOWN",
      error_msg: "MT5 could not answer: EA not connected",
    });
  });

  test("history MT5 is still loading answers HISTORY_LOADING, to be asked again", async () => {
    const loading = reads({
      rateSpan: async () => {
        throw new BackendError(FaultCode.BACKEND_HISTORY_LOADING, "loading EURUSD H1");
      },
    });
    expect(
      await handler(loading).handle(
        request({ action: "GET_RATES", symbol: "EURUSD", timeframe: "H1", start: 0, count: 5 }),
        "inf-1",
      ),
    ).toMatchObject({
      status: "ERROR",
      error_code: "HISTORY_LOADING",
      error_msg: "loading EURUSD H1",
    });
  });

  test("a count of ticks reads up to the broker's clock when the backend has one", async () => {
    let asked: number | undefined;
    const broker = reads({
      serverNow: () => 1_795_010_400_000,
      ticks: async (query) => {
        asked = query.to;
        return { rows: [], next: undefined };
      },
    });
    await handler(broker).handle(
      request({ action: "GET_TICKS", symbol: "EURUSD", from: 1_795_000_000_000, count: 5 }),
      "inf-1",
    );
    expect(asked).toBe(1_795_010_400_000);
  });

  test("an answer the protocol cannot carry becomes INTERNAL_ERROR, not a reply the client refuses", async () => {
    const broken = reads({
      rateSpan: async () => ({ from: 0, to: 60_000 }),
      rates: async () => ({ rows: [[0, 1, 1, 1, Number.NaN, 1, 1, 0]], next: undefined }),
    });
    expect(
      await handler(broken).handle(
        request({ action: "GET_RATES", symbol: "EURUSD", timeframe: "M1", start: 0, count: 2 }),
        "inf-1",
      ),
    ).toMatchObject({
      error_code: "INTERNAL_ERROR",
      error_msg: expect.stringContaining("rates.0.4 must be a finite number"),
    });
    const thrower = reads({
      lastTick: async () => {
        throw new TypeError("bug");
      },
    });
    await expect(
      handler(thrower).handle(request({ action: "GET_TICK", symbol: "EURUSD" }), "inf-1"),
    ).rejects.toThrow("bug");
  });
});
