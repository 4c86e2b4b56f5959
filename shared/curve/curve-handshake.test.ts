/**
 * Negative CURVE handshakes that end the way libzmq ends them (research §4.4, §7.4): silent
 * close for anything malformed, ERROR "400"/"500" only for a refused key, and a client that
 * treats a received ERROR as final. Tampering and hand-crafted commands: curve-tamper.test.ts.
 */
import { describe, expect, test } from "bun:test";
import { encodeCommand, encodeError } from "../zmtp/command.ts";
import type { AuthRequest, HandshakeResult } from "../zmtp/mechanism.ts";
import { type CurveRandom, generateKeyPair, systemRandom } from "./box.ts";
import { MAX_HANDSHAKE_COMMAND_BYTES } from "./curve-protocol.ts";
import { CLIENT_KEYS, hex, makeClient, makeServer, only, SERVER_KEYS } from "./testing/fixtures.ts";

function failure(result: HandshakeResult) {
  if (result.status !== "failed") throw new Error(`expected failed, was ${result.status}`);
  return result.failure;
}

/** Run HELLO → WELCOME → INITIATE and return the server's verdict on INITIATE. */
function throughInitiate(server = makeServer(), client = makeClient()) {
  server.start();
  const welcome = only(server.processHandshake(only(client.start())));
  const initiate = only(client.processHandshake(welcome));
  return { client, server, initiate, result: server.processHandshake(initiate) };
}

describe("CurveServer refusals", () => {
  test("a client holding the wrong server key is dropped silently at HELLO", () => {
    const client = makeClient({ serverKey: generateKeyPair().publicKey });
    const result = makeServer().processHandshake(only(client.start()));
    expect(result.send).toEqual([]);
    expect(failure(result)).toMatchObject({ code: "CRYPTOGRAPHIC", fatal: false });
    expect(failure(result).message).toStartWith("curve: HELLO signature");
  });

  test('an unknown client key (400) gets ERROR "400" and a fatal failure naming the key', () => {
    const requests: AuthRequest[] = [];
    const server = makeServer({
      authorize: (request) => {
        requests.push(request);
        return { status: 400, reason: "not on the allow-list" };
      },
      address: "tcp://10.1.2.3:5555",
    });
    const { result } = throughInitiate(server);
    expect(result.send).toEqual([encodeError("400")]);
    expect(hex(result.send[0] as Uint8Array)).toBe("054552524f5203343030");
    const refused = failure(result);
    expect(refused).toMatchObject({ code: "AUTH_REFUSED", fatal: true, errorReason: "400" });
    expect(hex(refused.clientPublicKey as Uint8Array)).toBe(hex(CLIENT_KEYS.publicKey));
    expect(refused.message).toContain("status was 400");
    expect(requests).toHaveLength(1);
    expect(requests[0]?.mechanism).toBe("CURVE");
    expect(requests[0]?.address).toBe("tcp://10.1.2.3:5555");
    expect(hex(requests[0]?.publicKey as Uint8Array)).toBe(hex(CLIENT_KEYS.publicKey));
  });

  test('status 500 sends ERROR "500"', () => {
    const { result } = throughInitiate(makeServer({ authorize: () => ({ status: 500 }) }));
    expect(result.send).toEqual([encodeError("500")]);
    expect(failure(result)).toMatchObject({
      code: "AUTH_REFUSED",
      fatal: true,
      errorReason: "500",
    });
  });

  test("status 300 closes silently and is not fatal", () => {
    const { result } = throughInitiate(makeServer({ authorize: () => ({ status: 300 }) }));
    expect(result.send).toEqual([]);
    expect(failure(result)).toMatchObject({ code: "AUTH_REFUSED", fatal: false });
    expect(failure(result).errorReason).toBeUndefined();
  });

  test("an authorizer that throws counts as 500, and nothing escapes", () => {
    const authorize = () => {
      throw new Error("allow-list unavailable");
    };
    const { result } = throughInitiate(makeServer({ authorize }));
    expect(result.send).toEqual([encodeError("500")]);
    expect(failure(result).message).toContain("allow-list unavailable");
  });

  test("the authorizer is not consulted when the Socket-Type is incompatible", () => {
    let calls = 0;
    const authorize = () => {
      calls++;
      return { status: 200 } as const;
    };
    const server = makeServer({ authorize });
    const { result } = throughInitiate(server, makeClient({ socketType: "REP" }));
    expect(result.send).toEqual([]);
    expect(failure(result).code).toBe("SOCKET_TYPE_MISMATCH");
    expect(calls).toBe(0);
  });

  test("the client's Identity reaches the server's PeerInfo", () => {
    const identity = new TextEncoder().encode("inf-01");
    const { result } = throughInitiate(makeServer(), makeClient({ identity }));
    if (result.status !== "ready") throw new Error("not ready");
    expect(result.peer.identity).toEqual(identity);
    expect(result.peer.metadata.get("socket-type")).toEqual(new TextEncoder().encode("DEALER"));
  });

  test("keys S'/s' and K are generated only after a valid HELLO", () => {
    let draws = 0;
    const counting: CurveRandom = {
      bytes: (n) => {
        draws++;
        return systemRandom.bytes(n);
      },
      keyPair: () => {
        draws++;
        return systemRandom.keyPair();
      },
    };
    const server = makeServer({ random: counting });
    const bad = makeClient({ serverKey: generateKeyPair().publicKey });
    expect(server.processHandshake(only(bad.start())).status).toBe("failed");
    expect(draws).toBe(0);
    const good = makeServer({ random: counting });
    expect(good.processHandshake(only(makeClient().start())).status).toBe("continue");
    expect(draws).toBe(4);
  });

  test("WELCOME is smaller than HELLO (no amplification before authentication)", () => {
    const hello = only(makeClient().start());
    const welcome = only(makeServer().processHandshake(hello));
    expect(welcome.length).toBeLessThan(hello.length);
  });
});

describe("CurveClient and ERROR", () => {
  test("ERROR in place of WELCOME is a fatal failure carrying the reason", () => {
    const client = makeClient();
    client.start();
    const result = client.processHandshake(encodeError("400"));
    expect(result.send).toEqual([]);
    expect(failure(result)).toMatchObject({
      code: "ERROR_RECEIVED",
      fatal: true,
      errorReason: "400",
    });
  });

  test("ERROR in place of READY is a fatal failure carrying the reason", () => {
    const { client, result } = throughInitiate(makeServer({ authorize: () => ({ status: 400 }) }));
    const atClient = client.processHandshake(result.send[0] as Uint8Array);
    expect(failure(atClient)).toMatchObject({
      code: "ERROR_RECEIVED",
      fatal: true,
      errorReason: "400",
    });
  });

  test("an empty ERROR reason is still a valid ERROR", () => {
    const client = makeClient();
    client.start();
    expect(failure(client.processHandshake(encodeError("")))).toMatchObject({ errorReason: "" });
  });

  test.each([
    ["length byte beyond the body", encodeCommand("ERROR", Uint8Array.of(5, 0x34, 0x30, 0x30))],
    ["trailing bytes after the reason", encodeCommand("ERROR", Uint8Array.of(1, 0x34, 0x30))],
    ["no length byte", encodeCommand("ERROR")],
  ])("a malformed ERROR (%s) is a non-fatal protocol failure", (_name, body) => {
    const client = makeClient();
    client.start();
    const result = client.processHandshake(body);
    expect(failure(result)).toMatchObject({ code: "MALFORMED_COMMAND", fatal: false });
    expect(failure(result).errorReason).toBeUndefined();
  });

  test("a server that receives ERROR closes silently", () => {
    const server = makeServer();
    const result = server.processHandshake(encodeError("400"));
    expect(result.send).toEqual([]);
    expect(failure(result).code).toBe("UNEXPECTED_COMMAND");
  });

  test("after READY, ERROR is not a handshake command any more: decode refuses it", () => {
    const { client, result } = throughInitiate();
    expect(client.processHandshake(result.send[0] as Uint8Array).status).toBe("ready");
    expect(client.decode(0x04, encodeError("400")).ok).toBe(false);
  });
});

describe("commands out of order", () => {
  test("server: INITIATE before HELLO", () => {
    const { initiate } = throughInitiate();
    expect(failure(makeServer().processHandshake(initiate)).code).toBe("UNEXPECTED_COMMAND");
  });

  test("server: a second HELLO", () => {
    const client = makeClient();
    const hello = only(client.start());
    const server = makeServer();
    server.processHandshake(hello);
    expect(failure(server.processHandshake(hello)).code).toBe("UNEXPECTED_COMMAND");
  });

  test("server: any command after READY", () => {
    const { server, initiate } = throughInitiate();
    expect(failure(server.processHandshake(initiate)).code).toBe("UNEXPECTED_COMMAND");
  });

  test("server: stays failed once failed", () => {
    const server = makeServer();
    server.processHandshake(new Uint8Array(10));
    expect(failure(server.processHandshake(only(makeClient().start()))).code).toBe(
      "UNEXPECTED_COMMAND",
    );
  });

  test("client: READY in place of WELCOME, WELCOME before start, start twice", () => {
    const { result } = throughInitiate();
    const early = makeClient();
    early.start();
    expect(failure(early.processHandshake(result.send[0] as Uint8Array)).code).toBe(
      "UNEXPECTED_COMMAND",
    );

    const welcome = only(makeServer().processHandshake(only(makeClient().start())));
    expect(failure(makeClient().processHandshake(welcome)).code).toBe("UNEXPECTED_COMMAND");

    const twice = makeClient();
    twice.start();
    expect(failure(twice.start()).code).toBe("UNEXPECTED_COMMAND");
  });

  test("client: a second WELCOME after INITIATE", () => {
    const client = makeClient();
    const welcome = only(makeServer().processHandshake(only(client.start())));
    client.processHandshake(welcome);
    expect(failure(client.processHandshake(welcome)).code).toBe("UNEXPECTED_COMMAND");
  });

  test("messages before the handshake: decode refuses, encode throws", () => {
    const client = makeClient();
    const server = makeServer();
    expect(client.decode(0, new Uint8Array(40)).ok).toBe(false);
    expect(server.decode(0, new Uint8Array(40)).ok).toBe(false);
    expect(() => client.encode(new Uint8Array(1), false, false)).toThrow(/before the handshake/);
    expect(() => server.encode(new Uint8Array(1), false, false)).toThrow(/before the handshake/);
  });
});

describe("sizes and versions", () => {
  test.each([199, 201])("HELLO of %i bytes is refused silently", (size) => {
    const hello = only(makeClient().start());
    const resized = new Uint8Array(size);
    resized.set(hello.subarray(0, Math.min(size, hello.length)));
    const result = makeServer().processHandshake(resized);
    expect(result.send).toEqual([]);
    expect(failure(result).code).toBe("MALFORMED_COMMAND");
  });

  test.each([
    [2, 0],
    [1, 1],
    [0, 0],
  ])("HELLO version %i.%i is refused", (major, minor) => {
    const hello = only(makeClient().start());
    hello[6] = major;
    hello[7] = minor;
    expect(failure(makeServer().processHandshake(hello)).message).toContain(
      `was ${major}.${minor}`,
    );
  });

  test("WELCOME of the wrong size is refused", () => {
    const client = makeClient();
    const welcome = only(makeServer().processHandshake(only(client.start())));
    expect(failure(client.processHandshake(welcome.subarray(0, 167))).code).toBe(
      "MALFORMED_COMMAND",
    );
  });

  test("INITIATE under 257 bytes is refused", () => {
    const { initiate } = throughInitiate();
    const server = makeServer();
    const client = makeClient();
    server.processHandshake(only(client.start()));
    expect(failure(server.processHandshake(initiate.subarray(0, 256))).code).toBe(
      "MALFORMED_COMMAND",
    );
  });

  test("handshake commands over the cap are refused before any work", () => {
    const huge = new Uint8Array(MAX_HANDSHAKE_COMMAND_BYTES + 1);
    huge.set(encodeCommand("INITIATE"));
    expect(failure(makeServer().processHandshake(huge)).message).toContain(`was ${huge.length}`);
    const client = makeClient();
    client.start();
    expect(failure(client.processHandshake(huge)).code).toBe("MALFORMED_COMMAND");
  });

  test("READY under 30 bytes is refused", () => {
    const { client, result } = throughInitiate();
    const ready = result.send[0] as Uint8Array;
    expect(failure(client.processHandshake(ready.subarray(0, 29))).code).toBe("MALFORMED_COMMAND");
  });

  test("constructors refuse keys of the wrong length and weak server keys", () => {
    expect(() => makeClient({ serverKey: new Uint8Array(31) })).toThrow(
      /server public key must be 32 bytes, was 31/,
    );
    expect(() => makeClient({ serverKey: new Uint8Array(32) })).toThrow(/low-order/);
    expect(() => makeServer({ secretKey: new Uint8Array(33) })).toThrow(/was 33/);
    expect(() => makeServer({ publicKey: SERVER_KEYS.publicKey })).not.toThrow();
  });
});
