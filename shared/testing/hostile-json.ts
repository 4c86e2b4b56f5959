/**
 * Seeded generators of hostile JSON for the decoder fuzz (issue 7 §2): random values of every
 * JSON type (numbers at and past the edges of float64, long and odd strings, deep nesting),
 * request-shaped objects whose fields are each valid or not, and text-level mutations of valid
 * requests (a byte or a token changed, cut, repeated). Deterministic for a seed, so a failure
 * names the seed and the round that reproduce it. Test-only; production code never imports it.
 */

/** mulberry32: small and fast; for test inputs only. */
export class Rng {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** A generator that goes on from this one's state, leaving this one where it is. */
  clone(): Rng {
    const copy = new Rng(0);
    copy.#state = this.#state;
    return copy;
  }

  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  below(n: number): number {
    return Math.floor(this.next() * n);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)] as T;
  }

  chance(p: number): boolean {
    return this.next() < p;
  }
}

/** Number spellings JSON.parse reads in surprising ways, and some it refuses. */
const NUMBER_TEXTS = [
  "0",
  "-0",
  "1",
  "-1",
  "0.1",
  "1e308",
  "1.7976931348623157e308",
  "1e309",
  "-1e309",
  "1e-400",
  "5e-324",
  "9007199254740991",
  "9007199254740993",
  "18446744073709551616",
  "123456789012345678901234567890123456789",
  "0.30000000000000004",
  "1E2",
  "1e+2",
  "00",
  "01",
  ".5",
  "5.",
  "+1",
  "0x10",
  "NaN",
  "Infinity",
  "-Infinity",
  "1_000",
] as const;

const STRING_PIECES = [
  "",
  "EURUSD",
  "PING",
  "OPEN",
  "BUY",
  "\\u0000",
  "\\ud800",
  "\\udc00",
  "\\u202e",
  "\\\\",
  '\\"',
  "\\n",
  "é",
  "🚀",
  "\u0001",
  "%s%n",
  "__proto__",
  "constructor",
  "a".repeat(100),
  "Z".repeat(5000),
] as const;

const FIELDS = [
  "v",
  "id",
  "action",
  "ts",
  "client_order_id",
  "gateway",
  "key_id",
  "symbol",
  "side",
  "volume",
  "sl",
  "tp",
  "deviation",
  "magic",
  "comment",
  "ticket",
  "__proto__",
  "constructor",
  "x",
  "",
] as const;

const ACTIONS = [
  "PING",
  "OPEN",
  "CLOSE",
  "MODIFY",
  "GET_ACCOUNT",
  "GET_POSITIONS",
  "GET_SYMBOL_INFO",
  "GET_ORDER",
  "open",
  "",
] as const;

/** A random JSON value as text; `depth` bounds arrays and objects inside it. */
export function randomValue(rng: Rng, depth = 4): string {
  const kind = rng.below(depth > 0 ? 8 : 5);
  switch (kind) {
    case 0:
      return "null";
    case 1:
      return rng.chance(0.5) ? "true" : "false";
    case 2:
      return rng.pick(NUMBER_TEXTS);
    case 3:
      return String((rng.next() - 0.5) * 10 ** rng.below(20));
    case 4: {
      let text = "";
      for (let i = rng.below(4); i >= 0; i--) text += rng.pick(STRING_PIECES);
      return `"${text}"`;
    }
    case 5:
    case 6: {
      const items = Array.from({ length: rng.below(5) }, () => randomValue(rng, depth - 1));
      return `[${items.join(",")}]`;
    }
    default: {
      const entries = Array.from(
        { length: rng.below(5) },
        () => `"${rng.pick(FIELDS)}":${randomValue(rng, depth - 1)}`,
      );
      return `{${entries.join(",")}}`;
    }
  }
}

/** `[[[…]]]` or `{"a":{"a":…}}` nested `depth` levels. */
export function nested(depth: number, object: boolean): string {
  return object
    ? `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`
    : `${"[".repeat(depth)}${"]".repeat(depth)}`;
}

/** A valid value for a request field, as text. */
function plausible(rng: Rng, field: string, now: number): string {
  switch (field) {
    case "v":
      return "1";
    case "id":
      return `"r${rng.below(1e9).toString(36)}"`;
    case "action":
      return `"${rng.pick(ACTIONS)}"`;
    case "ts":
      return String(now - rng.below(1000));
    case "client_order_id":
      return `"c${rng.below(1e9).toString(36)}"`;
    case "gateway":
      return '"gtw-test"';
    case "key_id":
      return '"inf-1"';
    case "symbol":
      return `"${rng.pick(["EURUSD", "GBPUSD", "USDJPY", "XAUUSD"])}"`;
    case "side":
      return `"${rng.pick(["BUY", "SELL"])}"`;
    case "volume":
      return rng.pick(["0.01", "0.1", "1", "5"]);
    case "sl":
    case "tp":
      return rng.pick(["null", "1.05", "1.2"]);
    case "deviation":
      return String(rng.below(100));
    case "magic":
      return String(rng.below(1e6));
    case "comment":
      return '"fuzz"';
    case "ticket":
      return String(1 + rng.below(1000));
    default:
      return randomValue(rng, 2);
  }
}

/**
 * An object shaped like a request: mostly the right field names, each value valid with
 * probability `validity`, otherwise a random value (wrong type, huge, nested).
 */
export function requestLike(rng: Rng, now: number, validity = 0.8): string {
  const names = new Set<string>(["v", "id", "action", "ts"]);
  for (let i = rng.below(8); i > 0; i--) names.add(rng.pick(FIELDS));
  const entries: string[] = [];
  for (const name of names) {
    if (rng.chance(0.05)) continue; // a required field missing
    const value = rng.chance(validity) ? plausible(rng, name, now) : randomValue(rng, 3);
    entries.push(`"${name}":${value}`);
  }
  if (rng.chance(0.05)) entries.push(entries[0] ?? '"v":1'); // a duplicate key
  return `{${entries.join(",")}}`;
}

const TOKENS = ["{", "}", "[", "]", ",", ":", '"', "\\", "0", "-", "e", "null", " ", "\u0000"];

/** One to four text- or byte-level changes to `bytes`; never returns the input unchanged. */
export function mutateBytes(rng: Rng, bytes: Uint8Array): Uint8Array {
  const encoder = new TextEncoder();
  for (;;) {
    let out = bytes;
    for (let n = 1 + rng.below(4); n > 0; n--) {
      const at = rng.below(out.length + 1);
      switch (rng.below(7)) {
        case 0: {
          // flip a bit
          if (out.length === 0) break;
          out = out.slice();
          const index = Math.min(at, out.length - 1);
          out[index] = (out[index] as number) ^ (1 << rng.below(8));
          break;
        }
        case 1: // overwrite a byte
          if (out.length === 0) break;
          out = out.slice();
          out[Math.min(at, out.length - 1)] = rng.below(256);
          break;
        case 2: // insert a JSON token
          out = concat(out.subarray(0, at), encoder.encode(rng.pick(TOKENS)), out.subarray(at));
          break;
        case 3: // delete a run
          out = concat(
            out.subarray(0, at),
            out.subarray(Math.min(out.length, at + 1 + rng.below(8))),
          );
          break;
        case 4: // truncate
          out = out.subarray(0, at);
          break;
        case 5: // repeat a slice
          out = concat(out, out.subarray(at, Math.min(out.length, at + 1 + rng.below(64))));
          break;
        default: // splice in a random value
          out = concat(out.subarray(0, at), encoder.encode(randomValue(rng, 2)), out.subarray(at));
      }
    }
    if (!equal(out, bytes)) return out;
  }
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
