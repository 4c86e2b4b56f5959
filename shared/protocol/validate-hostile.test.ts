import { describe, expect, test } from "bun:test";
import { mutateBytes, nested, Rng, randomValue, requestLike } from "../testing/hostile-json.ts";
import { encodeReply, encodeRequest, errorReply, filledReply, okReply } from "./codec.ts";
import {
  FIXTURE_NOW_MS,
  makeAccount,
  makeClose,
  makeOpen,
  makePing,
  makePosition,
  makeSymbolInfo,
  rawBytes,
  validRequests,
} from "./testing/fixtures.ts";
import { ACTIONS, type Action, MAX_REQUEST_BYTES } from "./types.ts";
import { parseMessage, parseReply, parseRequest } from "./validate.ts";

/** Issue 7 §2: the generated-input rounds below; MLB_LONG=1 runs 25 times as many. */
const ROUNDS = process.env["MLB_LONG"] === "1" ? 500_000 : 20_000;
/** The figures docs/RELIABILITY.md quotes: printed in the long run or with FUZZ_REPORT set. */
const REPORT = process.env["MLB_LONG"] === "1" || process.env["FUZZ_REPORT"] !== undefined;

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

describe("the decoders on generated hostile input (issue 7 §2)", () => {
  /** What a round found; a thrown exception is recorded with its seed and round, never lost. */
  function fuzz(
    name: string,
    seed: number,
    rounds: number,
    make: (rng: Rng, round: number) => void,
  ) {
    const began = performance.now();
    const rng = new Rng(seed);
    const thrown: string[] = [];
    let slowestMs = 0;
    let slowest = { round: 0, rng: rng.clone() };
    for (let round = 0; round < rounds; round++) {
      const before = rng.clone();
      const started = performance.now();
      try {
        make(rng, round);
      } catch (error) {
        if (thrown.length < 5) thrown.push(`seed ${seed} round ${round}: ${String(error)}`);
      }
      const tookMs = performance.now() - started;
      if (tookMs > slowestMs) {
        slowestMs = tookMs;
        slowest = { round, rng: before };
      }
    }
    // The slowest input once more, three times: an input that is slow to decode is slow every
    // time, while a garbage collection or the machine's other work slows one run only
    for (let again = 0; again < 3; again++) {
      const started = performance.now();
      try {
        make(slowest.rng.clone(), slowest.round);
      } catch {
        // counted in the first pass
      }
      slowestMs = Math.min(slowestMs, performance.now() - started);
    }
    if (REPORT) {
      const figures = {
        input: name,
        seed,
        rounds,
        thrown: thrown.length,
        slowest_ms: Math.round(slowestMs * 100) / 100,
        seconds: Math.round((performance.now() - began) / 100) / 10,
      };
      console.log(`[hostile] protocol decoder ${JSON.stringify(figures)}`);
    }
    return { thrown, slowestMs };
  }

  /** An accepted request survives re-encoding: the decoder accepted exactly a valid request. */
  function expectCanonical(bytes: Uint8Array): boolean {
    const result = parseRequest(bytes);
    if (!result.ok) return false;
    const again = parseRequest(encodeRequest(result.request));
    if (!again.ok || JSON.stringify(again.request) !== JSON.stringify(result.request))
      throw new Error(`accepted but not canonical: ${new TextDecoder().decode(bytes)}`);
    if (!(ACTIONS as readonly string[]).includes(result.request.action))
      throw new Error(`accepted an unknown action ${result.request.action}`);
    return true;
  }

  test(`${ROUNDS.toLocaleString("en-US")} request-shaped objects with random field values`, () => {
    const encoder = new TextEncoder();
    let accepted = 0;
    const { thrown, slowestMs } = fuzz("request-shaped objects", 0x15_7a7e, ROUNDS, (rng) => {
      if (expectCanonical(encoder.encode(requestLike(rng, FIXTURE_NOW_MS)))) accepted++;
    });

    expect(thrown).toEqual([]);
    // Some are valid (all fields plausible), most are not; both kinds came back as values
    expect(accepted).toBeGreaterThan(0);
    expect(accepted).toBeLessThan(ROUNDS);
    expect(slowestMs).toBeLessThan(250);
  });

  test(`${ROUNDS.toLocaleString("en-US")} random JSON values and text-level mutations of valid requests`, () => {
    const encoder = new TextEncoder();
    const seeds = validRequests().map(rawBytes);
    const { thrown, slowestMs } = fuzz(
      "random JSON and mutated requests",
      0x3a_71e5,
      ROUNDS,
      (rng, round) => {
        const bytes =
          round % 2 === 0
            ? encoder.encode(randomValue(rng, 6))
            : mutateBytes(rng, seeds[round % seeds.length] as Uint8Array);
        expectCanonical(bytes);
      },
    );

    expect(thrown).toEqual([]);
    expect(slowestMs).toBeLessThan(250);
  });

  test.each([
    ["arrays", false],
    ["objects", true],
  ])("nesting of %s from 1 to 2,000 levels in every field of an OPEN", (_name, object) => {
    const open = JSON.stringify(makeOpen());
    const fields = Object.keys(makeOpen());
    const thrown: string[] = [];
    for (const depth of [1, 10, 100, 1000, 2000]) {
      for (const field of fields) {
        const text = open.replace(
          new RegExp(`"${field}":("[^"]*"|[^,}]*)`),
          `"${field}":${nested(depth, object)}`,
        );
        try {
          const result = parseRequest(new TextEncoder().encode(text));
          // Over the size cap the whole request is refused; under it, the field is named
          if (result.ok) thrown.push(`${field} at depth ${depth} was accepted`);
        } catch (error) {
          thrown.push(`${field} at depth ${depth}: ${String(error)}`);
        }
      }
    }

    expect(thrown).toEqual([]);
  });

  test.each([
    ["no frames", [] as string[], "message has no frames"],
    ["PING with a second frame", ["ping", "x"], "PING takes at most 1 frame, was 2"],
    ["OPEN with three frames", ["open", "sig", "x"], "OPEN takes at most 2 frames, was 3"],
    [
      "OPEN with 64 frames",
      ["open", ...Array.from({ length: 63 }, () => "x")],
      "OPEN takes at most 2 frames, was 64",
    ],
    ["an empty first frame", [""], "request is not valid JSON"],
    ["the signature first", ["sig", "open"], "request is not valid JSON"],
  ])("parseMessage refuses wrong frame counts: %s", (_name, parts, message) => {
    const frame = (part: string): Uint8Array =>
      part === "ping"
        ? rawBytes(makePing())
        : part === "open"
          ? rawBytes(makeOpen())
          : part === "sig"
            ? new Uint8Array(64).fill(7)
            : new TextEncoder().encode(part);
    const result = parseMessage(parts.map(frame));

    expect(result.ok).toBe(false);
    expect(result.ok ? "" : result.error.message).toStartWith(message);
  });

  test("parseMessage passes an OPEN without its signature on (the verifier refuses it)", () => {
    const result = parseMessage([rawBytes(makeOpen())]);

    expect(result.ok && result.signature).toBeUndefined();
  });

  test(`${ROUNDS.toLocaleString("en-US")} mutated and random replies never throw in parseReply`, () => {
    const valid = [
      okReply("r1", {
        gateway: "gtw-1",
        server_time: FIXTURE_NOW_MS,
        trading_state: "ACTIVE",
        mt5: { link: "UP", backend: "sim" },
        version: "1",
      }),
      okReply("r2", { account: makeAccount() }),
      okReply("r3", { positions: [makePosition(), makePosition({ ticket: 7 })] }),
      okReply("r4", { symbol_info: makeSymbolInfo() }),
      filledReply("r5", {
        client_order_id: "c1",
        retcode: 10009,
        ticket: 5,
        deal: 6,
        order: 5,
        volume: 0.1,
        price: 1.1,
        bid: 1.1,
        ask: 1.1,
        sl: null,
        tp: null,
      }),
      errorReply("r6", "EXPIRED", "request is 3000 ms old"),
    ].map((reply) => encodeReply(reply));
    const actions: (Action | undefined)[] = [undefined, ...ACTIONS];
    const encoder = new TextEncoder();
    let accepted = 0;
    const { thrown, slowestMs } = fuzz(
      "random and mutated replies",
      0x4e_b1e5,
      ROUNDS,
      (rng, round) => {
        const bytes =
          round % 3 === 0
            ? encoder.encode(randomValue(rng, 6))
            : mutateBytes(rng, valid[round % valid.length] as Uint8Array);
        if (parseReply(bytes, rng.pick(actions)).ok) accepted++;
      },
    );

    expect(thrown).toEqual([]);
    expect(accepted).toBeLessThan(ROUNDS);
    expect(slowestMs).toBeLessThan(250);
    for (const bytes of valid) expect(parseReply(bytes).ok).toBe(true);
  });
});
