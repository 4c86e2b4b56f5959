/**
 * Requests and replies to and from bytes, the reply builders the gateway uses, and the
 * identifiers both sides derive: request ids, client order ids, the MT5 comment tag and the
 * intent hash that backs idempotency.
 *
 * Pure: no clock and no I/O. Time comes in as an argument; randomness comes from a RandomBytes
 * function so tests can fix it. Decoding lives in validate.ts (requests) and validate-reply.ts.
 */
import { createHash, getRandomValues } from "node:crypto";
import { ProtocolError } from "../errors.ts";
import { ERROR_CODE_INFO } from "./error-info.ts";
import type { ErrorCode } from "./errors.ts";
import type { PendingTradeReply } from "./pending-types.ts";
import {
  MAX_COMMENT_LENGTH,
  MAX_REQUEST_BYTES,
  PROTOCOL_VERSION,
  type Reply,
  type ReplyBase,
  type Request,
  type SignedRequest,
  type TradeReply,
} from "./types.ts";
import { parseRequest } from "./validate.ts";

export type RandomBytes = (length: number) => Uint8Array;

const defaultRandomBytes: RandomBytes = (length) => getRandomValues(new Uint8Array(length));
const encoder = new TextEncoder();

// ---------------------------------------------------------------------------------------------
// Encoding

/**
 * A request as one frame of UTF-8 JSON, keys in the order the object has them. The result is
 * checked with parseRequest, so agent-inf never signs bytes the gateway would refuse; a request
 * that does not pass throws ProtocolError carrying the validator's message.
 */
export function encodeRequest(request: Request): Uint8Array {
  const bytes = encoder.encode(JSON.stringify(request));
  if (bytes.length > MAX_REQUEST_BYTES) {
    throw new ProtocolError(
      `protocol: request is ${bytes.length} bytes, limit is ${MAX_REQUEST_BYTES}`,
    );
  }
  const check = parseRequest(bytes);
  if (!check.ok) throw new ProtocolError(`protocol: ${check.error.code}: ${check.error.message}`);
  return bytes;
}

/** A reply as one frame of UTF-8 JSON. Replies are built by the gateway itself, not checked. */
export function encodeReply(reply: Reply): Uint8Array {
  return encoder.encode(JSON.stringify(reply));
}

// ---------------------------------------------------------------------------------------------
// Reply builders

/** Fields an error reply may carry besides the code and message (retcode, trade details…). */
export type ReplyExtra = Partial<
  Omit<TradeReply, "v" | "id" | "status" | "error_code" | "error_msg">
>;

/** A success reply: `{"v":1,"id":…,"status":"OK",…body}`. */
export function okReply<Body extends object>(
  id: string,
  body?: Body,
): ReplyBase & { readonly status: "OK" } & Body {
  return { v: PROTOCOL_VERSION, id, status: "OK", ...(body as Body) };
}

/** An executed signed action: `{"v":1,"id":…,"status":"FILLED",…}`. */
export function filledReply(
  id: string,
  body: Omit<TradeReply & PendingTradeReply, "v" | "id" | "status" | "error_code" | "error_msg">,
): TradeReply & PendingTradeReply {
  return { v: PROTOCOL_VERSION, id, status: "FILLED", ...body };
}

/**
 * A refusal. The status (REJECTED or ERROR) follows from the code (error-info.ts). `id` is the
 * request id, or "" when it could not be read from the request.
 */
export function errorReply(
  id: string,
  code: ErrorCode,
  message: string,
  extra?: ReplyExtra,
): ReplyBase {
  return {
    v: PROTOCOL_VERSION,
    id,
    status: ERROR_CODE_INFO[code].status,
    error_code: code,
    error_msg: message,
    ...extra,
  };
}

// ---------------------------------------------------------------------------------------------
// Identifiers

// Crockford base32: no I, L, O, U, so ids survive being read aloud or typed from a log.
const BASE32 = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/** Base32 of the first `chars` × 5 bits of `bytes`, most significant bit first. */
function base32(bytes: Uint8Array, chars: number): string {
  let out = "";
  let buffer = 0;
  let bits = 0;
  let index = 0;
  while (out.length < chars) {
    if (bits < 5) {
      buffer = ((buffer << 8) | (bytes[index++] ?? 0)) & 0xffff;
      bits += 8;
    }
    bits -= 5;
    out += BASE32[(buffer >> bits) & 31];
  }
  return out;
}

/** A request id: 128 random bits as 26 lowercase base32 characters. */
export function newRequestId(randomBytes: RandomBytes = defaultRandomBytes): string {
  return base32(randomBytes(16), 26).toLowerCase();
}

const TIME_CHARS = 10;
const RANDOM_CHARS = 14;

/**
 * A client order id: 24 characters, 10 of base32 milliseconds (sorts by creation time; 50 bits
 * last until the year 37000) then 14 of randomness (70 bits, so two ids made in the same millisecond collide
 * with probability 2^-70). Uppercase [0-9A-Z]; within the [A-Za-z0-9_-]{1,24} rule.
 */
export function newClientOrderId(
  nowMs: number,
  randomBytes: RandomBytes = defaultRandomBytes,
): string {
  if (!Number.isSafeInteger(nowMs) || nowMs < 0 || nowMs >= 2 ** (5 * TIME_CHARS)) {
    throw new RangeError(`protocol: nowMs must be a Unix ms timestamp, was ${nowMs}`);
  }
  let time = "";
  let rest = nowMs;
  for (let i = 0; i < TIME_CHARS; i++) {
    time = BASE32[rest % 32] + time;
    rest = Math.floor(rest / 32);
  }
  return time + base32(randomBytes(9), RANDOM_CHARS);
}

const TAG_PREFIX = "B";
const TAG_HASH_CHARS = 10;
/** "B" + 10 base32 characters. */
export const COMMENT_TAG_LENGTH = TAG_PREFIX.length + TAG_HASH_CHARS;

/**
 * The MT5 comment tag of a client order id: "B" + the first 10 base32 characters (50 bits) of its
 * SHA-256. A hash rather than the id itself, because the id (up to 24 characters) would leave
 * almost none of MT5's 31 comment characters to the user. Reconciliation finds a position by
 * magic and this tag; the tag alone is enough to tell apart the orders of any realistic window.
 */
export function commentTag(clientOrderId: string): string {
  const digest = createHash("sha256").update(clientOrderId).digest();
  return TAG_PREFIX + base32(digest, TAG_HASH_CHARS);
}

/**
 * The comment sent to MT5: the tag, then a space and the user's comment, cut to 31 characters.
 * The tag comes first so the cut only ever shortens the user's part.
 */
export function orderComment(clientOrderId: string, userComment?: string): string {
  const tag = commentTag(clientOrderId);
  if (userComment === undefined || userComment === "") return tag;
  return `${tag} ${userComment}`.slice(0, MAX_COMMENT_LENGTH);
}

/**
 * The id of one client's order at the broker, and the source of its comment tag (PROTOCOL.md §8):
 * client_order_ids are scoped per client, so two clients may both use `order-1`, and the broker
 * (the EA's dedup store, the comment tag reconciliation searches for) must see two different
 * ids. `G` + 23 base32 characters of SHA-256(client, id): 24 characters of [0-9A-Z], which is
 * what the EA link accepts as a client_order_id. Journal entries from before the scoping (no
 * client) keep the client_order_id itself.
 */
export function brokerOrderKey(client: string | null, clientOrderId: string): string {
  if (client === null) return clientOrderId;
  const digest = createHash("sha256").update(client).update("\n").update(clientOrderId).digest();
  return `G${base32(digest, 23)}`;
}

const TAG_PATTERN = new RegExp(`^${TAG_PREFIX}[${BASE32}]{${TAG_HASH_CHARS}}(?: |$)`);

/** The gateway's tag a broker comment starts with, if it has one. */
export function commentTagOf(comment: string): string | undefined {
  return TAG_PATTERN.test(comment) ? comment.slice(0, COMMENT_TAG_LENGTH) : undefined;
}

/** Whether an MT5 comment carries the tag of this client order id (as written by orderComment). */
export function hasCommentTag(comment: string, clientOrderId: string): boolean {
  return carriesTag(comment, commentTag(clientOrderId));
}

/** Whether an MT5 comment carries `tag` (commentTag's result, computed once by the caller). */
export function carriesTag(comment: string, tag: string): boolean {
  return comment === tag || (comment.startsWith(tag) && comment[tag.length] === " ");
}

/** The fields that make up an order's intent, in a fixed order. Everything but the envelope. */
const INTENT_FIELDS = [
  "action",
  "symbol",
  "side",
  "volume",
  "ticket",
  "sl",
  "tp",
  "deviation",
  "magic",
  "comment",
] as const;

/**
 * Fields of the pending-order actions. Written only when present, so the hash of every OPEN,
 * CLOSE and MODIFY (which never carry them) is what it was before they existed, and a journal
 * written by an older gateway still recognises a retry.
 */
const LATER_INTENT_FIELDS = [
  "type",
  "price",
  "stoplimit",
  "type_time",
  "expiration",
  "type_filling",
  "ticket_by",
] as const;

/**
 * SHA-256 (hex) over the intent of a signed request: every field except v, id, ts, key_id,
 * gateway and client_order_id, so a retry with a fresh id, ts and signature has the same hash,
 * while any change to what would be executed (volume, stops, ticket…) changes it. Absent and
 * null are different (MODIFY: absent keeps a stop, null removes it).
 */
export function intentHash(request: SignedRequest): string {
  const fields = request as unknown as Record<string, unknown>;
  let canonical = "";
  for (const name of INTENT_FIELDS) {
    const value = fields[name];
    // JSON.stringify gives numbers their shortest round-trip form, so equal doubles agree.
    canonical += `${name}=${value === undefined ? "~" : JSON.stringify(value)}\n`;
  }
  for (const name of LATER_INTENT_FIELDS) {
    const value = fields[name];
    if (value !== undefined) canonical += `${name}=${JSON.stringify(value)}\n`;
  }
  return createHash("sha256").update(canonical).digest("hex");
}
