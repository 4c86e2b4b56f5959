/**
 * The MQL5 source cannot be compiled here, so what can be checked from its text is: the EA's
 * limits, labels and command table agree with the gateway's and the fake terminal's (one value
 * in three places must not drift), its HMAC self-test expects the RFC 4231 results, and the
 * operator guide lists every file to copy. docs/EA-LINK.md is the contract behind each value.
 */
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  MAX_RATES_PER_PAGE,
  MAX_RATES_PER_QUERY,
  MAX_SYMBOL_LENGTH,
  MAX_TICKS_PER_PAGE,
  mt5Timeframe,
  ORDER_TIME_TYPES,
  TIMEFRAMES,
} from "../../../shared/protocol/index.ts";
import { TERMINAL_HEARTBEAT_MAX_MS, TERMINAL_HEARTBEAT_MIN_MS } from "../../config.ts";
import {
  MAX_INBOUND_FRAME_BYTES,
  MAX_OUTBOUND_FRAME_BYTES,
  MAX_OUTBOUND_KEYS,
  MAX_OUTBOUND_STRING_CHARS,
} from "./framing.ts";
import { EA_PROOF_LABEL, EA_PROTOCOL_VERSION, GATEWAY_PROOF_LABEL } from "./link-auth.ts";
import { DEFAULT_HELLO_TIMEOUT_MS } from "./link-server.ts";
import { ExpirationFlag, OrderModeFlag } from "./mapping.ts";
import { PAGE_LIMIT } from "./reads.ts";
import { MAX_SECRET_CHARS, MIN_SECRET_CHARS } from "./secret.ts";
import {
  MARKET_COMMANDS,
  MARKET_EA_VERSION,
  MAX_SYMBOL_BATCH,
  MAX_TICK_SKIP,
  olderThan,
} from "./terminal-market.ts";
import { AUTH_NONCE_LABEL } from "./testing/fake-auth.ts";
import { DEDUP_CAPACITY } from "./testing/fake-dedup.ts";
import {
  BACKOFF_MAX_MS,
  BACKOFF_MIN_MS,
  HANDSHAKE_TIMEOUT_MS,
  HEARTBEAT_DEFAULT_MS,
} from "./testing/fake-link.ts";
import * as fakeMarket from "./testing/fake-market.ts";
import { DEFAULT_PAGE, MAX_PAGE, PAGE_BUDGET_CHARS } from "./testing/fake-reads.ts";
import { EA_VERSION } from "./testing/fake-terminal.ts";
import { TRADE_COMMANDS as FAKE_TRADE_COMMANDS } from "./testing/fake-trades.ts";
import { EXPIRATION_BITS, ORDER_MODE_BITS } from "./testing/fake-translate.ts";
import { TRADE_COMMANDS } from "./trade-mapping.ts";

const ROOT = join(import.meta.dir, "..", "..", "..");
const MQL5 = join(ROOT, "agent-gtw", "mql5");
const files = readdirSync(MQL5);
const source = files.map((file) => readFileSync(join(MQL5, file), "utf8")).join("\n");

/** `#define NAME value` → value (a number, or a string literal's text). */
function define(name: string): number | string {
  const match = new RegExp(`^#define\\s+${name}\\s+(\\S.*?)\\s*(//.*)?$`, "m").exec(source);
  if (match === null) throw new Error(`no #define ${name} in agent-gtw/mql5`);
  const value = match[1] as string;
  return value.startsWith('"') ? JSON.parse(value) : Number(value);
}

describe("the EA's constants agree with the gateway and the fake terminal", () => {
  test.each([
    ["MAX_IN_FRAME", MAX_OUTBOUND_FRAME_BYTES],
    ["MAX_OUT_FRAME", MAX_INBOUND_FRAME_BYTES],
    ["JSON_MAX_KEYS", MAX_OUTBOUND_KEYS],
    ["JSON_MAX_STRING", MAX_OUTBOUND_STRING_CHARS],
    ["AUTH_PROTO", EA_PROTOCOL_VERSION],
    ["AUTH_GW_LABEL", GATEWAY_PROOF_LABEL],
    ["AUTH_EA_LABEL", EA_PROOF_LABEL],
    ["AUTH_NONCE_LABEL", AUTH_NONCE_LABEL],
    ["SECRET_MIN_CHARS", MIN_SECRET_CHARS],
    ["SECRET_MAX_CHARS", MAX_SECRET_CHARS],
    ["HEARTBEAT_MIN_MS", TERMINAL_HEARTBEAT_MIN_MS],
    ["HEARTBEAT_MAX_MS", TERMINAL_HEARTBEAT_MAX_MS],
    ["HEARTBEAT_DEFAULT_MS", HEARTBEAT_DEFAULT_MS],
    ["HANDSHAKE_TIMEOUT_MS", HANDSHAKE_TIMEOUT_MS],
    ["BACKOFF_MIN_MS", BACKOFF_MIN_MS],
    ["BACKOFF_MAX_MS", BACKOFF_MAX_MS],
    ["DEDUP_CAPACITY", DEDUP_CAPACITY],
    ["DEFAULT_PAGE", DEFAULT_PAGE],
    ["MAX_PAGE", MAX_PAGE],
    ["MAX_PAGE", PAGE_LIMIT],
    ["PAGE_BUDGET_CHARS", PAGE_BUDGET_CHARS],
    ["MAX_SYMBOL_BATCH", MAX_SYMBOL_BATCH],
    ["MAX_SYMBOL_BATCH", fakeMarket.MAX_SYMBOL_BATCH],
    ["MAX_NAME_CHARS", MAX_SYMBOL_LENGTH],
    ["MAX_NAME_CHARS", fakeMarket.MAX_NAME_CHARS],
    ["MAX_ROWS", MAX_RATES_PER_PAGE],
    ["MAX_ROWS", MAX_TICKS_PER_PAGE],
    ["MAX_ROWS", fakeMarket.MAX_ROWS],
    ["MAX_SPAN_BARS", MAX_RATES_PER_QUERY],
    ["MAX_SPAN_BARS", fakeMarket.MAX_SPAN_BARS],
    ["MAX_TICK_SKIP", MAX_TICK_SKIP],
    ["MAX_TICK_SKIP", fakeMarket.MAX_TICK_SKIP],
    ["HISTORY_WAIT_MS", fakeMarket.HISTORY_WAIT_MS],
    ["HISTORY_RETRY_MS", fakeMarket.HISTORY_RETRY_MS],
    ["EA_VERSION", EA_VERSION],
  ] as const)("%s is %p", (name, expected) => {
    expect(define(name)).toBe(expected);
  });

  test("the gateway gives up on a handshake before the EA does", () => {
    expect(DEFAULT_HELLO_TIMEOUT_MS).toBeLessThan(Number(define("HANDSHAKE_TIMEOUT_MS")));
  });

  test("a page's budget leaves room for its head inside the frame", () => {
    expect(PAGE_BUDGET_CHARS).toBeLessThan(MAX_INBOUND_FRAME_BYTES - 1024);
  });

  test("this EA has the market commands the gateway asks for", () => {
    expect(olderThan(String(define("EA_VERSION")), MARKET_EA_VERSION)).toBe(false);
    expect(olderThan("2.1.0", MARKET_EA_VERSION)).toBe(true);
  });

  test("the EA waits for loading history well within the gateway's default reply timeout", () => {
    // Two copies may each block while MT5 builds the series, around the wait itself
    expect(3 * Number(define("HISTORY_WAIT_MS"))).toBeLessThan(10_000);
  });

  test("its timeframes are the protocol's, shortest first, by their ENUM_TIMEFRAMES value", () => {
    const start = source.indexOf("ENUM_TIMEFRAMES g_timeframes[] = {");
    const list = source.slice(start, source.indexOf("};", start));
    expect([...list.matchAll(/PERIOD_([A-Z0-9]+)/g)].map((m) => m[1])).toEqual([...TIMEFRAMES]);
    for (const timeframe of TIMEFRAMES) {
      expect(fakeMarket.PERIOD_VALUES[timeframe]).toBe(mt5Timeframe(timeframe));
    }
  });
});

/** The `cmd` rows of one MQL5 function's table: `if(cmd == "NAME") return ...`. */
function table(name: string): string[] {
  const start = source.indexOf(`string ${name}(const string cmd`);
  if (start < 0) throw new Error(`no ${name} in agent-gtw/mql5`);
  const body = source.slice(start, source.indexOf("\n}", start));
  return [...body.matchAll(/if\(cmd == "([A-Z_]+)"\)\s+return/g)].map((m) => m[1] as string);
}

describe("the EA source", () => {
  test("its command table answers every command the gateway sends", () => {
    expect(table("Dispatch").sort()).toEqual(
      [
        "CALC_MARGIN",
        "CALC_PROFIT",
        "FORGET",
        "GET_ACCOUNT",
        "GET_DEALS",
        "GET_HISTORY_ORDERS",
        "GET_ORDERS",
        ...MARKET_COMMANDS,
        "GET_POSITIONS",
        "GET_SYMBOL_INFO",
        "ORDER_CHECK",
        "PING",
        "SUBSCRIBE_TICKS",
        ...TRADE_COMMANDS,
      ].sort(),
    );
  });

  test("its trade commands are the gateway's and the fake terminal's, each with a build", () => {
    expect(table("BuildRequest")).toEqual([...TRADE_COMMANDS]);
    expect([...FAKE_TRADE_COMMANDS]).toEqual([...TRADE_COMMANDS]);
    for (const cmd of TRADE_COMMANDS) {
      expect(source).toMatch(new RegExp(`if\\(cmd == "${cmd}"\\)\\s+return CmdTrade\\(cmd\\);`));
    }
  });

  test("a stored reply's command is matched whole (MODIFY is not MODIFY_ORDER)", () => {
    expect(source).toContain('StringFind(stored, JS("cmd", cmd) + ",")');
  });

  test("SYMBOL_EXPIRATION_MODE's flag of a lifetime is 1 << its ORDER_TIME_* value, everywhere", () => {
    expect(source).toContain(
      "SymbolInfoInteger(sym, SYMBOL_EXPIRATION_MODE) & (1 << (int)typeTime)",
    );
    const expected = Object.fromEntries(
      ORDER_TIME_TYPES.map((name, index) => [name, 1 << index]),
    ) as Record<(typeof ORDER_TIME_TYPES)[number], number>;
    expect<object>({ ...ExpirationFlag }).toEqual(expected);
    expect(EXPIRATION_BITS).toEqual(expected);
    expect<object>(ORDER_MODE_BITS).toEqual({ ...OrderModeFlag });
  });

  test("its HMAC self-test expects the RFC 4231 results of test cases 2 and 6", () => {
    expect(source).toContain("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    expect(source).toContain("60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
  });

  test("it holds only source files, and the operator guide names each one to copy", () => {
    const guide = readFileSync(join(ROOT, "docs", "MT5-SETUP.md"), "utf8");
    expect(files.filter((file) => file.startsWith(".") || !/\.mq[5h]$/.test(file))).toEqual([]);
    for (const file of files) expect(guide).toContain(file);
  });
});
