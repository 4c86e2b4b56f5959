/**
 * MT5 trade return codes (ENUM_TRADE_RETURN_CODES) and the one place they become protocol error
 * codes. Values from the official enum; meanings in research/mt5-bridges.md §4.
 */
import type { ErrorCode } from "./errors.ts";

export const Retcode = {
  /** order_check passed (comment "Done"). */
  CHECK_OK: 0,
  REQUOTE: 10004,
  REJECT: 10006,
  CANCEL: 10007,
  PLACED: 10008,
  DONE: 10009,
  DONE_PARTIAL: 10010,
  ERROR: 10011,
  TIMEOUT: 10012,
  INVALID: 10013,
  INVALID_VOLUME: 10014,
  INVALID_PRICE: 10015,
  INVALID_STOPS: 10016,
  TRADE_DISABLED: 10017,
  MARKET_CLOSED: 10018,
  NO_MONEY: 10019,
  PRICE_CHANGED: 10020,
  PRICE_OFF: 10021,
  INVALID_EXPIRATION: 10022,
  ORDER_CHANGED: 10023,
  TOO_MANY_REQUESTS: 10024,
  NO_CHANGES: 10025,
  SERVER_DISABLES_AT: 10026,
  CLIENT_DISABLES_AT: 10027,
  LOCKED: 10028,
  FROZEN: 10029,
  INVALID_FILL: 10030,
  CONNECTION: 10031,
  ONLY_REAL: 10032,
  LIMIT_ORDERS: 10033,
  LIMIT_VOLUME: 10034,
  INVALID_ORDER: 10035,
  POSITION_CLOSED: 10036,
  INVALID_CLOSE_VOLUME: 10038,
  CLOSE_ORDER_EXIST: 10039,
  LIMIT_POSITIONS: 10040,
  REJECT_CANCEL: 10041,
  LONG_ONLY: 10042,
  SHORT_ONLY: 10043,
  CLOSE_ONLY: 10044,
  FIFO_CLOSE: 10045,
  HEDGE_PROHIBITED: 10046,
} as const;
export type RetcodeName = keyof typeof Retcode;

/**
 * How the gateway reports each retcode: the protocol error code, and whether the trade
 * certainly did not happen (`safe`: nothing executed) or its outcome is unknown.
 */
interface RetcodeMapping {
  /** "" for the success retcodes; typed so a code missing from errors.ts fails to compile. */
  readonly errorCode: ErrorCode | "";
  readonly outcome: "executed" | "not_executed" | "unknown";
}

const MAPPING: Readonly<Record<number, RetcodeMapping>> = {
  [Retcode.DONE]: { errorCode: "", outcome: "executed" },
  [Retcode.DONE_PARTIAL]: { errorCode: "", outcome: "executed" },
  // Market orders are sent synchronously and end in DONE; PLACED only says "accepted", so
  // for us the fill is not confirmed and must be reconciled.
  [Retcode.PLACED]: { errorCode: "OUTCOME_UNKNOWN", outcome: "unknown" },
  [Retcode.NO_CHANGES]: { errorCode: "NO_CHANGES", outcome: "not_executed" },
  [Retcode.REQUOTE]: { errorCode: "REQUOTE", outcome: "not_executed" },
  [Retcode.REJECT]: { errorCode: "BROKER_REJECTED", outcome: "not_executed" },
  [Retcode.CANCEL]: { errorCode: "CANCELLED", outcome: "not_executed" },
  [Retcode.ERROR]: { errorCode: "MT5_ERROR", outcome: "not_executed" },
  [Retcode.TIMEOUT]: { errorCode: "OUTCOME_UNKNOWN", outcome: "unknown" },
  [Retcode.INVALID]: { errorCode: "MT5_INVALID_REQUEST", outcome: "not_executed" },
  [Retcode.INVALID_VOLUME]: { errorCode: "INVALID_VOLUME", outcome: "not_executed" },
  [Retcode.INVALID_PRICE]: { errorCode: "INVALID_PRICE", outcome: "not_executed" },
  [Retcode.INVALID_STOPS]: { errorCode: "INVALID_STOPS", outcome: "not_executed" },
  [Retcode.TRADE_DISABLED]: { errorCode: "TRADE_DISABLED", outcome: "not_executed" },
  [Retcode.MARKET_CLOSED]: { errorCode: "MARKET_CLOSED", outcome: "not_executed" },
  [Retcode.NO_MONEY]: { errorCode: "NO_MONEY", outcome: "not_executed" },
  [Retcode.PRICE_CHANGED]: { errorCode: "PRICE_CHANGED", outcome: "not_executed" },
  [Retcode.PRICE_OFF]: { errorCode: "NO_QUOTES", outcome: "not_executed" },
  [Retcode.INVALID_EXPIRATION]: { errorCode: "INVALID_EXPIRATION", outcome: "not_executed" },
  [Retcode.ORDER_CHANGED]: { errorCode: "ORDER_CHANGED", outcome: "not_executed" },
  [Retcode.TOO_MANY_REQUESTS]: { errorCode: "TOO_MANY_REQUESTS", outcome: "not_executed" },
  [Retcode.SERVER_DISABLES_AT]: { errorCode: "SERVER_DISABLES_AT", outcome: "not_executed" },
  [Retcode.CLIENT_DISABLES_AT]: { errorCode: "AUTOTRADING_DISABLED", outcome: "not_executed" },
  [Retcode.LOCKED]: { errorCode: "LOCKED", outcome: "not_executed" },
  [Retcode.FROZEN]: { errorCode: "FROZEN", outcome: "not_executed" },
  [Retcode.INVALID_FILL]: { errorCode: "INVALID_FILL", outcome: "not_executed" },
  [Retcode.CONNECTION]: { errorCode: "NO_CONNECTION", outcome: "not_executed" },
  [Retcode.ONLY_REAL]: { errorCode: "ONLY_REAL", outcome: "not_executed" },
  [Retcode.LIMIT_ORDERS]: { errorCode: "LIMIT_ORDERS", outcome: "not_executed" },
  [Retcode.LIMIT_VOLUME]: { errorCode: "LIMIT_VOLUME", outcome: "not_executed" },
  [Retcode.INVALID_ORDER]: { errorCode: "INVALID_ORDER_TYPE", outcome: "not_executed" },
  [Retcode.POSITION_CLOSED]: { errorCode: "POSITION_CLOSED", outcome: "not_executed" },
  [Retcode.INVALID_CLOSE_VOLUME]: { errorCode: "INVALID_CLOSE_VOLUME", outcome: "not_executed" },
  [Retcode.CLOSE_ORDER_EXIST]: { errorCode: "CLOSE_ORDER_EXISTS", outcome: "not_executed" },
  [Retcode.LIMIT_POSITIONS]: { errorCode: "LIMIT_POSITIONS", outcome: "not_executed" },
  [Retcode.REJECT_CANCEL]: { errorCode: "BROKER_REJECTED", outcome: "not_executed" },
  [Retcode.LONG_ONLY]: { errorCode: "LONG_ONLY", outcome: "not_executed" },
  [Retcode.SHORT_ONLY]: { errorCode: "SHORT_ONLY", outcome: "not_executed" },
  [Retcode.CLOSE_ONLY]: { errorCode: "CLOSE_ONLY", outcome: "not_executed" },
  [Retcode.FIFO_CLOSE]: { errorCode: "FIFO_CLOSE", outcome: "not_executed" },
  [Retcode.HEDGE_PROHIBITED]: { errorCode: "HEDGE_PROHIBITED", outcome: "not_executed" },
};

const NAMES: ReadonlyMap<number, RetcodeName> = new Map(
  (Object.entries(Retcode) as [RetcodeName, number][]).map(([name, code]) => [code, name]),
);

/** "TRADE_RETCODE_INVALID_STOPS"-style name without the prefix, or "UNKNOWN_<n>". */
export function retcodeName(retcode: number): string {
  return NAMES.get(retcode) ?? `UNKNOWN_${retcode}`;
}

/** True for the retcodes that mean the request was executed (fully or in part). */
export function isSuccessRetcode(retcode: number): boolean {
  return MAPPING[retcode]?.outcome === "executed";
}

/**
 * Whether a pending order's placement succeeded: DONE for a synchronous OrderSend, PLACED
 * ("order placed") as servers and asynchronous sends report it. For every other request PLACED
 * leaves the outcome unknown (isUnknownOutcomeRetcode).
 */
export function isPlacementRetcode(retcode: number): boolean {
  return retcode === Retcode.DONE || retcode === Retcode.PLACED;
}

/**
 * The protocol error code for a failed retcode. An unlisted retcode is reported as MT5_REJECTED
 * and treated as not executed only if MT5 returned it synchronously; callers decide.
 */
export function retcodeErrorCode(retcode: number): ErrorCode | "OK" {
  const mapping = MAPPING[retcode];
  if (mapping === undefined) return "MT5_REJECTED";
  return mapping.errorCode === "" ? "OK" : mapping.errorCode;
}

/** Whether a retcode leaves the trade's outcome unknown (it must be reconciled, never re-sent). */
export function isUnknownOutcomeRetcode(retcode: number): boolean {
  return MAPPING[retcode]?.outcome === "unknown";
}
