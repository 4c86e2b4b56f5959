/**
 * Group commit for an append-only file: the gateway's order journal and the simulated broker's
 * state log. Lines are appended with one of two promises:
 *
 * - **durable**: resolves once the line is on disk (written, then fdatasync'ed). Every line
 *   appended while a sync is in flight waits for the next one, so under load many lines share
 *   one fdatasync, and one sync is in flight at a time. The fdatasync runs off the event loop,
 *   which keeps decoding and verifying the requests that will join the next batch.
 * - **written**: resolves once the line is in the file (write(2) returned: it survives a crash
 *   of the process, not a power cut). It becomes durable with the next sync, which is the next
 *   durable line's or, when none comes, one `lazySyncMs` later.
 *
 * The first line appended while nothing is in flight is written at the end of the current
 * event-loop turn (a microtask), so lines appended in the same turn share one write.
 *
 * A failed write or sync rejects the lines it affects and hands the error to the owner, which
 * decides what the file becomes (the journal cuts it back and refuses orders until the disk
 * recovers; the sim stops trading). `flushNow()` writes and syncs everything at once, blocking,
 * for compaction and close.
 */
import type { Clock, TimerHandle } from "./clock.ts";

/** The file operations a group commit needs; the owner keeps the file descriptor. */
export interface CommitTarget {
  /** Append the whole buffer (positioned at the owner's idea of the end); throws on failure. */
  write(buffer: Uint8Array): void;
  /** fdatasync off the event loop. */
  sync(done: (error: Error | null) => void): void;
  /** fdatasync, blocking. */
  syncNow(): void;
}

export type CommitFailurePhase = "write" | "sync";

export interface CommitFailure {
  readonly phase: CommitFailurePhase;
  readonly error: Error;
  /** File size (bytes written through this commit) before the failed batch. */
  readonly sizeBefore: number;
}

export interface GroupCommitOptions {
  readonly target: CommitTarget;
  readonly clock: Clock;
  /** Bytes already in the file. */
  readonly size: number;
  /**
   * A write or sync failed. The owner fixes the file (truncate to `sizeBefore`) and returns the
   * error the affected lines are rejected with. `sizeBefore` becomes the commit's size.
   */
  readonly onFailure: (failure: CommitFailure) => Error;
  /** Each successful sync: its duration, the bytes and the lines it made durable. */
  readonly onSynced?: (seconds: number, bytes: number, lines: number) => void;
  /** How long a written-only line may stay unsynced when no durable line follows; default 100. */
  readonly lazySyncMs?: number;
}

export const DEFAULT_LAZY_SYNC_MS = 100;

interface Waiter {
  resolve(): void;
  reject(error: Error): void;
}

interface Queued {
  readonly text: string;
  readonly waiter: Waiter;
}

export class GroupCommit {
  readonly #options: GroupCommitOptions;
  /** Durable lines not yet written. */
  #queue: Queued[] = [];
  #flushScheduled = false;
  /** Lines of the sync in flight, resolved when it completes. */
  #syncing: Waiter[] | undefined;
  /** Bumped by flushNow(): a sync in flight from before it no longer decides anything. */
  #generation = 0;
  #size: number;
  /** Size covered by the last successful sync. */
  #syncedSize: number;
  /** Lines written since the last sync started. */
  #unsyncedLines = 0;
  #lazyTimer: TimerHandle | undefined;
  #drainers: Waiter[] = [];
  #writes = 0;
  #syncs = 0;

  constructor(options: GroupCommitOptions) {
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

  /** Writes and syncs so far (tests count them; the bench prints them). */
  get stats(): { readonly writes: number; readonly syncs: number } {
    return { writes: this.#writes, syncs: this.#syncs };
  }

  /** The owner cut or replaced the file (compaction, recovery): continue from `size`. */
  reset(size: number): void {
    this.#size = size;
    this.#syncedSize = size;
    this.#unsyncedLines = 0;
  }

  /** Append `text` (whole lines) and resolve once it is durable. */
  appendDurable(text: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ text, waiter: { resolve, reject } });
      if (!this.#flushScheduled && this.#syncing === undefined) {
        this.#flushScheduled = true;
        queueMicrotask(() => this.#flush());
      }
    });
  }

  /**
   * Append `text` now and resolve once written; it becomes durable with the next sync. Throws
   * (after the owner's onFailure) if the write fails.
   */
  appendWritten(text: string): void {
    const buffer = Buffer.from(text);
    const sizeBefore = this.#size;
    try {
      this.#options.target.write(buffer);
    } catch (error) {
      throw this.#failed("write", error as Error, sizeBefore);
    }
    this.#writes += 1;
    this.#size += buffer.length;
    this.#unsyncedLines += 1;
    this.#armLazySync();
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
    const inFlight = this.#syncing ?? [];
    this.#syncing = undefined;
    const queued = this.#queue;
    this.#queue = [];
    const waiters = [...inFlight, ...queued.map((entry) => entry.waiter)];
    const reject = (failure: Error) => {
      for (const waiter of waiters) waiter.reject(failure);
      this.#settleDrainers(failure);
      return failure;
    };
    const sizeBefore = this.#size;
    try {
      if (queued.length > 0) this.#write(queued);
    } catch (error) {
      throw reject(this.#failed("write", error as Error, sizeBefore));
    }
    if (this.#syncedSize < this.#size || waiters.length > 0) {
      const from = this.#syncedSize;
      const lines = this.#unsyncedLines;
      const started = this.#options.clock.monotonic();
      try {
        this.#options.target.syncNow();
      } catch (error) {
        throw reject(this.#failed("sync", error as Error, sizeBefore));
      }
      this.#unsyncedLines = 0;
      this.#synced(started, from, this.#size, lines);
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

  #flush(): void {
    this.#flushScheduled = false;
    if (this.#syncing !== undefined) return;
    const queued = this.#queue;
    this.#queue = [];
    if (queued.length === 0) {
      this.#settleDrainers();
      return;
    }
    const sizeBefore = this.#size;
    try {
      this.#write(queued);
    } catch (error) {
      const failure = this.#failed("write", error as Error, sizeBefore);
      for (const entry of queued) entry.waiter.reject(failure);
      this.#settleDrainers(failure);
      return;
    }
    this.#startSync(
      queued.map((entry) => entry.waiter),
      sizeBefore,
    );
  }

  #write(queued: readonly Queued[]): void {
    const buffer = Buffer.from(queued.map((entry) => entry.text).join(""));
    this.#options.target.write(buffer);
    this.#writes += 1;
    this.#size += buffer.length;
    this.#unsyncedLines += queued.length;
  }

  #startSync(waiters: Waiter[], sizeBefore: number): void {
    this.#syncing = waiters;
    this.#lazyTimer?.cancel();
    this.#lazyTimer = undefined;
    const generation = this.#generation;
    const lines = this.#unsyncedLines;
    const from = this.#syncedSize;
    const to = this.#size;
    this.#unsyncedLines = 0;
    const started = this.#options.clock.monotonic();
    this.#options.target.sync((error) => {
      if (generation !== this.#generation) return;
      this.#syncing = undefined;
      if (error !== null) {
        const failure = this.#failed("sync", error, sizeBefore);
        for (const waiter of waiters) waiter.reject(failure);
        // Lines queued behind a failed sync would land after a cut file: refuse them too
        for (const entry of this.#queue.splice(0)) entry.waiter.reject(failure);
        this.#settleDrainers(failure);
        return;
      }
      this.#synced(started, from, to, lines);
      for (const waiter of waiters) waiter.resolve();
      if (this.#queue.length > 0) this.#flush();
      else {
        if (this.#syncedSize < this.#size) this.#armLazySync();
        this.#settleDrainers();
      }
    });
  }

  #synced(started: number, from: number, to: number, lines: number): void {
    this.#syncedSize = Math.max(this.#syncedSize, to);
    this.#syncs += 1;
    this.#options.onSynced?.(
      (this.#options.clock.monotonic() - started) / 1000,
      Math.max(0, to - from),
      lines,
    );
  }

  #armLazySync(): void {
    if (this.#lazyTimer !== undefined || this.#syncing !== undefined) return;
    this.#lazyTimer = this.#options.clock.setTimeout(() => {
      this.#lazyTimer = undefined;
      if (this.#syncing !== undefined || this.#syncedSize >= this.#size) return;
      this.#startSync([], this.#size);
    }, this.#options.lazySyncMs ?? DEFAULT_LAZY_SYNC_MS);
  }

  #failed(phase: CommitFailurePhase, error: Error, sizeBefore: number): Error {
    const failure = this.#options.onFailure({ phase, error, sizeBefore });
    this.#size = sizeBefore;
    this.#syncedSize = Math.min(this.#syncedSize, sizeBefore);
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
