/**
 * Market data to a strategy (issue 14 §5): M1 bars from the simulated broker, through agent-gtw
 * and agent-inf as processes, to an HTTP client reading GET /v1/rates, as JSON and as CSV; beside
 * the same bytes over the bare transports in the same run, and the peak memory of both agents
 * while they serve it.
 *
 *   bun scripts/bench-market.ts [--bars 100000,1000000] [--runs 3] [--quick]
 *
 * For each size and format: the time from the request to the last byte (best and median of the
 * runs), MB/s of the answer, bars/s, and each agent's peak RSS during the answers next to its
 * RSS before them. The references move as many bytes as the 100k JSON answer: in 5000-bar-sized
 * frames over our CURVE DEALER/ROUTER, two requests in flight as agent-inf pages (the far end a
 * separate process, scripts/bench/bulk-peer.ts), and over raw loopback TCP. A benchmark, not a
 * test: it fails only on errors.
 */
import { cpus, release } from "node:os";
import { join } from "node:path";
import { generateKeyPair } from "../shared/curve/box.ts";
import { z85Decode, z85Encode } from "../shared/curve/z85.ts";
import { DealerSocket } from "../shared/net/index.ts";
import { MAX_RATES_PER_PAGE } from "../shared/protocol/index.ts";
import { parseBenchArgs } from "./bench/cli.ts";
import type { BenchKeys } from "./bench/peer-protocol.ts";
import { startGateway } from "./harness/agents.ts";
import { createDeployment } from "./harness/deployment.ts";
import {
  bearer,
  PERMISSIVE_RISK,
  startInference,
  writeInferenceConfig,
} from "./harness/inference.ts";
import { MIB, residentBytes, sampleRss } from "./harness/rss.ts";

const { values, integer } = parseBenchArgs(
  Bun.argv.slice(2),
  {
    name: "bench-market",
    usage: `usage: bun scripts/bench-market.ts [--bars LIST] [--runs N] [--quick]

M1 bars from the sim through agent-gtw and agent-inf (processes) to an HTTP client, JSON and
CSV, beside the same bytes over our CURVE transport and raw TCP; peak RSS of both agents.

  --bars LIST   answer sizes in bars, comma-separated (default 100000,1000000)
  --runs N      runs per size and format; best and median are reported (default 3)
  --quick       one run of 100000 bars (CI smoke run)
  -h, --help    this text`,
  },
  {
    bars: { type: "string" },
    runs: { type: "string" },
    quick: { type: "boolean" },
  },
);
const quick = values.quick === true;
const RUNS = quick ? 1 : integer(values.runs, "--runs", 3, 1, 100);
const SIZES = (values.bars ?? (quick ? "100000" : "100000,1000000")).split(",").map((text) => {
  const bars = Number(text);
  if (!Number.isSafeInteger(bars) || bars < 1 || bars > 1_000_000) {
    process.stderr.write(`bench-market: --bars takes 1..1000000 each, was ${text}\n`);
    process.exit(2);
  }
  return bars;
});

interface Measured {
  readonly ms: number;
  readonly bytes: number;
}

const round = (value: number, digits = 1) => Number(value.toFixed(digits));
const mbps = (bytes: number, ms: number) => round(bytes / 1e6 / (ms / 1000));
const median = (list: readonly number[]) =>
  [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)] as number;

async function download(url: string, token: string | undefined): Promise<Measured> {
  const started = performance.now();
  const response = await fetch(url, { headers: bearer(token) });
  if (response.status !== 200)
    throw new Error(`${url}: HTTP ${response.status} ${await response.text()}`);
  let bytes = 0;
  for await (const chunk of response.body as ReadableStream<Uint8Array>) bytes += chunk.byteLength;
  return { ms: performance.now() - started, bytes };
}

// ---------------------------------------------------------------------------------------------
// References: the same bytes over the bare transports

interface BulkPeer {
  readonly ours: string;
  readonly tcp: string;
  stop(): void;
}

async function startBulkPeer(keys: BenchKeys, pageBytes: number): Promise<BulkPeer> {
  const child = Bun.spawn([process.execPath, join(import.meta.dir, "bench", "bulk-peer.ts")], {
    stdin: "pipe",
    stdout: "pipe",
    stderr: "inherit",
  });
  child.stdin.write(`${JSON.stringify({ keys, pageBytes })}\n`);
  child.stdin.flush();
  const reader = child.stdout.getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { done, value } = await reader.read();
    if (done) throw new Error("bulk-peer exited before it was ready");
    text += new TextDecoder().decode(value);
  }
  const ready = JSON.parse(text.slice(0, text.indexOf("\n"))) as { ours: string; tcp: string };
  return {
    ...ready,
    stop() {
      child.stdin.end();
      child.kill();
    },
  };
}

/** `pages` requests over CURVE, two in flight as agent-inf keeps them; each answer one page. */
async function oursTransfer(keys: BenchKeys, endpoint: string, pages: number): Promise<Measured> {
  const dealer = new DealerSocket({
    security: {
      mechanism: "CURVE",
      role: "client",
      publicKey: z85Decode(keys.clientPublic),
      secretKey: z85Decode(keys.clientSecret),
      serverKey: z85Decode(keys.serverPublic),
    },
    maxMessageSize: 4 * 1024 * 1024,
  });
  const ready = Promise.withResolvers<void>();
  dealer.on((event) => {
    if (event.type === "handshake_succeeded") ready.resolve();
  });
  dealer.connect(endpoint);
  await ready.promise;
  const request = new TextEncoder().encode('{"page":1}');
  const done = Promise.withResolvers<void>();
  let asked = 0;
  let received = 0;
  let bytes = 0;
  dealer.onMessage((parts) => {
    received += 1;
    bytes += (parts[0] as Uint8Array).byteLength;
    if (received === pages) done.resolve();
    else if (asked < pages) {
      asked += 1;
      dealer.send([request]);
    }
  });
  const started = performance.now();
  for (; asked < Math.min(2, pages); asked++) dealer.send([request]);
  await done.promise;
  const ms = performance.now() - started;
  await dealer.close();
  return { ms, bytes };
}

async function tcpTransfer(endpoint: string, total: number): Promise<Measured> {
  const port = Number(endpoint.slice(endpoint.lastIndexOf(":") + 1));
  const done = Promise.withResolvers<void>();
  let bytes = 0;
  const started = performance.now();
  const socket = await Bun.connect({
    hostname: "127.0.0.1",
    port,
    socket: {
      data(_socket, data) {
        bytes += data.byteLength;
        if (bytes >= total) done.resolve();
      },
    },
  });
  socket.write(`${total}\n`);
  await done.promise;
  const ms = performance.now() - started;
  socket.end();
  return { ms, bytes };
}

function benchKeys(): BenchKeys {
  const server = generateKeyPair();
  const client = generateKeyPair();
  return {
    serverPublic: z85Encode(server.publicKey),
    serverSecret: z85Encode(server.secretKey),
    clientPublic: z85Encode(client.publicKey),
    clientSecret: z85Encode(client.secretKey),
  };
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const deployment = createDeployment();
  const stops: (() => Promise<unknown> | unknown)[] = [() => deployment.remove()];
  try {
    const gateway = await startGateway(deployment.gtwConfigPath, deployment.gtwStateDir);
    stops.push(() => gateway.stop());
    const setup = writeInferenceConfig(deployment, gateway.endpoint, { risk: PERMISSIVE_RISK });
    const inference = await startInference(setup);
    stops.push(() => inference.stop());
    const pids = { "agent-gtw": gateway.process.pid, "agent-inf": inference.process.pid };
    const url = (bars: number, format: string) =>
      `${setup.apiUrl}/v1/rates/EURUSD?timeframe=M1&count=${bars}&format=${format}`;

    // Warm-up: JIT, the sim's day caches, both heaps' first growth
    await download(url(Math.min(300_000, Math.max(...SIZES)), "json"), setup.token);
    const before = Object.fromEntries(
      Object.entries(pids).map(([name, pid]) => [name, round((residentBytes(pid) ?? 0) / MIB)]),
    );

    const api: Record<string, unknown>[] = [];
    let jsonBytes100k = 0;
    for (const bars of SIZES) {
      for (const format of ["json", "csv"]) {
        const sampler = sampleRss(Object.values(pids));
        const runs: Measured[] = [];
        for (let run = 0; run < RUNS; run++)
          runs.push(await download(url(bars, format), setup.token));
        const peaks = sampler.stop();
        const times = runs.map((run) => run.ms);
        const bytes = runs[0]?.bytes ?? 0;
        if (format === "json" && bars === SIZES[0]) jsonBytes100k = bytes;
        const best = Math.min(...times);
        api.push({
          bars,
          format,
          answer_mib: round(bytes / MIB),
          best_ms: round(best),
          median_ms: round(median(times)),
          mb_per_s: mbps(bytes, best),
          bars_per_s: Math.round(bars / (best / 1000)),
          peak_rss_mib: Object.fromEntries(
            Object.entries(pids).map(([name, pid]) => [name, round((peaks.get(pid) ?? 0) / MIB)]),
          ),
        });
      }
    }

    // The references, moving the first size's JSON answer in page-sized frames
    const keys = benchKeys();
    const pages = Math.ceil((SIZES[0] as number) / MAX_RATES_PER_PAGE);
    const pageBytes = Math.ceil(jsonBytes100k / pages);
    const peer = await startBulkPeer(keys, pageBytes);
    stops.push(() => peer.stop());
    await oursTransfer(keys, peer.ours, pages);
    const ours: Measured[] = [];
    const tcp: Measured[] = [];
    for (let run = 0; run < Math.max(RUNS, 3); run++) {
      ours.push(await oursTransfer(keys, peer.ours, pages));
      tcp.push(await tcpTransfer(peer.tcp, pages * pageBytes));
    }
    const best = (list: Measured[]) => Math.min(...list.map((m) => m.ms));
    const oursBest = best(ours);
    const tcpBest = best(tcp);
    const reference = {
      bytes_mib: round((pages * pageBytes) / MIB),
      frames: pages,
      ours_curve: { best_ms: round(oursBest, 2), mb_per_s: mbps(pages * pageBytes, oursBest) },
      raw_tcp: { best_ms: round(tcpBest, 2), mb_per_s: mbps(pages * pageBytes, tcpBest) },
    };
    const first = api.find((row) => row["format"] === "json") as { best_ms: number };
    const machine = {
      cpus: cpus().length,
      model: cpus()[0]?.model ?? "?",
      kernel: release(),
      bun: Bun.version,
      load_1m: round(
        Number(
          (
            await Bun.file("/proc/loadavg")
              .text()
              .catch(() => "0")
          ).split(" ")[0],
        ),
        2,
      ),
    };

    console.log(
      `bench-market: GET /v1/rates M1 bars, ${RUNS} run(s) each; RSS before: ${JSON.stringify(before)} MiB`,
    );
    console.log(
      "bars     fmt   MiB     best ms  median ms  MB/s    bars/s     peak RSS MiB (gtw / inf)",
    );
    for (const row of api) {
      const peak = row["peak_rss_mib"] as Record<string, number>;
      console.log(
        `${String(row["bars"]).padEnd(8)} ${String(row["format"]).padEnd(5)} ${String(row["answer_mib"]).padEnd(7)} ${String(row["best_ms"]).padEnd(8)} ${String(row["median_ms"]).padEnd(10)} ${String(row["mb_per_s"]).padEnd(7)} ${String(row["bars_per_s"]).padEnd(10)} ${peak["agent-gtw"]} / ${peak["agent-inf"]}`,
      );
    }
    console.log(
      `same bytes (${reference.bytes_mib} MiB in ${pages} frames): our CURVE ${reference.ours_curve.best_ms} ms (${reference.ours_curve.mb_per_s} MB/s), raw TCP ${reference.raw_tcp.best_ms} ms (${reference.raw_tcp.mb_per_s} MB/s); the API answer takes ${round(first.best_ms / oursBest)}× our CURVE transfer, ${round(first.best_ms / tcpBest)}× raw TCP`,
    );
    console.log(JSON.stringify({ machine, rss_before_mib: before, api, reference }));
  } finally {
    for (const stop of stops.reverse()) await stop();
  }
}

await main();
