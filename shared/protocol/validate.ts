/**
 * Strict runtime validation of requests, on the hot path of every order: bytes in, a typed
 * Request or a refusal with a wire error code out. Hand-written field tables rather than a schema
 * library, so a valid OPEN costs a few microseconds and nothing allocates on success beyond what
 * JSON.parse builds.
 *
 * Not signature verification: signing.ts checks the signature over the same bytes afterwards.
 * Validation has no side effects, so running it first on unauthenticated bytes is safe, and the
 * verifier needs the parsed key_id, gateway and ts for its cheap checks. Nothing is ever
 * re-serialized: the signature covers exactly the bytes given here.
 *
 * Duplicate keys: JSON.parse keeps the last occurrence, so `{"volume":0.1,"volume":5}` is read as
 * 5. The signature covers the text the signer produced, so this cannot be used by a third party;
 * audit logs must record the parsed request, not a human reading of the raw text.
 */
import {
  type Check,
  checkClientOrderId,
  checkComment,
  checkDeviation,
  checkGatewayName,
  checkKeyId,
  checkMagic,
  checkPriceOrNull,
  checkRequestId,
  checkSide,
  checkSymbol,
  checkTicket,
  checkTimestamp,
  checkVolume,
  describeKey,
  describeValue,
} from "./checks.ts";
import {
  checkCursor,
  checkSymbolList,
  checkThrottle,
  checkTrue,
  subscribeCrossCheck,
} from "./stream-checks.ts";
import {
  ACTIONS,
  type Action,
  MAX_REQUEST_BYTES,
  PROTOCOL_VERSION,
  type Request,
  SIGNED_ACTIONS,
  type SignedAction,
  type SignedRequest,
} from "./types.ts";
import { type CrossProblem, MARKET_SPECS, type MarketErrorCode } from "./validate-market.ts";
import { PENDING_ACTION_RULES, type PendingAction } from "./validate-pending.ts";

export { type ParseReplyResult, parseReply, type ReplyParseError } from "./validate-reply.ts";

export type RequestErrorCode =
  | "INVALID_REQUEST"
  | "UNSUPPORTED_VERSION"
  | "UNKNOWN_ACTION"
  | MarketErrorCode;

export interface RequestParseError {
  readonly code: RequestErrorCode;
  /** Lowercase, names the field and the refused value: "field volume must be …, was -1". */
  readonly message: string;
  /** The offending field, when one is to blame. */
  readonly field?: string;
  /** The request id, when it could be read and is valid, so the error reply can echo it. */
  readonly id?: string;
}

export interface RequestRefusal {
  readonly ok: false;
  readonly error: RequestParseError;
}

export type ParseRequestResult = { readonly ok: true; readonly request: Request } | RequestRefusal;

interface FieldSpec {
  readonly name: string;
  readonly required: boolean;
  readonly check: Check;
}

interface ActionSpec {
  readonly fields: readonly FieldSpec[];
  readonly allowed: ReadonlySet<string>;
  /** A rule across fields, checked after every field passed; [field, message, code?]. */
  readonly crossCheck?: (request: Record<string, unknown>) => CrossProblem | undefined;
}

const required = (name: string, check: Check): FieldSpec => ({ name, required: true, check });
const optional = (name: string, check: Check): FieldSpec => ({ name, required: false, check });

// v and action are checked before the table (they choose the error code and the table).
const ENVELOPE = [required("id", checkRequestId), required("ts", checkTimestamp)];
const SIGNED_ENVELOPE = [
  ...ENVELOPE,
  required("client_order_id", checkClientOrderId),
  required("gateway", checkGatewayName),
  required("key_id", checkKeyId),
];

function actionSpec(
  fields: readonly FieldSpec[],
  crossCheck?: ActionSpec["crossCheck"],
): ActionSpec {
  const allowed = new Set(["v", "action", ...fields.map((field) => field.name)]);
  return crossCheck === undefined ? { fields, allowed } : { fields, allowed, crossCheck };
}

const SPECS: Readonly<Record<Action, ActionSpec>> = {
  PING: actionSpec(ENVELOPE),
  OPEN: actionSpec([
    ...SIGNED_ENVELOPE,
    required("symbol", checkSymbol),
    required("side", checkSide),
    required("volume", checkVolume),
    optional("sl", checkPriceOrNull),
    optional("tp", checkPriceOrNull),
    optional("deviation", checkDeviation),
    optional("magic", checkMagic),
    optional("comment", checkComment),
  ]),
  CLOSE: actionSpec([
    ...SIGNED_ENVELOPE,
    required("ticket", checkTicket),
    optional("volume", checkVolume),
    optional("deviation", checkDeviation),
    optional("comment", checkComment),
  ]),
  MODIFY: actionSpec(
    [
      ...SIGNED_ENVELOPE,
      required("ticket", checkTicket),
      optional("sl", checkPriceOrNull),
      optional("tp", checkPriceOrNull),
    ],
    (request) =>
      request["sl"] === undefined && request["tp"] === undefined
        ? ["sl", "sl or tp must be set in MODIFY (null removes a stop)"]
        : undefined,
  ),
  GET_ACCOUNT: actionSpec(ENVELOPE),
  GET_POSITIONS: actionSpec([...ENVELOPE, optional("symbol", checkSymbol)]),
  GET_SYMBOL_INFO: actionSpec([...ENVELOPE, required("symbol", checkSymbol)]),
  GET_ORDER: actionSpec([...ENVELOPE, required("client_order_id", checkClientOrderId)]),
  SUBSCRIBE: actionSpec(
    [
      ...ENVELOPE,
      optional("symbols", checkSymbolList),
      optional("throttle_ms", checkThrottle),
      optional("events", checkTrue),
    ],
    subscribeCrossCheck,
  ),
  UNSUBSCRIBE: actionSpec([
    ...ENVELOPE,
    optional("symbols", checkSymbolList),
    optional("events", checkTrue),
  ]),
  RESYNC: actionSpec([
    ...ENVELOPE,
    required("since", checkCursor),
    optional("after_deal", checkCursor),
  ]),
  GET_SYMBOLS: marketSpec("GET_SYMBOLS"),
  GET_TICK: marketSpec("GET_TICK"),
  GET_RATES: marketSpec("GET_RATES"),
  GET_TICKS: marketSpec("GET_TICKS"),
  GET_HISTORY_DEALS: marketSpec("GET_HISTORY_DEALS"),
  GET_HISTORY_ORDERS: marketSpec("GET_HISTORY_ORDERS"),
  ...pendingSpecs(),
};

function marketSpec(action: keyof typeof MARKET_SPECS): ActionSpec {
  const { fields, crossCheck } = MARKET_SPECS[action];
  return actionSpec([...ENVELOPE, ...fields], crossCheck);
}

/** The pending-order actions' rules (validate-pending.ts) with their envelope. */
function pendingSpecs(): Record<PendingAction, ActionSpec> {
  const specs = {} as Record<PendingAction, ActionSpec>;
  for (const [action, rule] of Object.entries(PENDING_ACTION_RULES)) {
    const envelope = rule.signed ? SIGNED_ENVELOPE : ENVELOPE;
    specs[action as PendingAction] = actionSpec([...envelope, ...rule.fields], rule.crossCheck);
  }
  return specs;
}

const ACTION_SET: ReadonlySet<string> = new Set(ACTIONS);

// fatal: refuse invalid UTF-8 rather than decode it to U+FFFD, which would let two different
// byte strings (with two different signatures) read as the same request.
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

function refuse(
  code: RequestErrorCode,
  message: string,
  field?: string,
  id?: string,
): RequestRefusal {
  const error: { code: RequestErrorCode; message: string; field?: string; id?: string } = {
    code,
    message,
  };
  if (field !== undefined) error.field = field;
  if (id !== undefined) error.id = id;
  return { ok: false, error };
}

function decodeText(bytes: Uint8Array): string | undefined {
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}

/**
 * Parse and validate one request frame. Never throws: every refusal is a value carrying the
 * wire error code for the reply.
 */
export function parseRequest(bytes: Uint8Array): ParseRequestResult {
  // Before decoding or parsing, so an oversized frame costs nothing.
  if (bytes.length > MAX_REQUEST_BYTES) {
    return refuse(
      "INVALID_REQUEST",
      `request is ${bytes.length} bytes, limit is ${MAX_REQUEST_BYTES}`,
    );
  }
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
    return refuse("INVALID_REQUEST", "request must not start with a UTF-8 byte order mark");
  }
  const text = decodeText(bytes);
  if (text === undefined) return refuse("INVALID_REQUEST", "request is not valid UTF-8");

  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    // A RangeError (stack exhausted) is possible in principle on deep nesting; same answer.
    const reason = error instanceof Error ? error.message : String(error);
    return refuse("INVALID_REQUEST", `request is not valid JSON (${reason})`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    return refuse("INVALID_REQUEST", `request must be a JSON object, was ${describeValue(parsed)}`);
  }
  return validateObject(parsed as Record<string, unknown>);
}

function validateObject(request: Record<string, unknown>): ParseRequestResult {
  const rawId = request["id"];
  const id = checkRequestId(rawId) === undefined ? (rawId as string) : undefined;

  // Version first: a newer client's request may have any shape, and deserves this answer.
  const version = request["v"];
  if (version === undefined) return refuse("INVALID_REQUEST", "field v is required", "v", id);
  if (!Number.isInteger(version)) {
    return refuse(
      "INVALID_REQUEST",
      `field v must be an integer, was ${describeValue(version)}`,
      "v",
      id,
    );
  }
  if (version !== PROTOCOL_VERSION) {
    return refuse(
      "UNSUPPORTED_VERSION",
      `protocol version ${version} is not supported, this peer speaks ${PROTOCOL_VERSION}`,
      "v",
      id,
    );
  }

  const action = request["action"];
  if (action === undefined) {
    return refuse("INVALID_REQUEST", "field action is required", "action", id);
  }
  if (typeof action !== "string") {
    return refuse(
      "INVALID_REQUEST",
      `field action must be a string, was ${describeValue(action)}`,
      "action",
      id,
    );
  }
  if (!ACTION_SET.has(action)) {
    return refuse(
      "UNKNOWN_ACTION",
      `action ${describeValue(action)} is unknown; known actions are ${ACTIONS.join(", ")}`,
      "action",
      id,
    );
  }
  const spec = SPECS[action as Action];

  // Unknown fields before the table: a misspelt optional field ("s1") must not pass as absent.
  for (const key in request) {
    if (!spec.allowed.has(key)) {
      const name = describeKey(key);
      return refuse(
        "INVALID_REQUEST",
        `field ${name} is not allowed in ${action}`,
        key.slice(0, 64),
        id,
      );
    }
  }

  for (const field of spec.fields) {
    const value = request[field.name];
    if (value === undefined) {
      if (field.required) {
        return refuse("INVALID_REQUEST", `field ${field.name} is required`, field.name, id);
      }
      continue;
    }
    const problem = field.check(value);
    if (problem !== undefined) {
      return refuse(
        "INVALID_REQUEST",
        `field ${field.name} ${problem}, was ${describeValue(value)}`,
        field.name,
        id,
      );
    }
  }

  const crossProblem = spec.crossCheck?.(request);
  if (crossProblem !== undefined) {
    return refuse(crossProblem[2] ?? "INVALID_REQUEST", crossProblem[1], crossProblem[0], id);
  }
  return { ok: true, request: request as unknown as Request };
}

export type ParseMessageResult =
  | {
      readonly ok: true;
      readonly request: Request;
      /** Frame 1, exactly as received: what the signature covers. */
      readonly requestBytes: Uint8Array;
      /** Frame 2 of a signed action; undefined when absent (the verifier says MISSING_SIGNATURE). */
      readonly signature: Uint8Array | undefined;
    }
  | RequestRefusal;

/**
 * A whole application message (the frames after the ROUTER's routing id): frame 1 is the request,
 * frame 2 the signature of a signed action. Frame 1 is parsed first so a refusal can echo the id.
 */
export function parseMessage(frames: readonly Uint8Array[]): ParseMessageResult {
  const requestBytes = frames[0];
  if (requestBytes === undefined) return refuse("INVALID_REQUEST", "message has no frames");
  const parsed = parseRequest(requestBytes);
  if (!parsed.ok) return parsed;
  const { request } = parsed;
  const maxFrames = isSignedRequest(request) ? 2 : 1;
  if (frames.length > maxFrames) {
    return refuse(
      "INVALID_REQUEST",
      `${request.action} takes at most ${maxFrames} frame${maxFrames === 1 ? "" : "s"}, was ${frames.length}`,
      undefined,
      request.id,
    );
  }
  return { ok: true, request, requestBytes, signature: frames[1] };
}

const SIGNED_SET: ReadonlySet<string> = new Set(SIGNED_ACTIONS);

/** Whether an action is one of SIGNED_ACTIONS (signed, journaled, idempotent). */
export function isSignedAction(action: string): action is SignedAction {
  return SIGNED_SET.has(action);
}

/** Whether a parsed request is one of the signed actions (OPEN, CLOSE, MODIFY, PLACE, …). */
export function isSignedRequest(request: Request): request is SignedRequest {
  return SIGNED_SET.has(request.action);
}
