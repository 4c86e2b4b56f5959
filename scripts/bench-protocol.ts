/**
 * Cost of the protocol work on one OPEN, per side: the gateway's parseRequest + signature
 * verification (with freshness and replay), and the client's encode + sign. Prints mean and p50
 * per operation in microseconds. Run: bun scripts/bench-protocol.ts [COUNT] (--help)
 *
 * Not a test: numbers are for the report and DESIGN §8 budgets, never asserted.
 */
import type { Clock } from "../shared/clock.ts";
import {
  createSigner,
  encodeRequest,
  filledReply,
  generateSigningKeyPair,
  intentHash,
  isSignedRequest,
  newRequestId,
  type OpenRequest,
  parseReply,
  parseRequest,
  SignatureVerifier,
} from "../shared/protocol/index.ts";
import { parseBenchArgs } from "./bench/cli.ts";

const { positionals, integer } = parseBenchArgs(
  Bun.argv.slice(2),
  {
    name: "bench-protocol",
    usage: `usage: bun scripts/bench-protocol.ts [COUNT]

The protocol work on one OPEN, per side: the client's encode + sign and the gateway's parse +
signature check (freshness, replay). Mean and p50 per operation over COUNT distinct requests.

  COUNT        requests (default 20000)
  -h, --help   this text`,
    maxPositionals: 1,
  },
  {},
);
const count = integer(positionals[0], "COUNT", 20_000, 1, 10_000_000);
const NOW_MS = Date.UTC(2026, 10, 18, 12, 0, 0);

// Frozen time, so every request stays fresh however long the run takes.
const fixedClock: Clock = {
  now: () => NOW_MS,
  monotonic: () => performance.now(),
  setTimeout: () => ({ cancel: () => {} }),
  setInterval: () => ({ cancel: () => {} }),
};

function open(id: string): OpenRequest {
  return {
    v: 1,
    id,
    action: "OPEN",
    ts: NOW_MS,
    client_order_id: "01M7Q8ECG0Y240PZ3N0SZ1WV",
    gateway: "gtw-1",
    key_id: "inf-1",
    symbol: "EURUSD",
    side: "BUY",
    volume: 0.1,
    sl: 1.095,
    tp: 1.11,
    deviation: 10,
    magic: 20261118,
    comment: "momentum",
  };
}

/** Time `fn(i)` for i in [0, n): per call, in µs. `reset` runs between warm-up and timing. */
function measure(name: string, n: number, fn: (i: number) => unknown, reset?: () => void): void {
  for (let i = 0; i < Math.min(n, 2000); i++) fn(i); // warm up the JIT
  reset?.();
  const samples = new Float64Array(n);
  const start = performance.now();
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    fn(i);
    samples[i] = performance.now() - t0;
  }
  const totalMs = performance.now() - start;
  samples.sort();
  const p50 = (samples[Math.floor(n / 2)] ?? 0) * 1000;
  const p99 = (samples[Math.floor(n * 0.99)] ?? 0) * 1000;
  const mean = (totalMs / n) * 1000;
  console.log(
    `${name.padEnd(44)} mean ${mean.toFixed(2).padStart(7)} µs   p50 ${p50.toFixed(2).padStart(7)} µs   p99 ${p99.toFixed(2).padStart(7)} µs`,
  );
}

const pair = generateSigningKeyPair();
const signer = createSigner({ keyId: "inf-1", secretKey: pair.secretKey });
const ids = Array.from({ length: count }, () => newRequestId());
const requests = ids.map(open);
const frames = requests.map((request) => {
  const bytes = encodeRequest(request);
  return [bytes, signer.sign(bytes)] as const;
});
const makeVerifier = () =>
  new SignatureVerifier({
    gatewayName: "gtw-1",
    trustedKeys: new Map([["inf-1", pair.publicKey]]),
    clock: fixedClock,
    maxReplayEntries: count * 2,
  });

console.log(
  `bench-protocol: ${count} distinct signed OPEN requests of ${frames[0]?.[0].length} bytes`,
);

measure("client: encodeRequest (validates)", count, (i) =>
  encodeRequest(requests[i] as OpenRequest),
);
measure("client: sign", count, (i) => signer.sign(frames[i]?.[0] as Uint8Array));
measure("gateway: parseRequest", count, (i) => parseRequest(frames[i]?.[0] as Uint8Array));

const parsedRequests = frames.map(([bytes]) => {
  const parsed = parseRequest(bytes);
  if (!parsed.ok || !isSignedRequest(parsed.request)) throw new Error("bench request refused");
  return parsed.request;
});
let verifier = makeVerifier();
let refused = 0;
const freshVerifier = () => {
  verifier = makeVerifier();
  refused = 0;
};
measure(
  "gateway: verify only (sig + fresh + replay)",
  count,
  (i) => {
    const [bytes, signature] = frames[i] ?? [];
    const result = verifier.verify(
      bytes as Uint8Array,
      signature,
      parsedRequests[i] as OpenRequest,
    );
    if (!result.ok) refused++;
  },
  freshVerifier,
);

// The figure for the order path: both steps, every id new to the verifier.
measure(
  "gateway: parseRequest + verify per OPEN",
  count,
  (i) => {
    const [bytes, signature] = frames[i] ?? [];
    const parsed = parseRequest(bytes as Uint8Array);
    if (!parsed.ok || !isSignedRequest(parsed.request)) throw new Error("bench request refused");
    const result = verifier.verify(bytes as Uint8Array, signature, parsed.request);
    if (!result.ok) refused++;
  },
  freshVerifier,
);
if (refused !== 0) throw new Error(`bench: ${refused} requests were refused`);

measure("gateway: intentHash", count, (i) => intentHash(requests[i] as OpenRequest));
const reply = new TextEncoder().encode(
  JSON.stringify(
    filledReply("r", {
      client_order_id: "01M7Q8ECG0Y240PZ3N0SZ1WV",
      retcode: 10009,
      ticket: 5001,
      deal: 7001,
      order: 6001,
      volume: 0.1,
      price: 1.10135,
      bid: 1.10125,
      ask: 1.10135,
      sl: 1.095,
      tp: 1.11,
    }),
  ),
);
measure("client: parseReply (FILLED)", count, () => parseReply(reply, "OPEN"));
