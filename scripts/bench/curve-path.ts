/**
 * Where the CURVE hot path spends its time, step by step, in ONE process: each secretbox
 * backend on its own (the floor for the crypto), our box.ts wrappers on the backend in use, the
 * MESSAGE codec, and a DEALER⇄ROUTER echo over loopback with raw TCP, NULL and CURVE. The
 * difference between the CURVE and NULL echoes should be close to 2 × (encode + decode);
 * anything beyond that is glue.
 *
 *   bun scripts/bench/curve-path.ts [--quick]     (--help: this text)
 *
 * Not a test and not the transport benchmark (scripts/bench-transport.ts measures across
 * processes against libzmq). Figures are machine-dependent and never asserted.
 */
import type { Socket } from "bun";
import {
  cryptoBackend,
  generateKeyPair,
  open,
  precompute,
  randomBytes,
  seal,
} from "../../shared/curve/box.ts";
import { SEAL_PLAINTEXT_OFFSET, type SecretboxBackend } from "../../shared/curve/box-backend.ts";
import { CurveMessageCodec } from "../../shared/curve/curve-message.ts";
import { NONCE_PREFIX } from "../../shared/curve/curve-protocol.ts";
import { DealerSocket, RouterSocket, type SocketOptions } from "../../shared/net/index.ts";
import { installCryptoBackend, secretboxBackends } from "../../shared/sodium/install.ts";
import { allocateFrameBytes } from "../../shared/zmtp/frame-slab.ts";
import { parseBenchArgs } from "./cli.ts";
import { formatMicros, percentile } from "./stats.ts";

const HELP = `usage: bun scripts/bench/curve-path.ts [--quick]

In-process breakdown of the CURVE hot path for 100 B, 1 KiB and 64 KiB: each secretbox backend,
box.ts, the MESSAGE codec, then raw TCP, NULL and CURVE echo round trips.

  --quick      fewer operations and round trips (a smoke run)
  -h, --help   this text`;

const { values } = parseBenchArgs(
  Bun.argv.slice(2),
  { name: "curve-path", usage: HELP },
  { quick: { type: "boolean" } },
);
const quick = values.quick === true;
const SIZES = [100, 1024, 65_536] as const;
const BASE_OPS = quick ? 5_000 : 50_000;
const BASE_ROUND_TRIPS = quick ? 2_000 : 20_000;
const BASE_WARM_UP = quick ? 500 : 2_000;
/** 64 KiB messages get a twentieth of the operations and round trips. */
const scaled = (count: number, size: number) =>
  size > 4096 ? Math.max(50, Math.round(count / 20)) : count;

const DECODE_BATCH = 100;

/** Mean ns per call of `operation(i)` over `count` calls after a warm-up; i never repeats. */
function timeOps(count: number, operation: (i: number) => void): number {
  const warmUp = Math.min(2_000, count);
  for (let i = 0; i < warmUp; i++) operation(i);
  const start = Bun.nanoseconds();
  for (let i = warmUp; i < warmUp + count; i++) operation(i);
  return (Bun.nanoseconds() - start) / count;
}

/** One backend's sealInPlace and openInPlace, without box.ts's argument checks. */
function backendRows(backend: SecretboxBackend, size: number, ops: number, key: Uint8Array): void {
  const nonce = randomBytes(24);
  const buffer = new Uint8Array(new ArrayBuffer(SEAL_PLAINTEXT_OFFSET + size));
  buffer.set(randomBytes(size), SEAL_PLAINTEXT_OFFSET);
  const sealed = buffer.slice();
  const work = new Uint8Array(new ArrayBuffer(sealed.length));
  backend.sealInPlace(sealed, nonce, key);
  row(
    `${backend.name} sealInPlace ${size} B`,
    timeOps(ops, () => backend.sealInPlace(buffer, nonce, key)),
  );
  row(
    `${backend.name} openInPlace ${size} B (+copy)`,
    timeOps(ops, () => {
      work.set(sealed);
      backend.openInPlace(work, nonce, key);
    }),
  );
}

/**
 * Why the codec allocates from the frame slab and opens in place (sodium-native only): on Bun the
 * first view of a fresh plain array copies it to a new backing store, and every N-API call here
 * takes two views. Seal into a fresh array against a slab view; open into a fresh output array
 * (the layout before issue 17) against in place.
 */
function allocationRows(backend: SecretboxBackend, size: number, ops: number, key: Uint8Array) {
  const nonce = randomBytes(24);
  const message = randomBytes(size);
  const length = SEAL_PLAINTEXT_OFFSET + size;
  const sealed = new Uint8Array(new ArrayBuffer(length));
  sealed.set(message, SEAL_PLAINTEXT_OFFSET);
  backend.sealInPlace(sealed, nonce, key);
  const sealInto = (label: string, allocate: (length: number) => Uint8Array) =>
    row(
      `  seal ${size} B into ${label}`,
      timeOps(ops, () => {
        const buffer = allocate(length);
        buffer.set(message, SEAL_PLAINTEXT_OFFSET);
        backend.sealInPlace(buffer, nonce, key);
      }),
    );
  sealInto("a fresh Uint8Array", (n) => new Uint8Array(n));
  sealInto("a fresh ArrayBuffer", (n) => new Uint8Array(new ArrayBuffer(n)));
  sealInto("allocateFrameBytes", allocateFrameBytes);
  row(
    `  open ${size} B into a fresh output`,
    timeOps(ops, () => {
      const output = new Uint8Array(length);
      output.set(sealed);
      backend.openInPlace(output, nonce, key);
    }),
  );
  const received = new Uint8Array(new ArrayBuffer(length));
  row(
    `  open ${size} B in place (after a copy)`,
    timeOps(ops, () => {
      received.set(sealed);
      backend.openInPlace(received, nonce, key);
    }),
  );
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
  installCryptoBackend();
  const backend = cryptoBackend();
  console.log(`crypto per call (box.ts and the codec on ${backend.secretbox}: ${backend.detail})`);
  const key = precompute(generateKeyPair().publicKey, generateKeyPair().secretKey);
  const nonce = randomBytes(24);
  const perRoundTrip = new Map<number, number>();
  const backends = secretboxBackends();
  for (const size of SIZES) {
    const OPS = scaled(BASE_OPS, size);
    const message = randomBytes(size);
    const box = seal(message, nonce, key);
    if (backends.sodium.ok) {
      backendRows(backends.sodium.backend, size, OPS, key);
      allocationRows(backends.sodium.backend, size, OPS, key);
    }
    backendRows(backends.tweetnacl, size, scaled(OPS, size * 8), key);
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
    for (let done = -Math.min(2_000, OPS); done < OPS; done += DECODE_BATCH) {
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
  const ROUND_TRIPS = scaled(BASE_ROUND_TRIPS, size);
  const WARM_UP = scaled(BASE_WARM_UP, size);
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
        // Loopback takes 64 KiB at once; a short write would stall the echo (reported below)
        if (socket.write(chunk) !== chunk.length) throw new Error("raw TCP echo: short write");
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
console.log(
  `in-process echo, ${BASE_ROUND_TRIPS} round trips after ${BASE_WARM_UP} warm-up (64 KiB: a twentieth) (µs)`,
);
for (const size of SIZES) {
  const raw = await rawTcpEcho(size);
  const none = await socketEcho("NULL", size);
  const curve = await socketEcho("CURVE", size);
  const crypto = (cryptoPerRoundTrip.get(size) ?? Number.NaN) / 1000;
  console.log(
    `  ${String(size).padStart(5)} B  raw TCP p50 ${formatMicros(raw.p50)}  NULL p50 ${formatMicros(none.p50)} p99 ${formatMicros(none.p99)}  CURVE p50 ${formatMicros(curve.p50)} p99 ${formatMicros(curve.p99)}`,
  );
  console.log(
    `          CURVE − NULL p50 = ${formatMicros(curve.p50 - none.p50)}; 2 × (encode + decode) = ${formatMicros(crypto)}`,
  );
}
