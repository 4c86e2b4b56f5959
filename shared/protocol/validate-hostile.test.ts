import { describe, expect, test } from "bun:test";
import { makeClose, makeOpen, makePing, rawBytes, validRequests } from "./fixtures.ts";
import { MAX_REQUEST_BYTES } from "./types.ts";
import { parseRequest } from "./validate.ts";

const encoder = new TextEncoder();
const bytesOf = (text: string): Uint8Array => encoder.encode(text);

/** An OPEN as text with `volume` spelled exactly as given, to reach JSON.parse's own readings. */
function openWithVolumeText(volumeText: string): Uint8Array {
  const { volume: _volume, ...rest } = makeOpen();
  const json = JSON.stringify(rest);
  return bytesOf(`${json.slice(0, -1)},"volume":${volumeText}}`);
}

function errorOf(bytes: Uint8Array): { code: string; message: string; field?: string } {
  const result = parseRequest(bytes);
  if (result.ok) throw new Error("expected a refusal, the request was accepted");
  return result.error;
}

describe("parseRequest on hostile input: size and encoding", () => {
  test("refuses a frame over the size cap before parsing it", () => {
    const bytes = new Uint8Array(MAX_REQUEST_BYTES + 1).fill(0x5b); // "[[[[…", never parsed

    expect(errorOf(bytes)).toEqual({
      code: "INVALID_REQUEST",
      message: `request is ${MAX_REQUEST_BYTES + 1} bytes, limit is ${MAX_REQUEST_BYTES}`,
    });
  });

  test("accepts a valid request of exactly the size cap", () => {
    const json = JSON.stringify(makePing());
    const padded = json + " ".repeat(MAX_REQUEST_BYTES - json.length);

    expect(parseRequest(bytesOf(padded)).ok).toBe(true);
  });

  test.each([
    ["a lone continuation byte", [0x7b, 0x80, 0x7d]],
    ["an invalid byte 0xff", [0x7b, 0xff, 0x7d]],
    ["an overlong encoding of /", [0x22, 0xc0, 0xaf, 0x22]],
    ["an encoded UTF-16 surrogate", [0x22, 0xed, 0xa0, 0x80, 0x22]],
    ["a truncated 3-byte sequence", [0x22, 0xe2, 0x82]],
  ])("refuses invalid UTF-8: %s", (_name, bytes) => {
    expect(errorOf(new Uint8Array(bytes))).toEqual({
      code: "INVALID_REQUEST",
      message: "request is not valid UTF-8",
    });
  });

  test("refuses a byte order mark", () => {
    const bytes = new Uint8Array([0xef, 0xbb, 0xbf, ...rawBytes(makePing())]);

    expect(errorOf(bytes).message).toBe("request must not start with a UTF-8 byte order mark");
  });

  test.each([
    ["empty input", ""],
    ["truncated JSON", '{"v":1,"id":"a"'],
    ["NaN", '{"v":1,"id":"a","action":"PING","ts":NaN}'],
    ["Infinity", '{"v":1,"id":"a","action":"PING","ts":Infinity}'],
    ["a trailing comma", '{"v":1,"id":"a","action":"PING","ts":1,}'],
    ["single quotes", "{'v':1}"],
    ["two objects", '{"v":1}{"v":1}'],
  ])("refuses text that is not JSON: %s", (_name, text) => {
    const error = errorOf(bytesOf(text));

    expect(error.code).toBe("INVALID_REQUEST");
    expect(error.message).toStartWith("request is not valid JSON (");
  });

  test.each([
    ["an array", "[1,2]", "an array"],
    ["a string", '"PING"', '"PING"'],
    ["a number", "1", "1"],
    ["null", "null", "null"],
    ["true", "true", "true"],
  ])("refuses JSON that is not an object: %s", (_name, text, shown) => {
    expect(errorOf(bytesOf(text)).message).toBe(`request must be a JSON object, was ${shown}`);
  });
});

describe("parseRequest on hostile input: structure and numbers", () => {
  test("refuses arrays nested to the size cap without crashing", () => {
    const depth = MAX_REQUEST_BYTES / 2;
    const bytes = bytesOf("[".repeat(depth) + "]".repeat(depth));

    expect(errorOf(bytes).message).toBe("request must be a JSON object, was an array");
  });

  test("refuses deep nesting inside a known field", () => {
    const depth = 1500;
    const nested = `${"[".repeat(depth)}${"]".repeat(depth)}`;
    const json = JSON.stringify(makeOpen()).replace('"comment":"momentum"', `"comment":${nested}`);

    expect(errorOf(bytesOf(json))).toMatchObject({
      field: "comment",
      message: "field comment must be a string, was an array",
    });
  });

  test("refuses deep nesting inside an unknown field, naming the field", () => {
    const nested = `${'{"a":'.repeat(600)}1${"}".repeat(600)}`;
    const bytes = bytesOf(`{"v":1,"id":"a","action":"PING","ts":1,"x":${nested}}`);

    expect(errorOf(bytes).message).toBe("field x is not allowed in PING");
  });

  test.each([
    ["1e400 (Infinity)", "1e400", "was Infinity"],
    ["-1e400", "-1e400", "was -Infinity"],
    ["-0", "-0", "must be a positive number, was 0"],
    ["1e-400 (zero)", "1e-400", "was 0"],
    ["2^64", "18446744073709551616", "must be at most 1000000, was 18446744073709552000"],
    ["a string NaN", '"NaN"', 'was "NaN"'],
  ])("refuses volume %s", (_name, text, message) => {
    const error = errorOf(openWithVolumeText(text));

    expect(error.field).toBe("volume");
    expect(error.message).toEndWith(message);
  });

  test.each([
    ["1E2", 100],
    ["1.0", 1],
    ["0.10000000", 0.1],
    ["5e-1", 0.5],
  ])("accepts volume written as %s", (text, volume) => {
    const result = parseRequest(openWithVolumeText(text));

    expect(result.ok && result.request.action === "OPEN" && result.request.volume).toBe(volume);
  });

  test.each([
    ["2^64", "18446744073709551616"],
    ["2^53 + 1", "9007199254740993"],
    ["1e400", "1e400"],
    ["-0", "-0"],
  ])("refuses ticket %s", (_name, text) => {
    const json = JSON.stringify(makeClose()).replace('"ticket":5001', `"ticket":${text}`);

    expect(errorOf(bytesOf(json)).field).toBe("ticket");
  });

  test("accepts deviation -0, which any encoder writes back as 0", () => {
    const json = JSON.stringify(makeOpen()).replace('"deviation":10', '"deviation":-0');
    const result = parseRequest(bytesOf(json));

    const deviation = result.ok && result.request.action === "OPEN" && result.request.deviation;

    expect(JSON.stringify(deviation)).toBe("0");
  });

  test("keeps the last of duplicate keys, as JSON.parse does", () => {
    const json = JSON.stringify(makeOpen()).replace('"volume":0.1', '"volume":0.1,"volume":5');
    const result = parseRequest(bytesOf(json));

    expect(result.ok && result.request.action === "OPEN" && result.request.volume).toBe(5);
  });

  test("a duplicate action key is validated as the last one", () => {
    const json = JSON.stringify(makePing()).replace(
      '"action":"PING"',
      '"action":"PING","action":"OPEN"',
    );

    expect(errorOf(bytesOf(json)).field).toBe("client_order_id");
  });

  test.each(["__proto__", "constructor", "toString", "hasOwnProperty"])(
    "refuses a %s key as an unknown field",
    (key) => {
      const json = JSON.stringify(makePing()).replace("{", `{"${key}":{"v":2},`);

      expect(errorOf(bytesOf(json))).toMatchObject({ code: "INVALID_REQUEST", field: key });
    },
  );

  test("reads \\u escapes as the characters they stand for", () => {
    const json = JSON.stringify(makeOpen()).replace('"EURUSD"', '"\\u0045URUSD"');
    const result = parseRequest(bytesOf(json));

    expect(result.ok && result.request.action === "OPEN" && result.request.symbol).toBe("EURUSD");
  });

  test.each([
    ["an emoji in the id", { ...makePing(), id: "id-\u{1F680}" }, "id"],
    ["a lone surrogate in the comment", { ...makeOpen(), comment: "a\uD800" }, "comment"],
    ["a right-to-left mark in the symbol", { ...makeOpen(), symbol: "EUR\u200FUSD" }, "symbol"],
    ["a fullwidth letter in the gateway", { ...makeOpen(), gateway: "gtw\uFF21" }, "gateway"],
  ])("refuses unicode: %s", (_name, request, field) => {
    expect(errorOf(rawBytes(request)).field).toBe(field);
  });

  test("shows a long refused value shortened", () => {
    const error = errorOf(rawBytes({ ...makeOpen(), symbol: "X".repeat(200) }));

    expect(error.message).toBe(
      `field symbol must be at most 32 characters, was "${"X".repeat(40)}…"`,
    );
  });

  test("shows a hostile unknown key quoted and shortened", () => {
    const key = `a\nb${"k".repeat(100)}`;
    const error = errorOf(rawBytes({ ...makePing(), [key]: 1 }));

    expect(error.message).toBe(
      `field ${JSON.stringify(`${key.slice(0, 40)}…`)} is not allowed in PING`,
    );
  });
});

describe("parseRequest on random input", () => {
  // Deterministic PRNG (mulberry32) so a failure reproduces.
  function random(seed: number): () => number {
    let state = seed;
    return () => {
      state = (state + 0x6d2b79f5) | 0;
      let t = Math.imul(state ^ (state >>> 15), 1 | state);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  test("never throws on mutated valid requests", () => {
    const next = random(20261118);
    const seeds = validRequests().map(rawBytes);
    let refused = 0;
    for (let round = 0; round < 5000; round++) {
      const seed = seeds[round % seeds.length] ?? new Uint8Array();
      const bytes = new Uint8Array(seed);
      const mutations = 1 + Math.floor(next() * 4);
      for (let m = 0; m < mutations; m++) {
        bytes[Math.floor(next() * bytes.length)] = Math.floor(next() * 256);
      }
      const result = parseRequest(bytes);
      if (!result.ok) refused++;
    }

    // Nearly every mutation breaks something; all of them came back as values.
    expect(refused).toBeGreaterThan(4000);
  });

  test("never throws on random bytes and random printable text", () => {
    const next = random(42);
    let results = 0;
    for (let round = 0; round < 2000; round++) {
      const length = Math.floor(next() * 200);
      const printable = round % 2 === 0;
      const bytes = new Uint8Array(length);
      for (let i = 0; i < length; i++) {
        bytes[i] = printable ? 0x20 + Math.floor(next() * 95) : Math.floor(next() * 256);
      }
      parseRequest(bytes);
      results++;
    }

    expect(results).toBe(2000);
  });
});
