/**
 * NULL mechanism tests (RFC 23 §2.5, research §2.4, §4.3, §4.4): two mechanisms handshake through
 * their command bodies and through the full wire path; mismatches, ERROR and bad commands fail
 * without sending anything; messages map to and from outer frame flags.
 */
import { describe, expect, test } from "bun:test";
import { ProtocolError } from "../errors.ts";
import { encodeCommand, encodeError, encodePing, encodeReady } from "./command.ts";
import { encodeFrame, FrameDecoder } from "./frame.ts";
import { encodeGreeting, GreetingReader } from "./greeting.ts";
import { FrameFlag, type HandshakeResult, type SocketType } from "./mechanism.ts";
import { encodeMetadata, socketMetadata } from "./metadata.ts";
import { NullMechanism } from "./null-mechanism.ts";

function hex(text: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.fromHex(text.replace(/\s+/g, ""));
}

const text = (s: string) => new TextEncoder().encode(s);

/** Run both sides: each start()s, then each processes every command the other sent. */
function handshake(a: NullMechanism, b: NullMechanism): [HandshakeResult, HandshakeResult] {
  const fromA = a.start();
  const fromB = b.start();
  let lastA: HandshakeResult = fromA;
  let lastB: HandshakeResult = fromB;
  for (const body of fromB.send) lastA = a.processHandshake(body);
  for (const body of fromA.send) lastB = b.processHandshake(body);
  return [lastA, lastB];
}

function ready(socketType: SocketType, identity?: Uint8Array): NullMechanism {
  const mechanism = new NullMechanism(
    identity === undefined ? { socketType } : { socketType, identity },
  );
  const peerType: SocketType = socketType === "ROUTER" ? "DEALER" : "ROUTER";
  mechanism.start();
  mechanism.processHandshake(encodeReady(socketMetadata(peerType)));
  return mechanism;
}

describe("NullMechanism READY", () => {
  test("a DEALER READY is 41 bytes, 43 on the wire (libzmq, research §2.4)", () => {
    const result = new NullMechanism({ socketType: "DEALER" }).start();
    const body = result.send[0] ?? new Uint8Array(0);

    expect(result.status).toBe("continue");
    expect(result.send.length).toBe(1);
    expect(body.length).toBe(41);
    expect(encodeFrame(FrameFlag.COMMAND, body)).toEqual(
      hex(
        "04 29 05 5245414459 0b 536f636b65742d54797065 00000006 4445414c4552 08 4964656e74697479 00000000",
      ),
    );
  });

  test("start is idempotent: READY goes out once", () => {
    const mechanism = new NullMechanism({ socketType: "REQ" });

    const first = mechanism.start();
    const second = mechanism.start();

    expect(first.send.length).toBe(1);
    expect(second).toEqual({ status: "continue", send: [] });
  });

  test.each([
    ["256 bytes", new Uint8Array(256).fill(65)],
    ["a leading 0x00", new Uint8Array([0, 1])],
  ])("refuses an identity of %s up front", (_name, identity) => {
    expect(() => new NullMechanism({ socketType: "DEALER", identity })).toThrow(RangeError);
  });

  test("name and as-server", () => {
    const server = new NullMechanism({ socketType: "ROUTER", asServer: true });

    expect(server.name).toBe("NULL");
    expect(server.asServer).toBe(true);
    expect(new NullMechanism({ socketType: "DEALER" }).asServer).toBe(false);
  });
});

describe("NullMechanism handshake", () => {
  test("DEALER and ROUTER reach ready against each other", () => {
    const dealer = new NullMechanism({ socketType: "DEALER", identity: text("client-1") });
    const router = new NullMechanism({ socketType: "ROUTER" });

    const [atDealer, atRouter] = handshake(dealer, router);

    expect(atDealer.status).toBe("ready");
    expect(atRouter.status).toBe("ready");
    expect(atDealer.send).toEqual([]);
    expect(atDealer.status === "ready" && atDealer.peer.socketType).toBe("ROUTER");
    expect(atDealer.status === "ready" && atDealer.peer.identity).toEqual(new Uint8Array(0));
    expect(atRouter.status === "ready" && atRouter.peer.socketType).toBe("DEALER");
    expect(atRouter.status === "ready" && atRouter.peer.identity).toEqual(text("client-1"));
    expect(atRouter.status === "ready" && [...atRouter.peer.metadata.keys()]).toEqual([
      "socket-type",
      "identity",
    ]);
  });

  test.each([
    ["REQ", "REP", "ready"],
    ["REQ", "ROUTER", "ready"],
    ["DEALER", "REP", "ready"],
    ["DEALER", "DEALER", "ready"],
    ["REQ", "DEALER", "failed"],
    ["REP", "ROUTER", "failed"],
    ["REQ", "REQ", "failed"],
  ] as const)("%s with %s → %s on both sides", (a, b, status) => {
    const [atA, atB] = handshake(
      new NullMechanism({ socketType: a }),
      new NullMechanism({ socketType: b }),
    );

    expect(atA.status).toBe(status);
    expect(atB.status).toBe(status);
    if (atA.status === "failed") {
      // libzmq closes silently: no ERROR (research §2.4)
      expect(atA.send).toEqual([]);
      expect(atA.failure).toMatchObject({ code: "SOCKET_TYPE_MISMATCH", fatal: false });
    }
  });

  test("the peer's READY may arrive before start(); ours still goes out exactly once", () => {
    const router = new NullMechanism({ socketType: "ROUTER" });

    const early = router.processHandshake(encodeReady(socketMetadata("DEALER")));
    const started = router.start();

    expect(early.status).toBe("ready");
    expect(early.send).toEqual([encodeReady(socketMetadata("ROUTER"))]);
    expect(started.status).toBe("ready");
    expect(started.send).toEqual([]);
  });

  test("the full wire path: greeting, then READY frames, fed byte by byte", () => {
    const sides = (["DEALER", "ROUTER"] as const).map((socketType) => ({
      mechanism: new NullMechanism({ socketType }),
      greeting: new GreetingReader("NULL"),
      decoder: new FrameDecoder({ maxFrameSize: 64 * 1024 }),
      results: [] as HandshakeResult[],
    }));
    const wires = sides.map(
      (side) =>
        new Uint8Array([
          ...encodeGreeting("NULL", false),
          ...side.mechanism
            .start()
            .send.flatMap((body) => [...encodeFrame(FrameFlag.COMMAND, body)]),
        ]),
    );

    sides.forEach((side, i) => {
      const wire = wires[1 - i] as Uint8Array;
      for (let k = 0; k < wire.length; k++) {
        const byte = wire.subarray(k, k + 1);
        const status = side.greeting.push(byte);
        if (status.status !== "done") continue;
        side.decoder.push(status.rest, (flags, body) => {
          expect(flags).toBe(FrameFlag.COMMAND);
          side.results.push(side.mechanism.processHandshake(body));
        });
      }
    });

    expect(sides.map((s) => s.results.map((r) => r.status))).toEqual([["ready"], ["ready"]]);
  });
});

describe("NullMechanism failures send nothing", () => {
  test.each([
    ["ERROR 400", encodeError("400"), "ERROR_RECEIVED"],
    ["ERROR whose length overruns", hex("05 4552524f52 05 343030"), "MALFORMED_COMMAND"],
    ["ERROR with no reason length", encodeCommand("ERROR"), "MALFORMED_COMMAND"],
    ["an empty body", new Uint8Array(0), "MALFORMED_COMMAND"],
    ["a name that overruns", hex("09 5245414459"), "MALFORMED_COMMAND"],
    ["a name with a digit", hex("05 5245414431"), "MALFORMED_COMMAND"],
    ["PING during the handshake", encodePing(10), "UNEXPECTED_COMMAND"],
    ["HELLO (a CURVE command)", encodeCommand("HELLO", new Uint8Array(194)), "UNEXPECTED_COMMAND"],
    ["lower-case ready", encodeCommand("ready", socketMetadata("ROUTER")), "UNEXPECTED_COMMAND"],
    ["READY with truncated metadata", encodeReady(hex("0b 536f636b6574")), "INVALID_METADATA"],
    ["READY with a trailing byte", encodeReady(hex("01 41 00000000 ff")), "INVALID_METADATA"],
    ["READY without Socket-Type", encodeReady(new Uint8Array(0)), "INVALID_METADATA"],
    [
      "READY with two Socket-Types",
      encodeReady(
        encodeMetadata([
          ["Socket-Type", text("ROUTER")],
          ["Socket-Type", text("ROUTER")],
        ]),
      ),
      "INVALID_METADATA",
    ],
    [
      "READY with a reserved Identity",
      encodeReady(
        encodeMetadata([
          ["Socket-Type", text("ROUTER")],
          ["Identity", hex("0001")],
        ]),
      ),
      "INVALID_METADATA",
    ],
    [
      "READY from a PUB",
      encodeReady(encodeMetadata([["Socket-Type", text("PUB")]])),
      "SOCKET_TYPE_MISMATCH",
    ],
  ] as const)("%s → %s", (_name, body, code) => {
    const mechanism = new NullMechanism({ socketType: "DEALER" });
    mechanism.start();

    const result = mechanism.processHandshake(body);

    expect(result.status).toBe("failed");
    expect(result.send).toEqual([]);
    expect(result.status === "failed" && result.failure.code).toBe(code);
    expect(result.status === "failed" && result.failure.message).toStartWith("zmtp: ");
    expect(result.status === "failed" && result.failure.fatal).toBe(code === "ERROR_RECEIVED");
  });

  test("ERROR carries its reason", () => {
    const mechanism = new NullMechanism({ socketType: "DEALER" });

    const result = mechanism.processHandshake(encodeError("500"));

    expect(result.status === "failed" && result.failure).toEqual({
      code: "ERROR_RECEIVED",
      message: 'zmtp: peer sent ERROR "500"',
      errorReason: "500",
      fatal: true,
    });
  });

  test("once failed, it stays failed", () => {
    const mechanism = new NullMechanism({ socketType: "DEALER" });
    const failed = mechanism.processHandshake(encodePing(1));

    const later = mechanism.processHandshake(encodeReady(socketMetadata("ROUTER")));
    const restarted = mechanism.start();

    expect(later).toEqual(failed);
    expect(restarted).toEqual(failed);
  });

  test("a handshake command after ready is unexpected", () => {
    const mechanism = ready("DEALER");

    const result = mechanism.processHandshake(encodeReady(socketMetadata("ROUTER")));

    expect(result.status === "failed" && result.failure.code).toBe("UNEXPECTED_COMMAND");
  });

  test("never throws on seeded random bodies", () => {
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed >> 7;
    };
    const statuses = new Set<string>();
    for (let round = 0; round < 300; round++) {
      const body = Uint8Array.from({ length: random() % 64 }, () => random() & 0xff);
      // Half the bodies start like READY so the metadata parser sees garbage too
      if (round % 2 === 0) body.set(hex("05 5245414459").subarray(0, body.length));
      const mechanism = new NullMechanism({ socketType: "ROUTER" });
      statuses.add(mechanism.processHandshake(body).status);
    }

    expect([...statuses]).toEqual(["failed"]);
  });
});

describe("NullMechanism messages", () => {
  test.each([
    [false, false, 0x00],
    [true, false, FrameFlag.MORE],
    [false, true, FrameFlag.COMMAND],
  ])("encode more=%p command=%p → flags %i, body not copied", (more, command, flags) => {
    const mechanism = ready("DEALER");
    const data = text("hello");

    const frame = mechanism.encode(data, more, command);
    const decoded = ready("ROUTER").decode(frame.flags, frame.body);

    expect(frame.flags).toBe(flags);
    expect(frame.body).toBe(data);
    expect(decoded).toEqual({ ok: true, data, more, command });
  });

  test("round trip through the frame codec", () => {
    const sender = ready("DEALER");
    const receiver = ready("ROUTER");
    const parts = [text("a"), new Uint8Array(300).fill(1), new Uint8Array(0)];
    const wire = parts.flatMap((part, i) => {
      const frame = sender.encode(part, i < parts.length - 1, false);
      return [...encodeFrame(frame.flags, frame.body)];
    });
    const received: { data: Uint8Array; more: boolean }[] = [];

    new FrameDecoder({ maxFrameSize: 1024 }).push(new Uint8Array(wire), (flags, body) => {
      const part = receiver.decode(flags, body);
      if (part.ok) received.push({ data: part.data.slice(), more: part.more });
    });

    expect(received).toEqual(parts.map((data, i) => ({ data, more: i < parts.length - 1 })));
  });

  test.each([
    ["a long frame", FrameFlag.LONG, true],
    ["a long command", FrameFlag.LONG | FrameFlag.COMMAND, true],
    ["MORE on a command", FrameFlag.MORE | FrameFlag.COMMAND, false],
    ["a reserved bit", 0x08, false],
  ])("decode %s → ok %p", (_name, flags, ok) => {
    expect(ready("DEALER").decode(flags, hex("01")).ok).toBe(ok);
  });

  test("nothing passes before the handshake completes", () => {
    const mechanism = new NullMechanism({ socketType: "DEALER" });
    mechanism.start();

    expect(() => mechanism.encode(text("x"), false, false)).toThrow(ProtocolError);
    expect(mechanism.decode(0, text("x")).ok).toBe(false);
  });

  test("encode refuses MORE on a command", () => {
    expect(() => ready("DEALER").encode(encodePing(1), true, true)).toThrow(ProtocolError);
  });
});
