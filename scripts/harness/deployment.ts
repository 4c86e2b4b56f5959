/**
 * A throwaway deployment for end-to-end tests and the demo: a temp folder with freshly generated
 * keys (gateway CURVE pair, one inference host's CURVE and signing pairs), the client's public
 * certificate in the gateway's authorized-clients folder, and config files for both agents.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import {
  type GeneratedGatewayKeys,
  type GeneratedInferenceKeys,
  generateGatewayKeys,
  generateInferenceKeys,
} from "../../shared/keys/keygen.ts";

export interface Deployment {
  readonly dir: string;
  readonly gatewayName: string;
  readonly gatewayKeys: GeneratedGatewayKeys;
  readonly inferenceKeys: GeneratedInferenceKeys;
  readonly gtwConfigPath: string;
  readonly gtwStateDir: string;
  /** Rewrite the gateway config with changes (deep-merged over the current values). */
  updateGatewayConfig(changes: Record<string, unknown>): void;
  remove(): void;
}

export interface DeploymentOptions {
  readonly gatewayName?: string;
  /** Merged over the default gateway config. */
  readonly gateway?: Record<string, unknown>;
  readonly dir?: string;
}

export function createDeployment(options: DeploymentOptions = {}): Deployment {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), "mlb-e2e-"));
  const gatewayName = options.gatewayName ?? "gtw-test";
  const gtwKeys = join(dir, "gtw", "keys");
  const infKeys = join(dir, "inf", "keys");
  const gatewayKeys = generateGatewayKeys(gtwKeys, "agent-gtw");
  const inferenceKeys = generateInferenceKeys(infKeys, "inf-1");
  mkdirSync(join(gtwKeys, "clients"), { recursive: true });
  copyFileSync(inferenceKeys.curvePublicPath, join(gtwKeys, "clients", "inf-1.key"));
  copyFileSync(inferenceKeys.signPublicPath, join(gtwKeys, "inf-1.sign"));

  const gtwConfigPath = join(dir, "gtw", "agent-gtw.yaml");
  let gatewayConfig: Record<string, unknown> = merge(
    {
      gateway: { name: gatewayName },
      endpoint: "tcp://127.0.0.1:0",
      keys: {
        server_secret: "keys/agent-gtw.key_secret",
        authorized_clients_dir: "keys/clients",
        signing_keys: [{ key_id: "inf-1", file: "keys/inf-1.sign" }],
      },
      backend: { type: "sim", sim: { seed: 7, sessions: "always", state_dir: "state/sim" } },
      limits: {
        symbols: ["EURUSD", "GBPUSD", "USDJPY", "XAUUSD", "US500"],
        max_volume: 5,
        max_open_positions: 200,
      },
      journal: { path: "state/orders.journal" },
      state_dir: "state",
      log: { level: "info" },
      // A free port per gateway: tests run side by side (the status file names the URL)
      metrics: { listen: "127.0.0.1:0" },
    },
    options.gateway ?? {},
  );
  const write = () => writeFileSync(gtwConfigPath, stringify(gatewayConfig));
  write();
  return {
    dir,
    gatewayName,
    gatewayKeys,
    inferenceKeys,
    gtwConfigPath,
    gtwStateDir: join(dir, "gtw", "state"),
    updateGatewayConfig(changes) {
      gatewayConfig = merge(gatewayConfig, changes);
      write();
    },
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function merge(
  base: Record<string, unknown>,
  changes: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(changes)) {
    const current = out[key];
    out[key] =
      typeof value === "object" &&
      value !== null &&
      !Array.isArray(value) &&
      typeof current === "object" &&
      current !== null &&
      !Array.isArray(current)
        ? merge(current as Record<string, unknown>, value as Record<string, unknown>)
        : value;
  }
  return out;
}
