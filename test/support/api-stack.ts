/**
 * Test-only: a real agent-inf stack behind the local API for the api*.test.ts files. A throwaway
 * deployment (fresh keys), optionally the real agent-gtw process on the simulated MT5, the
 * inference app built through createInferenceApp, and the API on 127.0.0.1 port 0.
 *
 * Three lanes, so every order outcome can be produced for real:
 * - the gateway's own name (default): FILLED, DENIED (inference risk), REJECTED (gateway limits);
 * - MISNAMED_GATEWAY, same endpoint under another name: the gateway refuses the signature's
 *   gateway field with WRONG_GATEWAY, an ERROR;
 * - SLOW_GATEWAY, the real gateway behind a proxy that delays its replies by 300 ms: queries
 *   (2 s timeout) work, but an order's reply misses its 100 ms timeout and GET_ORDER misses the
 *   250 ms reconcile deadline, so the order executes and its outcome is UNKNOWN;
 * - DEAD_GATEWAY, a closed loopback port: nothing answers, so orders are not sent (ERROR
 *   GATEWAY_UNREACHABLE) and queries answer 504.
 *
 * Production code never imports this file.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import type { ApiAuth } from "../../agent-inf/api/auth.ts";
import type { DashboardSettings } from "../../agent-inf/api/dashboard/dashboard.ts";
import { type ApiServer, startApiServer } from "../../agent-inf/api/server.ts";
import { createInferenceApp, type InferenceApp } from "../../agent-inf/app.ts";
import { inferenceConfigSchema, resolvePaths } from "../../agent-inf/config.ts";
import { type RunningGateway, startGateway } from "../../scripts/harness/agents.ts";
import { createDeployment, type Deployment } from "../../scripts/harness/deployment.ts";
import { eventually } from "../../scripts/harness/eventually.ts";
import { freePort } from "../../scripts/harness/free-port.ts";
import { startDelayProxy } from "../../scripts/harness/inference.ts";
import { createLogger } from "../../shared/log.ts";

export const DEAD_GATEWAY = "gtw-dead";
export const SLOW_GATEWAY = "gtw-slow";
export const MISNAMED_GATEWAY = "gtw-misnamed";
/** The inference side's per-order lot limit; the gateway's own limit (deployment.ts) is 5. */
export const MAX_LOTS = 10;

export interface StackOptions {
  /** Start the real gateway process (default true); without it every lane is dead. */
  readonly gateway?: boolean;
  /** The API's auth (default none: these suites test what comes after it). */
  readonly auth?: ApiAuth;
  readonly maxBodyBytes?: number;
  readonly bodyTimeoutMs?: number;
  /** The dashboard's settings (default: on, as the agent starts it). */
  readonly dashboard?: DashboardSettings;
}

export interface ApiStack {
  readonly deployment: Deployment;
  readonly gateway: RunningGateway | undefined;
  readonly gatewayName: string;
  readonly app: InferenceApp;
  readonly api: ApiServer;
  /** fetch() against the API with JSON in and out; `body` is serialized unless a string. */
  call(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<{ status: number; headers: Headers; json: Record<string, unknown>; text: string }>;
  close(): Promise<void>;
}

export async function startStack(options: StackOptions = {}): Promise<ApiStack> {
  const deployment = createDeployment();
  const closers: Array<() => Promise<unknown> | unknown> = [() => deployment.remove()];
  const close = async () => {
    for (const closer of closers.splice(0).reverse()) {
      try {
        await closer();
      } catch {
        // Keep cleaning up: a failed stop must not leave the other resources behind
      }
    }
  };
  try {
    const gateway =
      options.gateway === false
        ? undefined
        : await startGateway(deployment.gtwConfigPath, deployment.gtwStateDir);
    if (gateway !== undefined) closers.push(() => gateway.stop());
    // Nothing listens on it, and no other socket is given it (free-port.ts)
    const deadEndpoint = `tcp://127.0.0.1:${freePort()}`;
    // The slow lane needs its own gateway: orders are signed for a gateway by name, and a lane's
    // name is that gateway's name.
    const slowGateway =
      gateway === undefined ? undefined : await startNamedGateway(deployment, SLOW_GATEWAY);
    if (slowGateway !== undefined) closers.push(() => slowGateway.stop());
    const proxy =
      slowGateway === undefined ? undefined : startDelayProxy(slowGateway.endpoint, 300);
    if (proxy !== undefined) closers.push(() => proxy.close());
    const serverKey = deployment.gatewayKeys.publicPath;
    const quick = { request_timeout_ms: 150, order_timeout_ms: 300, reconcile_deadline_ms: 300 };
    const parsed = inferenceConfigSchema.parse({
      agent: { name: "inf-api-test" },
      keys: {
        client_secret: deployment.inferenceKeys.curveSecretPath,
        signing_secret: deployment.inferenceKeys.signSecretPath,
      },
      gateways: [
        {
          name: deployment.gatewayName,
          endpoint: gateway?.endpoint ?? deadEndpoint,
          server_key_file: serverKey,
          default: true,
          ...(gateway === undefined
            ? quick
            : { request_timeout_ms: 2000, order_timeout_ms: 5000, reconcile_deadline_ms: 5000 }),
        },
        {
          name: MISNAMED_GATEWAY,
          endpoint: gateway?.endpoint ?? deadEndpoint,
          server_key_file: serverKey,
          ...quick,
        },
        { name: DEAD_GATEWAY, endpoint: deadEndpoint, server_key_file: serverKey, ...quick },
        {
          name: SLOW_GATEWAY,
          endpoint: proxy?.endpoint ?? deadEndpoint,
          server_key_file: serverKey,
          request_timeout_ms: 2000,
          order_timeout_ms: 100,
          reconcile_deadline_ms: 250,
        },
      ],
      // The dead lane must stay UNKNOWN for orders: a heartbeat-engaged breaker would turn its
      // OPENs into BREAKER_OPEN denials after a few seconds
      heartbeat: { interval_ms: 1000, failure_threshold: 100 },
      risk: {
        allowed_symbols: ["EURUSD", "GBPUSD", "USDJPY", "XAUUSD"],
        max_lots: MAX_LOTS,
        require_stop_loss: false,
        max_risk_percent: null,
        max_positions: null,
        max_positions_per_symbol: null,
        max_orders_per_second: null,
        max_orders_per_minute: null,
        daily_loss_limit: { money: null, percent: null },
        max_drawdown_percent: null,
      },
      api: { auth: "none" },
      state_dir: join(deployment.dir, "inf", "state"),
    });
    const config = resolvePaths(parsed, deployment.dir);
    const app = createInferenceApp(config, createLogger("inf"));
    await app.start();
    closers.push(() => app.stop());
    // The live lanes connected before the first request: an order waits only a second for a
    // lane's connection (order-service.ts), and the slow lane's handshake alone crosses the
    // 300 ms proxy three times. Measured at 917-990 ms idle, it made a test's UNKNOWN a "nothing
    // was sent" on a loaded machine.
    if (gateway !== undefined) {
      await eventually(
        () =>
          [deployment.gatewayName, MISNAMED_GATEWAY, SLOW_GATEWAY].every(
            (name) => app.lanes.get(name)?.client.connected === true,
          ),
        { timeoutMs: 10_000, message: "the main, misnamed and slow lanes connected" },
      );
    }
    const api = await startApiServer(app, {
      listen: "127.0.0.1:0",
      auth: options.auth ?? { kind: "none" },
      maxBodyBytes: options.maxBodyBytes ?? config.api.max_body_bytes,
      ...(options.bodyTimeoutMs === undefined ? {} : { bodyTimeoutMs: options.bodyTimeoutMs }),
      ...(options.dashboard === undefined ? {} : { dashboard: options.dashboard }),
      stopGraceMs: 2000,
    });
    closers.push(() => api.stop());
    return {
      deployment,
      gateway,
      gatewayName: deployment.gatewayName,
      app,
      api,
      async call(method, path, body, headers = {}) {
        const init: RequestInit = {
          method,
          headers: {
            ...(body === undefined ? {} : { "content-type": "application/json" }),
            ...headers,
          },
          signal: AbortSignal.timeout(20_000),
        };
        if (body !== undefined) init.body = typeof body === "string" ? body : JSON.stringify(body);
        const response = await fetch(`${api.url}${path}`, init);
        const text = await response.text();
        let parsedBody: Record<string, unknown> = {};
        try {
          parsedBody = JSON.parse(text) as Record<string, unknown>;
        } catch {
          // Not JSON (metrics): callers use text
        }
        return { status: response.status, headers: response.headers, json: parsedBody, text };
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** A second gateway process on the same keys under another name, with its own state. */
async function startNamedGateway(deployment: Deployment, name: string): Promise<RunningGateway> {
  const config = parse(readFileSync(deployment.gtwConfigPath, "utf8")) as Record<string, unknown>;
  const state = `state-${name}`;
  config["gateway"] = { name };
  config["state_dir"] = state;
  config["journal"] = { path: `${state}/orders.journal` };
  config["backend"] = {
    type: "sim",
    sim: { seed: 7, sessions: "always", state_dir: `${state}/sim` },
  };
  const path = join(deployment.dir, "gtw", `${name}.yaml`);
  writeFileSync(path, stringify(config));
  return startGateway(path, join(deployment.dir, "gtw", state));
}
