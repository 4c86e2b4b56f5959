/**
 * Field-level checks shared by request validation (validate.ts) and reply validation
 * (validate-reply.ts): character sets, numeric ranges, and the safe rendering of a refused value
 * for error messages.
 *
 * A check returns undefined when the value is acceptable, or the "must be …" phrase that the caller
 * turns into `field <name> <phrase>, was <value>`. Returning a string instead of throwing keeps the
 * hot path free of exceptions and allocation on success.
 */
import {
  MAX_CLIENT_ORDER_ID_LENGTH,
  MAX_COMMENT_LENGTH,
  MAX_DEVIATION_POINTS,
  MAX_GATEWAY_NAME_LENGTH,
  MAX_KEY_ID_LENGTH,
  MAX_MAGIC,
  MAX_REQUEST_ID_LENGTH,
  MAX_SYMBOL_LENGTH,
  MAX_VOLUME,
  MAX_VOLUME_DECIMALS,
} from "./types.ts";

export type Check = (value: unknown) => string | undefined;

// Character sets. Ids, keys and names end up in logs, journal keys and file names, so they are
// kept to characters that need no escaping anywhere.
export const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]+$/;
export const CLIENT_ORDER_ID_PATTERN = /^[A-Za-z0-9_-]+$/;
export const KEY_ID_PATTERN = /^[A-Za-z0-9._:-]+$/;
export const GATEWAY_NAME_PATTERN = /^[A-Za-z0-9._-]+$/;
/** Broker symbols: "EURUSD", "US500.cash", "BTCUSD#", "EURUSD+", "GER40-m". */
export const SYMBOL_PATTERN = /^[A-Za-z0-9._#+-]+$/;
/** Printable ASCII: MT5 truncates comments by UTF-16 unit, which could split other text. */
export const COMMENT_PATTERN = /^[\x20-\x7E]*$/;

const MAX_SHOWN_CHARS = 40;

/** A refused value as it appears after "was" in an error message: short and single-line. */
export function describeValue(value: unknown): string {
  if (typeof value === "string") {
    const shown = value.length > MAX_SHOWN_CHARS ? `${value.slice(0, MAX_SHOWN_CHARS)}…` : value;
    return JSON.stringify(shown);
  }
  if (value === null || typeof value === "number" || typeof value === "boolean") {
    return String(value);
  }
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return "an object";
  return typeof value;
}

/** A field name from the wire, safe to put in a message (it may be hostile). */
export function describeKey(key: string): string {
  return key.length <= MAX_SHOWN_CHARS && /^[A-Za-z0-9_]+$/.test(key) ? key : describeValue(key);
}

export function stringCheck(maxLength: number, pattern: RegExp, what: string): Check {
  return (value) => {
    if (typeof value !== "string") return `must be a string of ${what}`;
    if (value.length === 0) return "must not be empty";
    if (value.length > maxLength) return `must be at most ${maxLength} characters`;
    if (!pattern.test(value)) return `must contain only ${what}`;
    return undefined;
  };
}

export const checkRequestId = stringCheck(
  MAX_REQUEST_ID_LENGTH,
  REQUEST_ID_PATTERN,
  "A-Z a-z 0-9 . _ : -",
);
export const checkClientOrderId = stringCheck(
  MAX_CLIENT_ORDER_ID_LENGTH,
  CLIENT_ORDER_ID_PATTERN,
  "A-Z a-z 0-9 _ -",
);
export const checkKeyId = stringCheck(MAX_KEY_ID_LENGTH, KEY_ID_PATTERN, "A-Z a-z 0-9 . _ : -");
export const checkGatewayName = stringCheck(
  MAX_GATEWAY_NAME_LENGTH,
  GATEWAY_NAME_PATTERN,
  "A-Z a-z 0-9 . _ -",
);
export const checkSymbol = stringCheck(MAX_SYMBOL_LENGTH, SYMBOL_PATTERN, "A-Z a-z 0-9 . _ # + -");

export function checkComment(value: unknown): string | undefined {
  if (typeof value !== "string") return "must be a string";
  if (value.length > MAX_COMMENT_LENGTH) return `must be at most ${MAX_COMMENT_LENGTH} characters`;
  if (!COMMENT_PATTERN.test(value)) return "must contain only printable ASCII";
  return undefined;
}

export function checkSide(value: unknown): string | undefined {
  return value === "BUY" || value === "SELL" ? undefined : 'must be "BUY" or "SELL"';
}

/** ts: Unix ms. Positive and exact (a safe integer), so ages computed from it are exact too. */
export function checkTimestamp(value: unknown): string | undefined {
  return Number.isSafeInteger(value) && (value as number) > 0
    ? undefined
    : "must be a positive integer (Unix ms)";
}

export function checkTicket(value: unknown): string | undefined {
  return Number.isSafeInteger(value) && (value as number) > 0
    ? undefined
    : "must be a positive integer";
}

export function checkDeviation(value: unknown): string | undefined {
  return Number.isInteger(value) &&
    (value as number) >= 0 &&
    (value as number) <= MAX_DEVIATION_POINTS
    ? undefined
    : `must be an integer from 0 to ${MAX_DEVIATION_POINTS}`;
}

export function checkMagic(value: unknown): string | undefined {
  return Number.isSafeInteger(value) && (value as number) >= 0
    ? undefined
    : `must be an integer from 0 to ${MAX_MAGIC}`;
}

export function checkVolume(value: unknown): string | undefined {
  if (typeof value !== "number" || !Number.isFinite(value)) return "must be a positive number";
  if (!(value > 0)) return "must be a positive number";
  if (value > MAX_VOLUME) return `must be at most ${MAX_VOLUME}`;
  if (!hasAtMostDecimals(value, MAX_VOLUME_DECIMALS)) {
    return `must have at most ${MAX_VOLUME_DECIMALS} decimal places`;
  }
  return undefined;
}

/** sl/tp: a price, or null for none. MT5's "0 = no stop" is spelled null on the wire. */
export function checkPriceOrNull(value: unknown): string | undefined {
  if (value === null) return undefined;
  return typeof value === "number" && Number.isFinite(value) && value > 0
    ? undefined
    : "must be a positive number or null";
}

/**
 * Whether the shortest decimal form of `value` (what JSON.stringify and Python's json write) has
 * at most `decimals` digits after the point. Counting on the text is exact, where scaling by
 * 10^decimals would pick up float error near the top of the range. An unrounded float such as
 * 0.1 + 0.2 = 0.30000000000000004 is refused: round with roundDecimal() before sending.
 */
export function hasAtMostDecimals(value: number, decimals: number): boolean {
  if (Number.isInteger(value)) return true;
  const text = String(value);
  const exponentAt = text.indexOf("e");
  const mantissa = exponentAt < 0 ? text : text.slice(0, exponentAt);
  const exponent = exponentAt < 0 ? 0 : Number(text.slice(exponentAt + 1));
  const pointAt = mantissa.indexOf(".");
  const mantissaDecimals = pointAt < 0 ? 0 : mantissa.length - pointAt - 1;
  return mantissaDecimals - exponent <= decimals;
}

/**
 * Whether `volume` lies on the `step` grid (SYMBOL_VOLUME_STEP), the one rule the gateway's
 * simulated MT5 and agent-inf's risk checks share. On the grid means within half a unit of the
 * last decimal the wire carries (MAX_VOLUME_DECIMALS) of a whole number of steps: that is what
 * binary float noise can do (0.07 / 0.01 is 7.000000000000001), while a volume that differs from
 * the grid in any decimal it was sent with (4.99999999 on a 0.01 step) is off it, and MT5 refuses
 * it with 10014 rather than round it. A tolerance in steps would grow with the volume and let it
 * through.
 */
export function isOnVolumeStep(volume: number, step: number): boolean {
  if (!(step > 0) || !Number.isFinite(volume)) return false;
  const nearest = Math.round(volume / step) * step;
  return Math.abs(volume - nearest) < VOLUME_GRID_TOLERANCE;
}

const VOLUME_GRID_TOLERANCE = 0.5 * 10 ** -MAX_VOLUME_DECIMALS;

/** The double nearest to `value` rounded to `decimals` places; its shortest form has no noise. */
export function roundDecimal(value: number, decimals = MAX_VOLUME_DECIMALS): number {
  return Number(value.toFixed(decimals));
}
