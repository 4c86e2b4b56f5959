/**
 * The README's first command must keep working: run the demo (without the setup step, which CI
 * already did) and check that it went through every step and stopped both agents cleanly.
 */
import { expect, test } from "bun:test";
import { join } from "node:path";

test("the demo runs the whole bridge on the simulated MT5 and stops cleanly", async () => {
  const args = [process.execPath, join(import.meta.dir, "..", "..", "scripts", "demo.ts")];
  if (process.env["AGENT_BINARIES"] === "dist") args.push("--binaries");
  const child = Bun.spawn(args, { stdout: "pipe", stderr: "pipe" });
  const timer = setTimeout(() => child.kill("SIGKILL"), 90_000);
  const [stdout, stderr, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  clearTimeout(timer);
  expect({ code, stderr: stderr.slice(-2000) }).toEqual({ code: 0, stderr: "" });
  expect(stdout).toMatch(/200 sent, 200 received, 0 lost/);
  expect(stdout).toMatch(/FILLED 0\.1 lots at [\d.]+, position \d+/);
  expect(stdout).toContain("no open positions");
  expect(stdout).toContain("agent-inf stopped (exit 0)");
  expect(stdout).toContain("agent-gtw stopped (exit 0)");
}, 120_000);
