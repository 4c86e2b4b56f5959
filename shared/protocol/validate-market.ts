/**
 * Request rules of the market-data actions (market-types.ts), in the form validate.ts's table
 * takes: per action, its fields with their checks, and a rule across fields. The cross rules
 * answer with MT5-style named codes where MT5 refuses the same input with an error: an unknown
 * timeframe (INVALID_TIMEFRAME), a count of 0 or past the limit (INVALID_COUNT), from after to
 * (INVALID_RANGE), a span wider than one query may cover (RANGE_TOO_LONG), a cursor from another
 * query (INVALID_CURSOR). Wrong types and shapes stay INVALID_REQUEST.
 */
import { type Check, checkSymbol, checkTicket, describeValue } from "./checks.ts";
import { type CursorKind, decodeCursor } from "./market-cursor.ts";
import {
  MAX_CURSOR_LENGTH,
  MAX_RATES_PER_QUERY,
  MAX_TICKS_PER_QUERY,
  MAX_TICKS_RANGE_MS,
  MAX_TIME_MS,
  type MarketAction,
  TICK_KINDS,
} from "./market-types.ts";
import { checkGroup } from "./symbol-group.ts";
import { isTimeframe, minBarMs, TIMEFRAMES, type Timeframe } from "./timeframes.ts";

export type MarketErrorCode =
  | "INVALID_TIMEFRAME"
  | "INVALID_COUNT"
  | "INVALID_RANGE"
  | "RANGE_TOO_LONG"
  | "INVALID_CURSOR";

/** A refusal from a cross rule: the field to blame, the message, and its code. */
export type CrossProblem = readonly [field: string, message: string, code?: MarketErrorCode];

export interface MarketFieldSpec {
  readonly name: string;
  readonly required: boolean;
  readonly check: Check;
}

export interface MarketActionSpec {
  readonly fields: readonly MarketFieldSpec[];
  readonly crossCheck: (request: Record<string, unknown>) => CrossProblem | undefined;
}

const required = (name: string, check: Check): MarketFieldSpec => ({ name, required: true, check });
const optional = (name: string, check: Check): MarketFieldSpec => ({
  name,
  required: false,
  check,
});

// ---------------------------------------------------------------------------------------------
// Field checks (phrases as in checks.ts)

export const checkTime: Check = (value) =>
  Number.isSafeInteger(value) && (value as number) >= 0 && (value as number) <= MAX_TIME_MS
    ? undefined
    : `must be a Unix ms time from 0 to ${MAX_TIME_MS} (3000-12-31)`;

/** Any integer: 0, negative and too large get INVALID_COUNT from the cross rule. */
const checkCountType: Check = (value) =>
  Number.isSafeInteger(value) ? undefined : "must be an integer";

const checkStart: Check = (value) =>
  Number.isSafeInteger(value) && (value as number) >= 0
    ? undefined
    : "must be a bar position, an integer ≥ 0 (0 is the current bar)";

/** Names only; an unknown one gets INVALID_TIMEFRAME from the cross rule. */
const checkTimeframeType: Check = (value) =>
  typeof value === "string" && value.length >= 1 && value.length <= 16
    ? undefined
    : `must be a timeframe name (${TIMEFRAMES.join(" ")})`;

const checkTickKind: Check = (value) =>
  typeof value === "string" && (TICK_KINDS as readonly string[]).includes(value)
    ? undefined
    : `must be one of ${TICK_KINDS.join(", ")}`;

const checkCursorText: Check = (value) =>
  typeof value === "string" &&
  value.length >= 1 &&
  value.length <= MAX_CURSOR_LENGTH &&
  /^[A-Za-z0-9.]+$/.test(value)
    ? undefined
    : "must be the `next` of a previous reply, unchanged";

// ---------------------------------------------------------------------------------------------
// Cross rules

const has = (request: Record<string, unknown>, name: string) => request[name] !== undefined;

function countProblem(request: Record<string, unknown>, max: number): CrossProblem | undefined {
  const count = request["count"];
  if (count === undefined) return undefined;
  if ((count as number) < 1 || (count as number) > max) {
    return [
      "count",
      `count must be from 1 to ${max}, was ${describeValue(count)}`,
      "INVALID_COUNT",
    ];
  }
  return undefined;
}

function orderProblem(request: Record<string, unknown>): CrossProblem | undefined {
  const from = request["from"];
  const to = request["to"];
  if (from !== undefined && to !== undefined && (from as number) > (to as number)) {
    return ["to", `from (${from}) is after to (${to})`, "INVALID_RANGE"];
  }
  return undefined;
}

function cursorProblem(
  request: Record<string, unknown>,
  kind: CursorKind,
): CrossProblem | undefined {
  if (!has(request, "cursor")) return undefined;
  const decoded = decodeCursor(request, kind);
  if (!decoded.ok) return ["cursor", decoded.message, "INVALID_CURSOR"];
  for (const value of decoded.values) {
    if (typeof value === "number" && value > MAX_TIME_MS) {
      return ["cursor", "cursor is damaged; send the reply's next unchanged", "INVALID_CURSOR"];
    }
  }
  return undefined;
}

function ratesCrossCheck(request: Record<string, unknown>): CrossProblem | undefined {
  const timeframe = request["timeframe"];
  if (!isTimeframe(timeframe)) {
    return [
      "timeframe",
      `timeframe ${describeValue(timeframe)} is unknown; use one of ${TIMEFRAMES.join(" ")}`,
      "INVALID_TIMEFRAME",
    ];
  }
  const form = ["from", "to", "start", "count"].filter((name) => has(request, name)).join("+");
  if (form !== "from+count" && form !== "start+count" && form !== "from+to") {
    return [
      "from",
      `GET_RATES takes from+count, start+count or from+to, was ${form === "" ? "none" : form}`,
    ];
  }
  const problem = countProblem(request, MAX_RATES_PER_QUERY) ?? orderProblem(request);
  if (problem !== undefined) return problem;
  if (form === "start+count") {
    const depth = (request["start"] as number) + (request["count"] as number);
    if (depth > MAX_RATES_PER_QUERY) {
      return [
        "start",
        `start + count reaches ${depth} bars back, limit is ${MAX_RATES_PER_QUERY}`,
        "RANGE_TOO_LONG",
      ];
    }
  }
  if (form === "from+to") {
    const span = (request["to"] as number) - (request["from"] as number);
    const bars = Math.floor(span / minBarMs(timeframe as Timeframe)) + 1;
    if (bars > MAX_RATES_PER_QUERY) {
      return [
        "to",
        `the range can hold up to ${bars} ${timeframe} bars, limit is ${MAX_RATES_PER_QUERY}; ask for it in parts`,
        "RANGE_TOO_LONG",
      ];
    }
  }
  return cursorProblem(request, "R");
}

function ticksCrossCheck(request: Record<string, unknown>): CrossProblem | undefined {
  if (has(request, "to") === has(request, "count")) {
    return ["to", "GET_TICKS takes from+count or from+to"];
  }
  const problem = countProblem(request, MAX_TICKS_PER_QUERY) ?? orderProblem(request);
  if (problem !== undefined) return problem;
  if (has(request, "to")) {
    const span = (request["to"] as number) - (request["from"] as number);
    if (span > MAX_TICKS_RANGE_MS) {
      return [
        "to",
        `the range is ${span} ms, limit is ${MAX_TICKS_RANGE_MS} (31 days); ask for it in parts`,
        "RANGE_TOO_LONG",
      ];
    }
  }
  return cursorProblem(request, "T");
}

function historyCrossCheck(request: Record<string, unknown>): CrossProblem | undefined {
  const range = has(request, "from") || has(request, "to");
  const forms = [range, has(request, "position"), has(request, "ticket")].filter(Boolean).length;
  if (forms !== 1 || (range && !(has(request, "from") && has(request, "to")))) {
    return ["from", "history takes from+to (with an optional group), position, or ticket"];
  }
  if (has(request, "group") && !range) {
    return ["group", "group filters a from+to query only"];
  }
  return orderProblem(request) ?? cursorProblem(request, "H");
}

// ---------------------------------------------------------------------------------------------

const historyFields = [
  optional("from", checkTime),
  optional("to", checkTime),
  optional("group", checkGroup),
  optional("position", checkTicket),
  optional("ticket", checkTicket),
  optional("cursor", checkCursorText),
];

/** The market actions' rules; validate.ts puts the envelope (id, ts) in front of the fields. */
export const MARKET_SPECS: Readonly<Record<MarketAction, MarketActionSpec>> = {
  GET_SYMBOLS: {
    fields: [optional("group", checkGroup), optional("cursor", checkCursorText)],
    crossCheck: (request) => cursorProblem(request, "S"),
  },
  GET_TICK: { fields: [required("symbol", checkSymbol)], crossCheck: () => undefined },
  GET_RATES: {
    fields: [
      required("symbol", checkSymbol),
      required("timeframe", checkTimeframeType),
      optional("from", checkTime),
      optional("to", checkTime),
      optional("start", checkStart),
      optional("count", checkCountType),
      optional("cursor", checkCursorText),
    ],
    crossCheck: ratesCrossCheck,
  },
  GET_TICKS: {
    fields: [
      required("symbol", checkSymbol),
      required("from", checkTime),
      optional("to", checkTime),
      optional("count", checkCountType),
      optional("flags", checkTickKind),
      optional("cursor", checkCursorText),
    ],
    crossCheck: ticksCrossCheck,
  },
  GET_HISTORY_DEALS: { fields: historyFields, crossCheck: historyCrossCheck },
  GET_HISTORY_ORDERS: { fields: historyFields, crossCheck: historyCrossCheck },
};
