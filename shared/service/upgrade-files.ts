/**
 * The file side of an upgrade: where the staged, previous and failed binaries live beside the
 * installed one, and the few file operations the swap uses, behind a seam so the procedure is
 * tested with Windows' rules on Linux.
 *
 * Windows will not overwrite or delete an executable that is running (the service, or the
 * `upgrade` command itself, which usually runs from the installed binary), but it renames one
 * freely. So the swap only ever renames the installed binary away and a new file into its place;
 * it never writes into or deletes a file that may be running, and a leftover it cannot delete is
 * renamed aside instead.
 */
import {
  chmodSync,
  closeSync,
  constants,
  copyFileSync,
  existsSync,
  openSync,
  renameSync,
  rmSync,
  writeSync,
} from "node:fs";
import { basename, dirname, join } from "node:path";

export interface UpgradeFiles {
  exists(path: string): boolean;
  /** Copy to a path that does not exist yet, executable. */
  copy(from: string, to: string): void;
  /** Rename to a path that does not exist yet. */
  rename(from: string, to: string): void;
  /** Delete; throws when the file is in use (Windows) or cannot be removed. */
  remove(path: string): void;
  /** Create the lock file; throws when it exists (another upgrade runs). */
  lock(path: string, text: string): void;
}

export const nodeFiles: UpgradeFiles = {
  exists: existsSync,
  copy(from, to) {
    copyFileSync(from, to, constants.COPYFILE_EXCL);
    if (process.platform !== "win32") chmodSync(to, 0o755);
  },
  rename(from, to) {
    if (existsSync(to)) throw new Error(`${to} exists`);
    renameSync(from, to);
  },
  remove(path) {
    rmSync(path);
  },
  lock(path, text) {
    const fd = openSync(path, "wx", 0o600);
    try {
      writeSync(fd, text);
    } finally {
      closeSync(fd);
    }
  },
};

/** A file beside the installed binary: agent-inf.previous, agent-gtw.previous.exe. */
export function besideBinary(installed: string, tag: string): string {
  const name = basename(installed);
  const exe = /\.exe$/i.exec(name);
  const stem = exe === null ? name : name.slice(0, exe.index);
  return join(dirname(installed), `${stem}.${tag}${exe === null ? "" : exe[0]}`);
}

/** The binaries an upgrade keeps beside the installed one. */
export interface UpgradePaths {
  readonly installed: string;
  /** The new binary, copied next to the installed one so the swap is a rename. */
  readonly staged: string;
  /** What ran before the last upgrade: `upgrade --rollback` restores it. */
  readonly previous: string;
  /** A new binary that failed verification, kept for a look. */
  readonly failed: string;
  readonly lock: string;
}

export function upgradePaths(installed: string): UpgradePaths {
  return {
    installed,
    staged: besideBinary(installed, "new"),
    previous: besideBinary(installed, "previous"),
    failed: besideBinary(installed, "failed"),
    lock: `${installed}.upgrade-lock`,
  };
}

/**
 * Make room at `path`: delete what is there, or when it cannot be deleted (a running .exe),
 * rename it aside. Returns where it went, if anywhere.
 */
export function clearPath(files: UpgradeFiles, path: string, stamp: number): string | undefined {
  if (!files.exists(path)) return undefined;
  try {
    files.remove(path);
    return undefined;
  } catch {
    const aside = besideBinary(path, `old-${stamp}`);
    files.rename(path, aside);
    return aside;
  }
}
