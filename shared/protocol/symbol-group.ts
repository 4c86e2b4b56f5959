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
  const include: RegExp[] = [];
  const exclude: RegExp[] = [];
  for (const mask of group.split(",")) {
    if (mask.startsWith("!")) exclude.push(maskRegExp(mask.slice(1)));
    else include.push(maskRegExp(mask));
  }
  return {
    matches: (symbol) =>
      include.some((mask) => mask.test(symbol)) && !exclude.some((mask) => mask.test(symbol)),
  };
}

function maskRegExp(mask: string): RegExp {
  // Everything but `*` is literal; the character set leaves only `.` and `+` to escape
  const source = mask
    .split("*")
    .map((part) => part.replace(/[.+]/g, "\\$&"))
    .join(".*");
  return new RegExp(`^${source}$`);
}
