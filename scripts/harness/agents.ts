/**
 * Start the real agents as processes for end-to-end tests: from source (`bun agent-<name>/main.ts`),
 * or the compiled binaries in dist/ when AGENT_BINARIES=dist (the CI runs both). Every wait is
 * bounded and every process is killed by the test's cleanup.
 */

import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Subprocess } from "bun";

const ROOT = join(import.meta.dir, "..", "..");

export type AgentName = "agent-gtw" | "agent-inf";

/** The command that runs an agent: the compiled binary when asked for, else the source. */
export function agentCommand(agent: AgentName): string[] {
  const mode = process.env["AGENT_BINARIES"];
  if (mode === "dist") {
    const binary = join(ROOT, "dist", agent);
    if (!existsSync(binary))
      throw new Error(`AGENT_BINARIES=dist but ${binary} is missing: run bun run build first`);
    return [binary];
  }
  return [process.execPath, join(ROOT, agent, "main.ts")];
}

export interface RunningAgent {
  readonly process: Subprocess<"ignore", "pipe", "pipe">;
  /** Everything the process wrote to stderr (its log) so far. */
  readonly log: () => string;
  /**
   * The exit code, once the process has exited and its stderr is read to the end: the pipe may
   * still hold its last lines when the process is gone (bounded: a child it left behind could
   * keep the pipe open).
   */
  exited(): Promise<number>;
  /** SIGTERM (graceful) and wait; returns the exit code. SIGKILL after `timeoutMs`. */
  stop(timeoutMs?: number): Promise<number>;
  /** SIGKILL now, like a crash or a power cut. */
  kill(): Promise<void>;
}

/** How long, after the process exits, its stderr may take to be read to the end. */
const STDERR_DRAIN_MS = 2000;

export function spawnAgent(
  agent: AgentName,
  args: readonly string[],
  env: Record<string, string> = {},
): RunningAgent {
  const child = Bun.spawn([...agentCommand(agent), ...args], {
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, AGENT_LOG_LEVEL: "", ...env },
  });
  let stderr = "";
  const stderrRead = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of child.stderr) stderr += decoder.decode(chunk, { stream: true });
  })().catch(() => {});
  const exited = async () => {
    const code = await child.exited;
    await Promise.race([stderrRead, Bun.sleep(STDERR_DRAIN_MS)]);
    return code;
  };
  void (async () => {
    for await (const _ of child.stdout) {
      // Drain so the child never blocks on a full pipe.
    }
  })();
  return {
    process: child,
    log: () => stderr,
    exited,
    async stop(timeoutMs = 15_000) {
      if (child.exitCode !== null) return exited();
      child.kill("SIGTERM");
      const code = await Promise.race([exited(), Bun.sleep(timeoutMs).then(() => undefined)]);
      if (code === undefined) {
        child.kill("SIGKILL");
        await child.exited;
        throw new Error(
          `${agent} did not stop within ${timeoutMs} ms after SIGTERM; log:\n${stderr.slice(-3000)}`,
        );
      }
      return code;
    },
    async kill() {
      child.kill("SIGKILL");
      await exited();
    },
  };
}

export interface RunningGateway extends RunningAgent {
  readonly endpoint: string;
}

/** Start agent-gtw and wait until its status file shows it listening. */
export async function startGateway(
  configPath: string,
  stateDir: string,
  timeoutMs = 15_000,
): Promise<RunningGateway> {
  const agent = spawnAgent("agent-gtw", ["run", "--config", configPath]);
  const deadline = performance.now() + timeoutMs;
  const statusPath = join(stateDir, "status.json");
  for (;;) {
    if (agent.process.exitCode !== null) {
      throw new Error(
        `agent-gtw exited with ${agent.process.exitCode} before listening; log:\n${agent.log().slice(-3000)}`,
      );
    }
    try {
      const status = JSON.parse(readFileSync(statusPath, "utf8")) as {
        pid?: number;
        endpoint?: string;
        stopped_at?: number;
      };
      if (status.pid === agent.process.pid && status.endpoint && status.stopped_at === undefined) {
        return { ...agent, endpoint: status.endpoint };
      }
    } catch {
      // not written yet
    }
    if (performance.now() > deadline) {
      await agent.kill();
      throw new Error(
        `agent-gtw not listening within ${timeoutMs} ms; log:\n${agent.log().slice(-3000)}`,
      );
    }
    await Bun.sleep(20);
  }
}
