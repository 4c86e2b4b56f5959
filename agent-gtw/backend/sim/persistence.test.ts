/**
 * The books on disk: synced before a result is returned, group commit, restart and crash recovery,
 * torn tails, compaction with the deal history, and corruption reported as an error naming the file.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { appendFileSync, existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { FaultCode } from "../../../shared/errors.ts";
import { Retcode } from "../../../shared/protocol/index.ts";
import type { SimBackend } from "./sim-backend.ts";
import { HISTORY_FILE, LOG_FILE, SNAPSHOT_FILE } from "./store.ts";
import {
  closeOrder,
  modifyOrder,
  openOrder,
  recordingLogger,
  SimHarness,
  type SimOverrides,
} from "./testing/support.ts";

let harness: SimHarness;
afterEach(async () => {
  await harness.cleanup();
});

async function sim(options: SimOverrides = {}) {
  harness = await new SimHarness(options).start();
  await harness.sim.setQuote("EURUSD", 1.0999, 1.1);
  return harness.sim;
}

/** The broker's books, without the fields that move with the market. */
async function books(backend: SimBackend) {
  const account = await backend.account();
  const positions = (await backend.positions()).map(
    ({ price_current: _price, profit: _profit, ...rest }) => rest,
  );
  const deals = await backend.deals({ from: 0, to: Number.MAX_SAFE_INTEGER });
  return { balance: account.balance, positions, deals };
}

/** A mix of everything that changes the books: opens, partial close, modify, SL hit. */
async function trade(backend: SimBackend) {
  const a = await backend.open(openOrder({ volume: 0.3, comment: "t:a" }));
  const b = await backend.open(openOrder({ side: "SELL", symbol: "GBPUSD", comment: "t:b" }));
  const c = await backend.open(openOrder({ symbol: "USDJPY", sl: 149, comment: "t:c" }));
  await backend.setQuote("EURUSD", 1.101, 1.1011);
  await backend.close(closeOrder(a.position, { volume: 0.1 }));
  await backend.modify(modifyOrder(b.position, { sl: 1.3, tp: 1.2 }));
  await backend.setQuote("USDJPY", 148.9, 148.91);
  return { a, b, c };
}

const logPath = () => join(harness.dir, LOG_FILE);
const snapshotPath = () => join(harness.dir, SNAPSHOT_FILE);
const historyPath = () => join(harness.dir, HISTORY_FILE);
const lineCount = (path: string) => readFileSync(path, "utf8").split("\n").filter(Boolean).length;

describe("durability", () => {
  test("a trade is on disk before open() resolves", async () => {
    const backend = await sim();
    const pending = backend.open(openOrder());
    expect(readFileSync(logPath(), "utf8")).not.toContain('"type":"trade"');
    const result = await pending;
    const lines = readFileSync(logPath(), "utf8").trim().split("\n");
    expect(JSON.parse(lines.at(-1)!)).toMatchObject({
      type: "trade",
      deal: { ticket: result.deal, comment: "t:c-open" },
    });
  });

  test("concurrent trades share one sync (group commit)", async () => {
    const backend = await sim();
    const before = backend.stats().syncs;
    const results = await Promise.all(Array.from({ length: 50 }, () => backend.open(openOrder())));
    expect(results.every((result) => result.retcode === Retcode.DONE)).toBe(true);
    expect(backend.stats().syncs - before).toBe(1);
  });

  test("a restarted sim has the same positions, balance, deals and ticket counters", async () => {
    const backend = await sim();
    await trade(backend);
    const before = await books(backend);
    expect(before.positions).toHaveLength(2);
    const restarted = await harness.restart();
    expect(await books(restarted)).toEqual(before);
    const next = await restarted.open(openOrder());
    const lastDeal = before.deals.at(-1)!;
    expect(next.deal).toBe(lastDeal.ticket + 1);
    expect(next.order).toBe(Math.max(...before.deals.map((deal) => deal.order)) + 1);
  });

  test("state survives a crash (no stop) because every trade was synced", async () => {
    const backend = await sim();
    await trade(backend);
    const before = await books(backend);
    const crashed = new SimHarness({}, harness.clock, harness.dir);
    await crashed.start();
    expect(await books(crashed.sim)).toEqual(before);
    await crashed.sim.stop();
  });

  test("quotes continue from the restored feed instead of jumping back to the anchor", async () => {
    const backend = await sim();
    harness.clock.advance(6 * 3_600_000);
    const before = await backend.symbolInfo("XAUUSD");
    const restarted = await harness.restart();
    const after = await restarted.symbolInfo("XAUUSD");
    expect(before?.bid).not.toBe(2400);
    expect(Math.abs((after?.bid ?? 0) - (before?.bid ?? 0))).toBeLessThan(1);
  });
});

describe("recovery", () => {
  test("a torn last line is skipped with a warning and cut off", async () => {
    const backend = await sim();
    await trade(backend);
    const before = await books(backend);
    await backend.stop();
    appendFileSync(logPath(), '{"seq":99,"type":"trade","deal":{"tick');
    const logger = recordingLogger();
    const restarted = await harness.restart({ logger });
    expect(await books(restarted)).toEqual(before);
    expect(logger.lines.some((line) => line.message.startsWith("Torn last record"))).toBe(true);
    await restarted.open(openOrder());
    const again = await harness.restart({});
    expect((await books(again)).deals).toHaveLength(before.deals.length + 1);
  });

  test("a last line without its newline was never acknowledged and is dropped", async () => {
    const backend = await sim();
    await backend.open(openOrder());
    await backend.stop();
    const text = readFileSync(logPath(), "utf8");
    writeFileSync(logPath(), text.slice(0, -1));
    const restarted = await harness.restart({ logger: recordingLogger() });
    expect(await restarted.positions()).toHaveLength(1);
  });

  test("compaction writes a snapshot, empties the log and keeps the state", async () => {
    const backend = await sim({ compactEvery: 4 });
    await trade(backend);
    for (let index = 0; index < 5; index++) await backend.open(openOrder());
    expect(backend.stats().compactions).toBeGreaterThanOrEqual(2);
    expect(backend.stats().recordsInLog).toBeLessThan(4);
    const before = await books(backend);
    expect(lineCount(historyPath())).toBeGreaterThan(0);
    expect(lineCount(historyPath())).toBeLessThanOrEqual(before.deals.length);
    const restarted = await harness.restart();
    expect(await books(restarted)).toEqual(before);
  });

  test("deals appended to the history by an unfinished compaction are cut off", async () => {
    const backend = await sim({ compactEvery: 3 });
    await trade(backend);
    const before = await books(backend);
    await backend.stop();
    const history = readFileSync(historyPath(), "utf8");
    const lines = history.split("\n").filter(Boolean);
    appendFileSync(historyPath(), `${lines.at(-1)}\n${lines.at(-1)}\n`);
    const restarted = await harness.restart({ compactEvery: 1_000_000 });
    expect(await books(restarted)).toEqual(before);
    expect(readFileSync(historyPath(), "utf8")).toBe(history);
  });

  test("records the snapshot already holds are skipped (crash between rename and truncate)", async () => {
    const backend = await sim({ compactEvery: 1_000_000 });
    await trade(backend);
    const oldLog = readFileSync(logPath(), "utf8");
    const before = await books(backend);
    const compacting = await harness.restart({ compactEvery: 1 });
    await compacting.open(openOrder());
    const after = await books(compacting);
    await compacting.stop();
    expect(readFileSync(logPath(), "utf8")).toBe("");
    writeFileSync(logPath(), oldLog);
    const restarted = await harness.restart({});
    expect(await books(restarted)).toEqual(after);
    expect(after.deals).toHaveLength(before.deals.length + 1);
  });
});

describe("corruption is an error, never a reset", () => {
  async function expectStartError(
    message: string | RegExp,
    code: string = FaultCode.JOURNAL_CORRUPT,
  ) {
    const broken = new SimHarness({}, harness.clock, harness.dir);
    const error = await broken.sim.start().then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(message);
    expect((error as { code?: string }).code).toBe(code);
  }

  async function stopped() {
    const backend = await sim();
    await trade(backend);
    await backend.stop();
  }

  test("a corrupt snapshot names the file", async () => {
    await stopped();
    writeFileSync(snapshotPath(), "{ not json");
    await expectStartError(`sim: state snapshot ${snapshotPath()} is corrupt`);
  });

  test("a snapshot of the wrong shape names the file", async () => {
    await stopped();
    writeFileSync(snapshotPath(), JSON.stringify({ format: "something-else" }));
    await expectStartError(`sim: state snapshot ${snapshotPath()} is corrupt`);
  });

  test("a corrupt line before the last names the file and line", async () => {
    await stopped();
    const lines = readFileSync(logPath(), "utf8").split("\n");
    lines[1] = "garbage";
    writeFileSync(logPath(), lines.join("\n"));
    await expectStartError(`sim: state log ${logPath()} line 2 is corrupt`);
  });

  test("a missing record (seq gap) is detected", async () => {
    await stopped();
    const lines = readFileSync(logPath(), "utf8").split("\n");
    lines.splice(1, 1);
    writeFileSync(logPath(), lines.join("\n"));
    await expectStartError(/line 2 has seq 3, expected 2/);
  });

  test("a deal history shorter than the snapshot says is refused", async () => {
    const backend = await sim({ compactEvery: 3 });
    await trade(backend);
    await backend.stop();
    const lines = readFileSync(historyPath(), "utf8").split("\n").filter(Boolean);
    writeFileSync(historyPath(), `${lines.slice(0, -1).join("\n")}\n`);
    await expectStartError(
      `sim: deal history ${historyPath()} holds ${lines.length - 1} deals but the snapshot counts`,
    );
  });

  test("a log without its snapshot is refused", async () => {
    await stopped();
    rmSync(snapshotPath());
    await expectStartError(/is missing; refusing to start from an empty account/);
    expect(existsSync(logPath())).toBe(true);
  });

  test("state of another account is refused", async () => {
    await stopped();
    const other = new SimHarness({ account: { currency: "EUR" } }, harness.clock, harness.dir);
    const error = await other.sim.start().catch((caught: unknown) => caught);
    expect((error as Error).message).toMatch(/belongs to login 5000001 \(USD, HEDGING\)/);
    expect((error as { code?: string }).code).toBe(FaultCode.CONFIG_INVALID);
  });
});
