/**
 * Durable state of the simulated broker. A real broker's books outlive the gateway, so every
 * record is written and fdatasync'ed before the trade that produced it is reported. Records share
 * fdatasyncs (group commit, shared/group-commit.ts): those appended while a sync is in flight go
 * together in the next, so concurrent trades do not queue behind each other's syncs.
 *
 * Three files in the state directory:
 * - `sim-wal.jsonl`: the write-ahead log, one record per line with a consecutive `seq`.
 * - `sim-state.json`: snapshot of balance, counters, positions and feed as of record `seq`, and
 *   how many deals of the history it covers.
 * - `sim-deals.jsonl`: the deal history up to the snapshot, append-only, so compaction costs what
 *   was traded since the last one, not the whole history.
 *
 * Compaction: append the new deals to the history (sync), write the snapshot (tmp, fsync,
 * rename, fsync dir), truncate the log. A crash between any two steps loses nothing: history
 * lines beyond the snapshot's count are cut at start-up, log records at or below its seq skipped.
 *
 * Recovery: a torn last line (never acknowledged) is dropped with a warning; anything else
 * unreadable stops start-up with an error naming the file, never a silent reset.
 */
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Clock } from "../../../shared/clock.ts";
import { type AgentError, describeError } from "../../../shared/errors.ts";
import { GroupCommit } from "../../../shared/group-commit.ts";
import { readStateText } from "../../../shared/keys/private-file.ts";
import type { Logger } from "../../../shared/log.ts";
import type { Deal, MarginMode } from "../../../shared/protocol/index.ts";
import {
  type BookRecord,
  type BookSnapshot,
  isBookRecord,
  isBookSnapshot,
  isDeal,
} from "./book.ts";
import { corrupt, JsonlFile, readJsonl, unavailable, writeFileDurably } from "./jsonl-file.ts";
import type { FeedState } from "./quotes.ts";

export const SNAPSHOT_FILE = "sim-state.json";
export const LOG_FILE = "sim-wal.jsonl";
export const HISTORY_FILE = "sim-deals.jsonl";
const SNAPSHOT_FORMAT = "mt5-sim-state";
const SNAPSHOT_VERSION = 1;
/** A snapshot holds the open book and feed state; far larger is not one the sim wrote. */
const MAX_SNAPSHOT_BYTES = 256 * 1024 * 1024;

/** The account a state directory belongs to; a mismatch with the options is refused. */
export interface StoredAccount {
  readonly login: number;
  readonly currency: string;
  readonly margin_mode: MarginMode;
}

export interface SnapshotFile {
  readonly format: typeof SNAPSHOT_FORMAT;
  readonly version: typeof SNAPSHOT_VERSION;
  readonly seq: number;
  readonly account: StoredAccount;
  readonly book: BookSnapshot;
  /** Number of deals in the history file this snapshot covers. */
  readonly deals: number;
  readonly feed: FeedState;
}

export interface LoggedRecord {
  readonly record: BookRecord;
  readonly feed: FeedState;
}

export interface LoadedState {
  readonly snapshot: SnapshotFile;
  /** The deal history the snapshot covers; records add the rest. */
  readonly deals: readonly Deal[];
  /** Records after the snapshot, in order. */
  readonly records: readonly LoggedRecord[];
}

export interface StoreStats {
  readonly recordsInLog: number;
  readonly syncs: number;
  readonly compactions: number;
}

/** What compaction persists; read only when every appended record is durable. */
export interface StoreSource {
  readonly book: BookSnapshot;
  readonly deals: readonly Deal[];
  readonly feed: FeedState;
}

export interface StoreOptions {
  readonly dir: string;
  readonly account: StoredAccount;
  readonly logger: Logger;
  /** Compact once the log holds this many records. */
  readonly compactEvery: number;
  readonly source: () => StoreSource;
  readonly clock: Clock;
}

export class SimStore {
  readonly #options: StoreOptions;
  readonly #snapshotPath: string;
  readonly #log: JsonlFile;
  readonly #history: JsonlFile;
  #seq = 0;
  #recordsInLog = 0;
  #dealsInHistory = 0;
  /** Good lengths found at load; open() cuts each file to them. */
  #logLength: number | undefined;
  #historyLength: number | undefined;
  #commit: GroupCommit | undefined;
  #compactScheduled = false;
  #failure: AgentError | undefined;
  #syncs = 0;
  #compactions = 0;

  constructor(options: StoreOptions) {
    this.#options = options;
    this.#snapshotPath = join(options.dir, SNAPSHOT_FILE);
    this.#log = new JsonlFile(join(options.dir, LOG_FILE));
    this.#history = new JsonlFile(join(options.dir, HISTORY_FILE));
  }

  /** Read snapshot, history and log; undefined when the directory holds no state yet. */
  load(): LoadedState | undefined {
    const hasSnapshot = existsSync(this.#snapshotPath);
    if (!hasSnapshot && !existsSync(this.#log.path) && !existsSync(this.#history.path)) {
      return undefined;
    }
    if (!hasSnapshot) {
      throw corrupt(
        `sim: state files exist in ${this.#options.dir} but ${this.#snapshotPath} is missing; ` +
          "refusing to start from an empty account",
      );
    }
    const snapshot = this.#readSnapshot();
    const deals = this.#readHistory(snapshot.deals);
    const records = this.#readLog(snapshot.seq);
    this.#seq = snapshot.seq + records.length;
    this.#dealsInHistory = snapshot.deals;
    return { snapshot, deals, records };
  }

  /** Write the first snapshot of a fresh state directory. */
  initialize(book: BookSnapshot, feed: FeedState): void {
    mkdirSync(this.#options.dir, { recursive: true });
    this.#writeSnapshot(0, book, 0, feed);
    this.#seq = 0;
    this.#logLength = 0;
    this.#historyLength = 0;
  }

  /** Open both files for writing (after load or initialize). */
  open(): void {
    this.#log.open(this.#logLength);
    this.#history.open(this.#historyLength);
    this.#commit = new GroupCommit({
      target: this.#log.commitTarget(),
      clock: this.#options.clock,
      size: this.#log.size,
      onFailure: ({ error }) => {
        // Memory now holds trades the disk may not: refuse everything after, loudly
        this.#failure = unavailable(`sim: could not write ${this.#log.path}`, error);
        this.#options.logger.error("State log write failed", { error: describeError(error) });
        return this.#failure;
      },
      onSynced: ({ lines }) => {
        this.#syncs += 1;
        this.#recordsInLog += lines;
        if (this.#recordsInLog >= this.#options.compactEvery) this.#scheduleCompaction();
      },
    });
  }

  /** Queue a record; resolves once it (and every record before it) is on disk. */
  append(record: BookRecord, feed: FeedState): Promise<void> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    const commit = this.#commit;
    if (commit === undefined) return Promise.reject(unavailable("sim: state store is not open"));
    this.#seq += 1;
    return commit.appendDurable(
      `${JSON.stringify({ seq: this.#seq, ...record, feed })}\n`,
      undefined,
    );
  }

  /** Resolves when everything appended so far is durable. */
  async drain(): Promise<void> {
    await this.#commit?.drain().catch(() => undefined);
  }

  /** Flush, then close the files; idempotent. */
  async close(): Promise<void> {
    try {
      await this.drain();
    } finally {
      this.#commit?.stop();
      this.#log.close();
      this.#history.close();
    }
  }

  /** Counters for tests and the benchmark. */
  stats(): StoreStats {
    return {
      recordsInLog: this.#recordsInLog,
      syncs: this.#syncs,
      compactions: this.#compactions,
    };
  }

  /**
   * Compaction reads the books from memory, which may already hold records still queued for the
   * log: write and sync those first (blocking, once per compactEvery records), then compact.
   */
  #scheduleCompaction(): void {
    if (this.#compactScheduled) return;
    this.#compactScheduled = true;
    queueMicrotask(() => {
      this.#compactScheduled = false;
      if (this.#failure !== undefined || this.#recordsInLog < this.#options.compactEvery) return;
      try {
        this.#commit?.flushNow();
      } catch {
        return;
      }
      this.#compact();
    });
  }

  #compact(): void {
    try {
      const { book, deals, feed } = this.#options.source();
      const fresh = deals.slice(this.#dealsInHistory).map((deal) => JSON.stringify(deal));
      this.#history.append(fresh);
      this.#writeSnapshot(this.#seq, book, deals.length, feed);
      this.#dealsInHistory = deals.length;
      this.#log.truncate(0);
      this.#commit?.reset(0);
      this.#recordsInLog = 0;
      this.#compactions += 1;
      this.#options.logger.debug("State compacted", { seq: this.#seq, deals: deals.length });
    } catch (error) {
      // The log still holds everything, so trading can go on; compaction is retried next flush
      this.#options.logger.error("State compaction failed", { error: describeError(error) });
    }
  }

  #writeSnapshot(seq: number, book: BookSnapshot, deals: number, feed: FeedState): void {
    const snapshot: SnapshotFile = {
      format: SNAPSHOT_FORMAT,
      version: SNAPSHOT_VERSION,
      seq,
      account: this.#options.account,
      book,
      deals,
      feed,
    };
    writeFileDurably(this.#snapshotPath, JSON.stringify(snapshot));
  }

  #readSnapshot(): SnapshotFile {
    const path = this.#snapshotPath;
    let parsed: unknown;
    try {
      parsed = JSON.parse(
        readStateText(path, "sim state snapshot", MAX_SNAPSHOT_BYTES) ?? "missing",
      );
    } catch (error) {
      throw corrupt(`sim: state snapshot ${path} is corrupt (${describeError(error)})`, error);
    }
    if (!isSnapshotFile(parsed)) {
      throw corrupt(`sim: state snapshot ${path} is corrupt (not a ${SNAPSHOT_FORMAT} v1 file)`);
    }
    return parsed;
  }

  /** The first `count` deals; lines after them are from a compaction that did not finish. */
  #readHistory(count: number): Deal[] {
    const path = this.#history.path;
    const lines = existsSync(path) ? readJsonl(path, "deal history").lines : [];
    if (lines.length < count) {
      throw corrupt(
        `sim: deal history ${path} holds ${lines.length} deals but the snapshot counts ${count}`,
      );
    }
    const deals: Deal[] = [];
    for (const line of lines.slice(0, count)) {
      if (!isDeal(line.value)) {
        throw corrupt(`sim: deal history ${path} line ${line.lineNumber} is not a valid deal`);
      }
      deals.push(line.value);
    }
    this.#historyLength = count === 0 ? 0 : lines[count - 1]!.end;
    return deals;
  }

  #readLog(snapshotSeq: number): LoggedRecord[] {
    const path = this.#log.path;
    if (!existsSync(path)) {
      this.#logLength = 0;
      return [];
    }
    const content = readJsonl(path, "state log");
    if (content.tornLine !== undefined) {
      this.#options.logger.warn("Torn last record in state log skipped", {
        file: path,
        line: content.tornLine,
      });
    }
    const records: LoggedRecord[] = [];
    let expected: number | undefined;
    for (const line of content.lines) {
      const value = line.value;
      const seq = isObject(value) ? value["seq"] : undefined;
      const feed = isObject(value) ? value["feed"] : undefined;
      if (!Number.isSafeInteger(seq) || !isBookRecord(value) || !isFeedState(feed)) {
        throw corrupt(`sim: state log ${path} line ${line.lineNumber} is not a valid record`);
      }
      const number = seq as number;
      if (expected !== undefined && number !== expected) {
        throw corrupt(
          `sim: state log ${path} line ${line.lineNumber} has seq ${number}, expected ${expected}`,
        );
      }
      if (expected === undefined && number > snapshotSeq + 1) {
        throw corrupt(
          `sim: state log ${path} starts at seq ${number} but the snapshot ends at ` +
            `${snapshotSeq}; records are missing`,
        );
      }
      expected = number + 1;
      this.#recordsInLog += 1;
      if (number > snapshotSeq) records.push({ record: value, feed });
    }
    this.#logLength = content.lines.at(-1)?.end ?? 0;
    return records;
  }
}

type Shape = Record<string, unknown>;

function isObject(value: unknown): value is Shape {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isFeedState(value: unknown): value is FeedState {
  if (!isObject(value) || typeof value["rng"] !== "number" || !isObject(value["symbols"])) {
    return false;
  }
  return Object.values(value["symbols"]).every(
    (entry) =>
      Array.isArray(entry) &&
      entry.length === 4 &&
      entry.every((item) => typeof item === "number" && Number.isFinite(item)),
  );
}

function isSnapshotFile(value: unknown): value is SnapshotFile {
  if (!isObject(value)) return false;
  const account = value["account"];
  return (
    value["format"] === SNAPSHOT_FORMAT &&
    value["version"] === SNAPSHOT_VERSION &&
    Number.isSafeInteger(value["seq"]) &&
    Number.isSafeInteger(value["deals"]) &&
    isObject(account) &&
    typeof account["login"] === "number" &&
    typeof account["currency"] === "string" &&
    (account["margin_mode"] === "HEDGING" || account["margin_mode"] === "NETTING") &&
    isBookSnapshot(value["book"]) &&
    isFeedState(value["feed"])
  );
}
