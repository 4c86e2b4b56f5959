/**
 * Crypto benchmark for shared/curve/box.ts, the numbers the backend choice rests on
 * (docs/PERFORMANCE.md, crypto backend):
 *
 *   bun scripts/bench-crypto.ts [--quick]      (--help for the options)
 *
 * 1. X25519: native (node:crypto) against tweetnacl's pure JS.
 * 2. XSalsa20-Poly1305 secretbox, seal and open, at 100 B, 1 KiB and 64 KiB, for every candidate
 *    in the same process: tweetnacl (pure JS, the fallback), sodium-native (libsodium over N-API,
 *    the backend in use), libsodium-wrappers (libsodium compiled to WebAssembly) and
 *    @noble/ciphers (hand-optimised JS over 32-bit words). The two backends run on the buffer
 *    layout the MESSAGE codec uses (box-backend.ts: sealInPlace / openInPlace); the other two
 *    through their own APIs, which allocate their output. Each figure is the median of 5 rounds.
 *    node:crypto (BoringSSL) is checked for an XSalsa20 or Poly1305 it could offer.
 * 3. A full in-process CURVE handshake.
 *
 * Prints µs per operation. Not a test: figures vary by machine and load.
 */
import { getCiphers } from "node:crypto";
import { xsalsa20poly1305 } from "@noble/ciphers/salsa.js";
import sodiumWasm from "libsodium-wrappers";
import {
  cryptoBackend,
  generateKeyPair,
  precomputeWith,
  randomBytes,
  x25519Backends,
} from "../shared/curve/box.ts";
import {
  SEAL_BOX_OFFSET,
  SEAL_PLAINTEXT_OFFSET,
  type SecretboxBackend,
} from "../shared/curve/box-backend.ts";
import { CurveClient } from "../shared/curve/curve-client.ts";
import { CurveServer } from "../shared/curve/curve-server.ts";
import { installCryptoBackend, secretboxBackends } from "../shared/sodium/install.ts";
import { parseBenchArgs } from "./bench/cli.ts";

const { values } = parseBenchArgs(
  Bun.argv.slice(2),
  {
    name: "bench-crypto",
    usage: `usage: bun scripts/bench-crypto.ts [--quick]

X25519 (native against tweetnacl), then XSalsa20-Poly1305 seal and open at 100 B, 1 KiB and
64 KiB for tweetnacl, sodium-native, libsodium-wrappers (WebAssembly) and @noble/ciphers, then a
full CURVE handshake. µs per operation, median of 5 rounds, all in one process.

  --quick      a tenth of the iterations (a smoke run)
  -h, --help   this text`,
  },
  { quick: { type: "boolean" } },
);
const SCALE = values.quick === true ? 0.1 : 1;
// As an agent does at startup: the handshake row runs on the backend an agent would use
installCryptoBackend();

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
    const iterations = Math.max(20, Math.round((name === "native" ? 5000 : 200) * SCALE));
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

/** What each candidate does to seal `message` and open its own box, both allocating as needed. */
interface Candidate {
  readonly name: string;
  prepare(
    message: Uint8Array,
    nonce: Uint8Array,
    key: Uint8Array,
  ): {
    seal(): void;
    open(): void;
  };
}

/** A box.ts backend on the codec's layout: seal in place; open a fresh copy in place. */
function backendCandidate(name: string, backend: SecretboxBackend): Candidate {
  return {
    name,
    prepare(message, nonce, key) {
      const buffer = new Uint8Array(new ArrayBuffer(SEAL_PLAINTEXT_OFFSET + message.length));
      buffer.set(message, SEAL_PLAINTEXT_OFFSET);
      const sealed = buffer.slice();
      backend.sealInPlace(sealed, nonce, key);
      const work = new Uint8Array(new ArrayBuffer(sealed.length));
      return {
        seal: () => {
          buffer.set(message, SEAL_PLAINTEXT_OFFSET);
          backend.sealInPlace(buffer, nonce, key);
        },
        open: () => {
          work.set(sealed);
          if (!backend.openInPlace(work, nonce, key)) throw new Error(`${name}: did not open`);
        },
      };
    },
  };
}

async function candidates(): Promise<Candidate[]> {
  const backends = secretboxBackends();
  const list: Candidate[] = [backendCandidate("tweetnacl (fallback)", backends.tweetnacl)];
  if (backends.sodium.ok) {
    list.push(backendCandidate("sodium-native (N-API)", backends.sodium.backend));
  } else {
    console.log(`  sodium-native did not load: ${backends.sodium.reason}`);
  }
  await sodiumWasm.ready;
  list.push({
    name: "libsodium-wrappers (wasm)",
    prepare(message, nonce, key) {
      const box = sodiumWasm.crypto_secretbox_easy(message, nonce, key);
      return {
        seal: () => sodiumWasm.crypto_secretbox_easy(message, nonce, key),
        open: () => sodiumWasm.crypto_secretbox_open_easy(box, nonce, key),
      };
    },
  });
  list.push({
    name: "@noble/ciphers (JS)",
    prepare(message, nonce, key) {
      const box = xsalsa20poly1305(key, nonce).encrypt(message);
      return {
        seal: () => xsalsa20poly1305(key, nonce).encrypt(message),
        open: () => xsalsa20poly1305(key, nonce).decrypt(box),
      };
    },
  });
  return list;
}

/** Every candidate must produce NaCl's box for the same input, or its timing means nothing. */
function checkAgree(list: readonly Candidate[]): void {
  const key = randomBytes(32);
  const nonce = randomBytes(24);
  const message = randomBytes(1000);
  const reference = new Uint8Array(new ArrayBuffer(SEAL_PLAINTEXT_OFFSET + message.length));
  reference.set(message, SEAL_PLAINTEXT_OFFSET);
  secretboxBackends().tweetnacl.sealInPlace(reference, nonce, key);
  const expected = Buffer.from(reference.subarray(SEAL_BOX_OFFSET)).toString("hex");
  const wasm = Buffer.from(sodiumWasm.crypto_secretbox_easy(message, nonce, key)).toString("hex");
  const noble = Buffer.from(xsalsa20poly1305(key, nonce).encrypt(message)).toString("hex");
  if (wasm !== expected || noble !== expected) {
    throw new Error(`bench-crypto: candidates disagree (${list.map((c) => c.name).join(", ")})`);
  }
}

const SIZES = [100, 1024, 65_536] as const;
const ROUNDS = 5;

function iterationsFor(size: number): number {
  return Math.max(20, Math.round((size >= 65_536 ? 300 : size >= 1024 ? 10_000 : 30_000) * SCALE));
}

/** µs per call, median of ROUNDS rounds of `iterations` calls each (after one warm-up round). */
function median(iterations: number, operation: () => void): number {
  const rounds: number[] = [];
  for (let round = -1; round < ROUNDS; round++) {
    const start = Bun.nanoseconds();
    for (let i = 0; i < iterations; i++) operation();
    if (round >= 0) rounds.push((Bun.nanoseconds() - start) / 1000 / iterations);
  }
  rounds.sort((a, b) => a - b);
  return rounds[Math.floor(ROUNDS / 2)] as number;
}

async function benchSecretbox(): Promise<void> {
  console.log(
    `secretbox (XSalsa20-Poly1305), µs per call, median of ${ROUNDS} rounds; box.ts uses ${cryptoBackend().secretbox}`,
  );
  const list = await candidates();
  checkAgree(list);
  const key = randomBytes(32);
  const nonce = randomBytes(24);
  const table = new Map<string, number[]>();
  for (const size of SIZES) {
    const message = randomBytes(size);
    // A slow pure-JS candidate at 64 KiB gets fewer calls; the median stays comparable
    for (const candidate of list) {
      const slow = candidate.name.startsWith("tweetnacl") || candidate.name.startsWith("@noble");
      const iterations =
        slow && size >= 65_536 ? Math.max(10, iterationsFor(size) / 5) : iterationsFor(size);
      const ops = candidate.prepare(message, nonce, key);
      const row = table.get(candidate.name) ?? [];
      row.push(median(iterations, ops.seal), median(iterations, ops.open));
      table.set(candidate.name, row);
    }
  }
  const header = SIZES.flatMap((size) => {
    const label = size >= 1024 ? `${size / 1024} KiB` : `${size} B`;
    return [`${label} seal`, `${label} open`];
  });
  console.log(`  ${"".padEnd(27)}${header.map((h) => h.padStart(12)).join("")}`);
  const reference = table.get(list[0]?.name ?? "") ?? [];
  for (const [name, row] of table) {
    console.log(`  ${name.padEnd(27)}${row.map((v) => v.toFixed(2).padStart(12)).join("")}`);
    if (name !== list[0]?.name) {
      const speedups = row.map((v, i) => `${((reference[i] ?? Number.NaN) / v).toFixed(1)}×`);
      console.log(
        `  ${"  vs tweetnacl".padEnd(27)}${speedups.map((v) => v.padStart(12)).join("")}`,
      );
    }
  }
  const native = getCiphers().filter((name) => /salsa|poly1305/i.test(name));
  console.log(
    `  node:crypto (BoringSSL): ${native.length === 0 ? "no XSalsa20 or Poly1305 cipher" : native.join(", ")} (chacha20-poly1305 is a different construction: CurveZMQ needs XSalsa20)`,
  );
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
  print([measure("handshake (both sides)", Math.max(20, Math.round(500 * SCALE)), once)]);
}

console.log(`bench-crypto: bun ${Bun.version} on ${process.platform}/${process.arch}`);
benchX25519();
await benchSecretbox();
benchHandshake();
