/**
 * The live dashboard on agent-inf's API server (docs/DASHBOARD.md): its pages and files, the
 * login that turns a token into a session cookie, the logout, and the rules for the API routes
 * the page calls under /dashboard/v1/… with that cookie.
 *
 * server.ts owns the HTTP plumbing and calls in here for every path under /dashboard. The Host
 * and Origin guards run before any of this, as for the API.
 *
 * Why the cookie is safe to accept (cross-site request forgery), three layers, each enough
 * against the common attack and together covering each other's gaps:
 * 1. SameSite=Strict: the browser attaches the cookie only to requests this site starts.
 *    But "site" ignores the port: a page on localhost:3000 is same-site with the agent.
 * 2. Origin: every state-changing cookie request must carry an Origin, and the guard refuses
 *    any but the dashboard's own, so that page on another port is refused.
 * 3. A per-session CSRF token in the X-CSRF-Token header: only a script of the dashboard's own
 *    origin can read it (GET /dashboard/session; no CORS is ever granted) and set the header,
 *    for the odd proxy or browser that drops Origin.
 * POSTs must also be application/json, which no form and no no-cors fetch can send.
 */
import type { Clock } from "../../../shared/clock.ts";
import type { Logger } from "../../../shared/log.ts";
import type { InferenceApp } from "../../app.ts";
import type { Authenticator, Principal, PrincipalSource } from "../auth.ts";
import { ApiError, ApiErrorCode, invalid } from "../input.ts";
import { json, type Route } from "../routes.ts";
import { ASSETS, PAGES } from "./assets.ts";
import {
  clearedCookie,
  DASHBOARD_PATH,
  sessionCookie,
  sessionIdFrom,
  withSecurityHeaders,
} from "./http-bits.ts";
import { DEFAULT_LOGIN_LIMITS, LoginThrottle, type ThrottleLimits } from "./login-throttle.ts";
import { DEFAULT_MAX_SESSIONS, type Session, SessionStore } from "./session-store.ts";

export interface DashboardSettings {
  readonly enabled: boolean;
  readonly sessionTtlMs: number;
  readonly idleTimeoutMs: number;
  readonly maxSessions?: number;
  readonly loginLimits?: ThrottleLimits;
  /** Sessions and the login throttle; default the app's clock. */
  readonly clock?: Clock;
}

export const DEFAULT_DASHBOARD: DashboardSettings = {
  enabled: true,
  sessionTtlMs: 12 * 3_600_000,
  idleTimeoutMs: 3_600_000,
};

const API_PREFIX = `${DASHBOARD_PATH}/v1/`;
const LOGIN_BODY_BYTES = 4096;
const MAX_TOKEN_CHARS = 1024;

export interface DashboardOptions {
  readonly app: InferenceApp;
  readonly settings: DashboardSettings;
  /** The API's authenticator: the login checks tokens with it. */
  readonly authenticator: Authenticator;
  /** The server's JSON body reader (415, 413, 408 as for the API). */
  readonly readJson: (request: Request, maxBytes: number) => Promise<unknown>;
  readonly log: Logger;
}

export class Dashboard {
  readonly sessions: SessionStore;
  /** The session cookie as a credential, for the routes under /dashboard/v1. */
  readonly source: PrincipalSource;
  readonly #o: DashboardOptions;
  readonly #throttle: LoginThrottle;
  readonly #open: boolean;

  constructor(options: DashboardOptions) {
    this.#o = options;
    const clock = options.settings.clock ?? options.app.clock;
    this.sessions = new SessionStore(clock, {
      ttlMs: options.settings.sessionTtlMs,
      idleMs: options.settings.idleTimeoutMs,
      maxSessions: options.settings.maxSessions ?? DEFAULT_MAX_SESSIONS,
    });
    this.#throttle = new LoginThrottle(clock, options.settings.loginLimits ?? DEFAULT_LOGIN_LIMITS);
    this.#open = options.authenticator.kind === "none";
    this.source = {
      via: "cookie",
      resolve: (request) => {
        const session = this.sessions.find(sessionIdFrom(request.headers.get("cookie")));
        return session === undefined ? undefined : { role: session.role, via: "cookie", session };
      },
    };
  }

  /** Is `pathname` the dashboard's (pages, files, login, or its API)? */
  owns(pathname: string): boolean {
    return pathname === DASHBOARD_PATH || pathname.startsWith(`${DASHBOARD_PATH}/`);
  }

  /** `/dashboard/v1/x` is the API route `/v1/x`, called with the session cookie. */
  apiPath(pathname: string): string | undefined {
    return pathname.startsWith(API_PREFIX) ? pathname.slice(DASHBOARD_PATH.length) : undefined;
  }

  /**
   * What the dashboard may call: the reads (not the WebSocket, it uses SSE) and the operator's
   * actions. Not the strategy's orders: a dashboard session watches, and only an operator acts.
   */
  allowsRoute(route: Route): boolean {
    return route.method === "GET" ? route.template !== "/v1/ws" : route.role === "operator";
  }

  /** A cookie request that changes something needs an Origin (checked by the guard) and the CSRF token. */
  checkWrite(request: Request, principal: Principal): void {
    if (principal.via !== "cookie" || request.method === "GET") return;
    const session = principal.session as Session;
    if (request.headers.get("origin") === null)
      throw new ApiError(
        403,
        ApiErrorCode.CSRF_REJECTED,
        "a dashboard request that changes something must carry an Origin header",
      );
    if (!session.csrfMatches(request.headers.get("x-csrf-token")))
      throw new ApiError(
        403,
        ApiErrorCode.CSRF_REJECTED,
        "missing or wrong X-CSRF-Token: reload the dashboard",
      );
  }

  /** An event stream opened with a session ends when the session does (logout, expiry). */
  follow(response: Response | undefined, principal: Principal): Response | undefined {
    const session = principal.session;
    const body = response?.body;
    if (response === undefined || session === undefined || body === null || body === undefined)
      return response;
    if (!response.headers.get("content-type")?.startsWith("text/event-stream")) return response;
    const reader = body.getReader();
    let closed = false;
    let unsubscribe = () => {};
    const followed = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          unsubscribe = session.onEnd(() => {
            if (closed) return;
            closed = true;
            controller.close();
            reader.cancel("session ended").catch(() => {});
          });
        },
        pull: async (controller) => {
          const next = await reader.read();
          if (closed) return;
          if (next.done) {
            closed = true;
            unsubscribe();
            controller.close();
          } else controller.enqueue(next.value);
        },
        cancel: (reason) => {
          closed = true;
          unsubscribe();
          return reader.cancel(reason);
        },
      },
      { highWaterMark: 0 },
    );
    return new Response(followed, { status: response.status, headers: response.headers });
  }

  /** Pages, files, login, logout and the session document; everything under /dashboard but /dashboard/v1. */
  async page(request: Request, url: URL, address: string): Promise<Response> {
    const path = url.pathname.slice(DASHBOARD_PATH.length);
    const method = request.method;
    const only = (allowed: "GET" | "POST") => {
      if (method !== allowed)
        throw new ApiError(
          405,
          ApiErrorCode.METHOD_NOT_ALLOWED,
          `${method} is not allowed here; allowed: ${allowed}`,
          {
            headers: { allow: allowed },
          },
        );
    };
    if (path === "") {
      only("GET");
      return redirect(`${DASHBOARD_PATH}/`, 308);
    }
    if (path === "/") {
      only("GET");
      if (!this.#open && this.#session(request) === undefined)
        return redirect(`${DASHBOARD_PATH}/login`, 303);
      return asset(PAGES.index);
    }
    if (path === "/login") {
      if (method === "POST") return this.#login(request, address);
      only("GET");
      if (this.#open || this.#session(request) !== undefined)
        return redirect(`${DASHBOARD_PATH}/`, 303);
      return asset(PAGES.login);
    }
    if (path === "/logout") {
      only("POST");
      return this.#logout(request);
    }
    if (path === "/session") {
      only("GET");
      return this.#sessionDocument(request);
    }
    if (path.startsWith("/assets/")) {
      only("GET");
      const file = ASSETS.get(path.slice("/assets/".length));
      if (file !== undefined) return asset(file);
    }
    throw new ApiError(404, ApiErrorCode.NOT_FOUND, `no dashboard page ${url.pathname}`);
  }

  /** End every session (the server is stopping). */
  dispose(): void {
    this.sessions.dispose();
  }

  #session(request: Request): Session | undefined {
    return this.sessions.find(sessionIdFrom(request.headers.get("cookie")));
  }

  async #login(request: Request, address: string): Promise<Response> {
    if (request.headers.get("origin") === null)
      throw new ApiError(
        403,
        ApiErrorCode.CSRF_REJECTED,
        "a login must come from the dashboard's page (no Origin header)",
      );
    const body = await this.#o.readJson(request, LOGIN_BODY_BYTES);
    const token = (body as { token?: unknown } | null)?.token;
    if (
      typeof body !== "object" ||
      body === null ||
      Object.keys(body).some((key) => key !== "token") ||
      typeof token !== "string" ||
      token.length === 0 ||
      token.length > MAX_TOKEN_CHARS
    )
      throw invalid(
        "token",
        `send {"token": "<the API or operator token>"} (at most ${MAX_TOKEN_CHARS} characters)`,
      );
    if (this.#open) return json(200, { role: "operator", auth: "none" });
    const wait = this.#throttle.retryAfterMs(address);
    if (wait > 0)
      throw new ApiError(
        429,
        ApiErrorCode.LOGIN_THROTTLED,
        `too many failed logins; try again in ${Math.ceil(wait / 1000)} s`,
        {
          headers: { "retry-after": String(Math.ceil(wait / 1000)) },
        },
      );
    const role = this.#o.authenticator.roleOf(token.trim());
    if (role === undefined) {
      this.#throttle.failed(address);
      this.#o.log.warn("Dashboard login refused: wrong token", { address });
      throw new ApiError(
        401,
        ApiErrorCode.UNAUTHORIZED,
        "that is not the API token or the operator token",
      );
    }
    const { id } = this.sessions.create(role);
    this.#o.log.info("Dashboard login", { role, address, sessions: this.sessions.size });
    return json(200, { role }, { "set-cookie": sessionCookie(id, this.#o.settings.sessionTtlMs) });
  }

  #logout(request: Request): Response {
    const id = sessionIdFrom(request.headers.get("cookie"));
    const session = this.sessions.find(id);
    if (session !== undefined) {
      this.checkWrite(request, { role: session.role, via: "cookie", session });
      this.sessions.revoke(id);
      this.#o.log.info("Dashboard logout", { role: session.role });
    }
    return json(200, { logged_out: session !== undefined }, { "set-cookie": clearedCookie() });
  }

  #sessionDocument(request: Request): Response {
    const session = this.#session(request);
    if (!this.#open && session === undefined)
      throw new ApiError(
        401,
        ApiErrorCode.UNAUTHORIZED,
        "not logged in, or the session ended: log in again",
      );
    const app = this.#o.app;
    return json(200, {
      role: session?.role ?? "operator",
      auth: this.#open ? "none" : "token",
      csrf_token: session?.csrfToken ?? "",
      agent: app.config.agent.name,
      gateways: [...app.lanes.keys()],
      default_gateway: app.defaultGateway,
      allowed_symbols: app.config.risk.allowed_symbols,
      idle_timeout_ms: this.#o.settings.idleTimeoutMs,
    });
  }
}

function redirect(location: string, status: 303 | 308): Response {
  return withSecurityHeaders(
    new Response(null, { status, headers: { location, "cache-control": "no-store" } }),
  );
}

function asset(file: { readonly body: string; readonly type: string }): Response {
  return new Response(file.body, {
    status: 200,
    headers: { "content-type": file.type, "cache-control": "no-cache" },
  });
}
