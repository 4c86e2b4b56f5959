/**
 * Resident memory of agent processes (Linux /proc), for tests and benchmarks that claim memory
 * stays bounded while the agents serve something large: read it once, or sample it on an
 * interval and keep the peak.
 */
import { readFileSync } from "node:fs";

/** VmRSS of a process in bytes; undefined when /proc has no such process (or no /proc). */
export function residentBytes(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
    return match === null ? undefined : Number(match[1]) * 1024;
  } catch {
    return undefined;
  }
}

export interface RssSampler {
  /** The highest VmRSS seen per pid since start (bytes), sampling once more now. */
  stop(): Map<number, number>;
}

/** Sample VmRSS of `pids` every `intervalMs` and keep the peak of each. */
export function sampleRss(pids: readonly number[], intervalMs = 10): RssSampler {
  const peaks = new Map<number, number>();
  const sample = () => {
    for (const pid of pids) {
      const rss = residentBytes(pid);
      if (rss !== undefined) peaks.set(pid, Math.max(peaks.get(pid) ?? 0, rss));
    }
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return peaks;
    },
  };
}

export const MIB = 1024 * 1024;
