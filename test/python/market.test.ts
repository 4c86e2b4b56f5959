/**
 * mt5bridge's market data and history against the real agents as processes (agent-gtw on the
 * simulated MT5, agent-inf): copy_rates_*, copy_ticks_*, symbols_*, history_* with MetaTrader5's
 * types (live_market.py), and the MetaTrader5-documentation-style examples run with only their
 * import changed.
 */
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { EXAMPLES, liveStackForFile, runPython, runUnittest, TEST_TIMEOUT_MS } from "./support.ts";

setDefaultTimeout(TEST_TIMEOUT_MS);

const stack = liveStackForFile({ risk: { max_lots: 10, max_risk_percent: null } });

describe("mt5bridge market data on the real agents", () => {
  test("rates, ticks, symbols and history as MetaTrader5 returns them (live_market.py)", async () => {
    await runUnittest(["live_market"], stack().env);
  });

  test.each(["mt5_rates_dataframe.py", "mt5_history_deals.py"])(
    "examples/python/%s runs with only the import changed",
    async (example) => {
      const source = readFileSync(join(EXAMPLES, example), "utf8");
      const imports = source.split("\n").filter((line) => /^(import|from) /.test(line));
      const run = await runPython([join(EXAMPLES, example)], {
        cwd: EXAMPLES,
        env: { AGENT_INF_CONFIG: stack().inference.configPath },
      });

      expect(imports.filter((line) => line.includes("mt5bridge"))).toEqual([
        "import mt5bridge as mt5",
      ]);
      expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: "" });
      if (example === "mt5_rates_dataframe.py") {
        expect(run.stdout).toContain("bars received: 10");
        expect(run.stdout).toMatch(/2026-11-04 10:00:00/);
        expect(run.stdout).toMatch(/ticks received: \d{3,}/);
      } else {
        expect(run.stdout).toMatch(/\d+ deals in the last 24 hours/);
      }
    },
  );
});
