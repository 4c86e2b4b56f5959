/**
 * End to end: the real agent-gtw process with backend.type terminal, the fake terminal dialling
 * its EA port, and our CURVE test client in front: PING shows the MT5 link, OPEN and CLOSE go
 * through the EA link to the simulated broker, and a terminal that goes silent halts trading.
 */
import { afterEach, expect, test } from "bun:test";
import {
  cleanupRigs,
  onCleanup,
  SECRET,
  terminalDeployment,
} from "../../agent-gtw/backend/terminal/testing/rig.ts";
import { agentCommand, startGateway } from "../../scripts/harness/agents.ts";
import { eventually } from "../../scripts/harness/eventually.ts";
import { TestClient } from "../../scripts/harness/test-client.ts";
import type { PingReply, TradeReply } from "../../shared/protocol/index.ts";
import { brokerChecked } from "../support/terminal-gateway.ts";

afterEach(cleanupRigs);

test("agent-gtw trades through the EA link and halts when the terminal goes silent", async () => {
  const { deployment, fake } = await terminalDeployment({
    heartbeat_ms: 200,
    command_timeout_ms: 3000,
  });
  const gtw = await startGateway(deployment.gtwConfigPath, deployment.gtwStateDir);
  onCleanup(() => gtw.stop().catch(() => gtw.kill()));
  const client = new TestClient(gtw.endpoint, deployment);
  onCleanup(() => client.close());

  const ping = async () => (await client.send({ action: "PING" })) as PingReply;
  await eventually(async () => (await ping()).mt5.link === "UP", { timeoutMs: 10_000 });
  const up = await ping();
  expect(up).toMatchObject({ trading_state: "ACTIVE", mt5: { link: "UP", backend: "terminal" } });
  expect(Math.abs((up.mt5.server_time as number) - Date.now())).toBeLessThan(5000);
  // The fake broker is at UTC+2: its bar and tick times are UTC plus this
  expect(up.mt5.server_offset_ms).toBe(7_200_000);
  await brokerChecked(deployment.gtwStateDir);

  const open = (await client.send({
    action: "OPEN",
    symbol: "EURUSD",
    side: "BUY",
    volume: 0.1,
    comment: "e2e terminal",
  })) as TradeReply;
  expect(open).toMatchObject({ status: "FILLED", volume: 0.1, retcode: 10009 });
  const [position] = await fake.sim.positions();
  expect(position).toMatchObject({ ticket: open.ticket, volume: 0.1 });
  expect(position?.comment).toContain("e2e terminal");
  expect(fake.commands.map((c) => c.cmd)).toContain("OPEN");

  const close = (await client.send({
    action: "CLOSE",
    ticket: open.ticket as number,
  })) as TradeReply;
  expect(close).toMatchObject({ status: "FILLED", remaining_volume: 0, ticket: open.ticket });
  expect(await fake.sim.positions()).toEqual([]);

  fake.freeze();
  await eventually(async () => (await ping()).mt5.link === "DOWN", { timeoutMs: 10_000 });
  const down = await ping();
  expect(down).toMatchObject({ trading_state: "HALTED", mt5: { link: "DOWN" } });
  expect(down.mt5.detail).toContain("EA silent");
  const refused = await client.send({ action: "OPEN", symbol: "EURUSD", side: "BUY", volume: 0.1 });
  expect(refused).toMatchObject({ status: "REJECTED", error_code: "MT5_LINK_DOWN" });
  expect(gtw.log()).toContain("EA connected");
  expect(gtw.log()).not.toContain(SECRET);
});

test("agent-gtw selftest --trade runs the suite against the terminal and exits 0", async () => {
  const { deployment, fake, port } = await terminalDeployment();
  const child = Bun.spawn(
    [
      ...agentCommand("agent-gtw"),
      "selftest",
      "--backend",
      "terminal",
      "--trade",
      "--symbol",
      "GBPUSD",
      "--wait",
      "20",
      "--config",
      deployment.gtwConfigPath,
    ],
    { stdout: "pipe", stderr: "pipe", env: { ...process.env, AGENT_LOG_LEVEL: "" } },
  );
  onCleanup(() => child.kill());
  const [stdout, stderr, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
  const lines = stdout.trim().split("\n");
  expect(lines[0]).toBe(`Waiting up to 20 s for the EA on 127.0.0.1:${port} ...`);
  expect(lines.filter((line) => line.startsWith("PASS")).map((l) => l.split(":")[0])).toEqual([
    "PASS link",
    "PASS hello",
    "PASS link authentication",
    "PASS ping",
    "PASS server time",
    "PASS account",
    "PASS positions",
    "PASS symbol GBPUSD",
    "PASS order mode GBPUSD",
    "PASS filling GBPUSD",
    "PASS unknown symbol",
    "PASS deals",
    "PASS orders",
    "PASS pending modes GBPUSD",
    "PASS order check GBPUSD",
    "PASS calc margin GBPUSD",
    "PASS calc profit GBPUSD",
    "PASS symbols",
    "PASS tick GBPUSD",
    "PASS rates GBPUSD M1 by position",
    "PASS rates GBPUSD M1 from a date",
    "PASS rates GBPUSD M1 range",
    "PASS ticks GBPUSD",
    "PASS history deals",
    "PASS open",
    "PASS duplicate",
    "PASS modify",
    "PASS close",
    "PASS pending place",
    "PASS pending duplicate",
    "PASS pending modify",
    "PASS pending cancel",
  ]);
  expect(lines.at(-1)).toBe("OK: 32 passed, 0 failed");
  expect(fake.commands.filter((c) => c.cmd === "OPEN")).toHaveLength(2);
  expect(fake.commands.filter((c) => c.cmd === "PLACE")).toHaveLength(2);
  expect(await fake.sim.orders()).toEqual([]);
});

test("agent-gtw selftest with an EA holding another secret fails the link and says why", async () => {
  const other = `${SECRET.slice(0, -8)}00000000`;
  const { deployment, fake } = await terminalDeployment({}, other);
  const child = Bun.spawn(
    [
      ...agentCommand("agent-gtw"),
      "selftest",
      "--backend",
      "terminal",
      "--wait",
      "2",
      "--config",
      deployment.gtwConfigPath,
    ],
    { stdout: "pipe", stderr: "pipe", env: { ...process.env, AGENT_LOG_LEVEL: "" } },
  );
  onCleanup(() => child.kill());
  const [stdout, code] = await Promise.all([new Response(child.stdout).text(), child.exited]);
  expect(code).toBe(1);
  expect(stdout).toContain("FAIL link: no EA connected within 2 s (last handshake from 127.0.0.1:");
  expect(stdout).toContain("closed after CHALLENGE: the EA's secret differs");
  // The EA told the impostor-or-misconfigured listener nothing but its nonce
  expect(fake.sentTypes.every((type) => type === "AUTH")).toBe(true);
  expect(stdout).not.toContain(SECRET);
});
