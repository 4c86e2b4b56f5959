/**
 * Frame decoder against hostile input (research §7.1, §7.4; CVE-2019-6250): oversize frames
 * refused before allocation, reserved bits, MORE on a command, garbage. Anything bad must throw
 * ProtocolError, nothing else, and never allocate the size a peer claims.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { ProtocolError } from "../errors.ts";
import { encodeFrame, FrameDecoder } from "./frame.ts";

function hex(text: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.fromHex(text.replace(/\s+/g, ""));
}

/** A long frame header claiming `size` (as a BigInt, so 2^64 − 1 is exact), body not included. */
function longHeader(flags: number, size: bigint): Uint8Array {
  const out = new Uint8Array(9);
  out[0] = flags;
  new DataView(out.buffer).setBigUint64(1, size);
  return out;
}

/**
 * Records every `new Uint8Array(length)` and `new ArrayBuffer(length)` made while `run` executes:
 * the decoder resolves the globals at call time, so swapping them shows whether the claimed size
 * was ever allocated.
 */
const RealUint8Array = globalThis.Uint8Array;
const RealArrayBuffer = globalThis.ArrayBuffer;
function allocationsDuring(run: () => void): number[] {
  const sizes: number[] = [];
  class Recording extends RealUint8Array {
    constructor(...args: unknown[]) {
      if (typeof args[0] === "number") sizes.push(args[0]);
      super(...(args as []));
    }
  }
  class RecordingBuffer extends RealArrayBuffer {
    constructor(length: number) {
      sizes.push(length);
      super(length);
    }
  }
  globalThis.Uint8Array = Recording as unknown as Uint8ArrayConstructor;
  globalThis.ArrayBuffer = RecordingBuffer as unknown as ArrayBufferConstructor;
  try {
    run();
  } finally {
    globalThis.Uint8Array = RealUint8Array;
    globalThis.ArrayBuffer = RealArrayBuffer;
  }
  return sizes;
}

afterEach(() => {
  globalThis.Uint8Array = RealUint8Array;
  globalThis.ArrayBuffer = RealArrayBuffer;
});

const nothing = () => {};

describe("FrameDecoder size limits", () => {
  // [name, claimed size, maxFrameSize, message fragment]
  const cases = [
    [
      "2^64 - 1",
      2n ** 64n - 1n,
      Number.MAX_SAFE_INTEGER,
      "was 18446744073709551615, must be below 2^63",
    ],
    ["2^63", 2n ** 63n, Number.MAX_SAFE_INTEGER, "must be below 2^63"],
    [
      "2^63 - 1",
      2n ** 63n - 1n,
      Number.MAX_SAFE_INTEGER,
      "was 9223372036854775807, above 2^53 - 1",
    ],
    ["2^53", 2n ** 53n, Number.MAX_SAFE_INTEGER, "was 9007199254740992, above 2^53 - 1"],
    ["2^53 + 1", 2n ** 53n + 1n, Number.MAX_SAFE_INTEGER, "above 2^53 - 1"],
    [
      "2^40 + 1 over a 2^40 cap",
      2n ** 40n + 1n,
      2 ** 40,
      "was 1099511627777, the limit is 1099511627776",
    ],
    ["65537 over the handshake cap", 65_537n, 65_536, "was 65537, the limit is 65536"],
    ["2^32 over the handshake cap", 2n ** 32n, 65_536, "was 4294967296, the limit is 65536"],
  ] as const;

  test.each(cases)("%s is refused without allocating", (_name, size, max, fragment) => {
    const decoder = new FrameDecoder({ maxFrameSize: max });
    let thrown: unknown;

    const allocations = allocationsDuring(() => {
      try {
        decoder.push(longHeader(0x02, size), nothing);
      } catch (error) {
        thrown = error;
      }
    });

    expect(thrown).toBeInstanceOf(ProtocolError);
    expect((thrown as Error).message).toStartWith("zmtp: frame size ");
    expect((thrown as Error).message).toContain(fragment);
    expect(allocations.filter((n) => n > 64)).toEqual([]);
    expect(decoder.buffered).toBeLessThanOrEqual(9);
  });

  test.each(cases)("%s is refused as the header's last byte arrives", (_n, size, max) => {
    const decoder = new FrameDecoder({ maxFrameSize: max });
    const header = longHeader(0x06, size);

    for (let i = 0; i < 8; i++) decoder.push(header.subarray(i, i + 1), nothing);
    const before = decoder.buffered;

    expect(before).toBe(8);
    expect(() => decoder.push(header.subarray(8), nothing)).toThrow(ProtocolError);
  });

  test("a short frame is held to the cap too", () => {
    const decoder = new FrameDecoder({ maxFrameSize: 10 });

    expect(() => decoder.push(hex("00 0b"), nothing)).toThrow("was 11, the limit is 10");
  });

  test("a body of exactly maxFrameSize is accepted", () => {
    const decoder = new FrameDecoder({ maxFrameSize: 300 });
    const sizes: number[] = [];

    decoder.push(encodeFrame(0, new Uint8Array(300)), (_f, body) => {
      sizes.push(body.length);
    });

    expect(sizes).toEqual([300]);
  });

  test("a frame spanning chunks allocates its checked size once", () => {
    const decoder = new FrameDecoder({ maxFrameSize: 4096 });
    const wire = encodeFrame(0, new Uint8Array(3000).fill(7));

    const allocations = allocationsDuring(() => {
      for (let i = 0; i < wire.length; i += 100) decoder.push(wire.subarray(i, i + 100), nothing);
    });

    expect(allocations.filter((n) => n > 64)).toEqual([3000]);
  });

  test("setMaxFrameSize applies to the next frame", () => {
    const decoder = new FrameDecoder({ maxFrameSize: 100 });
    const seen: number[] = [];
    const big = encodeFrame(0, new Uint8Array(200));

    // The handshake ends inside the first frame's callback, as a session does
    decoder.push(new Uint8Array([...encodeFrame(4, hex("01")), ...big]), (_f, body) => {
      seen.push(body.length);
      decoder.setMaxFrameSize(1000);
    });
    decoder.setMaxFrameSize(150);

    expect(seen).toEqual([1, 200]);
    expect(decoder.maxFrameSize).toBe(150);
    expect(() => decoder.push(big, nothing)).toThrow(ProtocolError);
  });

  test.each([-1, 1.5, Number.NaN, 2 ** 53])("maxFrameSize %p is a RangeError", (max) => {
    expect(() => new FrameDecoder({ maxFrameSize: max })).toThrow(RangeError);
    expect(() => new FrameDecoder({ maxFrameSize: 1 }).setMaxFrameSize(max)).toThrow(RangeError);
  });
});

describe("FrameDecoder flags", () => {
  test.each([
    ["bit 3", 0x08],
    ["bit 4", 0x10],
    ["bit 7", 0x80],
    ["every bit", 0xff],
    ["bit 3 on a command", 0x0c],
  ])("reserved %s is refused at the flags byte", (_name, flags) => {
    const decoder = new FrameDecoder({ maxFrameSize: 1024 });

    const push = () => decoder.push(new Uint8Array([flags]), nothing);

    expect(push).toThrow(ProtocolError);
    expect(push).toThrow("reserved bits");
  });

  test.each([
    ["short", "05 00"],
    ["long", "07 0000000000000000"],
  ])("MORE on a %s command frame is refused", (_name, wire) => {
    const decoder = new FrameDecoder({ maxFrameSize: 1024 });

    expect(() => decoder.push(hex(wire), nothing)).toThrow("MORE set on a command frame");
  });

  test("a bad frame after good ones still throws, after delivering the good ones", () => {
    const decoder = new FrameDecoder({ maxFrameSize: 1024 });
    const bodies: string[] = [];

    const push = () =>
      decoder.push(hex("00 01 41 01 01 42 10 00"), (_f, body) => {
        bodies.push(new TextDecoder().decode(body));
      });

    expect(push).toThrow(ProtocolError);
    expect(bodies).toEqual(["A", "B"]);
  });

  test("after an error the decoder refuses all further input", () => {
    const decoder = new FrameDecoder({ maxFrameSize: 1024 });
    let delivered = 0;
    expect(() => decoder.push(hex("80"), nothing)).toThrow(ProtocolError);

    const again = () =>
      decoder.push(encodeFrame(0, hex("01")), () => {
        delivered++;
      });

    expect(again).toThrow(ProtocolError);
    expect(delivered).toBe(0);
  });
});

describe("FrameDecoder garbage", () => {
  test("seeded random bytes either decode or throw ProtocolError, within the cap", () => {
    let seed = 99;
    const random = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed >> 7;
    };
    const outcomes = { decoded: 0, refused: 0 };
    for (let round = 0; round < 500; round++) {
      const bytes = Uint8Array.from({ length: 1 + (random() % 300) }, () => random() & 0xff);
      const decoder = new FrameDecoder({ maxFrameSize: 512 });
      const allocations = allocationsDuring(() => {
        try {
          for (let i = 0; i < bytes.length; i += 7) {
            decoder.push(bytes.subarray(i, i + 7), (_f, body) => {
              if (body.length > 512) throw new Error("body over the cap");
            });
          }
          outcomes.decoded++;
        } catch (error) {
          if (!(error instanceof ProtocolError)) throw error;
          outcomes.refused++;
        }
      });
      expect(allocations.every((n) => n <= 512)).toBe(true);
    }

    expect(outcomes.decoded + outcomes.refused).toBe(500);
    expect(outcomes.refused).toBeGreaterThan(0);
  });

  test("every single-byte mutation of a valid stream decodes or throws ProtocolError", () => {
    const stream = new Uint8Array([
      ...encodeFrame(4, hex("05 5245414459")),
      ...encodeFrame(1, new Uint8Array(3)),
      ...encodeFrame(0, new Uint8Array(256)),
      ...encodeFrame(0, hex("ff")),
    ]);
    const unexpected: string[] = [];
    for (let i = 0; i < stream.length; i++) {
      for (const value of [0x00, 0x01, 0x05, 0x7f, 0x80, 0xff]) {
        const mutated = stream.slice();
        mutated[i] = value;
        const decoder = new FrameDecoder({ maxFrameSize: 1024 });
        try {
          decoder.push(mutated, (_f, body) => {
            if (body.length > 1024) throw new Error("body over the cap");
          });
        } catch (error) {
          if (!(error instanceof ProtocolError)) unexpected.push(`${i}=${value}: ${error}`);
        }
      }
    }

    expect(unexpected).toEqual([]);
  });
});
