/**
 * agent-inf in end-to-end tests: its config file in a test deployment, the service started and
 * awaited through its local API, the command line run as a process with its output captured,
 * and a loopback TCP proxy that delays the gateway's replies (an order that outlives its timeout
 * at the client while the gateway executes it). Every wait is bounded.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Socket } from "bun";
import { stringify } from "yaml";
import type { GeneratedInferenceKeys } from "../../shared/keys/keygen.ts";
import { agentCommand, type RunningAgent, spawnAgent } from "./agents.ts";
import type { Deployment } from "./deployment.ts";
import { freePort } from "./free-port.ts";

export interface InferenceSetup {
  readonly configPath: string;
  readonly apiUrl: string;
  /** The API's strategy token (api.token_file); undefined with `auth: "none"`. */
  readonly token?: string;
  /** The API's operator token (api.operator_token_file); undefined with `auth: "none"`. */
  readonly operatorToken?: string;
}

/** The Authorization header for `token` (none without one). */
export function bearer(token: string | undefined): Record<string, string> {
  return token === undefined ? {} : { authorization: `Bearer ${token}` };
}

export interface InferenceOptions {
  /** Merged into the single gateway entry (timeouts). */
  readonly gateway?: Record<string, unknown>;
  readonly heartbeatMs?: number;
  readonly risk?: Record<string, unknown>;
  /**
   * The API's strategy and operator tokens (written to `api.token` and `operator.token`, mode
   * 0600, beside the config); random by default, as keygen makes them.
   */
  readonly apiToken?: string;
  readonly operatorToken?: string;
  /** `none`: the API takes no token (api.auth: none), the explicit opt-out. */
  readonly auth?: "token" | "none";
  /**
   * Another inference host of the deployment (load tests): its name, keys, and the folder for
   * its config and state. Default: the deployment's own inf-1 in `inf/`.
   */
  readonly client?: {
    readonly name: string;
    readonly keys: GeneratedInferenceKeys;
    readonly dir: string;
  };
}

/** A port that was free a moment ago (bind 0, read, close). */
/** Risk limits out of the way: these suites test delivery, not the risk checks. */
export const PERMISSIVE_RISK = {
  require_stop_loss: false,
  max_risk_percent: null,
  max_positions: null,
  max_positions_per_symbol: null,
  max_orders_per_second: null,
  max_orders_per_minute: null,
  daily_loss_limit: { money: null, percent: null },
  max_drawdown_percent: null,
} as const;

/** Write `inf/agent-inf.yaml` for one gateway at `endpoint`, with permissive risk limits. */
export function writeInferenceConfig(
  deployment: Deployment,
  endpoint: string,
  options: InferenceOptions = {},
): InferenceSetup {
  const port = freePort();
  const keys = options.client?.keys ?? deployment.inferenceKeys;
  const tokens =
    options.auth === "none"
      ? undefined
      : {
          strategy: options.apiToken ?? randomBytes(32).toString("hex"),
          operator: options.operatorToken ?? randomBytes(32).toString("hex"),
        };
  const config = {
    agent: { name: options.client?.name ?? "inf-1" },
    keys: {
      client_secret: keys.curveSecretPath,
      signing_secret: keys.signSecretPath,
    },
    gateways: [
      {
        name: deployment.gatewayName,
        endpoint,
        server_key_file: deployment.gatewayKeys.publicPath,
        ...options.gateway,
      },
    ],
    heartbeat: { interval_ms: options.heartbeatMs ?? 300 },
    risk: {
      allowed_symbols: ["EURUSD", "GBPUSD", "USDJPY"],
      max_lots: 1,
      max_risk_percent: 5,
      max_orders_per_second: null,
      max_orders_per_minute: null,
      ...options.risk,
    },
    api: {
      listen: `127.0.0.1:${port}`,
      ...(tokens === undefined
        ? { auth: "none" }
        : { token_file: "api.token", operator_token_file: "operator.token" }),
    },
    state_dir: "state",
    log: { level: "info" },
  };
  const dir = options.client?.dir ?? join(deployment.dir, "inf");
  mkdirSync(dir, { recursive: true });
  const configPath = join(dir, "agent-inf.yaml");
  writeFileSync(configPath, stringify(config));
  const apiUrl = `http://127.0.0.1:${port}`;
  if (tokens === undefined) return { configPath, apiUrl };
  writeFileSync(join(dir, "api.token"), `${tokens.strategy}\n`, { mode: 0o600 });
  writeFileSync(join(dir, "operator.token"), `${tokens.operator}\n`, { mode: 0o600 });
  return { configPath, apiUrl, token: tokens.strategy, operatorToken: tokens.operator };
}

/** `agent-inf run` and wait until its API answers /v1/health with the gateway connected. */
export async function startInference(
  setup: InferenceSetup,
  timeoutMs = 15_000,
): Promise<RunningAgent> {
  const agent = spawnAgent("agent-inf", ["run", "--config", setup.configPath]);
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (agent.process.exitCode !== null)
      throw new Error(
        `agent-inf exited with ${agent.process.exitCode} before its API answered; log:\n${agent.log().slice(-3000)}`,
      );
    const health = await readHealth(setup.apiUrl, setup.token).catch(() => undefined);
    if (health?.gateways.every((lane) => lane.connected && lane.heartbeat === "HEALTHY"))
      return agent;
    if (performance.now() > deadline) {
      await agent.kill();
      throw new Error(
        `agent-inf not ready within ${timeoutMs} ms; log:\n${agent.log().slice(-3000)}`,
      );
    }
    await Bun.sleep(25);
  }
}

export interface LaneView {
  readonly gateway: string;
  readonly connected: boolean;
  readonly heartbeat: string;
  readonly breaker: { readonly engaged: boolean; readonly reason?: string };
  readonly trading_state: string;
  /** The MT5 link as the gateway last reported it (PING). */
  readonly mt5_link?: string;
}

export async function readHealth(
  apiUrl: string,
  token?: string,
): Promise<{ gateways: LaneView[] }> {
  const response = await fetch(`${apiUrl}/v1/health`, {
    signal: AbortSignal.timeout(2000),
    headers: bearer(token),
  });
  return (await response.json()) as { gateways: LaneView[] };
}

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Run `agent-inf <args> --config <file>` to completion (killed after `timeoutMs`). */
export async function runCli(
  configPath: string,
  args: readonly string[],
  timeoutMs = 30_000,
): Promise<CliResult> {
  const child = Bun.spawn([...agentCommand("agent-inf"), ...args, "--config", configPath], {
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, AGENT_LOG_LEVEL: "" },
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  try {
    const [stdout, stderr, code] = await Promise.all([
      new Response(child.stdout).text(),
      new Response(child.stderr).text(),
      child.exited,
    ]);
    return { code, stdout, stderr };
  } finally {
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------------------------------------

export interface DelayProxy {
  /** tcp://127.0.0.1:PORT, to give agent-inf instead of the gateway's endpoint. */
  readonly endpoint: string;
  close(): void;
}

interface Pipe {
  socket: Socket<unknown> | undefined;
  pending: Uint8Array[];
}

/** One proxied connection: client side (down), gateway side (up). */
interface Connection {
  readonly down: Pipe;
  readonly up: Pipe;
  close(): void;
}

/**
 * Forward loopback TCP to `target`; bytes from the gateway reach the client `delayMs` late, in
 * order. Requests are not delayed, so signed orders stay fresh at the gateway.
 */
export function startDelayProxy(target: string, delayMs: number): DelayProxy {
  const match = /^tcp:\/\/([^:]+):(\d+)$/.exec(target);
  if (match === null) throw new Error(`bad endpoint ${target}`);
  const [, host, port] = match as unknown as [string, string, string];
  const closers = new Set<() => void>();

  const listener = Bun.listen<Connection>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(client) {
        const down: Pipe = { socket: client, pending: [] };
        const up: Pipe = { socket: undefined, pending: [] };
        const queue: { at: number; bytes: Uint8Array }[] = [];
        let timer: ReturnType<typeof setTimeout> | undefined;
        const release = () => {
          timer = undefined;
          const now = performance.now();
          while (queue.length > 0 && (queue[0] as { at: number }).at <= now + 0.5)
            send(down, (queue.shift() as { bytes: Uint8Array }).bytes);
          schedule();
        };
        const schedule = () => {
          const head = queue[0];
          if (timer !== undefined || head === undefined) return;
          timer = setTimeout(release, Math.max(0, head.at - performance.now()));
        };
        const close = () => {
          clearTimeout(timer);
          closers.delete(close);
          down.socket?.end();
          up.socket?.end();
        };
        closers.add(close);
        client.data = { down, up, close };
        void Bun.connect<undefined>({
          hostname: host,
          port: Number(port),
          socket: {
            open(server) {
              up.socket = server;
              flush(up);
            },
            data(_server, data) {
              queue.push({ at: performance.now() + delayMs, bytes: new Uint8Array(data) });
              schedule();
            },
            drain: () => flush(up),
            close,
            error: close,
            connectError: close,
          },
        }).catch(close);
      },
      data(client, data) {
        send(client.data.up, new Uint8Array(data));
      },
      drain: (client) => flush(client.data.down),
      close: (client) => client.data.close(),
      error: (client) => client.data.close(),
    },
  });
  return {
    endpoint: `tcp://127.0.0.1:${listener.port}`,
    close() {
      for (const close of [...closers]) close();
      listener.stop(true);
    },
  };
}

function send(pipe: Pipe, bytes: Uint8Array): void {
  pipe.pending.push(bytes);
  flush(pipe);
}

function flush(pipe: Pipe): void {
  const socket = pipe.socket;
  if (socket === undefined) return;
  while (pipe.pending.length > 0) {
    const chunk = pipe.pending[0] as Uint8Array;
    const written = socket.write(chunk);
    if (written < chunk.length) {
      pipe.pending[0] = chunk.subarray(Math.max(0, written));
      return;
    }
    pipe.pending.shift();
  }
}
