/**
 * `agent-inf watch` as a process against a running agent-inf (also a process): live quote lines
 * from the stream, JSON lines with --json, and clean refusals.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { RunningAgent } from "../../scripts/harness/agents.ts";
import { createDeployment, type Deployment } from "../../scripts/harness/deployment.ts";
import { eventually } from "../../scripts/harness/eventually.ts";
import {
  type InferenceSetup,
  readHealth,
  runCli,
  startInference,
  writeInferenceConfig,
} from "../../scripts/harness/inference.ts";
import { type InProcessGateway, startInProcessGateway } from "./support.ts";

let deployment: Deployment;
let gateway: InProcessGateway;
let setup: InferenceSetup;
let agent: RunningAgent;

beforeAll(async () => {
  deployment = createDeployment();
  gateway = await startInProcessGateway(deployment, { tickIntervalMs: 50 });
  setup = writeInferenceConfig(deployment, gateway.endpoint);
  agent = await startInference(setup);
  await eventually(
    async () =>
      (await readHealth(setup.apiUrl, setup.token)).gateways.every(
        (lane) => (lane as { stream?: { state?: string } }).stream?.state === "LIVE",
      ),
    { timeoutMs: 10_000, message: "stream LIVE" },
  );
});

afterAll(async () => {
  await agent?.stop();
  await gateway?.stop();
  deployment?.remove();
});

describe("agent-inf watch", () => {
  test("--json prints the stream's messages, one per line, and stops after --count quotes", async () => {
    const run = await runCli(setup.configPath, [
      "watch",
      "EURUSD",
      "GBPUSD",
      "--count",
      "3",
      "--json",
    ]);
    const lines = run.stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as Record<string, unknown>);

    expect(run.code).toBe(0);
    expect(lines[0]).toMatchObject({ event: "SNAPSHOT", state: "LIVE" });
    const quotes = lines.filter((line) => line["event"] === "QUOTE");
    expect(quotes).toHaveLength(3);
    for (const quote of quotes) {
      expect(["EURUSD", "GBPUSD"]).toContain(quote["symbol"] as string);
      expect(quote["ask"] as number).toBeGreaterThan(quote["bid"] as number);
    }
  });

  test("prints a quote line per update when not on a terminal", async () => {
    const run = await runCli(setup.configPath, ["watch", "EURUSD", "-n", "2"]);

    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split("\n");
    expect(lines.length).toBeGreaterThanOrEqual(2);
    expect(lines.at(-1)).toMatch(
      /^EURUSD +bid \d+\.\d+ {2}ask \d+\.\d+ {2}spread 0\.\d+ {2}\d\d:\d\d:\d\d\.\d{3} UTC {2}\(age \d+ ms\)$/,
    );
  });

  test("an unknown symbol and a missing one are refused", async () => {
    const unknown = await runCli(setup.configPath, ["watch", "NOPE"]);
    const missing = await runCli(setup.configPath, ["watch"]);

    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("will not stream NOPE (UNKNOWN_SYMBOL)");
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("watch needs at least one SYMBOL");
  });
});
