/**
 * Benchmark of the simulated broker's trade path: open and close latency (each including the
 * fdatasync that makes the trade durable) and throughput with and without group commit, with a
 * bare write + fdatasync loop measured in the same run as the floor this disk allows.
 *
 *   bun scripts/bench-sim.ts [--iterations 5000] [--batch 64] [--dir /path/on/the/disk]
 */
import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CloseOrder, OpenOrder } from "../agent-gtw/backend/backend.ts";
import { SimBackend } from "../agent-gtw/backend/sim/sim-backend.ts";
import { systemClock } from "../shared/clock.ts";
import { Retcode } from "../shared/protocol/index.ts";
import { parseBenchArgs } from "./bench/cli.ts";

const { values, integer } = parseBenchArgs(
  Bun.argv.slice(2),
  {
    name: "bench-sim",
    usage: `usage: bun scripts/bench-sim.ts [--iterations N] [--batch B] [--dir PATH]

The simulated broker's trade path: open/close latency (each with its fdatasync) and throughput
with and without group commit, next to a bare write + fdatasync loop on the same disk.

  --iterations N   trades per phase (default 5000)
  --batch B        group-commit batch size (default 64)
  --dir PATH       where the journal goes (default: the system temp directory)
  -h, --help       this text`,
  },
  {
    iterations: { type: "string" },
    batch: { type: "string" },
    dir: { type: "string" },
  },
);
const ITERATIONS = integer(values.iterations, "--iterations", 5000, 1);
const BATCH = integer(values.batch, "--batch", 64, 1, 100_000);
const baseDir = values.dir ?? tmpdir();

const order: OpenOrder = {
  clientOrderId: "bench",
  symbol: "EURUSD",
  side: "BUY",
  volume: 0.1,
  sl: null,
  tp: null,
  deviation: 10,
  magic: 1,
  comment: "t:bench",
};
const closeFor = (ticket: number): CloseOrder => ({
  clientOrderId: "bench-close",
  ticket,
  volume: null,
  deviation: 10,
  magic: 1,
  comment: "t:bench-close",
});

function percentile(sorted: readonly number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))] ?? 0;
}

function describe(name: string, samplesMs: number[]): void {
  const sorted = [...samplesMs].sort((a, b) => a - b);
  const us = (ms: number) => `${(ms * 1000).toFixed(0).padStart(5)} µs`;
  console.log(
    `${name.padEnd(22)} p50 ${us(percentile(sorted, 0.5))}  p99 ${us(percentile(sorted, 0.99))}  ` +
      `max ${us(sorted.at(-1) ?? 0)}`,
  );
}

/** The floor: a record-sized line (~900 bytes) written and fdatasync'ed, as the log does. */
function bareSync(dir: string): number[] {
  const fd = openSync(join(dir, "bare.jsonl"), "w+");
  const line = Buffer.from(`${"x".repeat(899)}\n`);
  const samples: number[] = [];
  let position = 0;
  for (let index = 0; index < ITERATIONS; index++) {
    const start = performance.now();
    writeSync(fd, line, 0, line.length, position);
    fdatasyncSync(fd);
    samples.push(performance.now() - start);
    position += line.length;
  }
  closeSync(fd);
  return samples;
}

async function withSim(dir: string, run: (sim: SimBackend) => Promise<void>): Promise<SimBackend> {
  const sim = new SimBackend({
    clock: systemClock,
    seed: 1,
    stateDir: dir,
    sessions: "always",
    account: { balance: 1e9 },
  });
  await sim.start();
  await run(sim);
  return sim;
}

async function sequential(dir: string) {
  const opens: number[] = [];
  const closes: number[] = [];
  let stats = { recordsInLog: 0, syncs: 0, compactions: 0 };
  const started = performance.now();
  const sim = await withSim(dir, async (backend) => {
    for (let index = 0; index < ITERATIONS; index++) {
      const t0 = performance.now();
      const opened = await backend.open(order);
      const t1 = performance.now();
      const closed = await backend.close(closeFor(opened.position));
      const t2 = performance.now();
      if (opened.retcode !== Retcode.DONE || closed.retcode !== Retcode.DONE) {
        throw new Error(`bench: trade refused (${opened.retcode}, ${closed.retcode})`);
      }
      opens.push(t1 - t0);
      closes.push(t2 - t1);
    }
    stats = backend.stats();
  });
  const elapsedS = (performance.now() - started) / 1000;
  await sim.stop();
  return { opens, closes, elapsedS, stats };
}

async function concurrent(dir: string) {
  let trades = 0;
  let syncs = 0;
  const started = performance.now();
  const sim = await withSim(dir, async (backend) => {
    const syncsBefore = backend.stats().syncs;
    for (let done = 0; done < ITERATIONS; done += BATCH) {
      const opened = await Promise.all(Array.from({ length: BATCH }, () => backend.open(order)));
      await Promise.all(opened.map((result) => backend.close(closeFor(result.position))));
      trades += 2 * BATCH;
    }
    syncs = backend.stats().syncs - syncsBefore;
  });
  const elapsedS = (performance.now() - started) / 1000;
  await sim.stop();
  return { trades, syncs, elapsedS };
}

const root = mkdtempSync(join(baseDir, "bench-sim-"));
try {
  console.log(`bench-sim: ${ITERATIONS} open+close pairs, state in ${root}`);
  describe("bare write+fdatasync", bareSync(root));

  const seq = await sequential(join(root, "sequential"));
  describe("open (durable)", seq.opens);
  describe("close (durable)", seq.closes);
  const pairs = seq.opens.map((value, index) => value + (seq.closes[index] ?? 0));
  describe("open+close pair", pairs);
  console.log(
    `sequential             ${((2 * ITERATIONS) / seq.elapsedS).toFixed(0)} trades/s ` +
      `(${seq.stats.compactions} compactions, ${seq.stats.syncs} syncs)`,
  );

  const par = await concurrent(join(root, "concurrent"));
  console.log(
    `group commit x${BATCH}        ${(par.trades / par.elapsedS).toFixed(0)} trades/s ` +
      `(${par.trades} trades in ${par.syncs} syncs)`,
  );
} finally {
  rmSync(root, { recursive: true, force: true });
}
