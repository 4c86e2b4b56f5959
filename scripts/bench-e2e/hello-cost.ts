/**
 * What answering one CURVE HELLO costs the gateway, in process: a fresh CurveServer (as for each
 * new connection) processes a valid HELLO from a random client transient key and builds its
 * WELCOME. Quoted by docs/PERFORMANCE.md (Handshake flood).
 *
 *   bun scripts/bench-e2e/hello-cost.ts [--n 2000]
 */
import { generateKeyPair } from "../../shared/curve/box.ts";
import { CurveServer } from "../../shared/curve/curve-server.ts";
import { installCryptoBackend } from "../../shared/sodium/install.ts";
import { parseBenchArgs } from "../bench/cli.ts";
import { HandCurveClient } from "../harness/hand-curve.ts";

const { values, integer } = parseBenchArgs(
  Bun.argv.slice(2),
  {
    name: "hello-cost",
    usage: `usage: bun scripts/bench-e2e/hello-cost.ts [--n N]

What answering one CURVE HELLO costs the gateway, in one process (HELLO → WELCOME).

  --n N        HELLOs to answer (default 2000)
  -h, --help   this text`,
  },
  { n: { type: "string" } },
);
const n = integer(values.n, "--n", 2000, 1, 10_000_000);
installCryptoBackend();
const server = generateKeyPair();
const hellos = Array.from({ length: 200 }, () =>
  new HandCurveClient(generateKeyPair(), server.publicKey).hello(),
);

function answer(count: number): number {
  const started = Bun.nanoseconds();
  for (let i = 0; i < count; i++) {
    const curve = new CurveServer({
      socketType: "ROUTER",
      publicKey: server.publicKey,
      secretKey: server.secretKey,
      authorize: () => ({ status: 200 }),
      address: "bench",
    });
    const step = curve.processHandshake(hellos[i % hellos.length] as Uint8Array);
    if (step.send.length !== 1) throw new Error("no WELCOME for a valid HELLO");
  }
  return (Bun.nanoseconds() - started) / 1000 / count;
}

answer(200);
console.log(`HELLO → WELCOME: ${answer(n).toFixed(1)} µs each (${n} HELLOs, one process)`);
