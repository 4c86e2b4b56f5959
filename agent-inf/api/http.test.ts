/**
 * The local API's HTTP guards: bearer token, Host header, content type, body size (declared and
 * streamed) and stalled uploads. All are decided before the body is parsed or a gateway asked.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { eventually } from "../../scripts/harness/eventually.ts";
import { NON_CANONICAL_HOSTS, withPort } from "../../shared/testing/host-spellings.ts";
import { RawClient } from "../../shared/testing/raw-tcp.ts";
import { type ApiStack, startStack } from "../../test/support/api-stack.ts";

const MAX_BODY_BYTES = 1024;
const TOKEN = "s3cret-token-for-tests";
const OPERATOR_TOKEN = "operator-s3cret-for-tests";
let open: ApiStack;
let guarded: ApiStack;
const rawClients: RawClient[] = [];

beforeAll(async () => {
  [open, guarded] = await Promise.all([
    startStack({ gateway: false, maxBodyBytes: MAX_BODY_BYTES, bodyTimeoutMs: 300 }),
    startStack({
      gateway: false,
      auth: { kind: "token", strategyToken: TOKEN, operatorToken: OPERATOR_TOKEN },
    }),
  ]);
});
afterEach(() => {
  for (const client of rawClients.splice(0)) client.destroy();
});
afterAll(async () => {
  await Promise.all([open.close(), guarded.close()]);
});

async function raw(port: number, request: string): Promise<string> {
  const client = await RawClient.connect(port);
  rawClients.push(client);
  client.write(new TextEncoder().encode(request));
  return eventually(() => {
    const text = new TextDecoder().decode(client.bytes);
    return text.includes("\r\n\r\n") && text.includes("}") ? text : undefined;
  });
}

describe("local API bearer token", () => {
  test.each([
    ["no header", {}],
    ["a wrong token", { authorization: "Bearer not-the-token" }],
    ["a longer token", { authorization: `Bearer ${TOKEN}x` }],
    ["the token as Basic", { authorization: `Basic ${TOKEN}` }],
    ["the token without scheme", { authorization: TOKEN }],
  ])("refuses %s with 401", async (_, headers) => {
    const response = await guarded.call("GET", "/v1/health", undefined, headers);

    expect(response.status).toBe(401);
    expect(response.headers.get("www-authenticate")).toStartWith("Bearer");
    expect(response.json).toMatchObject({ error: { code: "UNAUTHORIZED" } });
  });

  test.each([
    ["GET", "/metrics"],
    ["GET", "/v1/no-such-route"],
    ["POST", "/v1/breaker"],
  ])("refuses %s %s without the token before routing", async (method, path) => {
    const response = await guarded.call(
      method,
      path,
      method === "POST" ? { action: "engage" } : undefined,
    );

    expect(response.status).toBe(401);
    expect(guarded.app.lane().breaker.engaged).toBe(false);
  });

  test("accepts the right token, with any case of the scheme", async () => {
    const health = await guarded.call("GET", "/v1/health", undefined, {
      authorization: `Bearer ${TOKEN}`,
    });
    const metrics = await guarded.call("GET", "/metrics", undefined, {
      authorization: `bearer ${TOKEN}`,
    });

    expect(health.status).toBe(200);
    expect(health.json).toMatchObject({ agent: "inf-api-test" });
    expect(metrics.status).toBe(200);
  });
});

describe("local API host header", () => {
  test("refuses a foreign Host on a loopback listener (DNS rebinding)", async () => {
    const response = await raw(
      open.api.port,
      "GET /v1/health HTTP/1.1\r\nHost: attacker.example:8765\r\nConnection: close\r\n\r\n",
    );

    expect(response).toStartWith("HTTP/1.1 403");
    expect(response).toContain("FORBIDDEN_HOST");
  });

  test.each(NON_CANONICAL_HOSTS)("refuses Host %s (another spelling of %s)", async (written) => {
    const response = await raw(
      open.api.port,
      `GET /v1/health HTTP/1.1\r\nHost: ${withPort(written, 8765)}\r\nConnection: close\r\n\r\n`,
    );

    expect(response).toStartWith("HTTP/1.1 403");
  });

  test.each([
    ["missing (HTTP/1.0)", "GET /v1/health HTTP/1.0\r\n\r\n", 400, "INVALID_HOST"],
    ["empty", "GET /v1/health HTTP/1.1\r\nHost: \r\n\r\n", 400, "INVALID_HOST"],
    ["[::1]evil", "GET /v1/health HTTP/1.1\r\nHost: [::1]evil\r\n\r\n", 403, "FORBIDDEN_HOST"],
    ["with a space", "GET /v1/health HTTP/1.1\r\nHost: a b\r\n\r\n", 403, "FORBIDDEN_HOST"],
    [
      "port 99999",
      "GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1:99999\r\n\r\n",
      403,
      "FORBIDDEN_HOST",
    ],
    ["%00", "GET /v1/health HTTP/1.1\r\nHost: %00\r\n\r\n", 403, "FORBIDDEN_HOST"],
    [
      "twice",
      "GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: evil.example\r\n\r\n",
      403,
      "FORBIDDEN_HOST",
    ],
  ])("a Host header %s is a 4xx with a code, never a 500", async (_name, head, status, code) => {
    const response = await raw(
      open.api.port,
      head.replace("\r\n\r\n", "\r\nConnection: close\r\n\r\n"),
    );

    expect(response).toStartWith(`HTTP/1.1 ${status}`);
    expect(response).toContain(`"code":"${code}"`);
    // No stack trace in the answer
    expect(response).not.toMatch(/\n\s+at /);
  });

  test.each(["localhost:8765", "127.0.0.1", "[::1]:8765", "LOCALHOST:8765"])(
    "accepts Host %s",
    async (host) => {
      const response = await raw(
        open.api.port,
        `GET /v1/health HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
      );

      expect(response).toStartWith("HTTP/1.1 200");
    },
  );
});

describe("local API origin", () => {
  const post = (origin: string, host = "127.0.0.1") =>
    raw(
      open.api.port,
      `POST /v1/breaker HTTP/1.1\r\nHost: ${host}:${open.api.port}\r\nOrigin: ${origin}\r\n` +
        'Content-Type: application/json\r\nContent-Length: 19\r\nConnection: close\r\n\r\n{"action":"engage"}',
    );

  test.each([
    ["another site", "https://evil.example"],
    ["another loopback port", "http://127.0.0.1:3000"],
    ["https on this port", "https://127.0.0.1:PORT"],
    ["a sandboxed page", "null"],
    ["garbage", "::"],
  ])(
    "refuses an Origin of %s with 403 FORBIDDEN_ORIGIN, before anything runs",
    async (_, origin) => {
      const response = await post(origin.replace("PORT", String(open.api.port)));

      expect(response).toStartWith("HTTP/1.1 403");
      expect(response).toContain("FORBIDDEN_ORIGIN");
      expect(open.app.lane().breaker.engaged).toBe(false);
    },
  );

  test("a foreign Host and Origin together fill nothing (issue 12 §2)", async () => {
    const response = await raw(
      open.api.port,
      "POST /v1/orders HTTP/1.1\r\nHost: evil.example\r\nOrigin: http://evil.example\r\n" +
        'Content-Type: application/json\r\nContent-Length: 45\r\nConnection: close\r\n\r\n{"symbol":"EURUSD","side":"BUY","volume":0.1}',
    );

    expect(response).toStartWith("HTTP/1.1 403");
    expect(response).toContain("FORBIDDEN_HOST");
  });

  test("this API's own origin is accepted", async () => {
    const response = await raw(
      open.api.port,
      `GET /v1/health HTTP/1.1\r\nHost: localhost:${open.api.port}\r\nOrigin: http://localhost:${open.api.port}\r\nConnection: close\r\n\r\n`,
    );

    expect(response).toStartWith("HTTP/1.1 200");
  });
});

describe("local API request bodies", () => {
  test.each([
    ["missing", undefined],
    ["text/plain", "text/plain"],
    ["a form", "application/x-www-form-urlencoded"],
  ])("refuses a POST whose content type is %s with 415", async (_, type) => {
    const response = await fetch(`${open.api.url}/v1/breaker`, {
      method: "POST",
      headers: type === undefined ? {} : { "content-type": type },
      body: type === undefined ? undefined : JSON.stringify({ action: "engage" }),
    });

    expect(response.status).toBe(415);
    expect(await response.json()).toMatchObject({ error: { code: "UNSUPPORTED_MEDIA_TYPE" } });
    expect(open.app.lane().breaker.engaged).toBe(false);
  });

  test("accepts a body of exactly the limit and content type parameters", async () => {
    const json = JSON.stringify({ state: "ACTIVE" });
    const body = json + " ".repeat(MAX_BODY_BYTES - json.length);

    const response = await open.call("POST", "/v1/trading-state", body, {
      "content-type": "application/json; charset=utf-8",
    });

    expect(body.length).toBe(MAX_BODY_BYTES);
    expect(response.status).toBe(200);
  });

  test("refuses a declared body one byte over the limit with 413", async () => {
    const json = JSON.stringify({ state: "HALTED" });
    const body = json + " ".repeat(MAX_BODY_BYTES + 1 - json.length);

    const response = await open.call("POST", "/v1/trading-state", body);

    expect(response.status).toBe(413);
    expect(response.json).toMatchObject({ error: { code: "PAYLOAD_TOO_LARGE" } });
    expect(open.app.lane().tradingState.state).toBe("ACTIVE");
  });

  test("refuses a streamed body over the limit while reading it", async () => {
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      async pull(controller) {
        // Past the limit in the first chunk, so a stall here cannot turn it into the 408 of a
        // body that stopped arriving; then more, never ending by itself: only the server
        // giving up stops it
        const size = sent === 0 ? MAX_BODY_BYTES + 1 : 256;
        sent += size;
        controller.enqueue(new TextEncoder().encode(" ".repeat(size)));
        await Bun.sleep(5);
      },
    });

    const response = await fetch(`${open.api.url}/v1/trading-state`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: stream,
      duplex: "half",
      signal: AbortSignal.timeout(10_000),
    } as RequestInit);

    expect(response.headers.get("content-length")).not.toBeNull();
    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({ error: { code: "PAYLOAD_TOO_LARGE" } });
    expect(sent).toBeGreaterThan(MAX_BODY_BYTES);
  });

  test("answers 408 to a body that stops arriving", async () => {
    const response = await raw(
      open.api.port,
      "POST /v1/breaker HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" +
        'Content-Length: 100\r\n\r\n{"action":',
    );

    expect(response).toStartWith("HTTP/1.1 408");
    expect(response).toContain("REQUEST_TIMEOUT");
    expect(open.app.lane().breaker.engaged).toBe(false);
  });
});
