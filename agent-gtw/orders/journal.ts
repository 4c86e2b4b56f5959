/**
 * The order journal: the gateway's memory of every OPEN/CLOSE/MODIFY it accepted (DESIGN §6).
 *
 * - The intent is durable (written and fdatasync'ed) before the backend is called. Intents share
 *   fdatasyncs (group commit, shared/group-commit.ts): those arriving while one sync is in
 *   flight go together in the next, and each order still waits for its own line.
 * - The outcome is written (write(2): it survives a crash of the process) before the reply, and
 *   made durable by the next sync: the next intent's, or one `outcomeSyncMs` later. A power cut
 *   in between loses it, and the restarted gateway reconciles the intent from the broker's
 *   books, which tell FILLED, NOT_EXECUTED and UNKNOWN outcomes again (reconcile.ts). A
 *   REJECTED outcome leaves no trace at the broker, so it alone is synced before the reply:
 *   the id keeps answering REJECTED across any crash (docs/PROTOCOL.md §8).
 * - The in-memory index makes a repeated client_order_id answer from the journal, across
 *   restarts: the file is replayed at startup.
 * - Each line is `<crc32 hex> <json>`. A torn last line (crash mid-write) is skipped with a
 *   warning; a bad line anywhere else is corruption and the gateway refuses to start.
 * - Growth is bounded by compaction: the file is rewritten as one snapshot record per
 *   client_order_id still inside the retention window.
 * - If a write or sync fails (disk full, I/O error) the journal truncates back to its last
 *   good size and reports JOURNAL_UNAVAILABLE; the gateway then refuses orders instead of
 *   executing unjournaled ones.
 */
import * as fs from "node:fs";
import { dirname } from "node:path";
import type { Clock } from "../../shared/clock.ts";
import { AgentError, FaultCode } from "../../shared/errors.ts";
import { type CommitFailure, GroupCommit } from "../../shared/group-commit.ts";
import type { Logger } from "../../shared/log.ts";
import type { OrderRecord, OrderState, Reply, SignedAction } from "../../shared/protocol/index.ts";

/** What the journal remembers about one client_order_id. */
export interface JournalEntry {
  readonly clientOrderId: string;
  readonly action: SignedAction;
  /** Hash of the fields that define the intent; a reuse with a different hash is refused. */
  readonly intentHash: string;
  readonly receivedAt: number;
  /** The validated request as received, for reconciliation. */
  readonly request: Readonly<Record<string, unknown>>;
  state: OrderState;
  reply: Reply | null;
  /** When the outcome was recorded (0 while PENDING). */
  decidedAt: number;
}

export interface JournalOptions {
  readonly path: string;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Compact once the file holds this many records. */
  readonly compactAfterRecords?: number;
  /** Entries older than this are dropped at compaction; a client cannot retry that late. */
  readonly retentionMs?: number;
  /** File operations; replaced in tests to inject faults. */
  readonly io?: JournalIo;
  /** Told each fdatasync's time and the bytes it made durable (the gateway's /metrics). */
  readonly onSync?: (seconds: number, bytes: number) => void;
  /** How long a written outcome may wait for a sync when no intent follows; default 100 ms. */
  readonly outcomeSyncMs?: number;
}

/** The few file operations the journal needs, so tests can make them fail. */
export interface JournalIo {
  openSync(path: string, flags: string, mode?: number): number;
  writeSync(fd: number, buffer: Uint8Array): number;
  /** fdatasync on the thread pool, so the event loop gathers the next batch meanwhile. */
  fdatasync(fd: number, callback: (error: Error | null) => void): void;
  fdatasyncSync(fd: number): void;
  ftruncateSync(fd: number, length: number): void;
  closeSync(fd: number): void;
}

const DEFAULT_COMPACT_AFTER = 200_000;
/** Settled entries older than this are dropped at compaction (the config's journal.retention_days). */
export const DEFAULT_RETENTION_DAYS = 30;
const DEFAULT_RETENTION_MS = DEFAULT_RETENTION_DAYS * 24 * 3600 * 1000;
/** A journal line is a request plus a reply; anything far larger is corruption. */
const MAX_LINE_BYTES = 256 * 1024;

type Line =
  | { k: "I"; c: string; a: SignedAction; h: string; t: number; q: Record<string, unknown> }
  | { k: "O"; c: string; s: OrderState; t: number; r: Reply | null }
  | {
      k: "S";
      c: string;
      a: SignedAction;
      h: string;
      t: number;
      q: Record<string, unknown>;
      s: OrderState;
      d: number;
      r: Reply | null;
    };

/** Outcomes the broker cannot tell again; they are synced before the reply. */
const SYNCED_OUTCOMES: ReadonlySet<OrderState> = new Set(["REJECTED"]);

export class Journal {
  readonly path: string;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #io: JournalIo;
  readonly #compactAfter: number;
  readonly #retentionMs: number;
  readonly #entries = new Map<string, JournalEntry>();
  /** Writes, fdatasyncs and their batching; its size is the file's after the last good write. */
  readonly #commit: GroupCommit;
  #fd: number;
  #records = 0;
  #compactScheduled = false;
  #failure: AgentError | undefined;
  #closed = false;

  private constructor(options: JournalOptions, fd: number, size: number) {
    this.path = options.path;
    this.#clock = options.clock;
    this.#logger = options.logger;
    this.#io = options.io ?? fs;
    this.#compactAfter = options.compactAfterRecords ?? DEFAULT_COMPACT_AFTER;
    this.#retentionMs = options.retentionMs ?? DEFAULT_RETENTION_MS;
    this.#fd = fd;
    const onSync = options.onSync;
    this.#commit = new GroupCommit({
      clock: options.clock,
      size,
      target: {
        write: (buffer) => {
          let offset = 0;
          while (offset < buffer.length)
            offset += this.#io.writeSync(this.#fd, buffer.subarray(offset));
        },
        sync: (done) => this.#io.fdatasync(this.#fd, done),
        syncNow: () => this.#io.fdatasyncSync(this.#fd),
      },
      onFailure: (failure) => this.#fail(failure),
      ...(onSync === undefined ? {} : { onSynced: (seconds, bytes) => onSync(seconds, bytes) }),
      ...(options.outcomeSyncMs === undefined ? {} : { lazySyncMs: options.outcomeSyncMs }),
    });
  }

  /** Open (creating if needed) and replay the journal. Throws JOURNAL_CORRUPT naming the line. */
  static open(options: JournalOptions): Journal {
    const io = options.io ?? fs;
    fs.mkdirSync(dirname(options.path), { recursive: true });
    let content: Buffer = Buffer.alloc(0);
    if (fs.existsSync(options.path)) {
      const stat = fs.statSync(options.path);
      // /dev/full, a FIFO or a directory here would hang or lie; the journal must be a file.
      if (!stat.isFile()) {
        throw new AgentError(
          FaultCode.JOURNAL_UNAVAILABLE,
          `journal: ${options.path} is not a regular file`,
        );
      }
      content = fs.readFileSync(options.path);
    }
    let fd: number;
    try {
      fd = io.openSync(options.path, "a", 0o600);
    } catch (error) {
      throw new AgentError(
        FaultCode.JOURNAL_UNAVAILABLE,
        `journal: cannot open ${options.path} for appending: ${(error as Error).message}`,
        { cause: error },
      );
    }
    const journal = new Journal(options, fd, content.length);
    journal.#replay(content);
    if (journal.#records > journal.#compactAfter) journal.compact();
    return journal;
  }

  /** Why the journal cannot take writes, if it cannot. */
  get failure(): AgentError | undefined {
    return this.#failure;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The file's size in bytes after the last good write. */
  get bytes(): number {
    return this.#commit.size;
  }

  /** Bytes of the file known to be on disk (the last fdatasync's reach). */
  get durableBytes(): number {
    return this.#commit.syncedSize;
  }

  /** Writes and fdatasyncs so far (tests count them; the benchmark prints them). */
  get ioStats(): { readonly writes: number; readonly syncs: number } {
    return this.#commit.stats;
  }

  get records(): number {
    return this.#records;
  }

  lookup(clientOrderId: string): JournalEntry | undefined {
    return this.#entries.get(clientOrderId);
  }

  /** Intents whose outcome was never recorded or is UNKNOWN: they need reconciliation. */
  unresolved(): JournalEntry[] {
    return [...this.#entries.values()].filter(
      (entry) => entry.state === "PENDING" || entry.state === "UNKNOWN",
    );
  }

  /**
   * Record an intent; resolves once it is on disk. The entry is in the index at once (state
   * PENDING), so a duplicate arriving meanwhile sees ORDER_IN_PROGRESS rather than executing.
   */
  recordIntent(
    clientOrderId: string,
    action: SignedAction,
    intentHash: string,
    request: Readonly<Record<string, unknown>>,
  ): Promise<JournalEntry> {
    if (this.#closed) return Promise.reject(this.#closedError());
    const now = this.#clock.now();
    const entry: JournalEntry = {
      clientOrderId,
      action,
      intentHash,
      receivedAt: now,
      request,
      state: "PENDING",
      reply: null,
      decidedAt: 0,
    };
    const previous = this.#entries.get(clientOrderId);
    this.#entries.set(clientOrderId, entry);
    return this.#append(
      {
        k: "I",
        c: clientOrderId,
        a: action,
        h: intentHash,
        t: now,
        q: { ...request },
      },
      true,
    ).then(
      () => entry,
      (error: Error) => {
        // Not durable, so not accepted: forget it, so the client may retry the same id.
        if (this.#entries.get(clientOrderId) === entry) {
          if (previous === undefined) this.#entries.delete(clientOrderId);
          else this.#entries.set(clientOrderId, previous);
        }
        throw error;
      },
    );
  }

  /**
   * Record the outcome; the index changes at once. The promise resolves once the line is
   * written, or for a REJECTED outcome once it is durable (see the header for why).
   */
  recordOutcome(
    clientOrderId: string,
    state: Exclude<OrderState, "PENDING">,
    reply: Reply | null,
  ): Promise<void> {
    const entry = this.#entries.get(clientOrderId);
    if (entry === undefined) {
      return Promise.reject(
        new AgentError(FaultCode.INTERNAL, `journal: no intent for ${clientOrderId}`),
      );
    }
    const now = this.#clock.now();
    entry.state = state;
    entry.reply = reply;
    entry.decidedAt = now;
    if (this.#closed) return Promise.reject(this.#closedError());
    return this.#append(
      { k: "O", c: clientOrderId, s: state, t: now, r: reply },
      SYNCED_OUTCOMES.has(state),
    );
  }

  /** The public view of an entry (GET_ORDER). */
  static toRecord(entry: JournalEntry): OrderRecord {
    return {
      client_order_id: entry.clientOrderId,
      action: entry.action,
      state: entry.state,
      received_at: entry.receivedAt,
      reply: entry.reply,
    };
  }

  /**
   * Rewrite the file as one snapshot line per entry inside the retention window: write a
   * temporary file, sync it, rename it over the journal, sync the directory.
   */
  compact(): void {
    if (this.#closed) return;
    try {
      this.#commit.flushNow();
    } catch {
      return;
    }
    const horizon = this.#clock.now() - this.#retentionMs;
    const lines: string[] = [];
    for (const [id, entry] of this.#entries) {
      const unresolved = entry.state === "PENDING" || entry.state === "UNKNOWN";
      if (!unresolved && entry.receivedAt < horizon) {
        this.#entries.delete(id);
        continue;
      }
      lines.push(
        encodeLine({
          k: "S",
          c: id,
          a: entry.action,
          h: entry.intentHash,
          t: entry.receivedAt,
          q: { ...entry.request },
          s: entry.state,
          d: entry.decidedAt,
          r: entry.reply,
        }),
      );
    }
    const temporary = `${this.path}.compact`;
    const content = lines.join("");
    const fd = fs.openSync(temporary, "w", 0o600);
    try {
      fs.writeSync(fd, content);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(temporary, this.path);
    syncDirectory(dirname(this.path));
    this.#io.closeSync(this.#fd);
    this.#fd = this.#io.openSync(this.path, "a", 0o600);
    this.#records = lines.length;
    this.#commit.reset(Buffer.byteLength(content));
    this.#logger.info("Journal compacted", { path: this.path, entries: lines.length });
  }

  /** Write and sync what is pending and close the file. Later writes are refused. */
  close(): void {
    if (this.#closed) return;
    try {
      this.#commit.flushNow();
    } catch {
      // Logged by #fail; the intents it refused were never executed
    }
    this.#commit.stop();
    this.#closed = true;
    try {
      this.#io.closeSync(this.#fd);
    } catch {
      // Nothing more to lose: every acknowledged record was synced.
    }
  }

  #append(line: Line, durable: boolean): Promise<void> {
    if (this.#failure !== undefined && !this.#recover()) return Promise.reject(this.#failure);
    const encoded = encodeLine(line);
    if (durable) return this.#commit.appendDurable(encoded).then(() => this.#counted());
    try {
      this.#commit.appendWritten(encoded);
    } catch (error) {
      return Promise.reject(error);
    }
    this.#counted();
    return Promise.resolve();
  }

  /** One more record in the file; past the threshold, compact once the current turn is over. */
  #counted(): void {
    this.#records += 1;
    if (this.#records <= this.#compactAfter || this.#compactScheduled) return;
    this.#compactScheduled = true;
    queueMicrotask(() => {
      this.#compactScheduled = false;
      if (this.#records <= this.#compactAfter) return;
      try {
        this.compact();
      } catch (error) {
        this.#logger.error("Journal compaction failed", {
          path: this.path,
          error: (error as Error).message,
        });
      }
    });
  }

  /** A write or sync failed: cut the file back to before the failed batch, refuse orders. */
  #fail({ error, sizeBefore }: CommitFailure): AgentError {
    this.#failure = new AgentError(
      FaultCode.JOURNAL_UNAVAILABLE,
      `journal: cannot write ${this.path}: ${error.message}`,
      { cause: error },
    );
    this.#logger.error("Journal write failed; refusing orders until it recovers", {
      path: this.path,
      error: error.message,
    });
    // A partial line left behind would read as corruption once later lines follow it.
    try {
      this.#io.ftruncateSync(this.#fd, sizeBefore);
    } catch {
      // Checked again before the next write by #recover.
    }
    return this.#failure;
  }

  /** Before writing after a failure: cut the file back to its last good size and try again. */
  #recover(): boolean {
    try {
      this.#io.ftruncateSync(this.#fd, this.#commit.size);
    } catch {
      return false;
    }
    this.#failure = undefined;
    this.#logger.warn("Journal writable again", { path: this.path });
    return true;
  }

  #replay(content: Buffer): void {
    let start = 0;
    let lineNumber = 0;
    while (start < content.length) {
      lineNumber += 1;
      const newline = content.indexOf(0x0a, start);
      const end = newline < 0 ? content.length : newline;
      const line = decodeLine(content.subarray(start, end).toString("utf8"));
      if (line === undefined) {
        if (newline < 0) {
          // No newline after it: the crash came mid-write. Cut it off so appends start clean.
          this.#logger.warn("Journal ends with a torn line; skipping it", {
            path: this.path,
            line: lineNumber,
          });
          this.#commit.reset(start);
          this.#io.ftruncateSync(this.#fd, start);
          return;
        }
        throw new AgentError(
          FaultCode.JOURNAL_CORRUPT,
          `journal: ${this.path} line ${lineNumber} is corrupt (bad checksum or JSON); refusing to start. Move the file aside only after reconciling its orders with MT5`,
        );
      }
      this.#apply(line);
      this.#records += 1;
      start = end + 1;
    }
  }

  #apply(line: Line): void {
    if (line.k === "I") {
      this.#entries.set(line.c, {
        clientOrderId: line.c,
        action: line.a,
        intentHash: line.h,
        receivedAt: line.t,
        request: line.q,
        state: "PENDING",
        reply: null,
        decidedAt: 0,
      });
    } else if (line.k === "O") {
      const entry = this.#entries.get(line.c);
      if (entry === undefined) return;
      entry.state = line.s;
      entry.reply = line.r;
      entry.decidedAt = line.t;
    } else {
      this.#entries.set(line.c, {
        clientOrderId: line.c,
        action: line.a,
        intentHash: line.h,
        receivedAt: line.t,
        request: line.q,
        state: line.s,
        reply: line.r,
        decidedAt: line.d,
      });
    }
  }

  #closedError(): AgentError {
    return new AgentError(FaultCode.JOURNAL_UNAVAILABLE, "journal: closed (gateway shutting down)");
  }
}

function encodeLine(line: Line): string {
  const json = JSON.stringify(line);
  return `${crc32(json)} ${json}\n`;
}

function decodeLine(raw: string): Line | undefined {
  if (raw.length > MAX_LINE_BYTES) return undefined;
  const space = raw.indexOf(" ");
  if (space !== 8) return undefined;
  const json = raw.slice(9);
  if (raw.slice(0, 8) !== crc32(json)) return undefined;
  try {
    const line = JSON.parse(json) as Line;
    return typeof line === "object" && line !== null && typeof line.c === "string"
      ? line
      : undefined;
  } catch {
    return undefined;
  }
}

function crc32(text: string): string {
  return Bun.hash.crc32(text).toString(16).padStart(8, "0");
}

/** Make a rename durable: sync the directory entry (no-op where directories cannot be opened). */
function syncDirectory(directory: string): void {
  if (process.platform === "win32") return;
  const fd = fs.openSync(directory, "r");
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
