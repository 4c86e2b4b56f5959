import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AgentError } from "../../shared/errors.ts";
import { silentLogger } from "../../shared/log.ts";
import type { Reply } from "../../shared/protocol/index.ts";
import { TestClock } from "../../shared/testing/test-clock.ts";
import { recordingJournalIo } from "../testing/journal-io.ts";
import { Journal } from "./journal.ts";

let dir: string;
let path: string;
let clock: TestClock;

beforeEach(() => {
  dir = fs.mkdtempSync(join(tmpdir(), "journal-"));
  path = join(dir, "orders.journal");
  clock = new TestClock();
});

afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const open = (extra: Partial<Parameters<typeof Journal.open>[0]> = {}) =>
  Journal.open({ path, clock, logger: silentLogger, ...extra });

const filled = (id: string): Reply => ({ v: 1, id, status: "FILLED", retcode: 10009 });
const request = { symbol: "EURUSD", side: "BUY", volume: 0.1 };

describe("journal", () => {
  test("an intent and its outcome survive a reopen", async () => {
    const journal = open();
    await journal.recordIntent("coid-1", "OPEN", "h1", request);
    await journal.recordOutcome("coid-1", "FILLED", filled("r1"));
    await journal.recordIntent("coid-2", "CLOSE", "h2", { ticket: 5 });
    journal.close();

    const reopened = open();
    expect(reopened.lookup("coid-1")).toMatchObject({
      state: "FILLED",
      action: "OPEN",
      intentHash: "h1",
      request,
    });
    expect(reopened.lookup("coid-1")?.reply).toEqual(filled("r1"));
    expect(reopened.lookup("coid-2")?.state).toBe("PENDING");
    expect(reopened.unresolved().map((entry) => entry.clientOrderId)).toEqual(["coid-2"]);
    reopened.close();
  });

  test("the index shows PENDING before the intent is durable, and a failed write forgets it", async () => {
    const io = recordingJournalIo();
    const journal = open({ io });
    io.failWrites = true;
    const attempt = journal.recordIntent("coid-1", "OPEN", "h1", request);
    expect(journal.lookup("coid-1")?.state).toBe("PENDING");
    await expect(attempt).rejects.toMatchObject({ code: "JOURNAL_UNAVAILABLE" });
    expect(journal.lookup("coid-1")).toBeUndefined();
    expect(journal.failure?.message).toContain("ENOSPC");
    journal.close();
  });

  test("records appended in one turn share one fdatasync (group commit)", async () => {
    const io = recordingJournalIo();
    const journal = open({ io });
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        journal.recordIntent(`coid-${i}`, "OPEN", `h${i}`, request),
      ),
    );
    expect(io.syncs).toBe(1);
    expect(io.writes).toBe(1);
    journal.close();
    expect(open().size).toBe(20);
  });

  test("an intent resolves only once durable; a FILLED outcome is written at once and made durable by the next intent's sync", async () => {
    const io = recordingJournalIo();
    const journal = open({ io });
    const onDisk = () => fs.readFileSync(path, "utf8").slice(0, io.durable);
    await journal.recordIntent("coid-1", "OPEN", "h1", request);
    expect(onDisk()).toContain('"k":"I","c":"coid-1"');
    expect(io.syncs).toBe(1);
    await journal.recordOutcome("coid-1", "FILLED", filled("r1"));
    // In the file (a crash of the process keeps it), not yet synced (a power cut may not)
    expect(fs.readFileSync(path, "utf8")).toContain('"k":"O","c":"coid-1"');
    expect(onDisk()).not.toContain('"k":"O","c":"coid-1"');
    expect(io.syncs).toBe(1);
    await journal.recordIntent("coid-2", "OPEN", "h2", request);
    expect(io.syncs).toBe(2);
    expect(onDisk()).toContain('"k":"O","c":"coid-1"');
    journal.close();
  });

  test("a REJECTED outcome is durable before it resolves: the broker could not tell it again", async () => {
    const io = recordingJournalIo();
    const journal = open({ io });
    await journal.recordIntent("coid-1", "OPEN", "h1", request);
    await journal.recordOutcome("coid-1", "REJECTED", null);
    expect(io.syncs).toBe(2);
    expect(fs.readFileSync(path, "utf8").slice(0, io.durable)).toContain(
      '"k":"O","c":"coid-1","s":"REJECTED"',
    );
    journal.close();
  });

  test("with no intent after it, a written outcome is synced outcomeSyncMs later, and at close", async () => {
    const io = recordingJournalIo();
    const journal = open({ io, outcomeSyncMs: 20 });
    await journal.recordIntent("coid-1", "OPEN", "h1", request);
    await journal.recordOutcome("coid-1", "FILLED", filled("r1"));
    expect(io.syncs).toBe(1);
    clock.advance(20);
    expect(io.syncs).toBe(2);
    for (let i = 0; i < 500 && io.durable < fs.statSync(path).size; i++) await Bun.sleep(2);
    expect(io.durable).toBe(fs.statSync(path).size);
    await journal.recordIntent("coid-2", "OPEN", "h2", request);
    await journal.recordOutcome("coid-2", "UNKNOWN", null);
    journal.close();
    expect(io.durable).toBe(fs.statSync(path).size);
  });

  test("after a failed write the file is cut back, and writes resume once the disk recovers", async () => {
    const io = recordingJournalIo();
    const journal = open({ io });
    await journal.recordIntent("coid-1", "OPEN", "h1", request);
    const goodSize = fs.statSync(path).size;
    io.failWrites = true;
    await expect(journal.recordIntent("coid-2", "OPEN", "h2", request)).rejects.toBeInstanceOf(
      AgentError,
    );
    expect(fs.statSync(path).size).toBe(goodSize);
    io.failWrites = false;
    await journal.recordIntent("coid-3", "OPEN", "h3", request);
    expect(journal.failure).toBeUndefined();
    journal.close();
    const reopened = open();
    expect([...["coid-1", "coid-2", "coid-3"]].map((id) => reopened.lookup(id)?.state)).toEqual([
      "PENDING",
      undefined,
      "PENDING",
    ]);
    reopened.close();
  });

  test("a torn last line is skipped and cut off; appends continue cleanly", async () => {
    const journal = open();
    await journal.recordIntent("coid-1", "OPEN", "h1", request);
    journal.close();
    fs.appendFileSync(path, 'deadbeef {"k":"O","c":"coid-1","s":"FIL');

    const reopened = open();
    expect(reopened.lookup("coid-1")?.state).toBe("PENDING");
    await reopened.recordOutcome("coid-1", "FILLED", filled("r1"));
    reopened.close();
    expect(open().lookup("coid-1")?.state).toBe("FILLED");
  });

  test("a corrupt line in the middle refuses to start, naming the line", async () => {
    const journal = open();
    await journal.recordIntent("coid-1", "OPEN", "h1", request);
    await journal.recordIntent("coid-2", "OPEN", "h2", request);
    journal.close();
    const lines = fs.readFileSync(path, "utf8").split("\n");
    lines[0] = (lines[0] as string).replace("EURUSD", "GBPUSD");
    fs.writeFileSync(path, lines.join("\n"));
    expect(() => open()).toThrow(/line 1 is corrupt/);
  });

  test("refuses a journal path that is not a regular file", () => {
    fs.mkdirSync(path);
    expect(() => open()).toThrow(/not a regular file/);
  });

  test("compaction keeps every entry inside the retention window and all unresolved ones", async () => {
    const journal = open({ compactAfterRecords: 1_000_000, retentionMs: 60_000 });
    await journal.recordIntent("old-done", "OPEN", "h", request);
    await journal.recordOutcome("old-done", "FILLED", filled("r"));
    await journal.recordIntent("old-pending", "OPEN", "h", request);
    clock.advance(120_000);
    await journal.recordIntent("new-done", "OPEN", "h", request);
    await journal.recordOutcome("new-done", "REJECTED", null);
    journal.compact();
    expect(journal.records).toBe(2);
    await journal.recordIntent("after", "MODIFY", "h", { ticket: 1 });
    journal.close();

    const reopened = open();
    expect(reopened.lookup("old-done")).toBeUndefined();
    expect(reopened.lookup("old-pending")?.state).toBe("PENDING");
    expect(reopened.lookup("new-done")?.state).toBe("REJECTED");
    expect(reopened.lookup("after")?.action).toBe("MODIFY");
    reopened.close();
  });

  test("compacts by itself when the file grows past the threshold", async () => {
    const journal = open({ compactAfterRecords: 10 });
    for (let i = 0; i < 8; i++) {
      await journal.recordIntent(`c${i}`, "OPEN", "h", request);
      await journal.recordOutcome(`c${i}`, "FILLED", filled(`r${i}`));
    }
    expect(journal.records).toBeLessThanOrEqual(10);
    expect(journal.size).toBe(8);
    journal.close();
    expect(open().lookup("c7")?.state).toBe("FILLED");
  });

  test("refuses writes after close", async () => {
    const journal = open();
    journal.close();
    await expect(journal.recordIntent("c", "OPEN", "h", request)).rejects.toMatchObject({
      code: "JOURNAL_UNAVAILABLE",
    });
  });
});
