/**
 * Metadata codec tests (RFC 23 §2.5, RFC 37 §2.4, research §2.3 and §7.1): libzmq's exact
 * property lists, and every way a hostile list can overrun, repeat or overflow.
 */
import { describe, expect, test } from "bun:test";
import { ProtocolError } from "../errors.ts";
import {
  encodeMetadata,
  MAX_METADATA_PROPERTIES,
  metadataText,
  parseMetadata,
  socketMetadata,
} from "./metadata.ts";

function hex(text: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.fromHex(text.replace(/\s+/g, ""));
}

const text = (s: string) => new TextEncoder().encode(s);

/** `[name_len][name][value_len:4][value]`, written out by hand rather than by the encoder. */
function property(name: string, value: Uint8Array, valueLength = value.length): Uint8Array {
  const out = new Uint8Array(1 + name.length + 4 + value.length);
  out[0] = name.length;
  out.set(text(name), 1);
  new DataView(out.buffer).setUint32(1 + name.length, valueLength);
  out.set(value, 1 + name.length + 4);
  return out;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(parts.flatMap((p) => [...p]));
}

describe("socketMetadata (what libzmq sends, research §2.3)", () => {
  test("DEALER with an empty identity is 35 bytes", () => {
    const expected = hex(
      "0b 536f636b65742d54797065 00000006 4445414c4552 08 4964656e74697479 00000000",
    );

    expect(socketMetadata("DEALER")).toEqual(expected);
  });

  test.each([
    ["DEALER", 35],
    ["ROUTER", 35],
    ["REQ", 32],
    ["REP", 19],
  ] as const)("%s is %i bytes", (socketType, size) => {
    expect(socketMetadata(socketType).length).toBe(size);
  });

  test("REP sends no Identity; DEALER sends the identity it was given", () => {
    const rep = parseMetadata(socketMetadata("REP"));
    const dealer = parseMetadata(socketMetadata("DEALER", text("client-1")));

    expect([...rep.keys()]).toEqual(["socket-type"]);
    expect(metadataText(dealer, "Identity")).toBe("client-1");
  });
});

describe("parseMetadata accepts", () => {
  test("an empty list", () => {
    expect(parseMetadata(new Uint8Array(0)).size).toBe(0);
  });

  test("names in any case, looked up case-insensitively", () => {
    const metadata = parseMetadata(
      concat(property("SOCKET-TYPE", text("ROUTER")), property("x-App", text("v"))),
    );

    expect(metadataText(metadata, "Socket-Type")).toBe("ROUTER");
    expect(metadataText(metadata, "X-APP")).toBe("v");
    expect(metadataText(metadata, "Identity")).toBeUndefined();
  });

  test("an empty value", () => {
    expect(parseMetadata(property("Identity", new Uint8Array(0))).get("identity")).toEqual(
      new Uint8Array(0),
    );
  });

  test("values are copies, safe to keep after the frame is reused", () => {
    const bytes = property("X-Key", text("abc"));

    const metadata = parseMetadata(bytes);
    bytes.fill(0);

    expect(metadataText(metadata, "X-Key")).toBe("abc");
  });

  test("a repeated application property keeps the last value", () => {
    const metadata = parseMetadata(concat(property("X-A", text("1")), property("x-a", text("2"))));

    expect(metadataText(metadata, "X-A")).toBe("2");
  });

  test(`exactly ${MAX_METADATA_PROPERTIES} properties`, () => {
    const list = Array.from({ length: MAX_METADATA_PROPERTIES }, (_, i) =>
      property(`X-${i}`, new Uint8Array(0)),
    );

    expect(parseMetadata(concat(...list)).size).toBe(MAX_METADATA_PROPERTIES);
  });

  test("round trip through encodeMetadata", () => {
    const bytes = encodeMetadata([
      ["Socket-Type", text("REQ")],
      ["X-Blob", hex("00ff10")],
    ]);

    const metadata = parseMetadata(bytes);

    expect(metadataText(metadata, "socket-type")).toBe("REQ");
    expect(metadata.get("x-blob")).toEqual(hex("00ff10"));
  });
});

describe("parseMetadata refuses", () => {
  const socketType = property("Socket-Type", text("DEALER"));
  test.each([
    ["a name cut short", hex("0b 536f636b6574"), "overruns"],
    ["a name without its value length", hex("01 41 0000"), "overruns"],
    ["a value cut short", property("Identity", text("ab"), 5), "overruns"],
    [
      "value_len 0xFFFFFFFF",
      property("Identity", text("ab"), 0xffff_ffff),
      "length was 4294967295",
    ],
    ["a trailing single byte", concat(socketType, hex("05")), "overruns"],
    ["a zero-length name", concat(socketType, hex("00 00000000")), "name is empty"],
    [
      "a name with a space",
      property("Socket Type", text("DEALER")),
      "invalid metadata property name",
    ],
    [
      "a name with a NUL",
      property("Id\u0000", new Uint8Array(0)),
      "invalid metadata property name",
    ],
    ["a name with a high byte", concat(hex("02 41c9 00000000")), "invalid metadata property name"],
    [
      "a duplicate Socket-Type",
      concat(socketType, property("Socket-Type", text("ROUTER"))),
      "duplicate metadata property",
    ],
    [
      "a duplicate Socket-Type in another case",
      concat(socketType, property("socket-type", text("ROUTER"))),
      "duplicate metadata property",
    ],
    [
      "a duplicate Identity",
      concat(property("Identity", text("a")), property("IDENTITY", text("b"))),
      "duplicate metadata property",
    ],
    [
      `${MAX_METADATA_PROPERTIES + 1} properties`,
      concat(
        ...Array.from({ length: MAX_METADATA_PROPERTIES + 1 }, (_, i) =>
          property(`X-${i}`, new Uint8Array(0)),
        ),
      ),
      `more than ${MAX_METADATA_PROPERTIES} properties`,
    ],
  ])("%s", (_name, bytes, fragment) => {
    const parse = () => parseMetadata(bytes);

    expect(parse).toThrow(ProtocolError);
    expect(parse).toThrow(fragment);
  });

  test("100k tiny properties stop at the cap, not at the end", () => {
    const bytes = new Uint8Array(100_000 * 6);
    for (let i = 0; i < bytes.length; i += 6) bytes.set(hex("01 41 00000000"), i);

    expect(() => parseMetadata(bytes)).toThrow(`more than ${MAX_METADATA_PROPERTIES}`);
  });
});

describe("encodeMetadata", () => {
  test.each([
    ["empty", ""],
    ["a space", "X Y"],
    ["a colon", "X:Y"],
    ["256 characters", "X".repeat(256)],
  ])("refuses a name with %s", (_name, name) => {
    expect(() => encodeMetadata([[name, new Uint8Array(0)]])).toThrow(ProtocolError);
  });
});
