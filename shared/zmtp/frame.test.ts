/**
 * Frame codec tests (RFC 23 §2.3, research §2.2 and §7.1): header bytes, the 255/256 boundary,
 * decoding across every split point, zero-copy views, pause and resume. Size limits and hostile
 * input are in frame-limits.test.ts.
 */
import { describe, expect, test } from "bun:test";
import { ProtocolError } from "../errors.ts";
import { encodeFrame, encodeFrameHeader, FrameDecoder, frameHeaderSize } from "./frame.ts";
import { FrameFlag } from "./mechanism.ts";

function hex(text: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.fromHex(text.replace(/\s+/g, ""));
}

function filled(length: number, seed: number): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (i * 31 + seed) & 0xff);
}

interface Frame {
  readonly flags: number;
  readonly body: Uint8Array;
}

/** Decode `chunks` in order, copying each body (views are valid only during the callback). */
function decodeAll(chunks: readonly Uint8Array[], maxFrameSize = 1 << 20): Frame[] {
  const decoder = new FrameDecoder({ maxFrameSize });
  const frames: Frame[] = [];
  for (const chunk of chunks) {
    decoder.push(chunk, (flags, body) => {
      frames.push({ flags, body: body.slice() });
    });
  }
  expect(decoder.buffered).toBe(0);
  return frames;
}

const { MORE, COMMAND } = FrameFlag;

describe("encodeFrameHeader", () => {
  test.each([
    ["empty message", 0, 0, "00 00"],
    ["MORE, 5 bytes", MORE, 5, "01 05"],
    ["command, 255 bytes (largest short)", COMMAND, 255, "04 ff"],
    ["message, 256 bytes (smallest long)", 0, 256, "02 0000000000000100"],
    ["MORE, 256 bytes", MORE, 256, "03 0000000000000100"],
    ["command, 256 bytes", COMMAND, 256, "06 0000000000000100"],
    ["message, 2^32 bytes", 0, 2 ** 32, "02 0000000100000000"],
    ["message, 2^32 + 258 bytes", 0, 2 ** 32 + 258, "02 0000000100000102"],
    ["message, 2^53 - 1 bytes", 0, Number.MAX_SAFE_INTEGER, "02 001fffffffffffff"],
  ] as const)("%s", (_name, flags, length, expected) => {
    const out = new Uint8Array(12).fill(0xee);

    const written = encodeFrameHeader(flags, length, out, 2);

    expect(written).toBe(frameHeaderSize(length));
    expect(out.subarray(2, 2 + written)).toEqual(hex(expected));
    expect(out[1]).toBe(0xee);
    expect(out[2 + written]).toBe(0xee);
  });

  test.each([
    ["MORE on a command", MORE | COMMAND, ProtocolError],
    ["LONG passed in by the caller", FrameFlag.LONG, ProtocolError],
    ["a reserved bit", 0x08, ProtocolError],
    ["NaN flags", Number.NaN, ProtocolError],
  ] as const)("refuses %s", (_name, flags, error) => {
    expect(() => encodeFrameHeader(flags, 1, new Uint8Array(9), 0)).toThrow(error);
  });

  test.each([
    ["a negative length", -1, 9, 0],
    ["a fractional length", 1.5, 9, 0],
    ["a length above 2^53 - 1", 2 ** 53, 9, 0],
    ["a short header past the end", 5, 3, 2],
    ["a long header past the end", 300, 9, 1],
    ["a negative offset", 5, 9, -1],
  ] as const)("throws RangeError for %s", (_name, length, outSize, offset) => {
    expect(() => encodeFrameHeader(0, length, new Uint8Array(outSize), offset)).toThrow(RangeError);
  });
});

describe("frameHeaderSize", () => {
  test.each([
    [0, 2],
    [255, 2],
    [256, 9],
    [70_000, 9],
  ])("body of %i → %i header bytes", (length, size) => {
    expect(frameHeaderSize(length)).toBe(size);
  });
});

describe("encodeFrame", () => {
  test("short frame is header then body", () => {
    expect(encodeFrame(MORE, hex("aabbcc"))).toEqual(hex("01 03 aabbcc"));
  });

  test("a 256-byte body goes long", () => {
    const body = filled(256, 1);

    const frame = encodeFrame(COMMAND, body);

    expect(frame.subarray(0, 9)).toEqual(hex("06 0000000000000100"));
    expect(frame.subarray(9)).toEqual(body);
  });

  test("MORE on a command throws ProtocolError", () => {
    expect(() => encodeFrame(MORE | COMMAND, hex("04 50494e47"))).toThrow(ProtocolError);
  });
});

/** Short and long, commands and messages, empty bodies, the 255/256 boundary. */
const FRAMES: readonly Frame[] = [
  { flags: COMMAND, body: hex("05 5245414459") },
  { flags: MORE, body: new Uint8Array(0) },
  { flags: MORE, body: filled(255, 2) },
  { flags: 0, body: filled(256, 3) },
  { flags: COMMAND, body: new Uint8Array(0) },
  { flags: 0, body: new Uint8Array(0) },
  { flags: COMMAND, body: filled(300, 4) },
  { flags: MORE, body: hex("01") },
  { flags: 0, body: filled(7, 5) },
];
const STREAM = new Uint8Array(FRAMES.flatMap((f) => [...encodeFrame(f.flags, f.body)]));

describe("FrameDecoder", () => {
  test("decodes a multi-frame buffer pushed whole", () => {
    expect(decodeAll([STREAM])).toEqual([...FRAMES]);
  });

  test("decodes it byte by byte", () => {
    const chunks = Array.from(STREAM, (_, i) => STREAM.subarray(i, i + 1));

    expect(decodeAll(chunks)).toEqual([...FRAMES]);
  });

  test("decodes it split in two at every byte", () => {
    const splits = Array.from({ length: STREAM.length - 1 }, (_, i) => i + 1);

    const wrong = splits.filter((split) => {
      const frames = decodeAll([STREAM.subarray(0, split), STREAM.subarray(split)]);
      return !Bun.deepEquals(frames, FRAMES);
    });

    expect(wrong).toEqual([]);
  });

  test("decodes it in every pair of pieces around the long headers", () => {
    // Three pieces whose two cuts both fall inside or next to the first long frame's header
    const start = FRAMES.slice(0, 3).reduce((n, f) => n + f.body.length + 2, 0);
    for (let a = start - 2; a < start + 12; a++) {
      for (let b = a + 1; b < start + 14; b++) {
        const chunks = [STREAM.subarray(0, a), STREAM.subarray(a, b), STREAM.subarray(b)];
        expect(decodeAll(chunks)).toEqual([...FRAMES]);
      }
    }
  });

  test("decodes seeded random chunkings", () => {
    let seed = 12345;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    for (let round = 0; round < 200; round++) {
      const chunks: Uint8Array[] = [];
      for (let i = 0; i < STREAM.length; ) {
        const n = 1 + random(40);
        chunks.push(STREAM.subarray(i, i + n));
        i += n;
      }
      expect(decodeAll(chunks)).toEqual([...FRAMES]);
    }
  });

  test.each([
    ["a message", "02 0000000000000005 68656c6c6f", 0, "68656c6c6f"],
    ["a command", "06 0000000000000004 04414243", COMMAND, "04414243"],
    ["an empty MORE frame", "03 0000000000000000", MORE, ""],
  ] as const)("accepts long encoding of a small size: %s", (_name, wire, flags, body) => {
    expect(decodeAll([hex(wire)])).toEqual([{ flags, body: hex(body) }]);
  });

  test("hands out views of the chunk when a frame lies inside it", () => {
    const bodies: Uint8Array[] = [];

    new FrameDecoder({ maxFrameSize: 1024 }).push(STREAM, (_flags, body) => {
      bodies.push(body);
    });

    expect(bodies.every((body) => body.buffer === STREAM.buffer)).toBe(true);
  });

  test("copies a body only when it spans chunks", () => {
    const wire = encodeFrame(0, filled(300, 9));
    const bodies: Uint8Array[] = [];
    const decoder = new FrameDecoder({ maxFrameSize: 1024 });

    decoder.push(wire.subarray(0, 100), (_f, body) => {
      bodies.push(body);
    });
    const partial = decoder.buffered;
    decoder.push(wire.subarray(100), (_f, body) => {
      bodies.push(body);
    });

    expect(partial).toBe(91);
    expect(bodies.length).toBe(1);
    expect(bodies[0]?.buffer).not.toBe(wire.buffer);
    expect(bodies[0]).toEqual(filled(300, 9));
  });

  test("buffered counts a partial header", () => {
    const decoder = new FrameDecoder({ maxFrameSize: 1024 });

    decoder.push(hex("02 00 00 00"), () => {});

    expect(decoder.buffered).toBe(4);
  });
});

describe("FrameDecoder pause and resume", () => {
  const pauseAfter = (count: number, into: Frame[]) => (flags: number, body: Uint8Array) => {
    into.push({ flags, body: body.slice() });
    return into.length % count !== 0;
  };

  test("returning false stops delivery and keeps the rest", () => {
    const decoder = new FrameDecoder({ maxFrameSize: 1024 });
    const frames: Frame[] = [];
    const first = encodeFrame(COMMAND, hex("05 5245414459")).length;

    decoder.push(STREAM, pauseAfter(1, frames));

    expect(frames).toEqual([FRAMES[0] as Frame]);
    expect(decoder.paused).toBe(true);
    expect(decoder.buffered).toBe(STREAM.length - first);
  });

  test("resume delivers the kept frames, pausing again when asked", () => {
    const decoder = new FrameDecoder({ maxFrameSize: 1024 });
    const frames: Frame[] = [];
    decoder.push(STREAM, pauseAfter(2, frames));

    const afterPush = frames.length;
    decoder.resume(pauseAfter(2, frames));
    const afterResume = frames.length;
    for (let n = 0; decoder.paused && n < 100; n++) decoder.resume(pauseAfter(2, frames));

    expect(afterPush).toBe(2);
    expect(afterResume).toBe(4);
    expect(frames).toEqual([...FRAMES]);
    expect(decoder.buffered).toBe(0);
  });

  test("a push while paused delivers kept bytes first, then the new chunk", () => {
    const decoder = new FrameDecoder({ maxFrameSize: 1024 });
    const frames: Frame[] = [];
    const extra = { flags: 0, body: hex("ffee") };
    decoder.push(STREAM, pauseAfter(1, frames));

    decoder.push(encodeFrame(extra.flags, extra.body), (flags, body) => {
      frames.push({ flags, body: body.slice() });
    });

    expect(frames).toEqual([...FRAMES, extra]);
  });

  test("a push that pauses again keeps the new chunk as well", () => {
    const decoder = new FrameDecoder({ maxFrameSize: 1024 });
    const frames: Frame[] = [];
    const more = encodeFrame(MORE, hex("0102"));
    decoder.push(STREAM, pauseAfter(1, frames));

    decoder.push(more, pauseAfter(1, frames));
    const held = decoder.buffered;
    const sent = more.slice();
    more.fill(0xff);
    for (let n = 0; decoder.paused && n < 100; n++) decoder.resume(pauseAfter(1, frames));

    // Frames 0 (8 wire bytes) and 1 (2) delivered; the rest of STREAM and all of `more` kept
    expect(held).toBe(STREAM.length - 10 + more.length);
    expect(frames).toEqual([...FRAMES, { flags: MORE, body: sent.subarray(2) }]);
  });

  test("kept bytes survive the caller reusing its chunk buffer", () => {
    const decoder = new FrameDecoder({ maxFrameSize: 1024 });
    const frames: Frame[] = [];
    const chunk = STREAM.slice();
    decoder.push(chunk, pauseAfter(1, frames));

    chunk.fill(0xff);
    for (let n = 0; decoder.paused && n < 100; n++) decoder.resume(pauseAfter(100, frames));

    expect(frames).toEqual([...FRAMES]);
  });

  test("resume with nothing kept does nothing", () => {
    const decoder = new FrameDecoder({ maxFrameSize: 1024 });
    let calls = 0;

    decoder.resume(() => {
      calls++;
    });

    expect(calls).toBe(0);
    expect(decoder.paused).toBe(false);
  });

  test("a handler that throws propagates and leaves the decoder refusing input", () => {
    const decoder = new FrameDecoder({ maxFrameSize: 1024 });
    const boom = new Error("handler failed");

    const first = () =>
      decoder.push(STREAM, () => {
        throw boom;
      });
    const next = () => decoder.push(encodeFrame(0, hex("01")), () => {});

    expect(first).toThrow(boom);
    expect(next).toThrow(ProtocolError);
  });
});
