/**
 * Where the CURVE hot path spends its time, step by step, in ONE process: tweetnacl's own
 * secretbox (the floor for the crypto), our box.ts wrappers, the MESSAGE codec, and a
 * DEALER⇄ROUTER echo over loopback with raw TCP, NULL and CURVE. The difference between the
 * CURVE and NULL echoes should be close to 2 × (encode + decode); anything beyond that is glue.
 *
 *   bun scripts/bench/curve-path.ts [--quick]
 *
 * Not a test and not the transport benchmark (scripts/bench-transport.ts measures across
 * processes against libzmq). Figures are machine-dependent and never asserted.
 */
import type { Socket } from "bun";
import nacl from "tweetnacl";
import { generateKeyPair, open, precompute, randomBytes, seal } from "../../shared/curve/box.ts";
import { CurveMessageCodec } from "../../shared/curve/curve-message.ts";
import { NONCE_PREFIX } from "../../shared/curve/curve-protocol.ts";
import { DealerSocket, RouterSocket, type SocketOptions } from "../../shared/net/index.ts";
import { formatMicros, percentile } from "./stats.ts";

const quick = process.argv.includes("--quick");
const SIZES = [100, 1024] as const;
const OPS = quick ? 5_000 : 50_000;
const ROUND_TRIPS = quick ? 2_000 : 20_000;
const WARM_UP = quick ? 500 : 2_000;

const OP_WARM_UP = 2_000;
const DECODE_BATCH = 100;

/** Mean ns per call of `operation(i)` over `count` calls after OP_WARM_UP; i never repeats. */
function timeOps(count: number, operation: (i: number) => void): number {
  for (let i = 0; i < OP_WARM_UP; i++) operation(i);
  const start = Bun.nanoseconds();
  for (let i = OP_WARM_UP; i < OP_WARM_UP + count; i++) operation(i);
  return (Bun.nanoseconds() - start) / count;
}

function row(name: string, nanoseconds: number): void {
  console.log(`  ${name.padEnd(44)} ${(nanoseconds / 1000).toFixed(2).padStart(8)} µs`);
}

function codecPair(key: Uint8Array): { client: CurveMessageCodec; server: CurveMessageCodec } {
  return {
    client: new CurveMessageCodec({
      key,
      sendPrefix: NONCE_PREFIX.MESSAGE_FROM_CLIENT,
      receivePrefix: NONCE_PREFIX.MESSAGE_FROM_SERVER,
      nextSendNonce: 3n,
      lastReceivedNonce: 1n,
    }),
    server: new CurveMessageCodec({
      key,
      sendPrefix: NONCE_PREFIX.MESSAGE_FROM_SERVER,
      receivePrefix: NONCE_PREFIX.MESSAGE_FROM_CLIENT,
      nextSendNonce: 2n,
      lastReceivedNonce: 2n,
    }),
  };
}

function benchCrypto(): Map<number, number> {
  console.log(`crypto per call (${OPS} calls each)`);
  const key = precompute(generateKeyPair().publicKey, generateKeyPair().secretKey);
  const nonce = randomBytes(24);
  const perRoundTrip = new Map<number, number>();
  for (const size of SIZES) {
    const message = randomBytes(size);
    const box = seal(message, nonce, key);
    row(
      `tweetnacl secretbox ${size} B`,
      timeOps(OPS, () => nacl.secretbox(message, nonce, key)),
    );
    row(
      `tweetnacl secretbox.open ${size} B`,
      timeOps(OPS, () => nacl.secretbox.open(box, nonce, key)),
    );
    row(
      `box.ts seal ${size} B`,
      timeOps(OPS, () => seal(message, nonce, key)),
    );
    row(
      `box.ts open ${size} B`,
      timeOps(OPS, () => open(box, nonce, key)),
    );

    // Decoding needs a fresh, increasing nonce per call: encode a small batch (kept in cache,
    // like a body that just arrived), then time decoding it; repeat
    const { client, server } = codecPair(key);
    const encode = timeOps(OPS, () => client.encode(message, false, false));
    const sender = codecPair(key).client;
    const batch: Uint8Array[] = [];
    let decodeNanoseconds = 0;
    for (let done = -OP_WARM_UP; done < OPS; done += DECODE_BATCH) {
      batch.length = 0;
      for (let i = 0; i < DECODE_BATCH; i++) batch.push(sender.encode(message, false, false).body);
      const start = Bun.nanoseconds();
      for (const body of batch) if (!server.decode(body).ok) throw new Error("decode failed");
      if (done >= 0) decodeNanoseconds += Bun.nanoseconds() - start;
    }
    const decode = decodeNanoseconds / OPS;
    row(`codec encode ${size} B`, encode);
    row(`codec decode ${size} B`, decode);
    perRoundTrip.set(size, 2 * (encode + decode));
  }
  return perRoundTrip;
}

interface EchoResult {
  readonly p50: number;
  readonly p99: number;
}

/** Ping-pong `ROUND_TRIPS` times; `send` starts a round trip, `onReply` must be called back. */
async function pingPong(
  start: (onReply: () => void) => (payload: Uint8Array) => void,
  size: number,
): Promise<EchoResult> {
  const payload = randomBytes(size);
  const samples = new Float64Array(ROUND_TRIPS);
  let index = -WARM_UP;
  let sentAt = 0;
  const { promise, resolve } = Promise.withResolvers<void>();
  const send = start(() => {
    const now = Bun.nanoseconds();
    if (index >= 0) samples[index] = (now - sentAt) / 1000;
    index += 1;
    if (index >= ROUND_TRIPS) {
      resolve();
      return;
    }
    sentAt = Bun.nanoseconds();
    send(payload);
  });
  sentAt = Bun.nanoseconds();
  send(payload);
  const timeout = setTimeout(() => resolve(), 60_000);
  await promise;
  clearTimeout(timeout);
  if (index < ROUND_TRIPS) throw new Error(`echo stalled after ${index} round trips`);
  samples.sort();
  return { p50: percentile(samples, 0.5), p99: percentile(samples, 0.99) };
}

async function rawTcpEcho(size: number): Promise<EchoResult> {
  const server = Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      binaryType: "uint8array",
      data(socket, chunk) {
        socket.write(chunk);
      },
    },
  });
  let received = 0;
  let reply: () => void = () => {};
  const client: Socket<undefined> = await Bun.connect({
    hostname: "127.0.0.1",
    port: server.port,
    socket: {
      binaryType: "uint8array",
      data(_socket, chunk) {
        received += chunk.length;
        if (received >= size) {
          received -= size;
          reply();
        }
      },
    },
  });
  client.setNoDelay(true);
  try {
    return await pingPong((onReply) => {
      reply = onReply;
      return (payload) => client.write(payload);
    }, size);
  } finally {
    client.end();
    server.stop(true);
  }
}

async function socketEcho(mechanism: "NULL" | "CURVE", size: number): Promise<EchoResult> {
  const serverKeys = generateKeyPair();
  const clientKeys = generateKeyPair();
  const serverSecurity: SocketOptions["security"] =
    mechanism === "NULL"
      ? { mechanism }
      : {
          mechanism,
          role: "server",
          publicKey: serverKeys.publicKey,
          secretKey: serverKeys.secretKey,
          authorize: () => ({ status: 200 }),
        };
  const clientSecurity: SocketOptions["security"] =
    mechanism === "NULL"
      ? { mechanism }
      : {
          mechanism,
          role: "client",
          publicKey: clientKeys.publicKey,
          secretKey: clientKeys.secretKey,
          serverKey: serverKeys.publicKey,
        };
  const router = new RouterSocket({ security: serverSecurity });
  const dealer = new DealerSocket({ security: clientSecurity });
  try {
    router.onMessage((message) => router.send(message.routingId, message.parts));
    dealer.connect(await router.bind("tcp://127.0.0.1:0"));
    for (let i = 0; i < 500 && dealer.connectedPeers === 0; i++) await Bun.sleep(10);
    if (dealer.connectedPeers === 0) throw new Error(`${mechanism} handshake did not complete`);
    return await pingPong((onReply) => {
      dealer.onMessage(onReply);
      return (payload) => dealer.send([payload]);
    }, size);
  } finally {
    await dealer.close();
    await router.close();
  }
}

console.log(`curve-path: bun ${Bun.version}, ${quick ? "quick" : "full"} run`);
const cryptoPerRoundTrip = benchCrypto();
console.log(`in-process echo, ${ROUND_TRIPS} round trips after ${WARM_UP} warm-up (µs)`);
for (const size of SIZES) {
  const raw = await rawTcpEcho(size);
  const none = await socketEcho("NULL", size);
  const curve = await socketEcho("CURVE", size);
  const crypto = (cryptoPerRoundTrip.get(size) ?? Number.NaN) / 1000;
  console.log(
    `  ${String(size).padStart(4)} B  raw TCP p50 ${formatMicros(raw.p50)}  NULL p50 ${formatMicros(none.p50)} p99 ${formatMicros(none.p99)}  CURVE p50 ${formatMicros(curve.p50)} p99 ${formatMicros(curve.p99)}`,
  );
  console.log(
    `          CURVE − NULL p50 = ${formatMicros(curve.p50 - none.p50)}; 2 × (encode + decode) = ${formatMicros(crypto)}`,
  );
}
