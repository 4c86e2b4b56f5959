/**
 * What the hostile suites share: a gateway process with two pinned inference hosts (inf-1, the
 * deployment's own, and inf-2, made here with its own CURVE and signing keys), and the status
 * file the gateway rewrites every second.
 */
import { copyFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type RunningGateway, startGateway } from "../../scripts/harness/agents.ts";
import { createDeployment, type Deployment } from "../../scripts/harness/deployment.ts";
import { TestClient } from "../../scripts/harness/test-client.ts";
import { type GeneratedInferenceKeys, generateInferenceKeys } from "../../shared/keys/keygen.ts";
import type { Cleanups } from "../faults/support.ts";

export interface TwoHosts {
  readonly deployment: Deployment;
  readonly gateway: RunningGateway;
  readonly second: GeneratedInferenceKeys;
  /** The key file that authorizes inf-2 (remove it to revoke). */
  readonly secondKeyFile: string;
  client(options?: ConstructorParameters<typeof TestClient>[2]): TestClient;
  status(): Record<string, unknown>;
}

export async function twoHosts(
  cleanups: Cleanups,
  gatewayConfig: Record<string, unknown> = {},
): Promise<TwoHosts> {
  const deployment = createDeployment({
    gateway: { limits: { max_open_positions: 1000 }, ...gatewayConfig },
  });
  cleanups.add(() => deployment.remove());
  const second = generateInferenceKeys(join(deployment.dir, "inf-2", "keys"), "inf-2");
  const secondKeyFile = join(deployment.dir, "gtw", "keys", "clients", "inf-2.key");
  copyFileSync(second.curvePublicPath, secondKeyFile);
  copyFileSync(second.signPublicPath, join(deployment.dir, "gtw", "keys", "inf-2.sign"));
  deployment.updateGatewayConfig({
    keys: {
      signing_keys: [
        { key_id: "inf-1", file: "keys/inf-1.sign" },
        { key_id: "inf-2", file: "keys/inf-2.sign" },
      ],
    },
  });
  const gateway = await startGateway(deployment.gtwConfigPath, deployment.gtwStateDir);
  cleanups.add(() => gateway.kill());
  return {
    deployment,
    gateway,
    second,
    secondKeyFile,
    client(options) {
      const built = new TestClient(gateway.endpoint, deployment, options);
      cleanups.add(() => built.close());
      return built;
    },
    status() {
      return JSON.parse(readFileSync(join(deployment.gtwStateDir, "status.json"), "utf8"));
    },
  };
}
