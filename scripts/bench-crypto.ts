/**
 * Crypto micro-benchmark for shared/curve/box.ts: native (node:crypto) X25519 against
 * tweetnacl's, secretbox seal/open per size, and a full in-process CURVE handshake. Prints µs
 * per operation; both X25519 backends run in the same process so the comparison is fair.
 *
 *   bun scripts/bench-crypto.ts
 *
 * Not a test: figures vary by machine and are for choosing the backend (box.ts uses the faster).
 */
import {
  generateKeyPair,
  open,
  precomputeWith,
  randomBytes,
  seal,
  x25519Backends,
} from "../shared/curve/box.ts";
import { CurveClient } from "../shared/curve/curve-client.ts";
import { CurveServer } from "../shared/curve/curve-server.ts";

interface Measurement {
  readonly name: string;
  readonly microseconds: number;
}

/** Warm up, then time `iterations` calls; returns mean µs per call. */
function measure(name: string, iterations: number, operation: () => void): Measurement {
  for (let i = 0; i < Math.min(iterations, 50); i++) operation();
  const start = performance.now();
  for (let i = 0; i < iterations; i++) operation();
  return { name, microseconds: ((performance.now() - start) * 1000) / iterations };
}

function print(rows: readonly Measurement[]): void {
  const width = Math.max(...rows.map((row) => row.name.length));
  for (const row of rows) {
    console.log(`  ${row.name.padEnd(width)}  ${row.microseconds.toFixed(2).padStart(10)} µs/op`);
  }
}

function benchX25519(): void {
  console.log("X25519 (crypto_box_beforenm = X25519 + HSalsa20; keygen; public from secret)");
  const ours = generateKeyPair();
  const theirs = generateKeyPair();
  const rows: Measurement[] = [];
  for (const [name, backend] of Object.entries(x25519Backends)) {
    const iterations = name === "native" ? 5000 : 200;
    rows.push(
      measure(`${name} precompute`, iterations, () =>
        precomputeWith(backend, theirs.publicKey, ours.secretKey),
      ),
      measure(`${name} keyPair`, iterations, () => backend.keyPair()),
      measure(`${name} publicFromSecret`, iterations, () =>
        backend.publicFromSecret(ours.secretKey),
      ),
    );
  }
  print(rows);
  const native = rows.find((row) => row.name === "native precompute")?.microseconds ?? Number.NaN;
  const nacl = rows.find((row) => row.name === "tweetnacl precompute")?.microseconds ?? Number.NaN;
  console.log(`  native precompute is ${(nacl / native).toFixed(1)}× faster than tweetnacl`);
}

function benchSecretbox(): void {
  console.log("secretbox (XSalsa20-Poly1305, tweetnacl)");
  const key = randomBytes(32);
  const nonce = randomBytes(24);
  const rows: Measurement[] = [];
  for (const size of [16, 100, 1024, 65536]) {
    const message = randomBytes(size);
    const box = seal(message, nonce, key);
    const iterations = size >= 65536 ? 200 : 20000;
    rows.push(
      measure(`seal ${size} B`, iterations, () => seal(message, nonce, key)),
      measure(`open ${size} B`, iterations, () => open(box, nonce, key)),
    );
  }
  print(rows);
}

function benchHandshake(): void {
  console.log("full CURVE handshake, client + server in one process (native X25519)");
  const clientKeys = generateKeyPair();
  const serverKeys = generateKeyPair();
  const once = (): void => {
    const client = new CurveClient({
      socketType: "DEALER",
      publicKey: clientKeys.publicKey,
      secretKey: clientKeys.secretKey,
      serverKey: serverKeys.publicKey,
    });
    const server = new CurveServer({
      socketType: "ROUTER",
      publicKey: serverKeys.publicKey,
      secretKey: serverKeys.secretKey,
      authorize: () => ({ status: 200 }),
      address: "bench",
    });
    const [hello] = client.start().send;
    const [welcome] = server.processHandshake(hello as Uint8Array).send;
    const [initiate] = client.processHandshake(welcome as Uint8Array).send;
    const result = server.processHandshake(initiate as Uint8Array);
    if (client.processHandshake(result.send[0] as Uint8Array).status !== "ready") {
      throw new Error("bench handshake did not complete");
    }
  };
  print([measure("handshake (both sides)", 500, once)]);
}

console.log(`bench-crypto: bun ${Bun.version} on ${process.platform}/${process.arch}`);
benchX25519();
benchSecretbox();
benchHandshake();
