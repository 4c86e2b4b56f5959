/**
 * EA-link framing and JSON rules (docs/EA-LINK.md §3, §4), pure: the bounded decoder, payload
 * checks, and the gateway's encoder checked against the EA-side reader the fake terminal uses.
 */
import { describe, expect, test } from "bun:test";
import {
  decodePayload,
  encodeOutbound,
  FrameDecoder,
  FramingError,
  frame,
  MAX_INBOUND_FRAME_BYTES,
} from "./framing.ts";
import { eaJson, parseFlat } from "./testing/ea-json.ts";

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const payloadOf = (framed: Uint8Array) => text(framed.subarray(4));

describe("FrameDecoder", () => {
  test("reassembles frames cut anywhere, byte by byte and in one chunk", () => {
    const stream = new Uint8Array([
      ...frame(new TextEncoder().encode('{"a":1}')),
      ...frame(new TextEncoder().encode('{"b":"ü"}')),
    ]);
    const whole = new FrameDecoder().push(stream).map(text);
    expect(whole).toEqual(['{"a":1}', '{"b":"ü"}']);
    const decoder = new FrameDecoder();
    const pieces: string[] = [];
    for (const byte of stream) pieces.push(...decoder.push(new Uint8Array([byte])).map(text));
    expect(pieces).toEqual(whole);
    expect(decoder.buffered).toBe(0);
  });

  test("refuses a zero length and an oversized length before buffering the payload", () => {
    expect(() => new FrameDecoder().push(new Uint8Array([0, 0, 0, 0]))).toThrow(FramingError);
    const decoder = new FrameDecoder(1024);
    // Only the header of a 1025-byte frame: refused at once, nothing kept
    expect(() => decoder.push(new Uint8Array([0, 0, 4, 1]))).toThrow(
      "frame length was 1025 bytes, limit 1024",
    );
    const big = new Uint8Array(4);
    new DataView(big.buffer).setUint32(0, MAX_INBOUND_FRAME_BYTES + 1);
    expect(() => new FrameDecoder().push(big)).toThrow("limit 1048576");
  });

  test("keeps a partial header until the rest arrives", () => {
    const decoder = new FrameDecoder();
    const framed = frame(new TextEncoder().encode("{}"));
    expect(decoder.push(framed.subarray(0, 3))).toEqual([]);
    expect(decoder.push(framed.subarray(3)).map(text)).toEqual(["{}"]);
  });
});

describe("decodePayload", () => {
  test.each([
    ["a 0 byte", new Uint8Array([0x7b, 0x00, 0x7d]), "0 byte"],
    ["invalid UTF-8", new Uint8Array([0x7b, 0xff, 0x7d]), "not valid UTF-8"],
    ["not JSON", new TextEncoder().encode("{nope"), "not JSON"],
    ["an array", new TextEncoder().encode("[1]"), "not a JSON object"],
    ["a number", new TextEncoder().encode("7"), "not a JSON object"],
  ])("refuses %s", (_name, payload, message) => {
    expect(() => decodePayload(payload)).toThrow(message);
  });

  test("reads the EA's pure-ASCII output, surrogate pairs included", () => {
    const ea = eaJson({ comment: "Käse 😀", ok: true, n: 1.5 });
    expect(ea).toBe('{"comment":"K\\u00E4se \\uD83D\\uDE00","ok":true,"n":1.5}');
    expect(decodePayload(new TextEncoder().encode(ea))).toEqual({
      comment: "Käse 😀",
      ok: true,
      n: 1.5,
    });
  });
});

describe("encodeOutbound", () => {
  test("is byte for byte the PING example of §3", () => {
    const bytes = encodeOutbound({ type: "CMD", id: 1, cmd: "PING" });
    expect(Buffer.from(bytes).toString("hex")).toBe(
      "000000227b2274797065223a22434d44222c226964223a312c22636d64223a2250494e47227d",
    );
  });

  test("writes plain decimals the EA's reader accepts, never an exponent", () => {
    const bytes = encodeOutbound({
      type: "CMD",
      id: 12,
      cmd: "OPEN",
      volume: 1e-7,
      sl: 1.1 + 0.2,
      tp: 0,
      price: -0.00001,
      big: 123456789.125,
      comment: 'a "quoted"\n\u0001 ü',
      absent: null,
      flag: false,
    });
    const payload = payloadOf(bytes);
    expect(payload).not.toMatch(/\de[-+]?\d/i);
    const flat = parseFlat(payload);
    expect(flat.integer("id")).toBe(12);
    expect(flat.string("volume")).toBeUndefined();
    expect(flat.number("volume")).toBe(1e-7);
    expect(flat.number("sl")).toBeCloseTo(1.3, 10);
    expect(flat.number("tp")).toBe(0);
    expect(flat.number("price")).toBe(-0.00001);
    expect(flat.number("big")).toBe(123456789.125);
    expect(flat.string("comment")).toBe('a "quoted"\n\u0001 ü');
    expect(flat.has("absent")).toBe(false);
    expect(flat.boolean("flag")).toBe(false);
  });

  test("refuses what the EA would refuse, so nothing bad is ever sent", () => {
    const many = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, i]));
    expect(() => encodeOutbound(many)).toThrow("at most 64");
    expect(() => encodeOutbound({ comment: "x".repeat(8193) })).toThrow("8192");
    expect(() => encodeOutbound({ ticket: 1.5 })).toThrow("ticket must be an integer");
    expect(() => encodeOutbound({ magic: 2 ** 60 })).toThrow("magic must be an integer");
    expect(() => encodeOutbound({ volume: Number.NaN })).toThrow("not a plain decimal");
    expect(() => encodeOutbound({ price: 1e21 })).toThrow("not a plain decimal");
    const wide = Object.fromEntries(
      Array.from({ length: 9 }, (_, i) => [`s${i}`, "y".repeat(8000)]),
    );
    expect(() => encodeOutbound(wide)).toThrow("at most 65536");
  });
});

describe("the fake EA's reader (BridgeJson rules)", () => {
  test.each([
    ['{"a":{"b":1}}', "nested value"],
    ['{"a":[1]}', "nested value"],
    ['{"a":1,"a":2}', "duplicate key"],
    ['{"a":1e-7}', "bad value"],
    ['{"a":.5}', "bad value"],
    ['{"a":5.}', "bad value"],
    ['{"a":+5}', "bad value"],
    ['{"a":"x\u0001"}', "raw control character"],
    ['{"a":1} x', "trailing characters"],
  ])("refuses %s", (input, message) => {
    expect(() => parseFlat(input)).toThrow(message);
  });

  test("integers need no decimal point and at most 18 characters", () => {
    const flat = parseFlat('{"a":12,"b":12.0,"c":1234567890123456789}');
    expect(flat.integer("a")).toBe(12);
    expect(flat.integer("b")).toBeUndefined();
    expect(flat.integer("c")).toBeUndefined();
  });
});
