/**
 * Input rules of the local strategy API (docs/API.md): JSON bodies, path segments and query
 * strings become typed inputs for the order service, or an ApiError naming the field. Field rules
 * are the wire protocol's own (shared/protocol/checks.ts), so a request this layer accepts is never
 * refused by the gateway for its shape.
 *
 * Not risk: whether an order is allowed is the risk monitor's call; this only checks form.
 */
import {
  type Check,
  checkClientOrderId,
  checkComment,
  checkDeviation,
  checkGatewayName,
  checkMagic,
  checkPriceOrNull,
  checkSide,
  checkSymbol,
  checkTicket,
  checkVolume,
  describeKey,
  describeValue,
  TRADING_STATES,
  type TradingState,
} from "../../shared/protocol/index.ts";
import type { CloseOrderInput, ModifyOrderInput, OpenOrderInput } from "../orders/order-service.ts";

/** Stable codes of the API's own errors (not order outcomes, which carry the gateway's codes). */
export const ApiErrorCode = {
  INVALID_REQUEST: "INVALID_REQUEST",
  INVALID_HOST: "INVALID_HOST",
  UNAUTHORIZED: "UNAUTHORIZED",
  FORBIDDEN_HOST: "FORBIDDEN_HOST",
  FORBIDDEN_ORIGIN: "FORBIDDEN_ORIGIN",
  FORBIDDEN_ROLE: "FORBIDDEN_ROLE",
  /** The dashboard: a state-changing request without its session's CSRF token or an Origin. */
  CSRF_REJECTED: "CSRF_REJECTED",
  /** The dashboard: too many failed logins; Retry-After says when to try again. */
  LOGIN_THROTTLED: "LOGIN_THROTTLED",
  RISK_HOLD: "RISK_HOLD",
  NOT_FOUND: "NOT_FOUND",
  METHOD_NOT_ALLOWED: "METHOD_NOT_ALLOWED",
  REQUEST_TIMEOUT: "REQUEST_TIMEOUT",
  PAYLOAD_TOO_LARGE: "PAYLOAD_TOO_LARGE",
  UNSUPPORTED_MEDIA_TYPE: "UNSUPPORTED_MEDIA_TYPE",
  UNKNOWN_GATEWAY: "UNKNOWN_GATEWAY",
  UNKNOWN_SYMBOL: "UNKNOWN_SYMBOL",
  GATEWAY_ERROR: "GATEWAY_ERROR",
  GATEWAY_UNREACHABLE: "GATEWAY_UNREACHABLE",
  STREAM_UNAVAILABLE: "STREAM_UNAVAILABLE",
  // Market data (market-input.ts): the protocol's names for what MT5 refuses too
  INVALID_TIME: "INVALID_TIME",
  INVALID_TIMEFRAME: "INVALID_TIMEFRAME",
  INVALID_COUNT: "INVALID_COUNT",
  INVALID_RANGE: "INVALID_RANGE",
  RANGE_TOO_LONG: "RANGE_TOO_LONG",
  NOT_ACCEPTABLE: "NOT_ACCEPTABLE",
  TOO_MANY_REQUESTS: "TOO_MANY_REQUESTS",
  HISTORY_LOADING: "HISTORY_LOADING",
  INTERNAL_ERROR: "INTERNAL_ERROR",
} as const;
export type ApiErrorCode = (typeof ApiErrorCode)[keyof typeof ApiErrorCode];

/** A refusal with its HTTP status; rendered as `{error: {code, message, field?}}`. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: ApiErrorCode;
  readonly field: string | undefined;
  /** Extra fields for the error object (e.g. the gateway's own error_code). */
  readonly details: Readonly<Record<string, unknown>>;
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    status: number,
    code: ApiErrorCode,
    message: string,
    extra: {
      readonly field?: string;
      readonly details?: Readonly<Record<string, unknown>>;
      readonly headers?: Readonly<Record<string, string>>;
      readonly cause?: unknown;
    } = {},
  ) {
    super(message, extra.cause === undefined ? undefined : { cause: extra.cause });
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.field = extra.field;
    this.details = extra.details ?? {};
    this.headers = extra.headers ?? {};
  }

  toJSON(): { error: Record<string, unknown> } {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.field === undefined ? {} : { field: this.field }),
        ...this.details,
      },
    };
  }
}

export function invalid(field: string | undefined, message: string): ApiError {
  return new ApiError(400, ApiErrorCode.INVALID_REQUEST, message, {
    ...(field === undefined ? {} : { field }),
  });
}

const MAX_REASON_LENGTH = 200;

/** Operator reasons end up in logs and the state file: one printable line, bounded. */
function checkReason(value: unknown): string | undefined {
  if (typeof value !== "string") return "must be a string";
  if (value.length === 0) return "must not be empty";
  if (value.length > MAX_REASON_LENGTH) return `must be at most ${MAX_REASON_LENGTH} characters`;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(value)) return "must not contain control characters";
  return undefined;
}

function checkOneOf(values: readonly string[]): Check {
  const phrase = `must be one of ${values.map((value) => JSON.stringify(value)).join(", ")}`;
  return (value) => (typeof value === "string" && values.includes(value) ? undefined : phrase);
}

function checkBoolean(value: unknown): string | undefined {
  return typeof value === "boolean" ? undefined : "must be true or false";
}

function checkProbability(value: unknown): string | undefined {
  return typeof value === "number" && Number.isFinite(value) && value >= 0 && value <= 1
    ? undefined
    : "must be a number from 0 to 1";
}

function checkPositive(value: unknown): string | undefined {
  return typeof value === "number" && Number.isFinite(value) && value > 0
    ? undefined
    : "must be a positive number";
}

interface Rule {
  readonly check: Check | ((value: unknown, path: string) => string | undefined);
  readonly required?: boolean;
}

type Rules = Readonly<Record<string, Rule>>;

const optional = (check: Rule["check"]): Rule => ({ check });
const required = (check: Rule["check"]): Rule => ({ check, required: true });

/**
 * Check `value` is a plain object whose keys are all in `rules` and whose fields pass them.
 * The first problem wins, in the order: not an object, unknown field, missing field, bad value.
 */
function readObject(value: unknown, rules: Rules, prefix = ""): Record<string, unknown> {
  const name = prefix === "" ? "body" : `field ${prefix.slice(0, -1)}`;
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw invalid(
      prefix === "" ? undefined : prefix.slice(0, -1),
      `${name} must be a JSON object, was ${describeValue(value)}`,
    );
  }
  const object = value as Record<string, unknown>;
  for (const key of Object.keys(object)) {
    if (!Object.hasOwn(rules, key))
      throw invalid(
        `${prefix}${key}`,
        `field ${prefix}${describeKey(key)} is not allowed; allowed fields: ${Object.keys(rules).join(", ")}`,
      );
  }
  for (const [key, rule] of Object.entries(rules)) {
    const field = object[key];
    if (field === undefined) {
      if (rule.required === true)
        throw invalid(`${prefix}${key}`, `field ${prefix}${key} is required`);
      continue;
    }
    const problem = rule.check(field, `${prefix}${key}.`);
    if (problem !== undefined)
      throw invalid(
        `${prefix}${key}`,
        `field ${prefix}${key} ${problem}, was ${describeValue(field)}`,
      );
  }
  return object;
}

const EDGE_RULES: Rules = {
  win_probability: required(checkProbability),
  payoff_ratio: required(checkPositive),
};

/** Nested objects report their own field path, so their errors are thrown from inside. */
function checkEdge(value: unknown, path: string): string | undefined {
  readObject(value, EDGE_RULES, path);
  return undefined;
}

const OPEN_RULES: Rules = {
  gateway: optional(checkGatewayName),
  client_order_id: optional(checkClientOrderId),
  symbol: required(checkSymbol),
  side: required(checkSide),
  volume: required(checkVolume),
  sl: optional(checkPriceOrNull),
  tp: optional(checkPriceOrNull),
  deviation: optional(checkDeviation),
  magic: optional(checkMagic),
  comment: optional(checkComment),
  edge: optional(checkEdge),
};

const CLOSE_RULES: Rules = {
  gateway: optional(checkGatewayName),
  client_order_id: optional(checkClientOrderId),
  volume: optional(checkVolume),
  deviation: optional(checkDeviation),
  comment: optional(checkComment),
};

const MODIFY_RULES: Rules = {
  gateway: optional(checkGatewayName),
  client_order_id: optional(checkClientOrderId),
  sl: optional(checkPriceOrNull),
  tp: optional(checkPriceOrNull),
};

const TRADING_STATE_RULES: Rules = {
  state: required(checkOneOf(TRADING_STATES)),
  reason: optional(checkReason),
  gateway: optional(checkGatewayName),
  override_risk: optional(checkBoolean),
};

const BREAKER_ACTIONS = ["engage", "reset"] as const;
const BREAKER_RULES: Rules = {
  action: required(checkOneOf(BREAKER_ACTIONS)),
  reason: optional(checkReason),
  gateway: optional(checkGatewayName),
};

/** Copy the fields that are present; validated values keep their JSON types. */
function present<K extends string>(source: Record<string, unknown>, keys: readonly K[]) {
  const out: Partial<Record<K, unknown>> = {};
  for (const key of keys) if (source[key] !== undefined) out[key] = source[key];
  return out;
}

export function parseOpenBody(body: unknown): OpenOrderInput {
  const fields = readObject(body, OPEN_RULES);
  return present(fields, Object.keys(OPEN_RULES)) as unknown as OpenOrderInput;
}

export function parseCloseBody(body: unknown, ticket: number): CloseOrderInput {
  const fields = readObject(body, CLOSE_RULES);
  return { ...present(fields, Object.keys(CLOSE_RULES)), ticket } as CloseOrderInput;
}

export function parseModifyBody(body: unknown, ticket: number): ModifyOrderInput {
  const fields = readObject(body, MODIFY_RULES);
  if (fields["sl"] === undefined && fields["tp"] === undefined)
    throw invalid("sl", "field sl or tp is required (null removes a stop, omitted keeps it)");
  return { ...present(fields, Object.keys(MODIFY_RULES)), ticket } as ModifyOrderInput;
}

export interface TradingStateInput {
  readonly state: TradingState;
  readonly reason?: string;
  readonly gateway?: string;
  /** Relax a state a loss limit set (logged); needs a reason. */
  readonly override_risk?: boolean;
}

export function parseTradingStateBody(body: unknown): TradingStateInput {
  const input = readObject(body, TRADING_STATE_RULES) as unknown as TradingStateInput;
  if (input.override_risk === true && input.reason === undefined)
    throw invalid(
      "reason",
      "field reason is required with override_risk: say why the limit is overridden",
    );
  return input;
}

export interface BreakerInput {
  readonly action: (typeof BREAKER_ACTIONS)[number];
  readonly reason?: string;
  readonly gateway?: string;
}

export function parseBreakerBody(body: unknown): BreakerInput {
  return readObject(body, BREAKER_RULES) as unknown as BreakerInput;
}

/** A ticket from the path: digits only (no sign, exponent or leading zero), a safe integer. */
export function parseTicket(segment: string): number {
  const ticket = /^[1-9][0-9]{0,15}$/.test(segment) ? Number(segment) : Number.NaN;
  const problem = checkTicket(ticket);
  if (problem !== undefined)
    throw invalid("ticket", `ticket ${problem}, was ${describeValue(segment)}`);
  return ticket;
}

/** A path parameter checked like the wire field of the same name. */
export function parsePathField(field: string, segment: string, check: Check): string {
  const problem = check(segment);
  if (problem !== undefined)
    throw invalid(field, `${field} ${problem}, was ${describeValue(segment)}`);
  return segment;
}

/**
 * Query parameters: only the named ones, each at most once, each passing its check.
 * Unknown parameters are refused like unknown body fields, so a typo never goes unnoticed.
 */
export function parseQuery(
  params: URLSearchParams,
  allowed: Readonly<Record<string, Check>>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of params) {
    const check = Object.hasOwn(allowed, key) ? allowed[key] : undefined;
    if (check === undefined) {
      const names = Object.keys(allowed);
      throw invalid(
        key,
        `query parameter ${describeKey(key)} is not allowed${names.length === 0 ? "" : `; allowed: ${names.join(", ")}`}`,
      );
    }
    if (Object.hasOwn(out, key)) throw invalid(key, `query parameter ${key} is given twice`);
    const problem = check(value);
    if (problem !== undefined)
      throw invalid(key, `query parameter ${key} ${problem}, was ${describeValue(value)}`);
    out[key] = value;
  }
  return out;
}

export const QUERY_GATEWAY = { gateway: checkGatewayName } as const;
export const QUERY_POSITIONS = { gateway: checkGatewayName, symbol: checkSymbol } as const;
export { checkClientOrderId, checkSymbol };

/**
 * A symbol in the broker's spelling: MT5 finds symbols whatever their letter case, so `eurusd`
 * means the configured `EURUSD` (risk.allowed_symbols holds the broker's names). A symbol not in
 * the list is left as given; the risk check then refuses it by that name.
 */
export function brokerSpelling(symbol: string, known: readonly string[]): string {
  if (known.includes(symbol)) return symbol;
  const lower = symbol.toLowerCase();
  return known.find((name) => name.toLowerCase() === lower) ?? symbol;
}
