/**
 * Field checks of the streaming requests (SUBSCRIBE, UNSUBSCRIBE, RESYNC), in the style of
 * checks.ts: undefined when acceptable, else the "must be …" phrase.
 */
import { checkSymbol } from "./checks.ts";
import { MAX_STREAM_SYMBOLS, MAX_THROTTLE_MS } from "./stream-types.ts";

/** A non-empty list of distinct symbols, at most MAX_STREAM_SYMBOLS. */
export function checkSymbolList(value: unknown): string | undefined {
  const phrase = `must be a list of 1 to ${MAX_STREAM_SYMBOLS} distinct symbols`;
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_STREAM_SYMBOLS) {
    return phrase;
  }
  for (const symbol of value) {
    const problem = checkSymbol(symbol);
    if (problem !== undefined) return `${phrase}; each ${problem}`;
  }
  return new Set(value).size === value.length ? undefined : `${phrase}; a symbol is repeated`;
}

export function checkThrottle(value: unknown): string | undefined {
  return Number.isSafeInteger(value) &&
    (value as number) >= 0 &&
    (value as number) <= MAX_THROTTLE_MS
    ? undefined
    : `must be an integer from 0 to ${MAX_THROTTLE_MS}`;
}

/** `events`: only `true` means something; false would be a no-op that hides a mistake. */
export function checkTrue(value: unknown): string | undefined {
  return value === true ? undefined : "must be true (leave it out otherwise)";
}

/** Unix ms or a deal ticket used as a cursor: 0 or more, exact. */
export function checkCursor(value: unknown): string | undefined {
  return Number.isSafeInteger(value) && (value as number) >= 0
    ? undefined
    : "must be a non-negative integer";
}

/** SUBSCRIBE: something to subscribe to; a throttle only makes sense with symbols. */
export function subscribeCrossCheck(
  request: Record<string, unknown>,
): [string, string] | undefined {
  if (request["symbols"] === undefined && request["events"] === undefined) {
    return ["symbols", "symbols or events must be set in SUBSCRIBE"];
  }
  if (request["throttle_ms"] !== undefined && request["symbols"] === undefined) {
    return ["throttle_ms", "throttle_ms needs symbols"];
  }
  return undefined;
}
