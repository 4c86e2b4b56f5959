/**
 * Process bookkeeping for scripts/bench.ts: every child it starts is registered here and killed
 * when the benchmark exits, however it exits; plus what Linux says about a process (RSS, CPU
 * time) and the machine (CPU model, kernel, distribution).
 */
import { existsSync, readFileSync } from "node:fs";
import os from "node:os";
import type { Subprocess } from "bun";

const live = new Set<Subprocess>();

/** Register `child` to be killed on exit; returns it. */
export function spawned<T extends Subprocess>(child: T, _name: string): T {
  live.add(child);
  void child.exited.then(() => live.delete(child));
  return child;
}

export function killAll(): void {
  for (const child of [...live]) child.kill("SIGKILL");
}

process.on("exit", killAll);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    killAll();
    process.exit(130);
  });
}

/** Resident set size of `pid` in MiB (Linux), NaN elsewhere. */
export function rssMib(pid: number): number {
  try {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return Number(match?.[1]) / 1024;
  } catch {
    return Number.NaN;
  }
}

/** CPU seconds (user + system) used by `pid` so far (Linux), NaN elsewhere. */
export function cpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

/** Samples the peak RSS of some processes every `everyMs` until stopped. */
export class RssSampler {
  readonly peaks = new Map<string, number>();
  readonly #timer: ReturnType<typeof setInterval>;

  constructor(pids: Readonly<Record<string, number>>, everyMs = 50) {
    const sample = () => {
      for (const [name, pid] of Object.entries(pids))
        this.peaks.set(name, Math.max(this.peaks.get(name) ?? 0, rssMib(pid) || 0));
    };
    sample();
    this.#timer = setInterval(sample, everyMs);
  }

  stop(): Map<string, number> {
    clearInterval(this.#timer);
    return this.peaks;
  }
}

export function machineLines(): string[] {
  let cpu = os.cpus()[0]?.model ?? "unknown";
  if (existsSync("/proc/cpuinfo")) {
    cpu = /^model name\s*:\s*(.+)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1] ?? cpu;
  }
  let distro = os.type();
  if (existsSync("/etc/os-release")) {
    distro =
      /^PRETTY_NAME="?([^"\n]+)"?$/m.exec(readFileSync("/etc/os-release", "utf8"))?.[1] ?? distro;
  }
  const memory = `${Math.round(os.totalmem() / 1024 ** 3)} GiB`;
  return [
    `cpu      ${cpu}, ${os.cpus().length} logical cores; memory ${memory}`,
    `os       ${distro}, kernel ${os.release()} (${os.arch()})`,
    `load     ${os
      .loadavg()
      .map((value) => value.toFixed(2))
      .join(" ")} (1/5/15 min, at start)`,
  ];
}

/** Busy CPU seconds of the whole machine so far (Linux /proc/stat: user, nice, system, steal). */
function machineBusySeconds(): number | undefined {
  if (!existsSync("/proc/stat")) return undefined;
  const fields = (readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "")
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  return [0, 1, 2, 7].reduce((sum, i) => sum + (fields[i] ?? 0), 0) / 100;
}

/** Share of the machine's CPU that was busy over the next `ms` (nothing of ours runs then). */
export async function busyShare(ms: number): Promise<number> {
  const before = machineBusySeconds();
  const ownBefore = process.cpuUsage();
  await Bun.sleep(ms);
  const after = machineBusySeconds();
  if (before === undefined || after === undefined) return 0;
  const own = process.cpuUsage(ownBefore);
  const busy = after - before - (own.user + own.system) / 1e6;
  return Math.max(0, busy / ((ms / 1000) * os.cpus().length));
}
