/**
 * The order journal: the gateway's memory of every signed action it accepted (DESIGN §6).
 *
 * - The intent is durable (written and fdatasync'ed) before the backend is called. Intents share
 *   fdatasyncs (group commit, shared/group-commit.ts): those arriving while one sync is in
 *   flight go together in the next, and each order still waits for its own line.
 * - The outcome is written (write(2): it survives a crash of the process) before the reply, and
 *   made durable by the next sync: the next intent's, or one `outcomeSyncMs` later. A power cut
 *   in between loses it, and the restarted gateway reconciles the intent from the broker's
 *   books, which tell FILLED, NOT_EXECUTED and UNKNOWN outcomes again (reconcile.ts). A
 *   REJECTED outcome leaves no trace at the broker, so it alone is synced before the reply:
 *   the id keeps answering REJECTED across any crash (docs/PROTOCOL.md §8.3). The checkpoint
 *   only ever names lines a sync covered, so a lost unsynced tail never reads as loss.
 * - The in-memory index makes a repeated client_order_id answer from the journal, across
 *   restarts: the file is replayed at startup. Entries are scoped by client (the CURVE client's
 *   name): two clients' `order-1` are two entries (PROTOCOL.md §8).
 * - Loss is detected, not survived silently (journal-format.ts, journal-checkpoint.ts): sequence
 *   numbers and a crc chain on every line, a torn tail accepted only at the very end, and a
 *   checkpoint that shows how far the journal went. Damage anywhere refuses the start with
 *   JOURNAL_CORRUPT saying how to repair (`agent-gtw journal verify` / `repair`).
 * - Tags the broker holds that no entry explains (the broker cross-check, cross-check.ts) are
 *   journaled as T records; an intent whose tag is one of them is not executed again.
 * - Growth is bounded by compaction: the file is rewritten as one snapshot record per entry
 *   still inside the retention window, continuing the sequence.
 * - If a write or sync fails (disk full, I/O error) the journal truncates back to its last
 *   good size and reports JOURNAL_UNAVAILABLE; the gateway then refuses orders instead of
 *   executing unjournaled ones.
 */
import * as fs from "node:fs";
import { dirname } from "node:path";
import type { Clock, TimerHandle } from "../../shared/clock.ts";
import { AgentError, describeError, FaultCode } from "../../shared/errors.ts";
import { type CommitFailure, type CommitSynced, GroupCommit } from "../../shared/group-commit.ts";
import { openStateFile, readPrivateBytes, syncDirectory } from "../../shared/keys/private-file.ts";
import type { Logger } from "../../shared/log.ts";
import {
  brokerOrderKey,
  type OrderRecord,
  type OrderState,
  type Reply,
  type SignedAction,
} from "../../shared/protocol/index.ts";
import {
  type Checkpoint,
  lossAgainstCheckpoint,
  readCheckpoint,
  writeCheckpoint,
} from "./journal-checkpoint.ts";
import {
  type AnyRecord,
  type EntryRecord,
  encodeRecord,
  type HeaderRecord,
  JOURNAL_FORMAT,
  type ParsedJournal,
  parseJournal,
} from "./journal-format.ts";

/** What the journal remembers about one client_order_id of one client. */
export interface JournalEntry {
  /** The client it belongs to; null for an entry from before the scoping (it answers for all). */
  readonly client: string | null;
  readonly clientOrderId: string;
  /** The id at the broker: the EA's dedup key, and what the comment tag is made from. */
  readonly brokerKey: string;
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

/** A tag the broker holds that no entry explained when it was found (a T record). */
export interface BrokerTag {
  readonly tag: string;
  /** When the broker made it (Unix ms). */
  readonly time: number;
  readonly evidence: string;
}

export interface NewIntent {
  readonly client: string;
  readonly clientOrderId: string;
  readonly action: SignedAction;
  readonly intentHash: string;
  readonly request: Readonly<Record<string, unknown>>;
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
  /** How often, at most, the checkpoint follows the journal while orders flow. */
  readonly checkpointIntervalMs?: number;
  /** Told each fdatasync's time and the bytes it made durable (the gateway's /metrics). */
  readonly onSync?: (seconds: number, bytes: number) => void;
  /** How long a written outcome may wait for a sync when no intent follows; default 100 ms. */
  readonly outcomeSyncMs?: number;
}

/** The few file operations the journal needs, so tests can make them fail. */
export interface JournalIo {
  openSync(path: string, flags: number, mode?: number): number;
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
const DEFAULT_CHECKPOINT_INTERVAL_MS = 1000;
/** A journal this large is refused unread (compaction keeps it far smaller). */
const MAX_JOURNAL_BYTES = 1024 * 1024 * 1024;
const APPEND_FLAGS = fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT;

/** How to fix a journal that refuses to open; every such message ends with it. */
export const REPAIR_HINT =
  'refusing to start, so no order can execute twice. Run `agent-gtw journal verify` for details; restore the journal from a backup, or rebuild it with `agent-gtw journal repair` (docs/DEPLOY.md "Repairing the journal")';

/** Map key of an entry: the client's name (or "" for a format-1 entry), NUL, the id. */
const entryKey = (client: string | null, clientOrderId: string) =>
  `${client ?? ""}\u0000${clientOrderId}`;

/** Outcomes the broker cannot tell again; they are synced before the reply. */
const SYNCED_OUTCOMES: ReadonlySet<OrderState> = new Set(["REJECTED"]);

/** Where a line sits in the chain: its sequence number and crc. */
interface ChainMark {
  readonly seq: number;
  readonly crc: string;
}

export class Journal {
  readonly path: string;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #io: JournalIo;
  readonly #compactAfter: number;
  readonly #retentionMs: number;
  readonly #checkpointIntervalMs: number;
  readonly #entries = new Map<string, JournalEntry>();
  readonly #tags = new Map<string, BrokerTag>();
  /** Writes, fdatasyncs and their batching; its size is the file's after the last good write. */
  readonly #commit: GroupCommit<ChainMark>;
  #fd: number;
  #records = 0;
  #compactScheduled = false;
  /** Sequence number and crc of the last line appended, and of the last line synced. */
  #seq = 0;
  #crc = "";
  #syncedSeq = 0;
  #syncedCrc = "";
  #checkpointTimer: TimerHandle | undefined;
  #failure: AgentError | undefined;
  #closed = false;

  private constructor(options: JournalOptions, fd: number, size: number) {
    this.path = options.path;
    this.#clock = options.clock;
    this.#logger = options.logger;
    this.#io = options.io ?? fs;
    this.#compactAfter = options.compactAfterRecords ?? DEFAULT_COMPACT_AFTER;
    this.#retentionMs = options.retentionMs ?? DEFAULT_RETENTION_MS;
    this.#checkpointIntervalMs = options.checkpointIntervalMs ?? DEFAULT_CHECKPOINT_INTERVAL_MS;
    this.#fd = fd;
    const onSync = options.onSync;
    this.#commit = new GroupCommit<ChainMark>({
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
      onSynced: (synced) => {
        this.#synced(synced);
        onSync?.(synced.seconds, synced.bytes);
      },
      ...(options.outcomeSyncMs === undefined ? {} : { lazySyncMs: options.outcomeSyncMs }),
    });
  }

  /**
   * Open (creating if needed) and replay the journal. Throws JOURNAL_CORRUPT naming the damage
   * and the repair when lines are missing, damaged, or the whole journal is gone.
   */
  static open(options: JournalOptions): Journal {
    const { path } = options;
    fs.mkdirSync(dirname(path), { recursive: true });
    const { parsed, exists } = readJournal(path);
    const problem =
      parsed.problems[0] ?? lossAgainstCheckpoint(parsed, readCheckpoint(path), exists);
    if (problem !== undefined)
      throw new AgentError(
        FaultCode.JOURNAL_CORRUPT,
        `journal: ${path}: ${problem.message}; ${REPAIR_HINT}`,
      );
    let fd: number;
    try {
      fd = (options.io ?? fs).openSync(path, APPEND_FLAGS | fs.constants.O_NOFOLLOW, 0o600);
    } catch (error) {
      throw new AgentError(
        FaultCode.JOURNAL_UNAVAILABLE,
        `journal: cannot open ${path} for appending: ${describeError(error)}`,
        { cause: error },
      );
    }
    const journal = new Journal(options, fd, parsed.goodSize);
    journal.#load(parsed);
    return journal;
  }

  /**
   * Write a new journal at `options.path` (which must not exist: move the damaged one aside
   * first) from the records salvaged out of a damaged one, continuing after sequence number
   * `afterSeq` so the new file can never be mistaken for an older copy (journal repair).
   */
  static rebuild(
    options: JournalOptions,
    records: readonly EntryRecord[],
    afterSeq: number,
  ): Journal {
    fs.mkdirSync(dirname(options.path), { recursive: true });
    const fd = (options.io ?? fs).openSync(
      options.path,
      APPEND_FLAGS | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW,
      0o600,
    );
    const journal = new Journal(options, fd, 0);
    for (const record of records) journal.#apply(record);
    journal.#seq = afterSeq;
    journal.#syncedSeq = afterSeq;
    journal.compact("repaired");
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

  /** Sequence number of the last record on disk. */
  get sequence(): number {
    return this.#syncedSeq;
  }

  /**
   * The entry of `client`'s `clientOrderId`; an entry from before the scoping (no client) with
   * that id answers for every client.
   */
  lookup(client: string, clientOrderId: string): JournalEntry | undefined {
    return (
      this.#entries.get(entryKey(client, clientOrderId)) ??
      this.#entries.get(entryKey(null, clientOrderId))
    );
  }

  /** Every entry (status, verify, the broker cross-check). */
  entries(): IterableIterator<JournalEntry> {
    return this.#entries.values();
  }

  /** What the broker holds under `tag` that no entry explained, if anything. */
  brokerTag(tag: string): BrokerTag | undefined {
    return this.#tags.get(tag);
  }

  get brokerTags(): number {
    return this.#tags.size;
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
  recordIntent(intent: NewIntent): Promise<JournalEntry> {
    if (this.#closed) return Promise.reject(this.#closedError());
    const { client, clientOrderId, action, intentHash, request } = intent;
    const now = this.#clock.now();
    const entry: JournalEntry = {
      client,
      clientOrderId,
      brokerKey: brokerOrderKey(client, clientOrderId),
      action,
      intentHash,
      receivedAt: now,
      request,
      state: "PENDING",
      reply: null,
      decidedAt: 0,
    };
    const key = entryKey(client, clientOrderId);
    const previous = this.#entries.get(key);
    this.#entries.set(key, entry);
    return this.#append(
      { k: "I", u: client, c: clientOrderId, a: action, h: intentHash, t: now, q: { ...request } },
      true,
    ).then(
      () => entry,
      (error: Error) => {
        // Not durable, so not accepted: forget it, so the client may retry the same id.
        if (this.#entries.get(key) === entry) {
          if (previous === undefined) this.#entries.delete(key);
          else this.#entries.set(key, previous);
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
    entry: JournalEntry,
    state: Exclude<OrderState, "PENDING">,
    reply: Reply | null,
  ): Promise<void> {
    const now = this.#clock.now();
    entry.state = state;
    entry.reply = reply;
    entry.decidedAt = now;
    if (this.#closed) return Promise.reject(this.#closedError());
    return this.#append(
      {
        k: "O",
        ...(entry.client === null ? {} : { u: entry.client }),
        c: entry.clientOrderId,
        s: state,
        t: now,
        r: reply,
      },
      SYNCED_OUTCOMES.has(state),
    );
  }

  /**
   * Remember tags the broker holds that no entry explains (the broker cross-check); resolves
   * once they are on disk. Tags already known are skipped.
   */
  recordBrokerTags(tags: readonly BrokerTag[]): Promise<void> {
    const fresh = tags.filter((tag) => !this.#tags.has(tag.tag));
    if (fresh.length === 0) return Promise.resolve();
    if (this.#closed) return Promise.reject(this.#closedError());
    for (const tag of fresh) this.#tags.set(tag.tag, tag);
    return Promise.all(
      fresh.map((tag) => this.#append({ k: "T", g: tag.tag, t: tag.time, e: tag.evidence }, true)),
    ).then(() => undefined);
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
   * Rewrite the file as a header and one snapshot line per entry (and broker tag) inside the
   * retention window, continuing the sequence: write a temporary file, sync it, rename it over
   * the journal, sync the directory, then the checkpoint.
   */
  compact(why: HeaderRecord["why"] = "compacted"): void {
    if (this.#closed) return;
    try {
      this.#commit.flushNow();
    } catch {
      return;
    }
    const horizon = this.#clock.now() - this.#retentionMs;
    for (const [key, entry] of this.#entries) {
      const unresolved = entry.state === "PENDING" || entry.state === "UNKNOWN";
      if (!unresolved && entry.receivedAt < horizon) this.#entries.delete(key);
    }
    for (const [tag, record] of this.#tags) if (record.time < horizon) this.#tags.delete(tag);
    const lines = this.#snapshot(why);
    const temporary = `${this.path}.compact`;
    const content = lines.join("");
    writeNewFile(temporary, content);
    // Windows refuses to rename over a file that is open: close it first, and on a failure
    // reopen the old one, which is still whole
    this.#io.closeSync(this.#fd);
    try {
      fs.renameSync(temporary, this.path);
    } finally {
      this.#fd = this.#io.openSync(this.path, APPEND_FLAGS | fs.constants.O_NOFOLLOW, 0o600);
    }
    syncDirectory(dirname(this.path));
    this.#records = lines.length - 1;
    this.#commit.reset(Buffer.byteLength(content));
    this.#syncedSeq = this.#seq;
    this.#syncedCrc = this.#crc;
    this.#writeCheckpoint(true);
    this.#logger.info("Journal compacted", {
      path: this.path,
      entries: this.#entries.size,
      sequence: this.#seq,
    });
  }

  /** Write and sync what is pending, record the checkpoint, close the file. Later writes are refused. */
  close(): void {
    if (this.#closed) return;
    try {
      this.#commit.flushNow();
    } catch {
      // Logged by #fail; the intents it refused were never executed
    }
    this.#commit.stop();
    this.#closed = true;
    this.#checkpointTimer?.cancel();
    if (this.#failure === undefined) {
      try {
        this.#writeCheckpoint(true);
      } catch (error) {
        this.#logger.warn("Journal checkpoint not written", { error: describeError(error) });
      }
    }
    try {
      this.#io.closeSync(this.#fd);
    } catch {
      // Nothing more to lose: every acknowledged record was synced.
    }
  }

  // ---------------------------------------------------------------------------------------------

  #load(parsed: ParsedJournal): void {
    for (const record of parsed.records) this.#apply(record);
    this.#records = parsed.records.length;
    if (parsed.tornLine !== undefined) {
      // Never acknowledged; cut it off so appends start on a clean line
      this.#logger.warn("Journal ends with a torn line (a write cut short); dropping it", {
        path: this.path,
        line: parsed.tornLine,
      });
      this.#io.ftruncateSync(this.#fd, parsed.goodSize);
    }
    if (parsed.format === 2) {
      this.#seq = this.#syncedSeq = parsed.lastSeq;
      this.#crc = this.#syncedCrc = parsed.lastCrc;
      if (this.#records > this.#compactAfter) this.compact();
      else this.#writeCheckpoint(true);
      return;
    }
    if (parsed.format === 1) {
      // The migration: keep the old file, rewrite it as format 2 (its entries stay unscoped)
      const kept = `${this.path}.format1-${this.#clock.now()}`;
      fs.copyFileSync(this.path, kept);
      this.#logger.warn("Journal migrated to format 2; the old file is kept beside it", {
        path: this.path,
        kept,
        entries: this.#entries.size,
      });
      this.compact("migrated");
      return;
    }
    this.compact("created");
  }

  #snapshot(why: HeaderRecord["why"]): string[] {
    const lines = [this.#chain({ k: "H", v: JOURNAL_FORMAT, t: this.#clock.now(), why })];
    for (const entry of this.#entries.values()) {
      lines.push(
        this.#chain({
          k: "S",
          ...(entry.client === null ? {} : { u: entry.client }),
          c: entry.clientOrderId,
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
    for (const tag of this.#tags.values())
      lines.push(this.#chain({ k: "T", g: tag.tag, t: tag.time, e: tag.evidence }));
    return lines;
  }

  /** Give a record the next sequence number and chain it after the last line. */
  #chain(record: Omit<HeaderRecord, "n" | "p"> | EntryRecord): string {
    this.#seq += 1;
    const encoded = encodeRecord({ ...record, n: this.#seq, p: this.#crc } as AnyRecord);
    this.#crc = encoded.crc;
    return encoded.text;
  }

  #append(record: EntryRecord, durable: boolean): Promise<void> {
    if (this.#failure !== undefined && !this.#recover()) return Promise.reject(this.#failure);
    const text = this.#chain(record);
    const mark = { seq: this.#seq, crc: this.#crc };
    const appended = durable
      ? this.#commit.appendDurable(text, mark)
      : this.#commit.appendWritten(text, mark);
    return appended.then(() => this.#counted());
  }

  /** A sync made lines durable: the checkpoint may name the last of them. */
  #synced({ mark }: CommitSynced<ChainMark>): void {
    if (mark !== undefined && mark.seq > this.#syncedSeq) {
      this.#syncedSeq = mark.seq;
      this.#syncedCrc = mark.crc;
    }
    this.#scheduleCheckpoint();
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
          error: describeError(error),
        });
      }
    });
  }

  #scheduleCheckpoint(): void {
    if (this.#checkpointTimer !== undefined || this.#closed) return;
    this.#checkpointTimer = this.#clock.setTimeout(() => {
      this.#checkpointTimer = undefined;
      if (this.#closed) return;
      try {
        this.#writeCheckpoint(false);
      } catch (error) {
        this.#logger.warn("Journal checkpoint not written", { error: describeError(error) });
      }
    }, this.#checkpointIntervalMs);
  }

  #writeCheckpoint(durable: boolean): void {
    const checkpoint: Checkpoint = {
      v: 1,
      n: this.#syncedSeq,
      crc: this.#syncedCrc,
      t: this.#clock.now(),
    };
    writeCheckpoint(this.path, checkpoint, durable);
  }

  /** A write or sync failed: cut the file back to before the failed batch, refuse orders. */
  #fail({ error, sizeBefore, markBefore }: CommitFailure<ChainMark>): AgentError {
    this.#failure = new AgentError(
      FaultCode.JOURNAL_UNAVAILABLE,
      `journal: cannot write ${this.path}: ${error.message}`,
      { cause: error },
    );
    this.#logger.error("Journal write failed; refusing orders until it recovers", {
      path: this.path,
      error: error.message,
    });
    // The chain goes back to the last line left in the file: the lost batch was never acknowledged
    this.#seq = markBefore?.seq ?? this.#syncedSeq;
    this.#crc = markBefore?.crc ?? this.#syncedCrc;
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

  #apply(record: EntryRecord): void {
    if (record.k === "T") {
      this.#tags.set(record.g, { tag: record.g, time: record.t, evidence: record.e });
      return;
    }
    const client = record.u ?? null;
    const key = entryKey(client, record.c);
    if (record.k === "O") {
      const entry = this.#entries.get(key);
      if (entry === undefined) return;
      entry.state = record.s;
      entry.reply = record.r;
      entry.decidedAt = record.t;
      return;
    }
    this.#entries.set(key, {
      client,
      clientOrderId: record.c,
      brokerKey: brokerOrderKey(client, record.c),
      action: record.a,
      intentHash: record.h,
      receivedAt: record.t,
      request: record.q,
      state: record.k === "S" ? record.s : "PENDING",
      reply: record.k === "S" ? record.r : null,
      decidedAt: record.k === "S" ? record.d : 0,
    });
  }

  #closedError(): AgentError {
    return new AgentError(FaultCode.JOURNAL_UNAVAILABLE, "journal: closed (gateway shutting down)");
  }
}

/** Orders and unresolved ones in a parsed journal, without opening it (backup, verify). */
export function journalSummary(parsed: ParsedJournal): { orders: number; unresolved: number } {
  const states = new Map<string, OrderState>();
  for (const record of parsed.records) {
    if (record.k === "T") continue;
    const key = entryKey(record.u ?? null, record.c);
    if (record.k === "I") states.set(key, "PENDING");
    else if (record.k === "S" || states.has(key)) states.set(key, record.s);
  }
  let unresolved = 0;
  for (const state of states.values())
    if (state === "PENDING" || state === "UNKNOWN") unresolved += 1;
  return { orders: states.size, unresolved };
}

/** The journal file parsed, without changing anything (open, verify, repair). */
export function readJournal(path: string): { parsed: ParsedJournal; exists: boolean } {
  let content: Buffer;
  try {
    content = readPrivateBytes(path, {
      what: "journal",
      maxBytes: MAX_JOURNAL_BYTES,
      noFollow: true,
      code: FaultCode.JOURNAL_UNAVAILABLE,
    });
  } catch (error) {
    if (((error as Error).cause as NodeJS.ErrnoException | undefined)?.code !== "ENOENT")
      throw error;
    return { parsed: parseJournal(new Uint8Array(0)), exists: false };
  }
  return { parsed: parseJournal(content), exists: true };
}

/** Create `path` afresh (no link followed), write, sync. */
function writeNewFile(path: string, content: string): void {
  try {
    fs.unlinkSync(path);
  } catch {
    // None left from an earlier attempt
  }
  const fd = openStateFile(
    path,
    fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL,
    "journal",
  );
  try {
    fs.writeSync(fd, content);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
