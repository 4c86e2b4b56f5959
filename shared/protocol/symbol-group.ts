/**
 * MT5's `group` filter (MetaTrader5 Python: symbols_get, orders_get, history_deals_get,
 * history_orders_get): comma-separated conditions, each a mask in which `*` stands for any run of
 * characters (including none); a condition starting with `!` excludes. "All conditions are applied
 * sequentially": an inclusion adds every symbol it matches, an exclusion removes the ones it
 * matches from what has been selected so far. So inclusions come first: `"*,!*USD*"` is every
 * symbol without USD in its name, while `"!*USD*,*"` is every symbol (nothing was selected yet
 * when the exclusion ran).
 *
 * A mask matches the whole name (`"EUR*"` is names starting with EUR, `"*EUR*"` names containing
 * it), ignoring ASCII case as MT5's symbol look-ups do. Spaces around conditions are ignored
 * (`"*, !EUR*"`), and so are empty conditions (`"EURUSD,"`).
 */

export const MAX_GROUP_LENGTH = 1024;
/** Symbol characters plus the mask syntax: `*`, `!`, `,` and spaces. */
export const GROUP_PATTERN = /^[A-Za-z0-9._#+\-*!, ]+$/;

interface Condition {
  readonly exclude: boolean;
  /** Upper-cased mask. */
  readonly mask: string;
}

export interface SymbolGroup {
  /** The group as given. */
  readonly text: string;
  matches(symbol: string): boolean;
}

/** Whether a `group` value is well formed: the phrase for an error message, else undefined. */
export function checkGroup(value: unknown): string | undefined {
  const phrase = `must be 1-${MAX_GROUP_LENGTH} characters of A-Z a-z 0-9 . _ # + - and * ! , space`;
  if (typeof value !== "string" || value.length === 0 || value.length > MAX_GROUP_LENGTH) {
    return phrase;
  }
  if (!GROUP_PATTERN.test(value)) return phrase;
  if (parseConditions(value).length === 0) return "must hold at least one condition";
  for (const condition of parseConditions(value)) {
    if (condition.mask === "") return "must not have a lone ! (an exclusion needs a mask)";
  }
  return undefined;
}

/** Compile a group checked by checkGroup(). */
export function parseGroup(text: string): SymbolGroup {
  const conditions = parseConditions(text);
  return {
    text,
    matches: (symbol) => {
      const name = symbol.toUpperCase();
      let selected = false;
      for (const condition of conditions) {
        if (condition.exclude) {
          if (selected && maskMatches(condition.mask, name)) selected = false;
        } else if (!selected && maskMatches(condition.mask, name)) {
          selected = true;
        }
      }
      return selected;
    },
  };
}

/**
 * The symbols of `symbols` the group selects, in their given order. Evaluating per symbol is
 * the same as the sequential set operations: each condition only ever adds or removes that
 * symbol on its own.
 */
export function filterByGroup(symbols: readonly string[], group: SymbolGroup): string[] {
  return symbols.filter((symbol) => group.matches(symbol));
}

function parseConditions(text: string): Condition[] {
  const conditions: Condition[] = [];
  for (const part of text.split(",")) {
    const trimmed = part.trim();
    if (trimmed === "") continue;
    const exclude = trimmed.startsWith("!");
    const mask = (exclude ? trimmed.slice(1).trim() : trimmed).toUpperCase();
    conditions.push({ exclude, mask });
  }
  return conditions;
}

/**
 * Glob match with `*` only, in O(mask × name): on a mismatch, retry from the last star with one
 * more character consumed by it. No regular expressions, so a hostile mask cannot backtrack
 * exponentially.
 */
export function maskMatches(mask: string, name: string): boolean {
  let m = 0;
  let n = 0;
  let starAt = -1;
  let resumeAt = 0;
  while (n < name.length) {
    if (m < mask.length && mask[m] !== "*" && mask[m] === name[n]) {
      m += 1;
      n += 1;
    } else if (m < mask.length && mask[m] === "*") {
      starAt = m;
      resumeAt = n;
      m += 1;
    } else if (starAt >= 0) {
      m = starAt + 1;
      resumeAt += 1;
      n = resumeAt;
    } else {
      return false;
    }
  }
  while (m < mask.length && mask[m] === "*") m += 1;
  return m === mask.length;
}
