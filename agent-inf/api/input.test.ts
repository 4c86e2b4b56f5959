/**
 * The local API's refusals: every bad input names its field, routing answers 404/405, and the
 * body limit, content type and stalled uploads are handled before any parsing. Validation never
 * reaches the gateway, so these run against an app whose gateways are all unreachable.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type ApiStack, DEAD_GATEWAY, startStack } from "../../test/support/api-stack.ts";
import { brokerSpelling } from "./input.ts";

const MAX_BODY_BYTES = 1024;
let s: ApiStack;

beforeAll(async () => {
  s = await startStack({ gateway: false, maxBodyBytes: MAX_BODY_BYTES, bodyTimeoutMs: 300 });
});
afterAll(async () => {
  await s.close();
});

const ORDER = { symbol: "EURUSD", side: "BUY", volume: 0.1 } as const;
const order = (change: Record<string, unknown>) => ({ ...ORDER, ...change });

// [what, method, path, body (object, or raw text), field named in the error]
const BAD_INPUTS: ReadonlyArray<readonly [string, string, string, unknown, string | undefined]> = [
  ["missing symbol", "POST", "/v1/orders", { side: "BUY", volume: 0.1 }, "symbol"],
  ["missing side", "POST", "/v1/orders", { symbol: "EURUSD", volume: 0.1 }, "side"],
  ["missing volume", "POST", "/v1/orders", { symbol: "EURUSD", side: "BUY" }, "volume"],
  ["unknown field", "POST", "/v1/orders", order({ price: 1.1 }), "price"],
  ["symbol with a space", "POST", "/v1/orders", order({ symbol: "EUR USD" }), "symbol"],
  ["symbol too long", "POST", "/v1/orders", order({ symbol: "E".repeat(33) }), "symbol"],
  ["symbol a number", "POST", "/v1/orders", order({ symbol: 5 }), "symbol"],
  ["side lowercase", "POST", "/v1/orders", order({ side: "buy" }), "side"],
  ["volume zero", "POST", "/v1/orders", order({ volume: 0 }), "volume"],
  ["volume negative", "POST", "/v1/orders", order({ volume: -1 }), "volume"],
  ["volume a string", "POST", "/v1/orders", order({ volume: "0.1" }), "volume"],
  ["volume 9 decimals", "POST", "/v1/orders", order({ volume: 0.123456789 }), "volume"],
  ["volume huge", "POST", "/v1/orders", order({ volume: 2e6 }), "volume"],
  [
    "volume infinite",
    "POST",
    "/v1/orders",
    '{"symbol":"EURUSD","side":"BUY","volume":1e999}',
    "volume",
  ],
  ["sl negative", "POST", "/v1/orders", order({ sl: -1 }), "sl"],
  ["sl a string", "POST", "/v1/orders", order({ sl: "1.1" }), "sl"],
  [
    "sl infinite",
    "POST",
    "/v1/orders",
    '{"symbol":"EURUSD","side":"BUY","volume":1,"sl":1e999}',
    "sl",
  ],
  ["tp zero", "POST", "/v1/orders", order({ tp: 0 }), "tp"],
  ["deviation fractional", "POST", "/v1/orders", order({ deviation: 1.5 }), "deviation"],
  ["deviation negative", "POST", "/v1/orders", order({ deviation: -1 }), "deviation"],
  ["magic negative", "POST", "/v1/orders", order({ magic: -1 }), "magic"],
  ["magic unsafe", "POST", "/v1/orders", order({ magic: 2 ** 53 }), "magic"],
  ["comment too long", "POST", "/v1/orders", order({ comment: "c".repeat(32) }), "comment"],
  ["comment not ASCII", "POST", "/v1/orders", order({ comment: "café" }), "comment"],
  ["comment a newline", "POST", "/v1/orders", order({ comment: "a\nb" }), "comment"],
  [
    "id too long",
    "POST",
    "/v1/orders",
    order({ client_order_id: "a".repeat(25) }),
    "client_order_id",
  ],
  ["id with a space", "POST", "/v1/orders", order({ client_order_id: "a b" }), "client_order_id"],
  ["id empty", "POST", "/v1/orders", order({ client_order_id: "" }), "client_order_id"],
  ["id a number", "POST", "/v1/orders", order({ client_order_id: 7 }), "client_order_id"],
  ["gateway charset", "POST", "/v1/orders", order({ gateway: "gtw 1!" }), "gateway"],
  ["gateway too long", "POST", "/v1/orders", order({ gateway: "g".repeat(65) }), "gateway"],
  ["edge not an object", "POST", "/v1/orders", order({ edge: 5 }), "edge"],
  [
    "edge probability > 1",
    "POST",
    "/v1/orders",
    order({ edge: { win_probability: 1.5, payoff_ratio: 1 } }),
    "edge.win_probability",
  ],
  [
    "edge missing ratio",
    "POST",
    "/v1/orders",
    order({ edge: { win_probability: 0.5 } }),
    "edge.payoff_ratio",
  ],
  [
    "edge unknown field",
    "POST",
    "/v1/orders",
    order({ edge: { win_probability: 0.5, payoff_ratio: 1, size: 2 } }),
    "edge.size",
  ],
  ["body an array", "POST", "/v1/orders", [ORDER], undefined],
  ["body null", "POST", "/v1/orders", "null", undefined],
  ["body a string", "POST", "/v1/orders", '"OPEN"', undefined],
  ["invalid JSON", "POST", "/v1/orders", '{"symbol":', undefined],
  ["query on a POST", "POST", "/v1/orders?dry_run=1", ORDER, "dry_run"],
  ["ticket letters", "POST", "/v1/positions/abc/close", {}, "ticket"],
  ["ticket zero", "POST", "/v1/positions/0/close", {}, "ticket"],
  ["ticket negative", "POST", "/v1/positions/-1/close", {}, "ticket"],
  ["ticket fractional", "POST", "/v1/positions/1.5/close", {}, "ticket"],
  ["ticket leading zero", "POST", "/v1/positions/007/close", {}, "ticket"],
  ["ticket unsafe", "POST", "/v1/positions/9007199254740993/close", {}, "ticket"],
  ["close volume zero", "POST", "/v1/positions/1/close", { volume: 0 }, "volume"],
  ["close ticket in body", "POST", "/v1/positions/1/close", { ticket: 1 }, "ticket"],
  ["close comment", "POST", "/v1/positions/1/close", { comment: 5 }, "comment"],
  ["modify nothing", "POST", "/v1/positions/1/modify", {}, "sl"],
  ["modify sl a string", "POST", "/v1/positions/1/modify", { sl: "x" }, "sl"],
  ["modify tp negative", "POST", "/v1/positions/1/modify", { tp: -2 }, "tp"],
  ["modify volume", "POST", "/v1/positions/1/modify", { sl: 1, volume: 1 }, "volume"],
  ["order id charset", "GET", "/v1/orders/a%20b", undefined, "client_order_id"],
  ["order id too long", "GET", `/v1/orders/${"a".repeat(25)}`, undefined, "client_order_id"],
  ["symbol path charset", "GET", "/v1/symbols/EUR%20USD", undefined, "symbol"],
  ["symbol bad escape", "GET", "/v1/symbols/%E0%A4%A", undefined, "symbol"],
  ["unknown query", "GET", "/v1/account?foo=1", undefined, "foo"],
  ["query twice", "GET", "/v1/account?gateway=a&gateway=b", undefined, "gateway"],
  ["query empty", "GET", "/v1/account?gateway=", undefined, "gateway"],
  ["positions symbol", "GET", "/v1/positions?symbol=EUR%20USD", undefined, "symbol"],
  ["health query", "GET", "/v1/health?verbose=1", undefined, "verbose"],
  ["state unknown", "POST", "/v1/trading-state", { state: "PAUSED" }, "state"],
  ["state missing", "POST", "/v1/trading-state", {}, "state"],
  ["reason a number", "POST", "/v1/trading-state", { state: "HALTED", reason: 5 }, "reason"],
  [
    "reason too long",
    "POST",
    "/v1/trading-state",
    { state: "HALTED", reason: "r".repeat(201) },
    "reason",
  ],
  ["reason a newline", "POST", "/v1/trading-state", { state: "HALTED", reason: "a\nb" }, "reason"],
  ["breaker action", "POST", "/v1/breaker", { action: "open" }, "action"],
  ["breaker gateway", "POST", "/v1/breaker", { action: "engage", gateway: 1 }, "gateway"],
];

describe("local API input", () => {
  test.each(BAD_INPUTS)(
    "refuses %s with 400 naming the field",
    async (_, method, path, body, field) => {
      const response = await s.call(method, path, body);

      expect(response.status).toBe(400);
      expect(response.json).toEqual({
        error: {
          code: "INVALID_REQUEST",
          message: expect.any(String),
          ...(field === undefined ? {} : { field }),
        },
      });
    },
  );

  test("refuses a body that is not UTF-8", async () => {
    const response = await fetch(`${s.api.url}/v1/orders`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: new Uint8Array([0x7b, 0x22, 0xff, 0x22, 0x7d]),
    });

    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { code: "INVALID_REQUEST" } });
  });

  test.each([
    ["POST", "/v1/orders", ORDER],
    ["POST", "/v1/positions/1/close", {}],
    ["POST", "/v1/positions/1/modify", { sl: null }],
    ["GET", "/v1/orders/abc", undefined],
    ["GET", "/v1/account", undefined],
    ["GET", "/v1/positions", undefined],
    ["GET", "/v1/symbols/EURUSD", undefined],
    ["POST", "/v1/trading-state", { state: "HALTED" }],
    ["POST", "/v1/breaker", { action: "engage" }],
  ] as const)("%s %s names an unknown gateway with 404", async (method, path, body) => {
    const withGateway =
      method === "GET"
        ? { path: `${path}?gateway=nowhere`, body }
        : { path, body: { ...body, gateway: "nowhere" } };

    const response = await s.call(method, withGateway.path, withGateway.body);

    expect(response.status).toBe(404);
    expect(response.json).toMatchObject({ error: { code: "UNKNOWN_GATEWAY", field: "gateway" } });
  });

  test("an unreachable gateway answers 504 on every query route", async () => {
    const responses = await Promise.all(
      ["/v1/account", "/v1/positions", "/v1/symbols/EURUSD", "/v1/orders/abc"].map((path) =>
        s.call("GET", `${path}?gateway=${DEAD_GATEWAY}`),
      ),
    );

    for (const response of responses) {
      expect(response.status).toBe(504);
      expect(response.json).toMatchObject({
        error: { code: "GATEWAY_UNREACHABLE", gateway: DEAD_GATEWAY },
      });
    }
  });
});

describe("local API routing", () => {
  test.each([
    ["GET", "/"],
    ["GET", "/v1"],
    ["GET", "/v1/nope"],
    ["GET", "/v1/health/"],
    ["GET", "/v1/orders/a/b"],
    ["POST", "/v1/positions/1"],
    ["POST", "/v1/positions/1/delete"],
    ["GET", "/v2/health"],
  ])("%s %s is 404", async (method, path) => {
    const response = await s.call(method, path);

    expect(response.status).toBe(404);
    expect(response.json).toMatchObject({ error: { code: "NOT_FOUND" } });
  });

  test.each([
    ["GET", "/v1/orders", "POST"],
    ["DELETE", "/v1/orders", "POST"],
    ["POST", "/v1/orders/abc", "GET"],
    ["POST", "/v1/health", "GET"],
    ["GET", "/v1/positions/1/close", "POST"],
    ["PUT", "/v1/trading-state", "POST"],
    ["OPTIONS", "/v1/breaker", "POST"],
    ["POST", "/metrics", "GET"],
  ])("%s %s is 405 with Allow", async (method, path, allow) => {
    const response = await s.call(method, path);

    expect(response.status).toBe(405);
    expect(response.headers.get("allow")).toBe(allow);
    expect(response.json).toMatchObject({ error: { code: "METHOD_NOT_ALLOWED" } });
  });

  test("an unexpected exception is a 500 that reveals nothing", async () => {
    const app = s.app as { health: () => unknown };
    const health = app.health;
    app.health = () => {
      throw new Error("secret internals");
    };
    try {
      const response = await s.call("GET", "/v1/health");

      expect(response.status).toBe(500);
      expect(response.json).toEqual({
        error: { code: "INTERNAL_ERROR", message: expect.any(String) },
      });
      expect(response.text).not.toContain("secret");
    } finally {
      app.health = health;
    }
  });
});

describe("symbols in the broker's spelling", () => {
  test("a symbol in another letter case becomes the configured one; others stay as given", () => {
    const known = ["EURUSD", "XAUUSD.m", "US500"];
    expect(brokerSpelling("eurusd", known)).toBe("EURUSD");
    expect(brokerSpelling("xauusd.M", known)).toBe("XAUUSD.m");
    expect(brokerSpelling("US500", known)).toBe("US500");
    expect(brokerSpelling("gbpusd", known)).toBe("gbpusd");
  });
});
