/**
 * `bun run bench --wine`: the compiled Windows gateway (dist/agent-gtw.exe) under Wine on this
 * machine, on its own throwaway deployment, so the benchmark can measure it beside the Linux one
 * in the same run. Wine is set up by scripts/wine/prepare.sh in a prefix of its own
 * (MLB_BENCH_WINEPREFIX, default ~/.cache/mt5-live-bridge/wine-prefix-bench), so a smoke test
 * running meanwhile keeps its own wineserver. Nothing is installed: without wine or the mingw
 * compiler the caller prints why and skips.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { createDeployment, type Deployment } from "../harness/deployment.ts";
import { freePort } from "../harness/free-port.ts";
import { startWineGateway, waitListening } from "../wine/wine-process.ts";
import { spawned } from "./processes.ts";

const ROOT = join(import.meta.dir, "..", "..");
const EXE = join(ROOT, "dist", "agent-gtw.exe");

/** Why the Wine run cannot happen here, or undefined when it can. */
export function wineUnavailable(): string | undefined {
  if (Bun.which("wine") === null)
    return "wine is not installed (as root: apt-get install --no-install-recommends wine wine64)";
  if (Bun.which("x86_64-w64-mingw32-gcc") === null)
    return "the mingw compiler for the stub DLL is missing (apt-get install gcc-mingw-w64-x86-64-win32)";
  if (!existsSync(EXE)) return "dist/agent-gtw.exe is missing: run `bun run build` first";
  return undefined;
}

export interface WineGateway {
  readonly deployment: Deployment;
  readonly endpoint: string;
  /** Stop the gateway and Wine's server, and remove the files. */
  stop(): Promise<void>;
}

/** Prepare the prefix, start agent-gtw.exe on a fresh deployment, wait until it listens. */
export async function startBenchWineGateway(
  gatewayConfig: Record<string, unknown>,
): Promise<WineGateway> {
  const work = mkdtempSync(join(tmpdir(), "mlb-bench-wine-"));
  const env = {
    ...process.env,
    WINEPREFIX:
      process.env["MLB_BENCH_WINEPREFIX"] ??
      join(homedir(), ".cache", "mt5-live-bridge", "wine-prefix-bench"),
    WINEDEBUG: "-all",
    WINEDLLOVERRIDES: "mscoree,mshtml=",
  };
  const prepared = Bun.spawnSync([join(ROOT, "scripts", "wine", "prepare.sh"), work], {
    env,
    stdout: "pipe",
    stderr: "pipe",
    timeout: 180_000,
  });
  if (prepared.exitCode !== 0)
    throw new Error(`scripts/wine/prepare.sh failed: ${prepared.stderr.toString().trim()}`);
  const deployment = createDeployment({
    dir: join(work, "deployment"),
    gateway: {
      ...gatewayConfig,
      endpoint: `tcp://127.0.0.1:${freePort()}`,
      metrics: { listen: null },
    },
  });
  const since = Date.now();
  let child: Subprocess | undefined = spawned(
    startWineGateway({
      exe: EXE,
      configPath: deployment.gtwConfigPath,
      logBase: join(work, "gateway"),
      env,
    }),
    "agent-gtw.exe under wine",
  );
  const stop = async (keepFiles = false) => {
    const running = child;
    child = undefined;
    if (running !== undefined) {
      running.kill("SIGTERM");
      await Promise.race([running.exited, Bun.sleep(10_000)]);
      running.kill("SIGKILL");
      await running.exited;
    }
    Bun.spawnSync(["wineserver", "-k"], { env, timeout: 20_000 });
    if (!keepFiles) rmSync(work, { recursive: true, force: true });
  };
  try {
    const endpoint = await waitListening(deployment.gtwStateDir, since, 90_000);
    return { deployment, endpoint, stop: () => stop() };
  } catch (error) {
    await stop(true);
    throw new Error(
      `agent-gtw.exe under Wine did not listen (its output is in ${work}): ${(error as Error).message}`,
    );
  }
}
