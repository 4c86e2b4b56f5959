/**
 * Input rules of the market-data routes (docs/API.md §10): query strings become the protocol
 * request agent-inf pages through (docs/PROTOCOL.md §14), or an ApiError naming the parameter.
 *
 * Times in queries are ISO-8601 (`2026-12-01`, `2026-12-01T10:00:00Z`, `…+02:00`) or Unix
 * seconds (`1795003200`, `1795003200.250`); a time without a zone is the broker's server time,
 * as MT5 reads it. The protocol's own rules (shared/protocol/validate-market.ts) then judge the
 * request exactly as the gateway will, so its named codes (INVALID_COUNT, RANGE_TOO_LONG, …)
 * come back from here as 400s before anything is sent.
 */
import {
  checkGatewayName,
  checkGroup,
  checkSymbol,
  checkTicket,
  describeValue,
  isTimeframe,
  MAX_TIME_MS,
  type MarketRequest,
  parseRequest,
  TICK_KINDS,
  TIMEFRAMES,
  type TickKind,
  type Timeframe,
} from "../../shared/protocol/index.ts";
import {
  ApiError,
  ApiErrorCode,
  brokerSpelling,
  invalid,
  parsePathField,
  parseQuery,
} from "./input.ts";

export type MarketFormat = "json" | "csv";

/** A market request ready to page: what to ask the gateway, and for whom. */
export interface MarketQuery<R extends MarketRequest = MarketRequest> {
  readonly gateway: string | undefined;
  /** The protocol request without its envelope (v, id, ts and cursor are added per page). */
  readonly request: Omit<R, "v" | "id" | "ts" | "cursor">;
}

type RequestBody<A extends MarketRequest["action"]> = Omit<
  Extract<MarketRequest, { action: A }>,
  "v" | "id" | "ts" | "cursor"
>;

// ---------------------------------------------------------------------------------------------
// Times

const SECONDS = /^(\d{1,11})(?:\.(\d{1,3}))?$/;
const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?)?(Z|[+-]\d{2}:\d{2})?$/i;
const TIME_FORMS =
  "an ISO-8601 time (2026-12-01, 2026-12-01T10:30:00Z, 2026-12-01T12:30:00+02:00) or Unix seconds (1795003200)";

/**
 * A query time as Unix ms: ISO-8601 or Unix seconds (up to 3 decimals). Without a zone it is
 * the broker's server time, which MT5 handles as if it were UTC.
 */
export function parseTime(name: string, text: string): number {
  const ms = timeMs(text);
  if (ms === undefined || ms < 0 || ms > MAX_TIME_MS)
    throw new ApiError(
      400,
      ApiErrorCode.INVALID_TIME,
      `query parameter ${name} must be ${TIME_FORMS}, from 1970 to 3000-12-31; was ${describeValue(text)}`,
      { field: name },
    );
  return ms;
}

function timeMs(text: string): number | undefined {
  const seconds = SECONDS.exec(text);
  if (seconds !== null)
    return Number(seconds[1]) * 1000 + Number((seconds[2] ?? "").padEnd(3, "0"));
  const iso = ISO.exec(text);
  if (iso === null) return undefined;
  const [year, month, day, hour, minute, second] = iso.slice(1, 7).map((part) => Number(part ?? 0));
  const millis = Number((iso[7] ?? "").padEnd(3, "0"));
  const utc = Date.UTC(
    year as number,
    (month as number) - 1,
    day as number,
    hour as number,
    minute as number,
    second as number,
    millis,
  );
  // Date.UTC rolls 2026-02-30 over into March: a date that does not exist is refused instead
  const back = new Date(utc);
  if (
    back.getUTCFullYear() !== year ||
    back.getUTCMonth() + 1 !== month ||
    back.getUTCDate() !== day ||
    (hour as number) > 23 ||
    (minute as number) > 59 ||
    (second as number) > 59
  )
    return undefined;
  return utc - zoneOffsetMs(iso[8]);
}

function zoneOffsetMs(zone: string | undefined): number {
  if (zone === undefined || zone.toUpperCase() === "Z") return 0;
  const sign = zone.startsWith("-") ? -1 : 1;
  const hours = Number(zone.slice(1, 3));
  const minutes = Number(zone.slice(4, 6));
  return sign * (hours * 60 + minutes) * 60_000;
}

// ---------------------------------------------------------------------------------------------
// Parameters

const WHOLE = /^\d{1,16}$/;

function checkWhole(value: unknown): string | undefined {
  return typeof value === "string" && WHOLE.test(value) ? undefined : "must be a whole number";
}

/** Parsed later (parseTime): here only bounded, so a huge value is refused before parsing. */
function checkTimeText(value: unknown): string | undefined {
  return typeof value === "string" && value.length <= 40 ? undefined : `must be ${TIME_FORMS}`;
}

function checkFormat(value: unknown): string | undefined {
  return value === "json" || value === "csv" ? undefined : 'must be "json" or "csv"';
}

const anyText = (value: unknown) =>
  typeof value === "string" && value.length <= 16 ? undefined : "is too long";

const COMMON = { gateway: checkGatewayName, format: checkFormat } as const;

const RATES_PARAMS = {
  ...COMMON,
  timeframe: anyText,
  count: checkWhole,
  start: checkWhole,
  from: checkTimeText,
  to: checkTimeText,
} as const;

const TICKS_PARAMS = {
  ...COMMON,
  from: checkTimeText,
  to: checkTimeText,
  count: checkWhole,
  flags: anyText,
} as const;

const HISTORY_PARAMS = {
  ...COMMON,
  from: checkTimeText,
  to: checkTimeText,
  group: checkGroup,
  position: checkWhole,
  ticket: checkWhole,
} as const;

/** The query's `format`, else what the Accept header prefers (JSON unless CSV comes first). */
export function chooseFormat(
  query: Record<string, string>,
  accept: string | null,
  csv: boolean,
): MarketFormat {
  const asked = query["format"] as MarketFormat | undefined;
  const format = asked ?? acceptedFormat(accept);
  if (format === "csv" && !csv)
    throw new ApiError(
      406,
      ApiErrorCode.NOT_ACCEPTABLE,
      "this route answers JSON only; CSV is offered for bars, ticks and history",
    );
  return format;
}

function acceptedFormat(accept: string | null): MarketFormat {
  if (accept === null) return "json";
  for (const part of accept.split(",")) {
    const type = part.split(";")[0]?.trim().toLowerCase();
    if (type === "text/csv") return "csv";
    if (type === "application/json" || type === "*/*" || type === "application/*") return "json";
  }
  return "json";
}

function symbolParam(segment: string, allowed: readonly string[]): string {
  return brokerSpelling(parsePathField("symbol", segment, checkSymbol), allowed);
}

function timeframeParam(text: string | undefined): Timeframe {
  if (text === undefined) throw invalid("timeframe", "query parameter timeframe is required");
  const upper = text.toUpperCase();
  if (!isTimeframe(upper))
    throw new ApiError(
      400,
      ApiErrorCode.INVALID_TIMEFRAME,
      `timeframe ${describeValue(text)} is unknown; use one of ${TIMEFRAMES.join(" ")}`,
      { field: "timeframe" },
    );
  return upper;
}

function flagsParam(text: string | undefined): TickKind {
  if (text === undefined) return "ALL";
  const upper = text.toUpperCase();
  if (!(TICK_KINDS as readonly string[]).includes(upper))
    throw invalid(
      "flags",
      `query parameter flags must be one of ${TICK_KINDS.join(", ")}, was ${describeValue(text)}`,
    );
  return upper as TickKind;
}

function times(query: Record<string, string>): { from?: number; to?: number } {
  const from = query["from"] === undefined ? undefined : parseTime("from", query["from"]);
  const to = query["to"] === undefined ? undefined : parseTime("to", query["to"]);
  if (from !== undefined && to !== undefined && from > to)
    throw new ApiError(
      400,
      ApiErrorCode.INVALID_RANGE,
      `from (${query["from"]}) is after to (${query["to"]})`,
      { field: "to" },
    );
  return { ...(from === undefined ? {} : { from }), ...(to === undefined ? {} : { to }) };
}

const number = (text: string | undefined) => (text === undefined ? undefined : Number(text));

function defined<T extends Record<string, unknown>>(fields: T): T {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as T;
}

// ---------------------------------------------------------------------------------------------
// Routes

export interface ParsedMarket<A extends MarketRequest["action"]> {
  readonly gateway: string | undefined;
  readonly format: MarketFormat;
  readonly request: RequestBody<A>;
}

/**
 * GET /v1/rates/{symbol}: `count` alone (the latest bars: copy_rates_from_pos at 0), `start` +
 * `count` (copy_rates_from_pos), `from` + `count` (copy_rates_from) or `from` + `to`
 * (copy_rates_range).
 */
export function parseRatesQuery(
  segment: string,
  params: URLSearchParams,
  accept: string | null,
  allowed: readonly string[],
): ParsedMarket<"GET_RATES"> {
  const query = parseQuery(params, RATES_PARAMS);
  const symbol = symbolParam(segment, allowed);
  const timeframe = timeframeParam(query["timeframe"]);
  const form = ["from", "to", "start", "count"].filter((name) => query[name] !== undefined);
  const shape = form.join("+");
  if (!["count", "start+count", "from+count", "from+to"].includes(shape))
    throw invalid(
      form[0] ?? "count",
      `rates take count, start+count, from+count or from+to, was ${shape === "" ? "none" : shape}`,
    );
  const count = number(query["count"]);
  const start = shape === "count" ? 0 : number(query["start"]);
  const request = validated({
    action: "GET_RATES",
    ...defined({ symbol, timeframe, ...times(query), start, count }),
  } as RequestBody<"GET_RATES">);
  return { gateway: query["gateway"], format: chooseFormat(query, accept, true), request };
}

/** GET /v1/ticks/{symbol}: `from` + `count` (copy_ticks_from) or `from` + `to` (copy_ticks_range). */
export function parseTicksQuery(
  segment: string,
  params: URLSearchParams,
  accept: string | null,
  allowed: readonly string[],
): ParsedMarket<"GET_TICKS"> {
  const query = parseQuery(params, TICKS_PARAMS);
  const symbol = symbolParam(segment, allowed);
  if (query["from"] === undefined) throw invalid("from", "query parameter from is required");
  if ((query["to"] === undefined) === (query["count"] === undefined))
    throw invalid("to", "ticks take from+count or from+to");
  const request = validated({
    action: "GET_TICKS",
    ...defined({
      symbol,
      ...times(query),
      count: number(query["count"]),
      flags: flagsParam(query["flags"]),
    }),
  } as RequestBody<"GET_TICKS">);
  return { gateway: query["gateway"], format: chooseFormat(query, accept, true), request };
}

/**
 * GET /v1/history/deals and /orders: `from` (and `to`, default: no end) with an optional
 * `group`, or `position`, or `ticket`, as history_deals_get / history_orders_get take them.
 */
export function parseHistoryQuery(
  action: "GET_HISTORY_DEALS" | "GET_HISTORY_ORDERS",
  params: URLSearchParams,
  accept: string | null,
): ParsedMarket<"GET_HISTORY_DEALS" | "GET_HISTORY_ORDERS"> {
  const query = parseQuery(params, HISTORY_PARAMS);
  const range = query["from"] !== undefined || query["to"] !== undefined;
  const forms = [range, query["position"] !== undefined, query["ticket"] !== undefined];
  if (forms.filter(Boolean).length !== 1)
    throw invalid(
      "from",
      "history takes from (and to, with an optional group), position, or ticket",
    );
  if (range && query["from"] === undefined)
    throw invalid("from", "query parameter from is required with to");
  if (query["group"] !== undefined && !range)
    throw invalid("group", "group filters a from/to query only");
  const span = range ? { to: MAX_TIME_MS, ...times(query) } : {};
  const position = idParam("position", query["position"]);
  const ticket = idParam("ticket", query["ticket"]);
  const request = validated({
    action,
    ...defined({ ...span, group: query["group"], position, ticket }),
  } as RequestBody<"GET_HISTORY_DEALS">);
  return { gateway: query["gateway"], format: chooseFormat(query, accept, true), request };
}

function idParam(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const id = Number(text);
  const problem = checkTicket(id);
  if (problem !== undefined)
    throw invalid(name, `query parameter ${name} ${problem}, was ${describeValue(text)}`);
  return id;
}

/** GET /v1/symbols?group=: JSON only. */
export function parseSymbolsQuery(
  params: URLSearchParams,
  accept: string | null,
): ParsedMarket<"GET_SYMBOLS"> {
  const query = parseQuery(params, { ...COMMON, group: checkGroup });
  const request = validated({
    action: "GET_SYMBOLS",
    ...defined({ group: query["group"] }),
  } as RequestBody<"GET_SYMBOLS">);
  return { gateway: query["gateway"], format: chooseFormat(query, accept, false), request };
}

/** GET /v1/ticks/{symbol}/last: the symbol's last tick (symbol_info_tick). */
export function parseLastTickQuery(
  segment: string,
  params: URLSearchParams,
  allowed: readonly string[],
): { readonly gateway: string | undefined; readonly request: RequestBody<"GET_TICK"> } {
  const query = parseQuery(params, { gateway: checkGatewayName });
  return {
    gateway: query["gateway"],
    request: { action: "GET_TICK", symbol: symbolParam(segment, allowed) },
  };
}

/**
 * The protocol's own rules on the finished request, as the gateway will apply them: its named
 * codes (INVALID_COUNT, RANGE_TOO_LONG, …) become 400s with the same code and field.
 */
function validated<R extends { readonly action: string }>(request: R): R {
  const bytes = new TextEncoder().encode(JSON.stringify({ v: 1, id: "api", ts: 1, ...request }));
  const checked = parseRequest(bytes);
  if (checked.ok) return request;
  const { code, message, field } = checked.error;
  const known = (Object.values(ApiErrorCode) as string[]).includes(code);
  throw new ApiError(400, known ? (code as ApiErrorCode) : ApiErrorCode.INVALID_REQUEST, message, {
    ...(field === undefined ? {} : { field }),
  });
}
