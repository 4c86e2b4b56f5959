/**
 * `agent-inf service install|uninstall|status`: agent-inf as a hardened systemd service
 * (deploy.md §4, docs/DEPLOY.md). install is idempotent (a re-run rewrites the unit and restarts
 * the service only when the unit changed); uninstall stops, disables and removes the unit and
 * keeps config, keys and state; status summarises `systemctl show`.
 *
 * Every system command goes through an injected CommandRunner, so the exact sequence is
 * unit-tested without systemd, and `--dry-run` prints the unit and the commands instead.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { ExitCode, isCompiled, UsageError } from "../cli.ts";
import {
  type CommandRunner,
  describeFailure,
  formatCommand,
  spawnCommand,
} from "./command-runner.ts";
import { readServicePaths, type ServicePaths } from "./config-paths.ts";
import { credentialId } from "./credentials.ts";
import { parseServiceCommand } from "./service-command.ts";
import { type Credential, DEFAULT_WATCHDOG_SEC, renderUnit } from "./systemd-unit.ts";
import type { ServiceControl } from "./upgrade.ts";

const PROGRAM = "agent-inf";
const DEFAULT_NAME = "agent-inf";
const USER_NAME = /^[a-z_][a-z0-9_-]{0,31}$/;
const UNIT_NAME = /^[A-Za-z0-9][A-Za-z0-9_.@-]{0,200}$/;

export const SYSTEMD_SERVICE_HELP = `Usage:
  agent-inf service install   [--config FILE] [--user dynamic|NAME] [--name UNIT] [--mdwe] [--dry-run]
  agent-inf service uninstall [--name UNIT] [--dry-run]
  agent-inf service status    [--name UNIT]

install writes /etc/systemd/system/UNIT.service (default UNIT agent-inf) running this binary
with --config FILE (default /etc/UNIT/agent-inf.yaml), then daemon-reload and enable --now.
Key files named in the config are passed with LoadCredential=; state_dir must be /var/lib/UNIT
with the default --user dynamic. --mdwe: MemoryDenyWriteExecute=yes (no JIT; see docs/DEPLOY.md).
Run as root. uninstall keeps config, keys and state.
`;

export interface SystemdCommandOptions {
  readonly runner?: CommandRunner;
  /** Where unit files go; /etc/systemd/system by default. */
  readonly unitDir?: string;
  /** The agent binary for ExecStart; process.execPath when compiled. */
  readonly execPath?: string;
  /** The service's paths from its config; by default read from the YAML (config-paths.ts). */
  readonly servicePaths?: (configPath: string) => ServicePaths;
  readonly isRoot?: () => boolean;
  readonly exists?: (path: string) => boolean;
  readonly stdout?: (text: string) => void;
  readonly stderr?: (text: string) => void;
}

interface Context {
  readonly run: CommandRunner;
  readonly dryRun: boolean;
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly exists: (path: string) => boolean;
}

/** Returns the exit code; throws UsageError for a bad command line. */
export async function runSystemdServiceCommand(
  args: readonly string[],
  options: SystemdCommandOptions = {},
): Promise<number> {
  const line = parseServiceCommand(args, {
    program: PROGRAM,
    help: SYSTEMD_SERVICE_HELP,
    flags: { user: { type: "string" }, mdwe: { type: "boolean" } },
    defaultName: DEFAULT_NAME,
    nameRule: UNIT_NAME,
    nameKind: "unit",
    platform: "linux",
    elsewhere: (action) => `service ${action} manages systemd units and runs on Linux only`,
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
    run: dryRun
      ? async (argv) => {
          out(`would run: ${formatCommand(argv)}\n`);
          return { exitCode: 0, stdout: "", stderr: "" };
        }
      : runner,
  };
  const unitPath = join(options.unitDir ?? "/etc/systemd/system", `${name}.service`);
  const isRoot = options.isRoot ?? (() => process.getuid?.() === 0);
  if (action !== "status" && !dryRun && !isRoot()) {
    err(`${PROGRAM}: service ${action} must run as root (sudo ${PROGRAM} service ${action} ...)\n`);
    return ExitCode.FAILURE;
  }

  switch (action) {
    case "install":
      return install(context, {
        name,
        unitPath,
        configPath: resolve(line.text("config") ?? `/etc/${name}/agent-inf.yaml`),
        user: line.text("user") ?? "dynamic",
        mdwe: line.given("mdwe"),
        execPath: options.execPath ?? defaultExecPath(),
        servicePaths: options.servicePaths ?? ((path) => readServicePaths("agent-inf", path)),
      });
    case "uninstall":
      return uninstall(context, name, unitPath);
    case "status":
      return status(context.out, runner, name);
    default:
      throw new UsageError(`unknown service action ${JSON.stringify(action)}`);
  }
}

interface InstallRequest {
  readonly name: string;
  readonly unitPath: string;
  readonly configPath: string;
  readonly user: string;
  readonly mdwe: boolean;
  readonly execPath: string | undefined;
  readonly servicePaths: (configPath: string) => ServicePaths;
}

async function install(context: Context, request: InstallRequest): Promise<number> {
  const { name, configPath, user, execPath } = request;
  const fail = (code: number, message: string) => {
    context.err(`${PROGRAM}: service install: ${message}\n`);
    return code;
  };
  if (user !== "dynamic" && !USER_NAME.test(user)) {
    throw new UsageError(`--user must be "dynamic" or a system user name, was ${user}`);
  }
  if (execPath === undefined) {
    return fail(
      ExitCode.USAGE,
      "run this from the compiled agent-inf binary (bun run build), not from source",
    );
  }
  // ProtectHome=yes hides /home, /root and /run/user from the service: it could not even exec
  for (const [what, path] of [
    ["the binary", execPath],
    ["the config", configPath],
  ] as const) {
    if (/^\/(home|root|run\/user)(\/|$)/.test(path)) {
      return fail(
        ExitCode.CONFIG,
        `${what} ${path} is under /home, /root or /run/user, which ProtectHome=yes hides from the service; copy it to ${what === "the binary" ? "/usr/local/bin" : `/etc/${name}`} first`,
      );
    }
  }
  if (!context.exists(execPath)) return fail(ExitCode.CONFIG, `${execPath} does not exist`);
  if (!context.exists(configPath)) {
    return fail(
      ExitCode.CONFIG,
      `no config at ${configPath}; create it (config/inf.example.yaml documents every key) or pass --config`,
    );
  }

  let paths: ServicePaths;
  try {
    paths = request.servicePaths(configPath);
  } catch (error) {
    return fail(ExitCode.CONFIG, `cannot read ${configPath}: ${errorText(error)}`);
  }
  const planned = planCredentials([...paths.secretFiles, ...paths.readPaths]);
  if (typeof planned === "string") return fail(ExitCode.CONFIG, planned);
  for (const credential of planned) {
    if (!context.exists(credential.path)) {
      return fail(
        ExitCode.CONFIG,
        `${credential.path} (named in ${configPath}) does not exist; generate keys with: ${PROGRAM} keygen --name <host> --dir <dir>`,
      );
    }
  }
  const managed = [`/var/lib/${name}`, `/var/lib/private/${name}`, `/var/log/${name}`];
  const outside = paths.writeDirs.filter(
    (dir) => !managed.some((root) => dir === root || dir.startsWith(`${root}/`)),
  );
  if (user === "dynamic" && outside.length > 0) {
    return fail(
      ExitCode.CONFIG,
      `with DynamicUser the service can only write /var/lib/${name} and /var/log/${name}, but ${configPath} has it write ${outside.join(", ")}; set state_dir: /var/lib/${name} (and log.file under /var/log/${name}), or use --user NAME`,
    );
  }

  const unit = renderUnit({
    name,
    execPath,
    configPath,
    user,
    credentials: planned,
    extraWritePaths: user === "dynamic" ? [] : outside,
    mdwe: request.mdwe,
    watchdogSec: DEFAULT_WATCHDOG_SEC,
  });
  const previous = context.exists(request.unitPath) ? readText(request.unitPath) : undefined;
  const changed = previous !== unit;

  if (context.dryRun) {
    context.out(`would write ${request.unitPath}:\n${unit}\n`);
  }
  if (user !== "dynamic") {
    const known = await context.run(["getent", "passwd", user]);
    if (known.exitCode !== 0) {
      const created = await context.run([
        "useradd",
        "--system",
        "--no-create-home",
        "--home-dir",
        "/nonexistent",
        "--shell",
        "/usr/sbin/nologin",
        user,
      ]);
      if (created.exitCode !== 0)
        return fail(ExitCode.FAILURE, describeFailure(["useradd"], created));
    }
    for (const dir of outside) {
      const argv = ["install", "-d", "-m", "0700", "-o", user, "-g", user, dir];
      const made = await context.run(argv);
      if (made.exitCode !== 0) return fail(ExitCode.FAILURE, describeFailure(argv, made));
    }
  }
  if (!context.dryRun && changed) writeAtomically(request.unitPath, unit);

  const steps: string[][] = [
    ["systemctl", "daemon-reload"],
    ["systemctl", "enable", "--now", `${name}.service`],
  ];
  // enable --now leaves a running service alone; a changed unit only applies after a restart
  if (previous !== undefined && changed)
    steps.push(["systemctl", "try-restart", `${name}.service`]);
  for (const argv of steps) {
    const result = await context.run(argv);
    if (result.exitCode !== 0) {
      return fail(
        ExitCode.FAILURE,
        `${describeFailure(argv, result)}; see: journalctl -u ${name}.service -n 50`,
      );
    }
  }
  const verb = previous === undefined ? "installed" : changed ? "updated" : "unchanged";
  context.out(
    [
      `${name}.service ${context.dryRun ? `would be ${verb}` : verb} (${request.unitPath})`,
      `  runs     ${execPath} run --config ${configPath}`,
      `  user     ${user === "dynamic" ? "DynamicUser" : user}; state in /var/lib/${name}${user === "dynamic" ? ` (/var/lib/private/${name})` : ""}`,
      `  keys     ${planned.map((credential) => credential.id).join(", ") || "none"} via LoadCredential`,
      ...(previous !== undefined && !changed
        ? [`  a new binary takes effect after: systemctl restart ${name}.service`]
        : []),
      `  status   ${PROGRAM} service status --name ${name}   |   journalctl -u ${name}.service -f`,
      "",
    ].join("\n"),
  );
  return ExitCode.OK;
}

async function uninstall(context: Context, name: string, unitPath: string): Promise<number> {
  if (!context.exists(unitPath)) {
    context.out(`${name}.service is not installed (${unitPath} does not exist); nothing to do\n`);
    return ExitCode.OK;
  }
  const disabled = await context.run(["systemctl", "disable", "--now", `${name}.service`]);
  if (disabled.exitCode !== 0) {
    // Keep going: a unit that systemd no longer knows must still be removable
    context.err(`${PROGRAM}: warning: ${describeFailure(["systemctl", "disable"], disabled)}\n`);
  }
  if (context.dryRun) context.out(`would remove ${unitPath}\n`);
  else rmSync(unitPath, { force: true });
  const reloaded = await context.run(["systemctl", "daemon-reload"]);
  if (reloaded.exitCode !== 0) {
    context.err(
      `${PROGRAM}: service uninstall: ${describeFailure(["systemctl", "daemon-reload"], reloaded)}\n`,
    );
    return ExitCode.FAILURE;
  }
  // Forget a failed state so the name is clean for a later install; failing here is harmless
  await context.run(["systemctl", "reset-failed", `${name}.service`]);
  context.out(
    `${name}.service ${context.dryRun ? "would be " : ""}removed; config, keys and /var/lib/${name} were kept\n`,
  );
  return ExitCode.OK;
}

const STATUS_PROPERTIES = [
  "LoadState",
  "UnitFileState",
  "ActiveState",
  "SubState",
  "Result",
  "MainPID",
  "NRestarts",
  "ExecMainStartTimestamp",
  "StatusText",
  "WatchdogTimestamp",
] as const;

async function status(
  out: (text: string) => void,
  run: CommandRunner,
  name: string,
): Promise<number> {
  const argv = [
    "systemctl",
    "show",
    `${name}.service`,
    `--property=${STATUS_PROPERTIES.join(",")}`,
  ];
  const result = await run(argv);
  if (result.exitCode !== 0) {
    out(`${describeFailure(argv, result)}\n`);
    return ExitCode.FAILURE;
  }
  const summary = parseShowOutput(result.stdout);
  out(formatStatus(name, summary));
  return summary["ActiveState"] === "active" ? ExitCode.OK : ExitCode.FAILURE;
}

/**
 * systemctl start and stop of the unit (each waits for its job: with Type=notify, start returns
 * once the agent said READY=1) and the executable it runs, for `agent-inf upgrade` (upgrade.ts).
 */
export function systemdServiceControl(
  name: string,
  run: CommandRunner = spawnCommand,
): ServiceControl {
  const unit = `${name}.service`;
  const step = async (argv: string[]) => {
    const result = await run(argv);
    if (result.exitCode !== 0)
      throw new Error(`${describeFailure(argv, result)}; see: journalctl -u ${unit} -n 50`);
  };
  return {
    description: `systemd unit ${unit}`,
    stop: () => step(["systemctl", "stop", unit]),
    start: () => step(["systemctl", "start", unit]),
    binary: async () => {
      const result = await run(["systemctl", "show", unit, "--property=ExecStart", "--value"]);
      // { path=/usr/local/bin/agent-inf ; argv[]=/usr/local/bin/agent-inf run --config ... }
      return result.exitCode === 0 ? /path=([^ ;]+)/.exec(result.stdout)?.[1] : undefined;
    },
  };
}

/** `systemctl show` prints KEY=VALUE lines. */
export function parseShowOutput(text: string): Record<string, string> {
  const properties: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const at = line.indexOf("=");
    if (at > 0) properties[line.slice(0, at)] = line.slice(at + 1);
  }
  return properties;
}

export function formatStatus(name: string, properties: Readonly<Record<string, string>>): string {
  const get = (key: string) => properties[key] ?? "";
  if (get("LoadState") === "not-found") return `${name}.service is not installed\n`;
  const pid = get("MainPID");
  return [
    `${name}.service  ${get("ActiveState")} (${get("SubState")}), ${get("UnitFileState") || "?"}${get("Result") !== "" && get("Result") !== "success" ? `, last result ${get("Result")}` : ""}`,
    `  pid        ${pid === "" || pid === "0" ? "-" : pid}`,
    `  since      ${get("ExecMainStartTimestamp") || "-"}`,
    `  restarts   ${get("NRestarts") || "0"}`,
    `  status     ${get("StatusText") || "-"}`,
    `  watchdog   ${get("WatchdogTimestamp") || "-"}`,
    "",
  ].join("\n");
}

/**
 * One credential per file, named by its base name (credentials.ts). Two files with the same base
 * name cannot both be credentials: reported as a message naming both.
 */
export function planCredentials(paths: readonly string[]): Credential[] | string {
  const byId = new Map<string, string>();
  for (const path of paths) {
    if (!isAbsolute(path)) return `key path ${path} is not absolute`;
    const id = credentialId(path);
    const other = byId.get(id);
    if (other !== undefined && other !== path) {
      return `${other} and ${path} have the same file name, which systemd credentials cannot tell apart; rename one`;
    }
    byId.set(id, path);
  }
  return [...byId].map(([id, path]) => ({ id, path }));
}

function defaultExecPath(): string | undefined {
  return isCompiled() ? process.execPath : undefined;
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

/** Never leave a half-written unit behind: write aside, then rename over. */
function writeAtomically(path: string, text: string): void {
  mkdirSync(resolve(path, ".."), { recursive: true });
  const temporary = `${path}.tmp-${process.pid}`;
  writeFileSync(temporary, text, { mode: 0o644 });
  renameSync(temporary, path);
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
