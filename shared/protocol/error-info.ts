/**
 * What each wire error code means for a client: the reply status it travels with and what the
 * client may do next. One table, so codec.ts (errorReply), the agents and docs/PROTOCOL.md agree.
 *
 * Status rule: REJECTED means the gateway took the order (journaled it against its
 * client_order_id) and refused it, and nothing executed; ERROR means the request was not taken,
 * or its outcome is not known yet. So a REJECTED client_order_id is spent, an ERROR one may not be.
 */
import { ErrorCode } from "./errors.ts";

/**
 * What a client may do after the error, for OPEN/CLOSE/MODIFY (PING and GET_* change nothing and
 * may always be retried):
 * - fix_first: the same request fails again; fix the request, the keys or the config.
 * - resend: nothing was recorded; send the same intent with the same client_order_id, and a new
 *   id, ts and signature.
 * - new_order_id: refused and recorded, nothing executed; trying again is a new intent with a new
 *   client_order_id (the old one keeps answering with this refusal).
 * - reconcile: the outcome is not known yet; ask GET_ORDER, never re-send blindly.
 */
export type RetryAdvice = "fix_first" | "resend" | "new_order_id" | "reconcile";

export interface ErrorCodeInfo {
  readonly status: "REJECTED" | "ERROR";
  readonly retry: RetryAdvice;
  readonly meaning: string;
}

const error = (retry: RetryAdvice, meaning: string): ErrorCodeInfo => ({
  status: "ERROR",
  retry,
  meaning,
});
const rejected = (meaning: string): ErrorCodeInfo => ({
  status: "REJECTED",
  retry: "new_order_id",
  meaning,
});

export const ERROR_CODE_INFO: Readonly<Record<ErrorCode, ErrorCodeInfo>> = {
  INVALID_REQUEST: error("fix_first", "malformed request: size, UTF-8, JSON, a field or a rule"),
  UNSUPPORTED_VERSION: error(
    "fix_first",
    "the request's v is not a protocol version the gateway speaks",
  ),
  UNKNOWN_ACTION: error("fix_first", "action is not one of the known actions"),
  RATE_LIMITED: error("resend", "too many requests (or the replay cache is full); slow down"),
  TOO_MANY_SUBSCRIPTIONS: error(
    "fix_first",
    "SUBSCRIBE would pass the gateway's limit of symbols per peer or of subscribed peers",
  ),

  INVALID_TIMEFRAME: error("fix_first", "timeframe is not one of M1 … MN1"),
  INVALID_COUNT: error("fix_first", "count is 0, negative or over the per-query limit"),
  INVALID_RANGE: error("fix_first", "from is after to"),
  RANGE_TOO_LONG: error(
    "fix_first",
    "the range or depth covers more bars or time than one query may; ask in parts",
  ),
  INVALID_CURSOR: error(
    "fix_first",
    "cursor is not a next of this query's replies; resend it unchanged with the same fields",
  ),
  HISTORY_LOADING: error(
    "resend",
    "MT5 is still downloading the history this read needs; ask again in a few seconds",
  ),

  MISSING_SIGNATURE: error("fix_first", "a signed action arrived without its signature frame"),
  BAD_SIGNATURE: error(
    "fix_first",
    "the signature is not 64 bytes or does not verify over the request bytes",
  ),
  UNKNOWN_KEY: error("fix_first", "key_id is not among the gateway's trusted signing keys"),
  EXPIRED: error("resend", "ts is older than TTL + skew, or further in the future than the skew"),
  REPLAYED: error("reconcile", "this request id was already accepted within the validity window"),
  WRONG_GATEWAY: error("fix_first", "the request names another gateway"),

  CLIENT_ORDER_ID_REUSED: error(
    "fix_first",
    "client_order_id was already used for a different intent",
  ),
  ORDER_IN_PROGRESS: error(
    "reconcile",
    "the first request with this client_order_id is still executing",
  ),

  TRADING_HALTED: rejected("the gateway's trading state is HALTED"),
  REDUCING_ONLY: rejected(
    "the gateway's trading state is REDUCING: only CLOSE, MODIFY, CANCEL and CLOSE_BY pass",
  ),
  SYMBOL_NOT_ALLOWED: rejected("the symbol is not on the gateway's allow-list"),
  UNKNOWN_SYMBOL: rejected("the symbol does not exist at the broker"),
  VOLUME_ABOVE_MAX: rejected("volume is above the gateway's per-order limit"),
  MAX_POSITIONS: rejected(
    "the gateway's limit on open positions (pending orders included) is reached",
  ),
  POSITION_NOT_FOUND: rejected("no open position has this ticket"),

  MT5_LINK_DOWN: rejected("the gateway has no working link to MT5; the order was not sent"),
  OUTCOME_UNKNOWN: error(
    "reconcile",
    "the order may or may not have executed; the gateway reconciles it",
  ),
  JOURNAL_UNAVAILABLE: error("resend", "the gateway cannot journal durably, so it took nothing"),
  SHUTTING_DOWN: error("resend", "the gateway is stopping and took nothing"),
  INTERNAL_ERROR: error(
    "reconcile",
    "unexpected gateway fault; ask GET_ORDER before anything else",
  ),
  NOT_SUPPORTED: error(
    "fix_first",
    "the gateway's MT5 backend cannot do this action (yet); nothing was sent to MT5",
  ),

  REQUOTE: rejected("MT5 10004: price moved beyond deviation; new bid/ask in the reply"),
  BROKER_REJECTED: rejected("MT5 10006/10041: the broker or dealer refused the request"),
  CANCELLED: rejected("MT5 10007: cancelled"),
  MT5_ERROR: rejected("MT5 10011: generic processing error"),
  MT5_INVALID_REQUEST: rejected(
    "MT5 10013: MT5 found the trade request invalid (or the order ticket is unknown)",
  ),
  INVALID_VOLUME: rejected("MT5 10014: volume below min, above max or off the step grid"),
  INVALID_PRICE: rejected("MT5 10015: invalid price"),
  INVALID_STOPS: rejected("MT5 10016: sl/tp on the wrong side or inside the stops level"),
  INVALID_EXPIRATION: rejected(
    "MT5 10022: expiration type not allowed for the symbol, or the time is already past",
  ),
  TRADE_DISABLED: rejected("MT5 10017: trading disabled for the symbol or account"),
  MARKET_CLOSED: rejected("MT5 10018: outside the trading session"),
  NO_MONEY: rejected("MT5 10019: not enough free margin"),
  PRICE_CHANGED: rejected("MT5 10020: price changed during processing"),
  NO_QUOTES: rejected("MT5 10021: no quotes to execute against"),
  ORDER_CHANGED: rejected("MT5 10023: the order changed meanwhile"),
  TOO_MANY_REQUESTS: rejected("MT5 10024: the trade server's request rate limit"),
  NO_CHANGES: rejected("MT5 10025: MODIFY with the stops the position already has"),
  SERVER_DISABLES_AT: rejected("MT5 10026: the server forbids automated trading"),
  AUTOTRADING_DISABLED: rejected("MT5 10027: Algo Trading is off in the terminal or the EA"),
  LOCKED: rejected("MT5 10028: request locked for processing"),
  FROZEN: rejected("MT5 10029: position stops or pending order price inside the freeze level"),
  INVALID_FILL: rejected("MT5 10030: filling mode not allowed for the symbol"),
  NO_CONNECTION: rejected("MT5 10031: the terminal is not connected to the trade server"),
  ONLY_REAL: rejected("MT5 10032: allowed on live accounts only"),
  LIMIT_ORDERS: rejected("MT5 10033: pending-order limit reached"),
  LIMIT_VOLUME: rejected("MT5 10034: total volume on the symbol would exceed its limit"),
  INVALID_ORDER_TYPE: rejected("MT5 10035: wrong or forbidden order type"),
  POSITION_CLOSED: rejected("MT5 10036: the position is already closed"),
  INVALID_CLOSE_VOLUME: rejected("MT5 10038: close volume above the position's volume"),
  CLOSE_ORDER_EXISTS: rejected("MT5 10039: a close order already exists for the position"),
  LIMIT_POSITIONS: rejected("MT5 10040: the account's open-position limit is reached"),
  LONG_ONLY: rejected("MT5 10042: the symbol allows buys only"),
  SHORT_ONLY: rejected("MT5 10043: the symbol allows sells only"),
  CLOSE_ONLY: rejected("MT5 10044: the symbol allows closing only"),
  FIFO_CLOSE: rejected("MT5 10045: the oldest position must be closed first"),
  HEDGE_PROHIBITED: rejected("MT5 10046: opposite positions on one symbol are not allowed"),
  MT5_REJECTED: rejected("MT5 refused with a retcode this gateway does not know; see retcode"),
};

/** Info for a code from the wire, which may be one this build does not know. */
export function errorCodeInfo(code: string): ErrorCodeInfo | undefined {
  return Object.hasOwn(ERROR_CODE_INFO, code) ? ERROR_CODE_INFO[code as ErrorCode] : undefined;
}

/** Every code in the closed list, with its info; in the order of errors.ts. */
export function listErrorCodes(): readonly (readonly [ErrorCode, ErrorCodeInfo])[] {
  return Object.values(ErrorCode).map((code) => [code, ERROR_CODE_INFO[code]] as const);
}
