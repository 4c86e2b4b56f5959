/**
 * Typed reads of the fields of one EA frame. Everything the EA sends is untrusted
 * (docs/EA-LINK.md §4): a missing or mistyped field throws LinkProtocolError naming the frame
 * and the field, which the session turns into a closed link, never a crash. Unknown fields are
 * ignored (§4: new EA versions add some).
 */

/** The EA broke the wire contract; the session closes the link on it. */
export class LinkProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "LinkProtocolError";
  }
}

/** Strings from the EA are bounded: a symbol, a comment or a broker name never comes close. */
const MAX_STRING_CHARS = 8192;

export class WireFields {
  readonly #object: Readonly<Record<string, unknown>>;
  readonly #what: string;

  /** `what` names the frame in errors, e.g. "GET_ACCOUNT reply". */
  constructor(object: Readonly<Record<string, unknown>>, what: string) {
    this.#object = object;
    this.#what = what;
  }

  has(key: string): boolean {
    const value = this.#object[key];
    return value !== undefined && value !== null;
  }

  string(key: string): string {
    const value = this.#object[key];
    if (typeof value !== "string") throw this.#bad(key, "a string", value);
    if (value.length > MAX_STRING_CHARS) throw this.#bad(key, "at most 8192 characters", value);
    return value;
  }

  optionalString(key: string): string | undefined {
    return this.has(key) ? this.string(key) : undefined;
  }

  /** §4: integers above 2^53 would round silently, so they are a protocol error. */
  integer(key: string): number {
    const value = this.#object[key];
    if (typeof value !== "number" || !Number.isSafeInteger(value)) {
      throw this.#bad(key, "a safe integer", value);
    }
    return value;
  }

  /** An integer JSON number that lost precision (≥ 2^53): readable only as "too large". */
  unsafeInteger(key: string): boolean {
    const value = this.#object[key];
    return typeof value === "number" && Number.isInteger(value) && !Number.isSafeInteger(value);
  }

  optionalInteger(key: string): number | undefined {
    return this.has(key) ? this.integer(key) : undefined;
  }

  /** A finite number; the EA writes NaN and infinities as null (§4), which no field may carry. */
  number(key: string): number {
    const value = this.#object[key];
    if (typeof value !== "number" || !Number.isFinite(value)) {
      throw this.#bad(key, "a finite number", value);
    }
    return value;
  }

  boolean(key: string): boolean {
    const value = this.#object[key];
    if (typeof value !== "boolean") throw this.#bad(key, "a boolean", value);
    return value;
  }

  optionalBoolean(key: string): boolean | undefined {
    return this.has(key) ? this.boolean(key) : undefined;
  }

  /** An array of flat objects (the listings: `positions`, `deals`, `orders`, §4), at most `maxItems` long. */
  objects(key: string, maxItems: number): WireFields[] {
    const value = this.#object[key];
    if (!Array.isArray(value)) throw this.#bad(key, "an array", value);
    if (value.length > maxItems) throw this.#bad(key, `at most ${maxItems} items`, value.length);
    return value.map((item, index) => {
      if (typeof item !== "object" || item === null || Array.isArray(item)) {
        throw this.#bad(`${key}[${index}]`, "an object", item);
      }
      return new WireFields(item as Record<string, unknown>, `${this.#what} ${key}[${index}]`);
    });
  }

  /**
   * An array of rows of numbers (bars and ticks, §7.17, §7.18): at most `maxRows` rows of exactly
   * `width` finite numbers each.
   */
  rows(key: string, width: number, maxRows: number): number[][] {
    const value = this.#object[key];
    if (!Array.isArray(value)) throw this.#bad(key, "an array", value);
    if (value.length > maxRows) throw this.#bad(key, `at most ${maxRows} rows`, value.length);
    return value.map((row: unknown, index) => {
      if (!Array.isArray(row) || row.length !== width) {
        throw this.#bad(`${key}[${index}]`, `an array of ${width} numbers`, row);
      }
      for (const cell of row) {
        if (typeof cell !== "number" || !Number.isFinite(cell)) {
          throw this.#bad(`${key}[${index}]`, "finite numbers", cell);
        }
      }
      return row as number[];
    });
  }

  #bad(key: string, expected: string, value: unknown): LinkProtocolError {
    return new LinkProtocolError(
      `terminal: ${this.#what} field ${key} must be ${expected} (was ${describe(value)})`,
    );
  }
}

function describe(value: unknown): string {
  if (value === undefined) return "missing";
  if (typeof value === "string") {
    return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  }
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === "object" && value !== null) return "an object";
  return String(value);
}
