/**
 * The journal's file format (docs/RELIABILITY.md §5, docs/DEPLOY.md "The journal"): one record per
 * line, `<crc32 hex> <json>\n`. Format 2 makes loss visible:
 *
 * - The first line is a header `{"k":"H","v":2,"n":N,...}`; every later record carries the next
 *   sequence number `n` and `p`, the crc32 of the line before it (a chain). A missing line is a
 *   gap in `n`, a line from another journal breaks the chain, a lost beginning is a file that does
 *   not start with a header.
 * - A last line without its "\n" is a write a crash cut short: it was never acknowledged (the
 *   journal answers only after the whole batch is synced), so it is dropped. Anything unreadable
 *   before that is damage, and the journal refuses to open.
 * - Records: I (intent), O (outcome), S (snapshot of one entry, written by compaction), T (a tag
 *   the broker holds that no entry explained, restored at start so that id cannot execute again).
 *   `u` is the client the entry belongs to; entries without one come from format 1 and answer for
 *   every client (the migration rule).
 *
 * Format 1 (no header, no `n`/`p`, no `u`) is still read; the journal rewrites it as format 2 on
 * its first start. Pure: parsing and encoding only, no file I/O.
 */
import type { OrderState, Reply, SignedAction } from "../../shared/protocol/index.ts";

export const JOURNAL_FORMAT = 2;

/** A journal line is a request plus a reply; anything far larger is corruption. */
const MAX_LINE_BYTES = 256 * 1024;

interface Chained {
  /** Sequence number, +1 per line, never reset (compaction continues it). */
  n: number;
  /** crc32 of the previous line's JSON. */
  p: string;
}

export type HeaderRecord = Chained & {
  k: "H";
  v: number;
  t: number;
  /** Why this file began: a new journal, a compaction, a migration from format 1, a repair. */
  why: "created" | "compacted" | "migrated" | "repaired";
};

interface Scoped {
  /** The client (CURVE client name) the entry belongs to; absent: a format-1 entry. */
  u?: string;
  c: string;
}

export type IntentRecord = Scoped & {
  k: "I";
  a: SignedAction;
  h: string;
  t: number;
  q: Record<string, unknown>;
};
export type OutcomeRecord = Scoped & { k: "O"; s: OrderState; t: number; r: Reply | null };
export type SnapshotRecord = Scoped & {
  k: "S";
  a: SignedAction;
  h: string;
  t: number;
  q: Record<string, unknown>;
  s: OrderState;
  d: number;
  r: Reply | null;
};
/** A comment tag the broker holds that no journal entry explained (broker cross-check). */
export type TagRecord = {
  k: "T";
  /** The tag, `B` + 10 base32 characters. */
  g: string;
  /** When the broker made the deal, position or order (Unix ms). */
  t: number;
  /** What was found, for people: "deal 7001 (position 5001)". */
  e: string;
};

export type EntryRecord = IntentRecord | OutcomeRecord | SnapshotRecord | TagRecord;
export type AnyRecord = HeaderRecord | EntryRecord | (EntryRecord & Chained);

export interface JournalProblem {
  /** 1-based line number. */
  readonly line: number;
  readonly kind: "corrupt" | "gap" | "chain" | "header" | "format" | "lost";
  readonly message: string;
}

export interface ParsedJournal {
  readonly format: 1 | 2 | "empty";
  /** Entry records in file order (headers left out). */
  readonly records: EntryRecord[];
  /** Sequence number and crc of the last good line (format 2), for appends and the checkpoint. */
  readonly lastSeq: number;
  readonly lastCrc: string;
  /** crc of each line by sequence number (format 2), to match a checkpoint. */
  readonly crcAt: (seq: number) => string | undefined;
  readonly header: HeaderRecord | undefined;
  /** Bytes up to the end of the last complete line (a torn tail starts here). */
  readonly goodSize: number;
  /** Line number of a torn last line that was left out. */
  readonly tornLine: number | undefined;
  /** Damage before the end; empty for a sound journal. */
  readonly problems: readonly JournalProblem[];
}

/** Encode one record (a format-2 record carries its own `n` and `p`). */
export function encodeRecord(record: AnyRecord): { readonly text: string; readonly crc: string } {
  const json = JSON.stringify(record);
  const crc = crc32(json);
  return { text: `${crc} ${json}\n`, crc };
}

/**
 * Parse a whole journal file. Problems are collected (verify lists them all); the journal's
 * open() refuses on the first.
 */
export function parseJournal(content: Uint8Array): ParsedJournal {
  const buffer = Buffer.from(content.buffer, content.byteOffset, content.byteLength);
  const records: EntryRecord[] = [];
  const problems: JournalProblem[] = [];
  const crcs = new Map<number, string>();
  let header: HeaderRecord | undefined;
  let format: 1 | 2 | "empty" = "empty";
  let lastSeq = 0;
  let lastCrc = "";
  let goodSize = 0;
  let tornLine: number | undefined;
  let start = 0;
  let lineNumber = 0;
  while (start < buffer.length) {
    lineNumber += 1;
    const newline = buffer.indexOf(0x0a, start);
    if (newline < 0) {
      // Never acknowledged: a batch is answered only once all of it, newline included, is synced
      tornLine = lineNumber;
      break;
    }
    const decoded = decodeLine(buffer.subarray(start, newline).toString("utf8"));
    start = newline + 1;
    if (decoded === undefined) {
      problems.push({
        line: lineNumber,
        kind: "corrupt",
        message: `line ${lineNumber} is corrupt (bad checksum or JSON)`,
      });
      goodSize = start;
      continue;
    }
    goodSize = start;
    const { record, crc } = decoded;
    const chained = typeof (record as Partial<Chained>).n === "number";
    if (lineNumber === 1) {
      format = chained ? 2 : 1;
      if (chained && record.k !== "H") {
        problems.push({
          line: 1,
          kind: "header",
          message: `line 1 is record ${(record as Chained).n}, not the journal header: the beginning of the file is missing`,
        });
      }
    } else if ((format === 2) !== chained) {
      problems.push({
        line: lineNumber,
        kind: "format",
        message: `line ${lineNumber} is in format ${chained ? 2 : 1} inside a format ${format} journal`,
      });
      continue;
    }
    if (format === 2) {
      const { n, p } = record as Chained;
      if (lineNumber > 1 && n !== lastSeq + 1) {
        problems.push({
          line: lineNumber,
          kind: "gap",
          message:
            n > lastSeq + 1
              ? `line ${lineNumber} is record ${n} but record ${lastSeq} came before it: ${n - lastSeq - 1} record(s) are missing`
              : `line ${lineNumber} is record ${n} after record ${lastSeq}: records are repeated or out of order`,
        });
      } else if (lineNumber > 1 && p !== lastCrc) {
        problems.push({
          line: lineNumber,
          kind: "chain",
          message: `line ${lineNumber} (record ${n}) does not follow the line before it: lines were replaced or spliced in from another journal`,
        });
      }
      lastSeq = n;
      lastCrc = crc;
      crcs.set(n, crc);
    }
    if (record.k === "H") {
      if (lineNumber !== 1)
        problems.push({
          line: lineNumber,
          kind: "header",
          message: `line ${lineNumber} is a journal header in the middle of the file`,
        });
      else header = record;
      continue;
    }
    records.push(record as EntryRecord);
  }
  return {
    format,
    records,
    lastSeq,
    lastCrc,
    crcAt: (seq) => crcs.get(seq),
    header,
    goodSize,
    tornLine,
    problems,
  };
}

function decodeLine(raw: string): { record: AnyRecord; crc: string } | undefined {
  if (raw.length > MAX_LINE_BYTES) return undefined;
  if (raw.indexOf(" ") !== 8) return undefined;
  const json = raw.slice(9);
  const crc = raw.slice(0, 8);
  if (crc !== crc32(json)) return undefined;
  try {
    const record = JSON.parse(json) as AnyRecord;
    if (typeof record !== "object" || record === null) return undefined;
    if (record.k === "H") return typeof record.n === "number" ? { record, crc } : undefined;
    if (record.k === "T") return typeof record.g === "string" ? { record, crc } : undefined;
    return typeof (record as Scoped).c === "string" ? { record, crc } : undefined;
  } catch {
    return undefined;
  }
}

export function crc32(text: string): string {
  return Bun.hash.crc32(text).toString(16).padStart(8, "0");
}
