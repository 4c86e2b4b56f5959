/**
 * The journal's checkpoint: a small file beside it (`<journal>.checkpoint`) holding the sequence
 * number and crc of the last record known to be on disk. It is what shows that a journal existed
 * and how far it went, so a journal that was deleted, emptied, cut short or swapped for an older
 * copy is refused instead of being started empty (issue 12 §5).
 *
 * Written after the journal is synced, never before, so it can lag the journal but never lead it:
 * at open, compaction and close (durably), and at most once a second while orders flow (without
 * fsync: after a power cut it may be a second behind, and the broker cross-check at start covers
 * that second).
 */
import { AgentError, FaultCode } from "../../shared/errors.ts";
import { readStateText, writeStateFile } from "../../shared/keys/private-file.ts";
import type { JournalProblem, ParsedJournal } from "./journal-format.ts";

export interface Checkpoint {
  readonly v: 1;
  /** Sequence number of the last record on disk. */
  readonly n: number;
  /** Its crc32. */
  readonly crc: string;
  /** Unix ms of the write. */
  readonly t: number;
}

export const checkpointPath = (journalPath: string): string => `${journalPath}.checkpoint`;

const MAX_CHECKPOINT_BYTES = 4096;

/** The checkpoint, or undefined when there is none. Throws JOURNAL_CORRUPT when unreadable. */
export function readCheckpoint(journalPath: string): Checkpoint | undefined {
  const path = checkpointPath(journalPath);
  const text = readStateText(path, "journal checkpoint", MAX_CHECKPOINT_BYTES);
  if (text === undefined) return undefined;
  try {
    const value = JSON.parse(text) as Partial<Checkpoint>;
    if (value.v === 1 && Number.isSafeInteger(value.n) && typeof value.crc === "string")
      return value as Checkpoint;
  } catch {
    // Reported below
  }
  throw new AgentError(
    FaultCode.JOURNAL_CORRUPT,
    `journal: checkpoint ${path} is unreadable; run \`agent-gtw journal verify\` and see docs/DEPLOY.md "Repairing the journal"`,
  );
}

export function writeCheckpoint(
  journalPath: string,
  checkpoint: Checkpoint,
  durable: boolean,
): void {
  writeStateFile(checkpointPath(journalPath), `${JSON.stringify(checkpoint)}\n`, {
    durable,
    what: "journal checkpoint",
  });
}

/** What the checkpoint says the parsed journal has lost, if anything. */
export function lossAgainstCheckpoint(
  parsed: ParsedJournal,
  checkpoint: Checkpoint | undefined,
  exists: boolean,
): JournalProblem | undefined {
  if (checkpoint === undefined || checkpoint.n === 0) return undefined;
  const when = new Date(checkpoint.t).toISOString();
  const lost = (message: string): JournalProblem => ({ line: 0, kind: "lost", message });
  if (parsed.format === "empty")
    return lost(
      `the journal is ${exists ? "empty" : "missing"}, but its checkpoint says ${checkpoint.n} records were written (the last at ${when}): it was deleted, emptied or replaced`,
    );
  if (parsed.format === 1)
    return lost(
      "the journal is in format 1 but has a format-2 checkpoint: an older journal was put in its place",
    );
  if (parsed.lastSeq < checkpoint.n)
    return lost(
      `the journal ends at record ${parsed.lastSeq}, but its checkpoint says records up to ${checkpoint.n} were written (the last at ${when}): the end of the journal is missing (cut, or restored from an older copy)`,
    );
  const crc = parsed.crcAt(checkpoint.n);
  if (crc !== undefined && crc !== checkpoint.crc)
    return lost(
      `record ${checkpoint.n} is not the one the checkpoint recorded: this is another journal than the one the gateway wrote`,
    );
  return undefined;
}
