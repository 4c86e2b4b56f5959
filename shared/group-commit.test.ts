import { describe, expect, test } from "bun:test";
import {
  type CommitFailure,
  type CommitSynced,
  type CommitTarget,
  GroupCommit,
} from "./group-commit.ts";
import { TestClock } from "./testing/test-clock.ts";

/** A file in memory whose syncs complete when the test says so. */
class FakeFile implements CommitTarget {
  content = "";
  durable = 0;
  writes = 0;
  syncCalls = 0;
  failNextWrite = false;
  readonly pending: { size: number; done: (error: Error | null) => void }[] = [];

  write(buffer: Uint8Array): void {
    if (this.failNextWrite) {
      this.failNextWrite = false;
      throw new Error("ENOSPC: no space left on device");
    }
    this.writes += 1;
    this.content += Buffer.from(buffer).toString();
  }

  sync(done: (error: Error | null) => void): void {
    this.syncCalls += 1;
    this.pending.push({ size: this.content.length, done });
  }

  syncNow(): void {
    this.syncCalls += 1;
    this.durable = this.content.length;
  }

  /** Complete the oldest sync in flight. */
  complete(error: Error | null = null): void {
    const next = this.pending.shift();
    if (next === undefined) throw new Error("no sync in flight");
    if (error === null) this.durable = Math.max(this.durable, next.size);
    next.done(error);
  }

  /** The durable part of the file, as a power cut would leave it. */
  get onDisk(): string {
    return this.content.slice(0, this.durable);
  }
}

function setup(lazySyncMs = 100) {
  const file = new FakeFile();
  const clock = new TestClock();
  const failures: CommitFailure<string>[] = [];
  const synced: Omit<CommitSynced<string>, "seconds">[] = [];
  const commit = new GroupCommit<string>({
    target: file,
    clock,
    size: 0,
    lazySyncMs,
    onFailure: (failure) => {
      failures.push(failure);
      file.content = file.content.slice(0, failure.sizeBefore);
      return new Error(`failed: ${failure.error.message}`);
    },
    onSynced: ({ bytes, lines, mark }) => synced.push({ bytes, lines, mark }),
  });
  return { file, clock, commit, failures, synced };
}

const tick = () => new Promise<void>((resolve) => queueMicrotask(resolve));

describe("group commit", () => {
  test("lines appended in one turn share one write and one sync, and resolve only once durable", async () => {
    const { file, commit, synced } = setup();
    const resolved: number[] = [];
    const all = Array.from({ length: 20 }, (_, i) =>
      commit.appendDurable(`line ${i}\n`, `m${i}`).then(() => {
        // What a power cut would keep must already hold this line
        expect(file.onDisk).toContain(`line ${i}\n`);
        resolved.push(i);
      }),
    );
    await tick();
    expect(file.writes).toBe(1);
    expect(file.syncCalls).toBe(1);
    expect(resolved).toEqual([]);
    file.complete();
    await Promise.all(all);
    expect(resolved).toHaveLength(20);
    expect(synced).toEqual([{ bytes: file.content.length, lines: 20, mark: "m19" }]);
    expect(commit.syncedSize).toBe(file.content.length);
  });

  test("lines arriving while a sync is in flight wait for it, then share the next one", async () => {
    const { file, commit, synced } = setup();
    const first = commit.appendDurable("a\n", "a");
    await tick();
    expect(file.pending).toHaveLength(1);
    // A burst while the first sync runs: none of it is written yet, none resolves
    let laterDone = 0;
    const later = Array.from({ length: 30 }, (_, i) =>
      commit.appendDurable(`b${i}\n`, `b${i}`).then(() => {
        expect(file.onDisk).toContain(`b${i}\n`);
        laterDone += 1;
      }),
    );
    await tick();
    expect(file.writes).toBe(1);
    file.complete();
    await first;
    expect(laterDone).toBe(0);
    // The whole burst went out as one write and one sync
    expect(file.writes).toBe(2);
    expect(file.pending).toHaveLength(1);
    file.complete();
    await Promise.all(later);
    expect(file.syncCalls).toBe(2);
    expect(synced.map((sync) => sync.mark)).toEqual(["a", "b29"]);
  });

  test("a written line with nothing queued is written at once and made durable by the next sync", async () => {
    const { file, commit, synced } = setup();
    await commit.appendWritten("outcome\n", "o");
    expect(file.content).toBe("outcome\n");
    expect(file.syncCalls).toBe(0);
    const intent = commit.appendDurable("intent\n", "i");
    await tick();
    file.complete();
    await intent;
    expect(file.onDisk).toBe("outcome\nintent\n");
    expect(file.syncCalls).toBe(1);
    expect(synced).toEqual([{ bytes: 15, lines: 2, mark: "i" }]);
  });

  test("with nothing after it, a written line is synced lazySyncMs later", async () => {
    const { file, clock, commit, synced } = setup(50);
    await commit.appendWritten("outcome\n", "o");
    clock.advance(49);
    expect(file.syncCalls).toBe(0);
    clock.advance(1);
    expect(file.syncCalls).toBe(1);
    file.complete();
    expect(file.onDisk).toBe("outcome\n");
    expect(synced.at(-1)?.mark).toBe("o");
    expect(clock.pendingTimers).toBe(0);
  });

  test("lines keep their order: a written line waits behind durable lines queued before it", async () => {
    const { file, clock, commit } = setup(50);
    const intent = commit.appendDurable("intent\n", "i");
    await tick();
    // A sync is in flight: the outcome and the next intent queue, in order
    let written = false;
    const outcome = commit.appendWritten("outcome\n", "o").then(() => {
      written = true;
    });
    const next = commit.appendDurable("next\n", "n");
    expect(file.content).toBe("intent\n");
    file.complete();
    await intent;
    await outcome;
    expect(written).toBe(true);
    expect(file.content).toBe("intent\noutcome\nnext\n");
    // The outcome resolved on its write; the next intent waits for its own sync
    expect(file.onDisk).toBe("intent\n");
    file.complete();
    await next;
    expect(file.onDisk).toBe("intent\noutcome\nnext\n");
    expect(clock.pendingTimers).toBe(0);
  });

  test("a failed sync rejects its lines and those queued behind it, and reports where to cut", async () => {
    const { file, commit, failures } = setup();
    const ok = commit.appendDurable("ok\n", "ok");
    await tick();
    file.complete();
    await ok;
    await commit.appendWritten("w\n", "w");
    const durable = commit.appendDurable("first\n", "first");
    await tick();
    const queued = commit.appendDurable("second\n", "second");
    file.complete(new Error("EIO"));
    await expect(durable).rejects.toThrow("failed: EIO");
    await expect(queued).rejects.toThrow("failed: EIO");
    // Cut back to before the failed batch: the line written before it stays, and is the last mark
    expect(failures).toEqual([
      { phase: "sync", error: new Error("EIO"), sizeBefore: 5, markBefore: "w" },
    ]);
    expect(commit.size).toBe(5);
    expect(file.content).toBe("ok\nw\n");
  });

  test("a failed write rejects the batch and leaves the size and mark where they were", async () => {
    const { file, commit, failures } = setup();
    await commit.appendWritten("a\n", "a");
    file.failNextWrite = true;
    await expect(commit.appendDurable("x\n", "x")).rejects.toThrow("failed: ENOSPC");
    expect(failures[0]).toMatchObject({ phase: "write", sizeBefore: 2, markBefore: "a" });
    expect(commit.size).toBe(2);
    file.failNextWrite = true;
    await expect(commit.appendWritten("y\n", "y")).rejects.toThrow("failed: ENOSPC");
    expect(commit.size).toBe(2);
  });

  test("flushNow writes and syncs everything, resolving a sync still in flight; its late answer is ignored", async () => {
    const { file, commit, synced } = setup();
    const inFlight = commit.appendDurable("a\n", "a");
    await tick();
    const queued = commit.appendDurable("b\n", "b");
    const written = commit.appendWritten("c\n", "c");
    commit.flushNow();
    await Promise.all([inFlight, queued, written]);
    expect(file.onDisk).toBe("a\nb\nc\n");
    expect(synced.at(-1)?.mark).toBe("c");
    // The superseded sync finishing (even with an error) changes nothing
    file.complete(new Error("late"));
    expect(commit.size).toBe(file.content.length);
    await commit.drain();
  });

  test("drain resolves once everything appended so far is durable", async () => {
    const { file, commit } = setup();
    void commit.appendDurable("a\n", "a");
    let drained = false;
    const drain = commit.drain().then(() => {
      drained = true;
    });
    await tick();
    expect(drained).toBe(false);
    file.complete();
    await drain;
    expect(file.onDisk).toBe("a\n");
  });
});
