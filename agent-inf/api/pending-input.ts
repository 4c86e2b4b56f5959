/**
 * Input rules of the pending-order and pre-trade routes (docs/API.md §11): each body's fields are
 * the wire action's own (shared/protocol/validate-pending.ts), with the same checks and the same
 * rules across fields, plus the API's `gateway`, `client_order_id` (trades) and `edge` (PLACE);
 * a ticket in the path is not repeated in the body. So a request this layer accepts is never
 * refused by the gateway for its shape, and a refusal names the field (400 INVALID_REQUEST).
 */
import {
  checkClientOrderId,
  checkGatewayName,
  checkGroup,
  checkSymbol,
  PENDING_ACTION_RULES,
  type PendingAction,
} from "../../shared/protocol/index.ts";
import type {
  CancelOrderInput,
  CloseByInput,
  ModifyPendingInput,
  PlaceOrderInput,
} from "../orders/pending-orders.ts";
import {
  checkEdge,
  invalid,
  optional,
  parseQuery,
  parseTicket,
  present,
  type Rule,
  type Rules,
  readObject,
} from "./input.ts";

const QUERIES: Rules = { gateway: optional(checkGatewayName) };
const TRADES: Rules = { ...QUERIES, client_order_id: optional(checkClientOrderId) };

/** The wire fields of `action` as API rules, less the ones the path gives. */
function wireRules(action: PendingAction, fromPath: readonly string[] = []): Rules {
  const rules: Record<string, Rule> = {};
  for (const field of PENDING_ACTION_RULES[action].fields) {
    if (fromPath.includes(field.name)) continue;
    rules[field.name] = field.required
      ? { check: field.check, required: true }
      : { check: field.check };
  }
  return rules;
}

/** The action's rule across fields (stoplimit with stop-limits only, one filter, …). */
function crossCheck(action: PendingAction, fields: Record<string, unknown>): void {
  const problem = PENDING_ACTION_RULES[action].crossCheck?.(fields);
  if (problem !== undefined) throw invalid(problem[0], problem[1]);
}

function parse(
  action: PendingAction,
  rules: Rules,
  body: unknown,
  path: Record<string, unknown> = {},
): Record<string, unknown> {
  const fields = present(readObject(body, rules), Object.keys(rules));
  crossCheck(action, { ...fields, ...path });
  return { ...fields, ...path };
}

const PLACE_RULES: Rules = { ...TRADES, ...wireRules("PLACE"), edge: optional(checkEdge) };
const MODIFY_ORDER_RULES: Rules = { ...TRADES, ...wireRules("MODIFY_ORDER", ["ticket"]) };
const CLOSE_BY_RULES: Rules = { ...TRADES, ...wireRules("CLOSE_BY", ["ticket"]) };
const CHECK_RULES = {
  ORDER_CHECK: { ...QUERIES, ...wireRules("ORDER_CHECK") },
  CALC_MARGIN: { ...QUERIES, ...wireRules("CALC_MARGIN") },
  CALC_PROFIT: { ...QUERIES, ...wireRules("CALC_PROFIT") },
} as const satisfies Record<string, Rules>;

export function parsePlaceBody(body: unknown): PlaceOrderInput {
  return parse("PLACE", PLACE_RULES, body) as unknown as PlaceOrderInput;
}

export function parseModifyOrderBody(body: unknown, ticket: number): ModifyPendingInput {
  return parse("MODIFY_ORDER", MODIFY_ORDER_RULES, body, {
    ticket,
  }) as unknown as ModifyPendingInput;
}

export function parseCancelBody(body: unknown, ticket: number): CancelOrderInput {
  return { ...parse("CANCEL", TRADES, body), ticket } as CancelOrderInput;
}

export function parseCloseByBody(body: unknown, ticket: number): CloseByInput {
  return parse("CLOSE_BY", CLOSE_BY_RULES, body, { ticket }) as unknown as CloseByInput;
}

export type CheckAction = keyof typeof CHECK_RULES;

/** An ORDER_CHECK, CALC_MARGIN or CALC_PROFIT: the gateway's request fields, and which gateway. */
export function parseCheckBody(
  action: CheckAction,
  body: unknown,
): { readonly gateway?: string; readonly request: Record<string, unknown> } {
  const { gateway, ...request } = parse(action, CHECK_RULES[action], body);
  return gateway === undefined ? { request } : { gateway: gateway as string, request };
}

const TICKET_TEXT = /^[1-9][0-9]{0,15}$/;
const QUERY_PENDING = {
  gateway: checkGatewayName,
  symbol: checkSymbol,
  group: checkGroup,
  ticket: (value: unknown) =>
    typeof value === "string" && TICKET_TEXT.test(value) ? undefined : "must be a positive integer",
} as const;

/** GET /v1/pending: at most one of symbol, group and ticket (GET_ORDERS' filters). */
export function parsePendingQuery(params: URLSearchParams): {
  readonly gateway?: string;
  readonly filter: { readonly symbol?: string; readonly group?: string; readonly ticket?: number };
} {
  const { gateway, symbol, group, ticket } = parseQuery(params, QUERY_PENDING);
  const filter = {
    ...(symbol === undefined ? {} : { symbol }),
    ...(group === undefined ? {} : { group }),
    ...(ticket === undefined ? {} : { ticket: parseTicket(ticket) }),
  };
  crossCheck("GET_ORDERS", filter);
  return gateway === undefined ? { filter } : { gateway, filter };
}
