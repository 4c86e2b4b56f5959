/**
 * One process per state folder. Two gateways on one journal would both fill the same
 * client_order_id (each checks only its own memory) and interleave their writes to the simulated
 * broker's log; the lock makes the second one refuse to start, naming the holder.
 *
 * Bun offers no flock or share-mode lock (it ignores libuv's UV_FS_O_EXLOCK on Windows, and FFI
 * would break the Windows build under Wine), so the lock is a file created exclusively
 * (O_CREAT|O_EXCL works on every file system and on Windows) holding who made it: pid, host,
 * program, a random nonce, and on Linux the process start time from /proc, which tells a live
 * holder from a reused pid. A lock whose holder is gone is stale and taken over (renamed aside,
 * then created again exclusively, so two processes breaking it at once cannot both win). The
 * holder touches the file every few seconds and checks it is still its own: if the file was
 * deleted or replaced under it, `check()` says so and the agent stops.
 *
 * A lock made on another host (a state folder on a network share) is never judged stale: the pid
 * means nothing here. The error says how to remove it by hand.
 */
import {
  closeSync,
  constants,
  futimesSync,
  mkdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { AgentError, describeError, FaultCode } from "../errors.ts";
import { openStateFile, readStateText } from "../keys/private-file.ts";

/** What the lock file says about its holder. */
export interface LockHolder {
  readonly pid: number;
  readonly host: string;
  readonly program: string;
  /** Unix ms when the holder took the lock. */
  readonly since: number;
  /** Linux: the process start time in clock ticks since boot (/proc/<pid>/stat field 22). */
  readonly procStart?: string;
  readonly nonce: string;
}

export interface StateLock {
  readonly path: string;
  readonly holder: LockHolder;
  /** Still ours? Touches the file (its mtime shows the holder is alive) and re-reads it. */
  check(): boolean;
  /** Remove the lock (clean stop). Idempotent. */
  release(): void;
}

export interface AcquireOptions {
  /** "agent-gtw": named in the file and in messages. */
  readonly program: string;
  /** Seam for tests: is this pid alive, and with which start time. */
  readonly probe?: ProcessProbe;
  readonly now?: () => number;
}

export interface ProcessProbe {
  /** true: alive; false: gone; undefined: cannot tell (treated as alive). */
  alive(pid: number): boolean | undefined;
  /** Linux start time of `pid`, undefined where unknown. */
  startTime(pid: number): string | undefined;
}

export const LOCK_FILE_SUFFIX = ".lock";
const MAX_LOCK_BYTES = 4096;
/** A lock file still empty this long after it was made is a crash mid-create, not a holder. */
const EMPTY_LOCK_GRACE_MS = 10_000;

/** The lock file that guards `dir` for `program`: `<dir>/<program>.lock`. */
export function lockPathFor(dir: string, program: string): string {
  return join(dir, `${program}${LOCK_FILE_SUFFIX}`);
}

/**
 * Take the lock of `dir` (creating the folder). Throws STATE_LOCKED naming the holder when
 * another live process has it.
 */
export function acquireStateLock(dir: string, options: AcquireOptions): StateLock {
  mkdirSync(dir, { recursive: true });
  const path = lockPathFor(dir, options.program);
  const probe = options.probe ?? systemProbe;
  const now = options.now ?? Date.now;
  const holder: LockHolder = {
    pid: process.pid,
    host: hostname(),
    program: options.program,
    since: now(),
    ...optional("procStart", probe.startTime(process.pid)),
    nonce: crypto.randomUUID(),
  };
  // A later round follows the take-over of a stale lock
  for (let attempt = 0; attempt < 3; attempt++) {
    let fd: number | undefined;
    try {
      fd = tryCreate(path);
    } catch (error) {
      throw new AgentError(
        FaultCode.STATE_FILE_INVALID,
        `cannot lock state folder ${dir}: ${describeError(error)}`,
        { cause: error },
      );
    }
    if (fd !== undefined) {
      try {
        writeSync(fd, `${JSON.stringify(holder)}\n`);
      } finally {
        closeSync(fd);
      }
      return lockHandle(path, holder);
    }
    const verdict = judge(path, probe, now());
    if (verdict.held) throw lockedError(dir, path, verdict.holder, verdict.why);
    breakStale(path);
  }
  throw new AgentError(
    FaultCode.STATE_LOCKED,
    `state folder ${dir} is being locked and unlocked by other processes at the same time as this start; try again`,
  );
}

/** Who holds the lock of `dir`, if anyone (for status and error messages). */
export function readLockHolder(dir: string, program: string): LockHolder | undefined {
  try {
    return parseHolder(readStateText(lockPathFor(dir, program), "lock file", MAX_LOCK_BYTES));
  } catch {
    return undefined;
  }
}

function tryCreate(path: string): number | undefined {
  try {
    return openStateFile(
      path,
      constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL,
      "lock file",
    );
  } catch (error) {
    if (((error as Error).cause as NodeJS.ErrnoException | undefined)?.code === "EEXIST")
      return undefined;
    throw error;
  }
}

type Verdict =
  | { readonly held: true; readonly holder: LockHolder | undefined; readonly why: string }
  | { readonly held: false };

function judge(path: string, probe: ProcessProbe, now: number): Verdict {
  let text: string | undefined;
  try {
    text = readStateText(path, "lock file", MAX_LOCK_BYTES);
  } catch (error) {
    return { held: true, holder: undefined, why: describeError(error) };
  }
  if (text === undefined) return { held: false };
  const holder = parseHolder(text);
  if (holder === undefined) {
    // Created but not yet written (or cut by a crash right after the create)
    const age = now - modifiedAt(path, now);
    return age < EMPTY_LOCK_GRACE_MS
      ? { held: true, holder: undefined, why: "its holder is writing it right now" }
      : { held: false };
  }
  if (holder.host !== hostname())
    return { held: true, holder, why: `it was made on host ${holder.host}` };
  if (holder.pid === process.pid)
    return { held: true, holder, why: "this process already holds it" };
  const alive = probe.alive(holder.pid);
  if (alive === false) return { held: false };
  if (holder.procStart !== undefined) {
    const start = probe.startTime(holder.pid);
    // The pid was reused by a process that started later than the holder
    if (start !== undefined && start !== holder.procStart) return { held: false };
  }
  return { held: true, holder, why: "that process is running" };
}

/** Rename the stale file aside (only one of two racing starters can), then forget it. */
function breakStale(path: string): void {
  const aside = `${path}.stale-${process.pid}-${Date.now()}`;
  try {
    renameSync(path, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
    throw new AgentError(
      FaultCode.STATE_LOCKED,
      `cannot remove the stale lock ${path}: ${describeError(error)}`,
      { cause: error },
    );
  }
  try {
    unlinkSync(aside);
  } catch {
    // Only clutter: the lock itself is gone
  }
}

function lockHandle(path: string, holder: LockHolder): StateLock {
  let released = false;
  return {
    path,
    holder,
    check() {
      if (released) return false;
      let current: LockHolder | undefined;
      try {
        current = parseHolder(readStateText(path, "lock file", MAX_LOCK_BYTES));
      } catch {
        return false;
      }
      if (current?.nonce !== holder.nonce) return false;
      touch(path);
      return true;
    },
    release() {
      if (released) return;
      released = true;
      let current: LockHolder | undefined;
      try {
        current = parseHolder(readStateText(path, "lock file", MAX_LOCK_BYTES));
      } catch {
        return;
      }
      // Never remove a lock that is no longer ours (it was taken over after we lost it)
      if (current?.nonce !== holder.nonce) return;
      try {
        unlinkSync(path);
      } catch {
        // Gone already: nothing to release
      }
    },
  };
}

function touch(path: string): void {
  let fd: number | undefined;
  try {
    fd = openStateFile(path, constants.O_RDONLY, "lock file");
    const now = new Date();
    futimesSync(fd, now, now);
  } catch {
    // The mtime is a courtesy for people reading the folder; check() already confirmed the lock
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function lockedError(
  dir: string,
  path: string,
  holder: LockHolder | undefined,
  why: string,
): AgentError {
  const who =
    holder === undefined
      ? "another process"
      : `${holder.program} pid ${holder.pid} on ${holder.host} (since ${new Date(holder.since).toISOString()})`;
  return new AgentError(
    FaultCode.STATE_LOCKED,
    `state folder ${dir} is in use by ${who}: ${why}. One gateway per state folder; stop the other one first. If no such process runs any more, delete ${path}`,
  );
}

function parseHolder(text: string | undefined): LockHolder | undefined {
  if (text === undefined || text.trim() === "") return undefined;
  try {
    const value = JSON.parse(text) as Partial<LockHolder>;
    if (
      typeof value.pid !== "number" ||
      typeof value.host !== "string" ||
      typeof value.nonce !== "string" ||
      typeof value.program !== "string" ||
      typeof value.since !== "number"
    )
      return undefined;
    return value as LockHolder;
  } catch {
    return undefined;
  }
}

function modifiedAt(path: string, fallback: number): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return fallback;
  }
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

/** The real processes: kill(pid, 0) (libuv implements it on Windows too) and /proc on Linux. */
export const systemProbe: ProcessProbe = {
  alive(pid) {
    try {
      process.kill(pid, 0);
      return true;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ESRCH") return false;
      // EPERM: it exists under another user; anything else: cannot tell
      return code === "EPERM" ? true : undefined;
    }
  },
  startTime(pid) {
    if (process.platform !== "linux") return undefined;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      // Field 2 (comm) may hold spaces and parentheses: count fields after its closing ")"
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      return fields[19];
    } catch {
      return undefined;
    }
  },
};
