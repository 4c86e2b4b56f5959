/**
 * The routes of the local strategy API and what each one does with the app: orders go through
 * the order service (risk, signing, no-blind-resend submit), queries go straight to the gateway,
 * operator routes change the trading state or the breaker. docs/API.md is the contract.
 *
 * Not HTTP plumbing (auth, body limits, errors, metrics): that is server.ts.
 */
import type { Server } from "bun";
import type { Logger } from "../../shared/log.ts";
import type { InferenceApp } from "../app.ts";
import type { Lane } from "../lane/lane.ts";
import type { OrderResult } from "../orders/order-service.ts";
import type { Role } from "./auth.ts";
import { ask, expectOk } from "./gateway-answers.ts";
import {
  brokerSpelling,
  checkClientOrderId,
  checkSymbol,
  parseBreakerBody,
  parseCloseBody,
  parseModifyBody,
  parseOpenBody,
  parsePathField,
  parseQuery,
  parseTicket,
  parseTradingStateBody,
  QUERY_GATEWAY,
  QUERY_POSITIONS,
} from "./input.ts";
import { MARKET_ROUTES } from "./market-routes.ts";
import type { StreamRegistry, WsData } from "./stream.ts";

export interface RouteContext {
  readonly app: InferenceApp;
  /** Path parameters, already percent-decoded. */
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  /** The parsed JSON body (POST routes); undefined for GET. */
  readonly body: unknown;
  readonly log: Logger;
  readonly request: Request;
  readonly server: Server<WsData>;
  /** The server's open streams (GET /v1/stream, GET /v1/ws). */
  readonly streams: StreamRegistry;
}

/** undefined: the request was upgraded to a WebSocket, which now answers for itself. */
export type RouteHandler = (
  context: RouteContext,
) => Promise<Response | undefined> | Response | undefined;

export interface Route {
  readonly method: "GET" | "POST";
  /** Who may call it (auth.ts); default `strategy`. */
  readonly role?: Role;
  /** Also the `route` label of the HTTP metrics, so label values stay a closed set. */
  readonly template: string;
  readonly handler: RouteHandler;
}

/** HTTP status per order outcome; the body is the OrderResult itself. */
export const ORDER_STATUS = {
  FILLED: 200,
  DENIED: 422,
  REJECTED: 422,
  ERROR: 502,
  UNKNOWN: 504,
} as const satisfies Record<OrderResult["outcome"], number>;

const JSON_HEADERS = {
  "content-type": "application/json",
  // Quotes, positions and order outcomes go stale at once; nothing here may be cached
  "cache-control": "no-store",
} as const;

export function json(
  status: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {},
): Response {
  return new Response(JSON.stringify(body), { status, headers: { ...JSON_HEADERS, ...headers } });
}

export const ROUTES: readonly Route[] = [
  { method: "POST", template: "/v1/orders", handler: openOrder },
  { method: "GET", template: "/v1/orders/{client_order_id}", handler: getOrder },
  { method: "GET", template: "/v1/positions", handler: getPositions },
  { method: "POST", template: "/v1/positions/{ticket}/close", handler: closePosition },
  { method: "POST", template: "/v1/positions/{ticket}/modify", handler: modifyPosition },
  { method: "GET", template: "/v1/account", handler: getAccount },
  { method: "GET", template: "/v1/symbols/{symbol}", handler: getSymbol },
  ...MARKET_ROUTES,
  {
    method: "GET",
    template: "/v1/health",
    handler: ({ app, query }) => {
      parseQuery(query, {});
      return json(200, app.health());
    },
  },
  {
    method: "GET",
    template: "/v1/stream",
    handler: ({ streams, request, query, server }) => streams.sse(request, query, server),
  },
  {
    method: "GET",
    template: "/v1/ws",
    handler: ({ streams, request, query, server }) => streams.ws(request, query, server),
  },
  { method: "POST", template: "/v1/trading-state", role: "operator", handler: setTradingState },
  { method: "POST", template: "/v1/breaker", role: "operator", handler: setBreaker },
  {
    method: "GET",
    template: "/metrics",
    handler: ({ app, query }) => {
      parseQuery(query, {});
      return new Response(app.metrics.registry.render(), {
        status: 200,
        headers: { "content-type": "text/plain; version=0.0.4", "cache-control": "no-store" },
      });
    },
  },
];

// ---------------------------------------------------------------------------------------------
// Orders

async function openOrder({ app, query, body, log }: RouteContext): Promise<Response> {
  parseQuery(query, {});
  const parsed = parseOpenBody(body);
  const input = {
    ...parsed,
    symbol: brokerSpelling(parsed.symbol, app.config.risk.allowed_symbols),
  };
  resolveLane(app, input.gateway);
  const started = performance.now();
  const result = await app.orders.open(input);
  return orderResponse(log, "OPEN", result, started, { symbol: input.symbol, side: input.side });
}

async function closePosition({ app, params, query, body, log }: RouteContext): Promise<Response> {
  parseQuery(query, {});
  const input = parseCloseBody(body, parseTicket(params["ticket"] ?? ""));
  resolveLane(app, input.gateway);
  const started = performance.now();
  const result = await app.orders.close(input);
  return orderResponse(log, "CLOSE", result, started, { ticket: input.ticket });
}

async function modifyPosition({ app, params, query, body, log }: RouteContext): Promise<Response> {
  parseQuery(query, {});
  const input = parseModifyBody(body, parseTicket(params["ticket"] ?? ""));
  resolveLane(app, input.gateway);
  const started = performance.now();
  const result = await app.orders.modify(input);
  return orderResponse(log, "MODIFY", result, started, { ticket: input.ticket });
}

function orderResponse(
  log: Logger,
  action: "OPEN" | "CLOSE" | "MODIFY",
  result: OrderResult,
  started: number,
  fields: Readonly<Record<string, string | number>>,
): Response {
  const status = ORDER_STATUS[result.outcome];
  const code =
    result.outcome === "DENIED"
      ? result.denial.code
      : result.outcome === "UNKNOWN" || result.outcome === "FILLED"
        ? undefined
        : result.reply.error_code;
  log.info("Order request", {
    action,
    gateway: result.gateway,
    coid: result.client_order_id,
    ...fields,
    outcome: result.outcome,
    code,
    reason: result.outcome === "UNKNOWN" ? result.reason : undefined,
    http_status: status,
    duration_ms: Math.round((performance.now() - started) * 10) / 10,
  });
  return json(status, result);
}

// ---------------------------------------------------------------------------------------------
// Gateway queries

async function getOrder({ app, params, query }: RouteContext): Promise<Response> {
  const clientOrderId = parsePathField(
    "client_order_id",
    params["client_order_id"] ?? "",
    checkClientOrderId,
  );
  const { gateway } = parseQuery(query, QUERY_GATEWAY);
  const lane = resolveLane(app, gateway);
  const reply = expectOk(
    lane,
    await ask(lane, { action: "GET_ORDER", client_order_id: clientOrderId }),
  );
  const order = (reply as { order?: unknown }).order ?? null;
  return json(order === null ? 404 : 200, { gateway: lane.name, order });
}

async function getAccount({ app, query }: RouteContext): Promise<Response> {
  const { gateway } = parseQuery(query, QUERY_GATEWAY);
  const lane = resolveLane(app, gateway);
  const reply = expectOk(lane, await ask(lane, { action: "GET_ACCOUNT" }));
  return json(200, { gateway: lane.name, account: (reply as { account?: unknown }).account });
}

async function getPositions({ app, query }: RouteContext): Promise<Response> {
  const { gateway, symbol: asked } = parseQuery(query, QUERY_POSITIONS);
  const symbol =
    asked === undefined ? undefined : brokerSpelling(asked, app.config.risk.allowed_symbols);
  const lane = resolveLane(app, gateway);
  const reply = expectOk(
    lane,
    await ask(lane, { action: "GET_POSITIONS", ...(symbol === undefined ? {} : { symbol }) }),
  );
  return json(200, {
    gateway: lane.name,
    positions: (reply as { positions?: unknown }).positions ?? [],
  });
}

async function getSymbol({ app, params, query }: RouteContext): Promise<Response> {
  const symbol = brokerSpelling(
    parsePathField("symbol", params["symbol"] ?? "", checkSymbol),
    app.config.risk.allowed_symbols,
  );
  const { gateway } = parseQuery(query, QUERY_GATEWAY);
  const lane = resolveLane(app, gateway);
  const reply = expectOk(lane, await ask(lane, { action: "GET_SYMBOL_INFO", symbol }));
  return json(200, {
    gateway: lane.name,
    symbol_info: (reply as { symbol_info?: unknown }).symbol_info,
  });
}

// ---------------------------------------------------------------------------------------------
// Operator

const DEFAULT_REASON = "operator via local API";

function setTradingState({ app, query, body, log }: RouteContext): Response {
  parseQuery(query, {});
  const input = parseTradingStateBody(body);
  if (input.gateway !== undefined) resolveLane(app, input.gateway);
  const reason = input.reason ?? DEFAULT_REASON;
  const overrideRisk = input.override_risk === true;
  app.setTradingState(input.state, reason, input.gateway, overrideRisk);
  log.warn("Trading state set by operator", {
    state: input.state,
    gateway: input.gateway ?? "all",
    reason,
    ...(overrideRisk ? { override_risk: true } : {}),
  });
  return json(200, app.health());
}

function setBreaker({ app, query, body, log }: RouteContext): Response {
  parseQuery(query, {});
  const input = parseBreakerBody(body);
  if (input.gateway !== undefined) resolveLane(app, input.gateway);
  const reason = input.reason ?? DEFAULT_REASON;
  app.setBreaker(input.action === "engage", reason, input.gateway);
  log.warn("Breaker set by operator", {
    action: input.action,
    gateway: input.gateway ?? "all",
    reason,
  });
  return json(200, app.health());
}

/** The named gateway's lane, or the default one; a name not configured is a 404. */
/** The lane named (or the default); an unknown name is UnknownGatewayError, answered 404. */
function resolveLane(app: InferenceApp, name: string | undefined): Lane {
  return app.lane(name);
}
