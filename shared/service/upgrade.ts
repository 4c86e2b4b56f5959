/**
 * Replacing an agent's binary under its service without losing an order, and rolling back:
 *
 *   check the new binary (--version) → stage it beside the installed one (and check the copy)
 *   → drain (no new orders; in-flight ones finish and are journaled) → stop the service → swap
 *   (installed → previous, staged → installed: renames only) → start → verify (the installed
 *   file's --version, then the running agent reports the new version and is no less healthy than
 *   before) → done; a failed start or verification swaps back and starts the previous binary.
 *
 * `rollback` swaps the previous binary back in the same way. Both agents use this: the service
 * manager (systemd, the Windows SCM), the drain and the health probe are injected, so the whole
 * procedure is tested with real binaries and a fake service manager on Linux, and with Windows'
 * file rules (upgrade-files.ts).
 */
import type { CommandRunner } from "./command-runner.ts";
import { clearPath, nodeFiles, type UpgradeFiles, upgradePaths } from "./upgrade-files.ts";

/** Start and stop the agent's service; each resolves once the service got there, else throws. */
export interface ServiceControl {
  /** For messages: "systemd unit agent-inf.service", "Windows service agent-gtw". */
  readonly description: string;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** The executable the service runs, if the service manager says (to refuse a mismatch). */
  binary?(): Promise<string | undefined>;
}

/** What the running agent says about itself. */
export interface HealthReport {
  readonly version: string;
  /** Everything the agent checks is fine (gateway: running, MT5 link up; inference: status ok). */
  readonly ok: boolean;
  readonly detail: string;
}

export interface UpgradeHooks {
  /**
   * Stop taking new orders and wait until the ones in flight are finished and journaled; returns
   * a line for the operator. Throws to abort the upgrade (nothing has changed yet).
   */
  drain?(): Promise<string>;
  /** Take orders again after a drain, when the upgrade stops before the service does. */
  resume?(): Promise<void>;
  /** The running agent's report; undefined when it does not answer. */
  probe(): Promise<HealthReport | undefined>;
}

export interface UpgradeOptions {
  /** agent-gtw or agent-inf, for messages. */
  readonly program: string;
  /** The binary the service runs. */
  readonly installed: string;
  readonly service: ServiceControl;
  readonly hooks: UpgradeHooks;
  /** Runs a binary's --version (spawnCommand). */
  readonly run: CommandRunner;
  readonly out: (line: string) => void;
  readonly files?: UpgradeFiles;
  /** How long the started service has to report the new version and its health. */
  readonly verifyTimeoutMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly now?: () => number;
}

export const DEFAULT_VERIFY_TIMEOUT_MS = 60_000;

export const UpgradeOutcome = {
  /** The new binary runs and passed verification. */
  UPGRADED: "UPGRADED",
  /** `--rollback`: the previous binary runs again and passed verification. */
  RESTORED: "RESTORED",
  /** Refused before the service was touched: nothing changed. */
  ABORTED: "ABORTED",
  /** The new binary failed; the previous one was put back and runs. */
  ROLLED_BACK: "ROLLED_BACK",
  /** Something failed and could not be put right: the operator must look. */
  FAILED: "FAILED",
} as const;
export type UpgradeOutcome = (typeof UpgradeOutcome)[keyof typeof UpgradeOutcome];

export interface UpgradeResult {
  readonly outcome: UpgradeOutcome;
  readonly message: string;
}

/** An error whose message is the whole story (no stack needed). */
class StepError extends Error {}

/** Replace the installed binary with `candidate`. */
export async function upgrade(options: UpgradeOptions, candidate: string): Promise<UpgradeResult> {
  const ctx = context(options);
  const { files, paths, out } = ctx;
  const abort = (why: string): UpgradeResult => ({
    outcome: UpgradeOutcome.ABORTED,
    message: `upgrade aborted, nothing changed: ${why}`,
  });
  if (!files.exists(candidate)) return abort(`${candidate} does not exist`);
  const locked = takeLock(ctx);
  if (locked !== undefined) return abort(locked);
  try {
    let newVersion: string;
    try {
      newVersion = await versionOf(ctx, candidate);
    } catch (error) {
      return abort(messageOf(error));
    }
    const oldVersion = await versionOf(ctx, paths.installed).catch(() => "unknown");
    out(`${options.program} ${oldVersion} -> ${newVersion} (${paths.installed})`);
    try {
      clearPath(files, paths.staged, ctx.now());
      files.copy(candidate, paths.staged);
      const staged = await versionOf(ctx, paths.staged);
      if (staged !== newVersion)
        throw new StepError(`the staged copy ${paths.staged} reports ${staged}`);
    } catch (error) {
      discard(ctx, paths.staged);
      return abort(`cannot stage the new binary: ${messageOf(error)}`);
    }
    const before = await options.hooks.probe();
    const stopped = await drainAndStop(ctx);
    if (stopped !== undefined) {
      discard(ctx, paths.staged);
      return abort(stopped);
    }
    try {
      const aside = clearPath(files, paths.previous, ctx.now());
      if (aside !== undefined) out(`an older ${paths.previous} is in use; moved to ${aside}`);
      files.rename(paths.installed, paths.previous);
      try {
        files.rename(paths.staged, paths.installed);
      } catch (error) {
        files.rename(paths.previous, paths.installed);
        throw error;
      }
    } catch (error) {
      const restarted = await startService(ctx);
      return {
        outcome: restarted === undefined ? UpgradeOutcome.ABORTED : UpgradeOutcome.FAILED,
        message: `upgrade aborted at the swap: ${messageOf(error)}; ${restarted ?? "the old binary runs again"}`,
      };
    }
    out(`swapped; the previous binary is kept as ${paths.previous}`);
    const failure = (await startService(ctx)) ?? (await verify(ctx, newVersion, before));
    if (failure === undefined) {
      return {
        outcome: UpgradeOutcome.UPGRADED,
        message: `${options.program} ${newVersion} runs (${options.service.description}); roll back with: ${options.program} upgrade --rollback`,
      };
    }
    return await putBack(ctx, failure, oldVersion, before);
  } finally {
    discard(ctx, paths.lock);
  }
}

/** Put the previous binary back (`upgrade --rollback`). */
export async function rollback(options: UpgradeOptions): Promise<UpgradeResult> {
  const ctx = context(options);
  const { files, paths, out } = ctx;
  const abort = (why: string): UpgradeResult => ({
    outcome: UpgradeOutcome.ABORTED,
    message: `rollback aborted, nothing changed: ${why}`,
  });
  if (!files.exists(paths.previous))
    return abort(`there is no previous binary (${paths.previous}): nothing to roll back to`);
  const locked = takeLock(ctx);
  if (locked !== undefined) return abort(locked);
  try {
    let previousVersion: string;
    try {
      previousVersion = await versionOf(ctx, paths.previous);
    } catch (error) {
      return abort(`the previous binary does not run: ${messageOf(error)}`);
    }
    const currentVersion = await versionOf(ctx, paths.installed).catch(() => "unknown");
    out(
      `${options.program} ${currentVersion} -> ${previousVersion} (rollback, ${paths.installed})`,
    );
    const before = await options.hooks.probe();
    const stopped = await drainAndStop(ctx);
    if (stopped !== undefined) return abort(stopped);
    try {
      // installed ⇄ previous, through the staged name
      clearPath(files, paths.staged, ctx.now());
      files.rename(paths.installed, paths.staged);
      files.rename(paths.previous, paths.installed);
      files.rename(paths.staged, paths.previous);
    } catch (error) {
      const started = await startService(ctx);
      return {
        outcome: UpgradeOutcome.FAILED,
        message: `rollback failed at the swap: ${messageOf(error)}; check ${paths.installed} and ${paths.previous}${started === undefined ? "" : `; ${started}`}`,
      };
    }
    const failure = (await startService(ctx)) ?? (await verify(ctx, previousVersion, before));
    return failure === undefined
      ? {
          outcome: UpgradeOutcome.RESTORED,
          message: `${options.program} ${previousVersion} runs again; ${currentVersion} is kept as ${paths.previous}`,
        }
      : {
          outcome: UpgradeOutcome.FAILED,
          message: `rolled back to ${previousVersion}, but it does not verify: ${failure}`,
        };
  } finally {
    discard(ctx, paths.lock);
  }
}

type Context = Required<Omit<UpgradeOptions, "verifyTimeoutMs">> & {
  readonly paths: ReturnType<typeof upgradePaths>;
  readonly verifyTimeoutMs: number;
};

function context(options: UpgradeOptions): Context {
  return {
    ...options,
    files: options.files ?? nodeFiles,
    sleep: options.sleep ?? ((ms) => Bun.sleep(ms)),
    now: options.now ?? Date.now,
    verifyTimeoutMs: options.verifyTimeoutMs ?? DEFAULT_VERIFY_TIMEOUT_MS,
    paths: upgradePaths(options.installed),
  };
}

function takeLock(ctx: Context): string | undefined {
  try {
    ctx.files.lock(ctx.paths.lock, `pid ${process.pid} at ${new Date(ctx.now()).toISOString()}\n`);
    return undefined;
  } catch (error) {
    return ctx.files.exists(ctx.paths.lock)
      ? `another upgrade is running (${ctx.paths.lock} exists; delete it if none is)`
      : `cannot write beside ${ctx.paths.installed}: ${messageOf(error)} (run as root / an elevated prompt)`;
  }
}

/** The binary's `--version` line; throws naming the binary when it does not run. */
async function versionOf(ctx: Context, binary: string): Promise<string> {
  const result = await ctx.run([binary, "--version"]);
  const version = result.stdout.trim();
  if (result.exitCode !== 0 || version === "" || version.includes("\n") || version.length > 100) {
    const said = (result.stderr.trim() || version).split("\n").slice(-2).join(" / ");
    throw new StepError(
      `${binary} --version exited with ${result.exitCode}${said === "" ? "" : `: ${said}`}`,
    );
  }
  return version;
}

/** Drain, then stop; on failure resume and say why (nothing has changed then). */
async function drainAndStop(ctx: Context): Promise<string | undefined> {
  const { hooks, service, out } = ctx;
  if (hooks.drain !== undefined) {
    try {
      out(await hooks.drain());
    } catch (error) {
      // The agent may have drained after all (an answer that came too late): take orders again
      await hooks.resume?.().catch(() => undefined);
      return `drain failed: ${messageOf(error)}`;
    }
  }
  try {
    await service.stop();
    out(`${service.description} stopped`);
    return undefined;
  } catch (error) {
    await hooks.resume?.().catch(() => undefined);
    return `cannot stop ${service.description}: ${messageOf(error)}`;
  }
}

/** Start the service; the failure as a sentence, else undefined. */
async function startService(ctx: Context): Promise<string | undefined> {
  try {
    await ctx.service.start();
    return undefined;
  } catch (error) {
    return `${ctx.service.description} did not start: ${messageOf(error)}`;
  }
}

/**
 * The installed file is the expected version, and the running agent reports it within the
 * timeout while no less healthy than before (an agent that was not ok before the upgrade, e.g.
 * with its gateway down, need only answer).
 */
async function verify(
  ctx: Context,
  expected: string,
  before: HealthReport | undefined,
): Promise<string | undefined> {
  try {
    const installed = await versionOf(ctx, ctx.paths.installed);
    if (installed !== expected) return `${ctx.paths.installed} reports ${installed}`;
  } catch (error) {
    return messageOf(error);
  }
  const deadline = ctx.now() + ctx.verifyTimeoutMs;
  let last = "the agent did not answer";
  for (;;) {
    const report = await ctx.hooks.probe().catch((error: unknown) => {
      last = messageOf(error);
      return undefined;
    });
    if (report !== undefined) {
      if (report.version === expected && (report.ok || before?.ok !== true)) {
        ctx.out(
          `verified: ${report.version} runs${report.ok ? " and is ok" : ` (${report.detail})`}`,
        );
        return undefined;
      }
      last =
        report.version === expected
          ? `it is not ok: ${report.detail}`
          : `the running agent reports ${report.version}`;
    }
    if (ctx.now() > deadline) return `not verified within ${ctx.verifyTimeoutMs / 1000} s: ${last}`;
    await ctx.sleep(500);
  }
}

/** After a failed start or verification: the failed binary aside, the previous one back. */
async function putBack(
  ctx: Context,
  failure: string,
  oldVersion: string,
  before: HealthReport | undefined,
): Promise<UpgradeResult> {
  const { files, paths, service, out } = ctx;
  out(`the new binary failed: ${failure}; rolling back`);
  await service.stop().catch((error: unknown) => out(`stopping: ${messageOf(error)}`));
  try {
    clearPath(files, paths.failed, ctx.now());
    files.rename(paths.installed, paths.failed);
    files.rename(paths.previous, paths.installed);
  } catch (error) {
    return {
      outcome: UpgradeOutcome.FAILED,
      message: `the new binary failed (${failure}) and the previous one could not be put back: ${messageOf(error)}; restore ${paths.previous} as ${paths.installed} by hand`,
    };
  }
  const again = (await startService(ctx)) ?? (await verify(ctx, oldVersion, before));
  return again === undefined
    ? {
        outcome: UpgradeOutcome.ROLLED_BACK,
        message: `upgrade rolled back: ${failure}; ${oldVersion} runs again, the failed binary is kept as ${paths.failed}`,
      }
    : {
        outcome: UpgradeOutcome.FAILED,
        message: `the new binary failed (${failure}) and after putting ${oldVersion} back: ${again}`,
      };
}

function discard(ctx: Context, path: string): void {
  try {
    if (ctx.files.exists(path)) ctx.files.remove(path);
  } catch {
    // A leftover staged copy or lock is named by the next upgrade
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
