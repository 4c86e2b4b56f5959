/**
 * Both agents as real processes on loopback (issue 4 §6): agent-gtw on the simulated MT5,
 * agent-inf connected to it over CURVE, and the agent-inf command line driven as an operator
 * would, through the running agent's local API (or, for ping, straight to the gateway).
 * With AGENT_BINARIES=dist the same tests run the compiled executables.
 */
import { afterEach, describe, expect, test } from "bun:test";
import {
  type RunningAgent,
  type RunningGateway,
  startGateway,
} from "../../scripts/harness/agents.ts";
import { createDeployment, type Deployment } from "../../scripts/harness/deployment.ts";
import { eventually } from "../../scripts/harness/eventually.ts";
import { freePort } from "../../scripts/harness/free-port.ts";
import {
  bearer,
  type CliResult,
  type InferenceOptions,
  type InferenceSetup,
  readHealth,
  runCli,
  startDelayProxy,
  startInference,
  writeInferenceConfig,
} from "../../scripts/harness/inference.ts";

const HEARTBEAT_MS = 300;
/** Each test spawns a dozen processes; generous, but every wait inside is bounded too. */
const TEST_TIMEOUT_MS = 30_000;

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Stack {
  readonly deployment: Deployment;
  readonly gtw: RunningGateway;
  readonly setup: InferenceSetup;
  readonly cli: (...args: string[]) => Promise<CliResult>;
}

/** A deployment, its gateway, and agent-inf's config; `endpoint` replaces the gateway's own. */
async function stack(
  options: InferenceOptions & { gatewayPort?: number; endpoint?: (gtw: string) => string } = {},
): Promise<Stack> {
  const deployment = createDeployment(
    options.gatewayPort === undefined
      ? {}
      : { gateway: { endpoint: `tcp://127.0.0.1:${options.gatewayPort}` } },
  );
  cleanups.push(() => deployment.remove());
  const gtw = await startGateway(deployment.gtwConfigPath, deployment.gtwStateDir);
  cleanups.push(() => gtw.kill());
  const endpoint = options.endpoint?.(gtw.endpoint) ?? gtw.endpoint;
  const setup = writeInferenceConfig(deployment, endpoint, options);
  return {
    deployment,
    gtw,
    setup,
    cli: (...args: string[]) => runCli(setup.configPath, args),
  };
}

async function startAgent(setup: InferenceSetup): Promise<RunningAgent> {
  const agent = await startInference(setup);
  cleanups.push(() => agent.kill());
  return agent;
}

function parse<T>(result: CliResult): T {
  expect(result.stderr).toBe("");
  return JSON.parse(result.stdout) as T;
}

interface Quote {
  readonly symbol_info: { readonly bid: number; readonly ask: number };
}
interface Positions {
  readonly positions: { readonly ticket: number; readonly volume: number; readonly tp: number }[];
}

/** SL and TP 50 pips either side of the quote: valid for a BUY, and 0.5 % risk at 0.1 lots. */
async function stops(cli: Stack["cli"]): Promise<string[]> {
  const quote = parse<Quote>(await cli("symbol", "EURUSD", "--json")).symbol_info;
  return ["--sl", (quote.bid - 0.005).toFixed(5), "--tp", (quote.ask + 0.005).toFixed(5)];
}

describe("agent-inf and agent-gtw as processes", () => {
  test(
    "ping, open, positions, modify, close and lookups through the command line",
    async () => {
      const { setup, cli } = await stack();

      // No service needed for ping; everything else says plainly that the agent is not running.
      const ping = await cli("ping", "--count", "5");
      expect(ping.code).toBe(0);
      expect(ping.stdout.match(/^seq=\d+ rtt=\d+\.\d{3} ms/gm)).toHaveLength(5);
      expect(ping.stdout).toContain("5 sent, 5 received, 0 lost");
      expect(ping.stdout).toMatch(/rtt min \d+\.\d{3} ms {2}p50 \d+\.\d{3} ms {2}p95 .* max /);
      expect(ping.stdout).toMatch(/clock offset [+-]\d+\.\d{3} ms/);
      const down = await cli("account");
      expect(down).toEqual({
        code: 1,
        stdout: "",
        stderr: `agent-inf: agent-inf is not running at ${setup.apiUrl}\n`,
      });

      const agent = await startAgent(setup);
      const account = await cli("account");
      expect(account.code).toBe(0);
      expect(account.stdout).toMatch(/^balance +10000\.00$/m);

      const opened = await cli("open", "BUY", "EURUSD", "0.1", ...(await stops(cli)));
      expect(opened.code).toBe(0);
      const ticket = Number(/^FILLED {2}ticket (\d+) {2}0\.1 lots at /.exec(opened.stdout)?.[1]);
      const coid = /client_order_id (\S+)/.exec(opened.stdout)?.[1] as string;
      expect(ticket).toBeGreaterThan(0);

      const listed = parse<Positions>(await cli("positions", "--json"));
      expect(listed.positions).toMatchObject([{ ticket, volume: 0.1 }]);
      const table = await cli("positions", "--symbol", "EURUSD");
      expect(table.stdout).toMatch(new RegExp(`^ *${ticket} +EURUSD +BUY +0\\.1 `, "m"));
      const record = await cli("order", coid);
      expect(record.code).toBe(0);
      expect(record.stdout).toStartWith("FILLED  OPEN");

      // A risk denial never leaves the host: exit 5 (DENIED), the denial code printed.
      const denied = await cli("open", "BUY", "EURUSD", "5", ...(await stops(cli)));
      expect(denied.code).toBe(5);
      expect(denied.stdout).toStartWith("DENIED  VOLUME_ABOVE_MAX: ");
      const never = await cli("order", "never-sent-1");
      expect(never.code).toBe(1);
      expect(never.stdout).toStartWith("NEVER SEEN");

      const tp = Number((listed.positions[0]?.tp ?? 0) + 0.001).toFixed(5);
      const modified = await cli("modify", String(ticket), "--tp", tp);
      expect(modified.code).toBe(0);
      expect(parse<Positions>(await cli("positions", "--json")).positions[0]?.tp).toBe(Number(tp));

      // The operator halts: OPEN and CLOSE are refused until resume.
      expect((await cli("halt", "--reason", "e2e")).code).toBe(0);
      const halted = await cli("close", String(ticket));
      expect(halted.code).toBe(5);
      expect(halted.stdout).toStartWith("DENIED  TRADING_HALTED");
      expect((await cli("resume")).code).toBe(0);
      // The CLI sent the operator token; the strategy's may not change the state (issue 12 §2)
      const asStrategy = await fetch(`${setup.apiUrl}/v1/trading-state`, {
        method: "POST",
        headers: { "content-type": "application/json", ...bearer(setup.token) },
        body: JSON.stringify({ state: "HALTED" }),
      });
      expect(asStrategy.status).toBe(403);

      const closed = await cli("close", String(ticket), "--json");
      expect(closed.code).toBe(0);
      expect(parse<{ outcome: string }>(closed)).toMatchObject({
        outcome: "FILLED",
        reply: { ticket, remaining_volume: 0 },
      });
      expect(parse<Positions>(await cli("positions", "--json")).positions).toEqual([]);

      const status = await cli("status");
      expect(status.code).toBe(0);
      expect(status.stdout).toMatch(/^heartbeat +HEALTHY {2}rtt p50 \d+\.\d{3} ms/m);
      expect(status.stdout).toMatch(/^breaker +reset$/m);
      expect(status.stdout).toMatch(/^mt5 +UP$/m);

      expect(await agent.stop()).toBe(0);
      const log = agent.log();
      expect(log.indexOf("Local API stopped")).toBeGreaterThan(log.indexOf("Stopping"));
      expect(log.indexOf("Agent stopped")).toBeGreaterThan(log.indexOf("Local API stopped"));
    },
    TEST_TIMEOUT_MS,
  );

  test(
    "a dead gateway engages the breaker and OPENs are refused; after its restart they work again",
    async () => {
      const port = freePort();
      const { deployment, gtw, setup, cli } = await stack({
        gatewayPort: port,
        gateway: { request_timeout_ms: 1000 },
      });
      await startAgent(setup);
      const open = async () => cli("open", "BUY", "EURUSD", "0.1", ...(await stops(cli)));
      expect((await open()).code).toBe(0);

      await gtw.kill();
      // FAILED after 3 missed PINGs; the bound leaves room for a slow machine, not for a 4th beat.
      await eventually(
        async () =>
          (await readHealth(setup.apiUrl, setup.token)).gateways[0]?.breaker.engaged === true,
        { timeoutMs: 10 * HEARTBEAT_MS + 2000, message: "breaker engaged" },
      );
      const status = await cli("status");
      expect(status.stdout).toMatch(/^breaker +ENGAGED for [\d.]+ s: heartbeat failed/m);
      const refused = await cli("open", "BUY", "EURUSD", "0.1", "--sl", "1.0", "--tp", "1.5");
      expect(refused.code).toBe(5);
      expect(refused.stdout).toStartWith("DENIED  BREAKER_OPEN");
      expect(await cli("ping", "--count", "2")).toEqual({
        code: 1,
        stdout: "",
        stderr: `agent-inf: cannot reach gateway ${deployment.gatewayName} at tcp://127.0.0.1:${port} within 1000 ms\n`,
      });

      const again = await startGateway(deployment.gtwConfigPath, deployment.gtwStateDir);
      cleanups.push(() => again.kill());
      await eventually(
        async () =>
          (await readHealth(setup.apiUrl, setup.token)).gateways[0]?.breaker.engaged === false,
        { timeoutMs: 10_000, message: "breaker reset after recovery" },
      );
      expect((await open()).code).toBe(0);
      expect(parse<Positions>(await cli("positions", "--json")).positions).toHaveLength(2);
    },
    TEST_TIMEOUT_MS,
  );

  test(
    "api.auth: none is the explicit opt-out: the CLI works without a token, and the start warns",
    async () => {
      const { setup, cli } = await stack({ auth: "none" });
      const agent = await startAgent(setup);
      expect(setup.token).toBeUndefined();
      expect((await cli("status")).code).toBe(0);
      expect((await cli("halt", "--reason", "no token needed")).code).toBe(0);
      expect(agent.log()).toContain("The local API takes no token (api.auth: none)");
    },
    TEST_TIMEOUT_MS,
  );

  test(
    "an OPEN whose reply outlives the order timeout is reconciled, not sent twice",
    async () => {
      // Replies reach agent-inf 300 ms late; its order timeout is 100 ms, queries wait 3 s.
      const { setup, cli } = await stack({
        endpoint: (gtw) => {
          const proxy = startDelayProxy(gtw, 300);
          cleanups.push(() => proxy.close());
          return proxy.endpoint;
        },
        heartbeatMs: 2000,
        gateway: { order_timeout_ms: 100, request_timeout_ms: 3000 },
        risk: { require_stop_loss: false },
      });
      const agent = await startAgent(setup);
      const opened = await cli("open", "SELL", "GBPUSD", "0.1");
      expect(opened.code).toBe(0);
      expect(opened.stdout).toStartWith("FILLED  ticket ");
      const coid = /client_order_id (\S+)/.exec(opened.stdout)?.[1] as string;

      // The timeout really happened, the gateway was asked, and the intent went out once.
      const log = agent.log();
      expect(log.match(/Order not answered; asking the gateway what it knows/g)).toHaveLength(1);
      expect(log).not.toContain("sending the same intent again");
      expect(parse<Positions>(await cli("positions", "--json")).positions).toHaveLength(1);
      expect((await cli("order", coid)).stdout).toStartWith("FILLED  OPEN");

      // SIGTERM while an order is out: the API stops taking new ones but answers this one.
      const signed = () => agent.log().match(/\[SIGNED\]/g)?.length ?? 0;
      const draining = cli("open", "SELL", "GBPUSD", "0.2");
      await eventually(() => signed() === 2, { message: "second order signed" });
      agent.process.kill("SIGTERM");
      await eventually(() => agent.log().includes("Stopping"), { message: "stopping" });
      expect(await cli("account")).toMatchObject({ code: 1 });
      expect(await draining).toMatchObject({ code: 0, stdout: expect.stringMatching(/^FILLED /) });
      expect(await agent.exited()).toBe(0);

      // A second signal does not wait: exit 130, and the caller is told the outcome is unknown.
      const impatient = await startAgent(setup);
      const cut = cli("open", "SELL", "GBPUSD", "0.3");
      await eventually(() => (impatient.log().match(/\[SIGNED\]/g)?.length ?? 0) === 1);
      impatient.process.kill("SIGTERM");
      await eventually(() => impatient.log().includes("Stopping"), { message: "stopping" });
      impatient.process.kill("SIGTERM");
      expect(await impatient.exited()).toBe(130);
      expect(await cut).toMatchObject({
        code: 4,
        stderr: expect.stringContaining("the order's outcome is unknown"),
      });
    },
    TEST_TIMEOUT_MS,
  );
});
