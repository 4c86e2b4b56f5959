/**
 * The local strategy API of agent-inf (docs/API.md): a Bun.serve HTTP server a strategy on the
 * same host calls to trade. This file is the HTTP plumbing: the Host and Origin guards
 * (guards.ts), authentication and roles (auth.ts), routing with 404/405, bounded body reads (413
 * while streaming, 408 on a stalled body), JSON parsing, the error format, per-request metrics
 * and logging. The routes are in routes.ts and the field rules in input.ts. The dashboard's pages
 * and its session cookie are dashboard/dashboard.ts, called for every path under /dashboard.
 *
 * Every request ends in a response: refusals are ApiErrors (4xx, whatever the input), anything
 * else is a 500 whose stack is logged and whose body says nothing about internals.
 */
import type { Server } from "bun";
import { AgentError, describeError, FaultCode } from "../../shared/errors.ts";
import { requestUrl } from "../../shared/http-access.ts";
import { parseListen } from "../../shared/net/index.ts";
import type { InferenceApp } from "../app.ts";
import { UnknownGatewayError } from "../lane/lane.ts";
import { RiskHoldError } from "../lane/lanes.ts";
import { type ApiAuth, Authenticator, allows } from "./auth.ts";
import { Dashboard, type DashboardSettings, DEFAULT_DASHBOARD } from "./dashboard/dashboard.ts";
import { DASHBOARD_DATA_ROUTES } from "./dashboard/data-routes.ts";
import { withSecurityHeaders } from "./dashboard/http-bits.ts";
import { checkHostHeader, checkOrigin } from "./guards.ts";
import { ApiError, ApiErrorCode, invalid } from "./input.ts";
import { json, ROUTES, type Route } from "./routes.ts";
import { type StreamLimits, StreamRegistry, type WsData } from "./stream.ts";

export interface ApiServerOptions {
  /** host:port; port 0 picks a free one (tests). */
  readonly listen: string;
  /** Tokens and roles (auth.ts); `none` only on loopback, and logged as a warning at start. */
  readonly auth: ApiAuth;
  readonly maxBodyBytes: number;
  /** A request body must arrive within this; a stalled upload gets 408. */
  readonly bodyTimeoutMs?: number;
  /** stop() lets in-flight requests (orders) finish this long before cutting connections. */
  readonly stopGraceMs?: number;
  /** Stream connections and their queues; default from the config's `stream` section. */
  readonly stream?: StreamLimits;
  /** The dashboard (docs/DASHBOARD.md); default on, with DEFAULT_DASHBOARD's sessions. */
  readonly dashboard?: DashboardSettings;
}

export interface ApiServer {
  readonly url: string;
  readonly port: number;
  /** The open strategy streams. */
  readonly streams: StreamRegistry;
  stop(): Promise<void>;
}

export const DEFAULT_BODY_TIMEOUT_MS = 5000;
export const DEFAULT_STOP_GRACE_MS = 15_000;

const UNMATCHED_ROUTE = "unmatched";
const KNOWN_METHODS = new Set(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]);

interface Match {
  readonly route?: Route;
  /** The template of the routes whose path matched (the metrics label for a 405 too). */
  readonly template?: string;
  readonly params: Record<string, string>;
  /** Methods the path supports; empty when no route has this path. */
  readonly allowed: readonly string[];
}

export async function startApiServer(
  app: InferenceApp,
  options: ApiServerOptions,
): Promise<ApiServer> {
  const listen = parseListen(options.listen, "api.listen");
  const hostname = listen.host.host;
  const port = listen.port;
  if (!Number.isSafeInteger(options.maxBodyBytes) || options.maxBodyBytes <= 0)
    throw new AgentError(
      FaultCode.CONFIG_INVALID,
      `api: maxBodyBytes must be a positive integer, was ${options.maxBodyBytes}`,
    );
  const loopback = listen.host.loopback;
  if (options.auth.kind === "none" && !loopback)
    throw new AgentError(
      FaultCode.CONFIG_INVALID,
      `api: auth none is allowed on loopback only, and api.listen is ${listen.host.host}`,
    );
  const authenticator = new Authenticator(options.auth);
  const log = app.logger.child("api");
  const bodyTimeoutMs = options.bodyTimeoutMs ?? DEFAULT_BODY_TIMEOUT_MS;
  const routes = [...ROUTES, ...DASHBOARD_DATA_ROUTES].map((route) => ({
    route,
    segments: route.template.split("/"),
  }));
  const dashboardSettings = options.dashboard ?? DEFAULT_DASHBOARD;
  const dashboard = dashboardSettings.enabled
    ? new Dashboard({
        app,
        settings: dashboardSettings,
        authenticator,
        readJson: (request, maxBytes) => readJson(request, maxBytes, bodyTimeoutMs),
        log: log.child("dashboard"),
      })
    : undefined;
  // The dashboard's API calls (/dashboard/v1/…) prove themselves with the session cookie only,
  // and the strategy API (/v1/…) with a bearer token only
  const dashboardAuth = new Authenticator(
    options.auth,
    dashboard === undefined ? [] : [dashboard.source],
  );
  const streams = new StreamRegistry(
    app,
    options.stream ?? {
      maxConnections: app.config.stream.max_connections,
      maxQueuedEvents: app.config.stream.max_queued_events,
    },
  );

  const match = (pathname: string, method: string): Match => {
    const segments = pathname.split("/");
    const allowed: string[] = [];
    let found: Match | undefined;
    let pathTemplate: string | undefined;
    for (const { route, segments: template } of routes) {
      if (template.length !== segments.length) continue;
      const params: Record<string, string> = {};
      const same = template.every((part, i) => {
        const actual = segments[i] as string;
        if (part.startsWith("{")) {
          params[part.slice(1, -1)] = actual;
          return actual.length > 0;
        }
        return part === actual;
      });
      if (!same) continue;
      allowed.push(route.method);
      pathTemplate = route.template;
      if (route.method === method) found = { route, params, allowed };
    }
    if (found !== undefined) return { ...found, allowed, template: pathTemplate as string };
    return pathTemplate === undefined
      ? { params: {}, allowed }
      : { params: {}, allowed, template: pathTemplate };
  };

  const serve = async (
    request: Request,
    url: URL,
    matched: Match,
    server: Server<WsData>,
    viaDashboard = false,
  ): Promise<Response | undefined> => {
    const principal = (viaDashboard ? dashboardAuth : authenticator).authenticate(request);
    if (principal === undefined)
      throw viaDashboard
        ? new ApiError(401, ApiErrorCode.UNAUTHORIZED, "not logged in, or the session ended")
        : new ApiError(401, ApiErrorCode.UNAUTHORIZED, "missing or wrong bearer token", {
            headers: { "www-authenticate": 'Bearer realm="agent-inf"' },
          });
    const route = matched.route;
    if (route === undefined) {
      if (matched.allowed.length === 0)
        throw new ApiError(404, ApiErrorCode.NOT_FOUND, `no route for ${url.pathname}`);
      const allow = [...new Set(matched.allowed)].join(", ");
      throw new ApiError(
        405,
        ApiErrorCode.METHOD_NOT_ALLOWED,
        `${request.method} is not allowed here; allowed: ${allow}`,
        { headers: { allow } },
      );
    }
    if (viaDashboard && !dashboard?.allowsRoute(route))
      throw new ApiError(
        404,
        ApiErrorCode.NOT_FOUND,
        `${route.method} ${route.template} is not served to the dashboard; call /v1 with a bearer token`,
      );
    if (viaDashboard) dashboard?.checkWrite(request, principal);
    if (!allows(principal.role, route.role ?? "strategy"))
      throw new ApiError(
        403,
        ApiErrorCode.FORBIDDEN_ROLE,
        `${route.method} ${route.template} is an operator action: use the operator token (agent-inf halt, reduce, resume, breaker on the host)`,
      );
    const params: Record<string, string> = {};
    for (const [name, raw] of Object.entries(matched.params))
      params[name] = decodeSegment(name, raw);
    const body =
      route.method === "POST"
        ? await readJson(request, options.maxBodyBytes, bodyTimeoutMs)
        : undefined;
    const answer = await route.handler({
      app,
      params,
      query: url.searchParams,
      body,
      log,
      request,
      server,
      streams,
    });
    return viaDashboard ? dashboard?.follow(answer, principal) : answer;
  };

  const server = Bun.serve<WsData>({
    hostname,
    port,
    // Backstop only: readJson enforces maxBodyBytes with a JSON 413; Bun answers a bare 413 for
    // a declared length far above it without calling us
    maxRequestBodySize: options.maxBodyBytes * 4 + 65_536,
    development: false,
    websocket: streams.websocket,
    async fetch(request, bunServer) {
      const started = performance.now();
      let matched: Match = { params: {}, allowed: [] };
      let response: Response | undefined;
      let forDashboard = false;
      try {
        // Guards first: the URL is only built from a Host that passed them
        const host = checkHostHeader(request.headers.get("host"), loopback);
        checkOrigin(request.headers.get("origin"), host);
        const url = targetUrl(request);
        const apiPath = dashboard?.apiPath(url.pathname);
        forDashboard = dashboard?.owns(url.pathname) === true;
        if (forDashboard && apiPath === undefined) {
          matched = { params: {}, allowed: [], template: "/dashboard" };
          response = await dashboard?.page(
            request,
            url,
            bunServer.requestIP(request)?.address ?? "unknown",
          );
        } else {
          matched = match(apiPath ?? url.pathname, request.method);
          response = await serve(request, url, matched, bunServer, apiPath !== undefined);
          if (apiPath !== undefined && matched.template !== undefined)
            matched = { ...matched, template: `/dashboard${matched.template}` };
        }
      } catch (error) {
        response = errorResponse(error, request, matched, log);
      }
      if (forDashboard && response !== undefined) withSecurityHeaders(response);
      const labels = {
        route: matched.template ?? UNMATCHED_ROUTE,
        method: KNOWN_METHODS.has(request.method) ? request.method : "OTHER",
      };
      // No response: upgraded to a WebSocket (101)
      app.metrics.httpRequests.inc({ ...labels, status: String(response?.status ?? 101) });
      app.metrics.httpLatency.observe((performance.now() - started) / 1000, labels);
      return response;
    },
    error(error) {
      // Only reached if fetch itself throws past its own catch
      log.error("API request failed", { error: describeError(error), stack: error.stack });
      return json(500, { error: { code: ApiErrorCode.INTERNAL_ERROR, message: "internal error" } });
    },
  });

  const boundPort = server.port as number;
  const urlHost = hostname.includes(":") ? `[${hostname}]` : hostname;
  const base = `http://${urlHost}:${boundPort}`;
  log.info("Local API listening", { url: base, auth: authenticator.kind });
  if (dashboard !== undefined) log.info("Dashboard at", { url: `${base}/dashboard/` });
  if (authenticator.kind === "none")
    log.warn("The local API takes no token (api.auth: none): any process on this host may trade", {
      url: base,
    });

  let stopping: Promise<void> | undefined;
  return {
    url: base,
    port: boundPort,
    streams,
    stop() {
      stopping ??= (async () => {
        // Streams never finish by themselves: tell them we are going, so only orders are waited on
        streams.closeAll();
        dashboard?.dispose();
        // Stop accepting at once; let running orders finish (bounded), then cut what is left
        const graceful = server.stop(false);
        let timer: ReturnType<typeof setTimeout> | undefined;
        const grace = new Promise<void>((resolve) => {
          timer = setTimeout(resolve, options.stopGraceMs ?? DEFAULT_STOP_GRACE_MS);
        });
        await Promise.race([graceful, grace]);
        clearTimeout(timer);
        await server.stop(true);
        log.info("Local API stopped", { url: base });
      })();
      return stopping;
    },
  };
}

function errorResponse(
  error: unknown,
  request: Request,
  matched: Match,
  log: InferenceApp["logger"],
): Response {
  if (error instanceof ApiError) {
    if (error.status >= 500)
      log.warn("API request failed", {
        route: matched.route?.template,
        status: error.status,
        reason: error.message,
      });
    return json(error.status, error.toJSON(), error.headers);
  }
  if (error instanceof UnknownGatewayError)
    return json(
      404,
      new ApiError(404, ApiErrorCode.UNKNOWN_GATEWAY, error.message, { field: "gateway" }).toJSON(),
    );
  if (error instanceof RiskHoldError)
    return json(
      409,
      new ApiError(409, ApiErrorCode.RISK_HOLD, error.message, {
        details: { holds: error.holds },
      }).toJSON(),
    );
  log.error("API request failed unexpectedly", {
    method: request.method,
    route: matched.route?.template ?? UNMATCHED_ROUTE,
    error: describeError(error),
    stack: error instanceof Error ? error.stack : undefined,
  });
  return json(500, {
    error: { code: ApiErrorCode.INTERNAL_ERROR, message: "internal error; see the agent log" },
  });
}

// ---------------------------------------------------------------------------------------------
// Body

/**
 * The body as JSON, never more than `maxBytes` read: the declared length is checked first, then
 * every chunk as it streams in (a chunked upload declares nothing). Empty means `{}`, so routes
 * whose fields are all optional can be called with no body.
 */
async function readJson(request: Request, maxBytes: number, timeoutMs: number): Promise<unknown> {
  const type = request.headers.get("content-type");
  // Requiring JSON keeps browsers from sending "simple" cross-site POSTs (forms, no-cors fetch)
  if (type === null || type.split(";")[0]?.trim().toLowerCase() !== "application/json")
    throw new ApiError(
      415,
      ApiErrorCode.UNSUPPORTED_MEDIA_TYPE,
      `content-type must be application/json, was ${type === null ? "missing" : JSON.stringify(type.slice(0, 60))}`,
    );
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > maxBytes) throw tooLarge(maxBytes, Number(declared));
  const bytes = await readLimited(request, maxBytes, timeoutMs);
  if (bytes.length === 0) return {};
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw invalid(undefined, "body is not valid UTF-8");
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw invalid(undefined, `body is not valid JSON (${(error as Error).message})`);
  }
}

async function readLimited(
  request: Request,
  maxBytes: number,
  timeoutMs: number,
): Promise<Uint8Array> {
  const stream = request.body;
  if (stream === null) return new Uint8Array(0);
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const stalled = new Promise<"stalled">((resolve) => {
    timer = setTimeout(() => resolve("stalled"), timeoutMs);
  });
  try {
    for (;;) {
      const next = await Promise.race([reader.read(), stalled]);
      if (next === "stalled")
        throw new ApiError(
          408,
          ApiErrorCode.REQUEST_TIMEOUT,
          `body not received within ${timeoutMs} ms`,
        );
      if (next.done) break;
      total += next.value.byteLength;
      if (total > maxBytes) throw tooLarge(maxBytes);
      chunks.push(next.value);
    }
  } catch (error) {
    reader.cancel().catch(() => {});
    throw error;
  } finally {
    clearTimeout(timer);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
}

function tooLarge(maxBytes: number, declared?: number): ApiError {
  return new ApiError(
    413,
    ApiErrorCode.PAYLOAD_TOO_LARGE,
    declared === undefined
      ? `body is larger than ${maxBytes} bytes`
      : `body is ${declared} bytes, limit is ${maxBytes}`,
  );
}

function decodeSegment(name: string, raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw invalid(name, `${name} is not valid percent-encoding`);
  }
}

// ---------------------------------------------------------------------------------------------
// Target

/**
 * The request's URL. Bun builds it from the Host header, which the guards have checked by now;
 * anything it still cannot parse is the client's fault, never a 500.
 */
function targetUrl(request: Request): URL {
  const url = requestUrl(request);
  if (url === undefined) throw invalid(undefined, "the request target is not a valid path");
  return url;
}
