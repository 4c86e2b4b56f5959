/**
 * What the fault suites share: both agents as processes on a fixed gateway port (so a killed
 * gateway can come back where agent-inf looks for it), a small client for agent-inf's local API,
 * an order driver that behaves like a careful strategy (the same client_order_id until a final
 * answer), and the audit of the simulated broker's books after the run.
 */
import { join } from "node:path";
import { SimBackend } from "../../agent-gtw/backend/sim/sim-backend.ts";
import {
  type RunningAgent,
  type RunningGateway,
  startGateway,
} from "../../scripts/harness/agents.ts";
import { createDeployment, type Deployment } from "../../scripts/harness/deployment.ts";
import { freePort } from "../../scripts/harness/free-port.ts";
import {
  bearer,
  type InferenceOptions,
  type InferenceSetup,
  PERMISSIVE_RISK,
  startInference,
  writeInferenceConfig,
} from "../../scripts/harness/inference.ts";
import { systemClock } from "../../shared/clock.ts";
import {
  brokerOrderKey,
  commentTag,
  type Deal,
  type OrderRecord,
  type Position,
} from "../../shared/protocol/index.ts";

/** Cleanups run in reverse order; afterEach calls run(). A failing one does not stop the rest. */
export class Cleanups {
  readonly #items: Array<() => Promise<unknown> | unknown> = [];

  add(cleanup: () => Promise<unknown> | unknown): void {
    this.#items.push(cleanup);
  }

  async run(): Promise<void> {
    for (const cleanup of this.#items.splice(0).reverse()) {
      try {
        await cleanup();
      } catch {
        // Keep cleaning: one failed stop must not leave processes or mounts behind
      }
    }
  }
}

export interface StackOptions extends InferenceOptions {
  /** Merged over the test deployment's gateway config. */
  readonly gatewayConfig?: Record<string, unknown>;
  /** The endpoint agent-inf dials instead of the gateway's own (a proxy in front of it). */
  readonly endpoint?: (gateway: string) => string;
  /** Start agent-inf as well (default true). */
  readonly inference?: boolean;
  /** Runs once the deployment exists, before the gateway starts (files the config names). */
  readonly beforeGateway?: (deployment: Deployment) => void;
}

export interface Stack {
  readonly deployment: Deployment;
  /** The gateway's fixed endpoint, the same across restarts. */
  readonly gatewayEndpoint: string;
  readonly setup: InferenceSetup;
  readonly api: ApiClient;
  /** The gateway process running now. */
  gateway: RunningGateway;
  readonly inference: RunningAgent | undefined;
  /** Every gateway process this stack started, for their logs. */
  readonly gateways: RunningGateway[];
  /** Start the gateway again (after a kill), on the same port and state. */
  restartGateway(): Promise<RunningGateway>;
}

export async function startStack(cleanups: Cleanups, options: StackOptions = {}): Promise<Stack> {
  const port = freePort();
  const gatewayEndpoint = `tcp://127.0.0.1:${port}`;
  const deployment = createDeployment({
    gateway: {
      endpoint: gatewayEndpoint,
      limits: { max_open_positions: 100_000 },
      ...options.gatewayConfig,
    },
  });
  cleanups.add(() => deployment.remove());
  options.beforeGateway?.(deployment);
  const gateways: RunningGateway[] = [];
  const launch = async () => {
    const started = await startGateway(deployment.gtwConfigPath, deployment.gtwStateDir);
    gateways.push(started);
    cleanups.add(() => started.kill());
    return started;
  };
  const gateway = await launch();
  const setup = writeInferenceConfig(
    deployment,
    options.endpoint?.(gatewayEndpoint) ?? gatewayEndpoint,
    { ...options, risk: { ...PERMISSIVE_RISK, ...options.risk } },
  );
  let inference: RunningAgent | undefined;
  if (options.inference !== false) {
    inference = await startInference(setup);
    const agent = inference;
    cleanups.add(() => agent.kill());
  }
  const stack: Stack = {
    deployment,
    gatewayEndpoint,
    setup,
    api: new ApiClient(setup.apiUrl, setup.token),
    gateway,
    inference,
    gateways,
    async restartGateway() {
      stack.gateway = await launch();
      return stack.gateway;
    },
  };
  return stack;
}

// ---------------------------------------------------------------------------------------------

export interface ApiAnswer {
  readonly status: number;
  readonly json: Record<string, unknown>;
}

/** agent-inf's local API over HTTP, JSON in and out. Network failures throw. */
export class ApiClient {
  readonly url: string;
  readonly #token: string | undefined;

  /** `token`: the strategy's (or the operator's, for operator actions); none with auth none. */
  constructor(url: string, token?: string) {
    this.url = url;
    this.#token = token;
  }

  async call(
    method: "GET" | "POST",
    path: string,
    body?: unknown,
    timeoutMs = 20_000,
  ): Promise<ApiAnswer> {
    const response = await fetch(`${this.url}${path}`, {
      method,
      headers: {
        ...bearer(this.#token),
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.text();
    let json: Record<string, unknown> = {};
    try {
      json = JSON.parse(text) as Record<string, unknown>;
    } catch {
      // not JSON (a bare 413 from the server): leave it empty
    }
    return { status: response.status, json };
  }

  /** GET /v1/orders/{coid}: the gateway's journal record, null when never seen. */
  async order(clientOrderId: string): Promise<OrderRecord | null> {
    const answer = await this.call("GET", `/v1/orders/${clientOrderId}`);
    if (answer.status !== 200 && answer.status !== 404)
      throw new Error(
        `GET /v1/orders/${clientOrderId}: ${answer.status} ${JSON.stringify(answer.json)}`,
      );
    return (answer.json["order"] as OrderRecord | null) ?? null;
  }

  async health(): Promise<{ gateways: HealthLane[] }> {
    return (await this.call("GET", "/v1/health", undefined, 2000)).json as unknown as {
      gateways: HealthLane[];
    };
  }
}

export interface HealthLane {
  readonly connected: boolean;
  readonly heartbeat: string;
  readonly breaker: { readonly engaged: boolean; readonly reason?: string };
}

// ---------------------------------------------------------------------------------------------

export type Intent =
  | { readonly action: "OPEN"; readonly coid: string; readonly body: Record<string, unknown> }
  | {
      readonly action: "CLOSE";
      readonly coid: string;
      readonly ticket: number;
      readonly body: Record<string, unknown>;
    };

/** What one intent went through before its final answer. */
export interface IntentLog {
  readonly intent: Intent;
  /** Final outcome: FILLED or REJECTED (the id is spent either way). */
  outcome: "FILLED" | "REJECTED" | "UNFINISHED";
  ticket: number | undefined;
  attempts: number;
  /** Every non-final answer on the way, e.g. "ERROR GATEWAY_UNREACHABLE" or "network". */
  readonly detours: string[];
}

export interface SubmitOptions {
  /** Give up (UNFINISHED) after this long; the caller fails the test then. */
  readonly deadlineMs: number;
  readonly retryPauseMs: () => number;
}

/**
 * Send one intent through agent-inf until it has a final outcome, the way a strategy should use
 * the API: the same client_order_id and body every time, so agent-inf and the gateway can tell a
 * retry from a new intent. DENIED (breaker, snapshot unreadable), ERROR (not sent, expired),
 * UNKNOWN and network failures are retried; FILLED and REJECTED are final.
 */
export async function submitUntilFinal(
  api: ApiClient,
  intent: Intent,
  options: SubmitOptions,
): Promise<IntentLog> {
  const log: IntentLog = {
    intent,
    outcome: "UNFINISHED",
    ticket: undefined,
    attempts: 0,
    detours: [],
  };
  const path = intent.action === "OPEN" ? "/v1/orders" : `/v1/positions/${intent.ticket}/close`;
  const deadline = performance.now() + options.deadlineMs;
  while (performance.now() < deadline) {
    log.attempts += 1;
    let answer: ApiAnswer;
    try {
      answer = await api.call("POST", path, intent.body, 15_000);
    } catch (error) {
      log.detours.push(`network: ${(error as Error).message}`);
      await Bun.sleep(options.retryPauseMs());
      continue;
    }
    const outcome = String(answer.json["outcome"] ?? "");
    if (outcome === "FILLED" || outcome === "REJECTED") {
      log.outcome = outcome;
      const reply = answer.json["reply"] as { ticket?: number } | undefined;
      log.ticket = reply?.ticket;
      return log;
    }
    const reply = answer.json["reply"] as { error_code?: string } | undefined;
    const denial = answer.json["denial"] as { code?: string } | undefined;
    log.detours.push(
      `${outcome || answer.status} ${reply?.error_code ?? denial?.code ?? String(answer.json["reason"] ?? "")}`.trim(),
    );
    await Bun.sleep(options.retryPauseMs());
  }
  return log;
}

// ---------------------------------------------------------------------------------------------

export interface BookAudit {
  /** Deals of client trades, by the client_order_id whose tag they carry. */
  readonly dealsByCoid: Map<string, Deal[]>;
  /** Open positions by the client_order_id of the OPEN that made them. */
  readonly positionsByCoid: Map<string, Position[]>;
  /** Client deals or positions whose tag belongs to no client_order_id we sent. */
  readonly strangers: string[];
  readonly positions: Position[];
}

/**
 * Read the simulated broker's books from the gateway's state folder; call it only while no
 * gateway process runs. Every deal and position is matched to a client_order_id by its tag.
 */
export async function auditBooks(
  deployment: Deployment,
  clientOrderIds: Iterable<string>,
  /** The client that sent each id (the tag is scoped by it); the deployment's inf-1 by default. */
  clientOf: (coid: string) => string = () => deployment.inferenceKeys.keyId,
): Promise<BookAudit> {
  const byTag = new Map<string, string>();
  // The tag is made from the id's key at the broker: scoped by the client (PROTOCOL.md §8)
  for (const coid of clientOrderIds)
    byTag.set(commentTag(brokerOrderKey(clientOf(coid), coid)), coid);
  // The same account the gateway's config gives the sim (scripts/harness/deployment.ts)
  const sim = new SimBackend({
    clock: systemClock,
    seed: 7,
    sessions: "always",
    stateDir: join(deployment.gtwStateDir, "sim"),
    account: {
      login: 5_000_001,
      currency: "USD",
      balance: 10_000,
      leverage: 100,
      marginMode: "HEDGING",
    },
  });
  await sim.start();
  try {
    const deals = await sim.deals({ from: 0, to: Number.MAX_SAFE_INTEGER });
    const positions = await sim.positions();
    const dealsByCoid = new Map<string, Deal[]>();
    const positionsByCoid = new Map<string, Position[]>();
    const strangers: string[] = [];
    for (const deal of deals) {
      const coid = byTag.get(deal.comment.split(" ")[0] ?? "");
      if (coid === undefined) strangers.push(`deal ${deal.ticket} "${deal.comment}"`);
      else dealsByCoid.set(coid, [...(dealsByCoid.get(coid) ?? []), deal]);
    }
    for (const position of positions) {
      const coid = byTag.get(position.comment.split(" ")[0] ?? "");
      if (coid === undefined) strangers.push(`position ${position.ticket} "${position.comment}"`);
      else positionsByCoid.set(coid, [...(positionsByCoid.get(coid) ?? []), position]);
    }
    return { dealsByCoid, positionsByCoid, strangers, positions };
  } finally {
    await sim.stop();
  }
}

/** Nearest-rank percentile of ascending `sorted`. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil(p * sorted.length))) - 1] as number;
}

/** Seeded PRNG (mulberry32): random fault points that a seed replays. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
