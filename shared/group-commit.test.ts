import { describe, expect, test } from "bun:test";
import { type CommitFailure, type CommitTarget, GroupCommit } from "./group-commit.ts";
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
  const failures: CommitFailure[] = [];
  const synced: { bytes: number; lines: number }[] = [];
  const commit = new GroupCommit({
    target: file,
    clock,
    size: 0,
    lazySyncMs,
    onFailure: (failure) => {
      failures.push(failure);
      file.content = file.content.slice(0, failure.sizeBefore);
      return new Error(`failed: ${failure.error.message}`);
    },
    onSynced: (_seconds, bytes, lines) => synced.push({ bytes, lines }),
  });
  return { file, clock, commit, failures, synced };
}

const tick = () => new Promise<void>((resolve) => queueMicrotask(resolve));

describe("group commit", () => {
  test("lines appended in one turn share one write and one sync, and resolve only once durable", async () => {
    const { file, commit, synced } = setup();
    const resolved: number[] = [];
    const all = Array.from({ length: 20 }, (_, i) =>
      commit.appendDurable(`line ${i}\n`).then(() => {
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
    expect(synced).toEqual([{ bytes: file.content.length, lines: 20 }]);
    expect(commit.syncedSize).toBe(file.content.length);
  });

  test("lines arriving while a sync is in flight wait for it, then share the next one", async () => {
    const { file, commit } = setup();
    const first = commit.appendDurable("a\n");
    await tick();
    expect(file.pending).toHaveLength(1);
    // A burst while the first sync runs: none of it is written yet, none resolves
    let laterDone = 0;
    const later = Array.from({ length: 30 }, (_, i) =>
      commit.appendDurable(`b${i}\n`).then(() => {
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
  });

  test("a written-only line resolves at once and is made durable by the next sync", async () => {
    const { file, commit } = setup();
    commit.appendWritten("outcome\n");
    expect(file.content).toBe("outcome\n");
    expect(file.syncCalls).toBe(0);
    const intent = commit.appendDurable("intent\n");
    await tick();
    file.complete();
    await intent;
    expect(file.onDisk).toBe("outcome\nintent\n");
    expect(file.syncCalls).toBe(1);
  });

  test("with nothing after it, a written-only line is synced lazySyncMs later", async () => {
    const { file, clock, commit } = setup(50);
    commit.appendWritten("outcome\n");
    clock.advance(49);
    expect(file.syncCalls).toBe(0);
    clock.advance(1);
    expect(file.syncCalls).toBe(1);
    file.complete();
    expect(file.onDisk).toBe("outcome\n");
    expect(clock.pendingTimers).toBe(0);
  });

  test("a written-only line appended during a sync is written at once, and synced after it", async () => {
    const { file, clock, commit } = setup(50);
    const intent = commit.appendDurable("intent\n");
    await tick();
    commit.appendWritten("outcome\n");
    expect(file.content).toBe("intent\noutcome\n");
    file.complete();
    await intent;
    // The finished sync may not have covered it: a lazy one follows
    expect(file.onDisk).toBe("intent\n");
    clock.advance(50);
    file.complete();
    expect(file.onDisk).toBe("intent\noutcome\n");
  });

  test("a failed sync rejects its lines and those queued behind it, and reports where to cut", async () => {
    const { file, commit, failures } = setup();
    const ok = commit.appendDurable("ok\n");
    await tick();
    file.complete();
    await ok;
    const durable = commit.appendDurable("first\n");
    await tick();
    const queued = commit.appendDurable("second\n");
    file.complete(new Error("EIO"));
    await expect(durable).rejects.toThrow("failed: EIO");
    await expect(queued).rejects.toThrow("failed: EIO");
    expect(failures).toEqual([{ phase: "sync", error: new Error("EIO"), sizeBefore: 3 }]);
    expect(commit.size).toBe(3);
    expect(file.content).toBe("ok\n");
  });

  test("a failed write rejects the batch and leaves the size where it was", async () => {
    const { file, commit, failures } = setup();
    file.failNextWrite = true;
    await expect(commit.appendDurable("x\n")).rejects.toThrow("failed: ENOSPC");
    expect(failures[0]?.phase).toBe("write");
    expect(commit.size).toBe(0);
    file.failNextWrite = true;
    expect(() => commit.appendWritten("y\n")).toThrow("failed: ENOSPC");
    expect(commit.size).toBe(0);
  });

  test("flushNow writes and syncs everything, resolving a sync still in flight; its late answer is ignored", async () => {
    const { file, commit } = setup();
    const inFlight = commit.appendDurable("a\n");
    await tick();
    const queued = commit.appendDurable("b\n");
    commit.appendWritten("c\n");
    commit.flushNow();
    await Promise.all([inFlight, queued]);
    expect(file.onDisk).toBe("a\nc\nb\n");
    // The superseded sync finishing (even with an error) changes nothing
    file.complete(new Error("late"));
    expect(commit.size).toBe(file.content.length);
    await commit.drain();
  });

  test("drain resolves once everything appended so far is durable", async () => {
    const { file, commit } = setup();
    void commit.appendDurable("a\n");
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
