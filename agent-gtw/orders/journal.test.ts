import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AgentError } from "../../shared/errors.ts";
import { silentLogger } from "../../shared/log.ts";
import type { Reply, SignedAction } from "../../shared/protocol/index.ts";
import { TestClock } from "../../shared/testing/test-clock.ts";
import { recordingJournalIo } from "../testing/journal-io.ts";
import { Journal } from "./journal.ts";
import { crc32 } from "./journal-format.ts";

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

/** An intent of client inf-1 (or `client`). */
const intent = (
  clientOrderId: string,
  extra: { action?: SignedAction; hash?: string; client?: string; request?: object } = {},
) => ({
  client: extra.client ?? "inf-1",
  clientOrderId,
  action: extra.action ?? ("OPEN" as const),
  intentHash: extra.hash ?? "h",
  request: { ...(extra.request ?? request) },
});

const lookup = (journal: Journal, coid: string, client = "inf-1") => journal.lookup(client, coid);

/** Record an intent and its outcome. */
async function done(journal: Journal, coid: string, state: "FILLED" | "REJECTED" = "FILLED") {
  const entry = await journal.recordIntent(intent(coid));
  await journal.recordOutcome(entry, state, state === "FILLED" ? filled(`r-${coid}`) : null);
}

/** A journal line of `kind` (I intent, O outcome) for `coid`, whatever client it names. */
const journalLine = (kind: string, coid: string) =>
  new RegExp(`"k":"${kind}",(?:"u":"[^"]*",)?"c":"${coid}"`);

const lines = () =>
  fs
    .readFileSync(path, "utf8")
    .split("\n")
    .filter((line) => line !== "");

describe("journal", () => {
  test("an intent and its outcome survive a reopen", async () => {
    const journal = open();
    const first = await journal.recordIntent(intent("coid-1", { hash: "h1" }));
    await journal.recordOutcome(first, "FILLED", filled("r1"));
    await journal.recordIntent(
      intent("coid-2", { action: "CLOSE", hash: "h2", request: { ticket: 5 } }),
    );
    journal.close();

    const reopened = open();
    expect(lookup(reopened, "coid-1")).toMatchObject({
      state: "FILLED",
      action: "OPEN",
      intentHash: "h1",
      request,
    });
    expect(lookup(reopened, "coid-1")?.reply).toEqual(filled("r1"));
    expect(lookup(reopened, "coid-2")?.state).toBe("PENDING");
    expect(reopened.unresolved().map((entry) => entry.clientOrderId)).toEqual(["coid-2"]);
    reopened.close();
  });

  test("entries are scoped by client: two clients' order-1 are two entries with two broker keys", async () => {
    const journal = open();
    const a = await journal.recordIntent(intent("order-1", { client: "inf-1", hash: "a" }));
    const b = await journal.recordIntent(intent("order-1", { client: "inf-2", hash: "b" }));
    await journal.recordOutcome(a, "FILLED", filled("ra"));
    expect(a.brokerKey).not.toBe(b.brokerKey);
    expect(a.brokerKey).toMatch(/^G[0-9A-Z]{23}$/);
    journal.close();
    const reopened = open();
    expect(lookup(reopened, "order-1", "inf-1")?.state).toBe("FILLED");
    expect(lookup(reopened, "order-1", "inf-2")).toMatchObject({
      state: "PENDING",
      intentHash: "b",
    });
    expect(lookup(reopened, "order-1", "inf-3")).toBeUndefined();
    reopened.close();
  });

  test("the index shows PENDING before the intent is durable, and a failed write forgets it", async () => {
    const io = recordingJournalIo();
    const journal = open({ io });
    io.failWrites = true;
    const attempt = journal.recordIntent(intent("coid-1"));
    expect(lookup(journal, "coid-1")?.state).toBe("PENDING");
    await expect(attempt).rejects.toMatchObject({ code: "JOURNAL_UNAVAILABLE" });
    expect(lookup(journal, "coid-1")).toBeUndefined();
    expect(journal.failure?.message).toContain("ENOSPC");
    journal.close();
  });

  test("records appended in one turn share one fdatasync (group commit)", async () => {
    const io = recordingJournalIo();
    const journal = open({ io });
    const syncsAtOpen = io.syncs;
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => journal.recordIntent(intent(`coid-${i}`))),
    );
    expect(io.syncs - syncsAtOpen).toBe(1);
    journal.close();
    expect(open().size).toBe(20);
  });

  test("an intent resolves only once durable; a FILLED outcome is written at once and made durable by the next intent's sync", async () => {
    const io = recordingJournalIo();
    const journal = open({ io });
    const syncsAtOpen = io.syncs;
    const onDisk = () => fs.readFileSync(path, "utf8").slice(0, io.durable);
    const entry = await journal.recordIntent(intent("coid-1"));
    expect(onDisk()).toMatch(journalLine("I", "coid-1"));
    expect(io.syncs - syncsAtOpen).toBe(1);
    await journal.recordOutcome(entry, "FILLED", filled("r1"));
    // In the file (a crash of the process keeps it), not yet synced (a power cut may not)
    expect(fs.readFileSync(path, "utf8")).toMatch(journalLine("O", "coid-1"));
    expect(onDisk()).not.toMatch(journalLine("O", "coid-1"));
    expect(io.syncs - syncsAtOpen).toBe(1);
    await journal.recordIntent(intent("coid-2"));
    expect(io.syncs - syncsAtOpen).toBe(2);
    expect(onDisk()).toMatch(journalLine("O", "coid-1"));
    journal.close();
  });

  test("a REJECTED outcome is durable before it resolves: the broker could not tell it again", async () => {
    const io = recordingJournalIo();
    const journal = open({ io });
    const syncsAtOpen = io.syncs;
    await done(journal, "coid-1", "REJECTED");
    expect(io.syncs - syncsAtOpen).toBe(2);
    expect(fs.readFileSync(path, "utf8").slice(0, io.durable)).toMatch(journalLine("O", "coid-1"));
    journal.close();
  });

  test("the checkpoint names only synced lines: a power cut that takes the unsynced tail is not loss", async () => {
    const io = recordingJournalIo();
    // Syncs complete when the test says so
    const held: (() => void)[] = [];
    const sync = io.fdatasync;
    io.fdatasync = (fd, callback) => sync(fd, (error) => held.push(() => callback(error)));
    const release = async () => {
      for (let i = 0; i < 500 && held.length === 0; i++) await Bun.sleep(1);
      (held.shift() as () => void)();
    };
    const journal = open({ io, checkpointIntervalMs: 10 });
    const first = journal.recordIntent(intent("x"));
    await release();
    const x = await first;
    // A's sync in flight; X's outcome and B's intent queue behind it
    const a = journal.recordIntent(intent("a"));
    await Bun.sleep(0);
    const cut = fs.statSync(path).size;
    const outcome = journal.recordOutcome(x, "FILLED", filled("rx"));
    const b = journal.recordIntent(intent("b"));
    await release();
    await a;
    await outcome;
    // B's sync has not completed: the checkpoint written now may name A, not X's outcome or B
    clock.advance(10);
    fs.truncateSync(path, cut);
    const reopened = open();
    expect(["x", "a", "b"].map((coid) => lookup(reopened, coid)?.state)).toEqual([
      "PENDING",
      "PENDING",
      undefined,
    ]);
    reopened.close();
    await release();
    await b;
  });

  test("with no intent after it, a written outcome is synced outcomeSyncMs later, and at close", async () => {
    const io = recordingJournalIo();
    const journal = open({ io, outcomeSyncMs: 20 });
    const syncsAtOpen = io.syncs;
    await done(journal, "coid-1");
    expect(io.syncs - syncsAtOpen).toBe(1);
    clock.advance(20);
    expect(io.syncs - syncsAtOpen).toBe(2);
    for (let i = 0; i < 500 && io.durable < fs.statSync(path).size; i++) await Bun.sleep(2);
    expect(io.durable).toBe(fs.statSync(path).size);
    const entry = await journal.recordIntent(intent("coid-2"));
    await journal.recordOutcome(entry, "UNKNOWN", null);
    journal.close();
    expect(io.durable).toBe(fs.statSync(path).size);
  });

  test("after a failed write the file is cut back, and writes resume once the disk recovers", async () => {
    const io = recordingJournalIo();
    const journal = open({ io });
    await journal.recordIntent(intent("coid-1"));
    const goodSize = fs.statSync(path).size;
    io.failWrites = true;
    await expect(journal.recordIntent(intent("coid-2"))).rejects.toBeInstanceOf(AgentError);
    expect(fs.statSync(path).size).toBe(goodSize);
    io.failWrites = false;
    await journal.recordIntent(intent("coid-3"));
    expect(journal.failure).toBeUndefined();
    journal.close();
    // The sequence continued from the last synced line: no gap where the failed batch was
    const reopened = open();
    expect(["coid-1", "coid-2", "coid-3"].map((id) => lookup(reopened, id)?.state)).toEqual([
      "PENDING",
      undefined,
      "PENDING",
    ]);
    reopened.close();
  });

  test("a torn last line is dropped and cut off; appends continue cleanly", async () => {
    const journal = open();
    await journal.recordIntent(intent("coid-1"));
    journal.close();
    fs.appendFileSync(path, 'deadbeef {"k":"O","n":3,"c":"coid-1","s":"FIL');

    const reopened = open();
    const entry = lookup(reopened, "coid-1");
    expect(entry?.state).toBe("PENDING");
    await reopened.recordOutcome(entry!, "FILLED", filled("r1"));
    reopened.close();
    expect(lookup(open(), "coid-1")?.state).toBe("FILLED");
  });

  test("a corrupt line in the middle refuses to start, naming the line and the repair", async () => {
    const journal = open();
    await journal.recordIntent(intent("coid-1"));
    await journal.recordIntent(intent("coid-2"));
    journal.close();
    const all = lines();
    all[1] = (all[1] as string).replace("EURUSD", "GBPUSD");
    fs.writeFileSync(path, `${all.join("\n")}\n`);
    expect(() => open()).toThrow(/line 2 is corrupt.*agent-gtw journal repair/);
  });

  test("refuses a journal path that is not a regular file, or a link", () => {
    fs.mkdirSync(path);
    expect(() => open()).toThrow(/not a regular file/);
    fs.rmdirSync(path);
    fs.writeFileSync(join(dir, "elsewhere"), "");
    fs.symlinkSync(join(dir, "elsewhere"), path);
    expect(() => open()).toThrow(/symbolic link/);
  });

  test("compaction keeps every entry inside the retention window and all unresolved ones", async () => {
    const journal = open({ compactAfterRecords: 1_000_000, retentionMs: 60_000 });
    await done(journal, "old-done");
    await journal.recordIntent(intent("old-pending"));
    clock.advance(120_000);
    await done(journal, "new-done", "REJECTED");
    const sequence = journal.sequence;
    journal.compact();
    expect(journal.records).toBe(2);
    // The sequence continues through a compaction (header, then one record per entry)
    expect(journal.sequence).toBe(sequence + 3);
    await journal.recordIntent(intent("after", { action: "MODIFY", request: { ticket: 1 } }));
    journal.close();

    const reopened = open();
    expect(lookup(reopened, "old-done")).toBeUndefined();
    expect(lookup(reopened, "old-pending")?.state).toBe("PENDING");
    expect(lookup(reopened, "new-done")?.state).toBe("REJECTED");
    expect(lookup(reopened, "after")?.action).toBe("MODIFY");
    reopened.close();
  });

  test("compacts by itself when the file grows past the threshold", async () => {
    const journal = open({ compactAfterRecords: 10 });
    for (let i = 0; i < 8; i++) await done(journal, `c${i}`);
    expect(journal.records).toBeLessThanOrEqual(10);
    expect(journal.size).toBe(8);
    journal.close();
    expect(lookup(open(), "c7")?.state).toBe("FILLED");
  });

  test("refuses writes after close", async () => {
    const journal = open();
    journal.close();
    await expect(journal.recordIntent(intent("c"))).rejects.toMatchObject({
      code: "JOURNAL_UNAVAILABLE",
    });
  });

  test("tags the broker holds survive a reopen and a compaction", async () => {
    const journal = open();
    await journal.recordBrokerTags([{ tag: "B0123456789", time: clock.now(), evidence: "deal 1" }]);
    journal.compact();
    journal.close();
    const reopened = open();
    expect(reopened.brokerTag("B0123456789")).toMatchObject({ evidence: "deal 1" });
    reopened.close();
  });
});

describe("the journal does not forget silently (issue 12 §5)", () => {
  async function journalWithFills(count: number) {
    const journal = open();
    for (let i = 0; i < count; i++) await done(journal, `coid-${i}`);
    journal.close();
  }

  test("deleting a filled order's lines from the middle is a gap: refused", async () => {
    await journalWithFills(4);
    const all = lines();
    const kept = all.filter((line) => !line.includes('"c":"coid-1"'));
    expect(kept.length).toBe(all.length - 2);
    fs.writeFileSync(path, `${kept.join("\n")}\n`);
    expect(() => open()).toThrow(/2 record\(s\) are missing/);
  });

  test("deleting the last filled order's lines is caught by the checkpoint: refused", async () => {
    await journalWithFills(3);
    const kept = lines().filter((line) => !line.includes('"c":"coid-2"'));
    fs.writeFileSync(path, `${kept.join("\n")}\n`);
    expect(() => open()).toThrow(/ends at record \d+, but its checkpoint says records up to \d+/);
  });

  test("cutting the file in the middle of a line is not a torn tail: refused", async () => {
    await journalWithFills(4);
    const content = fs.readFileSync(path);
    fs.writeFileSync(path, content.subarray(0, Math.floor(content.length / 2)));
    expect(() => open()).toThrow(/checkpoint says records up to/);
  });

  test("an emptied or deleted journal is refused while its checkpoint exists", async () => {
    await journalWithFills(2);
    fs.writeFileSync(path, "");
    expect(() => open()).toThrow(/the journal is empty, but its checkpoint says \d+ records/);
    fs.rmSync(path);
    expect(() => open()).toThrow(/the journal is missing/);
  });

  test("a journal whose beginning was cut is refused (no header)", async () => {
    await journalWithFills(2);
    fs.writeFileSync(path, `${lines().slice(2).join("\n")}\n`);
    expect(() => open()).toThrow(/not the journal header: the beginning of the file is missing/);
  });

  test("a line spliced in from another journal breaks the chain", async () => {
    await journalWithFills(2);
    const all = lines();
    // Same sequence number, valid checksum, but not the line that followed its predecessor
    const record = JSON.parse((all[2] as string).slice(9));
    record.p = "00000000";
    const json = JSON.stringify(record);
    all[2] = `${crc32(json)} ${json}`;
    fs.writeFileSync(path, `${all.join("\n")}\n`);
    expect(() => open()).toThrow(/does not follow the line before it/);
  });

  test("a format-1 journal still loads: its entries answer for every client, and it is rewritten in format 2", async () => {
    const v1 = (record: object) => {
      const json = JSON.stringify(record);
      return `${crc32(json)} ${json}\n`;
    };
    fs.writeFileSync(
      path,
      v1({ k: "I", c: "legacy-1", a: "OPEN", h: "h", t: clock.now(), q: request }) +
        v1({ k: "O", c: "legacy-1", s: "FILLED", t: clock.now(), r: filled("r") }),
    );
    const journal = open();
    expect(lookup(journal, "legacy-1", "inf-1")?.state).toBe("FILLED");
    expect(lookup(journal, "legacy-1", "inf-2")?.state).toBe("FILLED");
    expect(lookup(journal, "legacy-1", "inf-1")?.brokerKey).toBe("legacy-1");
    journal.close();
    expect(lines()[0]).toContain('"k":"H"');
    expect(lines()[0]).toContain('"why":"migrated"');
    expect(fs.readdirSync(dir).some((name) => name.startsWith("orders.journal.format1-"))).toBe(
      true,
    );
    expect(lookup(open(), "legacy-1", "inf-9")?.state).toBe("FILLED");
  });
});
