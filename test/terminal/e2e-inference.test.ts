/**
 * The whole chain a trader uses with a real terminal, with the fake EA in the terminal's place:
 * agent-inf (process, its command line) → CurveZMQ → agent-gtw (process, backend terminal) →
 * EA link on 127.0.0.1 → the fake terminal's broker. And when the EA goes silent, agent-inf sees
 * the MT5 link down and its orders are refused without reaching MT5.
 */
import { afterEach, expect, test } from "bun:test";
import {
  cleanupRigs,
  onCleanup,
  terminalDeployment,
} from "../../agent-gtw/backend/terminal/testing/rig.ts";
import { startGateway } from "../../scripts/harness/agents.ts";
import { eventually } from "../../scripts/harness/eventually.ts";
import {
  readHealth,
  runCli,
  startInference,
  writeInferenceConfig,
} from "../../scripts/harness/inference.ts";
import { brokerChecked } from "../support/terminal-gateway.ts";

afterEach(cleanupRigs);

test("agent-inf opens and closes through agent-gtw and the EA link; a silent EA halts it", async () => {
  const { deployment, fake } = await terminalDeployment({
    heartbeat_ms: 200,
    command_timeout_ms: 3000,
  });
  const gtw = await startGateway(deployment.gtwConfigPath, deployment.gtwStateDir);
  onCleanup(() => gtw.stop().catch(() => gtw.kill()));

  const setup = writeInferenceConfig(deployment, gtw.endpoint, {
    heartbeatMs: 300,
    risk: { require_stop_loss: false, max_risk_percent: null },
  });
  const inf = await startInference(setup);
  onCleanup(() => inf.stop().catch(() => inf.kill()));
  await eventually(
    async () => (await readHealth(setup.apiUrl, setup.token)).gateways[0]?.mt5_link === "UP",
    {
      timeoutMs: 10_000,
    },
  );
  await brokerChecked(deployment.gtwStateDir);

  const open = await runCli(setup.configPath, [
    "open",
    "BUY",
    "EURUSD",
    "0.1",
    "--comment",
    "via EA",
    "--json",
  ]);
  expect(open.code).toBe(0);
  const filled = JSON.parse(open.stdout) as { outcome: string; reply: { ticket: number } };
  expect(filled.outcome).toBe("FILLED");
  const [position] = await fake.sim.positions();
  expect(position).toMatchObject({ ticket: filled.reply.ticket, volume: 0.1 });
  expect(fake.commands.map((command) => command.cmd)).toContain("OPEN");

  const close = await runCli(setup.configPath, ["close", String(filled.reply.ticket)]);
  expect(close.code).toBe(0);
  expect(await fake.sim.positions()).toEqual([]);

  fake.freeze();
  await eventually(
    async () => (await readHealth(setup.apiUrl, setup.token)).gateways[0]?.mt5_link === "DOWN",
    {
      timeoutMs: 10_000,
    },
  );
  const refused = await runCli(setup.configPath, ["open", "BUY", "EURUSD", "0.1", "--json"]);
  // DENIED 5, REJECTED 6 or ERROR 7, whichever side notices the link first
  expect([5, 6, 7]).toContain(refused.code);
  const sentToEa = fake.commands.filter((command) => command.cmd === "OPEN").length;
  expect(sentToEa).toBe(1);
  expect(JSON.parse(refused.stdout)).toMatchObject({
    outcome: expect.stringMatching(/^(REJECTED|ERROR|DENIED)$/),
  });
}, 60_000);
