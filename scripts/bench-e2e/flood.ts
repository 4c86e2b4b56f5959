/**
 * Start and stop the handshake flood (hello-flood.ts) as its own process, for scripts/bench.ts
 * and test/hostile/flood.test.ts: start() resolves once the flood is running, stop() ends it and
 * resolves with what it did.
 */
import { join } from "node:path";

export interface FloodStats {
  readonly attempted: number;
  readonly per_second: number;
  readonly welcomed: number;
  readonly refused: number;
  readonly greeted_then_closed: number;
  readonly connect_errors: number;
  readonly seconds: number;
}

export interface Flood {
  readonly pid: number;
  stop(): Promise<FloodStats>;
  /** SIGKILL, for cleanups. */
  kill(): void;
}

const SCRIPT = join(import.meta.dir, "hello-flood.ts");

export async function startFlood(options: {
  readonly endpoint: string;
  readonly serverKey: string;
  readonly rate: number;
  /** Upper bound on its life; stop() ends it sooner. */
  readonly maxSeconds?: number;
  /** Loopback source address of the flood (127.0.0.2: not the established client's). */
  readonly from?: string;
}): Promise<Flood> {
  const child = Bun.spawn(
    [
      process.execPath,
      SCRIPT,
      "--endpoint",
      options.endpoint,
      // One argument: a Z85 key may begin with "-", which would read as an option
      `--server-key=${options.serverKey}`,
      "--rate",
      String(options.rate),
      "--seconds",
      String(options.maxSeconds ?? 600),
      ...(options.from === undefined ? [] : ["--from", options.from]),
    ],
    { stdin: "ignore", stdout: "pipe", stderr: "pipe" },
  );
  const lines: string[] = [];
  const decoder = new TextDecoder();
  const reading = (async () => {
    let buffered = "";
    for await (const chunk of child.stdout) {
      buffered += decoder.decode(chunk, { stream: true });
      for (let at = buffered.indexOf("\n"); at >= 0; at = buffered.indexOf("\n")) {
        lines.push(buffered.slice(0, at).trim());
        buffered = buffered.slice(at + 1);
      }
    }
  })();
  const deadline = performance.now() + 20_000;
  while (!lines.includes('{"started":true}')) {
    if (child.exitCode !== null || performance.now() > deadline) {
      child.kill("SIGKILL");
      const stderr = await new Response(child.stderr).text();
      throw new Error(`the flood did not start: ${stderr.slice(-500)}`);
    }
    await Bun.sleep(10);
  }
  return {
    pid: child.pid,
    async stop() {
      child.kill("SIGTERM");
      const code = await child.exited;
      await reading;
      const last = lines.filter((line) => line.startsWith('{"attempted"')).pop();
      if (code !== 0 || last === undefined)
        throw new Error(`the flood ended with ${code} and no figures`);
      return JSON.parse(last) as FloodStats;
    },
    kill() {
      child.kill("SIGKILL");
    },
  };
}
