/**
 * Transport benchmark (DESIGN.md §8): DEALER→ROUTER echo over CURVE on loopback, client and
 * server in separate processes, ours (Bun↔Bun, shared/net) against libzmq (zeromq.js under
 * Node, Node↔Node) in the same run, with raw Bun TCP echo as the floor under both.
 *
 *   bun run bench:transport              default: 10,000 round trips per size (about 60 s)
 *   bun run bench:transport --quick      CI smoke run: 1,000 round trips per size (about 10 s)
 *   bun run bench:transport --help       the options
 *
 * For each transport and size (100 B, 1 KiB, 64 KiB) it measures round-trip p50/p99/max with one
 * message in flight, then pipelined echo throughput with a window of messages in flight, and
 * prints every figure as a ratio against the raw TCP floor and against libzmq of the same run,
 * then the targets. 64 KiB messages get fewer round trips and a smaller window (SizePlan).
 * Placement of the two processes decides the floor on a small VM, so with taskset available
 * every measurement runs three times:
 *   free     as the scheduler places them (what the agents get; usually on different cores)
 *   split    server on cpu 0, client on cpu 1: every round trip pays two cross-core wake-ups
 *   shared   both on cpu 0: no cross-core wake-up, but the two processes share one core
 *
 * A benchmark, not a test: nothing here fails on a missed target. It exits 1 only when a peer
 * fails, and it kills its peers on every exit path.
 */
import { existsSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Subprocess } from "bun";
import { generateKeyPair } from "../shared/curve/box.ts";
import { z85Encode } from "../shared/curve/z85.ts";
import { CRYPTO_BACKEND_ENV, installCryptoBackend } from "../shared/sodium/install.ts";
import { parseBenchArgs } from "./bench/cli.ts";
import type {
  BenchKeys,
  BenchTransport,
  ClientConfig,
  PeerRecord,
  ServerConfig,
  SizePlan,
} from "./bench/peer-protocol.ts";
import { percentile } from "./bench/stats.ts";

const SIZES = [100, 1024, 65_536] as const;
const KIB = 1024;
/** Messages in flight in the pipelined runs, and the most bytes a window may hold. */
const WINDOW = 1_000;
const WINDOW_BYTES = 16 * 1024 * 1024;
/** Payload one way per throughput run at most, so 64 KiB runs take seconds, not minutes. */
const THROUGHPUT_BYTES = 256 * 1024 * 1024;

const HELP = `usage: bun run bench:transport [--quick] [--n ROUND_TRIPS] [--no-pin] [--tweetnacl]

DEALER→ROUTER echo over CURVE on loopback, ours (Bun) against libzmq (zeromq.js on Node) and the
raw TCP floor, all in the same run, for 100 B, 1 KiB and 64 KiB messages.

  --quick        1,000 round trips per size and short throughput runs: a smoke run, too short
                 to quote
  --n N          timed round trips per size (default 10,000; 64 KiB uses a fifth of N)
  --no-pin       only the unpinned placement (no taskset)
  --tweetnacl    also run ours with AGENT_CRYPTO_BACKEND=tweetnacl (the pure-JS fallback)
  -h, --help     this text

Prints latency (p50/p99/max) and pipelined throughput per transport, every figure as a ratio
against raw TCP and libzmq of the same run, and the targets of docs/PERFORMANCE.md.`;
/** Far above the window, on both implementations, so no echo is ever dropped at a HWM. */
const HIGH_WATER_MARK = 100_000;
const STALL_MS = 10_000;
const PEER_READY_MS = 20_000;
const CLIENT_RESULT_MS = 180_000;

const ROOT = path.resolve(import.meta.dir, "..");
const BUN_PEER = path.join(import.meta.dir, "bench", "bun-peer.ts");
const LIBZMQ_PEER = path.join(import.meta.dir, "bench", "libzmq-peer.mjs");

/** Where the two processes run; see the file header. */
type Placement = "free" | "split" | "shared";

const PLACEMENT_TITLE: Record<Placement, string> = {
  free: "free: separate processes, placed by the scheduler",
  split: "split: server pinned to cpu 0, client to cpu 1 (taskset)",
  shared: "shared: both processes pinned to cpu 0 (taskset -c 0)",
};

interface Settings {
  readonly plans: readonly SizePlan[];
  readonly rows: readonly Row[];
  readonly placements: readonly Placement[];
  readonly quick: boolean;
}

/** What one table row runs: a peer program and the environment it runs with. */
type Row = "tcp" | "ours" | "ours-tweetnacl" | "libzmq";

function parseSettings(argv: readonly string[]): Settings {
  const { values, integer } = parseBenchArgs(
    argv,
    { name: "bench-transport", usage: HELP },
    {
      quick: { type: "boolean" },
      n: { type: "string" },
      "no-pin": { type: "boolean" },
      tweetnacl: { type: "boolean" },
    },
  );
  const quick = values.quick === true;
  const roundTrips = integer(values.n, "--n", quick ? 1_000 : 10_000, 10, 1_000_000);
  const canPin = values["no-pin"] !== true && Bun.which("taskset") !== null;
  const placements: Placement[] = ["free"];
  if (canPin && os.cpus().length >= 2) placements.push("split");
  if (canPin) placements.push("shared");
  return {
    plans: SIZES.map((size) => sizePlan(size, roundTrips, quick)),
    rows: [
      "tcp",
      "ours",
      ...(values.tweetnacl === true ? (["ours-tweetnacl"] as const) : []),
      "libzmq",
    ],
    placements,
    quick,
  };
}

/** Large messages: a fifth of the round trips, and throughput runs bounded in bytes. */
export function sizePlan(size: number, roundTrips: number, quick: boolean): SizePlan {
  const large = size > 4 * KIB;
  const timed = large ? Math.max(10, Math.round(roundTrips / 5)) : roundTrips;
  const messages = quick ? 5_000 : 50_000;
  const warmUp = quick ? 1_000 : 5_000;
  const byBytes = (bytes: number, count: number) =>
    Math.max(100, Math.min(count, Math.floor(bytes / size)));
  return {
    size,
    roundTrips: timed,
    // Bun needs on the order of a thousand round trips before the hot path is compiled
    warmUp: Math.max(large ? 200 : 1_000, Math.round(timed / 5)),
    throughputMessages: byBytes(quick ? THROUGHPUT_BYTES / 8 : THROUGHPUT_BYTES, messages),
    throughputWarmUp: byBytes(THROUGHPUT_BYTES / 16, warmUp),
    window: Math.max(16, Math.min(WINDOW, Math.floor(WINDOW_BYTES / size))),
  };
}

// ----- peer processes ----------------------------------------------------------------------------

const live = new Set<Peer>();
/** CPU time of every peer process that has exited, µs: to tell our load from other processes'. */
let peerCpuMicros = 0;

/** One peer process: JSON lines in on stdin, records out on stdout, stderr kept for errors. */
class Peer {
  readonly name: string;
  readonly #process: Subprocess<"pipe", "pipe", "pipe">;
  readonly #records: PeerRecord[] = [];
  #wake: (() => void) | undefined;
  #stderr = "";
  #ended = false;
  /** Settles once stdout is drained and the exit (with its CPU time) has been recorded. */
  readonly #pumped: Promise<void>;

  constructor(name: string, command: string[], env: Record<string, string> = {}) {
    this.name = name;
    this.#process = Bun.spawn(command, {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdin: "pipe",
      stdout: "pipe",
      stderr: "pipe",
    });
    live.add(this);
    this.#pumped = this.#pump();
  }

  send(config: ServerConfig | ClientConfig): void {
    this.#process.stdin.write(`${JSON.stringify(config)}\n`);
    this.#process.stdin.flush();
  }

  /** The first record of kind `ev`; rejects on an `error` record, early exit or timeout. */
  async next<E extends PeerRecord["ev"]>(
    ev: E,
    timeoutMs: number,
  ): Promise<Extract<PeerRecord, { ev: E }>> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const found = this.#records.find((record) => record.ev === ev || record.ev === "error");
      if (found?.ev === "error") throw new Error(`${this.name}: ${found.message}`);
      if (found !== undefined) return found as Extract<PeerRecord, { ev: E }>;
      if (this.#ended) {
        throw new Error(`${this.name} exited before "${ev}"${this.#stderrTail()}`);
      }
      const remaining = deadline - performance.now();
      if (remaining <= 0) throw new Error(`${this.name}: no "${ev}" within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(remaining, 1_000));
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /** Close stdin (a server's cue to exit), then kill it if it has not exited within 3 s. */
  async stop(): Promise<void> {
    try {
      this.#process.stdin.end();
    } catch {
      // already closed
    }
    const exited = await Promise.race([this.#pumped, Bun.sleep(3_000).then(() => null)]);
    if (exited === null) this.kill();
    live.delete(this);
  }

  kill(): void {
    this.#process.kill("SIGKILL");
    live.delete(this);
  }

  #stderrTail(): string {
    const tail = this.#stderr.trim().slice(-800);
    return tail === "" ? "" : `; stderr: ${tail}`;
  }

  async #pump(): Promise<void> {
    void (async () => {
      const errors = new TextDecoder();
      for await (const chunk of this.#process.stderr) {
        this.#stderr += errors.decode(chunk, { stream: true });
      }
    })();
    const decoder = new TextDecoder();
    let buffered = "";
    for await (const chunk of this.#process.stdout) {
      buffered += decoder.decode(chunk, { stream: true });
      for (let newline = buffered.indexOf("\n"); newline >= 0; newline = buffered.indexOf("\n")) {
        const line = buffered.slice(0, newline).trim();
        buffered = buffered.slice(newline + 1);
        if (line !== "") this.#records.push(parseRecord(line));
      }
      this.#wake?.();
    }
    await this.#process.exited;
    peerCpuMicros += Number(this.#process.resourceUsage()?.cpuTime.total ?? 0n);
    this.#ended = true;
    this.#wake?.();
  }
}

/** A peer that prints anything but a record is broken: treat the line as its error. */
function parseRecord(line: string): PeerRecord {
  try {
    return JSON.parse(line) as PeerRecord;
  } catch {
    return { ev: "error", message: `unexpected output: ${line.slice(0, 200)}` };
  }
}

function killAll(): void {
  for (const peer of [...live]) peer.kill();
}

process.on("exit", killAll);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    killAll();
    process.exit(130);
  });
}

const PEER_TRANSPORT: Record<Row, BenchTransport> = {
  tcp: "tcp",
  ours: "ours",
  "ours-tweetnacl": "ours",
  libzmq: "libzmq",
};

/** The fallback row forces tweetnacl; the others run as the agents would. */
function peerEnvironment(row: Row): Record<string, string> {
  return row === "ours-tweetnacl" ? { [CRYPTO_BACKEND_ENV]: "tweetnacl" } : {};
}

function peerCommand(row: Row, placement: Placement, role: "server" | "client"): string[] {
  const transport = PEER_TRANSPORT[row];
  const command =
    transport === "libzmq" ? ["node", LIBZMQ_PEER] : [process.execPath, BUN_PEER, transport];
  if (placement === "free") return command;
  const cpu = placement === "split" && role === "client" ? "1" : "0";
  return ["taskset", "-c", cpu, ...command];
}

// ----- one measurement: a server process and a client process ------------------------------------

interface LatencyStats {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly count: number;
}

interface ThroughputStats {
  readonly messagesPerSecond: number;
  /** Payload bytes echoed per second, one direction, decimal MB. */
  readonly megabytesPerSecond: number;
}

interface RunResult {
  readonly transport: Row;
  readonly placement: Placement;
  /** Share of the CPU other processes used while this pair ran (undefined off Linux). */
  readonly otherLoad: number | undefined;
  readonly latency: ReadonlyMap<number, LatencyStats>;
  readonly throughput: ReadonlyMap<number, ThroughputStats>;
}

async function run(
  transport: Row,
  placement: Placement,
  keys: BenchKeys,
  settings: Settings,
): Promise<RunResult> {
  const mark = markLoad();
  const result = await measure(transport, placement, keys, settings);
  return { ...result, otherLoad: otherLoadSince(mark) };
}

async function measure(
  transport: Row,
  placement: Placement,
  keys: BenchKeys,
  settings: Settings,
): Promise<Omit<RunResult, "otherLoad">> {
  const label = `${transport} (${placement})`;
  const env = peerEnvironment(transport);
  const server = new Peer(`${label} server`, peerCommand(transport, placement, "server"), env);
  try {
    server.send({ role: "server", keys, highWaterMark: HIGH_WATER_MARK });
    const ready = await server.next("ready", PEER_READY_MS);
    const client = new Peer(`${label} client`, peerCommand(transport, placement, "client"), env);
    try {
      client.send({
        role: "client",
        endpoint: ready.endpoint,
        keys,
        highWaterMark: HIGH_WATER_MARK,
        plans: settings.plans,
        stallMs: STALL_MS,
      } satisfies ClientConfig);
      const result = await client.next("result", CLIENT_RESULT_MS);
      const latency = new Map<number, LatencyStats>();
      for (const report of result.latency) {
        const sorted = Float64Array.from(report.samples).sort();
        latency.set(report.size, {
          p50: percentile(sorted, 0.5),
          p99: percentile(sorted, 0.99),
          max: percentile(sorted, 1),
          count: sorted.length,
        });
      }
      const throughput = new Map<number, ThroughputStats>();
      for (const report of result.throughput) {
        const seconds = report.nanoseconds / 1e9;
        throughput.set(report.size, {
          messagesPerSecond: report.messages / seconds,
          megabytesPerSecond: (report.messages * report.size) / seconds / 1e6,
        });
      }
      return {
        transport,
        placement,
        latency,
        throughput,
      };
    } finally {
      await client.stop();
    }
  } finally {
    await server.stop();
  }
}

// ----- report --------------------------------------------------------------------------------------

const NAMES: Record<Row, string> = {
  tcp: "raw TCP   Bun↔Bun  ",
  ours: "ours      Bun↔Bun  ",
  "ours-tweetnacl": "ours/nacl Bun↔Bun  ",
  libzmq: "libzmq    Node↔Node",
};

/** "100 B", "1 KiB", "64 KiB" */
function sizeName(size: number): string {
  return size >= KIB ? `${size / KIB} KiB` : `${size} B`;
}

const micros = (value: number | undefined): string => (value ?? Number.NaN).toFixed(1).padStart(8);
const count = (value: number | undefined): string =>
  Math.round(value ?? Number.NaN)
    .toLocaleString("en-US")
    .padStart(10);

function firstLine(text: string): string {
  return text.split("\n")[0]?.trim() ?? "";
}

/** Busy CPU seconds of the whole machine so far (Linux /proc/stat), or undefined elsewhere. */
function machineBusySeconds(): number | undefined {
  if (!existsSync("/proc/stat")) return undefined;
  const fields = (readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "")
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  // user nice system idle iowait irq softirq steal. Interrupt time is left out: loopback TCP
  // runs much of its work there without charging it to the processes that caused it.
  const busy = [0, 1, 2, 7].reduce((sum, i) => sum + (fields[i] ?? 0), 0);
  return busy / 100; // USER_HZ is 100 on Linux
}

/** A point to measure other processes' CPU use from. */
interface LoadMark {
  readonly busy: number | undefined;
  readonly atMs: number;
  readonly oursMicros: number;
}

function ourCpuMicros(): number {
  const own = process.cpuUsage();
  return peerCpuMicros + own.user + own.system;
}

function markLoad(): LoadMark {
  return { busy: machineBusySeconds(), atMs: performance.now(), oursMicros: ourCpuMicros() };
}

/**
 * Roughly what share of the machine's CPU processes other than this benchmark used since `mark`
 * (busy time from /proc/stat minus our peers' and our own CPU time), or undefined off Linux. The
 * figures are only as good as the machine was quiet: on a shared VM other jobs land on the same
 * cores, and a pinned run cannot move away from them.
 */
function otherLoadSince(mark: LoadMark): number | undefined {
  const busyNow = machineBusySeconds();
  if (mark.busy === undefined || busyNow === undefined) return undefined;
  const ours = (ourCpuMicros() - mark.oursMicros) / 1e6;
  const capacity = ((performance.now() - mark.atMs) / 1000) * os.cpus().length;
  return Math.max(0, (busyNow - mark.busy - ours) / capacity);
}

/** Above this share of other load a row is marked as disturbed. */
const BUSY_SHARE = 0.1;

function machineInfo(): string[] {
  let cpu = os.cpus()[0]?.model ?? "unknown";
  if (existsSync("/proc/cpuinfo")) {
    const match = /^model name\s*:\s*(.+)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"));
    cpu = match?.[1] ?? cpu;
  }
  let distro = "";
  if (existsSync("/etc/os-release")) {
    const match = /^PRETTY_NAME="?([^"\n]+)"?$/m.exec(readFileSync("/etc/os-release", "utf8"));
    distro = match?.[1] ?? "";
  }
  const version = (pkg: string): string => {
    const file = path.join(ROOT, "node_modules", pkg, "package.json");
    return existsSync(file) ? String(JSON.parse(readFileSync(file, "utf8")).version) : "?";
  };
  // Asked up front, so a missing node or zeromq fails before a minute of measuring
  const probe = Bun.spawnSync(
    ["node", "-e", "process.stdout.write(process.version + ' ' + require('zeromq').version)"],
    { cwd: ROOT, stderr: "pipe" },
  );
  if (probe.exitCode !== 0) {
    throw new Error(`node with zeromq is needed for the libzmq side: ${probe.stderr.toString()}`);
  }
  const [node, libzmq] = probe.stdout.toString().split(" ");
  return [
    `cpu      ${cpu}, ${os.cpus().length} logical cores`,
    `os       ${distro === "" ? os.type() : distro}, kernel ${os.release()} (${os.arch()})`,
    `load     ${os
      .loadavg()
      .map((value) => value.toFixed(2))
      .join(" ")} (1/5/15 min, at start)`,
    `bun      ${Bun.version}; sodium-native ${version("sodium-native")}, tweetnacl ${version("tweetnacl")}`,
    `crypto   ours: secretbox on ${describeBackend()}; X25519 on node:crypto`,
    `node     ${node}; zeromq.js ${version("zeromq")} with libzmq ${libzmq}`,
    "pattern  DEALER→ROUTER echo, CURVE on every transport but raw TCP, client and server in separate processes",
  ];
}

/** The backend our peers install (they inherit this environment), chosen here the same way. */
function describeBackend(): string {
  const backend = installCryptoBackend();
  return `${backend.secretbox} (${backend.detail})`;
}

/** " * 23% other load" after a row measured while other processes were busy. */
function busyMark(result: RunResult): string {
  const other = result.otherLoad;
  return other !== undefined && other > BUSY_SHARE
    ? `  * ${(other * 100).toFixed(0)}% other load`
    : "";
}

function printLatency(results: readonly RunResult[], settings: Settings): void {
  const counts = settings.plans
    .map((plan) => `${plan.roundTrips.toLocaleString("en-US")} × ${sizeName(plan.size)}`)
    .join(", ");
  console.log(`\nRound trip, one message in flight (µs; ${counts}, after a warm-up)`);
  console.log(`${"".padEnd(21)}${SIZES.map((size) => sizeName(size).padStart(26)).join("  ")}`);
  console.log(
    `${"".padEnd(21)}${SIZES.map(() => `${"p50".padStart(8)}${"p99".padStart(9)}${"max".padStart(9)}`).join("  ")}`,
  );
  for (const result of results) {
    const cells = SIZES.map((size) => {
      const stats = result.latency.get(size);
      return `${micros(stats?.p50)} ${micros(stats?.p99)} ${micros(stats?.max)}`;
    });
    console.log(`${NAMES[result.transport]}  ${cells.join("  ")}${busyMark(result)}`);
  }
}

function printThroughput(results: readonly RunResult[], settings: Settings): void {
  const plans = settings.plans
    .map(
      (plan) =>
        `${sizeName(plan.size)}: ${plan.throughputMessages.toLocaleString("en-US")} with ${plan.window} in flight`,
    )
    .join("; ");
  console.log(`\nPipelined echo (${plans}; MB/s = payload one way)`);
  console.log(`${"".padEnd(21)}${SIZES.map((size) => sizeName(size).padStart(20)).join("  ")}`);
  console.log(
    `${"".padEnd(21)}${SIZES.map(() => `${"msg/s".padStart(11)}${"MB/s".padStart(9)}`).join("  ")}`,
  );
  for (const result of results) {
    const cells = SIZES.map((size) => {
      const stats = result.throughput.get(size);
      return `${count(stats?.messagesPerSecond)} ${(stats?.megabytesPerSecond ?? Number.NaN).toFixed(1).padStart(8)}`;
    });
    console.log(`${NAMES[result.transport]} ${cells.join("  ")}${busyMark(result)}`);
  }
}

type Pick = (result: RunResult, size: number) => number | undefined;
const p50: Pick = (result, size) => result.latency.get(size)?.p50;
const p99: Pick = (result, size) => result.latency.get(size)?.p99;
const rate: Pick = (result, size) => result.throughput.get(size)?.messagesPerSecond;

/** a / b of one figure for one size, NaN when either run is missing. */
function ratioOf(pick: Pick, a: RunResult | undefined, b: RunResult | undefined, size: number) {
  const top = a === undefined ? undefined : pick(a, size);
  const bottom = b === undefined ? undefined : pick(b, size);
  return top === undefined || bottom === undefined || bottom === 0 ? Number.NaN : top / bottom;
}

/** Every figure of `row` against raw TCP and libzmq of the same placement. */
function printRatios(results: readonly RunResult[]): void {
  const get = (row: Row) => results.find((result) => result.transport === row);
  const tcp = get("tcp");
  const libzmq = get("libzmq");
  console.log("\nRatios, same run (round trip: lower is better; throughput: higher is better)");
  console.log(`${"".padEnd(40)}${SIZES.map((size) => sizeName(size).padStart(10)).join("")}`);
  const line = (label: string, pick: Pick, a: RunResult | undefined, b: RunResult | undefined) => {
    if (a === undefined || b === undefined) return;
    const cells = SIZES.map((size) => `${ratioOf(pick, a, b, size).toFixed(2)}×`.padStart(10));
    console.log(`${label.padEnd(40)}${cells.join("")}`);
  };
  for (const row of ["ours", "ours-tweetnacl", "libzmq"] as const) {
    const name = NAMES[row].slice(0, 9).trim();
    line(`${name} p50 / raw TCP p50`, p50, get(row), tcp);
  }
  for (const row of ["ours", "ours-tweetnacl"] as const) {
    const name = NAMES[row].slice(0, 9).trim();
    line(`${name} p50 / libzmq p50`, p50, get(row), libzmq);
    line(`${name} msg/s (= MB/s) / libzmq`, rate, get(row), libzmq);
    line(`${name} MB/s / raw TCP MB/s`, rate, get(row), tcp);
  }
}

interface Target {
  readonly name: string;
  /** The figure and whether it meets the target, for one placement's results. */
  judge(results: readonly RunResult[]): { readonly value: string; readonly met: boolean };
}

/** DESIGN.md §8: the PING round trip (a PING is under 100 bytes), then large messages. */
const TARGETS: readonly Target[] = [
  absolute("100 B p50 ≤ 40 µs", p50, 100, 40, "µs"),
  absolute("100 B p99 ≤ 200 µs", p99, 100, 200, "µs"),
  relative("100 B p50 ≤ 0.5 × libzmq p50", p50, 100, "libzmq", 0.5, "at most"),
  relative("100 B msg/s ≥ 2 × libzmq", rate, 100, "libzmq", 2, "at least"),
  relative("1 KiB p50 ≤ 1.5 × raw TCP p50", p50, KIB, "tcp", 1.5, "at most"),
  relative("1 KiB msg/s ≥ 3 × libzmq", rate, KIB, "libzmq", 3, "at least"),
  relative("64 KiB MB/s ≥ libzmq MB/s", rate, 64 * KIB, "libzmq", 1, "at least"),
];

function absolute(name: string, pick: Pick, size: number, limit: number, unit: string): Target {
  return {
    name,
    judge(results) {
      const ours = results.find((result) => result.transport === "ours");
      const value = ours === undefined ? Number.NaN : (pick(ours, size) ?? Number.NaN);
      return { value: `${value.toFixed(1)} ${unit}`, met: value <= limit };
    },
  };
}

function relative(
  name: string,
  pick: Pick,
  size: number,
  reference: Row,
  factor: number,
  direction: "at most" | "at least",
): Target {
  return {
    name,
    judge(results) {
      const get = (row: Row) => results.find((result) => result.transport === row);
      const ratio = ratioOf(pick, get("ours"), get(reference), size);
      const met = direction === "at most" ? ratio <= factor : ratio >= factor;
      return { value: `${ratio.toFixed(2)}×`, met };
    },
  };
}

function printTargets(all: readonly RunResult[], placements: readonly Placement[]): void {
  console.log("\nTargets (docs/PERFORMANCE.md, Targets), ours against the same run's references");
  console.log(`${"".padEnd(34)}${placements.map((placement) => placement.padEnd(22)).join("")}`);
  for (const target of TARGETS) {
    const cells = placements.map((placement) => {
      const verdict = target.judge(all.filter((result) => result.placement === placement));
      return `${verdict.value} ${verdict.met ? "met" : "MISSED"}`.padEnd(22);
    });
    console.log(`${target.name.padEnd(34)}${cells.join("")}`);
  }
}

/** How much of our p50 is the TCP floor measured in the same run, and how much is ours. */
function printFloor(results: readonly RunResult[], placements: readonly Placement[]): void {
  console.log("\nWhere our p50 goes (µs): raw TCP floor + ZMTP/CURVE work in both processes");
  console.log(
    "  (free: the scheduler may place the TCP and the CURVE runs differently; see split/shared)",
  );
  for (const placement of placements) {
    const tcp = results.find((r) => r.transport === "tcp" && r.placement === placement);
    const ours = results.find((r) => r.transport === "ours" && r.placement === placement);
    if (tcp === undefined || ours === undefined) continue;
    const cells = SIZES.map((size) => {
      const floor = tcp.latency.get(size)?.p50 ?? Number.NaN;
      const total = ours.latency.get(size)?.p50 ?? Number.NaN;
      return `${`${sizeName(size)}:`.padEnd(7)} ${floor.toFixed(1).padStart(5)} + ${(total - floor).toFixed(1).padStart(5)} = ${total.toFixed(1).padStart(5)}`;
    });
    console.log(`  ${placement.padEnd(7)} ${cells.join("    ")}`);
  }
}

// ----- main ----------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const settings = parseSettings(process.argv.slice(2));
  const started = performance.now();
  const wholeRun = markLoad();
  console.log(`bench-transport${settings.quick ? " --quick" : ""}`);
  for (const line of machineInfo()) console.log(line);

  const server = generateKeyPair();
  const client = generateKeyPair();
  const keys: BenchKeys = {
    serverPublic: z85Encode(server.publicKey),
    serverSecret: z85Encode(server.secretKey),
    clientPublic: z85Encode(client.publicKey),
    clientSecret: z85Encode(client.secretKey),
  };

  const all: RunResult[] = [];
  for (const placement of settings.placements) {
    for (const row of settings.rows) all.push(await run(row, placement, keys, settings));
  }
  for (const placement of settings.placements) {
    const results = all.filter((r) => r.placement === placement);
    console.log(`\n=== ${PLACEMENT_TITLE[placement]} ===`);
    printLatency(results, settings);
    printThroughput(results, settings);
    printRatios(results);
  }
  printTargets(all, settings.placements);
  printFloor(all, settings.placements);
  const other = otherLoadSince(wholeRun);
  if (other !== undefined) {
    const verdict =
      other > BUSY_SHARE
        ? " — the machine was not quiet; rows marked * ran beside other work, rerun for clean figures"
        : "";
    console.log(
      `\nother processes used about ${(other * 100).toFixed(0)}% of the CPU during the run${verdict}`,
    );
  }
  console.log(`total ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

if (import.meta.main) {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(
        `bench-transport: ${firstLine(error instanceof Error ? error.message : String(error))}`,
      );
      killAll();
      process.exit(1);
    },
  );
}
