/**
 * Mutual authentication over real loopback TCP (docs/EA-LINK.md §6.1, §6.2): the gateway proves
 * the secret first, the EA (the fake terminal, the model of the EA) says nothing about its
 * account to a listener that cannot, a peer without the secret cannot take over the session,
 * recorded frames do not replay, and the secret never crosses the wire or reaches a log.
 */
import { afterEach, describe, expect, test } from "bun:test";
import type { Socket } from "bun";
import { eventually } from "../../../scripts/harness/eventually.ts";
import { RawClient } from "../../../shared/testing/raw-tcp.ts";
import { encodeOutbound, type WireObject } from "./framing.ts";
import {
  cleanupRigs,
  connected,
  framesIn,
  onCleanup,
  reconnected,
  SECRET,
  startFake,
  startRig,
} from "./testing/rig.ts";

afterEach(cleanupRigs);

const OTHER_SECRET = `${SECRET.slice(0, -8)}00000000`;
const text = (chunks: readonly Uint8Array[]) => Buffer.concat(chunks).toString("latin1");
const sentFrames = (fake: { bytesSent: Uint8Array[] }) => framesIn(Buffer.concat(fake.bytesSent));
const receivedFrames = (fake: { bytesReceived: Uint8Array[] }) =>
  framesIn(Buffer.concat(fake.bytesReceived));

/** A listener on the EA port while the gateway is down: records what it gets, answers `reply`. */
function impostor(reply: (frame: Record<string, unknown>) => Uint8Array | undefined) {
  const received: Uint8Array[] = [];
  const server = Bun.listen<undefined>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      binaryType: "uint8array",
      data(socket: Socket<undefined>, chunk: Uint8Array) {
        received.push(chunk);
        for (const frame of framesIn(chunk)) {
          const answer = reply(frame);
          if (answer !== undefined) socket.write(answer);
        }
      },
    },
  });
  onCleanup(() => server.stop(true));
  return { port: server.port, received };
}

describe("the handshake", () => {
  test("AUTH, CHALLENGE, HELLO, HELLO_ACK; the secret is on neither the wire nor in a log", async () => {
    const rig = await startRig();
    expect(rig.fake.sentTypes.slice(0, 2)).toEqual(["AUTH", "HELLO"]);
    expect(receivedFrames(rig.fake).map((frame) => frame["type"])).toEqual([
      "CHALLENGE",
      "HELLO_ACK",
    ]);
    expect(text([...rig.fake.bytesSent, ...rig.fake.bytesReceived])).not.toContain(SECRET);
    expect(JSON.stringify(rig.logs)).not.toContain(SECRET);
    expect(rig.backend.hello()?.login).toBe(rig.fake.identity.login);
  });

  test("an EA with another secret rejects the gateway's proof and says nothing about its account", async () => {
    const rig = await startRig({ connect: false, fake: { secret: OTHER_SECRET } });
    rig.fake.start();
    await eventually(() => rig.fake.drops.includes("gateway proof did not verify"));
    expect(rig.fake.sentTypes).toEqual(["AUTH"]);
    expect(rig.backend.hello()).toBeUndefined();
    expect(rig.backend.link().state).toBe("DOWN");
    await eventually(() => rig.backend.handshakeFailure()?.includes("closed after CHALLENGE"));
    expect(rig.logs.some((l) => l.message.includes("closed after CHALLENGE"))).toBe(true);
    // It keeps trying every 5 s, and its journal says why once, not per attempt
    for (let attempt = 0; attempt < 3; attempt++) {
      const drops = rig.fake.drops.length;
      rig.fakeClock.advance(5000);
      await eventually(() => rig.fake.drops.length > drops);
    }
    expect(rig.fake.sentTypes.every((type) => type === "AUTH")).toBe(true);
    expect(
      rig.fake.log.filter((line) => line.includes("did not prove the shared secret")),
    ).toHaveLength(1);
    // Fixed on the EA's side: the next attempt gets in
    const sessions = rig.fake.sessions;
    rig.fake.secret = SECRET;
    await reconnected(rig, sessions);
  });
});

describe("an impostor on the EA port", () => {
  test("a listener without the secret gets only the EA's nonce", async () => {
    const listener = impostor((frame) =>
      frame["type"] === "AUTH"
        ? encodeOutbound({ type: "CHALLENGE", gw_nonce: "1".repeat(64), gw_proof: "2".repeat(64) })
        : undefined,
    );
    const rig = await startRig({ connect: false });
    const fake = await startFake(listener.port, rig.fakeClock, { fake: { reconnect: false } });
    fake.start();
    await eventually(() => fake.drops.length > 0);
    expect(fake.drops).toEqual(["gateway proof did not verify"]);
    const frames = framesIn(Buffer.concat(listener.received));
    expect(frames).toHaveLength(1);
    expect(Object.keys(frames[0] as object).sort()).toEqual(["ea_nonce", "proto", "type"]);
    expect(text(listener.received)).not.toContain(SECRET);
  });

  test("a CHALLENGE recorded from a real session does not convince the EA again", async () => {
    const rig = await startRig({ fake: { reconnect: false } });
    const recorded = receivedFrames(rig.fake)[0];
    expect(recorded).toMatchObject({ type: "CHALLENGE" });
    const listener = impostor((frame) =>
      frame["type"] === "AUTH" ? encodeOutbound(recorded as WireObject) : undefined,
    );
    const fake = await startFake(listener.port, rig.fakeClock, { fake: { reconnect: false } });
    fake.start();
    await eventually(() => fake.drops.length > 0);
    expect(fake.drops).toEqual(["gateway proof did not verify"]);
    expect(fake.sentTypes).toEqual(["AUTH"]);
  });
});

describe("a peer without the secret", () => {
  test("a recorded AUTH and HELLO replayed get BAD_PROOF, and the EA's session stays", async () => {
    const rig = await startRig();
    const [auth, hello] = sentFrames(rig.fake);
    const client = await RawClient.connect(rig.port);
    onCleanup(() => client.destroy());
    client.write(encodeOutbound(auth as WireObject));
    await eventually(() => framesIn(client.bytes).length === 1);
    // The gateway's fresh nonce makes the recorded proof worthless
    client.write(encodeOutbound(hello as WireObject));
    expect(await client.waitClosed(5000)).toBe(true);
    expect(framesIn(client.bytes)[1]).toEqual({
      type: "HELLO_ACK",
      ok: false,
      reason: "BAD_PROOF",
    });
    expect(rig.fake.state).toBe("READY");
    await connected(rig);
    expect(rig.logs.some((l) => l.fields?.["reason"] === "BAD_PROOF")).toBe(true);
  });

  test("an EA of protocol 1 is told PROTO_UNSUPPORTED, and its token is neither judged nor logged", async () => {
    const rig = await startRig({ connect: false });
    const client = await RawClient.connect(rig.port);
    onCleanup(() => client.destroy());
    const token = "old-bearer-token-0123456789abcdef";
    client.write(encodeOutbound({ type: "HELLO", proto: 1, token, login: 5 }));
    expect(await client.waitClosed(5000)).toBe(true);
    expect(framesIn(client.bytes)).toEqual([
      { type: "HELLO_ACK", ok: false, reason: "PROTO_UNSUPPORTED" },
    ]);
    expect(JSON.stringify(rig.logs)).not.toContain(token);
  });
});
