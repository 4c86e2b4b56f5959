/**
 * What the one-shot commands print and the exit code each answer of the local API maps to; the
 * API URL a client derives from api.listen; the ping summary.
 */
import { describe, expect, test } from "bun:test";
import { ExitCode } from "../../shared/cli.ts";
import { apiBaseUrl } from "./api-commands.ts";
import { formatPositions, renderApiResponse, table } from "./format.ts";
import { formatPingSummary, summarize } from "./ping.ts";

const ids = { gateway: "gtw-1", client_order_id: "01ABC" };
const trade = { v: 1, id: "r1", client_order_id: "01ABC" };

describe("order outcomes", () => {
  test.each([
    [
      "FILLED",
      200,
      {
        outcome: "FILLED",
        ...ids,
        reply: {
          ...trade,
          status: "FILLED",
          ticket: 7,
          volume: 0.1,
          price: 1.1,
          sl: 1.05,
          tp: null,
        },
      },
      ExitCode.OK,
      "FILLED  ticket 7  0.1 lots at 1.1  sl 1.05  tp -\n  client_order_id 01ABC  gateway gtw-1\n",
    ],
    [
      "FILLED close, in full, a repeated id",
      200,
      {
        outcome: "FILLED",
        ...ids,
        reply: {
          ...trade,
          status: "FILLED",
          ticket: 7,
          volume: 0.1,
          price: 1.2,
          remaining_volume: 0,
          duplicate: true,
        },
      },
      ExitCode.OK,
      "FILLED  ticket 7  0.1 lots at 1.2  position closed  (a repeated id: the first outcome, nothing executed again)\n  client_order_id 01ABC  gateway gtw-1\n",
    ],
    [
      "REJECTED",
      422,
      {
        outcome: "REJECTED",
        ...ids,
        reply: {
          ...trade,
          status: "REJECTED",
          error_code: "NO_MONEY",
          error_msg: "not enough money",
          retcode: 10019,
        },
      },
      ExitCode.REJECTED,
      "REJECTED  NO_MONEY (retcode 10019): not enough money\n  client_order_id 01ABC  gateway gtw-1\n",
    ],
    [
      "ERROR",
      502,
      {
        outcome: "ERROR",
        ...ids,
        reply: { ...trade, status: "ERROR", error_code: "EXPIRED", error_msg: "too old" },
      },
      ExitCode.ORDER_ERROR,
      "ERROR  EXPIRED: too old\n  client_order_id 01ABC  gateway gtw-1\n",
    ],
    [
      "DENIED",
      422,
      {
        outcome: "DENIED",
        ...ids,
        denial: {
          code: "RISK_ABOVE_MAX",
          message: "too much at risk",
          context: { risk: 1000.3000000000006, max_risk: 500 },
        },
      },
      ExitCode.DENIED,
      "DENIED  RISK_ABOVE_MAX: too much at risk (risk=1000.3, max_risk=500)\n  not sent: refused by this host's risk checks\n  client_order_id 01ABC  gateway gtw-1\n",
    ],
    [
      "UNKNOWN",
      504,
      { outcome: "UNKNOWN", ...ids, reason: "gateway unreachable" },
      ExitCode.UNKNOWN_OUTCOME,
      "UNKNOWN  gateway unreachable\n  client_order_id 01ABC  gateway gtw-1\n  the order may or may not have executed; check later with: agent-inf order 01ABC --gateway gtw-1\n",
    ],
  ])("%s", (_name, status, body, exit, text) => {
    expect(renderApiResponse("order-result", status, body, false)).toEqual({
      stdout: text,
      stderr: "",
      exit,
    });
    // --json: the API's answer as it came, the same exit code
    expect(renderApiResponse("order-result", status, body, true)).toEqual({
      stdout: `${JSON.stringify(body)}\n`,
      stderr: "",
      exit,
    });
  });

  test.each([
    ["FILLED", ExitCode.OK],
    ["REJECTED", ExitCode.REJECTED],
    ["NOT_EXECUTED", ExitCode.ORDER_ERROR],
    ["PENDING", ExitCode.UNKNOWN_OUTCOME],
    ["UNKNOWN", ExitCode.UNKNOWN_OUTCOME],
  ])("order record %s exits %d", (state, exit) => {
    const body = {
      gateway: "gtw-1",
      order: { client_order_id: "01ABC", action: "OPEN", state, received_at: 0, reply: null },
    };
    const rendered = renderApiResponse("order-record", 200, body, false);
    expect(rendered.exit).toBe(exit);
    expect(rendered.stdout).toStartWith(`${state}  OPEN  received 1970-01-01T00:00:00.000Z\n`);
  });

  test("an order the gateway never saw: exit 1, said plainly", () => {
    expect(renderApiResponse("order-record", 404, { gateway: "g", order: null }, false)).toEqual({
      stdout: "NEVER SEEN  the gateway g has no order with this id: it was not executed\n",
      stderr: "",
      exit: ExitCode.FAILURE,
    });
  });
});

describe("API errors are one line on stderr, exit 1", () => {
  test.each([
    [
      404,
      { error: { code: "UNKNOWN_GATEWAY", message: "unknown gateway", field: "gateway" } },
      "UNKNOWN_GATEWAY: unknown gateway (field gateway)",
    ],
    [
      504,
      { error: { code: "GATEWAY_UNREACHABLE", message: "no answer" } },
      "GATEWAY_UNREACHABLE: no answer",
    ],
    [
      401,
      { error: { code: "UNAUTHORIZED", message: "wrong token" } },
      "the agent refused the API token (HTTP 401): check api.token_file",
    ],
    [500, undefined, "the agent answered HTTP 500 without a result"],
  ])("HTTP %d", (status, body, line) => {
    for (const view of ["account", "order-result", "order-record", "control"] as const) {
      const rendered = renderApiResponse(view, status, body, false);
      expect(rendered).toEqual({ stdout: "", stderr: `${line}\n`, exit: ExitCode.FAILURE });
    }
  });
});

describe("data views", () => {
  test("positions: one aligned row each, numbers right-aligned", () => {
    const position = (ticket: number, symbol: string, volume: number, profit: number) => ({
      ticket,
      symbol,
      side: "BUY",
      volume,
      price_open: 1.1,
      price_current: 1.10012,
      sl: null,
      tp: 1.2,
      profit,
    });
    expect(
      formatPositions([position(7, "EURUSD", 0.1, -1.5), position(12345, "XAUUSD", 2, 100)]),
    ).toBe(`TICKET  SYMBOL  SIDE  VOLUME  OPEN  CURRENT  SL   TP  PROFIT
     7  EURUSD  BUY      0.1   1.1  1.10012   -  1.2   -1.50
 12345  XAUUSD  BUY        2   1.1  1.10012   -  1.2  100.00
`);
    expect(renderApiResponse("positions", 200, { positions: [] }, false).stdout).toBe(
      "no open positions\n",
    );
  });

  test("status: heartbeat with latency, the breaker, trading state, MT5 link and problems; exit 1 unless ok", () => {
    const health = {
      status: "failed",
      version: "1.0.0",
      agent: "inf-1",
      crypto: { secretbox: "tweetnacl", detail: "fallback: glibc too old", fallback: true },
      gateways: [
        {
          gateway: "gtw-1",
          endpoint: "tcp://10.0.0.2:5700",
          connected: false,
          heartbeat: "FAILED",
          latency_ms: { p50: 0.2104, p99: 1.5 },
          clock_offset_ms: -0.25,
          breaker: { engaged: true, reason: "heartbeat failed: timeout", since: 8000 },
          trading_state: "ACTIVE",
          trading_state_reason: "startup",
          problems: [
            { level: "fail", code: "NOT_CONNECTED", message: "nothing accepts connections" },
            { level: "warn", code: "CLOCK_OFFSET", message: "past half the window" },
          ],
        },
      ],
    };
    expect(renderApiResponse("health", 200, health, false, 10_000)).toEqual({
      stdout: `agent inf-1 1.0.0: failed
crypto tweetnacl (fallback: glibc too old)
gateway    gtw-1  tcp://10.0.0.2:5700  NOT CONNECTED
heartbeat  FAILED  rtt p50 0.210 ms  p99 1.500 ms  clock offset -0.250 ms
breaker    ENGAGED for 2.0 s: heartbeat failed: timeout
trading    ACTIVE (startup)
mt5        unknown (gateway not reachable)
PROBLEM    nothing accepts connections
WARNING    past half the window
`,
      stderr: "",
      exit: ExitCode.FAILURE,
    });
    const ok = { ...health, status: "ok", gateways: [] };
    expect(renderApiResponse("health", 200, ok, false).exit).toBe(ExitCode.OK);
    expect(renderApiResponse("health", 200, { ...ok, status: "degraded" }, false).exit).toBe(
      ExitCode.FAILURE,
    );
  });

  test("operator commands show each gateway's resulting state", () => {
    const body = {
      gateways: [
        {
          gateway: "a",
          trading_state: "HALTED",
          trading_state_reason: "news",
          breaker: { engaged: false },
        },
        {
          gateway: "bb",
          trading_state: "HALTED",
          trading_state_reason: "news",
          breaker: { engaged: true },
        },
      ],
    };
    expect(renderApiResponse("control", 200, body, false).stdout).toBe(
      "a   trading HALTED (news)  breaker reset\nbb  trading HALTED (news)  breaker ENGAGED\n",
    );
  });

  test("account and symbol render the fields people look at", () => {
    const account = renderApiResponse(
      "account",
      200,
      {
        gateway: "g",
        account: {
          login: 1,
          server: "S",
          name: "N",
          currency: "USD",
          balance: 10_000,
          equity: 9990.5,
          profit: -9.5,
          margin: 0,
          margin_free: 9990.5,
          margin_level: 0,
          leverage: 100,
          margin_mode: "HEDGING",
          trade_allowed: true,
        },
      },
      false,
    );
    expect(account.stdout).toContain("balance   10000.00\nequity    9990.50  (floating -9.50)\n");
    const symbol = renderApiResponse(
      "symbol",
      200,
      {
        symbol_info: {
          symbol: "EURUSD",
          bid: 1.1,
          ask: 1.10002,
          spread: 2,
          quote_time: 9_500,
          session_open: true,
        },
      },
      false,
      10_000,
    );
    expect(symbol.stdout).toContain("bid/ask   1.1 / 1.10002  spread 2 points  quote 0.5 s old\n");
  });

  test("table pads columns and trims line ends", () => {
    expect(
      table(
        [
          ["a", "1"],
          ["bbb", "22"],
        ],
        new Set([1]),
      ),
    ).toBe("a     1\nbbb  22");
  });
});

describe("the API address", () => {
  test.each([
    ["127.0.0.1:8765", "http://127.0.0.1:8765"],
    ["localhost:80", "http://localhost:80"],
    ["0.0.0.0:8765", "http://127.0.0.1:8765"],
    ["[::1]:8765", "http://[::1]:8765"],
    ["[::]:8765", "http://[::1]:8765"],
    ["10.1.2.3:9000", "http://10.1.2.3:9000"],
  ])("%s → %s", (listen, url) => {
    expect(apiBaseUrl(listen)).toBe(url);
  });
});

describe("ping summary", () => {
  test("percentiles are nearest-rank, in ms with microsecond precision", () => {
    const rtts = [0.3, 0.1, 0.2, 0.4, 2.0004];
    const summary = summarize("g", "tcp://h:1", 6, rtts, [1.5, -0.5, 0.25, 0.1, 0.2]);
    expect(summary).toEqual({
      gateway: "g",
      endpoint: "tcp://h:1",
      sent: 6,
      received: 5,
      lost: 1,
      rtt_ms: { min: 0.1, p50: 0.3, p95: 2, p99: 2, max: 2, mean: 0.6 },
      clock_offset_ms: 0.2,
    });
    expect(formatPingSummary(summary)).toBe(`--- g (tcp://h:1) ping statistics ---
6 sent, 5 received, 1 lost (16.7 % loss)
rtt min 0.100 ms  p50 0.300 ms  p95 2.000 ms  p99 2.000 ms  max 2.000 ms
clock offset +0.200 ms (gateway server_time − local midpoint, median)
`);
  });

  test("nothing answered: counts only", () => {
    const summary = summarize("g", "tcp://h:1", 3, [], []);
    expect(summary).toEqual({ gateway: "g", endpoint: "tcp://h:1", sent: 3, received: 0, lost: 3 });
    expect(formatPingSummary(summary)).toBe(
      "--- g (tcp://h:1) ping statistics ---\n3 sent, 0 received, 3 lost (100.0 % loss)\n",
    );
  });
});
