/**
 * Validation rules of the pending-order actions (pending-types.ts), as data: each action's fields
 * with their checks, and the rule across fields. validate.ts adds the envelope (id, ts and, for
 * signed actions, client_order_id, gateway, key_id) and runs them like every other action, so
 * unknown fields, error wording and the refusal codes are the same everywhere.
 *
 * These are wire rules only (types, ranges, which fields go together). Whether a price respects
 * the stops level or an expiration type is allowed for the symbol is MT5's to say, with its
 * retcodes (10015, 10016, 10022): that depends on the market at the moment of the request.
 */
import {
  type Check,
  checkComment,
  checkDeviation,
  checkMagic,
  checkPriceOrNull,
  checkSide,
  checkSymbol,
  checkTicket,
  checkVolume,
} from "./checks.ts";
import {
  isStopLimit,
  needsExpiration,
  ORDER_TIME_TYPES,
  ORDER_TYPES,
  type OrderTimeType,
  type OrderType,
  PENDING_ORDER_TYPES,
  type PendingRequest,
} from "./pending-types.ts";
import { oneOf } from "./reply-shapes.ts";
import { checkGroup } from "./symbol-group.ts";

export type PendingAction = PendingRequest["action"];

export interface PendingFieldRule {
  readonly name: string;
  readonly required: boolean;
  readonly check: Check;
}

/** Returns [field, message] when the request breaks a rule across fields. */
export type CrossCheck = (request: Record<string, unknown>) => [string, string] | undefined;

export interface PendingActionRule {
  readonly signed: boolean;
  readonly fields: readonly PendingFieldRule[];
  readonly crossCheck?: CrossCheck;
}

// ---------------------------------------------------------------------------------------------
// Field checks (phrases as in checks.ts)

export const checkPendingType = oneOf(PENDING_ORDER_TYPES);
export const checkCheckType = oneOf(ORDER_TYPES.filter((type) => type !== "CLOSE_BY"));
export const checkTimeType = oneOf(ORDER_TIME_TYPES);
export const checkFilling = oneOf(["FOK", "IOC", "RETURN"]);

/** An order price: positive and finite (none is not a price here, unlike sl/tp). */
export function checkPrice(value: unknown): string | undefined {
  return typeof value === "number" && Number.isFinite(value) && value > 0
    ? undefined
    : "must be a positive number";
}

/** MT5 stores expirations in whole seconds; a millisecond part would be cut differently per backend. */
export function checkExpiration(value: unknown): string | undefined {
  return Number.isSafeInteger(value) && (value as number) > 0 && (value as number) % 1000 === 0
    ? undefined
    : "must be a Unix time in ms on a whole second (a positive multiple of 1000)";
}

// ---------------------------------------------------------------------------------------------
// Rules across fields

const required = (name: string, check: Check): PendingFieldRule => ({
  name,
  required: true,
  check,
});
const optional = (name: string, check: Check): PendingFieldRule => ({
  name,
  required: false,
  check,
});

/** stoplimit goes with the stop-limit types only; expiration with SPECIFIED and SPECIFIED_DAY. */
function orderShape(request: Record<string, unknown>): [string, string] | undefined {
  const type = request["type"] as OrderType;
  const hasStopLimit = request["stoplimit"] !== undefined;
  if (isStopLimit(type) !== hasStopLimit) {
    return [
      "stoplimit",
      hasStopLimit
        ? `stoplimit is only for BUY_STOP_LIMIT and SELL_STOP_LIMIT, not ${type}`
        : `${type} needs stoplimit (the price of the limit order it places)`,
    ];
  }
  return expirationShape(request, (request["type_time"] as OrderTimeType | undefined) ?? "GTC");
}

function expirationShape(
  request: Record<string, unknown>,
  timeType: OrderTimeType,
): [string, string] | undefined {
  const hasExpiration = request["expiration"] !== undefined;
  if (needsExpiration(timeType) && !hasExpiration) {
    return ["expiration", `type_time ${timeType} needs expiration`];
  }
  if (!needsExpiration(timeType) && hasExpiration) {
    return [
      "expiration",
      `expiration is only for type_time SPECIFIED or SPECIFIED_DAY, not ${timeType}`,
    ];
  }
  return undefined;
}

const MODIFIABLE = ["price", "stoplimit", "sl", "tp", "type_time", "expiration"];

function modifyOrderShape(request: Record<string, unknown>): [string, string] | undefined {
  if (MODIFIABLE.every((name) => request[name] === undefined)) {
    return ["price", `MODIFY_ORDER must change one of ${MODIFIABLE.join(", ")}`];
  }
  const timeType = request["type_time"] as OrderTimeType | undefined;
  // Without type_time the order keeps its own, which only MT5 knows: a new expiration is
  // checked against it there (10022)
  return timeType === undefined ? undefined : expirationShape(request, timeType);
}

function checkShape(request: Record<string, unknown>): [string, string] | undefined {
  const type = request["type"] as OrderType;
  if (type === "BUY" || type === "SELL") {
    for (const name of ["stoplimit", "type_time", "expiration"]) {
      if (request[name] !== undefined) return [name, `${name} is only for pending order types`];
    }
    return undefined;
  }
  if (request["price"] === undefined) return ["price", `a ${type} order needs price`];
  return orderShape(request);
}

function closeByShape(request: Record<string, unknown>): [string, string] | undefined {
  return request["ticket"] === request["ticket_by"]
    ? ["ticket_by", "ticket_by must be another position than ticket"]
    : undefined;
}

function oneFilterShape(request: Record<string, unknown>): [string, string] | undefined {
  const given = ["symbol", "group", "ticket"].filter((name) => request[name] !== undefined);
  return given.length > 1
    ? [
        given[1] as string,
        `GET_ORDERS takes at most one of symbol, group and ticket, was ${given.join(" and ")}`,
      ]
    : undefined;
}

const ORDER_FIELDS = [
  required("symbol", checkSymbol),
  required("volume", checkVolume),
  optional("stoplimit", checkPrice),
  optional("sl", checkPriceOrNull),
  optional("tp", checkPriceOrNull),
  optional("type_time", checkTimeType),
  optional("expiration", checkExpiration),
  optional("type_filling", checkFilling),
  optional("magic", checkMagic),
  optional("comment", checkComment),
];

export const PENDING_ACTION_RULES: Readonly<Record<PendingAction, PendingActionRule>> = {
  PLACE: {
    signed: true,
    fields: [required("type", checkPendingType), required("price", checkPrice), ...ORDER_FIELDS],
    crossCheck: orderShape,
  },
  MODIFY_ORDER: {
    signed: true,
    fields: [
      required("ticket", checkTicket),
      optional("price", checkPrice),
      optional("stoplimit", checkPrice),
      optional("sl", checkPriceOrNull),
      optional("tp", checkPriceOrNull),
      optional("type_time", checkTimeType),
      optional("expiration", checkExpiration),
    ],
    crossCheck: modifyOrderShape,
  },
  CANCEL: { signed: true, fields: [required("ticket", checkTicket)] },
  CLOSE_BY: {
    signed: true,
    fields: [
      required("ticket", checkTicket),
      required("ticket_by", checkTicket),
      optional("comment", checkComment),
    ],
    crossCheck: closeByShape,
  },
  GET_ORDERS: {
    signed: false,
    fields: [
      optional("symbol", checkSymbol),
      optional("group", checkGroup),
      optional("ticket", checkTicket),
    ],
    crossCheck: oneFilterShape,
  },
  ORDER_CHECK: {
    signed: false,
    fields: [
      required("type", checkCheckType),
      optional("price", checkPrice),
      ...ORDER_FIELDS,
      optional("deviation", checkDeviation),
    ],
    crossCheck: checkShape,
  },
  CALC_MARGIN: {
    signed: false,
    fields: [
      required("symbol", checkSymbol),
      required("type", checkSide),
      required("volume", checkVolume),
      required("price", checkPrice),
    ],
  },
  CALC_PROFIT: {
    signed: false,
    fields: [
      required("symbol", checkSymbol),
      required("type", checkSide),
      required("volume", checkVolume),
      required("price_open", checkPrice),
      required("price_close", checkPrice),
    ],
  },
};
