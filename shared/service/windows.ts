/**
 * `agent-gtw service install|uninstall|status`: agent-gtw as a real Windows service, registered
 * with the built-in sc.exe and driven by the service control protocol in windows-scm.ts, so no
 * third-party wrapper is downloaded (deploy.md §3.4). The scheduled-task and NSSM alternatives
 * are in docs/DEPLOY.md.
 *
 * install (idempotent): sc create (or sc config when it exists) with
 *   binPath "<exe>" run --service --config "<config>", start auto, the virtual account
 *   NT SERVICE\<name>, recovery restart/5 s, restart/5 s, restart/60 s reset after a day;
 *   then C:\ProgramData\<name>\{keys,state,logs} with inherited ACEs removed: SYSTEM and
 *   Administrators full, the service read on keys and modify on state and logs (deploy.md §5.3);
 *   then (re)start. uninstall: stop, delete; data is kept. status: sc query plus our summary.
 *
 * Commands go through an injected CommandRunner (tests check the exact argument lists). Paths
 * use path.win32 so the same code is tested on Linux.
 */
import { existsSync, mkdirSync, readdirSync, statSync } from "node:fs";
import { win32 } from "node:path";
import { ExitCode, isCompiled, UsageError } from "../cli.ts";
import {
  type CommandResult,
  type CommandRunner,
  describeFailure,
  formatCommand,
  spawnCommand,
} from "./command-runner.ts";
import { readServicePaths, type ServicePaths } from "./config-paths.ts";
import { parseServiceCommand } from "./service-command.ts";
import type { ServiceControl } from "./upgrade.ts";

const PROGRAM = "agent-gtw";
const DEFAULT_NAME = "agent-gtw";
const SERVICE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$/;
/** Well-known SIDs: account names are localised ("Administratoren"), SIDs are not. */
const SYSTEM_SID = "*S-1-5-18";
const ADMINISTRATORS_SID = "*S-1-5-32-544";
/** sc.exe / Win32 error codes we branch on. */
const ERROR_ACCESS_DENIED = 5;
const ERROR_SERVICE_NOT_ACTIVE = 1062;
/** What Wine's sc.exe exits with for a command it does not know. */
const SC_UNKNOWN_COMMAND = 1;
/** Recovery: restart after 5 s, 5 s, then 60 s; the failure count resets after a day. */
export const RECOVERY_ACTIONS = "restart/5000/restart/5000/restart/60000";
export const RECOVERY_RESET_SECONDS = 86_400;
/** Bounded waits for sc start/stop to reach the state we asked for. */
const STATE_WAIT_MS = 30_000;

export const WINDOWS_SERVICE_HELP = `Usage:
  agent-gtw service install   [--config FILE] [--name NAME] [--account ACCOUNT] [--no-start] [--dry-run]
  agent-gtw service uninstall [--name NAME] [--dry-run]
  agent-gtw service status    [--name NAME]

install registers this executable as the Windows service NAME (default agent-gtw), started
automatically and restarted on failure, running as NT SERVICE\\NAME (or --account LocalSystem)
with --config FILE (default C:\\ProgramData\\NAME\\agent-gtw.yaml). It creates
C:\\ProgramData\\NAME\\{keys,state,logs} with private ACLs, then starts the service.
Run from an elevated prompt. uninstall keeps config, keys, state and logs.
`;

export interface WindowsCommandOptions {
  readonly runner?: CommandRunner;
  /** The agent executable for binPath; process.execPath when compiled. */
  readonly execPath?: string;
  /** %ProgramData%; C:\ProgramData by default. */
  readonly programData?: string;
  readonly servicePaths?: (configPath: string) => ServicePaths;
  readonly exists?: (path: string) => boolean;
  /** Creates a folder (and parents); mkdirSync by default. */
  readonly makeDirectory?: (path: string) => void;
  /** Files directly inside a folder; readdirSync by default. */
  readonly listFiles?: (dir: string) => string[];
  /** Poll interval and sleep for state waits (tests pass 0). */
  readonly sleep?: (ms: number) => Promise<void>;
  readonly stdout?: (text: string) => void;
  readonly stderr?: (text: string) => void;
}

interface Context {
  readonly run: CommandRunner;
  readonly dryRun: boolean;
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly exists: (path: string) => boolean;
  readonly makeDirectory: (path: string) => void;
  readonly listFiles: (dir: string) => string[];
  readonly sleep: (ms: number) => Promise<void>;
}

export async function runWindowsServiceCommand(
  args: readonly string[],
  options: WindowsCommandOptions = {},
): Promise<number> {
  const line = parseServiceCommand(args, {
    program: PROGRAM,
    help: WINDOWS_SERVICE_HELP,
    flags: { account: { type: "string" }, "no-start": { type: "boolean" } },
    defaultName: DEFAULT_NAME,
    nameRule: SERVICE_NAME,
    nameKind: "service",
    platform: "win32",
    elsewhere: (action) =>
      `service ${action} manages Windows services; on Linux run the gateway under systemd (docs/DEPLOY.md §4)`,
    injected: options.runner !== undefined,
    ...(options.stdout === undefined ? {} : { stdout: options.stdout }),
    ...(options.stderr === undefined ? {} : { stderr: options.stderr }),
  });
  if (typeof line === "number") return line;
  const { action, name, dryRun, out, err } = line;
  const runner = options.runner ?? spawnCommand;
  const context: Context = {
    dryRun,
    out,
    err,
    exists: options.exists ?? existsSync,
    makeDirectory:
      options.makeDirectory ?? ((path: string) => mkdirSync(path, { recursive: true })),
    listFiles: options.listFiles ?? listFilesIn,
    sleep: options.sleep ?? ((ms: number) => Bun.sleep(ms)),
    run: dryRun
      ? async (argv) => {
          out(`would run: ${formatCommand(argv)}\n`);
          // Queries still report "not installed" so the dry run shows the create path
          return { exitCode: argv[1] === "query" ? 1060 : 0, stdout: "", stderr: "" };
        }
      : runner,
  };
  const dataDir = win32.join(
    options.programData ?? process.env["ProgramData"] ?? "C:\\ProgramData",
    name,
  );

  switch (action) {
    case "install": {
      const execPath = options.execPath ?? (isCompiled() ? process.execPath : undefined);
      const configPath = win32.resolve(
        line.text("config") ?? win32.join(dataDir, "agent-gtw.yaml"),
      );
      return install(context, {
        name,
        dataDir,
        configPath,
        execPath,
        account: line.text("account") ?? `NT SERVICE\\${name}`,
        start: !line.given("no-start"),
        servicePaths:
          options.servicePaths ?? ((path) => readServicePaths("agent-gtw", path, "win32")),
      });
    }
    case "uninstall":
      return uninstall(context, name, dataDir);
    case "status":
      return status(context, name);
    default:
      throw new UsageError(`unknown service action ${JSON.stringify(action)}`);
  }
}

interface InstallRequest {
  readonly name: string;
  readonly dataDir: string;
  readonly configPath: string;
  readonly execPath: string | undefined;
  readonly account: string;
  readonly start: boolean;
  readonly servicePaths: (configPath: string) => ServicePaths;
}

async function install(context: Context, request: InstallRequest): Promise<number> {
  const { name, dataDir, configPath, execPath } = request;
  const fail = (code: number, message: string) => {
    context.err(`${PROGRAM}: service install: ${message}\n`);
    return code;
  };
  if (execPath === undefined) {
    return fail(
      ExitCode.USAGE,
      "run this from the compiled agent-gtw.exe (bun run build), not from source",
    );
  }
  if (!context.exists(configPath)) {
    return fail(
      ExitCode.CONFIG,
      `no config at ${configPath}; copy config\\gtw.example.yaml there and edit it, or pass --config`,
    );
  }
  let paths: ServicePaths;
  try {
    paths = request.servicePaths(configPath);
  } catch (error) {
    return fail(ExitCode.CONFIG, `cannot read ${configPath}: ${errorText(error)}`);
  }
  for (const secret of paths.secretFiles) {
    if (!context.exists(secret)) {
      return fail(
        ExitCode.CONFIG,
        `${secret} (named in ${configPath}) does not exist; generate it with: ${PROGRAM} keygen --dir ${win32.join(dataDir, "keys")}`,
      );
    }
  }
  // A service has no console: without log.file, `run --service` logs to logs\agent-gtw.log next
  // to the config (agent-gtw/cli/service-run.ts), so that folder must be writable too
  const logFile = paths.logFile ?? win32.join(win32.dirname(configPath), "logs", "agent-gtw.log");
  if (paths.logFile === undefined) {
    context.out(`note: ${configPath} sets no log.file; the service will log to ${logFile}\n`);
  }

  const existing = await queryState(context.run, name);
  if (existing === "denied")
    return fail(ExitCode.FAILURE, "access denied: run from an elevated prompt");
  const input = { name, execPath, configPath, account: request.account };
  let recreated = false;
  const register = scRegisterCommand({ ...input, exists: existing !== undefined });
  let registered = await context.run(register);
  if (registered.exitCode === SC_UNKNOWN_COMMAND && existing !== undefined) {
    // Wine's sc.exe has no `config` (Windows' answers with a Win32 error code, never 1): replace
    // the service instead; it is restarted below either way
    context.err(`${PROGRAM}: note: sc.exe config is unavailable; re-creating service ${name}\n`);
    const stopped = await stopAndWait(context, name);
    if (stopped !== undefined) return fail(ExitCode.FAILURE, stopped);
    const deleted = await context.run(["sc.exe", "delete", name]);
    if (deleted.exitCode !== 0)
      return fail(ExitCode.FAILURE, describeFailure(["sc.exe", "delete", name], deleted));
    const gone = await waitForRemoval(context, name);
    if (gone !== undefined) return fail(ExitCode.FAILURE, gone);
    recreated = true;
    registered = await context.run(scRegisterCommand({ ...input, exists: false }));
  }
  if (registered.exitCode !== 0)
    return fail(ExitCode.FAILURE, describeFailure(register, registered));
  for (const { argv, required } of scSettingsCommands(name)) {
    const result = await context.run(argv);
    if (result.exitCode !== 0) {
      if (required) return fail(ExitCode.FAILURE, describeFailure(argv, result));
      context.err(`${PROGRAM}: warning: ${describeFailure(argv, result)}\n`);
    }
  }

  // After sc create: NT SERVICE\<name> only resolves once the service exists
  const folders = [
    { path: dataDir, access: "RX" as const },
    { path: win32.join(dataDir, "keys"), access: "R" as const },
    { path: win32.join(dataDir, "state"), access: "M" as const },
    { path: win32.join(dataDir, "logs"), access: "M" as const },
    ...unique([...paths.writeDirs, win32.dirname(logFile)])
      .filter((dir) => !isInside(dir, dataDir))
      .map((path) => ({ path, access: "M" as const })),
  ];
  const acl: string[][] = [];
  for (const folder of folders) {
    if (context.dryRun) context.out(`would create ${folder.path}\n`);
    else context.makeDirectory(folder.path);
    acl.push(folderAclCommand(folder.path, name, folder.access));
  }
  // Key files written by keygen carry their own private ACL; make them inherit the keys folder's
  const keysDir = win32.join(dataDir, "keys");
  for (const file of context.dryRun ? [] : context.listFiles(keysDir)) {
    acl.push(["icacls.exe", win32.join(keysDir, file), "/reset"]);
  }
  for (const path of [...paths.secretFiles, ...paths.readPaths]) {
    if (!isInside(path, keysDir)) acl.push(grantCommand(path, name, context));
  }
  for (const argv of acl) {
    const result = await context.run(argv);
    // An unprotected key folder is worse than no service: stop here
    if (result.exitCode !== 0) return fail(ExitCode.FAILURE, describeFailure(argv, result));
  }

  if (request.start) {
    if (existing === "RUNNING" && !recreated) {
      const stopped = await stopAndWait(context, name);
      if (stopped !== undefined) return fail(ExitCode.FAILURE, stopped);
    }
    const started = await startAndWait(context, name);
    if (started !== undefined) return fail(ExitCode.FAILURE, `${started}; see ${logFile}`);
  }
  context.out(
    [
      `service ${name} ${context.dryRun ? "would be " : ""}${existing === undefined ? "installed" : "updated"}${request.start ? " and started" : ""}`,
      `  runs     "${execPath}" run --service --config "${configPath}"`,
      `  account  ${request.account}; data in ${dataDir}`,
      `  recovery restart after 5 s, 5 s, 60 s (count reset after a day)`,
      `  status   ${PROGRAM} service status --name ${name}   |   sc.exe query ${name}`,
      "",
    ].join("\n"),
  );
  return ExitCode.OK;
}

export interface ScRegisterInput {
  readonly name: string;
  readonly execPath: string;
  readonly configPath: string;
  readonly account: string;
  /** The service exists already: sc config instead of sc create. */
  readonly exists: boolean;
}

/**
 * sc create (or sc config) with the service's command line, start type, account and display
 * name. sc.exe wants "option= value" as two words; the binPath is one word holding its own quotes
 * (Bun quotes it for the command line and sc.exe's parser restores it).
 */
export function scRegisterCommand(input: ScRegisterInput): string[] {
  return [
    "sc.exe",
    input.exists ? "config" : "create",
    input.name,
    "binPath=",
    servicePath(input.execPath, input.configPath),
    "start=",
    "auto",
    "obj=",
    input.account,
    "DisplayName=",
    `MT5 Live Bridge gateway (${input.name})`,
  ];
}

/** The sc.exe calls after registering, in order; failing optional ones only warn. */
export function scSettingsCommands(name: string): { argv: string[]; required: boolean }[] {
  return [
    {
      argv: [
        "sc.exe",
        "description",
        name,
        "MT5 Live Bridge gateway: CurveZMQ orders in, MetaTrader 5 out",
      ],
      required: false,
    },
    {
      argv: [
        "sc.exe",
        "failure",
        name,
        "reset=",
        String(RECOVERY_RESET_SECONDS),
        "actions=",
        RECOVERY_ACTIONS,
      ],
      required: true,
    },
    // Recovery also when the service reports STOPPED with an error (a fatal error it caught);
    // Wine's sc.exe lacks this one, hence optional
    { argv: ["sc.exe", "failureflag", name, "1"], required: false },
    // Puts NT SERVICE\<name> in the token even when running as LocalSystem, for the ACLs below
    { argv: ["sc.exe", "sidtype", name, "unrestricted"], required: false },
  ];
}

/** The service's command line: `--service` is explicit, never detected (deploy.md §3.4). */
export function servicePath(execPath: string, configPath: string): string {
  return `"${execPath}" run --service --config "${configPath}"`;
}

/**
 * icacls for one of our folders: inherited ACEs removed, SYSTEM and Administrators full control,
 * the service's own SID the given access, all inherited by what is created inside.
 */
export function folderAclCommand(path: string, name: string, access: "R" | "RX" | "M"): string[] {
  return [
    "icacls.exe",
    path,
    "/inheritance:r",
    "/grant:r",
    `${SYSTEM_SID}:(OI)(CI)F`,
    `${ADMINISTRATORS_SID}:(OI)(CI)F`,
    `NT SERVICE\\${name}:(OI)(CI)${access}`,
  ];
}

function grantCommand(path: string, name: string, context: Context): string[] {
  const folder = !context.dryRun && context.exists(path) && isDirectory(path);
  return ["icacls.exe", path, "/grant", `NT SERVICE\\${name}:${folder ? "(OI)(CI)R" : "R"}`];
}

async function uninstall(context: Context, name: string, dataDir: string): Promise<number> {
  const state = await queryState(context.run, name);
  if (state === "denied") {
    context.err(`${PROGRAM}: service uninstall: access denied: run from an elevated prompt\n`);
    return ExitCode.FAILURE;
  }
  if (state === undefined && !context.dryRun) {
    context.out(`service ${name} is not installed; nothing to do\n`);
    return ExitCode.OK;
  }
  if (state !== "STOPPED") {
    const stopped = await stopAndWait(context, name);
    if (stopped !== undefined) {
      context.err(`${PROGRAM}: service uninstall: ${stopped}\n`);
      return ExitCode.FAILURE;
    }
  }
  const argv = ["sc.exe", "delete", name];
  const result = await context.run(argv);
  if (result.exitCode !== 0) {
    context.err(`${PROGRAM}: service uninstall: ${describeFailure(argv, result)}\n`);
    return ExitCode.FAILURE;
  }
  context.out(`service ${name} ${context.dryRun ? "would be " : ""}removed; ${dataDir} was kept\n`);
  return ExitCode.OK;
}

async function status(context: Context, name: string): Promise<number> {
  const argv = ["sc.exe", "query", name];
  const result = await context.run(argv);
  if (result.exitCode !== 0) {
    context.out(
      result.exitCode === ERROR_ACCESS_DENIED
        ? `service ${name}: access denied\n`
        : `service ${name} is not installed\n`,
    );
    return ExitCode.FAILURE;
  }
  const state = parseScState(result.stdout);
  const exitCodes = parseScExitCodes(result.stdout);
  context.out(
    [
      `service ${name}  ${state ?? "unknown"}`,
      ...(exitCodes.win32 !== 0 || exitCodes.service !== 0
        ? [`  last exit win32=${exitCodes.win32} service=${exitCodes.service}`]
        : []),
      `  gateway status: ${PROGRAM} status --config <config>`,
      "",
    ].join("\n"),
  );
  return state === "RUNNING" ? ExitCode.OK : ExitCode.FAILURE;
}

type ScState = "STOPPED" | "START_PENDING" | "STOP_PENDING" | "RUNNING" | "OTHER";

/** undefined: not installed; "denied": no rights to ask. */
async function queryState(
  run: CommandRunner,
  name: string,
): Promise<ScState | "denied" | undefined> {
  const result = await run(["sc.exe", "query", name]);
  if (result.exitCode === 0) return parseScState(result.stdout) ?? "OTHER";
  // 1060 is "does not exist" on Windows; Wine's sc.exe exits 1 silently for the same
  return result.exitCode === ERROR_ACCESS_DENIED ? "denied" : undefined;
}

/** `STATE              : 4  RUNNING` in sc query's output. */
export function parseScState(output: string): ScState | undefined {
  const match = /STATE\s*:\s*(\d+)/.exec(output);
  if (match === null) return undefined;
  switch (Number(match[1])) {
    case 1:
      return "STOPPED";
    case 2:
      return "START_PENDING";
    case 3:
      return "STOP_PENDING";
    case 4:
      return "RUNNING";
    default:
      return "OTHER";
  }
}

export function parseScExitCodes(output: string): { win32: number; service: number } {
  const win32Code = /WIN32_EXIT_CODE\s*:\s*(\d+)/.exec(output);
  const service = /SERVICE_EXIT_CODE\s*:\s*(\d+)/.exec(output);
  return { win32: Number(win32Code?.[1] ?? 0), service: Number(service?.[1] ?? 0) };
}

/**
 * The service's start and stop with install's bounded waits, and the executable it runs (from
 * `sc qc`), for `agent-gtw upgrade` (upgrade.ts ServiceControl).
 */
export function scServiceControl(
  name: string,
  run: CommandRunner = spawnCommand,
  sleep: (ms: number) => Promise<void> = (ms) => Bun.sleep(ms),
): ServiceControl {
  const context: Context = {
    run,
    dryRun: false,
    out: () => undefined,
    err: () => undefined,
    exists: existsSync,
    makeDirectory: () => undefined,
    listFiles: () => [],
    sleep,
  };
  const check = (failure: string | undefined) => {
    if (failure !== undefined) throw new Error(failure);
  };
  return {
    description: `Windows service ${name}`,
    stop: async () => check(await stopAndWait(context, name)),
    start: async () => check(await startAndWait(context, name)),
    binary: async () => {
      const result = await run(["sc.exe", "qc", name]);
      if (result.exitCode !== 0) return undefined;
      // BINARY_PATH_NAME   : "C:\Program Files\agent-gtw\agent-gtw.exe" run --service ...
      const line = /BINARY_PATH_NAME\s*:\s*(.*)/.exec(result.stdout)?.[1]?.trim() ?? "";
      return (/^"([^"]+)"/.exec(line)?.[1] ?? line.split(" ")[0]) || undefined;
    },
  };
}

async function startAndWait(context: Context, name: string): Promise<string | undefined> {
  const argv = ["sc.exe", "start", name];
  const result = await context.run(argv);
  if (result.exitCode !== 0) return describeFailure(argv, result);
  return waitForState(context, name, "RUNNING");
}

async function stopAndWait(context: Context, name: string): Promise<string | undefined> {
  const argv = ["sc.exe", "stop", name];
  const result: CommandResult = await context.run(argv);
  // Already stopped is what we wanted
  if (result.exitCode !== 0 && result.exitCode !== ERROR_SERVICE_NOT_ACTIVE) {
    const state = await queryState(context.run, name);
    if (state !== "STOPPED") return describeFailure(argv, result);
  }
  return waitForState(context, name, "STOPPED");
}

async function waitForState(
  context: Context,
  name: string,
  wanted: ScState,
): Promise<string | undefined> {
  if (context.dryRun) return undefined;
  const deadline = performance.now() + STATE_WAIT_MS;
  let last: ScState | "denied" | undefined;
  for (;;) {
    last = await queryState(context.run, name);
    if (last === wanted) return undefined;
    if (wanted === "RUNNING" && last === "STOPPED") {
      return `service ${name} stopped while starting`;
    }
    if (performance.now() > deadline) {
      return `service ${name} did not reach ${wanted} within ${STATE_WAIT_MS / 1000} s (state ${last ?? "unknown"})`;
    }
    await context.sleep(250);
  }
}

async function waitForRemoval(context: Context, name: string): Promise<string | undefined> {
  if (context.dryRun) return undefined;
  const deadline = performance.now() + STATE_WAIT_MS;
  while ((await queryState(context.run, name)) !== undefined) {
    if (performance.now() > deadline)
      return `service ${name} was not removed within ${STATE_WAIT_MS / 1000} s`;
    await context.sleep(250);
  }
  return undefined;
}

function unique(values: readonly string[]): string[] {
  const seen = new Set<string>();
  return values.filter((value) => {
    const key = win32.normalize(value).toLowerCase();
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function isInside(path: string, dir: string): boolean {
  const a = win32.normalize(path).toLowerCase();
  const b = win32.normalize(dir).toLowerCase().replace(/\\$/, "");
  return a === b || a.startsWith(`${b}\\`);
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function listFilesIn(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => entry.name);
  } catch {
    return [];
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
