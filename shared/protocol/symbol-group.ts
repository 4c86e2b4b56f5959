/**
 * MT5's `group` filter on symbol names (MetaTrader5 Python: symbols_get, orders_get,
 * positions_get, history_orders_get, history_deals_get). One implementation for the gateway
 * (GET_SYMBOLS, GET_ORDERS, GET_HISTORY_*), the sim and the terminal backend; the Python
 * package's groups.py follows the same rules, and symbol-group-cases.json is the table both
 * are tested against.
 *
 * MT5's documentation: the group holds comma-separated conditions, each a mask where `*` stands
 * for any run of characters; `!` in front excludes; "all conditions are applied sequentially",
 * inclusions first, then exclusions. Read as set operations from an empty selection, an
 * inclusion adds the symbols it matches and an exclusion removes them, so:
 * - `"*,!*USD*"` is every symbol without USD in its name;
 * - `"!*USD*,*"` is every symbol (nothing was selected yet when the exclusion ran), and a group
 *   of exclusions only selects nothing;
 * - `"*,!EUR*,EURUSD"` adds EURUSD back after the exclusion.
 * For one symbol this is "the last condition that matches it decides".
 *
 * A mask matches the whole name (`"EUR*"` is names starting with EUR, `"*EUR*"` names holding
 * it; the documentation's prose reads `"*, !EUR"` as "containing EUR", its examples always write
 * the stars), ignoring ASCII case as the terminal's symbol look-ups do. Spaces around a condition
 * are ignored (`"*, !EUR*"`, as the documentation writes it, and `"! EUR*"`). Refused, with a reason: an empty
 * condition (`"EUR*,,USD*"`), a lone or inner `!`, characters no symbol has, and groups longer
 * than MAX_GROUP_LENGTH (each condition costs mask × name steps per symbol).
 */

export const MAX_GROUP_LENGTH = 256;

/** Symbol characters (checks.ts SYMBOL_PATTERN) and `*`: what one mask may hold. */
const MASK_PATTERN = /^[A-Za-z0-9._#+*-]+$/;

interface Condition {
  readonly exclude: boolean;
  /** Upper-cased mask. */
  readonly mask: string;
}

export interface GroupFilter {
  matches(symbol: string): boolean;
}

/** Field check in the style of checks.ts: the phrase for an error message, else undefined. */
export function checkGroup(value: unknown): string | undefined {
  const phrase = `must be 1 to ${MAX_GROUP_LENGTH} characters of comma-separated masks like "*USD*,!EUR*"`;
  if (typeof value !== "string" || value.length === 0 || value.length > MAX_GROUP_LENGTH) {
    return phrase;
  }
  for (const part of value.split(",")) {
    const condition = parseCondition(part);
    if (condition === undefined || !MASK_PATTERN.test(condition.mask)) {
      return `${phrase}; condition ${JSON.stringify(part)} is not a mask of A-Z a-z 0-9 . _ # + - and *, with an optional ! in front`;
    }
  }
  return undefined;
}

/** Compile a group that passed checkGroup(). */
export function compileGroup(group: string): GroupFilter {
  const conditions = group.split(",").map((part) => parseCondition(part) as Condition);
  return {
    matches: (symbol) => {
      const name = symbol.toUpperCase();
      // Sequential set operations, for one symbol: the last condition that matches decides
      for (let index = conditions.length - 1; index >= 0; index--) {
        const condition = conditions[index] as Condition;
        if (maskMatches(condition.mask, name)) return !condition.exclude;
      }
      return false;
    },
  };
}

/** One condition with its spaces trimmed; undefined when it has no mask. */
function parseCondition(part: string): Condition | undefined {
  const trimmed = part.trim();
  const exclude = trimmed.startsWith("!");
  const mask = (exclude ? trimmed.slice(1).trim() : trimmed).toUpperCase();
  return mask === "" ? undefined : { exclude, mask };
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
