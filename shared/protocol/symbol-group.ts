/**
 * MT5's `group` filter (orders_get, positions_get, symbols_get): comma-separated symbol masks
 * where `*` matches any run of characters and a leading `!` excludes. A symbol is selected when
 * it matches an including mask and no excluding one, so "*USD*,!EURUSD" is every USD symbol but
 * EURUSD, and a filter of exclusions only selects nothing (MT5 applies the conditions in order,
 * starting from an empty selection).
 */
import { MAX_GROUP_LENGTH } from "./pending-types.ts";

/** Symbol characters, `*`, and the `!` and `,` of the syntax; no spaces. */
const GROUP_PATTERN = /^[A-Za-z0-9._#+*!,-]+$/;

/** Field check in the style of checks.ts. */
export function checkGroup(value: unknown): string | undefined {
  const phrase = `must be 1 to ${MAX_GROUP_LENGTH} characters of masks like "*USD*,!EUR*"`;
  if (typeof value !== "string" || value.length === 0 || value.length > MAX_GROUP_LENGTH) {
    return phrase;
  }
  if (!GROUP_PATTERN.test(value)) return `${phrase} (A-Z a-z 0-9 . _ # + - * ! ,)`;
  for (const mask of value.split(",")) {
    const body = mask.startsWith("!") ? mask.slice(1) : mask;
    if (body.length === 0 || body.includes("!")) return `${phrase}; mask ${JSON.stringify(mask)}`;
  }
  return undefined;
}

export interface GroupFilter {
  matches(symbol: string): boolean;
}

/** Compile a filter that passed checkGroup. */
export function compileGroup(group: string): GroupFilter {
  const include: string[] = [];
  const exclude: string[] = [];
  for (const mask of group.split(",")) {
    if (mask.startsWith("!")) exclude.push(mask.slice(1));
    else include.push(mask);
  }
  return {
    matches: (symbol) =>
      include.some((mask) => maskMatches(mask, symbol)) &&
      !exclude.some((mask) => maskMatches(mask, symbol)),
  };
}

/**
 * Whether `text` matches `mask` (`*` = any run of characters, everything else literal). Greedy
 * with one remembered star, so the work is at most mask × text characters: a regular expression
 * built from "*a*a*a…b" would backtrack exponentially, and the mask comes from the wire.
 */
export function maskMatches(mask: string, text: string): boolean {
  let m = 0;
  let t = 0;
  let star = -1;
  let resume = 0;
  while (t < text.length) {
    if (m < mask.length && mask[m] !== "*" && mask[m] === text[t]) {
      m += 1;
      t += 1;
    } else if (m < mask.length && mask[m] === "*") {
      star = m;
      m += 1;
      resume = t;
    } else if (star >= 0) {
      m = star + 1;
      resume += 1;
      t = resume;
    } else {
      return false;
    }
  }
  while (m < mask.length && mask[m] === "*") m += 1;
  return m === mask.length;
}
