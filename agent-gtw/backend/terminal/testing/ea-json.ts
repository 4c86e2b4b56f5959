/**
 * Test-only: the EA's JSON, written independently of the gateway's codec so the fake terminal
 * checks the gateway against docs/EA-LINK.md §4 rather than against itself. The reader mirrors
 * BridgeJson.mqh (one flat object, ≤ 64 keys, strings ≤ 8,192 characters, no nesting, no
 * duplicate keys, plain decimals only); the writer produces pure ASCII with \uXXXX escapes and
 * at most 8 decimals, like the EA's JS/JD/JL helpers.
 */

const MAX_KEYS = 64;
const MAX_STRING = 8192;

type Slot =
  | { readonly type: "string"; readonly text: string }
  | { readonly type: "number"; readonly text: string }
  | { readonly type: "bool"; readonly value: boolean }
  | { readonly type: "null" };

/** A parsed gateway frame; getters return undefined for a missing, null or mistyped value. */
export class FlatObject {
  readonly #slots: Map<string, Slot>;

  constructor(slots: Map<string, Slot>) {
    this.#slots = slots;
  }

  get keys(): string[] {
    return [...this.#slots.keys()];
  }

  /** JsonHas: present and not null. */
  has(key: string): boolean {
    const slot = this.#slots.get(key);
    return slot !== undefined && slot.type !== "null";
  }

  string(key: string): string | undefined {
    const slot = this.#slots.get(key);
    return slot?.type === "string" ? slot.text : undefined;
  }

  number(key: string): number | undefined {
    const slot = this.#slots.get(key);
    return slot?.type === "number" ? Number(slot.text) : undefined;
  }

  /** JsonGetLong: no decimal point, at most 18 characters. */
  integer(key: string): number | undefined {
    const slot = this.#slots.get(key);
    if (slot?.type !== "number" || slot.text.includes(".") || slot.text.length > 18) {
      return undefined;
    }
    return Number(slot.text);
  }

  boolean(key: string): boolean | undefined {
    const slot = this.#slots.get(key);
    return slot?.type === "bool" ? slot.value : undefined;
  }
}

/** JsonParseFlat; throws Error with the EA's wording on any violation. */
export function parseFlat(text: string): FlatObject {
  const slots = new Map<string, Slot>();
  let i = 0;
  const skip = () => {
    while (i < text.length && " \t\n\r".includes(text[i] as string)) i++;
  };
  const readString = (): string => {
    if (text[i] !== '"') throw new Error("expected a string");
    i++;
    let out = "";
    while (i < text.length) {
      const c = text.charCodeAt(i++);
      if (c === 34) return out;
      if (c < 32) throw new Error("raw control character in string");
      if (out.length >= MAX_STRING) throw new Error("string too long");
      if (c !== 92) {
        out += String.fromCharCode(c);
        continue;
      }
      const e = text[i++];
      const simple: Record<string, string> = {
        '"': '"',
        "\\": "\\",
        "/": "/",
        n: "\n",
        r: "\r",
        t: "\t",
        b: "\b",
        f: "\f",
      };
      if (e !== undefined && simple[e] !== undefined) out += simple[e];
      else if (e === "u" && /^[0-9a-fA-F]{4}$/.test(text.slice(i, i + 4))) {
        out += String.fromCharCode(Number.parseInt(text.slice(i, i + 4), 16));
        i += 4;
      } else throw new Error("bad escape");
    }
    throw new Error("unterminated string");
  };
  skip();
  if (text[i] !== "{") throw new Error("expected {");
  i++;
  skip();
  if (text[i] === "}") i++;
  else {
    for (;;) {
      if (slots.size >= MAX_KEYS) throw new Error("too many keys");
      const key = readString();
      if (slots.has(key)) throw new Error(`duplicate key ${key}`);
      skip();
      if (text[i] !== ":") throw new Error("expected :");
      i++;
      skip();
      const c = text[i];
      if (c === undefined) throw new Error("truncated");
      if (c === "{" || c === "[") throw new Error(`nested value for ${key}`);
      if (c === '"') slots.set(key, { type: "string", text: readString() });
      else {
        const start = i;
        while (i < text.length && !",} \t\n\r".includes(text[i] as string)) i++;
        const literal = text.slice(start, i);
        if (literal === "true" || literal === "false") {
          slots.set(key, { type: "bool", value: literal === "true" });
        } else if (literal === "null") slots.set(key, { type: "null" });
        else if (/^-?\d+(\.\d+)?$/.test(literal) && literal.length <= 40) {
          slots.set(key, { type: "number", text: literal });
        } else throw new Error(`bad value '${literal}'`);
      }
      skip();
      const next = text[i++];
      if (next === "}") break;
      if (next !== ",") throw new Error("expected , or }");
      skip();
    }
  }
  skip();
  if (i !== text.length) throw new Error("trailing characters");
  return new FlatObject(slots);
}

/**
 * A bigint is a ulong written exactly (JU: magic numbers); arrays are the listings' items or the
 * rows of numbers of bars and ticks.
 */
export type EaValue =
  | string
  | number
  | bigint
  | boolean
  | null
  | readonly EaRecord[]
  | readonly (readonly number[])[];
export interface EaRecord {
  readonly [key: string]: EaValue;
}

/** JsonEscape: quote, backslash, \n \r \t, everything else outside 0x20–0x7E as \uXXXX. */
export function eaString(value: string): string {
  let out = '"';
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 34) out += '\\"';
    else if (c === 92) out += "\\\\";
    else if (c === 10) out += "\\n";
    else if (c === 13) out += "\\r";
    else if (c === 9) out += "\\t";
    else if (c < 32 || c > 126) out += `\\u${c.toString(16).toUpperCase().padStart(4, "0")}`;
    else out += value[i];
  }
  return `${out}"`;
}

/** JsonNumber: 8 decimals, trailing zeros trimmed; NaN/inf as 0 (never null, §4). */
export function eaNumber(value: number): string {
  if (!Number.isFinite(value)) return "0";
  if (Number.isInteger(value)) return String(value);
  const text = value.toFixed(8).replace(/0+$/, "").replace(/\.$/, "");
  return text === "-0" || text === "" ? "0" : text;
}

export function eaJson(record: EaRecord): string {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(record)) {
    let encoded: string;
    if (value === null) encoded = "null";
    else if (typeof value === "string") encoded = eaString(value);
    else if (typeof value === "number") encoded = eaNumber(value);
    else if (typeof value === "bigint") encoded = BigInt.asUintN(64, value).toString();
    else if (typeof value === "boolean") encoded = String(value);
    else
      encoded = `[${value.map((item) => (Array.isArray(item) ? eaRow(item) : eaJson(item as EaRecord))).join(",")}]`;
    parts.push(`${eaString(key)}:${encoded}`);
  }
  return `{${parts.join(",")}}`;
}

/** RateRow / TickRow: numbers as JsonNumber writes them (§7.17, §7.18). */
export function eaRow(row: readonly number[]): string {
  return `[${row.map(eaNumber).join(",")}]`;
}

/** One EA → gateway frame: big-endian length, then the ASCII JSON. */
export function eaFrame(record: EaRecord): Uint8Array {
  const payload = new TextEncoder().encode(eaJson(record));
  const out = new Uint8Array(4 + payload.length);
  new DataView(out.buffer).setUint32(0, payload.length, false);
  out.set(payload, 4);
  return out;
}

/** LinkNextFrame() over what is buffered plus `chunk`: whole payloads, the rest, or a violation. */
export function takeFrames(
  pending: Uint8Array,
  chunk: Uint8Array,
  maxPayload: number,
): { frames: Uint8Array[]; rest: Uint8Array } | { violation: string } {
  const data = new Uint8Array(pending.length + chunk.length);
  data.set(pending);
  data.set(chunk, pending.length);
  const frames: Uint8Array[] = [];
  let offset = 0;
  while (data.length - offset >= 4) {
    const length = new DataView(data.buffer, offset, 4).getUint32(0, false);
    if (length === 0 || length > maxPayload) return { violation: `bad frame length ${length}` };
    if (data.length - offset - 4 < length) break;
    frames.push(data.slice(offset + 4, offset + 4 + length));
    offset += 4 + length;
  }
  return { frames, rest: data.slice(offset) };
}
