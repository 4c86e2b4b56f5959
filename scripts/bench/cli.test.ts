/**
 * Every benchmark script answers --help with its usage (exit 0) and a bad option with one line
 * and the usage (exit 2), never a stack trace; without measuring anything.
 */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";

const SCRIPTS = join(import.meta.dir, "..");
const BENCHMARKS = [
  "bench.ts",
  "bench-crypto.ts",
  "bench-orders.ts",
  "bench-protocol.ts",
  "bench-sim.ts",
  "bench-stream.ts",
  "bench-transport.ts",
  "bench/curve-path.ts",
  "bench/profile-echo.ts",
  "bench-e2e/hello-cost.ts",
  "bench-e2e/hello-flood.ts",
];

function run(script: string, args: string[]) {
  const child = Bun.spawnSync([process.execPath, join(SCRIPTS, script), ...args], {
    stdout: "pipe",
    stderr: "pipe",
    timeout: 20_000,
  });
  return { code: child.exitCode, stdout: child.stdout.toString(), stderr: child.stderr.toString() };
}

describe("benchmark command lines", () => {
  for (const script of BENCHMARKS) {
    test(`${script} --help and a bad option`, () => {
      const help = run(script, ["--help"]);
      expect(help.code).toBe(0);
      expect(help.stdout).toStartWith("usage: ");
      const bad = run(script, ["--no-such-option"]);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain("--no-such-option");
      expect(bad.stderr).toContain("usage: ");
      expect(bad.stderr).not.toContain("    at ");
    });
  }

  test("the benchmark peers answer --help too", () => {
    const bun = run("bench/bun-peer.ts", ["--help"]);
    expect(bun.code).toBe(0);
    expect(bun.stdout).toStartWith("usage: ");
    const node = Bun.spawnSync(["node", join(SCRIPTS, "bench", "libzmq-peer.mjs"), "--help"], {
      stdout: "pipe",
    });
    expect(node.exitCode).toBe(0);
    expect(node.stdout.toString()).toStartWith("usage: ");
  });
});
