/**
 * Command body tests (RFC 23 §2.4, RFC 37 §2.4–2.7, research §2.3 and §3.5): each command built
 * to its exact bytes and parsed back; names, ERROR and PING bounds refused with ProtocolError.
 */
import { describe, expect, test } from "bun:test";
import { ProtocolError } from "../errors.ts";
import {
  encodeCancel,
  encodeCommand,
  encodeError,
  encodePing,
  encodePong,
  encodeReady,
  encodeSubscribe,
  isCommand,
  MAX_PING_CONTEXT_BYTES,
  parseCommand,
  parseErrorReason,
  parsePing,
} from "./command.ts";

function hex(text: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.fromHex(text.replace(/\s+/g, ""));
}

describe("each command built and parsed", () => {
  test.each([
    [
      "READY",
      encodeReady(hex("01 41 00000001 42")),
      "05 5245414459 01 41 00000001 42",
      "01410000000142",
    ],
    ["ERROR 400", encodeError("400"), "05 4552524f52 03 343030", "03343030"],
    // libzmq's PING with a 3000 ms TTL and no context (research §3.3)
    ["PING ttl 30 ds", encodePing(30), "04 50494e47 001e", "001e"],
    ["PING with context", encodePing(0x0102, hex("aabb")), "04 50494e47 0102 aabb", "0102aabb"],
    ["PONG", encodePong(hex("aabb")), "04 504f4e47 aabb", "aabb"],
    ["SUBSCRIBE", encodeSubscribe(hex("7878")), "09 535542534352494245 7878", "7878"],
    ["CANCEL", encodeCancel(new Uint8Array(0)), "06 43414e43454c", ""],
  ])("%s", (name, body, wire, data) => {
    const parsed = parseCommand(body);

    expect(body).toEqual(hex(wire));
    expect(parsed.name).toBe(name.split(" ")[0] as string);
    expect(parsed.data).toEqual(hex(data));
    expect(isCommand(body, parsed.name)).toBe(true);
  });

  test("ERROR reason and PING fields parse back", () => {
    expect(parseErrorReason(parseCommand(encodeError("500")).data)).toBe("500");
    expect(parsePing(parseCommand(encodePing(655, hex("01"))).data)).toEqual({
      ttlDeciseconds: 655,
      context: hex("01"),
    });
  });
});

describe("encodeCommand names", () => {
  test.each([
    ["empty", ""],
    ["a digit", "READY1"],
    ["a space", "RE ADY"],
    ["a NUL", "READY\u0000"],
    ["non-ASCII", "RÉADY"],
    ["256 letters", "A".repeat(256)],
  ])("refuses %s", (_name, name) => {
    expect(() => encodeCommand(name)).toThrow(ProtocolError);
  });

  test("accepts 255 letters and mixed case", () => {
    expect(encodeCommand("A".repeat(255)).length).toBe(256);
    expect(encodeCommand("Ready")).toEqual(hex("05 5265616479"));
  });
});

describe("parseCommand refuses", () => {
  test.each([
    ["an empty body", "", "empty command frame"],
    ["a zero-length name", "00 41", "name is empty"],
    ["a name cut short", "05 524541", "overruns the frame"],
    ["a name length past the end", "ff 41", "overruns the frame"],
    ["a digit in the name", "04 50494e31", "not a letter"],
    ["a NUL in the name", "05 5245414400", "not a letter"],
    ["a high byte in the name", "04 50c94e47", "not a letter"],
  ])("%s", (_name, wire, fragment) => {
    const parse = () => parseCommand(hex(wire));

    expect(parse).toThrow(ProtocolError);
    expect(parse).toThrow(fragment);
  });

  test("a name that fills the body leaves empty data", () => {
    expect(parseCommand(hex("05 5245414459")).data.length).toBe(0);
  });
});

describe("isCommand", () => {
  test.each([
    ["exact", "05 5245414459 00", "READY", true],
    ["other case", "05 7265616479", "READY", false],
    ["a longer name", "06 524541445958", "READY", false],
    ["a prefix", "04 52454144", "READY", false],
    ["cut short", "05 5245", "READY", false],
    ["empty", "", "READY", false],
  ] as const)("%s", (_name, wire, name, expected) => {
    expect(isCommand(hex(wire), name)).toBe(expected);
  });
});

describe("ERROR reason", () => {
  test.each([
    ["no length byte", ""],
    ["length longer than the data", "04 343030"],
    ["length shorter than the data", "02 343030"],
    ["length 255, nothing follows", "ff"],
  ])("refuses %s", (_name, data) => {
    const parse = () => parseErrorReason(hex(data));

    expect(parse).toThrow(ProtocolError);
  });

  test("accepts an empty reason", () => {
    expect(parseErrorReason(hex("00"))).toBe("");
  });

  test("encodeError truncates the reason to 255 bytes", () => {
    const body = encodeError("x".repeat(300));

    expect(body.length).toBe(1 + 5 + 1 + 255);
    expect(parseErrorReason(parseCommand(body).data)).toBe("x".repeat(255));
  });
});

describe("PING bounds", () => {
  test.each([
    ["negative", -5, "0000"],
    ["fractional", 1.7, "0001"],
    ["largest", 0xffff, "ffff"],
    ["above 16 bits", 70_000, "ffff"],
  ])("encodePing clamps a %s TTL", (_name, ttl, wire) => {
    expect(parseCommand(encodePing(ttl)).data).toEqual(hex(wire));
  });

  test("a 16-byte context is the largest allowed", () => {
    const context = new Uint8Array(MAX_PING_CONTEXT_BYTES).fill(9);

    const data = parseCommand(encodePing(1, context)).data;

    expect(parsePing(data).context).toEqual(context);
  });

  test.each([
    ["encodePing, 17-byte context", () => encodePing(1, new Uint8Array(17))],
    ["parsePing, 17-byte context", () => parsePing(new Uint8Array(2 + 17))],
    ["parsePing, no TTL", () => parsePing(new Uint8Array(0))],
    ["parsePing, half a TTL", () => parsePing(hex("01"))],
  ])("refuses %s", (_name, run) => {
    expect(run).toThrow(ProtocolError);
  });

  test("the parsed context is a copy, safe to keep after the frame is reused", () => {
    const data = hex("0001 aabb");

    const ping = parsePing(data);
    data.fill(0);

    expect(ping.context).toEqual(hex("aabb"));
  });

  test("PONG echoes at most 16 bytes of context", () => {
    const body = encodePong(new Uint8Array(20).fill(3));

    expect(parseCommand(body).data).toEqual(new Uint8Array(16).fill(3));
  });
});
