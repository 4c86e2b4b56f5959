/**
 * Greeting codec tests (RFC 23 §2.2, research §2.1 and §7.1): exact bytes, libzmq's staged
 * sending, every truncation point, early refusal of downgrades and mechanism mismatches.
 */
import { describe, expect, test } from "bun:test";
import { encodeGreeting, GreetingReader, type GreetingStatus } from "./greeting.ts";
import type { MechanismName } from "./mechanism.ts";

function hex(text: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.fromHex(text.replace(/\s+/g, ""));
}

const ZEROS_16 = "00".repeat(16);
const FILLER = "00".repeat(31);

interface GreetingFields {
  readonly first?: number;
  readonly padding?: readonly number[];
  readonly byte9?: number;
  readonly major?: number;
  readonly minor?: number;
  readonly mechanism?: string | Uint8Array;
  readonly asServer?: number;
  readonly fillerByte?: number;
}

/** A greeting built field by field, so each test states only what it changes. */
function greeting(fields: GreetingFields = {}): Uint8Array {
  const out = new Uint8Array(64);
  out[0] = fields.first ?? 0xff;
  out.set(fields.padding ?? [], 1);
  out[9] = fields.byte9 ?? 0x7f;
  out[10] = fields.major ?? 3;
  out[11] = fields.minor ?? 1;
  const mechanism = fields.mechanism ?? "NULL";
  out.set(typeof mechanism === "string" ? new TextEncoder().encode(mechanism) : mechanism, 12);
  out[32] = fields.asServer ?? 0;
  out.fill(fields.fillerByte ?? 0, 33);
  return out;
}

type Feeder = (reader: GreetingReader, bytes: Uint8Array) => GreetingStatus[];

/** Ways a peer may deliver its greeting: whole, libzmq's 10/1/53 stages, byte by byte. */
const FEEDERS: readonly (readonly [string, Feeder])[] = [
  ["whole", (reader, bytes) => [reader.push(bytes)]],
  [
    "in libzmq's 10/1/53 stages",
    (reader, bytes) => [
      reader.push(bytes.subarray(0, 10)),
      reader.push(bytes.subarray(10, 11)),
      reader.push(bytes.subarray(11)),
    ],
  ],
  [
    "byte by byte",
    (reader, bytes) => Array.from(bytes, (_, i) => reader.push(bytes.subarray(i, i + 1))),
  ],
];

describe("encodeGreeting", () => {
  test.each([
    ["NULL", false, `ff ${"00".repeat(8)} 7f 03 01 4e554c4c ${ZEROS_16} 00 ${FILLER}`],
    ["CURVE", true, `ff ${"00".repeat(8)} 7f 03 01 4355525645 ${"00".repeat(15)} 01 ${FILLER}`],
    ["CURVE", false, `ff ${"00".repeat(8)} 7f 03 01 4355525645 ${"00".repeat(15)} 00 ${FILLER}`],
  ] as const)("%s as-server=%p", (mechanism, asServer, expected) => {
    const bytes = encodeGreeting(mechanism, asServer);

    expect(bytes.length).toBe(64);
    expect(bytes).toEqual(hex(expected));
  });
});

describe("GreetingReader accepts", () => {
  const cases: readonly (readonly [string, MechanismName, Uint8Array, number, number, boolean])[] =
    [
      ["our NULL greeting", "NULL", encodeGreeting("NULL", false), 3, 1, false],
      ["our CURVE server greeting", "CURVE", encodeGreeting("CURVE", true), 3, 1, true],
      // libzmq: padding is identity length + 1 big-endian, as-server always 0 (research §2.1)
      [
        "a libzmq NULL greeting",
        "NULL",
        greeting({ padding: [0, 0, 0, 0, 0, 0, 0, 1] }),
        3,
        1,
        false,
      ],
      [
        "a libzmq CURVE server greeting (as-server 0)",
        "CURVE",
        greeting({ padding: [0, 0, 0, 0, 0, 0, 0, 1], mechanism: "CURVE" }),
        3,
        1,
        false,
      ],
      ["a ZMTP 3.0 peer (minor 0)", "NULL", greeting({ minor: 0 }), 3, 0, false],
      ["a future major version 4", "NULL", greeting({ major: 4, minor: 7 }), 4, 7, false],
      ["byte 9 odd but not 0x7f", "NULL", greeting({ byte9: 0x01 }), 3, 1, false],
      [
        "arbitrary padding and filler",
        "NULL",
        greeting({ padding: [0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4], fillerByte: 0xaa }),
        3,
        1,
        false,
      ],
    ];

  for (const [feedName, feed] of FEEDERS) {
    test.each(cases)(`%s, fed ${feedName}`, (_name, expected, bytes, major, minor, asServer) => {
      const reader = new GreetingReader(expected);

      const statuses = feed(reader, bytes);
      const last = statuses.at(-1);

      expect(statuses.slice(0, -1).every((s) => s.status === "need-more")).toBe(true);
      expect(last).toEqual({
        status: "done",
        greeting: { major, minor, mechanism: expected, asServer },
        rest: new Uint8Array(0),
      });
      expect(reader.received).toBe(64);
    });
  }
});

describe("GreetingReader truncation", () => {
  test.each(Array.from({ length: 64 }, (_, n) => n))("%i bytes → need-more, then done", (n) => {
    const bytes = encodeGreeting("CURVE", false);
    const reader = new GreetingReader("CURVE");

    const first = reader.push(bytes.subarray(0, n));
    const held = reader.received;
    const second = reader.push(bytes.subarray(n));

    expect(first).toEqual({ status: "need-more" });
    expect(held).toBe(n);
    expect(second.status).toBe("done");
  });
});

describe("GreetingReader refuses", () => {
  // [name, expected mechanism, bytes, index of the first bad byte, message fragment]
  const cases: readonly (readonly [string, MechanismName, Uint8Array, number, string])[] = [
    ["ZMTP 1.0 (short length byte)", "NULL", greeting({ first: 0x01 }), 0, "byte 0 was 0x01"],
    [
      "an HTTP request",
      "NULL",
      new TextEncoder().encode(`GET / HTTP/1.1\r\n${"x".repeat(48)}`),
      0,
      "byte 0 was 0x47",
    ],
    [
      "ZMTP 1.0 long form (byte 9 low bit clear)",
      "NULL",
      greeting({ byte9: 0x00 }),
      9,
      "byte 9 was 0x00",
    ],
    ["byte 9 = 0x7e", "NULL", greeting({ byte9: 0x7e }), 9, "peer speaks ZMTP 1.0"],
    ["ZMTP 2.0 (major 1)", "NULL", greeting({ major: 1, minor: 0 }), 10, "major version was 1"],
    ["ZMTP 2.x (major 2)", "NULL", greeting({ major: 2 }), 10, "major version was 2"],
    ["major 0", "CURVE", greeting({ major: 0, mechanism: "CURVE" }), 10, "major version was 0"],
    [
      "NULL when CURVE is expected",
      "CURVE",
      greeting({ mechanism: "NULL" }),
      12,
      'expected CURVE, was "NULL"',
    ],
    [
      "CURVE when NULL is expected",
      "NULL",
      greeting({ mechanism: "CURVE" }),
      12,
      'expected NULL, was "CURVE"',
    ],
    ["PLAIN when CURVE is expected", "CURVE", greeting({ mechanism: "PLAIN" }), 12, 'was "PLAIN"'],
    ["CURVEX (longer name)", "CURVE", greeting({ mechanism: "CURVEX" }), 17, 'was "CURVEX"'],
    ["lower-case curve", "CURVE", greeting({ mechanism: "curve" }), 12, 'was "curve"'],
    [
      "NULL with junk in its padding",
      "NULL",
      greeting({ mechanism: hex(`4e554c4c ${"00".repeat(15)} 58`) }),
      31,
      'was "NULL\\x00',
    ],
  ];

  test.each(cases)("%s, fed whole", (_name, expected, bytes, _index, fragment) => {
    const reader = new GreetingReader(expected);

    const status = reader.push(bytes);

    expect(status.status).toBe("error");
    expect(status.status === "error" && status.message).toStartWith("zmtp: ");
    expect(status.status === "error" && status.message).toContain(fragment);
  });

  test.each(cases)(
    "%s, fed byte by byte: refused at the first bad byte",
    (_n, expected, bytes, index) => {
      const reader = new GreetingReader(expected);

      const statuses = Array.from(bytes, (_, i) => reader.push(bytes.subarray(i, i + 1)).status);

      expect(statuses.indexOf("error")).toBe(index);
      expect(statuses.slice(0, index).every((s) => s === "need-more")).toBe(true);
    },
  );

  test("an error is final: later bytes do not revive the reader", () => {
    const reader = new GreetingReader("NULL");

    const first = reader.push(greeting({ major: 2 }));
    const again = reader.push(encodeGreeting("NULL", false));

    expect(first.status).toBe("error");
    expect(again).toBe(first);
  });

  test("a mismatch found byte by byte names what had arrived", () => {
    const reader = new GreetingReader("CURVE");
    const bytes = greeting({ mechanism: "NULL" });

    reader.push(bytes.subarray(0, 12));
    const status = reader.push(bytes.subarray(12, 13));

    expect(status).toEqual({
      status: "error",
      message: 'zmtp: mechanism mismatch, expected CURVE, was "N…"',
    });
  });
});

describe("GreetingReader leftovers", () => {
  const ready = hex("04 29 05 5245414459");

  test("bytes after the greeting in the same chunk come back as rest", () => {
    const reader = new GreetingReader("NULL");
    const chunk = new Uint8Array([...encodeGreeting("NULL", false), ...ready]);

    const status = reader.push(chunk);

    expect(status.status === "done" && status.rest).toEqual(ready);
    expect(reader.received).toBe(64);
  });

  test("rest after staged delivery holds only the bytes past 64", () => {
    const reader = new GreetingReader("NULL");
    const chunk = new Uint8Array([...encodeGreeting("NULL", false), ...ready]);

    reader.push(chunk.subarray(0, 10));
    reader.push(chunk.subarray(10, 11));
    const status = reader.push(chunk.subarray(11));

    expect(status.status === "done" && status.rest).toEqual(ready);
  });

  test("rest is a view of the chunk, not a copy", () => {
    const reader = new GreetingReader("NULL");
    const chunk = new Uint8Array([...encodeGreeting("NULL", false), ...ready]);

    const status = reader.push(chunk);

    expect(status.status === "done" && status.rest.buffer).toBe(chunk.buffer);
  });

  test("never holds more than 64 bytes", () => {
    const reader = new GreetingReader("NULL");

    reader.push(new Uint8Array([...encodeGreeting("NULL", false), ...new Uint8Array(1000)]));

    expect(reader.received).toBe(64);
  });

  test("after done, a further chunk belongs wholly to the frame stream", () => {
    const reader = new GreetingReader("NULL");
    reader.push(encodeGreeting("NULL", false));

    const status = reader.push(ready);

    expect(status.status === "done" && status.rest).toEqual(ready);
  });
});
