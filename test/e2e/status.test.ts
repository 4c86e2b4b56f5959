/**
 * `agent-inf status` tells the truth (issue 18 §2). It printed "ok" and exited 0 with the clock
 * 5 s off (every order EXPIRED), with a gateway name that did not match (every order
 * WRONG_GATEWAY), and with the gateway down ("mt5 UP" beside "NOT CONNECTED"). Here the real
 * gateway runs as a process, agent-inf runs as processes with each of those mistakes (and a
 * refused client key and a wrong server key), and `status` must exit 1 naming the cause and
 * the fix. The clock cases run agent-inf in process with a shifted wall clock, since a process's
 * clock cannot be moved from outside.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import { createInferenceApp, type InferenceApp } from "../../agent-inf/app.ts";
import { inferenceConfigSchema, resolvePaths } from "../../agent-inf/config.ts";
import type { Health } from "../../agent-inf/lane/health.ts";
import {
  type RunningAgent,
  type RunningGateway,
  spawnAgent,
  startGateway,
} from "../../scripts/harness/agents.ts";
import { createDeployment, type Deployment } from "../../scripts/harness/deployment.ts";
import { eventually } from "../../scripts/harness/eventually.ts";
import { freePort } from "../../scripts/harness/free-port.ts";
import { runCli } from "../../scripts/harness/inference.ts";
import { systemClock } from "../../shared/clock.ts";
import { generateGatewayKeys, generateInferenceKeys } from "../../shared/keys/keygen.ts";
import { createLogger } from "../../shared/log.ts";

let deployment: Deployment;
let gateway: RunningGateway;
const agents: RunningAgent[] = [];
const apps: InferenceApp[] = [];

const quick = { request_timeout_ms: 500, order_timeout_ms: 1000, reconcile_deadline_ms: 1000 };
const TOKEN = "status-test-strategy-token";
const AUTH = { headers: { authorization: `Bearer ${TOKEN}` } };

/** An agent-inf config for `gateways`, written to its own folder; returns its path and API URL. */
function inferenceConfig(
  name: string,
  gateways: Record<string, unknown>[],
  keys = deployment.inferenceKeys,
) {
  const dir = join(deployment.dir, name);
  mkdirSync(dir, { recursive: true });
  const port = freePort();
  const config = {
    agent: { name: keys.keyId },
    keys: { client_secret: keys.curveSecretPath, signing_secret: keys.signSecretPath },
    gateways,
    heartbeat: { interval_ms: 200, failure_threshold: 2 },
    risk: { allowed_symbols: ["EURUSD"], max_lots: 1 },
    // The token default, as keygen writes it: status (the CLI) sends the strategy's
    api: {
      listen: `127.0.0.1:${port}`,
      token_file: "api.token",
      operator_token_file: "operator.token",
    },
    state_dir: "state",
  };
  const path = join(dir, "agent-inf.yaml");
  writeFileSync(path, stringify(config));
  writeFileSync(join(dir, "api.token"), `${TOKEN}\n`, { mode: 0o600 });
  writeFileSync(join(dir, "operator.token"), `${TOKEN}-operator\n`, { mode: 0o600 });
  return { path, apiUrl: `http://127.0.0.1:${port}`, config };
}

async function startAgent(path: string, apiUrl: string): Promise<RunningAgent> {
  const agent = spawnAgent("agent-inf", ["run", "--config", path]);
  agents.push(agent);
  await eventually(() => fetch(`${apiUrl}/v1/health`, AUTH).then((response) => response.ok), {
    timeoutMs: 20_000,
    intervalMs: 50,
  });
  return agent;
}

async function health(apiUrl: string): Promise<Health> {
  return (await (await fetch(`${apiUrl}/v1/health`, AUTH)).json()) as Health;
}

beforeAll(async () => {
  deployment = createDeployment();
  gateway = await startGateway(deployment.gtwConfigPath, deployment.gtwStateDir);
}, 30_000);

afterAll(async () => {
  for (const app of apps) await app.stop();
  for (const agent of agents) await agent.stop();
  await gateway?.stop();
});

describe("agent-inf status", () => {
  test("exits 0 and says ok when the gateway is reachable, named right and in sync", async () => {
    const good = inferenceConfig("good", [
      {
        name: deployment.gatewayName,
        endpoint: gateway.endpoint,
        server_key_file: deployment.gatewayKeys.publicPath,
      },
    ]);
    await startAgent(good.path, good.apiUrl);
    await eventually(async () => (await health(good.apiUrl)).status === "ok", {
      timeoutMs: 10_000,
    });
    const status = await runCli(good.path, ["status"]);
    expect(status.stdout).toContain(": ok\n");
    expect(status.stdout).not.toContain("PROBLEM");
    expect(status.code).toBe(0);
  }, 40_000);

  test("exits 1 naming the cause: wrong gateway name, gateway down, wrong server key", async () => {
    const stranger = generateGatewayKeys(join(deployment.dir, "stranger"), "agent-gtw");
    const deadPort = freePort();
    const broken = inferenceConfig("broken", [
      {
        name: "gtw-misnamed",
        default: true,
        endpoint: gateway.endpoint,
        server_key_file: deployment.gatewayKeys.publicPath,
        ...quick,
      },
      {
        name: "gtw-down",
        endpoint: `tcp://127.0.0.1:${deadPort}`,
        server_key_file: deployment.gatewayKeys.publicPath,
        ...quick,
      },
      {
        name: "gtw-wrong-key",
        endpoint: gateway.endpoint,
        server_key_file: stranger.publicPath,
        ...quick,
      },
    ]);
    await startAgent(broken.path, broken.apiUrl);
    const seen = await eventually(
      async () => {
        const now = await health(broken.apiUrl);
        const codes = now.gateways.map((lane) => lane.problems.map((p) => p.code).join(","));
        return codes.every((code) => code !== "") &&
          now.gateways.every((lane) => lane.connected || lane.connection_failure !== undefined)
          ? now
          : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 100 },
    );
    const lane = (name: string) => seen.gateways.find((entry) => entry.gateway === name);
    expect(seen.status).toBe("failed");
    expect(lane("gtw-misnamed")?.problems.map((p) => p.code)).toContain("WRONG_GATEWAY_NAME");
    expect(lane("gtw-down")?.connection_failure?.cause).toBe("port_refused");
    expect(lane("gtw-down")?.mt5_link).toBeUndefined();
    expect(lane("gtw-wrong-key")?.connection_failure?.cause).toBe("wrong_server_key");

    const status = await runCli(broken.path, ["status"]);
    expect(status.code).toBe(1);
    expect(status.stdout).toContain(`is named "${deployment.gatewayName}"`);
    expect(status.stdout).toContain("WRONG_GATEWAY");
    expect(status.stdout).toContain(`nothing accepts connections at tcp://127.0.0.1:${deadPort}`);
    expect(status.stdout).toContain("server_key_file is not that gateway's public key");
    // The stale "UP" from a gateway that is not reachable any more is not shown
    expect(status.stdout).toContain("mt5        unknown (gateway not reachable)");
    expect(status.stdout).not.toMatch(/NOT CONNECTED[\s\S]*?mt5 +UP/);
  }, 40_000);

  test("names a refused client key (the gateway's ERROR 400) and says where the key goes", async () => {
    const outsider = generateInferenceKeys(join(deployment.dir, "outsider-keys"), "inf-outsider");
    const refused = inferenceConfig(
      "refused",
      [
        {
          name: deployment.gatewayName,
          endpoint: gateway.endpoint,
          server_key_file: deployment.gatewayKeys.publicPath,
          ...quick,
        },
      ],
      outsider,
    );
    await startAgent(refused.path, refused.apiUrl);
    await eventually(
      async () =>
        (await health(refused.apiUrl)).gateways[0]?.connection_failure?.cause ===
        "client_key_not_authorized",
      { timeoutMs: 15_000, intervalMs: 100 },
    );
    const status = await runCli(refused.path, ["status"]);
    expect(status.code).toBe(1);
    expect(status.stdout).toContain("the gateway refused this host's key");
    expect(status.stdout).toContain("keys/clients/");
  }, 40_000);
});

describe("clock offset against the signature window", () => {
  /** agent-inf in process with its wall clock `shiftMs` ahead; its log lines collected. */
  async function shifted(shiftMs: number) {
    const { config } = inferenceConfig(`clock${shiftMs}`, [
      {
        name: deployment.gatewayName,
        endpoint: gateway.endpoint,
        server_key_file: deployment.gatewayKeys.publicPath,
      },
    ]);
    const lines: string[] = [];
    const app = createInferenceApp(
      resolvePaths(inferenceConfigSchema.parse(config), join(deployment.dir, `clock${shiftMs}`)),
      createLogger("inf", { level: "info", sink: (line) => lines.push(line) }),
      {
        clock: {
          now: () => Date.now() + shiftMs,
          monotonic: () => systemClock.monotonic(),
          setTimeout: (fn, ms) => systemClock.setTimeout(fn, ms),
          setInterval: (fn, ms) => systemClock.setInterval(fn, ms),
        },
      },
    );
    apps.push(app);
    await app.start();
    const seen = await eventually(
      () => {
        const lane = app.health().gateways[0];
        return lane?.clock_offset_ms !== undefined && lane.problems.length > 0 ? lane : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 50 },
    );
    return { app, lane: seen, lines };
  }

  test("5 s off: failed, every order would be EXPIRED, and the agent logs it", async () => {
    const { app, lane, lines } = await shifted(5000);
    expect(app.health().status).toBe("failed");
    expect(lane.problems).toContainEqual(
      expect.objectContaining({ level: "fail", code: "CLOCK_OFFSET" }),
    );
    expect(lane.problems[0]?.message).toContain("every order will be refused EXPIRED");
    // Logged at the PING after the one that moved the offset
    await eventually(
      () => lines.some((line) => line.includes("ERROR") && line.includes("signature window")),
      { timeoutMs: 5000, message: "an error line about the signature window" },
    );
  }, 20_000);

  test("past half the window: degraded, and the agent warns", async () => {
    // Ours 400 ms ahead = the gateway 400 ms behind; it accepts up to 500 ms in its future
    const { app, lane, lines } = await shifted(400);
    expect(app.health().status).toBe("degraded");
    expect(lane.problems).toEqual([
      expect.objectContaining({ level: "warn", code: "CLOCK_OFFSET" }),
    ]);
    await eventually(
      () => lines.some((line) => line.includes("WARN") && line.includes("past half")),
      {
        timeoutMs: 5000,
        message: "a warning past half the window",
      },
    );
  }, 20_000);
});
