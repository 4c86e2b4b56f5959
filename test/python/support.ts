/**
 * The Python side of the tests: Debian's /usr/bin/python3 run on the mt5bridge package
 * (clients/python/src) and its unittest modules (clients/python/tests), and a deployment of the
 * real agents as processes for them to talk to: agent-gtw on the simulated MT5 and agent-inf
 * with its API on 127.0.0.1. Every run is bounded and every process is stopped by the cleanup.
 */

import { afterAll, beforeAll, expect } from "bun:test";
import { join } from "node:path";
import { type RunningGateway, startGateway } from "../../scripts/harness/agents.ts";
import { createDeployment, type Deployment } from "../../scripts/harness/deployment.ts";
import {
  bearer,
  type InferenceOptions,
  type InferenceSetup,
  startDelayProxy,
  startInference,
  writeInferenceConfig,
} from "../../scripts/harness/inference.ts";

/** Debian's python3; MT5BRIDGE_TEST_PYTHON runs the tests on another one (e.g. a Python 3.9). */
export const PYTHON = process.env["MT5BRIDGE_TEST_PYTHON"] ?? "/usr/bin/python3";
export const ROOT = join(import.meta.dir, "..", "..");
export const PACKAGE_DIR = join(ROOT, "clients", "python");
export const PACKAGE_SRC = join(PACKAGE_DIR, "src");
export const PYTHON_TESTS = join(PACKAGE_DIR, "tests");
export const EXAMPLES = join(ROOT, "examples", "python");
const RUN_TIMEOUT_MS = 90_000;
/** Starting or stopping the agents (beforeAll/afterAll); a Python run is bounded by its own. */
export const STACK_TIMEOUT_MS = 60_000;
/** Per test: a Python run (RUN_TIMEOUT_MS) and the checks around it. */
export const TEST_TIMEOUT_MS = 120_000;

export interface Run {
  readonly code: number | string;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Run python with the package importable (PYTHONPATH) and nothing else from the developer's
 * shell: no proxy settings, no bytecode written into the source tree. Killed after `timeoutMs`.
 */
export async function runPython(
  args: readonly string[],
  options: { env?: Record<string, string>; cwd?: string; timeoutMs?: number } = {},
): Promise<Run> {
  const child = Bun.spawn([PYTHON, ...args], {
    cwd: options.cwd ?? PYTHON_TESTS,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    env: {
      PATH: process.env["PATH"] ?? "",
      HOME: process.env["HOME"] ?? "/tmp",
      PYTHONDONTWRITEBYTECODE: "1",
      PYTHONPATH: PACKAGE_SRC,
      ...options.env,
    },
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? RUN_TIMEOUT_MS);
  try {
    const [stdout, stderr, code] = await Promise.all([
      new Response(child.stdout).text(),
      new Response(child.stderr).text(),
      child.exited,
    ]);
    return { code: child.signalCode ?? code, stdout, stderr };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Run unittest modules of clients/python/tests and require them all to pass: the assertion
 * shows Python's own report when they do not. Returns the report (unittest writes to stderr).
 */
export async function runUnittest(
  modules: readonly string[],
  env: Record<string, string> = {},
): Promise<string> {
  const run = await runPython(["-m", "unittest", "-v", ...modules], { env });
  const report = `${run.stdout}\n${run.stderr}`;
  // Python's own report is the failure message: it names the test and shows the traceback
  if (run.code !== 0) throw new Error(`python unittest exited ${run.code}:\n${report}`);
  expect(report).toMatch(/\nOK\s*$/);
  return report;
}

export interface LiveStack {
  readonly deployment: Deployment;
  readonly gateway: RunningGateway;
  readonly inference: InferenceSetup;
  /** The environment the live_*.py modules read (clients/python/tests/support.py). */
  readonly env: Record<string, string>;
  stop(): Promise<void>;
}

export interface LiveOptions extends InferenceOptions {
  /** Delay the gateway's replies by this much (a proxy between the agents). */
  readonly replyDelayMs?: number;
}

/** agent-gtw and agent-inf as processes, agent-inf's config file written for the tests. */
export async function startLiveStack(options: LiveOptions = {}): Promise<LiveStack> {
  const deployment = createDeployment();
  const cleanups: (() => unknown)[] = [() => deployment.remove()];
  const stop = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) {
      try {
        await cleanup();
      } catch {
        // Keep cleaning up: one failed stop must not leave the rest running
      }
    }
  };
  try {
    const gateway = await startGateway(deployment.gtwConfigPath, deployment.gtwStateDir);
    cleanups.push(() => gateway.stop());
    let endpoint = gateway.endpoint;
    if (options.replyDelayMs !== undefined) {
      const proxy = startDelayProxy(gateway.endpoint, options.replyDelayMs);
      cleanups.push(() => proxy.close());
      endpoint = proxy.endpoint;
    }
    // The live_*.py modules test how mt5bridge finds the API; only live_auth.py (apiToken) runs
    // against the token default, the others against the explicit opt-out (api.auth: none)
    const inference = writeInferenceConfig(deployment, endpoint, {
      auth: options.apiToken === undefined ? "none" : "token",
      ...options,
    });
    const agent = await startInference(inference);
    cleanups.push(() => agent.stop());
    const env: Record<string, string> = {
      MT5BRIDGE_TEST_URL: inference.apiUrl,
      MT5BRIDGE_TEST_CONFIG: inference.configPath,
      MT5BRIDGE_TEST_GATEWAY: deployment.gatewayName,
      ...(inference.token === undefined ? {} : { MT5BRIDGE_TEST_TOKEN: inference.token }),
    };
    return { deployment, gateway, inference, env, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * One live stack for the tests of a file: started before them, stopped after them. Returns a
 * getter (the stack exists only once beforeAll ran).
 */
export function liveStackForFile(options: LiveOptions = {}): () => LiveStack {
  let stack: LiveStack | undefined;
  beforeAll(async () => {
    stack = await startLiveStack(options);
  }, STACK_TIMEOUT_MS);
  afterAll(async () => {
    await stack?.stop();
  }, STACK_TIMEOUT_MS);
  return () => {
    if (stack === undefined) throw new Error("the agents did not start (see beforeAll)");
    return stack;
  };
}

/** GET an agent-inf route from the test itself (to check what Python did). */
export async function apiGet(stack: LiveStack, path: string): Promise<Response> {
  return fetch(`${stack.inference.apiUrl}${path}`, {
    signal: AbortSignal.timeout(10_000),
    headers: bearer(stack.inference.token),
  });
}
