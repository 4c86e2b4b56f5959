/**
 * Paging cursors of the market-data actions (docs/PROTOCOL.md §14.1). A cursor says where the
 * next page starts, in terms the gateway can resume from without keeping any state: the time
 * (and, for ticks, how many ticks at that millisecond were already sent) plus the end the first
 * page pinned, so that a range resolved from a count does not slide while new bars form.
 *
 * Text: `<kind>1.<value>.<value>….<check>`, e.g. `R1.1795003300000.1795089540000.9f3a0c11`.
 * Values are decimal integers, or `x` + hex for a symbol name. `check` is FNV-1a (32 bits) over
 * the request's query fields, so a cursor sent with another symbol, timeframe or range is refused
 * (INVALID_CURSOR) rather than silently answering a different question. Clients treat the text
 * as opaque; the format may change in a later version.
 */
import { MAX_CURSOR_LENGTH } from "./market-types.ts";

export type CursorKind = "S" | "R" | "T" | "H";
type Slot = "n" | "s";

/** What each kind holds, in order. */
const LAYOUT: Readonly<Record<CursorKind, readonly Slot[]>> = {
  /** GET_SYMBOLS: the last name sent. */
  S: ["s"],
  /** GET_RATES: next open time, pinned end. */
  R: ["n", "n"],
  /** GET_TICKS: next time, ticks at that ms already sent, pinned end, ticks left (0: range form). */
  T: ["n", "n", "n", "n"],
  /** GET_HISTORY_*: (time, ticket) of the last row considered. */
  H: ["n", "n"],
};

const VERSION = "1";
/** Fields that are not part of the question a cursor answers. */
const ENVELOPE = new Set(["v", "id", "ts", "cursor"]);

export type CursorValue = number | string;

export type DecodedCursor =
  | { readonly ok: true; readonly values: readonly CursorValue[] }
  | { readonly ok: false; readonly message: string };

export function encodeCursor(
  request: object,
  kind: CursorKind,
  values: readonly CursorValue[],
): string {
  const parts = values.map((value) =>
    typeof value === "number" ? String(value) : `x${toHex(value)}`,
  );
  return `${kind}${VERSION}.${parts.join(".")}.${queryCheck(request)}`;
}

/**
 * Read the `cursor` of `request`, which must have been made by encodeCursor for the same query.
 * Numbers are non-negative safe integers; the caller checks them against the query.
 */
export function decodeCursor(request: object, kind: CursorKind): DecodedCursor {
  const text = (request as Record<string, unknown>)["cursor"];
  if (typeof text !== "string" || text.length > MAX_CURSOR_LENGTH) {
    return {
      ok: false,
      message: `cursor must be a string of at most ${MAX_CURSOR_LENGTH} characters`,
    };
  }
  const parts = text.split(".");
  const layout = LAYOUT[kind];
  if (parts[0] !== `${kind}${VERSION}` || parts.length !== layout.length + 2) {
    return {
      ok: false,
      message: "cursor is not one this action's replies give; send the reply's next unchanged",
    };
  }
  if (parts[parts.length - 1] !== queryCheck(request)) {
    return {
      ok: false,
      message: "cursor belongs to another query; repeat the first request's fields with it",
    };
  }
  const values: CursorValue[] = [];
  for (let index = 0; index < layout.length; index++) {
    const part = parts[index + 1] as string;
    const value = layout[index] === "n" ? readNumber(part) : readName(part);
    if (value === undefined)
      return { ok: false, message: "cursor is damaged; send the reply's next unchanged" };
    values.push(value);
  }
  return { ok: true, values };
}

/** FNV-1a over the query fields in key order: cheap, and only guards against misuse. */
export function queryCheck(request: object): string {
  const fields = request as Record<string, unknown>;
  const keys = Object.keys(fields)
    .filter((key) => !ENVELOPE.has(key))
    .sort();
  let text = "";
  for (const key of keys) text += `${key}=${JSON.stringify(fields[key])};`;
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0).toString(16).padStart(8, "0");
}

function readNumber(part: string): number | undefined {
  if (!/^(0|[1-9][0-9]{0,15})$/.test(part)) return undefined;
  const value = Number(part);
  return Number.isSafeInteger(value) ? value : undefined;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });
const encoder = new TextEncoder();

function readName(part: string): string | undefined {
  if (!/^x([0-9a-f]{2}){1,96}$/.test(part)) return undefined;
  const bytes = new Uint8Array((part.length - 1) / 2);
  for (let index = 0; index < bytes.length; index++) {
    bytes[index] = Number.parseInt(part.slice(1 + 2 * index, 3 + 2 * index), 16);
  }
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}

/** A symbol name as hex of its UTF-8 (a terminal's names are not limited to ASCII). */
function toHex(text: string): string {
  let hex = "";
  for (const byte of encoder.encode(text)) hex += byte.toString(16).padStart(2, "0");
  return hex;
}
