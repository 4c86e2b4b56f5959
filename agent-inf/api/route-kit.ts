/**
 * What every route file of the local API shares (routes.ts and the route families beside it):
 * the handler's context and the route type, JSON answers, and the HTTP status of an order
 * outcome. Asking the gateway a query is gateway-answers.ts.
 */
import type { Server } from "bun";
import type { Logger } from "../../shared/log.ts";
import type { SignedAction } from "../../shared/protocol/index.ts";
import type { InferenceApp } from "../app.ts";
import type { OrderResult } from "../orders/order-service.ts";
import type { Role } from "./auth.ts";
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
  /** The caller's role (auth.ts): an operator may do what a strategy may not. */
  readonly role: Role;
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

export function orderResponse(
  log: Logger,
  action: SignedAction,
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
