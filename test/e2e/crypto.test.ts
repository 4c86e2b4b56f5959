/**
 * The crypto backend as an operator meets it, on both agents as real processes: `agent-gtw status`
 * (text and --json) and agent-inf's /v1/health and `status` name the secretbox backend in use,
 * and an unknown AGENT_CRYPTO_BACKEND stops `run` and `ping` at startup with the usage exit code
 * and the allowed values, before anything listens or connects.
 *
 * The backend expected is the one this run asks for: libsodium unless AGENT_CRYPTO_BACKEND says
 * tweetnacl. Against the compiled agents (AGENT_BINARIES=dist) libsodium must be the copy embedded
 * in the binary, not one from node_modules.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { agentCommand, spawnAgent, startGateway } from "../../scripts/harness/agents.ts";
import { createDeployment, type Deployment } from "../../scripts/harness/deployment.ts";
import { eventually, withTimeout } from "../../scripts/harness/eventually.ts";
import {
  readHealth,
  runCli,
  startInference,
  writeInferenceConfig,
} from "../../scripts/harness/inference.ts";
import { ExitCode } from "../../shared/cli.ts";
import { CRYPTO_BACKEND_ENV } from "../../shared/sodium/install.ts";

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function deploy(): Deployment {
  const deployment = createDeployment();
  cleanups.push(() => deployment.remove());
  return deployment;
}

/** What the agents of this run must report. */
function expected(): { secretbox: string; detail: RegExp } {
  if (process.env[CRYPTO_BACKEND_ENV] === "tweetnacl")
    return { secretbox: "tweetnacl", detail: /^AGENT_CRYPTO_BACKEND=tweetnacl$/ };
  if (process.env["AGENT_BINARIES"] === "dist")
    return { secretbox: "sodium-native", detail: /^embedded linux-x64$/ };
  return { secretbox: "sodium-native", detail: /node_modules.*sodium-native\.node$/ };
}

const UNKNOWN_VALUE =
  'AGENT_CRYPTO_BACKEND must be auto, sodium-native or tweetnacl, was "fast" (see';

describe("which crypto backend runs", () => {
  test("agent-gtw status names it, in text and JSON", async () => {
    const deployment = deploy();
    const gtw = await startGateway(deployment.gtwConfigPath, deployment.gtwStateDir);
    cleanups.push(() => gtw.kill());
    const status = (...args: string[]) =>
      Bun.spawnSync(
        [...agentCommand("agent-gtw"), "status", "--config", deployment.gtwConfigPath, ...args],
        { stdout: "pipe", stderr: "pipe", env: { ...process.env, AGENT_LOG_LEVEL: "" } },
      );
    const { secretbox, detail } = expected();
    const json = status("--json");
    expect(json.exitCode).toBe(0);
    const crypto = JSON.parse(json.stdout.toString()).crypto;
    expect(crypto).toMatchObject({ secretbox, fallback: false });
    expect(crypto.detail).toMatch(detail);
    const text = status();
    expect(text.exitCode).toBe(0);
    expect(text.stdout.toString()).toContain(`\ncrypto    ${secretbox} (${crypto.detail})\n`);
  });

  test("agent-inf's health and status name it", async () => {
    const deployment = deploy();
    const gtw = await startGateway(deployment.gtwConfigPath, deployment.gtwStateDir);
    cleanups.push(() => gtw.kill());
    const setup = writeInferenceConfig(deployment, gtw.endpoint);
    const agent = await startInference(setup);
    cleanups.push(() => agent.kill());
    const { secretbox, detail } = expected();
    const health = (await readHealth(setup.apiUrl, setup.token)) as unknown as {
      crypto: { secretbox: string; detail: string; fallback: boolean };
    };
    expect(health.crypto).toMatchObject({ secretbox, fallback: false });
    expect(health.crypto.detail).toMatch(detail);
    const status = await runCli(setup.configPath, ["status"]);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(`\ncrypto ${secretbox} (${health.crypto.detail})\n`);
  });
});

describe("an unknown AGENT_CRYPTO_BACKEND", () => {
  const bad = { [CRYPTO_BACKEND_ENV]: "fast" };

  test("agent-gtw run stops at startup with exit 2, before it listens", async () => {
    const deployment = deploy();
    const gtw = spawnAgent("agent-gtw", ["run", "--config", deployment.gtwConfigPath], bad);
    cleanups.push(() => gtw.kill());
    expect(await withTimeout(gtw.exited(), 15_000, "agent-gtw exit")).toBe(ExitCode.USAGE);
    // stderr is read as it comes: it may still be arriving when the process has exited
    await eventually(() => gtw.log().includes(`agent-gtw: ${UNKNOWN_VALUE}`), {
      message: `the error on stderr (was ${JSON.stringify(gtw.log())})`,
    });
    expect(existsSync(join(deployment.gtwStateDir, "status.json"))).toBe(false);
  });

  test("agent-inf run and ping stop at startup with exit 2", async () => {
    const deployment = deploy();
    // No gateway: nothing may get as far as connecting
    const setup = writeInferenceConfig(deployment, "tcp://127.0.0.1:9");
    for (const command of [["run"], ["ping", "--count", "1"]]) {
      const agent = spawnAgent("agent-inf", [...command, "--config", setup.configPath], bad);
      cleanups.push(() => agent.kill());
      expect(await withTimeout(agent.exited(), 15_000, `agent-inf ${command[0]} exit`)).toBe(
        ExitCode.USAGE,
      );
      await eventually(() => agent.log().includes(`agent-inf: ${UNKNOWN_VALUE}`), {
        message: `${command[0]}: the error on stderr (was ${JSON.stringify(agent.log())})`,
      });
    }
    // The API never opened
    expect(await readHealth(setup.apiUrl, setup.token).catch(() => "refused")).toBe("refused");
  });
});
