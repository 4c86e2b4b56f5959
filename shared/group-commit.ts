/**
 * Group commit for an append-only file: the gateway's order journal and the simulated broker's
 * state log. Lines go to the file in the order they were appended, with one of two promises:
 *
 * - **durable**: resolves once the line is on disk (written, then fdatasync'ed). Lines appended
 *   while a sync is in flight wait for it and then go together, one write and one fdatasync for
 *   the lot; one sync is in flight at a time. The fdatasync runs off the event loop, which keeps
 *   decoding and verifying the requests that will join the next batch.
 * - **written**: resolves once the line is in the file (write(2) returned: it survives a crash
 *   of the process, not a power cut). It becomes durable with the next sync: the next durable
 *   line's or, when none comes, one `lazySyncMs` later.
 *
 * Lines appended in the same event-loop turn share one write (a microtask flushes them).
 *
 * Each line carries a mark of the owner's choosing (the journal's sequence number and crc): the
 * owner learns the mark of the last line each sync covered, and on a failure the mark of the
 * last line still in the file.
 *
 * A failed write or sync rejects the lines it affects and hands the error to the owner, which
 * decides what the file becomes (the journal cuts it back and refuses orders until the disk
 * recovers; the sim stops trading). `flushNow()` writes and syncs everything at once, blocking,
 * for compaction and close.
 */
import type { Clock, TimerHandle } from "./clock.ts";

/** The file operations a group commit needs; the owner keeps the file descriptor. */
export interface CommitTarget {
  /** Append the whole buffer (at the owner's idea of the end); throws on failure. */
  write(buffer: Uint8Array): void;
  /** fdatasync off the event loop. */
  sync(done: (error: Error | null) => void): void;
  /** fdatasync, blocking. */
  syncNow(): void;
}

export type CommitFailurePhase = "write" | "sync";

export interface CommitFailure<M> {
  readonly phase: CommitFailurePhase;
  readonly error: Error;
  /** Bytes before the failed batch: the owner cuts the file back to this. */
  readonly sizeBefore: number;
  /** Mark of the last line before the failed batch (undefined: none since open or reset). */
  readonly markBefore: M | undefined;
}

export interface CommitSynced<M> {
  readonly seconds: number;
  readonly bytes: number;
  readonly lines: number;
  /** Mark of the last line this sync made durable (undefined: none since open or reset). */
  readonly mark: M | undefined;
}

export interface GroupCommitOptions<M> {
  readonly target: CommitTarget;
  readonly clock: Clock;
  /** Bytes already in the file. */
  readonly size: number;
  /**
   * A write or sync failed. The owner fixes the file (cut to `sizeBefore`) and returns the
   * error the affected lines are rejected with.
   */
  readonly onFailure: (failure: CommitFailure<M>) => Error;
  /** Each successful sync. */
  readonly onSynced?: (synced: CommitSynced<M>) => void;
  /** How long a written line may stay unsynced when no durable line follows; default 100. */
  readonly lazySyncMs?: number;
}

export const DEFAULT_LAZY_SYNC_MS = 100;

interface Waiter {
  resolve(): void;
  reject(error: Error): void;
}

interface Queued<M> {
  readonly text: string;
  readonly durable: boolean;
  readonly mark: M;
  readonly waiter: Waiter;
}

/** What a write left: where the file ended before it, and the mark there. */
interface Before<M> {
  readonly size: number;
  readonly mark: M | undefined;
}

export class GroupCommit<M = undefined> {
  readonly #options: GroupCommitOptions<M>;
  /** Lines not yet written, in order. */
  #queue: Queued<M>[] = [];
  #flushScheduled = false;
  /** Durable lines of the sync in flight, resolved when it completes. */
  #syncing: Waiter[] | undefined;
  /** Bumped by flushNow(): a sync in flight from before it no longer decides anything. */
  #generation = 0;
  #size: number;
  /** Size covered by the last successful sync. */
  #syncedSize: number;
  #writtenMark: M | undefined;
  /** Lines written since the last sync started. */
  #unsyncedLines = 0;
  #lazyTimer: TimerHandle | undefined;
  #drainers: Waiter[] = [];
  #writes = 0;
  #syncs = 0;

  constructor(options: GroupCommitOptions<M>) {
    this.#options = options;
    this.#size = options.size;
    this.#syncedSize = options.size;
  }

  /** Bytes written (the file's size as far as this commit knows). */
  get size(): number {
    return this.#size;
  }

  /** Bytes made durable by the last sync. */
  get syncedSize(): number {
    return this.#syncedSize;
  }

  /** Writes and syncs so far (tests count them; the benchmark prints them). */
  get stats(): { readonly writes: number; readonly syncs: number } {
    return { writes: this.#writes, syncs: this.#syncs };
  }

  /** The owner rewrote or cut the file itself, durably (compaction): continue from `size`. */
  reset(size: number): void {
    this.#size = size;
    this.#syncedSize = size;
    this.#writtenMark = undefined;
    this.#unsyncedLines = 0;
  }

  /** Append `text` (whole lines); resolves once it is durable. */
  appendDurable(text: string, mark: M): Promise<void> {
    return this.#enqueue(text, true, mark);
  }

  /**
   * Append `text`; resolves once it is written (at once when nothing is queued before it), and
   * it becomes durable with the next sync.
   */
  appendWritten(text: string, mark: M): Promise<void> {
    if (this.#queue.length > 0 || this.#syncing !== undefined)
      return this.#enqueue(text, false, mark);
    const before = this.#before();
    try {
      this.#write(text, 1, mark);
    } catch (error) {
      return Promise.reject(this.#failed("write", error as Error, before));
    }
    this.#armLazySync();
    return Promise.resolve();
  }

  /** Resolves once every durable line appended so far is on disk. */
  drain(): Promise<void> {
    if (this.#idle()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => this.#drainers.push({ resolve, reject }));
  }

  /**
   * Write what is queued and sync everything now, blocking. Lines of a sync still in flight are
   * covered too and resolved here. Throws (after onFailure) if it fails.
   */
  flushNow(): void {
    this.#flushScheduled = false;
    this.#generation += 1;
    const waiters = [...(this.#syncing ?? [])];
    this.#syncing = undefined;
    const queued = this.#queue;
    this.#queue = [];
    waiters.push(...queued.map((entry) => entry.waiter));
    const fail = (phase: CommitFailurePhase, error: unknown, before: Before<M>) => {
      const failure = this.#failed(phase, error as Error, before);
      for (const waiter of waiters) waiter.reject(failure);
      this.#settleDrainers(failure);
      return failure;
    };
    const before = this.#before();
    try {
      this.#writeQueued(queued);
    } catch (error) {
      throw fail("write", error, before);
    }
    if (this.#syncedSize < this.#size) {
      const started = this.#options.clock.monotonic();
      const covered = { from: this.#syncedSize, to: this.#size, mark: this.#writtenMark };
      const lines = this.#unsyncedLines;
      try {
        this.#options.target.syncNow();
      } catch (error) {
        throw fail("sync", error, before);
      }
      this.#unsyncedLines = 0;
      this.#synced(started, covered, lines);
    }
    this.stop();
    for (const waiter of waiters) waiter.resolve();
    this.#settleDrainers();
  }

  /** Stop the lazy timer (close, after flushNow). */
  stop(): void {
    this.#lazyTimer?.cancel();
    this.#lazyTimer = undefined;
  }

  #enqueue(text: string, durable: boolean, mark: M): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ text, durable, mark, waiter: { resolve, reject } });
      if (!this.#flushScheduled && this.#syncing === undefined) {
        this.#flushScheduled = true;
        queueMicrotask(() => this.#flush());
      }
    });
  }

  #flush(): void {
    this.#flushScheduled = false;
    if (this.#syncing !== undefined) return;
    const queued = this.#queue;
    this.#queue = [];
    if (queued.length === 0) {
      this.#settleDrainers();
      return;
    }
    const before = this.#before();
    try {
      this.#writeQueued(queued);
    } catch (error) {
      const failure = this.#failed("write", error as Error, before);
      for (const entry of queued) entry.waiter.reject(failure);
      this.#settleDrainers(failure);
      return;
    }
    const durable: Waiter[] = [];
    for (const entry of queued) {
      if (entry.durable) durable.push(entry.waiter);
      else entry.waiter.resolve();
    }
    if (durable.length > 0) this.#startSync(durable, before);
    else {
      this.#armLazySync();
      this.#settleDrainers();
    }
  }

  #writeQueued(queued: readonly Queued<M>[]): void {
    const last = queued.at(-1);
    if (last === undefined) return;
    this.#write(queued.map((entry) => entry.text).join(""), queued.length, last.mark);
  }

  #write(text: string, lines: number, mark: M): void {
    const buffer = Buffer.from(text);
    this.#options.target.write(buffer);
    this.#writes += 1;
    this.#size += buffer.length;
    this.#writtenMark = mark;
    this.#unsyncedLines += lines;
  }

  #startSync(waiters: Waiter[], before: Before<M>): void {
    this.#syncing = waiters;
    this.stop();
    const generation = this.#generation;
    const covered = { from: this.#syncedSize, to: this.#size, mark: this.#writtenMark };
    const lines = this.#unsyncedLines;
    this.#unsyncedLines = 0;
    const started = this.#options.clock.monotonic();
    this.#options.target.sync((error) => {
      if (generation !== this.#generation) return;
      this.#syncing = undefined;
      if (error !== null) {
        const failure = this.#failed("sync", error, before);
        for (const waiter of waiters) waiter.reject(failure);
        // Lines queued behind a failed sync would follow a cut file: refuse them too
        for (const entry of this.#queue.splice(0)) entry.waiter.reject(failure);
        this.#settleDrainers(failure);
        return;
      }
      this.#synced(started, covered, lines);
      for (const waiter of waiters) waiter.resolve();
      if (this.#queue.length > 0) this.#flush();
      else {
        if (this.#syncedSize < this.#size) this.#armLazySync();
        this.#settleDrainers();
      }
    });
  }

  #synced(
    started: number,
    covered: { readonly from: number; readonly to: number; readonly mark: M | undefined },
    lines: number,
  ): void {
    this.#syncedSize = Math.max(this.#syncedSize, covered.to);
    this.#syncs += 1;
    this.#options.onSynced?.({
      seconds: (this.#options.clock.monotonic() - started) / 1000,
      bytes: Math.max(0, covered.to - covered.from),
      lines,
      mark: covered.mark,
    });
  }

  #armLazySync(): void {
    if (this.#lazyTimer !== undefined || this.#syncing !== undefined) return;
    this.#lazyTimer = this.#options.clock.setTimeout(() => {
      this.#lazyTimer = undefined;
      if (this.#syncing !== undefined || this.#syncedSize >= this.#size) return;
      this.#startSync([], this.#before());
    }, this.#options.lazySyncMs ?? DEFAULT_LAZY_SYNC_MS);
  }

  #before(): Before<M> {
    return { size: this.#size, mark: this.#writtenMark };
  }

  #failed(phase: CommitFailurePhase, error: Error, before: Before<M>): Error {
    const failure = this.#options.onFailure({
      phase,
      error,
      sizeBefore: before.size,
      markBefore: before.mark,
    });
    this.#size = before.size;
    this.#writtenMark = before.mark;
    this.#syncedSize = Math.min(this.#syncedSize, before.size);
    return failure;
  }

  #idle(): boolean {
    return this.#queue.length === 0 && this.#syncing === undefined && !this.#flushScheduled;
  }

  #settleDrainers(error?: Error): void {
    if (error === undefined && !this.#idle()) return;
    for (const drainer of this.#drainers.splice(0)) {
      if (error === undefined) drainer.resolve();
      else drainer.reject(error);
    }
  }
}
