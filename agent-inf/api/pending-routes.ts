/**
 * The pending-order and pre-trade routes of the local API (docs/API.md §11, issue 15 §5):
 * place, modify and cancel pending orders and close a position by an opposite one, through the
 * order service like every order (risk, signing, idempotent by client_order_id); list the
 * pending orders and ask MT5's order check, margin and profit, straight from the gateway.
 * The input rules are pending-input.ts.
 */
import type { Reply } from "../../shared/protocol/index.ts";
import { ask, expectOk } from "./gateway-answers.ts";
import { brokerSpelling, parseQuery, parseTicket } from "./input.ts";
import {
  type CheckAction,
  parseCancelBody,
  parseCheckBody,
  parseCloseByBody,
  parseModifyOrderBody,
  parsePendingQuery,
  parsePlaceBody,
} from "./pending-input.ts";
import { json, orderResponse, type Route, type RouteContext } from "./route-kit.ts";

export const PENDING_ROUTES: readonly Route[] = [
  { method: "GET", template: "/v1/pending", handler: listPending },
  { method: "POST", template: "/v1/pending", handler: placeOrder },
  { method: "POST", template: "/v1/pending/{ticket}/modify", handler: modifyOrder },
  { method: "POST", template: "/v1/pending/{ticket}/cancel", handler: cancelOrder },
  { method: "POST", template: "/v1/positions/{ticket}/close-by", handler: closeBy },
  { method: "POST", template: "/v1/check", handler: check("ORDER_CHECK", "check") },
  { method: "POST", template: "/v1/check/margin", handler: check("CALC_MARGIN", "margin") },
  { method: "POST", template: "/v1/check/profit", handler: check("CALC_PROFIT", "profit") },
];

async function placeOrder({ app, query, body, log }: RouteContext): Promise<Response> {
  parseQuery(query, {});
  const parsed = parsePlaceBody(body);
  const input = {
    ...parsed,
    symbol: brokerSpelling(parsed.symbol, app.config.risk.allowed_symbols),
  };
  app.lane(input.gateway);
  const started = performance.now();
  const result = await app.orders.place(input);
  return orderResponse(log, "PLACE", result, started, {
    symbol: input.symbol,
    type: input.type,
  });
}

async function modifyOrder({ app, params, query, body, log }: RouteContext): Promise<Response> {
  parseQuery(query, {});
  const input = parseModifyOrderBody(body, parseTicket(params["ticket"] ?? ""));
  app.lane(input.gateway);
  const started = performance.now();
  const result = await app.orders.modifyOrder(input);
  return orderResponse(log, "MODIFY_ORDER", result, started, { ticket: input.ticket });
}

/** The operator's token may cancel while this host is HALTED; the strategy's may not. */
async function cancelOrder(ctx: RouteContext): Promise<Response> {
  const { app, params, query, body, log, role } = ctx;
  parseQuery(query, {});
  const input = parseCancelBody(body, parseTicket(params["ticket"] ?? ""));
  app.lane(input.gateway);
  const started = performance.now();
  const result = await app.orders.cancel({ ...input, operator: role === "operator" });
  return orderResponse(log, "CANCEL", result, started, { ticket: input.ticket, role });
}

async function closeBy({ app, params, query, body, log }: RouteContext): Promise<Response> {
  parseQuery(query, {});
  const input = parseCloseByBody(body, parseTicket(params["ticket"] ?? ""));
  app.lane(input.gateway);
  const started = performance.now();
  const result = await app.orders.closeBy(input);
  return orderResponse(log, "CLOSE_BY", result, started, {
    ticket: input.ticket,
    ticket_by: input.ticket_by,
  });
}

async function listPending({ app, query }: RouteContext): Promise<Response> {
  const { gateway, filter } = parsePendingQuery(query);
  const lane = app.lane(gateway);
  const symbol =
    filter.symbol === undefined
      ? {}
      : { symbol: brokerSpelling(filter.symbol, app.config.risk.allowed_symbols) };
  const reply = expectOk(lane, await ask(lane, { action: "GET_ORDERS", ...filter, ...symbol }));
  return json(200, { gateway: lane.name, orders: (reply as { orders?: unknown }).orders ?? [] });
}

/** ORDER_CHECK, CALC_MARGIN, CALC_PROFIT: one query, its one answer field passed on. */
function check(action: CheckAction, field: "check" | "margin" | "profit") {
  return async ({ app, query, body }: RouteContext): Promise<Response> => {
    parseQuery(query, {});
    const { gateway, request } = parseCheckBody(action, body);
    const lane = app.lane(gateway);
    const symbol = brokerSpelling(request["symbol"] as string, app.config.risk.allowed_symbols);
    const reply: Reply = expectOk(lane, await ask(lane, { action, ...request, symbol }));
    return json(200, {
      gateway: lane.name,
      [field]: (reply as unknown as Record<string, unknown>)[field],
    });
  };
}
