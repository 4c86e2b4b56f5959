/**
 * Running the Windows agent-gtw.exe under Wine from a Linux script: the smoke test
 * (scripts/wine/smoke.ts) and the benchmark's --wine run (scripts/bench-e2e/wine-gateway.ts).
 * WINEPREFIX and the stub DLL are set up by scripts/wine/prepare.sh. Wine's output always goes to
 * files, never to a pipe (deploy.md §2.4: wineserver and services.exe inherit it and the pipe
 * never closes).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { eventually } from "../harness/eventually.ts";

/** A Linux path as Wine's Z: drive shows it. */
export function windowsPath(path: string): string {
  return `Z:${path.replace(/\//g, "\\")}`;
}

/** `agent-gtw.exe run` under Wine in the foreground; its output in `<logBase>.out` / `.err`. */
export function startWineGateway(options: {
  readonly exe: string;
  readonly configPath: string;
  readonly logBase: string;
  readonly env?: Record<string, string | undefined>;
}): Subprocess {
  return Bun.spawn(["wine", options.exe, "run", "--config", windowsPath(options.configPath)], {
    env: { ...process.env, ...options.env },
    stdin: "ignore",
    stdout: Bun.file(`${options.logBase}.out`),
    stderr: Bun.file(`${options.logBase}.err`),
  });
}

/** The gateway's status file says it is listening (written after bind) and newer than `since`. */
export async function waitListening(
  stateDir: string,
  since: number,
  timeoutMs: number,
): Promise<string> {
  return eventually(
    () => {
      const status = JSON.parse(readFileSync(join(stateDir, "status.json"), "utf8")) as {
        endpoint?: string;
        stopped_at?: number;
        updated_at?: number;
      };
      return status.endpoint !== undefined &&
        status.stopped_at === undefined &&
        (status.updated_at ?? 0) >= since
        ? status.endpoint
        : undefined;
    },
    { timeoutMs, intervalMs: 100, message: "gateway listening (status.json)" },
  );
}
