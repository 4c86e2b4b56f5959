/**
 * A CURVE handshake flood from its own process (issue 7 §2, research §7.4 "CPU DoS"): new TCP
 * connections to a gateway at a fixed rate, each sending the ZMTP greeting and a valid-looking
 * HELLO for the gateway's key from a random client transient key (so answering it costs the
 * gateway an X25519), then hanging up once WELCOME arrives or after 250 ms. Used by
 * test/hostile/flood.test.ts and scripts/bench.ts while an established client PINGs.
 *
 *   bun scripts/bench-e2e/hello-flood.ts --endpoint tcp://127.0.0.1:PORT --server-key Z85
 *       [--rate 500] [--seconds 10] [--from 127.0.0.2]
 *
 * --from connects from another loopback address (Linux routes 127/8 to lo): the flood then
 * comes from an address of its own, as a remote attacker's would, instead of sharing
 * 127.0.0.1 (and its per-address limits) with the established client.
 *
 * Prints `{"started":true}` when the flood begins, then one JSON line when done (or on SIGTERM):
 * connections attempted and answered, per second. Loopback only; at most 256 flood connections
 * are open at once. scripts/bench-e2e/flood.ts starts and stops it.
 */
import * as net from "node:net";
import type { Socket } from "bun";
import { generateKeyPair } from "../../shared/curve/box.ts";
import { z85DecodeKey } from "../../shared/curve/z85.ts";
import { installCryptoBackend } from "../../shared/sodium/install.ts";
import { encodeGreeting } from "../../shared/zmtp/greeting.ts";
import { parseBenchArgs } from "../bench/cli.ts";
import { HandCurveClient } from "../harness/hand-curve.ts";
import { commandFrame } from "../harness/raw-zmtp.ts";

const USAGE = `usage: bun scripts/bench-e2e/hello-flood.ts --endpoint tcp://127.0.0.1:PORT --server-key Z85
       [--rate N] [--seconds S] [--from 127.0.0.X]

A CURVE HELLO flood from this process against a gateway on loopback (started by
scripts/bench-e2e/flood.ts for bun run bench and the flood test).

  --endpoint E     tcp://127.0.0.1:PORT of the gateway (loopback only)
  --server-key K   the gateway's public key, Z85
  --rate N         new connections a second (default 500)
  --seconds S      how long (default 10)
  --from A         send from this loopback address (127.0.0.X) instead of the default
  -h, --help       this text`;
const { values, integer } = parseBenchArgs(
  Bun.argv.slice(2),
  { name: "hello-flood", usage: USAGE },
  {
    endpoint: { type: "string" },
    "server-key": { type: "string" },
    rate: { type: "string" },
    seconds: { type: "string" },
    from: { type: "string" },
  },
);
const match = /^tcp:\/\/127\.0\.0\.1:(\d+)$/.exec(values.endpoint ?? "");
if (match === null || values["server-key"] === undefined) {
  console.error(
    `hello-flood: --endpoint tcp://127.0.0.1:PORT and --server-key are required\n\n${USAGE}`,
  );
  process.exit(2);
}
installCryptoBackend();
const port = Number(match[1]);
const serverKey = z85DecodeKey(values["server-key"]);
const rate = integer(values.rate, "--rate", 500, 1, 100_000);
const seconds = integer(values.seconds, "--seconds", 10, 1, 3600);
const MAX_OPEN = 256;
const HOLD_MS = 250;
/** Distinct HELLOs, built up front so the flood itself costs this process no X25519. */
const POOL = 200;

let stopping = false;
process.on("SIGTERM", () => {
  stopping = true;
});

const greeting = encodeGreeting("CURVE", false);
const hellos = Array.from({ length: POOL }, () =>
  Buffer.concat([
    greeting,
    commandFrame(new HandCurveClient(generateKeyPair(), serverKey).hello()),
  ]),
);

const stats = {
  attempted: 0,
  /** Answered with WELCOME: the gateway spent an X25519 on it. */
  welcomed: 0,
  /** Closed with nothing sent back: refused by the pre-authentication limits. */
  refused: 0,
  /** Got the greeting, then closed without WELCOME (handshake limits, timeouts). */
  greeted_then_closed: 0,
  connect_errors: 0,
  seconds: 0,
  per_second: 0,
};
let open = 0;
let started = performance.now();

function report(): void {
  stats.seconds = Math.round((performance.now() - started) / 100) / 10;
  stats.per_second = Math.round(stats.attempted / Math.max(stats.seconds, 0.001));
  process.stdout.write(`${JSON.stringify(stats)}\n`);
}

async function one(index: number): Promise<void> {
  open += 1;
  stats.attempted += 1;
  let received = 0;
  let settled = false;
  let socket: Socket<undefined> | undefined;
  const done = (outcome: "welcomed" | "refused" | "greeted_then_closed") => {
    if (settled) return;
    settled = true;
    stats[outcome] += 1;
    socket?.terminate();
  };
  if (values.from !== undefined) {
    await oneFrom(values.from, index, done, (bytes) => {
      received += bytes;
      return received;
    });
    open -= 1;
    return;
  }
  try {
    socket = await Bun.connect({
      hostname: "127.0.0.1",
      port,
      socket: {
        data(_socket, chunk) {
          received += chunk.length;
          // 64-byte greeting, then the WELCOME command frame (2 + 168 bytes)
          if (received > 64 + 2) done("welcomed");
        },
        close() {
          done(received === 0 ? "refused" : "greeted_then_closed");
        },
        error() {
          done(received === 0 ? "refused" : "greeted_then_closed");
        },
      },
    });
    socket.write(hellos[index % POOL] as Uint8Array);
    await Bun.sleep(HOLD_MS);
    done(received === 0 ? "refused" : received > 66 ? "welcomed" : "greeted_then_closed");
  } catch {
    stats.connect_errors += 1;
  } finally {
    open -= 1;
  }
}

/** One connection from `from` (node:net: Bun.connect cannot choose its source address). */
function oneFrom(
  from: string,
  index: number,
  done: (outcome: "welcomed" | "refused" | "greeted_then_closed") => void,
  got: (bytes: number) => number,
): Promise<void> {
  return new Promise((resolve) => {
    let received = 0;
    let connected = false;
    const socket = net.connect({ host: "127.0.0.1", port, localAddress: from });
    const timer = setTimeout(() => finish(), HOLD_MS);
    const finish = () => {
      clearTimeout(timer);
      if (connected)
        done(received > 66 ? "welcomed" : received === 0 ? "refused" : "greeted_then_closed");
      socket.destroy();
      resolve();
    };
    socket.on("connect", () => {
      connected = true;
      socket.write(hellos[index % POOL] as Uint8Array);
    });
    socket.on("data", (chunk) => {
      received = got(chunk.length);
      if (received > 66) finish();
    });
    socket.on("error", () => {
      // Reported by close
    });
    socket.on("close", () => {
      if (!connected) stats.connect_errors += 1;
      finish();
    });
  });
}

started = performance.now();
const intervalMs = 10;
const perTick = rate / (1000 / intervalMs);
let credit = 0;
let index = 0;
const end = performance.now() + seconds * 1000;
process.stdout.write(`${JSON.stringify({ started: true })}\n`);
while (performance.now() < end && !stopping) {
  credit += perTick;
  while (credit >= 1) {
    credit -= 1;
    if (open < MAX_OPEN) void one(index++);
  }
  await Bun.sleep(intervalMs);
}
while (open > 0) await Bun.sleep(10);
report();
process.exit(0);
