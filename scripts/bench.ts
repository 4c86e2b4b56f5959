/**
 * End-to-end benchmark (issue 7 §4, DESIGN §8) on the COMPILED agents in dist/ (`bun run build`
 * first), with the libzmq reference measured in the same run:
 *
 *   bun run bench            full run (about 2 minutes on 2 vCPUs)
 *   bun run bench --quick    CI smoke run: smaller counts, the same steps (about 30 s)
 *
 * 1. PING round trip: `agent-inf ping` (the compiled agent's own gateway client) to agent-gtw over
 *    CURVE, one at a time; next to it, echoes of a PING-sized message: raw TCP between two Bun
 *    processes (the floor), our transport alone (CURVE DEALER→ROUTER, Bun↔Bun: what the
 *    application adds is the difference) and libzmq (zeromq.js under Node,
 *    scripts/bench/libzmq-peer.mjs).
 * 2. Orders with durable journaling: signed OPEN/CLOSE over CURVE straight to agent-gtw (client:
 *    this process), and the whole path a strategy uses (HTTP → agent-inf: risk, sign →
 *    agent-gtw: verify, journal, fill); round trip one at a time, then throughput with several in
 *    flight. The one-at-a-time orders through agent-inf are broken down per hop from both
 *    agents' /metrics (scripts/bench-e2e/order-hops.ts).
 * 3. Handshake flood: PING percentiles with and without hundreds of HELLOs a second from another
 *    process (scripts/bench-e2e/hello-flood.ts).
 * 4. Reconnect: agent-gtw killed and restarted; time until agent-inf's session is back.
 * 5. Memory: RSS of both agents at idle and their peak under load.
 * 6. With --wine: the compiled Windows gateway (dist/agent-gtw.exe) under Wine next to the Linux
 *    one, PING and orders one at a time (scripts/bench-e2e/wine-gateway.ts); skipped with the
 *    reason when Wine is missing.
 *
 * Agents log at their default level (info), as shipped. A benchmark, not a test: it exits 1 only
 * on an error (a lost PING, an order not filled, a process that fails), never on a timing.
 */
import { closeSync, fdatasyncSync, openSync, readFileSync, statSync, writeSync } from "node:fs";
import { join } from "node:path";
import { encodeRequest, newRequestId } from "../shared/protocol/index.ts";
import { installCryptoBackend } from "../shared/sodium/install.ts";
import { parseBenchArgs } from "./bench/cli.ts";
import { type EchoKind, echoReference } from "./bench-e2e/echo-reference.ts";
import { startFlood } from "./bench-e2e/flood.ts";
import {
  formatOrderHops,
  formatRequests,
  gatewayRequests,
  gatewayStages,
  orderHops,
} from "./bench-e2e/order-hops.ts";
import { orderPair } from "./bench-e2e/order-pair.ts";
import {
  busyShare,
  cpuSeconds,
  killAll,
  machineLines,
  RssSampler,
  rssMib,
  spawned,
} from "./bench-e2e/processes.ts";
import { type Series, scrape } from "./bench-e2e/scrape.ts";
import {
  startBenchWineGateway,
  type WineGateway,
  wineUnavailable,
} from "./bench-e2e/wine-gateway.ts";
import type { RunningGateway } from "./harness/agents.ts";
import { createDeployment, type Deployment } from "./harness/deployment.ts";
import { freePort } from "./harness/free-port.ts";
import {
  bearer,
  PERMISSIVE_RISK,
  runCli,
  startInference,
  writeInferenceConfig,
} from "./harness/inference.ts";
import { TestClient } from "./harness/test-client.ts";

const ROOT = join(import.meta.dir, "..");
const { values } = parseBenchArgs(
  Bun.argv.slice(2),
  {
    name: "bench",
    usage: `usage: bun run bench [--quick] [--wine]

End-to-end benchmark on the compiled agents in dist/ (bun run build first), with raw TCP, our
transport alone and libzmq measured in the same run: PING round trip, orders straight to agent-gtw
and through agent-inf (broken down per hop), PING under a handshake flood, reconnect after a
gateway restart, memory. Every figure is printed against its target as a ratio.

  --quick      smaller counts, the same steps (about 30 s; CI runs this)
  --wine       also the compiled Windows gateway (dist/agent-gtw.exe) under Wine beside the Linux
               one (needs wine and x86_64-w64-mingw32-gcc; skipped with the reason otherwise;
               its own prefix: MLB_BENCH_WINEPREFIX, default ~/.cache/mt5-live-bridge/wine-prefix-bench)
  -h, --help   this text`,
  },
  { quick: { type: "boolean" }, wine: { type: "boolean" } },
);
const QUICK = values.quick === true;
const WINE = values.wine === true;
// The in-process test clients box like the agents they talk to
installCryptoBackend();
const N = {
  pings: QUICK ? 1000 : 10_000,
  warmUp: 1000,
  wirePairs: QUICK ? 100 : 1000,
  wireThroughput: QUICK ? 400 : 4000,
  apiOrders: QUICK ? 100 : 1000,
  apiThroughput: QUICK ? 200 : 2000,
  reconnects: QUICK ? 2 : 5,
  floodPings: QUICK ? 2000 : 30_000,
  floodRate: 500,
  winePings: QUICK ? 500 : 5000,
  winePairs: QUICK ? 50 : 300,
} as const;
const TARGET = {
  pingP50: 40,
  pingP99: 200,
  vsLibzmq: 0.5,
  orderP50Ms: 1,
  ordersPerSecond: 2000,
  // issue 17: the application's own cost over the transport, agent-inf's over the gateway order,
  // and the gateway order against the disk it syncs to
  pingOverTransportUs: 15,
  infAddedP50Ms: 0.3,
  gatewayFsyncs: 2,
  gatewayOverFsyncMs: 0.2,
};

// The agents under test are the compiled ones (scripts/harness/agents.ts reads this)
process.env["AGENT_BINARIES"] = "dist";

const errors: string[] = [];
const fail = (message: string) => {
  errors.push(message);
  console.error(`error: ${message}`);
};

// ----- helpers ----------------------------------------------------------------------------------

function pct(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil(p * sorted.length))) - 1] as number;
}

const us = (value: number) => (Number.isFinite(value) ? value.toFixed(1) : "n/a").padStart(9);
const ms = (value: number) => (Number.isFinite(value) ? value.toFixed(3) : "n/a").padStart(9);
const mib = (value: number | undefined) =>
  `${Number.isFinite(value ?? Number.NaN) ? (value as number).toFixed(1) : "n/a"} MiB`;
const met = (ok: boolean) => (ok ? "met" : "MISSED");
/** One target line: the measured value, the limit, their ratio, and whether it is met. */
const versus = (label: string, value: number, limit: number, unit: string, atLeast = false) => {
  const digits = unit === "ms" ? 3 : unit === "µs" ? 1 : 0;
  return `  ${label.padEnd(62)} ${value.toFixed(digits).padStart(8)} ${unit} vs ${atLeast ? "≥" : "≤"} ${limit.toFixed(digits)} ${unit}: ${(value / limit).toFixed(2)}× ${met(atLeast ? value >= limit : value <= limit)}`;
};

interface Percentiles {
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
  readonly count: number;
}

function percentiles(samples: readonly number[]): Percentiles {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    p50: pct(sorted, 0.5),
    p95: pct(sorted, 0.95),
    p99: pct(sorted, 0.99),
    max: pct(sorted, 1),
    count: sorted.length,
  };
}

/**
 * `agent-inf ping --count n --warmup w --json`: the compiled agent-inf's own round trips, in µs,
 * after `w` untimed ones (as the libzmq client warms up).
 */
async function cliPing(configPath: string, count: number): Promise<Percentiles | undefined> {
  const args = ["ping", "--count", String(count), "--warmup", String(N.warmUp), "--json"];
  const result = await runCli(configPath, args, 300_000);
  if (result.code !== 0) {
    fail(`agent-inf ping exited ${result.code}: ${result.stderr.trim() || result.stdout.trim()}`);
    return undefined;
  }
  const summary = JSON.parse(result.stdout) as {
    sent: number;
    received: number;
    rtt_ms: { p50: number; p95: number; p99: number; max: number };
  };
  if (summary.received !== summary.sent) fail(`${summary.sent - summary.received} PINGs lost`);
  const { p50, p95, p99, max } = summary.rtt_ms;
  return {
    p50: p50 * 1000,
    p95: p95 * 1000,
    p99: p99 * 1000,
    max: max * 1000,
    count: summary.sent,
  };
}

/** fdatasync latency of 100-byte appends in `dir`: what durable journaling costs per batch. */
function fdatasyncMicros(dir: string): number {
  const path = join(dir, "fdatasync-probe");
  const fd = openSync(path, "a");
  const samples: number[] = [];
  try {
    const line = new Uint8Array(100).fill(0x61);
    for (let i = 0; i < 300; i++) {
      const started = Bun.nanoseconds();
      writeSync(fd, line);
      fdatasyncSync(fd);
      samples.push((Bun.nanoseconds() - started) / 1000);
    }
  } finally {
    closeSync(fd);
  }
  return percentiles(samples.slice(50)).p50;
}

/** Orders one at a time straight to a gateway, after 20 untimed pairs; ms. */
async function sequentialOrders(endpoint: string, on: Deployment, pairs: number) {
  const client = new TestClient(endpoint, on);
  try {
    for (let i = 0; i < 20; i++) await orderPair(client, fail);
    const samples: number[] = [];
    for (let i = 0; i < pairs; i++) samples.push(...(await orderPair(client, fail)));
    return percentiles(samples.filter(Number.isFinite));
  } finally {
    await client.close();
  }
}

/**
 * Section 6: the compiled Windows gateway under Wine and the Linux one, measured back to back:
 * agent-inf ping and orders straight to each.
 */
async function wineSection(linuxInference: string): Promise<void> {
  console.log("\n6. The Windows gateway (dist/agent-gtw.exe) under Wine beside the Linux one");
  const missing = wineUnavailable();
  if (missing !== undefined) {
    console.log(`skipped  ${missing}`);
    return;
  }
  let wine: WineGateway | undefined;
  try {
    wine = await startBenchWineGateway({
      limits: { max_open_positions: 100_000, max_volume: 5 },
      backend: { sim: { account: { balance: 10_000_000 } } },
    });
    const wineInference = writeInferenceConfig(wine.deployment, wine.endpoint, {
      heartbeatMs: 1000,
      risk: { ...PERMISSIVE_RISK, max_lots: 5 },
    });
    const linuxGateway = gateway as RunningGateway;
    const pings = {
      linux: await cliPing(linuxInference, N.winePings),
      wine: await cliPing(wineInference.configPath, N.winePings),
    };
    const orders = {
      linux: await sequentialOrders(linuxGateway.endpoint, deployment, N.winePairs),
      wine: await sequentialOrders(wine.endpoint, wine.deployment, N.winePairs),
    };
    console.log(
      `${"".padEnd(52)}${["p50", "p95", "p99", "max"].map((h) => h.padStart(9)).join("")}`,
    );
    const line = (label: string, p: Percentiles | undefined, format: (v: number) => string) =>
      console.log(
        `${label.padEnd(52)}${p === undefined ? "  failed" : `${format(p.p50)}${format(p.p95)}${format(p.p99)}${format(p.max)}`}`,
      );
    console.log(
      `         agent-inf ping ${N.winePings} (µs), then ${orders.linux.count} orders one at a time straight to each gateway (ms)`,
    );
    line("PING: Linux agent-gtw", pings.linux, us);
    line("PING: agent-gtw.exe under Wine", pings.wine, us);
    line("order: Linux agent-gtw", orders.linux, ms);
    line("order: agent-gtw.exe under Wine", orders.wine, ms);
    if (pings.linux !== undefined && pings.wine !== undefined)
      console.log(
        `ratio    Wine / Linux p50: PING ${(pings.wine.p50 / pings.linux.p50).toFixed(2)}×, order ${(orders.wine.p50 / orders.linux.p50).toFixed(2)}×`,
      );
    console.log(
      "note     Wine translates every socket and file call; a Windows host runs the exe natively, so these are an upper bound, not a Windows figure",
    );
  } catch (error) {
    fail(`wine: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    await wine?.stop();
  }
}

function versions(): string[] {
  const binary = (name: string) => {
    const path = join(ROOT, "dist", name);
    const version = Bun.spawnSync([path, "--version"]).stdout.toString().trim();
    return `dist/${name} ${version} (built ${statSync(path).mtime.toISOString().slice(0, 16)}Z)`;
  };
  const probe = Bun.spawnSync(
    ["node", "-e", "process.stdout.write(process.version + ' ' + require('zeromq').version)"],
    { cwd: ROOT, stderr: "pipe" },
  );
  if (probe.exitCode !== 0)
    throw new Error(`node with zeromq is needed for the libzmq reference: ${probe.stderr}`);
  const [node, libzmq] = probe.stdout.toString().split(" ");
  const zeromq = JSON.parse(
    readFileSync(join(ROOT, "node_modules", "zeromq", "package.json"), "utf8"),
  ).version as string;
  return [
    `agents   ${binary("agent-gtw")}; ${binary("agent-inf")}`,
    `runtime  bun ${Bun.version} (compiled into the agents); node ${node}, zeromq.js ${zeromq}, libzmq ${libzmq}`,
  ];
}

// ----- the run ----------------------------------------------------------------------------------

for (const name of ["agent-gtw", "agent-inf"]) {
  try {
    statSync(join(ROOT, "dist", name));
  } catch {
    console.error(`dist/${name} is missing: run \`bun run build\` first`);
    process.exit(1);
  }
}

console.log(
  `MT5 Live Bridge: end-to-end benchmark on the compiled agents${QUICK ? " (--quick)" : ""}`,
);
for (const line of [...machineLines(), ...versions()]) console.log(line);
const busy = await busyShare(1000);
console.log(
  `quiet?   other processes kept ${(busy * 100).toFixed(0)}% of the CPU busy in the second before the run${busy > 0.1 ? " — NOT quiet: p99 and max will show it; rerun on an idle machine for figures to quote" : ""}`,
);

// A fixed port: the restarted gateway must be where agent-inf looks for it
const deployment = createDeployment({
  gateway: {
    endpoint: `tcp://127.0.0.1:${freePort()}`,
    limits: { max_open_positions: 100_000, max_volume: 5 },
    backend: { sim: { account: { balance: 10_000_000 } } },
  },
});
const fsyncP50Us = fdatasyncMicros(deployment.dir);
console.log(
  `disk     fdatasync of a 100 B append p50 ${fsyncP50Us.toFixed(0)} µs (the journal's file system)`,
);
console.log(
  "placement free (no pinning); agents log at info to pipes this process drains, as under a service manager",
);

let gateway: RunningGateway | undefined;
const { startGateway } = await import("./harness/agents.ts");
const startGtw = async () => {
  gateway = await startGateway(deployment.gtwConfigPath, deployment.gtwStateDir);
  spawned(gateway.process, "agent-gtw");
  return gateway;
};

try {
  const gtw = await startGtw();
  const setup = writeInferenceConfig(deployment, gtw.endpoint, {
    heartbeatMs: 1000,
    risk: { ...PERMISSIVE_RISK, max_lots: 5 },
  });

  // ----- 1. PING ----------------------------------------------------------------------------
  const pingSize = encodeRequest({
    v: 1,
    id: newRequestId(),
    action: "PING",
    ts: Date.now(),
  }).length;
  await Bun.sleep(1000);
  const gatewayIdle = rssMib(gtw.process.pid);
  const pingRss = new RssSampler({ gateway: gtw.process.pid });
  const ours = await cliPing(setup.configPath, N.pings);
  pingRss.stop();
  const echo = async (kind: EchoKind) => {
    const result = await echoReference(kind, pingSize, N.pings, N.warmUp);
    return { ...result, p: percentiles(result.samples) };
  };
  const tcp = await echo("tcp");
  const transport = await echo("ours");
  const libzmq = await echo("libzmq");
  const reference = libzmq.p;
  console.log(
    `\n1. PING round trip over CURVE, one at a time, ${N.pings.toLocaleString("en-US")} after ${N.warmUp.toLocaleString("en-US")} untimed (µs)`,
  );
  console.log(`${"".padEnd(52)}${["p50", "p95", "p99", "max"].map((h) => h.padStart(9)).join("")}`);
  const row = (label: string, p: Percentiles | undefined) =>
    console.log(
      `${label.padEnd(52)}${p === undefined ? "  failed" : `${us(p.p50)}${us(p.p95)}${us(p.p99)}${us(p.max)}`}`,
    );
  row("ours: agent-inf ping → agent-gtw (compiled)", ours);
  row(`our transport alone: CURVE echo of ${pingSize} B (Bun↔Bun)`, transport.p);
  row(`raw TCP echo of ${pingSize} B (Bun↔Bun): the floor`, tcp.p);
  row(`libzmq ${libzmq.libzmq ?? "?"}: echo of ${pingSize} B (Node↔Node)`, reference);
  if (ours !== undefined) {
    const ratio = ours.p50 / reference.p50;
    console.log(
      `targets  p50 ≤ ${TARGET.pingP50} µs: ${met(ours.p50 <= TARGET.pingP50)} (${ours.p50.toFixed(1)}); p99 ≤ ${TARGET.pingP99} µs: ${met(ours.p99 <= TARGET.pingP99)} (${ours.p99.toFixed(1)}); p50 ≤ ${TARGET.vsLibzmq} × libzmq: ${met(ratio <= TARGET.vsLibzmq)} (${ratio.toFixed(2)}×)`,
    );
    console.log(
      `seed     P50 < 5 ms: ${met(ours.p50 < 5000)}; P95 < 10 ms: ${met(ours.p95 < 10_000)}; P99 < 20 ms: ${met(ours.p99 < 20_000)}`,
    );
    const application = ours.p50 - transport.p.p50;
    console.log(
      `p50      raw TCP ${tcp.p.p50.toFixed(1)} + transport (ZMTP/CURVE both sides) ${(transport.p.p50 - tcp.p.p50).toFixed(1)} + application ${application.toFixed(1)} = ${ours.p50.toFixed(1)} µs`,
    );
    console.log("issue 17");
    console.log(
      versus("application PING p50 − transport p50", application, TARGET.pingOverTransportUs, "µs"),
    );
    console.log(
      "note     ours is the whole application PING (JSON request, validation, reply with server time and MT5 state); the other rows are bare echoes of a PING-sized message",
    );
  }

  // ----- 2a. orders straight to the gateway -----------------------------------------------------
  const client = new TestClient(gtw.endpoint, deployment);
  const pair = () => orderPair(client, fail);
  for (let i = 0; i < 50; i++) await pair();
  const gatewayMetricsUrl = (
    JSON.parse(readFileSync(join(deployment.gtwStateDir, "status.json"), "utf8")) as {
      metrics?: string | null;
    }
  ).metrics;
  const scrapeGateway = async () => (gatewayMetricsUrl ? await scrape(gatewayMetricsUrl) : []);
  const wireBefore = await scrapeGateway();
  const wire: number[] = [];
  for (let i = 0; i < N.wirePairs; i++) wire.push(...(await pair()));
  const wireStages = gatewayStages(
    { before: wireBefore, after: await scrapeGateway() },
    wire.length,
  );
  // The disk again, right after the orders that used it: the bound below takes this one
  const fsyncAfterUs = fdatasyncMicros(deployment.dir);
  const wireRss = new RssSampler({ gateway: gtw.process.pid });
  const wireCpu = cpuSeconds(gtw.process.pid);
  const wireStarted = performance.now();
  let wireNext = 0;
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (wireNext < N.wireThroughput / 2) {
        wireNext += 1;
        await pair();
      }
    }),
  );
  const wireRate = N.wireThroughput / ((performance.now() - wireStarted) / 1000);
  const wireCpuPerOrder = ((cpuSeconds(gtw.process.pid) - wireCpu) / N.wireThroughput) * 1e6;
  const wirePeak = wireRss.stop();
  await client.close();

  // ----- 2b. orders through agent-inf's API ------------------------------------------------------
  const inf = await startInference(setup, 30_000);
  spawned(inf.process, "agent-inf");
  await Bun.sleep(2000);
  const idle = { gateway: gatewayIdle, inference: rssMib(inf.process.pid) };
  let coid = 0;
  const apiOrder = async (): Promise<[number, number]> => {
    const post = async (path: string, body: object) => {
      const started = performance.now();
      const response = await fetch(`${setup.apiUrl}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", ...bearer(setup.token) },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(30_000),
      });
      const json = (await response.json()) as { outcome?: string; reply?: { ticket?: number } };
      if (json.outcome !== "FILLED")
        fail(`API order not filled: ${JSON.stringify(json).slice(0, 200)}`);
      return { ms: performance.now() - started, ticket: json.reply?.ticket };
    };
    const open = await post("/v1/orders", {
      client_order_id: `bench-${coid++}`,
      symbol: "EURUSD",
      side: "BUY",
      volume: 0.01,
    });
    if (open.ticket === undefined) return [open.ms, Number.NaN];
    const close = await post(`/v1/positions/${open.ticket}/close`, {
      client_order_id: `bench-${coid++}`,
    });
    return [open.ms, close.ms];
  };
  for (let i = 0; i < 20; i++) await apiOrder();
  // Both agents' histograms around the one-at-a-time phase: where each order's time went
  const scrapeBoth = async (): Promise<{ inference: Series[]; gateway: Series[] }> => ({
    inference: await scrape(`${setup.apiUrl}/metrics`, bearer(setup.operatorToken)),
    gateway: await scrapeGateway(),
  });
  const hopsBefore = await scrapeBoth();
  const api: number[] = [];
  for (let i = 0; i < N.apiOrders / 2; i++) api.push(...(await apiOrder()));
  const hopsAfter = await scrapeBoth();
  const loadRss = new RssSampler({ gateway: gtw.process.pid, inference: inf.process.pid });
  const apiCpu = { gateway: cpuSeconds(gtw.process.pid), inference: cpuSeconds(inf.process.pid) };
  const apiStarted = performance.now();
  let apiNext = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (apiNext < N.apiThroughput / 2) {
        apiNext += 1;
        await apiOrder();
      }
    }),
  );
  const apiRate = N.apiThroughput / ((performance.now() - apiStarted) / 1000);
  const apiCpuPerOrder = {
    gateway: ((cpuSeconds(gtw.process.pid) - apiCpu.gateway) / N.apiThroughput) * 1e6,
    inference: ((cpuSeconds(inf.process.pid) - apiCpu.inference) / N.apiThroughput) * 1e6,
  };
  const loadPeak = loadRss.stop();
  const loadAfter = await scrapeBoth();

  const wireStats = percentiles(wire.filter(Number.isFinite));
  const apiStats = percentiles(api.filter(Number.isFinite));
  console.log("\n2. Orders with durable journaling (OPEN and CLOSE alternating; ms)");
  console.log(
    `${"".padEnd(56)}${["p50", "p95", "p99", "max"].map((h) => h.padStart(9)).join("")}${"orders/s".padStart(11)}`,
  );
  const orderRow = (label: string, p: Percentiles, rate: number, inFlight: number) =>
    console.log(
      `${label.padEnd(56)}${ms(p.p50)}${ms(p.p95)}${ms(p.p99)}${ms(p.max)}${Math.round(rate).toLocaleString("en-US").padStart(11)}  (${inFlight} in flight)`,
    );
  orderRow(
    `signed order over CURVE → agent-gtw, ${wireStats.count.toLocaleString("en-US")}`,
    wireStats,
    wireRate,
    64,
  );
  orderRow(
    `strategy HTTP → agent-inf → agent-gtw, ${apiStats.count.toLocaleString("en-US")}`,
    apiStats,
    apiRate,
    16,
  );
  console.log(
    `targets  order p50 ≤ ${TARGET.orderP50Ms} ms: ${met(wireStats.p50 <= TARGET.orderP50Ms)} at the gateway, ${met(apiStats.p50 <= TARGET.orderP50Ms)} through agent-inf; ≥ ${TARGET.ordersPerSecond.toLocaleString("en-US")} orders/s: ${met(wireRate >= TARGET.ordersPerSecond)} at the gateway, ${met(apiRate >= TARGET.ordersPerSecond)} through agent-inf`,
  );
  console.log("issue 17");
  console.log(versus("order p50 through agent-inf", apiStats.p50, TARGET.orderP50Ms, "ms"));
  console.log(
    versus("orders/s through agent-inf", apiRate, TARGET.ordersPerSecond, "orders/s", true),
  );
  console.log(
    versus(
      "agent-inf's own added p50 (through agent-inf − straight)",
      apiStats.p50 - wireStats.p50,
      TARGET.infAddedP50Ms,
      "ms",
    ),
  );
  console.log(
    versus(
      `gateway order p50 vs ${TARGET.gatewayFsyncs} × fdatasync p50 + ${TARGET.gatewayOverFsyncMs} ms`,
      wireStats.p50,
      (TARGET.gatewayFsyncs * fsyncAfterUs) / 1000 + TARGET.gatewayOverFsyncMs,
      "ms",
    ),
  );
  const wireMean = wire.filter(Number.isFinite).reduce((sum, v) => sum + v, 0) / wireStats.count;
  console.log(
    `gateway  one at a time straight to it, means per order (ms): verify ${wireStages.verifyMs.toFixed(3)}, journal ${wireStages.journalMs.toFixed(3)} (${wireStages.fsyncsPerOrder.toFixed(2)} fdatasync per order at ${wireStages.fsyncMs.toFixed(3)} each), backend ${wireStages.backendMs.toFixed(3)} (the gate and the sim, its own fdatasync included), the rest (CURVE, framing, this client) ${(wireMean - wireStages.verifyMs - wireStages.journalMs - wireStages.backendMs).toFixed(3)}; disk fdatasync p50 ${fsyncP50Us.toFixed(0)} µs at the start, ${fsyncAfterUs.toFixed(0)} µs after these orders`,
  );
  const apiMean =
    api.filter(Number.isFinite).reduce((sum, value) => sum + value, 0) / apiStats.count;
  console.log(
    `hops     one order at a time through agent-inf (${apiStats.count.toLocaleString("en-US")} orders; means from both agents' /metrics)`,
  );
  if (gatewayMetricsUrl) {
    const hops = orderHops({
      orders: apiStats.count,
      clientMeanMs: apiMean,
      inference: { before: hopsBefore.inference, after: hopsAfter.inference },
      gateway: { before: hopsBefore.gateway, after: hopsAfter.gateway },
    });
    for (const line of formatOrderHops(hops, apiMean)) console.log(line);
    const underLoad = gatewayRequests(
      { before: hopsAfter.inference, after: loadAfter.inference },
      N.apiThroughput,
    );
    console.log(
      `  with 16 in flight: gateway requests per order ${formatRequests(underLoad.perAction)}`,
    );
  } else {
    console.log("  (the gateway serves no /metrics: metrics.listen is null)");
  }
  console.log(
    `cpu      per order during the throughput runs: agent-gtw ${wireCpuPerOrder.toFixed(0)} µs (straight to it); agent-gtw ${apiCpuPerOrder.gateway.toFixed(0)} µs + agent-inf ${apiCpuPerOrder.inference.toFixed(0)} µs (through agent-inf: its pre-trade snapshot and the order)`,
  );
  console.log(
    "note     every order: journal intent fdatasync'ed before the fill, the sim broker's own fdatasync, outcome written (synced by the next intent's fdatasync); through agent-inf add its risk checks, signing and the HTTP hop",
  );

  // ----- 3. handshake flood ------------------------------------------------------------------------
  const quiet = await cliPing(setup.configPath, N.floodPings);
  // From an address of its own, as a remote attacker's would be: the pre-auth limits are per
  // address, and one sharing the client's address is a limit of its own (RELIABILITY.md §10)
  const flooder = await startFlood({
    endpoint: gtw.endpoint,
    serverKey: deployment.gatewayKeys.publicKey,
    rate: N.floodRate,
    from: "127.0.0.2",
  });
  const stopFlood = () => flooder.kill();
  process.on("exit", stopFlood);
  const flooded = await cliPing(setup.configPath, N.floodPings);
  const flood = await flooder.stop();
  process.off("exit", stopFlood);
  console.log(
    `\n3. Handshake flood: PING round trip (agent-inf ping, ${N.floodPings.toLocaleString("en-US")} after ${N.warmUp.toLocaleString("en-US")} untimed) while another process opens connections with valid-looking HELLOs (µs)`,
  );
  console.log(`${"".padEnd(52)}${["p50", "p95", "p99", "max"].map((h) => h.padStart(9)).join("")}`);
  row("without flood", quiet);
  row(`with ${flood.per_second} HELLOs/s`, flooded);
  console.log(
    `flood    ${flood.attempted} connections in ${flood.seconds} s: ${flood.welcomed} answered WELCOME (an X25519 each), ${flood.refused} refused by the pre-auth limits`,
  );

  // ----- 4. reconnect ------------------------------------------------------------------------------
  const reconnects: { downMs: number; reconnectMs: number }[] = [];
  const connected = async () => {
    try {
      const health = (await (
        await fetch(`${setup.apiUrl}/v1/health`, {
          signal: AbortSignal.timeout(1000),
          headers: bearer(setup.token),
        })
      ).json()) as { gateways: { connected: boolean }[] };
      return health.gateways[0]?.connected === true;
    } catch {
      return false;
    }
  };
  for (let i = 0; i < N.reconnects; i++) {
    await Bun.sleep(1500);
    const killedAt = performance.now();
    await (gateway as RunningGateway).kill();
    while (await connected()) await Bun.sleep(2);
    const again = await startGtw();
    const listeningAt = performance.now();
    const deadline = listeningAt + 10_000;
    while (!(await connected())) {
      if (performance.now() > deadline) {
        fail("agent-inf did not reconnect within 10 s of the gateway's restart");
        break;
      }
      await Bun.sleep(2);
    }
    const backAt = performance.now();
    reconnects.push({ downMs: backAt - killedAt, reconnectMs: backAt - listeningAt });
    void again;
  }
  const reconnect = percentiles(reconnects.map((r) => r.reconnectMs));
  const down = percentiles(reconnects.map((r) => r.downMs));
  console.log(
    `\n4. Reconnect: agent-gtw killed (SIGKILL) and started again, ${N.reconnects} times (ms)`,
  );
  console.log(
    `gateway listening → agent-inf session up   p50 ${reconnect.p50.toFixed(0)}  max ${reconnect.max.toFixed(0)}   target ≤ 1000: ${met(reconnect.max <= 1000)}`,
  );
  console.log(
    `kill → agent-inf session up (incl. start)  p50 ${down.p50.toFixed(0)}  max ${down.max.toFixed(0)}`,
  );

  // ----- 5. memory ---------------------------------------------------------------------------------
  console.log("\n5. Memory (RSS)");
  console.log(
    `agent-gtw   idle after start ${mib(idle.gateway)}   peak during PINGs ${mib(pingRss.peaks.get("gateway"))}, orders at the gateway ${mib(wirePeak.get("gateway"))}, orders through agent-inf ${mib(loadPeak.get("gateway"))}`,
  );
  console.log(
    `agent-inf   idle after start ${mib(idle.inference)}   peak during orders through its API ${mib(loadPeak.get("inference"))}`,
  );
  await inf.stop().catch((error: Error) => fail(error.message));

  // ----- 6. the Windows gateway under Wine -----------------------------------------------------------
  if (WINE) await wineSection(setup.configPath);
} catch (error) {
  fail(error instanceof Error ? (error.stack ?? error.message) : String(error));
} finally {
  await gateway?.stop().catch(() => undefined);
  killAll();
  deployment.remove();
}

console.log(errors.length === 0 ? "\nbench: ok" : `\nbench: ${errors.length} error(s)`);
process.exit(errors.length === 0 ? 0 : 1);
