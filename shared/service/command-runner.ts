/**
 * The one seam through which the service installers run system commands (systemctl, useradd,
 * sc.exe, icacls). Tests inject a recorder and check the exact argument lists; `--dry-run`
 * injects a printer. No shell is involved: arguments go to the program as given.
 */

export interface CommandResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

export type CommandRunner = (argv: readonly string[]) => Promise<CommandResult>;

/** Every command is bounded: a wedged systemctl or sc.exe must not hang an install. */
export const COMMAND_TIMEOUT_MS = 60_000;

export const spawnCommand: CommandRunner = async (argv) => {
  try {
    const child = Bun.spawn([...argv], {
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
      timeout: COMMAND_TIMEOUT_MS,
    });
    const [stdout, stderr, exitCode] = await Promise.all([
      new Response(child.stdout).text(),
      new Response(child.stderr).text(),
      child.exited,
    ]);
    return { exitCode, stdout, stderr };
  } catch (error) {
    // The program does not exist (ENOENT) or cannot run: report it like a failed command
    return {
      exitCode: 127,
      stdout: "",
      stderr: error instanceof Error ? error.message : String(error),
    };
  }
};

/**
 * A command as a person would type it, for --dry-run and error messages: words with spaces or
 * quotes are double-quoted with inner quotes escaped (readable in both sh and cmd.exe; exact for
 * neither, and never executed).
 */
export function formatCommand(argv: readonly string[]): string {
  return argv
    .map((arg) => (/^[A-Za-z0-9_@%+=:,./\\-]+$/.test(arg) ? arg : `"${arg.replace(/"/g, '\\"')}"`))
    .join(" ");
}

/** One line describing a failed command, for error messages. */
export function describeFailure(argv: readonly string[], result: CommandResult): string {
  const output = (result.stderr.trim() || result.stdout.trim()).split("\n").slice(-3).join(" / ");
  return `${formatCommand(argv)} exited with ${result.exitCode}${output === "" ? "" : `: ${output}`}`;
}
