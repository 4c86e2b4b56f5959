/**
 * `agent-gtw journal backup`: a consistent copy of the order journal, taken while the gateway
 * runs (docs/DEPLOY.md, Backup). The journal is append-only: whole lines, each batch written and
 * fdatasync'ed before any order it holds is answered, and compaction replaces the file by a
 * rename. So a copy read from one open descriptor and cut after its last complete line is a
 * journal as it stood at some instant: every order acknowledged before the copy began is in it
 * (a line still being written at that instant may be in it too, as after a crash). The copy is
 * replayed before it is kept, so a backup that exists is one the gateway can start from.
 */
import {
  closeSync,
  existsSync,
  fstatSync,
  fsyncSync,
  openSync,
  readSync,
  renameSync,
  rmSync,
  writeSync,
} from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { ExitCode, locateConfig, parseCommandLine, UsageError } from "../../shared/cli.ts";
import { systemClock } from "../../shared/clock.ts";
import { AgentError, describeError, FaultCode } from "../../shared/errors.ts";
import { loadGatewayConfig } from "../config.ts";
import { journalSummary } from "../orders/journal.ts";
import { writeCheckpoint } from "../orders/journal-checkpoint.ts";
import { parseJournal } from "../orders/journal-format.ts";

const CONFIG_ENV = "AGENT_GTW_CONFIG";
const CONFIG_FILE = "agent-gtw.yaml";

export interface JournalCopy {
  readonly path: string;
  readonly bytes: number;
  readonly orders: number;
  readonly unresolved: number;
}

/** `agent-gtw journal backup ...` (the `journal` command's `backup` action). */
export function runJournalBackup(args: readonly string[]): number {
  const { values, positionals } = parseCommandLine(args, {
    config: { type: "string", short: "c" },
    out: { type: "string", short: "o" },
  });
  if (positionals.length > 0)
    throw new UsageError(`journal backup takes no arguments, was given ${positionals.join(" ")}`);
  const config = loadGatewayConfig(locateConfig(values.config, CONFIG_ENV, CONFIG_FILE));
  const source = config.journal.path;
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  const target = resolve(values.out ?? `${source}.backup-${stamp}`);
  const copy = copyJournal(source, target);
  process.stdout.write(
    `journal ${source} backed up to ${copy.path}: ${copy.orders} orders (${copy.unresolved} unresolved), ${copy.bytes} bytes\n`,
  );
  return ExitCode.OK;
}

/** Copy the journal at `source` to `target` (which must not exist), checked by a replay. */
export function copyJournal(source: string, target: string): JournalCopy {
  if (existsSync(target))
    throw new UsageError(
      `journal backup: ${target} exists; choose another --out (a backup is never overwritten)`,
    );
  const content = readWholeLines(source);
  // Written under a temporary name and renamed: a half-written backup never carries the name
  const temporary = join(dirname(target), `.${basename(target)}.partial`);
  const fd = openSync(temporary, "wx", 0o600);
  try {
    let offset = 0;
    while (offset < content.length) offset += writeSync(fd, content, offset);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  // Checked without opening it as a journal (that would write beside it): every line must read,
  // in sequence, as the gateway will read it when the backup is restored
  const parsed = parseJournal(content);
  const problem = parsed.problems[0];
  if (problem !== undefined) {
    rmSync(temporary, { force: true });
    throw new AgentError(
      FaultCode.JOURNAL_CORRUPT,
      `journal backup: the copy of ${source} does not replay (line ${problem.line}: ${problem.message}); nothing was kept`,
    );
  }
  const copy = journalSummary(parsed);
  renameSync(temporary, target);
  // Its own checkpoint, so the backup and its checkpoint can be restored together
  if (parsed.format === 2)
    writeCheckpoint(
      target,
      { v: 1, n: parsed.lastSeq, crc: parsed.lastCrc, t: systemClock.now() },
      true,
    );
  return { path: target, bytes: content.length, ...copy };
}

/** The file's bytes up to its last complete line, read from one descriptor. */
function readWholeLines(path: string): Buffer {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (error) {
    throw new AgentError(
      FaultCode.JOURNAL_UNAVAILABLE,
      `journal backup: cannot read ${path}: ${describeError(error)}`,
      { cause: error },
    );
  }
  try {
    const size = fstatSync(fd).size;
    const buffer = Buffer.alloc(size);
    let read = 0;
    while (read < size) {
      const got = readSync(fd, buffer, read, size - read, read);
      if (got === 0) break;
      read += got;
    }
    const end = buffer.lastIndexOf(0x0a, read - 1) + 1;
    return buffer.subarray(0, end);
  } finally {
    closeSync(fd);
  }
}
