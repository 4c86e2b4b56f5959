/**
 * The routes of the local strategy API and what each one does with the app: orders go through
 * the order service (risk, signing, no-blind-resend submit), queries go straight to the gateway,
 * operator routes change the trading state or the breaker. docs/API.md is the contract.
 *
 * Not HTTP plumbing (auth, body limits, errors, metrics): that is server.ts.
 */
import type { InferenceApp } from "../app.ts";
import type { Lane } from "../lane/lane.ts";
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
import { PENDING_ROUTES } from "./pending-routes.ts";
import { json, orderResponse, type Route, type RouteContext } from "./route-kit.ts";

export const ROUTES: readonly Route[] = [
  { method: "POST", template: "/v1/orders", handler: openOrder },
  { method: "GET", template: "/v1/orders/{client_order_id}", handler: getOrder },
  { method: "GET", template: "/v1/positions", handler: getPositions },
  { method: "POST", template: "/v1/positions/{ticket}/close", handler: closePosition },
  { method: "POST", template: "/v1/positions/{ticket}/modify", handler: modifyPosition },
  { method: "GET", template: "/v1/account", handler: getAccount },
  { method: "GET", template: "/v1/symbols/{symbol}", handler: getSymbol },
  ...PENDING_ROUTES,
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
