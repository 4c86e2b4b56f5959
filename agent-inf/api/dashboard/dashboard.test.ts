/**
 * The dashboard's session cookie through the real API server (docs/DASHBOARD.md §2): login,
 * expiry, logout, forged and replayed cookies, CSRF refusals, roles, throttled logins, the
 * cookie's and the bearer token's separate territories, and the security headers.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { TestClock } from "../../../shared/testing/test-clock.ts";
import { type ApiStack, startStack } from "../../../test/support/api-stack.ts";

const STRATEGY = "strategy-token-for-dashboard";
const OPERATOR = "operator-token-for-dashboard";
const IDLE_MS = 60_000;
const clock = new TestClock();
let stack: ApiStack;

beforeAll(async () => {
  stack = await startStack({
    gateway: false,
    auth: { kind: "token", strategyToken: STRATEGY, operatorToken: OPERATOR },
    dashboard: {
      enabled: true,
      sessionTtlMs: 3_600_000,
      idleTimeoutMs: IDLE_MS,
      clock,
      loginLimits: { windowMs: 60_000, perAddress: 3, total: 100 },
    },
  });
});
afterAll(() => stack.close());
beforeEach(() => {
  stack.app.lane().breaker.reset("test setup");
  // Every test starts with the login throttle's window clear
  clock.advance(60_001);
});

const origin = () => stack.api.url;

async function request(
  method: string,
  path: string,
  options: { cookie?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Response> {
  return fetch(`${stack.api.url}${path}`, {
    method,
    redirect: "manual",
    headers: {
      ...(options.body === undefined ? {} : { "content-type": "application/json" }),
      ...(options.cookie === undefined ? {} : { cookie: options.cookie }),
      ...options.headers,
    },
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  });
}

/** Log in with `token`: the cookie pair to send back and the session's CSRF token. */
async function login(token: string): Promise<{ cookie: string; csrf: string; setCookie: string }> {
  const answer = await request("POST", "/dashboard/login", {
    body: { token },
    headers: { origin: origin() },
  });
  expect(answer.status).toBe(200);
  const setCookie = answer.headers.get("set-cookie") ?? "";
  const cookie = setCookie.split(";")[0] as string;
  const session = (await (await request("GET", "/dashboard/session", { cookie })).json()) as {
    csrf_token: string;
  };
  return { cookie, csrf: session.csrf_token, setCookie };
}

const code = async (response: Response) =>
  ((await response.json()) as { error?: { code?: string } }).error?.code;

describe("dashboard login", () => {
  test("a token becomes an HttpOnly, SameSite=Strict cookie for /dashboard holding a session id, not the token", async () => {
    const { cookie, setCookie } = await login(OPERATOR);
    const session = await request("GET", "/dashboard/session", { cookie });

    expect(setCookie).toMatch(
      /^agent_inf_session=[A-Za-z0-9_-]{43}; Path=\/dashboard; HttpOnly; SameSite=Strict; Max-Age=3600$/,
    );
    expect(setCookie).not.toContain(OPERATOR);
    expect(await session.json()).toMatchObject({
      role: "operator",
      auth: "token",
      csrf_token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      gateways: expect.arrayContaining([stack.gatewayName]),
    });
  });

  test("the page sends a stranger to the login page, and a logged-in browser to the dashboard", async () => {
    const { cookie } = await login(STRATEGY);

    const anonymous = await request("GET", "/dashboard/");
    const loggedIn = await request("GET", "/dashboard/", { cookie });
    const loginPage = await request("GET", "/dashboard/login", { cookie });

    expect([anonymous.status, anonymous.headers.get("location")]).toEqual([
      303,
      "/dashboard/login",
    ]);
    expect(loggedIn.status).toBe(200);
    expect(await loggedIn.text()).toContain('<script type="module" src="assets/app.mjs">');
    expect([loginPage.status, loginPage.headers.get("location")]).toEqual([303, "/dashboard/"]);
  });

  test("a wrong token is 401; a login without Origin, or from another origin, is refused", async () => {
    const wrong = await request("POST", "/dashboard/login", {
      body: { token: "not-it" },
      headers: { origin: origin() },
    });
    const noOrigin = await request("POST", "/dashboard/login", { body: { token: OPERATOR } });
    const otherOrigin = await request("POST", "/dashboard/login", {
      body: { token: OPERATOR },
      headers: { origin: "http://127.0.0.1:1" },
    });
    const notJson = await fetch(`${stack.api.url}/dashboard/login`, {
      method: "POST",
      headers: { origin: origin(), "content-type": "application/x-www-form-urlencoded" },
      body: `token=${OPERATOR}`,
    });

    expect([wrong.status, await code(wrong)]).toEqual([401, "UNAUTHORIZED"]);
    expect(wrong.headers.get("set-cookie")).toBeNull();
    expect([noOrigin.status, await code(noOrigin)]).toEqual([403, "CSRF_REJECTED"]);
    expect([otherOrigin.status, await code(otherOrigin)]).toEqual([403, "FORBIDDEN_ORIGIN"]);
    expect(notJson.status).toBe(415);
  });

  test("after 3 wrong tokens from an address even the right one waits (429, Retry-After)", async () => {
    for (let i = 0; i < 3; i++)
      await request("POST", "/dashboard/login", {
        body: { token: `guess-${i}` },
        headers: { origin: origin() },
      });
    const right = await request("POST", "/dashboard/login", {
      body: { token: OPERATOR },
      headers: { origin: origin() },
    });

    expect([right.status, await code(right)]).toEqual([429, "LOGIN_THROTTLED"]);
    expect(Number(right.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(right.headers.get("set-cookie")).toBeNull();
    clock.advance(60_001);
    expect((await login(OPERATOR)).cookie).toStartWith("agent_inf_session=");
  });
});

describe("dashboard session cookie", () => {
  test("a session unused past idle_minutes ends: 401, and the page sends the browser to log in", async () => {
    const { cookie } = await login(OPERATOR);
    clock.advance(IDLE_MS - 1000);
    expect((await request("GET", "/dashboard/v1/health", { cookie })).status).toBe(200);
    clock.advance(IDLE_MS);

    expect((await request("GET", "/dashboard/v1/health", { cookie })).status).toBe(401);
    expect((await request("GET", "/dashboard/session", { cookie })).status).toBe(401);
    expect((await request("GET", "/dashboard/", { cookie })).status).toBe(303);
  });

  test("logout revokes the session: the cookie replayed afterwards opens nothing", async () => {
    const { cookie, csrf } = await login(OPERATOR);
    const withoutCsrf = await request("POST", "/dashboard/logout", {
      cookie,
      headers: { origin: origin() },
    });
    expect([withoutCsrf.status, await code(withoutCsrf)]).toEqual([403, "CSRF_REJECTED"]);
    expect((await request("GET", "/dashboard/session", { cookie })).status).toBe(200);

    const logout = await request("POST", "/dashboard/logout", {
      cookie,
      headers: { origin: origin(), "x-csrf-token": csrf },
    });

    expect(logout.status).toBe(200);
    expect(logout.headers.get("set-cookie")).toContain("agent_inf_session=; Path=/dashboard");
    expect(logout.headers.get("set-cookie")).toContain("Max-Age=0");
    expect((await request("GET", "/dashboard/session", { cookie })).status).toBe(401);
    expect((await request("GET", "/dashboard/v1/health", { cookie })).status).toBe(401);
  });

  test("forged, altered and doubled cookies are refused", async () => {
    const { cookie } = await login(OPERATOR);
    const value = cookie.split("=")[1] as string;
    const altered = `agent_inf_session=${value.slice(0, -2)}${value.endsWith("AA") ? "BB" : "AA"}`;

    for (const forged of [
      "agent_inf_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
      altered,
      `agent_inf_session=${OPERATOR}`,
      `${cookie}; agent_inf_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA`,
      "other=1",
    ])
      expect((await request("GET", "/dashboard/v1/health", { cookie: forged })).status).toBe(401);
  });

  test("the cookie opens only /dashboard; the bearer token opens only /v1", async () => {
    const { cookie } = await login(OPERATOR);

    expect((await request("GET", "/v1/health", { cookie })).status).toBe(401);
    expect(
      (
        await request("GET", "/dashboard/v1/health", {
          headers: { authorization: `Bearer ${OPERATOR}` },
        })
      ).status,
    ).toBe(401);
    // The strategy's order routes are not the dashboard's, whatever the role
    const order = await request("POST", "/dashboard/v1/orders", {
      cookie,
      body: { symbol: "EURUSD", side: "BUY", volume: 0.1 },
      headers: { origin: origin() },
    });
    expect([order.status, await code(order)]).toEqual([404, "NOT_FOUND"]);
  });
});

describe("dashboard writes", () => {
  test("an operator action needs the session's CSRF token and the dashboard's Origin", async () => {
    const { cookie, csrf } = await login(OPERATOR);
    const other = await login(OPERATOR);
    const engage = (headers: Record<string, string>) =>
      request("POST", "/dashboard/v1/breaker", { cookie, body: { action: "engage" }, headers });

    const refusals = [
      await engage({ origin: origin() }),
      await engage({ origin: origin(), "x-csrf-token": other.csrf }),
      await engage({ "x-csrf-token": csrf }),
    ];
    const foreign = await engage({ origin: "http://localhost:3000", "x-csrf-token": csrf });
    expect(stack.app.lane().breaker.engaged).toBe(false);
    const done = await engage({ origin: origin(), "x-csrf-token": csrf });

    for (const refused of refusals)
      expect([refused.status, await code(refused)]).toEqual([403, "CSRF_REJECTED"]);
    expect([foreign.status, await code(foreign)]).toEqual([403, "FORBIDDEN_ORIGIN"]);
    expect(done.status).toBe(200);
    expect(stack.app.lane().breaker.engaged).toBe(true);
  });

  test("a strategy session may not act, CSRF token or not: 403 FORBIDDEN_ROLE", async () => {
    const { cookie, csrf } = await login(STRATEGY);
    for (const [path, body] of [
      ["/dashboard/v1/breaker", { action: "engage" }],
      ["/dashboard/v1/trading-state", { state: "HALTED" }],
    ] as const) {
      const answer = await request("POST", path, {
        cookie,
        body,
        headers: { origin: origin(), "x-csrf-token": csrf },
      });
      expect([answer.status, await code(answer)]).toEqual([403, "FORBIDDEN_ROLE"]);
    }
    expect(stack.app.lane().breaker.engaged).toBe(false);
    expect(stack.app.lane().tradingState.state).toBe("ACTIVE");
  });
});

describe("dashboard responses", () => {
  test("pages, files, API answers and refusals carry the security headers", async () => {
    const { cookie } = await login(STRATEGY);
    for (const answer of [
      await request("GET", "/dashboard/login"),
      await request("GET", "/dashboard/", { cookie }),
      await request("GET", "/dashboard/assets/app.mjs"),
      await request("GET", "/dashboard/v1/recent-orders", { cookie }),
      await request("GET", "/dashboard/v1/health"),
      await request("GET", "/dashboard/nope"),
    ]) {
      const csp = answer.headers.get("content-security-policy") ?? "";
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain("unsafe");
      expect(answer.headers.get("x-content-type-options")).toBe("nosniff");
      expect(answer.headers.get("referrer-policy")).toBe("no-referrer");
      expect(answer.headers.get("x-frame-options")).toBe("DENY");
      expect(answer.headers.get("cross-origin-opener-policy")).toBe("same-origin");
      expect(answer.headers.get("cross-origin-resource-policy")).toBe("same-origin");
      expect(answer.headers.get("permissions-policy")).toContain("camera=()");
    }
  });

  test("the pages hold no inline script or style, and load nothing from elsewhere", async () => {
    for (const page of ["/dashboard/login", "/dashboard/assets/app.mjs"]) {
      const text = await (await request("GET", page)).text();
      expect(text).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
      expect(text).not.toMatch(/\sstyle=|<style|https?:\/\//);
    }
  });

  test("an event stream opened with a session ends at logout", async () => {
    const { cookie, csrf } = await login(STRATEGY);
    const stream = await request("GET", `/dashboard/v1/stream?events=1`, { cookie });
    expect(stream.status).toBe(200);
    const reader = (stream.body as ReadableStream<Uint8Array>).getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toContain("SNAPSHOT");

    await request("POST", "/dashboard/logout", {
      cookie,
      headers: { origin: origin(), "x-csrf-token": csrf },
    });

    const next = await Promise.race([reader.read(), Bun.sleep(3000).then(() => "still open")]);
    expect(next).toMatchObject({ done: true });
  });

  test("recent-orders refuses unknown outcomes and limits out of range", async () => {
    const { cookie } = await login(STRATEGY);
    for (const query of ["outcome=WON", "limit=0", "limit=501", "limit=1e2", "nope=1"])
      expect(
        (await request("GET", `/dashboard/v1/recent-orders?${query}`, { cookie })).status,
      ).toBe(400);
    expect(
      (
        await request("GET", "/dashboard/v1/recent-orders?outcome=FILLED,DENIED&limit=5", {
          cookie,
        })
      ).status,
    ).toBe(200);
  });
});

describe("the dashboard's data routes", () => {
  test("equity and latency: figures absent before the first reading, 404 for an unknown gateway, 400 for unknown parameters", async () => {
    const { cookie } = await login(STRATEGY);
    // No gateway runs in this stack: nothing was read yet
    const equity = await request("GET", "/dashboard/v1/equity", { cookie });
    expect(equity.status).toBe(200);
    expect(await equity.json()).toEqual({
      gateway: stack.gatewayName,
      daily_loss_limit: { money: null, percent: null },
      max_drawdown_percent: null,
      curve: [],
    });
    const latency = (await (
      await request("GET", "/dashboard/v1/latency", { cookie })
    ).json()) as Record<string, { count: number; mean_ms: number | null; counts: number[] }>;
    expect(latency["order"]).toMatchObject({ count: 0, mean_ms: null });
    expect(latency["ping"]?.counts.length).toBe((latency["bounds_ms"] as unknown as []).length);
    for (const path of ["equity", "latency", "recent-orders"]) {
      const unknown = await request("GET", `/dashboard/v1/${path}?gateway=gtw-nope`, { cookie });
      expect(unknown.status).toBe(404);
      expect(await code(unknown)).toBe("UNKNOWN_GATEWAY");
      expect((await request("GET", `/dashboard/v1/${path}?since=1`, { cookie })).status).toBe(400);
    }
  });
});

describe("api.auth: none", () => {
  test("the page opens without a login, with the operator's rights; the Origin guard still holds", async () => {
    const open = await startStack({ gateway: false });
    try {
      const url = open.api.url;
      const page = await fetch(`${url}/dashboard/`, { redirect: "manual" });
      expect(page.status).toBe(200);
      expect(page.headers.get("content-type")).toStartWith("text/html");
      const loginPage = await fetch(`${url}/dashboard/login`, { redirect: "manual" });
      expect(loginPage.status).toBe(303);
      expect(loginPage.headers.get("location")).toBe("/dashboard/");
      expect(await (await fetch(`${url}/dashboard/session`)).json()).toMatchObject({
        role: "operator",
        auth: "none",
        csrf_token: "",
      });
      const engage = (origin: string) =>
        fetch(`${url}/dashboard/v1/breaker`, {
          method: "POST",
          headers: { "content-type": "application/json", origin },
          body: JSON.stringify({ action: "engage", reason: "dashboard test" }),
        });
      const foreign = await engage("http://localhost:3000");
      expect(foreign.status).toBe(403);
      expect(await code(foreign)).toBe("FORBIDDEN_ORIGIN");
      expect(open.app.lane().breaker.engaged).toBe(false);
      expect((await engage(url)).status).toBe(200);
      expect(open.app.lane().breaker.engaged).toBe(true);
    } finally {
      await open.close();
    }
  });
});

describe("dashboard switched off", () => {
  test("dashboard.enabled: false serves nothing under /dashboard", async () => {
    const off = await startStack({
      gateway: false,
      auth: { kind: "token", strategyToken: STRATEGY, operatorToken: OPERATOR },
      dashboard: { enabled: false, sessionTtlMs: 1000, idleTimeoutMs: 1000 },
    });
    try {
      const page = await fetch(`${off.api.url}/dashboard/login`, {
        headers: { authorization: `Bearer ${OPERATOR}` },
      });
      expect(page.status).toBe(404);
    } finally {
      await off.close();
    }
  });
});
