/**
 * `agent-inf ping` against a real agent-gtw that has not authorized this host's key: the one
 * line on stderr names the refused handshake (from the session's status events), so an operator
 * sees a key problem, not only "cannot reach".
 */
import { afterEach, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { startGateway } from "../../scripts/harness/agents.ts";
import { createDeployment } from "../../scripts/harness/deployment.ts";
import { runCli, writeInferenceConfig } from "../../scripts/harness/inference.ts";
import { generateInferenceKeys } from "../../shared/keys/keygen.ts";

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

test("ping with a key the gateway has not authorized says the handshake was refused", async () => {
  const deployment = createDeployment();
  cleanups.push(() => deployment.remove());
  const gtw = await startGateway(deployment.gtwConfigPath, deployment.gtwStateDir);
  cleanups.push(() => gtw.kill());
  const dir = join(deployment.dir, "stranger");
  mkdirSync(dir, { recursive: true });
  const keys = generateInferenceKeys(join(dir, "keys"), "stranger");
  const setup = writeInferenceConfig(deployment, gtw.endpoint, {
    client: { name: "stranger", keys, dir },
    gateway: { request_timeout_ms: 1500 },
  });
  const result = await runCli(setup.configPath, ["ping", "--count", "1"]);
  expect(result.stdout).toBe("");
  expect(result.stderr).toMatch(
    new RegExp(
      `^agent-inf: cannot reach gateway ${deployment.gatewayName} at ${gtw.endpoint.replaceAll(".", "\\.")} within 1500 ms: handshake failed \\([A-Z_]+\\): .+\\n$`,
    ),
  );
  expect(result.code).toBe(1);
}, 30_000);
