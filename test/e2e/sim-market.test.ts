/**
 * `agent-gtw sim` against agent-gtw as a real process: a jump fires the TP of an open position
 * within seconds, a configured volatility makes the market move at the pace asked for, and the
 * command refuses the terminal backend (exit 1, named) and bad input (exit 2).
 */
import { afterEach, describe, expect, test } from "bun:test";
import { agentCommand, type RunningGateway, startGateway } from "../../scripts/harness/agents.ts";
import { createDeployment, type Deployment } from "../../scripts/harness/deployment.ts";
import { eventually } from "../../scripts/harness/eventually.ts";
import { TestClient } from "../../scripts/harness/test-client.ts";
import type {
  PositionsReply,
  SymbolInfoReply,
  TickRow,
  TicksReply,
  TradeReply,
} from "../../shared/protocol/index.ts";

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function gateway(
  sim: Record<string, unknown> = {},
): Promise<{ deployment: Deployment; gtw: RunningGateway; c: TestClient }> {
  const deployment = createDeployment({ gateway: { backend: { sim } } });
  cleanups.push(() => deployment.remove());
  const gtw = await startGateway(deployment.gtwConfigPath, deployment.gtwStateDir);
  cleanups.push(() => gtw.kill());
  const c = new TestClient(gtw.endpoint, deployment);
  cleanups.push(() => c.close());
  return { deployment, gtw, c };
}

async function sim(
  deployment: Deployment,
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = Bun.spawn(
    [...agentCommand("agent-gtw"), "sim", ...args, "--config", deployment.gtwConfigPath],
    { stdout: "pipe", stderr: "pipe", stdin: "ignore" },
  );
  const [stdout, stderr, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  return { code, stdout, stderr };
}

describe("agent-gtw sim", () => {
  test("a jump fires the TP of an open position within seconds", async () => {
    const { deployment, c } = await gateway();
    const info = (
      (await c.send({ action: "GET_SYMBOL_INFO", symbol: "EURUSD" })) as SymbolInfoReply
    ).symbol_info;
    const open = (await c.send({
      action: "OPEN",
      symbol: "EURUSD",
      side: "BUY",
      volume: 0.1,
      tp: Number((info.ask + 0.01).toFixed(5)),
      sl: Number((info.bid - 0.01).toFixed(5)),
    })) as TradeReply;
    expect(open.status).toBe("FILLED");

    const started = performance.now();
    const jump = await sim(deployment, "jump", "eurusd", "+1500points");
    expect({ code: jump.code, stderr: jump.stderr }).toEqual({ code: 0, stderr: "" });
    expect(jump.stdout).toContain(`closed by the move: position ${open.ticket}`);
    await eventually(
      async () =>
        ((await c.send({ action: "GET_POSITIONS" })) as PositionsReply).positions.length === 0,
      { timeoutMs: 5000 },
    );
    expect(performance.now() - started).toBeLessThan(10_000);
    const deals = await c.send({
      action: "GET_HISTORY_DEALS",
      from: 0,
      to: Date.now() + 60_000,
    });
    expect(JSON.stringify(deals)).toContain('"reason":"TP"');

    // And down through the SL of a new one, by percent
    const second = (await c.send({
      action: "OPEN",
      symbol: "EURUSD",
      side: "BUY",
      volume: 0.1,
      sl: Number(((info.bid + 0.015) * 0.995).toFixed(5)),
    })) as TradeReply;
    expect(second.status).toBe("FILLED");
    const drop = await sim(deployment, "jump", "EURUSD", "-1%");
    expect(drop.code).toBe(0);
    expect(drop.stdout).toContain(`closed by the move: position ${second.ticket}`);
  });

  test("the configured volatility sets the pace, and a price command pins the market", async () => {
    const { deployment, c } = await gateway({ volatility: { EURUSD: 20 } });
    const ticksSince = async (from: number) =>
      (
        (await c.send({
          action: "GET_TICKS",
          symbol: "EURUSD",
          from,
          to: Date.now(),
        })) as TicksReply
      ).ticks as TickRow[];
    // A fresh state has the setting from the start: the last ten minutes move at 20x
    const recent = await ticksSince(Date.now() - 10 * 60_000);
    expect(recent.length).toBeGreaterThan(200);
    let moved = 0;
    for (let i = 1; i < recent.length; i++)
      moved += Math.abs(recent[i]![1] - recent[i - 1]![1]) * 100_000;
    // Realistic EURUSD moves at most a few points per tick on average (2.5 in the quietest
    // ten minutes of 4,000 start times sampled); twenty times that averages 20 to 40, and 12.6
    // in the quietest sample: 8 sets the two apart whichever ten minutes the test runs in
    expect(moved / (recent.length - 1)).toBeGreaterThan(8);

    const pinnedAt = Date.now();
    const set = await sim(deployment, "price", "EURUSD", "1.2");
    expect(set.code).toBe(0);
    expect(set.stdout).toMatch(/EURUSD .* -> 1\.2 \/ 1\.2\d*/);
    const after = await ticksSince(pinnedAt);
    expect(after.map((tick) => tick[1])).toContain(1.2);
  });

  test("refuses the terminal backend (exit 1, named) and bad input (exit 2)", async () => {
    const deployment = createDeployment({ gateway: { backend: { type: "terminal" } } });
    cleanups.push(() => deployment.remove());
    const terminal = await sim(deployment, "jump", "EURUSD", "+50points");
    expect(terminal.code).toBe(1);
    expect(terminal.stderr).toContain("SIM_ONLY");

    for (const args of [
      ["jump", "EURUSD", "+50"],
      ["jump", "EURUSD", "-0points"],
      ["jump", "EURUSD", "+1.5points"],
      ["price", "EURUSD", "-1.1"],
      ["price", "EURUSD", "abc"],
      ["volatility", "EURUSD"],
      ["teleport", "EURUSD", "1"],
      ["price"],
    ]) {
      const result = await sim(deployment, ...args);
      expect({ args, code: result.code }).toEqual({ args, code: 2 });
      expect(result.stderr).toStartWith("agent-gtw: ");
    }
  });
});
