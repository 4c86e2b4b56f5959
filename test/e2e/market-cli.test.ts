/**
 * The market-data commands against the real agents as processes: `agent-inf rates`, `ticks`,
 * `symbols` and `history` print tables, CSV and JSON that match the API, and mistakes exit 2
 * (usage) or 1 (refused by the agent) with a one-line reason.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { runCli } from "../../scripts/harness/inference.ts";
import { type MarketStack, startMarketStack } from "../api/market-stack.ts";

setDefaultTimeout(90_000);

let s: MarketStack;
beforeAll(async () => {
  s = await startMarketStack();
}, 60_000);
afterAll(async () => {
  await s?.stop();
}, 60_000);

const cli = (...args: string[]) => runCli(s.configPath, args);

describe("agent-inf market commands", () => {
  test("rates: a table with UTC times, CSV and JSON equal to the API's", async () => {
    const args = ["rates", "EURUSD", "M5", "--from", "2026-11-04T10:00:00Z", "--count", "3"];
    const human = await cli(...args);
    const csv = await cli(...args, "--csv");
    const json = await cli(...args, "--json");
    const api = await (
      await s.get("/v1/rates/EURUSD?timeframe=M5&from=2026-11-04T10:00:00Z&count=3")
    ).json();

    expect(human).toMatchObject({ code: 0, stderr: "" });
    const lines = human.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(
      /^time\s+open\s+high\s+low\s+close\s+tick_volume\s+spread\s+real_volume$/,
    );
    expect(lines.slice(1).map((line) => line.slice(0, 19))).toEqual([
      "2026-11-04 09:50:00",
      "2026-11-04 09:55:00",
      "2026-11-04 10:00:00",
    ]);
    expect(csv.code).toBe(0);
    expect(csv.stdout.split("\r\n")[0]).toBe(
      "time,open,high,low,close,tick_volume,spread,real_volume",
    );
    expect(JSON.parse(json.stdout)).toEqual(api);
  });

  test("ticks, symbols and history", async () => {
    const ticks = await cli("ticks", "EURUSD", "--from", "2026-11-04T10:00:00Z", "-n", "5");
    const symbols = await cli("symbols", "--group", "EUR*,GBP*");
    const opened = (await (
      await s.post("/v1/orders", { symbol: "BTCUSD", side: "BUY", volume: 0.01 })
    ).json()) as { reply: { ticket: number } };
    await s.post(`/v1/positions/${opened.reply.ticket}/close`, {});
    const deals = await cli("history", "deals", "--position", String(opened.reply.ticket));
    const orders = await cli(
      "history",
      "orders",
      "--position",
      String(opened.reply.ticket),
      "--csv",
    );

    expect(ticks.code).toBe(0);
    expect(ticks.stdout.trimEnd().split("\n")).toHaveLength(6);
    expect(ticks.stdout).toContain("2026-11-04 10:00:");
    expect(symbols.code).toBe(0);
    expect(symbols.stdout).toMatch(/EURUSD\s+Euro vs US Dollar/);
    expect(symbols.stdout).toContain("GBPUSD");
    expect(symbols.stdout).not.toContain("USDJPY");
    expect(deals.code).toBe(0);
    const dealLines = deals.stdout.trimEnd().split("\n");
    expect(dealLines).toHaveLength(3);
    expect(dealLines[1]).toMatch(/BTCUSD\s+BUY\s+IN/);
    expect(dealLines[2]).toMatch(/BTCUSD\s+SELL\s+OUT/);
    expect(orders.stdout.trimEnd().split("\r\n")).toHaveLength(3);
  });

  test("mistakes: usage errors exit 2, refusals by the agent exit 1", async () => {
    const usage = await cli("rates", "EURUSD", "M7");
    const refused = await cli("rates", "NOPE", "M1");
    const tooMany = await cli("ticks", "EURUSD", "--from", "2026-10-01", "--to", "2026-12-01");

    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("TIMEFRAME must be one of");
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("UNKNOWN_SYMBOL");
    expect(tooMany.code).toBe(1);
    expect(tooMany.stderr).toContain("RANGE_TOO_LONG");
  });
});
