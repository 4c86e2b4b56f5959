/**
 * Several inference hosts against one gateway, for the load test (and the benchmark): one test
 * deployment, a CURVE and a signing key pair per host (authorized at the gateway, as an operator
 * would with keygen), the gateway process on the simulated MT5, and one agent-inf process per
 * host with its own config, state and local API.
 */
import { copyFileSync } from "node:fs";
import { join } from "node:path";
import {
  type RunningAgent,
  type RunningGateway,
  startGateway,
} from "../../scripts/harness/agents.ts";
import { createDeployment, type Deployment } from "../../scripts/harness/deployment.ts";
import {
  type InferenceSetup,
  PERMISSIVE_RISK,
  startInference,
  writeInferenceConfig,
} from "../../scripts/harness/inference.ts";
import { generateInferenceKeys } from "../../shared/keys/keygen.ts";
import { ApiClient, type Cleanups } from "../faults/support.ts";

export interface FleetClient {
  readonly name: string;
  readonly setup: InferenceSetup;
  readonly agent: RunningAgent;
  readonly api: ApiClient;
}

export interface Fleet {
  readonly deployment: Deployment;
  readonly gateway: RunningGateway;
  readonly clients: readonly FleetClient[];
}

export interface FleetOptions {
  /** Merged over the deployment's gateway config. */
  readonly gateway?: Record<string, unknown>;
  readonly heartbeatMs?: number;
}

export async function startFleet(
  cleanups: Cleanups,
  count: number,
  options: FleetOptions = {},
): Promise<Fleet> {
  const deployment = createDeployment({
    gateway: {
      limits: { max_open_positions: 100_000, max_volume: 5 },
      backend: { sim: { account: { balance: 10_000_000 } } },
      ...options.gateway,
    },
  });
  cleanups.add(() => deployment.remove());
  const gtwKeys = join(deployment.dir, "gtw", "keys");
  const hosts = [
    { name: "inf-1", keys: deployment.inferenceKeys, dir: join(deployment.dir, "inf") },
  ];
  for (let i = 2; i <= count; i++) {
    const name = `inf-${i}`;
    const dir = join(deployment.dir, name);
    const keys = generateInferenceKeys(join(dir, "keys"), name);
    copyFileSync(keys.curvePublicPath, join(gtwKeys, "clients", `${name}.key`));
    copyFileSync(keys.signPublicPath, join(gtwKeys, `${name}.sign`));
    hosts.push({ name, keys, dir });
  }
  deployment.updateGatewayConfig({
    keys: {
      signing_keys: hosts.map((host) => ({ key_id: host.name, file: `keys/${host.name}.sign` })),
    },
  });
  const gateway = await startGateway(deployment.gtwConfigPath, deployment.gtwStateDir);
  cleanups.add(() => gateway.kill());
  const clients = await Promise.all(
    hosts.map(async (host) => {
      const setup = writeInferenceConfig(deployment, gateway.endpoint, {
        client: host,
        heartbeatMs: options.heartbeatMs ?? 1000,
        risk: { ...PERMISSIVE_RISK, max_lots: 5 },
      });
      const agent = await startInference(setup, 30_000);
      cleanups.add(() => agent.kill());
      return { name: host.name, setup, agent, api: new ApiClient(setup.apiUrl, setup.token) };
    }),
  );
  return { deployment, gateway, clients };
}
