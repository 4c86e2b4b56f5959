/**
 * Helpers for the streaming tests: a gateway client that keeps every EVENT it receives (and can
 * sign orders), a whole gateway in this process on a sim the test can steer, and an agent-inf app
 * with its local API (support-net.ts has the SSE reader and the cutting proxy). Every wait is
 * bounded.
 */
import { join } from "node:path";
import { createGatewayApp, type GatewayApp } from "../../agent-gtw/app.ts";
import type { BackendEvent } from "../../agent-gtw/backend/backend.ts";
import { SimBackend } from "../../agent-gtw/backend/sim/sim-backend.ts";
import { loadGatewayConfig } from "../../agent-gtw/config.ts";
import { type ApiServer, startApiServer } from "../../agent-inf/api/server.ts";
import { createInferenceApp, type InferenceApp } from "../../agent-inf/app.ts";
import { inferenceConfigSchema, resolvePaths } from "../../agent-inf/config.ts";
import { createDeployment, type Deployment } from "../../scripts/harness/deployment.ts";
import { eventually } from "../../scripts/harness/eventually.ts";
import { type Clock, systemClock } from "../../shared/clock.ts";
import { readPublicKeyFile, readSecretKeyFile } from "../../shared/keys/curve-keys.ts";
import { readSigningSecretKeyFile } from "../../shared/keys/signing-keys.ts";
import { createLogger, silentLogger } from "../../shared/log.ts";
import { DealerSocket } from "../../shared/net/index.ts";
import {
  createSigner,
  decodeMessage,
  encodeRequest,
  isEventObject,
  isSignedAction,
  newClientOrderId,
  newRequestId,
  parseEventObject,
  parseReplyObject,
  type Reply,
  type Request,
  type Signer,
  type StreamEvent,
} from "../../shared/protocol/index.ts";

/** A DEALER to the gateway that keeps every event, in arrival order. */
export class StreamTestClient {
  readonly events: StreamEvent[] = [];
  readonly #socket: DealerSocket;
  readonly #signer: Signer;
  readonly #gateway: string;
  readonly #pending = new Map<string, (reply: Reply) => void>();
  connected = false;

  constructor(endpoint: string, deployment: Deployment) {
    const client = readSecretKeyFile(deployment.inferenceKeys.curveSecretPath);
    const server = readPublicKeyFile(deployment.gatewayKeys.publicPath);
    const signing = readSigningSecretKeyFile(deployment.inferenceKeys.signSecretPath);
    this.#signer = createSigner({ keyId: signing.keyId, secretKey: signing.secretKey });
    this.#gateway = deployment.gatewayName;
    this.#socket = new DealerSocket({
      security: {
        mechanism: "CURVE",
        role: "client",
        publicKey: client.publicKey,
        secretKey: client.secretKey,
        serverKey: server.publicKey,
      },
      reconnectIntervalMs: 50,
      reconnectIntervalMaxMs: 200,
      maxMessageSize: 4 * 1024 * 1024,
    });
    this.#socket.on((event) => {
      if (event.type === "handshake_succeeded") this.connected = true;
      if (event.type === "disconnected") this.connected = false;
    });
    this.#socket.onMessage((parts) => {
      const decoded = decodeMessage(parts[0] as Uint8Array);
      if (!decoded.ok) throw new Error(`undecodable frame: ${decoded.error.message}`);
      if (isEventObject(decoded.value)) {
        const parsed = parseEventObject(decoded.value);
        if (!parsed.ok) throw new Error(parsed.error.message);
        if (parsed.event !== undefined) this.events.push(parsed.event);
        return;
      }
      const reply = parseReplyObject(decoded.value);
      if (!reply.ok) throw new Error(reply.error.message);
      this.#pending.get(reply.reply.id)?.(reply.reply);
      this.#pending.delete(reply.reply.id);
    });
    this.#socket.connect(endpoint);
  }

  /** An unsigned request as given, not checked before it goes (refusal tests). */
  sendRaw(body: Record<string, unknown>, timeoutMs = 10_000): Promise<Reply> {
    const id = newRequestId();
    const bytes = new TextEncoder().encode(JSON.stringify({ v: 1, id, ts: Date.now(), ...body }));
    return this.#exchange([bytes], id, String(body["action"]), timeoutMs);
  }

  /** An unsigned request (PING, GET_*, SUBSCRIBE, …) or a signed order, and its reply. */
  send(body: Record<string, unknown>, timeoutMs = 10_000): Promise<Reply> {
    const id = newRequestId();
    const action = String(body["action"]);
    const signed = isSignedAction(action);
    const request = {
      v: 1,
      id,
      ts: Date.now(),
      ...body,
      ...(signed
        ? {
            client_order_id: newClientOrderId(Date.now()),
            gateway: this.#gateway,
            key_id: this.#signer.keyId,
          }
        : {}),
    } as unknown as Request;
    const bytes = encodeRequest(request);
    const frames = signed ? [bytes, this.#signer.sign(bytes)] : [bytes];
    return this.#exchange(frames, id, action, timeoutMs);
  }

  #exchange(frames: Uint8Array[], id: string, action: string, timeoutMs: number): Promise<Reply> {
    return new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`no reply to ${action} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, (reply) => {
        clearTimeout(timer);
        resolve(reply);
      });
      if (!this.#socket.send(frames)) reject(new Error("send refused"));
    });
  }

  of<T extends StreamEvent["event"]>(type: T): Extract<StreamEvent, { event: T }>[] {
    return this.events.filter((event) => event.event === type) as Extract<
      StreamEvent,
      { event: T }
    >[];
  }

  close(): Promise<void> {
    return this.#socket.close();
  }
}

/** The sim with a door for synthetic events: what a test emits reaches every listener at once. */
export class SteerableSim extends SimBackend {
  readonly #listeners = new Set<(event: BackendEvent) => void>();

  override subscribe(listener: (event: BackendEvent) => void): () => void {
    const off = super.subscribe(listener);
    this.#listeners.add(listener);
    return () => {
      off();
      this.#listeners.delete(listener);
    };
  }

  inject(event: BackendEvent): void {
    for (const listener of this.#listeners) listener(event);
  }
}

/** The system clock, ahead by `shift` ms: a test moves an in-process gateway's time forward. */
export class ShiftedClock implements Clock {
  shift = 0;
  now = () => systemClock.now() + this.shift;
  monotonic = () => systemClock.monotonic() + this.shift;
  setTimeout = (fn: () => void, ms: number) => systemClock.setTimeout(fn, ms);
  setInterval = (fn: () => void, ms: number) => systemClock.setInterval(fn, ms);
}

export interface InProcessGateway {
  readonly app: GatewayApp;
  readonly sim: SteerableSim;
  readonly endpoint: string;
  stop(): Promise<void>;
}

/** The deployment's gateway, built in this process on a sim the test can steer. */
export async function startInProcessGateway(
  deployment: Deployment,
  options: { tickIntervalMs?: number; maxQueuedEvents?: number; clock?: Clock } = {},
): Promise<InProcessGateway> {
  if (options.maxQueuedEvents !== undefined)
    deployment.updateGatewayConfig({ streaming: { max_queued_events: options.maxQueuedEvents } });
  const config = loadGatewayConfig(deployment.gtwConfigPath, {});
  const clock = options.clock ?? systemClock;
  const sim = new SteerableSim({
    clock,
    seed: 7,
    stateDir: join(deployment.gtwStateDir, "sim"),
    sessions: "always",
    tickIntervalMs: options.tickIntervalMs ?? 250,
  });
  const app = createGatewayApp(config, silentLogger, { backend: sim, clock });
  const endpoint = await app.start();
  return { app, sim, endpoint, stop: () => app.stop() };
}

export interface InferenceStack {
  readonly app: InferenceApp;
  readonly api: ApiServer;
  readonly gateway: string;
  stop(): Promise<void>;
}

/** agent-inf in this process for the deployment's gateway at `endpoint`, with its API. */
export async function startInferenceStack(
  deployment: Deployment,
  endpoint: string,
  options: {
    token?: string;
    stream?: Record<string, unknown>;
    symbols?: readonly string[];
    risk?: Record<string, unknown>;
    heartbeatMs?: number;
    quiet?: boolean;
  } = {},
): Promise<InferenceStack> {
  const parsed = inferenceConfigSchema.parse({
    agent: { name: "inf-stream-test" },
    keys: {
      client_secret: deployment.inferenceKeys.curveSecretPath,
      signing_secret: deployment.inferenceKeys.signSecretPath,
    },
    gateways: [
      {
        name: deployment.gatewayName,
        endpoint,
        server_key_file: deployment.gatewayKeys.publicPath,
        request_timeout_ms: 2000,
      },
    ],
    heartbeat: { interval_ms: options.heartbeatMs ?? 500, failure_threshold: 100 },
    risk: {
      allowed_symbols: options.symbols ?? ["EURUSD", "GBPUSD", "BTCUSD"],
      max_lots: 1,
      require_stop_loss: false,
      max_risk_percent: null,
      max_positions: null,
      max_positions_per_symbol: null,
      max_orders_per_second: null,
      max_orders_per_minute: null,
      daily_loss_limit: { money: null, percent: null },
      max_drawdown_percent: null,
      ...options.risk,
    },
    ...(options.stream === undefined ? {} : { stream: options.stream }),
    api: { auth: "none" },
    state_dir: join(deployment.dir, "inf", "state"),
  });
  const config = resolvePaths(parsed, deployment.dir);
  const logger = options.quiet === false ? createLogger("inf") : silentLogger;
  const app = createInferenceApp(config, logger);
  await app.start();
  const api = await startApiServer(app, {
    listen: "127.0.0.1:0",
    // `token` is the strategy's; these suites take no operator action
    auth:
      options.token === undefined
        ? { kind: "none" }
        : { kind: "token", strategyToken: options.token, operatorToken: `${options.token}-op` },
    maxBodyBytes: config.api.max_body_bytes,
    stopGraceMs: 500,
  });
  return {
    app,
    api,
    gateway: deployment.gatewayName,
    async stop() {
      await api.stop();
      await app.stop();
    },
  };
}

/**
 * A gateway in this process on a clock the test moves forward (minutes pass in milliseconds;
 * agent-inf learns the gateway's time from its PINGs), agent-inf in front with its stream LIVE.
 * Each part's stop is pushed to `cleanups`.
 */
export async function startShiftedStack(
  cleanups: (() => Promise<unknown> | unknown)[],
): Promise<{ clock: ShiftedClock; gateway: InProcessGateway; inf: InferenceStack }> {
  const deployment = createDeployment();
  cleanups.push(() => deployment.remove());
  const clock = new ShiftedClock();
  const gateway = await startInProcessGateway(deployment, { tickIntervalMs: 50, clock });
  cleanups.push(() => gateway.stop());
  const inf = await startInferenceStack(deployment, gateway.endpoint, { heartbeatMs: 200 });
  cleanups.push(() => inf.stop());
  await streamLive(inf.app);
  return { clock, gateway, inf };
}

/** Wait until the lane's stream is LIVE (subscribed and resynced). */
export async function streamLive(app: InferenceApp, timeoutMs = 10_000): Promise<void> {
  await eventually(() => app.health().gateways.every((lane) => lane.stream?.state === "LIVE"), {
    timeoutMs,
    message: "stream LIVE",
  });
}

export { type CutProxy, type SseMessage, SseReader, startCutProxy } from "./support-net.ts";
