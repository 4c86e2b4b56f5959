/**
 * Order round trip through the real gateway process: sign → CURVE → verify → durable journal
 * (fdatasync) → simulated MT5 fill (its own fdatasync) → reply. The client is this process;
 * agent-gtw runs as a child process on 127.0.0.1 with throwaway keys in a temp folder.
 *
 *   bun scripts/bench-orders.ts [--orders N] [--concurrency C] [--quick]
 *
 * Prints round-trip percentiles for sequential orders (one in flight) and the throughput with C
 * orders in flight. Targets (DESIGN §8): p50 ≤ 1 ms, ≥ 2,000 orders/s. A benchmark, not a test:
 * it fails only on errors, never on timings.
 */
import { cpus, release } from "node:os";
import { installCryptoBackend } from "../shared/sodium/install.ts";
import { parseBenchArgs } from "./bench/cli.ts";
import { orderPair } from "./bench-e2e/order-pair.ts";
import { startGateway } from "./harness/agents.ts";
import { createDeployment } from "./harness/deployment.ts";
import { TestClient } from "./harness/test-client.ts";

const { values, integer } = parseBenchArgs(
  Bun.argv.slice(2),
  {
    name: "bench-orders",
    usage: `usage: bun scripts/bench-orders.ts [--orders N] [--concurrency C] [--quick]

Signed orders through the real agent-gtw process (sign, CURVE, verify, durable journal, sim
fill): round-trip percentiles one at a time, then throughput with C in flight.

  --orders N        orders per phase (default 4000; 400 with --quick)
  --concurrency C   orders in flight in the throughput phase (default 64)
  --quick           smaller counts
  -h, --help        this text`,
  },
  {
    orders: { type: "string" },
    concurrency: { type: "string" },
    quick: { type: "boolean" },
  },
);
const quick = values.quick === true;
const orders = integer(values.orders, "--orders", quick ? 400 : 4000, 1);
const concurrency = integer(values.concurrency, "--concurrency", 64, 1, 10_000);

function percentile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

installCryptoBackend();
const deployment = createDeployment({
  gateway: {
    limits: { max_open_positions: 100_000, max_volume: 5 },
    log: { level: "warn" },
    backend: { sim: { account: { balance: 10_000_000 } } },
  },
});
const gateway = await startGateway(deployment.gtwConfigPath, deployment.gtwStateDir);
const client = new TestClient(gateway.endpoint, deployment);

let failures = 0;
const pair = () =>
  orderPair(client, () => {
    failures += 1;
  });

try {
  // Warm-up: JIT, CURVE session, journal file, sim state.
  for (let i = 0; i < 50; i++) await pair();

  const latencies: number[] = [];
  for (let i = 0; i < orders / 2; i++) latencies.push(...(await pair()));
  latencies.sort((a, b) => a - b);

  const started = Bun.nanoseconds();
  let next = 0;
  const total = orders;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total / 2) {
        next += 1;
        await pair();
      }
    }),
  );
  const seconds = (Bun.nanoseconds() - started) / 1e9;
  const throughput = total / seconds;

  const fmt = (ms: number) => `${(ms * 1000).toFixed(0)} µs`;
  const p50 = percentile(latencies, 0.5);
  console.log(
    `machine   ${cpus()[0]?.model ?? "?"} × ${cpus().length}, Linux ${release()}, Bun ${Bun.version}`,
  );
  console.log(
    `orders    ${latencies.length} sequential (OPEN and CLOSE alternating), then ${total} with ${concurrency} in flight`,
  );
  console.log(
    `latency   p50 ${fmt(p50)}  p95 ${fmt(percentile(latencies, 0.95))}  p99 ${fmt(percentile(latencies, 0.99))}  max ${fmt(latencies[latencies.length - 1] as number)}`,
  );
  console.log(`throughput ${throughput.toFixed(0)} orders/s`);
  console.log(
    `targets   p50 ≤ 1 ms: ${p50 <= 1 ? "met" : "MISSED"}; ≥ 2000 orders/s: ${throughput >= 2000 ? "met" : "MISSED"}`,
  );
  if (failures > 0) {
    console.error(`${failures} orders were not filled`);
    process.exitCode = 1;
  }
} finally {
  await client.close();
  await gateway.stop();
  deployment.remove();
}
