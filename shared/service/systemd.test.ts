import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { UsageError } from "../cli.ts";
import type { CommandResult } from "./command-runner.ts";
import {
  formatStatus,
  parseShowOutput,
  planCredentials,
  runSystemdServiceCommand,
} from "./systemd.ts";

interface Fixture {
  readonly dir: string;
  readonly unitDir: string;
  readonly unitPath: string;
  readonly execPath: string;
  readonly configPath: string;
  readonly commands: string[][];
  readonly out: string[];
  readonly err: string[];
  run(
    args: readonly string[],
    answers?: Record<string, CommandResult>,
    root?: boolean,
  ): Promise<number>;
  writeConfig(changes?: Record<string, unknown>): void;
}

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

const OK: CommandResult = { exitCode: 0, stdout: "", stderr: "" };

function fixture(): Fixture {
  const dir = mkdtempSync(join(tmpdir(), "mlb-systemd-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const unitDir = join(dir, "units");
  const keys = join(dir, "etc", "keys");
  mkdirSync(keys, { recursive: true });
  for (const file of ["inf-1.key_secret", "inf-1.sign_secret", "agent-gtw.key"]) {
    writeFileSync(join(keys, file), "key\n");
  }
  const execPath = join(dir, "bin", "agent-inf");
  mkdirSync(join(dir, "bin"));
  writeFileSync(execPath, "");
  const configPath = join(dir, "etc", "agent-inf.yaml");
  const commands: string[][] = [];
  const out: string[] = [];
  const err: string[] = [];
  const writeConfig = (changes: Record<string, unknown> = {}) =>
    writeFileSync(
      configPath,
      stringify({
        agent: { name: "inf-1" },
        keys: { client_secret: "keys/inf-1.key_secret", signing_secret: "keys/inf-1.sign_secret" },
        gateways: [
          {
            name: "gtw-1",
            endpoint: "tcp://192.0.2.10:5700",
            server_key_file: "keys/agent-gtw.key",
          },
        ],
        state_dir: "/var/lib/agent-inf",
        ...changes,
      }),
    );
  writeConfig();
  return {
    dir,
    unitDir,
    unitPath: join(unitDir, "agent-inf.service"),
    execPath,
    configPath,
    commands,
    out,
    err,
    writeConfig,
    run: (args, answers = {}, root = true) =>
      runSystemdServiceCommand(args, {
        unitDir,
        execPath,
        isRoot: () => root,
        runner: async (argv) => {
          commands.push([...argv]);
          return answers[argv.join(" ")] ?? OK;
        },
        stdout: (text) => out.push(text),
        stderr: (text) => err.push(text),
      }),
  };
}

describe("agent-inf service install", () => {
  test("writes the unit, reloads systemd and enables and starts the service", async () => {
    const f = fixture();
    expect(await f.run(["install", "--config", f.configPath])).toBe(0);
    expect(f.commands).toEqual([
      ["systemctl", "daemon-reload"],
      ["systemctl", "enable", "--now", "agent-inf.service"],
    ]);
    const unit = readFileSync(f.unitPath, "utf8");
    expect(unit).toContain(`ExecStart=${f.execPath} run --config ${f.configPath}`);
    expect(unit).toContain(
      `LoadCredential=inf-1.key_secret:${join(f.dir, "etc", "keys", "inf-1.key_secret")}`,
    );
    expect(unit).toContain(
      `LoadCredential=inf-1.sign_secret:${join(f.dir, "etc", "keys", "inf-1.sign_secret")}`,
    );
    expect(unit).toContain(
      `LoadCredential=agent-gtw.key:${join(f.dir, "etc", "keys", "agent-gtw.key")}`,
    );
    expect(f.out.join("")).toContain("agent-inf.service installed");
  });

  test("is idempotent: a second install leaves the unit alone and does not restart", async () => {
    const f = fixture();
    await f.run(["install", "--config", f.configPath]);
    f.commands.length = 0;
    expect(await f.run(["install", "--config", f.configPath])).toBe(0);
    expect(f.commands).toEqual([
      ["systemctl", "daemon-reload"],
      ["systemctl", "enable", "--now", "agent-inf.service"],
    ]);
    expect(f.out.at(-1)).toContain("agent-inf.service unchanged");
  });

  test("a changed unit is rewritten and the running service restarted to apply it", async () => {
    const f = fixture();
    await f.run(["install", "--config", f.configPath]);
    f.commands.length = 0;
    expect(await f.run(["install", "--config", f.configPath, "--mdwe"])).toBe(0);
    expect(f.commands.at(-1)).toEqual(["systemctl", "try-restart", "agent-inf.service"]);
    expect(readFileSync(f.unitPath, "utf8")).toContain("MemoryDenyWriteExecute=yes");
    expect(f.out.at(-1)).toContain("agent-inf.service updated");
  });

  test("a dedicated user is created when missing and its folders prepared", async () => {
    const f = fixture();
    f.writeConfig({ state_dir: "/srv/agent-inf/state" });
    const answers = { "getent passwd agentinf": { exitCode: 2, stdout: "", stderr: "" } };
    expect(await f.run(["install", "--config", f.configPath, "--user", "agentinf"], answers)).toBe(
      0,
    );
    expect(f.commands.slice(0, 3)).toEqual([
      ["getent", "passwd", "agentinf"],
      [
        "useradd",
        "--system",
        "--no-create-home",
        "--home-dir",
        "/nonexistent",
        "--shell",
        "/usr/sbin/nologin",
        "agentinf",
      ],
      ["install", "-d", "-m", "0700", "-o", "agentinf", "-g", "agentinf", "/srv/agent-inf/state"],
    ]);
    const unit = readFileSync(f.unitPath, "utf8");
    expect(unit).toContain("User=agentinf");
    expect(unit).toContain("ReadWritePaths=-/srv/agent-inf/state");
  });

  test("refuses (exit 3) a DynamicUser service whose config writes outside /var/lib/UNIT", async () => {
    const f = fixture();
    f.writeConfig({ state_dir: "state" });
    expect(await f.run(["install", "--config", f.configPath])).toBe(3);
    expect(f.err.join("")).toContain("set state_dir: /var/lib/agent-inf");
    expect(f.commands).toEqual([]);
    expect(existsSync(f.unitPath)).toBe(false);
  });

  test("refuses (exit 3) when a key file named in the config is missing, naming it", async () => {
    const f = fixture();
    rmSync(join(f.dir, "etc", "keys", "inf-1.sign_secret"));
    expect(await f.run(["install", "--config", f.configPath])).toBe(3);
    expect(f.err.join("")).toContain(join(f.dir, "etc", "keys", "inf-1.sign_secret"));
    expect(f.err.join("")).toContain("agent-inf keygen");
  });

  test("refuses (exit 3) a binary under /root or /home, which ProtectHome hides", async () => {
    const f = fixture();
    const code = await runSystemdServiceCommand(["install", "--config", f.configPath], {
      unitDir: f.unitDir,
      execPath: "/root/dist/agent-inf",
      isRoot: () => true,
      runner: async () => OK,
      stdout: () => {},
      stderr: (text) => f.err.push(text),
    });
    expect(code).toBe(3);
    expect(f.err.join("")).toContain("ProtectHome=yes");
  });

  test("refuses (exit 3) a missing config and (exit 1) to run without root", async () => {
    const f = fixture();
    expect(await f.run(["install", "--config", join(f.dir, "missing.yaml")])).toBe(3);
    expect(await f.run(["install", "--config", f.configPath], {}, false)).toBe(1);
    expect(f.err.at(-1)).toContain("must run as root");
    expect(f.commands).toEqual([]);
  });

  test("a failing systemctl step fails the install and points at the journal", async () => {
    const f = fixture();
    const answers = {
      "systemctl enable --now agent-inf.service": { exitCode: 1, stdout: "", stderr: "Job failed" },
    };
    expect(await f.run(["install", "--config", f.configPath], answers)).toBe(1);
    expect(f.err.join("")).toContain("Job failed");
    expect(f.err.join("")).toContain("journalctl -u agent-inf.service");
  });

  test("--dry-run prints the unit and the commands, writes and runs nothing, needs no root", async () => {
    const f = fixture();
    expect(await f.run(["install", "--config", f.configPath, "--dry-run"], {}, false)).toBe(0);
    const printed = f.out.join("");
    expect(printed).toContain(`would write ${f.unitPath}:`);
    expect(printed).toContain("Type=notify");
    expect(printed).toContain("would run: systemctl daemon-reload");
    expect(printed).toContain("would run: systemctl enable --now agent-inf.service");
    expect(f.commands).toEqual([]);
    expect(existsSync(f.unitPath)).toBe(false);
  });

  test("usage errors: no action, unknown action, bad user or unit name", async () => {
    const f = fixture();
    await expect(f.run([])).rejects.toBeInstanceOf(UsageError);
    await expect(f.run(["reinstall"])).rejects.toThrow(/unknown service action/);
    await expect(f.run(["install", "--user", "Bad User"])).rejects.toThrow(/--user/);
    await expect(f.run(["status", "--name", "../x"])).rejects.toThrow(/--name/);
    await expect(f.run(["install", "--bogus"])).rejects.toBeInstanceOf(UsageError);
  });
});

describe("agent-inf service uninstall", () => {
  test("stops and disables, removes the unit, reloads, and clears a failed state", async () => {
    const f = fixture();
    await f.run(["install", "--config", f.configPath]);
    f.commands.length = 0;
    expect(await f.run(["uninstall"])).toBe(0);
    expect(f.commands).toEqual([
      ["systemctl", "disable", "--now", "agent-inf.service"],
      ["systemctl", "daemon-reload"],
      ["systemctl", "reset-failed", "agent-inf.service"],
    ]);
    expect(existsSync(f.unitPath)).toBe(false);
    expect(existsSync(f.configPath)).toBe(true);
    expect(f.out.at(-1)).toContain("config, keys and /var/lib/agent-inf were kept");
  });

  test("is a no-op when the unit is not installed", async () => {
    const f = fixture();
    expect(await f.run(["uninstall"])).toBe(0);
    expect(f.commands).toEqual([]);
    expect(f.out.join("")).toContain("not installed");
  });
});

describe("agent-inf service status", () => {
  const SHOW = [
    "LoadState=loaded",
    "UnitFileState=enabled",
    "ActiveState=active",
    "SubState=running",
    "Result=success",
    "MainPID=4242",
    "NRestarts=1",
    "ExecMainStartTimestamp=Sat 2026-11-21 06:00:00 UTC",
    "StatusText=connected to gtw-1",
    "WatchdogTimestamp=Sat 2026-11-21 06:00:10 UTC",
  ].join("\n");

  test("summarises systemctl show; exit 0 only when active", async () => {
    const f = fixture();
    const argv =
      "systemctl show agent-inf.service --property=LoadState,UnitFileState,ActiveState,SubState,Result,MainPID,NRestarts,ExecMainStartTimestamp,StatusText,WatchdogTimestamp";
    expect(
      await f.run(["status"], { [argv]: { exitCode: 0, stdout: SHOW, stderr: "" } }, false),
    ).toBe(0);
    expect(f.out.join("")).toBe(
      [
        "agent-inf.service  active (running), enabled",
        "  pid        4242",
        "  since      Sat 2026-11-21 06:00:00 UTC",
        "  restarts   1",
        "  status     connected to gtw-1",
        "  watchdog   Sat 2026-11-21 06:00:10 UTC",
        "",
      ].join("\n"),
    );
    const failed = SHOW.replace("ActiveState=active", "ActiveState=failed").replace(
      "Result=success",
      "Result=watchdog",
    );
    expect(
      await f.run(["status"], { [argv]: { exitCode: 0, stdout: failed, stderr: "" } }, false),
    ).toBe(1);
    expect(f.out.at(-1)).toContain("failed (running), enabled, last result watchdog");
  });

  test("an unknown unit reads as not installed", () => {
    expect(
      formatStatus("agent-inf", parseShowOutput("LoadState=not-found\nActiveState=inactive\n")),
    ).toBe("agent-inf.service is not installed\n");
  });
});

describe("planCredentials", () => {
  test("one credential per file, named by its file name", () => {
    expect(planCredentials(["/k/a.key_secret", "/k/b.sign_secret", "/k/a.key_secret"])).toEqual([
      { id: "a.key_secret", path: "/k/a.key_secret" },
      { id: "b.sign_secret", path: "/k/b.sign_secret" },
    ]);
  });

  test("two files with the same name cannot both be credentials", () => {
    expect(planCredentials(["/k/one/gw.key", "/k/two/gw.key"])).toContain("same file name");
  });
});
