/**
 * Reply validation for the client side (agent-inf): a malformed or hostile gateway reply must
 * become an error value, never a crash or a half-typed object deep inside the agent.
 *
 * Known fields are type-checked and copied into a fresh object; unknown fields are dropped, so a
 * newer gateway may add fields without breaking older clients. Enumerations are strict, because
 * the agent switches on them. Not the request validator: that one is validate.ts.
 */
import { describeValue } from "./checks.ts";
import { MARKET_SUCCESS_FIELDS, readMarketReply } from "./market-reply-shapes.ts";
import { PENDING_REPLY_FIELDS, PENDING_SUCCESS_FIELDS } from "./pending-shapes.ts";
import {
  BASE_SHAPE,
  checked,
  clientOrderId,
  count,
  Invalid,
  oneOf,
  type ReplyErrorCode,
  readShape,
  replyId,
  req,
} from "./reply-shapes.ts";
import {
  type Action,
  MAX_REPLY_BYTES,
  ORDER_STATES,
  PROTOCOL_VERSION,
  REPLY_STATUSES,
  type Reply,
  SIGNED_ACTIONS,
} from "./types.ts";

export { MAX_POSITIONS_PER_REPLY } from "./reply-shapes.ts";

export interface ReplyParseError {
  readonly code: ReplyErrorCode;
  readonly message: string;
  /** Dotted path of the offending field ("positions.3.volume"). */
  readonly field?: string;
  /** The reply id when it could be read, so the pending request can fail at once. */
  readonly id?: string;
}

export type ParseReplyResult =
  | { readonly ok: true; readonly reply: Reply }
  | { readonly ok: false; readonly error: ReplyParseError };

/** Fields a successful reply to each action must carry (checked when the action is known). */
const SUCCESS_FIELDS: Readonly<Record<Action, readonly string[]>> = {
  PING: ["gateway", "server_time", "trading_state", "mt5", "version"],
  OPEN: ["client_order_id", "ticket"],
  CLOSE: ["client_order_id", "ticket"],
  MODIFY: ["client_order_id", "ticket"],
  GET_ACCOUNT: ["account"],
  GET_POSITIONS: ["positions"],
  GET_SYMBOL_INFO: ["symbol_info"],
  GET_ORDER: ["order"],
  SUBSCRIBE: ["subscription", "seq", "server_time"],
  UNSUBSCRIBE: ["subscription", "seq", "server_time"],
  RESYNC: ["positions", "deals", "more", "server_time"],
  ...MARKET_SUCCESS_FIELDS,
  ...PENDING_SUCCESS_FIELDS,
};

const REPLY_SHAPE = [...BASE_SHAPE, ...PENDING_REPLY_FIELDS];

const SIGNED: ReadonlySet<string> = new Set(SIGNED_ACTIONS);

// ---------------------------------------------------------------------------------------------

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Parse and validate one reply frame. With `action` (the action of the request this reply
 * answers, known from the pending-request table) the success shape of that action is required
 * too: FILLED only for signed actions, OK only for the others, and the action's result fields.
 */
export function parseReply(bytes: Uint8Array, action?: Action): ParseReplyResult {
  const decoded = decodeMessage(bytes);
  return decoded.ok ? parseReplyObject(decoded.value, action) : decoded;
}

export type DecodeResult =
  | { readonly ok: true; readonly value: Record<string, unknown> }
  | { readonly ok: false; readonly error: ReplyParseError };

/**
 * One frame from the gateway as a JSON object, size-capped, strict UTF-8. The first half of
 * parseReply, so a client can look at the object (reply or event?) and parse it only once.
 */
export function decodeMessage(bytes: Uint8Array): DecodeResult {
  if (bytes.length > MAX_REPLY_BYTES) {
    return fail(new Invalid("", `reply is ${bytes.length} bytes, limit is ${MAX_REPLY_BYTES}`));
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(utf8.decode(bytes));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return fail(new Invalid("", `reply is not valid UTF-8 JSON (${reason})`));
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    return fail(new Invalid("", `reply must be a JSON object, was ${describeValue(parsed)}`));
  }
  return { ok: true, value: parsed as Record<string, unknown> };
}

/** The second half of parseReply: a decoded object checked as a reply (to `action`). */
export function parseReplyObject(
  source: Record<string, unknown>,
  action?: Action,
): ParseReplyResult {
  const rawId = Object.hasOwn(source, "id") ? source["id"] : undefined;
  const id = typeof rawId === "string" && replyId(rawId) === undefined ? rawId : undefined;
  try {
    return { ok: true, reply: readReply(source, action, 0) };
  } catch (error) {
    if (error instanceof Invalid) return fail(error, id);
    // Not expected; still a value, never a crash of the caller.
    return fail(new Invalid("", `reply could not be read (${String(error)})`), id);
  }
}

function fail(error: Invalid, id?: string): { ok: false; error: ReplyParseError } {
  const out: { code: ReplyErrorCode; message: string; field?: string; id?: string } = {
    code: error.code,
    message: error.field === "" ? error.message : `field ${error.field} ${error.message}`,
  };
  if (error.field !== "") out.field = error.field;
  if (id !== undefined) out.id = id;
  return { ok: false, error: out };
}

function readReply(
  source: Record<string, unknown>,
  action: Action | undefined,
  depth: number,
): Reply {
  const version = source["v"];
  if (version !== PROTOCOL_VERSION) {
    if (typeof version === "number") {
      throw new Invalid(
        "v",
        `is ${version}, this peer speaks ${PROTOCOL_VERSION}`,
        "UNSUPPORTED_VERSION",
      );
    }
    throw new Invalid("v", `must be ${PROTOCOL_VERSION}, was ${describeValue(version)}`);
  }
  const head = readShape(source, [req("id", replyId), req("status", oneOf(REPLY_STATUSES))], "");
  const body = readShape(source, REPLY_SHAPE, "");
  const market = readMarketReply(source);
  const order = readOrderField(source, action, depth);
  const reply: Record<string, unknown> = { v: PROTOCOL_VERSION, ...head, ...body, ...market };
  if (order !== undefined) reply["order"] = order;

  const status = head["status"];
  if (status === "REJECTED" || status === "ERROR") {
    if (reply["error_code"] === undefined)
      throw new Invalid("error_code", `is required when status is ${status}`);
    if (reply["error_msg"] === undefined)
      throw new Invalid("error_msg", `is required when status is ${status}`);
  } else if (action !== undefined) {
    const expected = SIGNED.has(action) ? "FILLED" : "OK";
    if (status !== expected) {
      throw new Invalid(
        "status",
        `must be ${expected} or an error for ${action}, was ${describeValue(status)}`,
      );
    }
    for (const name of SUCCESS_FIELDS[action]) {
      if (!Object.hasOwn(reply, name))
        throw new Invalid(name, `is required in a ${status} reply to ${action}`);
    }
  }
  return reply as unknown as Reply;
}

/** `order`: a number (MT5 order ticket in a trade reply) or an OrderRecord / null (GET_ORDER). */
function readOrderField(
  source: Record<string, unknown>,
  action: Action | undefined,
  depth: number,
): unknown {
  const value = Object.hasOwn(source, "order") ? source["order"] : undefined;
  if (value === undefined) return undefined;
  const wantsRecord = action === "GET_ORDER" || (action === undefined && typeof value !== "number");
  if (!wantsRecord) return checked(count)(value, "order");
  if (value === null) return null;
  // A record's reply is a trade reply; it never nests another record.
  if (depth > 0) throw new Invalid("order", "must not nest an order record inside an order record");
  const record = readShape(
    value,
    [
      req("client_order_id", clientOrderId),
      req("action", oneOf(SIGNED_ACTIONS)),
      req("state", oneOf(ORDER_STATES)),
      req("received_at", count),
    ],
    "order",
  );
  const inner = Object.hasOwn(value as object, "reply")
    ? (value as Record<string, unknown>)["reply"]
    : undefined;
  if (inner === undefined)
    throw new Invalid("order.reply", "is required (null when there is none)");
  if (inner === null) {
    record["reply"] = null;
  } else if (typeof inner !== "object" || Array.isArray(inner)) {
    throw new Invalid("order.reply", `must be an object or null, was ${describeValue(inner)}`);
  } else {
    try {
      record["reply"] = readReply(inner as Record<string, unknown>, undefined, depth + 1);
    } catch (error) {
      if (error instanceof Invalid)
        throw new Invalid(`order.reply.${error.field}`.replace(/\.$/, ""), error.message);
      throw error;
    }
  }
  return record;
}
