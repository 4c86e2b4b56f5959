/**
 * The market-data and history routes of the local API (docs/API.md §10): symbols, the last
 * tick, bars, ticks, and the account's deal and order history, as the MetaTrader5 Python module
 * reads them. Each is one gateway query paged to the end (market-stream.ts); the query rules
 * are market-input.ts, the rows' units and layout market-rows.ts.
 */
import type { Logger } from "../../shared/log.ts";
import type { Reply, Tick } from "../../shared/protocol/index.ts";
import type { InferenceApp } from "../app.ts";
import { API_TICK_FIELDS, seconds } from "../gateway/market-units.ts";
import { ApiError, ApiErrorCode } from "./input.ts";
import {
  parseHistoryQuery,
  parseLastTickQuery,
  parseRatesQuery,
  parseSymbolsQuery,
  parseTicksQuery,
} from "./market-input.ts";
import { CONTENT_TYPES } from "./market-rows.ts";
import { fetchPage, streamMarket } from "./market-stream.ts";

/**
 * What these handlers use of routes.ts's RouteContext. Declared here rather than imported:
 * routes.ts lists these routes, and agent-inf keeps no import cycles.
 */
interface RouteContext {
  readonly app: InferenceApp;
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  readonly log: Logger;
  readonly request: Request;
  readonly server: { timeout(request: Request, seconds: number): void };
}

interface MarketRoute {
  readonly method: "GET";
  readonly template: string;
  readonly handler: (context: RouteContext) => Promise<Response>;
}

function context({ app, request, server, log }: RouteContext) {
  return {
    log,
    signal: request.signal,
    setIdleTimeout: (seconds: number) => server.timeout(request, seconds),
    allowed: app.config.risk.allowed_symbols,
    accept: request.headers.get("accept"),
  };
}

async function symbols(ctx: RouteContext): Promise<Response> {
  const parsed = parseSymbolsQuery(ctx.query, ctx.request.headers.get("accept"));
  const lane = ctx.app.lane(parsed.gateway);
  return streamMarket({
    ...context(ctx),
    lane,
    kind: "symbols",
    format: parsed.format,
    request: parsed.request,
    meta: (first) => ({
      gateway: lane.name,
      ...(parsed.request.group === undefined ? {} : { group: parsed.request.group }),
      total: (first as unknown as { total: number }).total,
    }),
  });
}

async function rates(ctx: RouteContext): Promise<Response> {
  const c = context(ctx);
  const parsed = parseRatesQuery(ctx.params["symbol"] ?? "", ctx.query, c.accept, c.allowed);
  const lane = ctx.app.lane(parsed.gateway);
  const { symbol, timeframe } = parsed.request;
  return streamMarket({
    ...c,
    lane,
    kind: "rates",
    format: parsed.format,
    request: parsed.request,
    meta: () => ({ gateway: lane.name, symbol, timeframe }),
  });
}

async function ticks(ctx: RouteContext): Promise<Response> {
  const c = context(ctx);
  const parsed = parseTicksQuery(ctx.params["symbol"] ?? "", ctx.query, c.accept, c.allowed);
  const lane = ctx.app.lane(parsed.gateway);
  const { symbol, flags } = parsed.request;
  return streamMarket({
    ...c,
    lane,
    kind: "ticks",
    format: parsed.format,
    request: parsed.request,
    meta: () => ({ gateway: lane.name, symbol, flags }),
  });
}

function history(kind: "history_deals" | "history_orders") {
  const action = kind === "history_deals" ? "GET_HISTORY_DEALS" : "GET_HISTORY_ORDERS";
  return async (ctx: RouteContext): Promise<Response> => {
    const c = context(ctx);
    const parsed = parseHistoryQuery(action, ctx.query, c.accept);
    const lane = ctx.app.lane(parsed.gateway);
    return streamMarket({
      ...c,
      lane,
      kind,
      format: parsed.format,
      request: parsed.request,
      meta: () => ({ gateway: lane.name }),
    });
  };
}

/** The tick as MetaTrader5's symbol_info_tick gives it: `time` in seconds, `time_msc` in ms. */
export function apiTick(tick: Tick): Record<string, number> {
  const values: Record<string, number> = {
    ...tick,
    time: seconds(tick.time_msc),
  };
  return Object.fromEntries(API_TICK_FIELDS.map((name) => [name, values[name] as number]));
}

async function lastTick(ctx: RouteContext): Promise<Response> {
  const c = context(ctx);
  const parsed = parseLastTickQuery(ctx.params["symbol"] ?? "", ctx.query, c.allowed);
  const lane = ctx.app.lane(parsed.gateway);
  const reply: Reply = await fetchPage(lane, parsed.request);
  const tick = (reply as unknown as { tick?: Tick }).tick;
  if (tick === undefined)
    throw new ApiError(502, ApiErrorCode.GATEWAY_ERROR, `gateway ${lane.name} answered no tick`);
  const body = { gateway: lane.name, symbol: parsed.request.symbol, tick: apiTick(tick) };
  return new Response(JSON.stringify(body), {
    headers: { "content-type": CONTENT_TYPES.json, "cache-control": "no-store" },
  });
}

export const MARKET_ROUTES: readonly MarketRoute[] = [
  { method: "GET", template: "/v1/symbols", handler: symbols },
  { method: "GET", template: "/v1/ticks/{symbol}/last", handler: lastTick },
  { method: "GET", template: "/v1/ticks/{symbol}", handler: ticks },
  { method: "GET", template: "/v1/rates/{symbol}", handler: rates },
  { method: "GET", template: "/v1/history/deals", handler: history("history_deals") },
  { method: "GET", template: "/v1/history/orders", handler: history("history_orders") },
];
