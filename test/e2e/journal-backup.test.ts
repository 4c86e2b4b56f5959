/**
 * `agent-gtw journal backup` while the gateway runs and orders keep arriving (issue 18 §3): the
 * copy replays, holds every order answered before the backup began, and is never written over.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { Journal } from "../../agent-gtw/orders/journal.ts";
import {
  agentCommand,
  type RunningAgent,
  type RunningGateway,
  startGateway,
} from "../../scripts/harness/agents.ts";
import { createDeployment, type Deployment } from "../../scripts/harness/deployment.ts";
import {
  bearer,
  type InferenceSetup,
  PERMISSIVE_RISK,
  startInference,
  writeInferenceConfig,
} from "../../scripts/harness/inference.ts";
import { systemClock } from "../../shared/clock.ts";
import { silentLogger } from "../../shared/log.ts";

let deployment: Deployment;
let gateway: RunningGateway;
let inference: RunningAgent;
let setup: InferenceSetup;

beforeAll(async () => {
  deployment = createDeployment();
  gateway = await startGateway(deployment.gtwConfigPath, deployment.gtwStateDir);
  setup = writeInferenceConfig(deployment, gateway.endpoint, { risk: PERMISSIVE_RISK });
  inference = await startInference(setup, 30_000);
}, 60_000);

afterAll(async () => {
  await inference?.stop();
  await gateway?.stop();
});

const open = () =>
  fetch(`${setup.apiUrl}/v1/orders`, {
    method: "POST",
    headers: { "content-type": "application/json", ...bearer(setup.token) },
    body: JSON.stringify({ symbol: "EURUSD", side: "BUY", volume: 0.01 }),
  }).then(async (response) => ((await response.json()) as { outcome: string }).outcome);

function backup(out: string) {
  const result = Bun.spawnSync(
    [
      ...agentCommand("agent-gtw"),
      "journal",
      "backup",
      "--out",
      out,
      "--config",
      deployment.gtwConfigPath,
    ],
    { stdout: "pipe", stderr: "pipe", env: { ...process.env, AGENT_LOG_LEVEL: "" } },
  );
  return {
    code: result.exitCode,
    stdout: result.stdout.toString(),
    stderr: result.stderr.toString(),
  };
}

test("a backup taken under load replays and holds every order answered before it", async () => {
  const before = await Promise.all(Array.from({ length: 20 }, open));
  expect(before.every((outcome) => outcome === "FILLED")).toBe(true);
  // More orders while the backup runs
  let running = true;
  const during = (async () => {
    let count = 0;
    while (running && count < 200) {
      await open();
      count += 1;
    }
    return count;
  })();
  const out = join(deployment.dir, "journal.backup");
  const result = backup(out);
  running = false;
  await during;
  expect(result.stderr).toBe("");
  expect(result.code).toBe(0);
  expect(result.stdout).toMatch(/backed up to .*journal\.backup: \d+ orders \(0 unresolved\)/);

  const copy = Journal.open({ path: out, clock: systemClock, logger: silentLogger });
  try {
    expect(copy.size).toBeGreaterThanOrEqual(20);
  } finally {
    copy.close();
  }
  const again = backup(out);
  expect(again.code).toBe(2);
  expect(again.stderr).toContain("exists; choose another --out");
}, 60_000);
