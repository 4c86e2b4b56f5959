/**
 * Test-only: the real agents as processes for the market-data API tests, agent-gtw on the
 * simulated MT5 with forex sessions (so history has weekend gaps) and agent-inf with its API on
 * 127.0.0.1. BTCUSD trades around the clock there, so orders work on any day.
 */

import type { RunningAgent } from "../../scripts/harness/agents.ts";
import { type RunningGateway, startGateway } from "../../scripts/harness/agents.ts";
import { createDeployment, type Deployment } from "../../scripts/harness/deployment.ts";
import {
  bearer,
  PERMISSIVE_RISK,
  startInference,
  writeInferenceConfig,
} from "../../scripts/harness/inference.ts";

export interface MarketStack {
  readonly deployment: Deployment;
  readonly gateway: RunningGateway;
  readonly inference: RunningAgent;
  readonly apiUrl: string;
  /** agent-inf's config file (the CLI's --config). */
  readonly configPath: string;
  get(path: string, headers?: Record<string, string>, signal?: AbortSignal): Promise<Response>;
  post(path: string, body: unknown): Promise<Response>;
  stop(): Promise<void>;
}

export async function startMarketStack(
  gateway: Record<string, unknown> = {},
): Promise<MarketStack> {
  const deployment = createDeployment({
    gateway: {
      backend: { sim: { sessions: "forex" } },
      limits: { symbols: ["EURUSD", "GBPUSD", "USDJPY", "BTCUSD"] },
    },
  });
  const stops: (() => Promise<unknown> | unknown)[] = [() => deployment.remove()];
  const stop = async () => {
    for (const step of stops.splice(0).reverse()) {
      try {
        await step();
      } catch {
        // Keep stopping the rest
      }
    }
  };
  try {
    const gtw = await startGateway(deployment.gtwConfigPath, deployment.gtwStateDir);
    stops.push(() => gtw.stop().catch(() => gtw.kill()));
    const setup = writeInferenceConfig(deployment, gtw.endpoint, {
      gateway: { request_timeout_ms: 1000, ...gateway },
      risk: { ...PERMISSIVE_RISK, allowed_symbols: ["EURUSD", "GBPUSD", "BTCUSD"], max_lots: 1 },
    });
    const inf = await startInference(setup);
    stops.push(() => inf.stop());
    const get = (path: string, headers: Record<string, string> = {}, signal?: AbortSignal) =>
      fetch(`${setup.apiUrl}${path}`, {
        headers: { ...bearer(setup.token), ...headers },
        signal: signal ?? AbortSignal.timeout(60_000),
      });
    const post = (path: string, body: unknown) =>
      fetch(`${setup.apiUrl}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", ...bearer(setup.token) },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(30_000),
      });
    return {
      deployment,
      gateway: gtw,
      inference: inf,
      apiUrl: setup.apiUrl,
      configPath: setup.configPath,
      get,
      post,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
