/**
 * examples/python against the real agents as processes: the MetaTrader5-style strategy (only its
 * import differs from a script for Windows) finds the API through the agent's config, buys with
 * SL/TP and closes by `position` in two parts; strategy_loop.py trades a position end to end and
 * reports risk denials without retrying them.
 */
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { apiGet, EXAMPLES, liveStackForFile, runPython, TEST_TIMEOUT_MS } from "./support.ts";

setDefaultTimeout(TEST_TIMEOUT_MS);

const stack = liveStackForFile();

async function positions(): Promise<unknown[]> {
  return ((await (await apiGet(stack(), "/v1/positions")).json()) as { positions: unknown[] })
    .positions;
}

describe("examples/python mt5_style_strategy.py", () => {
  test("a MetaTrader5 script with only the import changed", () => {
    const source = readFileSync(join(EXAMPLES, "mt5_style_strategy.py"), "utf8");
    const imports = source.split("\n").filter((line) => /^(import|from) /.test(line));
    expect(imports.filter((line) => line.includes("mt5bridge"))).toEqual([
      "import mt5bridge as mt5",
    ]);
    expect(source).not.toMatch(/mt5\.(Client|AsyncClient|initialize\(\w)/);
  });

  test("buys with SL/TP, closes part and then the rest by position", async () => {
    // No arguments: initialize() finds the API and its address in the agent's config
    const run = await runPython([join(EXAMPLES, "mt5_style_strategy.py")], {
      cwd: EXAMPLES,
      env: { AGENT_INF_CONFIG: stack().inference.configPath },
    });

    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: "" });
    expect(run.stdout).toMatch(/1\. order_send\(\): buy EURUSD 0\.1 lots at [\d.]+: retcode=10009/);
    expect(run.stdout).toMatch(/2\. closed 0\.04 lots of position #\d+/);
    expect(run.stdout).toMatch(
      /3\. closed the remaining 0\.06 lots of position #\d+: positions left 0/,
    );
    expect(run.stdout).toContain("mt5 style open");
    expect(await positions()).toEqual([]);
  });
});

describe("examples/python strategy_loop.py", () => {
  test("opens with SL/TP, watches, closes and exits 0", async () => {
    const run = await runPython(
      [
        join(EXAMPLES, "strategy_loop.py"),
        "--url",
        stack().inference.apiUrl,
        ...["--iterations", "3", "--interval", "0.05", "--signal", "random", "--seed", "1"],
        ...["--hold", "2"],
      ],
      { cwd: EXAMPLES },
    );
    const opened = /OPEN FILLED ticket=(\d+) .*coid=(\S+)/.exec(run.stdout);
    const record = await (await apiGet(stack(), `/v1/orders/${opened?.[2]}`)).json();

    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: "" });
    expect(run.stdout).toContain("iteration 3:");
    expect(opened).not.toBeNull();
    expect(run.stdout).toContain(`CLOSE FILLED ticket=${opened?.[1]}`);
    expect(await positions()).toEqual([]);
    expect(record).toMatchObject({ order: { action: "OPEN", state: "FILLED" } });
  });

  test("a denied order is reported, not retried, and the loop carries on", async () => {
    const run = await runPython(
      [
        join(EXAMPLES, "strategy_loop.py"),
        "--url",
        stack().inference.apiUrl,
        ...["--iterations", "2", "--interval", "0.05", "--signal", "random", "--seed", "3"],
        // agent-inf allows 1 lot per order in this deployment
        ...["--volume", "5"],
      ],
      { cwd: EXAMPLES },
    );
    const metrics = await (await apiGet(stack(), "/metrics")).text();

    expect(run.code).toBe(0);
    expect(run.stdout.match(/OPEN DENIED VOLUME_ABOVE_MAX/g)).toHaveLength(2);
    expect(run.stdout).toContain("iteration 2:");
    expect(metrics).toContain('agent_inf_risk_denials_total{code="VOLUME_ABOVE_MAX"} 2');
  });
});
