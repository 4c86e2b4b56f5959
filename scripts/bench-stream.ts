/**
 * Quote fan-out through the real processes: agent-gtw on the simulated MT5 with a fast tick,
 * and N subscribers that receive every quote of every symbol.
 *
 *   bun scripts/bench-stream.ts [--seconds S] [--tick-ms T] [--subscribers N] [--quick]
 *
 * Two paths, each measured for S seconds after a warm-up:
 * - gateway: N DEALER clients in this process subscribe over CURVE (what agent-inf does);
 * - strategy: agent-inf (a process) subscribes once, and N SSE clients in this process read
 *   GET /v1/stream, as strategies would.
 *
 * Reports events/s delivered (all subscribers together), the quotes the sim produced, the share
 * of every quote to every subscriber that arrived (below 100 % means quotes were conflated for a
 * reader that fell behind), and latency from the sim's tick to the reader (p50/p99/max). The tick time is whole milliseconds (the sim's clock), so latencies read
 * up to 1 ms high (0.5 ms on average). A benchmark, not a test: it fails only on errors.
 */
import { cpus, release } from "node:os";
import { readPublicKeyFile, readSecretKeyFile } from "../shared/keys/curve-keys.ts";
import { DealerSocket } from "../shared/net/index.ts";
import { encodeRequest, newRequestId, type Request } from "../shared/protocol/index.ts";
import { installCryptoBackend } from "../shared/sodium/install.ts";
import { parseBenchArgs } from "./bench/cli.ts";
import { type RunningAgent, startGateway } from "./harness/agents.ts";
import { createDeployment, type Deployment } from "./harness/deployment.ts";
import { bearer, readHealth, startInference, writeInferenceConfig } from "./harness/inference.ts";

const { values, integer } = parseBenchArgs(
  Bun.argv.slice(2),
  {
    name: "bench-stream",
    usage: `usage: bun run bench:stream [--seconds S] [--tick-ms T] [--subscribers N] [--quick]

Quote fan-out from agent-gtw on the simulated MT5 to N subscribers: straight over CURVE, and
through agent-inf's SSE stream. Events/s, share delivered, tick-to-reader latency.

  --seconds S       measuring time per path (default 10; 3 with --quick)
  --tick-ms T       the sim's tick interval (default 5)
  --subscribers N   subscribers per path (default 10)
  --quick           shorter run
  -h, --help        this text`,
  },
  {
    seconds: { type: "string" },
    "tick-ms": { type: "string" },
    subscribers: { type: "string" },
    quick: { type: "boolean" },
  },
);
const quick = values.quick === true;
const seconds = integer(values.seconds, "--seconds", quick ? 3 : 10, 1, 3600);
const tickMs = integer(values["tick-ms"], "--tick-ms", 5, 1, 60_000);
const subscribers = integer(values.subscribers, "--subscribers", 10, 1, 1000);
const SYMBOLS = ["EURUSD", "GBPUSD", "USDJPY", "XAUUSD", "US500", "GER40", "BTCUSD"];
const WARMUP_MS = 1000;

/** Wall clock with sub-millisecond resolution, comparable with the gateway's Date.now(). */
const wallNow = () => performance.timeOrigin + performance.now();

interface Tally {
  events: number;
  latencies: number[];
  measuring: boolean;
}

function record(tally: Tally, tickTime: number): void {
  if (!tally.measuring) return;
  tally.events += 1;
  tally.latencies.push(wallNow() - tickTime);
}

function summary(name: string, tally: Tally, durationS: number, produced: number) {
  const sorted = [...tally.latencies].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return {
    path: name,
    subscribers,
    events_per_s: Math.round(tally.events / durationS),
    quotes_produced_per_s: Math.round(produced / durationS),
    /** Of every quote to every subscriber; below 100 % means quotes were conflated. */
    delivered_percent: produced === 0 ? 0 : round((100 * tally.events) / (produced * subscribers)),
    latency_ms: {
      p50: round(at(0.5)),
      p99: round(at(0.99)),
      max: round(sorted.at(-1) ?? 0),
    },
  };
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

// ---------------------------------------------------------------------------------------------
// Gateway path: DEALER subscribers

async function gatewayPath(deployment: Deployment, endpoint: string) {
  const client = readSecretKeyFile(deployment.inferenceKeys.curveSecretPath);
  const server = readPublicKeyFile(deployment.gatewayKeys.publicPath);
  const tally: Tally = { events: 0, latencies: [], measuring: false };
  const decoder = new TextDecoder();
  let produced = 0;
  const sockets: DealerSocket[] = [];
  for (let i = 0; i < subscribers; i++) {
    const socket = new DealerSocket({
      security: {
        mechanism: "CURVE",
        role: "client",
        publicKey: client.publicKey,
        secretKey: client.secretKey,
        serverKey: server.publicKey,
      },
      maxMessageSize: 4 * 1024 * 1024,
    });
    const first = i === 0;
    socket.onMessage((parts) => {
      const message = JSON.parse(decoder.decode(parts[0])) as Record<string, unknown>;
      if (message["event"] !== "QUOTE") return;
      record(tally, message["time"] as number);
      if (first && tally.measuring) produced += 1;
    });
    socket.connect(endpoint);
    const request = {
      v: 1,
      id: newRequestId(),
      action: "SUBSCRIBE",
      ts: Date.now(),
      symbols: SYMBOLS,
    } as unknown as Request;
    socket.send([encodeRequest(request)]);
    sockets.push(socket);
  }
  await Bun.sleep(WARMUP_MS);
  tally.measuring = true;
  await Bun.sleep(seconds * 1000);
  tally.measuring = false;
  await Promise.all(sockets.map((socket) => socket.close()));
  // Every subscriber asked for every quote: the first one's count is what the sim produced
  return summary("gateway → DEALER", tally, seconds, produced);
}

// ---------------------------------------------------------------------------------------------
// Strategy path: agent-inf and SSE readers

async function strategyPath(deployment: Deployment, endpoint: string) {
  const setup = writeInferenceConfig(deployment, endpoint, {
    risk: { allowed_symbols: SYMBOLS },
    heartbeatMs: 1000,
  });
  const agent: RunningAgent = await startInference(setup);
  try {
    for (const deadline = performance.now() + 10_000; ; ) {
      const health = await readHealth(setup.apiUrl, setup.token);
      const lane = health.gateways[0] as { stream?: { state?: string } } | undefined;
      if (lane?.stream?.state === "LIVE") break;
      if (performance.now() > deadline) throw new Error("agent-inf stream not LIVE");
      await Bun.sleep(50);
    }
    const tally: Tally = { events: 0, latencies: [], measuring: false };
    let produced = 0;
    const controllers: AbortController[] = [];
    const readers: Promise<void>[] = [];
    for (let i = 0; i < subscribers; i++) {
      const controller = new AbortController();
      controllers.push(controller);
      const first = i === 0;
      readers.push(
        (async () => {
          const response = await fetch(`${setup.apiUrl}/v1/stream?quotes=${SYMBOLS.join(",")}`, {
            signal: controller.signal,
            headers: bearer(setup.token),
          });
          const decoder = new TextDecoder();
          let buffer = "";
          try {
            for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
              buffer += decoder.decode(chunk, { stream: true });
              let end = buffer.indexOf("\n\n");
              while (end >= 0) {
                const block = buffer.slice(0, end);
                buffer = buffer.slice(end + 2);
                end = buffer.indexOf("\n\n");
                if (!block.startsWith("event: QUOTE")) continue;
                const data = JSON.parse(block.slice(block.indexOf("data: ") + 6)) as {
                  time: number;
                };
                record(tally, data.time);
                if (first && tally.measuring) produced += 1;
              }
            }
          } catch {
            // aborted at the end
          }
        })(),
      );
    }
    await Bun.sleep(WARMUP_MS);
    tally.measuring = true;
    await Bun.sleep(seconds * 1000);
    tally.measuring = false;
    for (const controller of controllers) controller.abort();
    await Promise.all(readers);
    return summary("gateway → agent-inf → SSE", tally, seconds, produced);
  } finally {
    await agent.stop();
  }
}

// ---------------------------------------------------------------------------------------------

installCryptoBackend();
const deployment = createDeployment({
  gateway: {
    backend: { sim: { tick_interval_ms: tickMs, sessions: "always" } },
    log: { level: "warn" },
  },
});
let gateway: RunningAgent | undefined;
try {
  const started = await startGateway(deployment.gtwConfigPath, deployment.gtwStateDir);
  gateway = started;
  const results = [
    await gatewayPath(deployment, started.endpoint),
    await strategyPath(deployment, started.endpoint),
  ];
  const cpu = cpus()[0]?.model ?? "unknown CPU";
  console.log(
    `# stream fan-out: ${SYMBOLS.length} symbols, sim tick ${tickMs} ms, ${subscribers} subscribers, ${seconds} s`,
  );
  console.log(`# ${cpu} × ${cpus().length}, ${process.platform} ${release()}, Bun ${Bun.version}`);
  console.log(
    "| path | quotes/s produced | events/s delivered | delivered | p50 ms | p99 ms | max ms |",
  );
  console.log("|---|---|---|---|---|---|---|");
  for (const r of results) {
    console.log(
      `| ${r.path} | ${r.quotes_produced_per_s} | ${r.events_per_s} | ${r.delivered_percent} % | ${r.latency_ms.p50} | ${r.latency_ms.p99} | ${r.latency_ms.max} |`,
    );
  }
  console.log(JSON.stringify({ cpu, cores: cpus().length, bun: Bun.version, tickMs, results }));
} finally {
  await gateway?.stop();
  deployment.remove();
}
