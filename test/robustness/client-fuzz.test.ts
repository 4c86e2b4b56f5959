/**
 * The other direction of the bounded fuzz (research §7.3, "CurveClient.onCommand"): our DEALERs
 * against a hostile server that runs a real CurveServer but mutates, per connection, its
 * WELCOME, its READY, or the MESSAGE frames that follow. Invariants: nothing throws or rejects
 * unhandled; only plaintext the server really sealed is delivered; every failure is non-fatal
 * (only a real ERROR may stop a DEALER), so the DEALERs keep reconnecting; close() leaves no
 * timer behind.
 */
import { afterEach, expect, test } from "bun:test";
import type { Socket, TCPSocketListener } from "bun";
import { CurveServer } from "../../shared/curve/curve-server.ts";
import { DealerSocket } from "../../shared/net/index.ts";
import { TrackingClock } from "../../shared/testing/tracking-clock.ts";
import { encodeFrame, FrameDecoder } from "../../shared/zmtp/frame.ts";
import { encodeGreeting } from "../../shared/zmtp/greeting.ts";
import { FrameFlag } from "../../shared/zmtp/mechanism.ts";
import {
  Cleanup,
  type CurveKeys,
  curveClient,
  curveKeys,
  decode,
  EventLog,
  text,
} from "../interop/support.ts";
import { mutate, Prng } from "./mutate.ts";

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

const SEED = 0x0c11_e47;
const CONNECTIONS = 600;
const DEALERS = 12;
const SEALED = new Set(["first", "second"]);

interface Connection {
  readonly index: number;
  readonly decoder: FrameDecoder;
  readonly server: CurveServer;
  greetingBytes: number;
  stage: "hello" | "initiate" | "done";
}

/** What the hostile server corrupts on a connection, by its index. */
const TARGETS = ["WELCOME", "READY", "MESSAGE"] as const;

function hostileServer(serverKeys: CurveKeys): {
  listener: TCPSocketListener<Connection>;
  accepted: () => number;
} {
  let accepted = 0;
  const listener = Bun.listen<Connection>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      binaryType: "uint8array",
      open(socket) {
        socket.data = {
          index: accepted++,
          decoder: new FrameDecoder({ maxFrameSize: 64 * 1024 }),
          server: new CurveServer({
            socketType: "ROUTER",
            publicKey: serverKeys.publicKey,
            secretKey: serverKeys.secretKey,
            authorize: () => ({ status: 200 }),
            address: "fuzz",
          }),
          greetingBytes: 0,
          stage: "hello",
        };
        socket.write(encodeGreeting("CURVE", true));
      },
      data(socket, chunk) {
        const state = socket.data;
        const take = Math.min(64 - state.greetingBytes, chunk.length);
        state.greetingBytes += take;
        try {
          state.decoder.push(chunk.subarray(take), (_flags, body) => {
            onCommand(socket, body.slice());
          });
        } catch {
          socket.end();
        }
      },
    },
  });
  return { listener, accepted: () => accepted };
}

function onCommand(socket: Socket<Connection>, body: Uint8Array): void {
  const state = socket.data;
  const rng = new Prng((SEED + state.index * 7919) >>> 0);
  const target = TARGETS[state.index % TARGETS.length];
  if (state.stage === "done") return;
  const result = state.server.processHandshake(body);
  if (result.status === "failed" || result.send[0] === undefined) {
    socket.end();
    return;
  }
  const reply = encodeFrame(FrameFlag.COMMAND, result.send[0]);
  if (state.stage === "hello") {
    state.stage = "initiate";
    socket.write(target === "WELCOME" ? corrupt(reply, rng) : reply);
    return;
  }
  state.stage = "done";
  const messages = [...SEALED].map((payload) => {
    const message = state.server.encode(text(payload), false, false);
    return encodeFrame(message.flags, message.body);
  });
  const tail = Buffer.concat(messages);
  socket.write(
    Buffer.concat([
      target === "READY" ? corrupt(reply, rng) : reply,
      target === "MESSAGE" ? corrupt(tail, rng, [0, (messages[0] as Uint8Array).length]) : tail,
    ]),
  );
  // Hang up soon after, so the DEALER reconnects and meets the next mutation
  setTimeout(() => socket.end(), 20);
}

function corrupt(bytes: Uint8Array, rng: Prng, frameOffsets: number[] = [0]): Uint8Array {
  for (;;) {
    const mutated = mutate({ bytes, frameOffsets }, rng).bytes;
    if (mutated.length !== bytes.length || mutated.some((byte, i) => byte !== bytes[i])) {
      return mutated;
    }
  }
}

test("our DEALERs survive 600 connections to a server that mutates its handshake and messages", async () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (error: unknown): void => {
    unhandled.push(error);
  };
  process.on("unhandledRejection", onUnhandled);
  process.on("uncaughtException", onUnhandled);
  try {
    const serverKeys = curveKeys();
    const { listener, accepted } = hostileServer(serverKeys);
    cleanup.add({ close: () => listener.stop(true) });
    const clock = new TrackingClock();
    const delivered: string[] = [];
    const dealers = Array.from({ length: DEALERS }, () => {
      const dealer = new DealerSocket({
        security: curveClient(curveKeys(), serverKeys.publicKey),
        clock,
        handshakeTimeoutMs: 200,
        reconnectIntervalMs: 1,
        reconnectIntervalMaxMs: 5,
      });
      dealer.onMessage((parts) => delivered.push(parts.map(decode).join("|")));
      dealer.connect(`tcp://127.0.0.1:${listener.port}`);
      return { dealer, log: new EventLog(dealer) };
    });

    const deadline = performance.now() + 20_000;
    while (accepted() < CONNECTIONS && performance.now() < deadline) await Bun.sleep(20);
    // each DEALER kept coming back after its failures: none gave up
    const fewestConnections = Math.min(...dealers.map(({ log }) => log.count("connected")));
    for (const { dealer } of dealers) await dealer.close();

    const failures = dealers.flatMap(({ log }) => log.of("handshake_failed"));
    expect(accepted()).toBeGreaterThanOrEqual(CONNECTIONS);
    expect(delivered.filter((payload) => !SEALED.has(payload))).toEqual([]);
    expect(delivered.length).toBeGreaterThan(0);
    expect(failures.length).toBeGreaterThan(CONNECTIONS / 3);
    expect(failures.filter((f) => f.fatal && f.code !== "ERROR_RECEIVED")).toEqual([]);
    expect(fewestConnections).toBeGreaterThanOrEqual(10);
    expect(clock.liveTimers).toBe(0);
    expect(unhandled).toEqual([]);
  } finally {
    process.off("unhandledRejection", onUnhandled);
    process.off("uncaughtException", onUnhandled);
  }
}, 30_000);
