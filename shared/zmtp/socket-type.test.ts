/**
 * Socket-Type compatibility (RFC 37 §2.3, research §5.1): the full REQ/REP/DEALER/ROUTER table
 * and the peer-metadata check both mechanisms run before declaring the handshake done.
 */
import { describe, expect, test } from "bun:test";
import type { SocketType } from "./mechanism.ts";
import { encodeMetadata, parseMetadata } from "./metadata.ts";
import { checkPeerMetadata, isCompatible, isSocketType } from "./socket-type.ts";

const text = (s: string) => new TextEncoder().encode(s);

function metadataOf(properties: [string, Uint8Array][]) {
  return parseMetadata(encodeMetadata(properties));
}

describe("isCompatible: all 16 pairs", () => {
  const table: readonly (readonly [SocketType, SocketType, boolean])[] = [
    ["REQ", "REQ", false],
    ["REQ", "REP", true],
    ["REQ", "DEALER", false],
    ["REQ", "ROUTER", true],
    ["REP", "REQ", true],
    ["REP", "REP", false],
    ["REP", "DEALER", true],
    ["REP", "ROUTER", false],
    ["DEALER", "REQ", false],
    ["DEALER", "REP", true],
    ["DEALER", "DEALER", true],
    ["DEALER", "ROUTER", true],
    ["ROUTER", "REQ", true],
    ["ROUTER", "REP", false],
    ["ROUTER", "DEALER", true],
    ["ROUTER", "ROUTER", true],
  ];

  test.each(table)("%s with %s → %p", (ours, theirs, expected) => {
    expect(isCompatible(ours, theirs)).toBe(expected);
  });

  test("the relation is symmetric", () => {
    const asymmetric = table.filter(([a, b, ok]) => isCompatible(b, a) !== ok);

    expect(asymmetric).toEqual([]);
  });
});

describe("isSocketType", () => {
  test.each([
    ["DEALER", true],
    ["ROUTER", true],
    ["dealer", false],
    ["PUB", false],
    ["", false],
  ])("%p → %p", (value, expected) => {
    expect(isSocketType(value)).toBe(expected);
  });
});

describe("checkPeerMetadata", () => {
  test("a compatible peer with an identity", () => {
    const result = checkPeerMetadata(
      "ROUTER",
      metadataOf([
        ["Socket-Type", text("DEALER")],
        ["Identity", text("client-1")],
      ]),
    );

    expect(result).toEqual({ ok: true, socketType: "DEALER", identity: text("client-1") });
  });

  test("a peer that sends no Identity gets an empty one", () => {
    const result = checkPeerMetadata("REQ", metadataOf([["Socket-Type", text("REP")]]));

    expect(result).toEqual({ ok: true, socketType: "REP", identity: new Uint8Array(0) });
  });

  test.each([
    ["no Socket-Type", [["Identity", text("x")]], "INVALID_METADATA"],
    ["an incompatible Socket-Type", [["Socket-Type", text("DEALER")]], "SOCKET_TYPE_MISMATCH"],
    ["an unknown Socket-Type", [["Socket-Type", text("PUB")]], "SOCKET_TYPE_MISMATCH"],
    // libzmq compares the value case-sensitively (research §5.1)
    ["a lower-case Socket-Type", [["Socket-Type", text("rep")]], "SOCKET_TYPE_MISMATCH"],
    [
      "an Identity over 255 bytes",
      [
        ["Socket-Type", text("REP")],
        ["Identity", new Uint8Array(256).fill(65)],
      ],
      "INVALID_METADATA",
    ],
    [
      "an Identity starting with 0x00 (RFC 37 §2.4)",
      [
        ["Socket-Type", text("REP")],
        ["Identity", new Uint8Array([0, 1])],
      ],
      "INVALID_METADATA",
    ],
  ] as const)("refuses %s", (_name, properties, code) => {
    const result = checkPeerMetadata("REQ", metadataOf(properties.map(([n, v]) => [n, v])));

    expect(result.ok).toBe(false);
    expect(!result.ok && result.code).toBe(code);
    expect(!result.ok && result.message).toStartWith("zmtp: ");
  });
});
