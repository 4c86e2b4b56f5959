import { describe, expect, test } from "bun:test";
import { UsageError } from "../cli.ts";
import type { CommandResult } from "./command-runner.ts";
import type { ServicePaths } from "./config-paths.ts";
import {
  folderAclCommand,
  parseScExitCodes,
  parseScState,
  runWindowsServiceCommand,
  scRegisterCommand,
  scSettingsCommands,
  servicePath,
} from "./windows.ts";

const EXE = "C:\\Program Files\\agent-gtw\\agent-gtw.exe";
const DATA = "C:\\ProgramData\\agent-gtw";
const CONFIG = `${DATA}\\agent-gtw.yaml`;
const PATHS: ServicePaths = {
  secretFiles: [`${DATA}\\keys\\agent-gtw.key_secret`],
  readPaths: [`${DATA}\\keys\\clients`, `${DATA}\\keys\\inf-1.sign`],
  writeDirs: [`${DATA}\\state`, `${DATA}\\state\\sim`, `${DATA}\\logs`],
  logFile: `${DATA}\\logs\\agent-gtw.log`,
};

const query = (state: number, text: string): CommandResult => ({
  exitCode: 0,
  stdout: `SERVICE_NAME: agent-gtw\r\n        TYPE               : 10  WIN32_OWN_PROCESS\r\n        STATE              : ${state}  ${text}\r\n        WIN32_EXIT_CODE    : 0  (0x0)\r\n        SERVICE_EXIT_CODE  : 0  (0x0)\r\n`,
  stderr: "",
});
const RUNNING = query(4, "RUNNING");
const STOPPED = query(1, "STOPPED");
const MISSING: CommandResult = {
  exitCode: 1060,
  stdout: "[SC] EnumQueryServicesStatus:OpenService FAILED 1060:\r\n",
  stderr: "",
};
const OK: CommandResult = { exitCode: 0, stdout: "", stderr: "" };

interface Scripted {
  readonly commands: string[][];
  readonly out: string[];
  readonly err: string[];
  readonly made: string[];
  run(args: readonly string[]): Promise<number>;
}

/**
 * A fake sc.exe/icacls: `answers` maps a command line to its results, consumed in order (the last
 * one repeats), so a query can say RUNNING, then STOPPED.
 */
function scripted(
  answers: Record<string, CommandResult[]>,
  options: { files?: string[]; existing?: string[] } = {},
): Scripted {
  const commands: string[][] = [];
  const out: string[] = [];
  const err: string[] = [];
  const made: string[] = [];
  const existing = new Set([CONFIG, ...PATHS.secretFiles, ...(options.existing ?? [])]);
  return {
    commands,
    out,
    err,
    made,
    run: (args) =>
      runWindowsServiceCommand(args, {
        execPath: EXE,
        programData: "C:\\ProgramData",
        servicePaths: () => PATHS,
        exists: (path) => existing.has(path),
        makeDirectory: (path) => made.push(path),
        listFiles: () => options.files ?? [],
        sleep: async () => {},
        stdout: (text) => out.push(text),
        stderr: (text) => err.push(text),
        runner: async (argv) => {
          commands.push([...argv]);
          const list = answers[argv.join(" ")];
          if (list === undefined || list.length === 0) return OK;
          return (list.length > 1 ? list.shift() : list[0]) as CommandResult;
        },
      }),
  };
}

const commandNames = (commands: readonly string[][]) =>
  commands.map((argv) => argv.slice(0, 3).join(" "));

describe("sc.exe argument lists", () => {
  test("binPath quotes the exe and config and passes --service explicitly", () => {
    expect(servicePath(EXE, CONFIG)).toBe(
      '"C:\\Program Files\\agent-gtw\\agent-gtw.exe" run --service --config "C:\\ProgramData\\agent-gtw\\agent-gtw.yaml"',
    );
  });

  test("create: auto start, the virtual account, a display name; config when it exists", () => {
    const input = {
      name: "agent-gtw",
      execPath: EXE,
      configPath: CONFIG,
      account: "NT SERVICE\\agent-gtw",
    };
    expect(scRegisterCommand({ ...input, exists: false })).toEqual([
      "sc.exe",
      "create",
      "agent-gtw",
      "binPath=",
      servicePath(EXE, CONFIG),
      "start=",
      "auto",
      "obj=",
      "NT SERVICE\\agent-gtw",
      "DisplayName=",
      "MT5 Live Bridge gateway (agent-gtw)",
    ]);
    expect(scRegisterCommand({ ...input, exists: true })[1]).toBe("config");
  });

  test("settings: description, recovery actions, failure flag, service SID", () => {
    expect(scSettingsCommands("agent-gtw")).toEqual([
      {
        argv: [
          "sc.exe",
          "description",
          "agent-gtw",
          "MT5 Live Bridge gateway: CurveZMQ orders in, MetaTrader 5 out",
        ],
        required: false,
      },
      {
        argv: [
          "sc.exe",
          "failure",
          "agent-gtw",
          "reset=",
          "86400",
          "actions=",
          "restart/5000/restart/5000/restart/60000",
        ],
        required: true,
      },
      { argv: ["sc.exe", "failureflag", "agent-gtw", "1"], required: false },
      { argv: ["sc.exe", "sidtype", "agent-gtw", "unrestricted"], required: false },
    ]);
  });

  test("folder ACLs drop inheritance and grant by well-known SID and service SID", () => {
    expect(folderAclCommand(`${DATA}\\keys`, "agent-gtw", "R")).toEqual([
      "icacls.exe",
      `${DATA}\\keys`,
      "/inheritance:r",
      "/grant:r",
      "*S-1-5-18:(OI)(CI)F",
      "*S-1-5-32-544:(OI)(CI)F",
      "NT SERVICE\\agent-gtw:(OI)(CI)R",
    ]);
  });

  test("sc query output parses into a state and exit codes", () => {
    expect(parseScState(RUNNING.stdout)).toBe("RUNNING");
    expect(parseScState("STATE              : 3  STOP_PENDING")).toBe("STOP_PENDING");
    expect(parseScState("nothing")).toBeUndefined();
    expect(
      parseScExitCodes("WIN32_EXIT_CODE    : 1066  (0x42a)\n SERVICE_EXIT_CODE  : 3  (0x3)"),
    ).toEqual({
      win32: 1066,
      service: 3,
    });
  });
});

describe("agent-gtw service install", () => {
  test("a fresh install: create, settings, private folders, key ACLs, start and wait", async () => {
    const s = scripted(
      { "sc.exe query agent-gtw": [MISSING, query(2, "START_PENDING"), RUNNING] },
      { files: ["agent-gtw.key_secret", "agent-gtw.key"] },
    );
    expect(await s.run(["install"])).toBe(0);
    expect(commandNames(s.commands)).toEqual([
      "sc.exe query agent-gtw",
      "sc.exe create agent-gtw",
      "sc.exe description agent-gtw",
      "sc.exe failure agent-gtw",
      "sc.exe failureflag agent-gtw",
      "sc.exe sidtype agent-gtw",
      `icacls.exe ${DATA} /inheritance:r`,
      `icacls.exe ${DATA}\\keys /inheritance:r`,
      `icacls.exe ${DATA}\\state /inheritance:r`,
      `icacls.exe ${DATA}\\logs /inheritance:r`,
      `icacls.exe ${DATA}\\keys\\agent-gtw.key_secret /reset`,
      `icacls.exe ${DATA}\\keys\\agent-gtw.key /reset`,
      "sc.exe start agent-gtw",
      "sc.exe query agent-gtw",
      "sc.exe query agent-gtw",
    ]);
    expect(s.commands[1]?.[4]).toBe(servicePath(EXE, CONFIG));
    expect(s.commands.slice(6, 10).map((argv) => argv.at(-1))).toEqual([
      "NT SERVICE\\agent-gtw:(OI)(CI)RX",
      "NT SERVICE\\agent-gtw:(OI)(CI)R",
      "NT SERVICE\\agent-gtw:(OI)(CI)M",
      "NT SERVICE\\agent-gtw:(OI)(CI)M",
    ]);
    expect(s.made).toEqual([DATA, `${DATA}\\keys`, `${DATA}\\state`, `${DATA}\\logs`]);
    expect(s.out.join("")).toContain("service agent-gtw installed and started");
  });

  test("an installed, running service is reconfigured and restarted", async () => {
    const s = scripted({
      "sc.exe query agent-gtw": [RUNNING, STOPPED, STOPPED, RUNNING],
    });
    expect(await s.run(["install", "--no-start"])).toBe(0);
    expect(commandNames(s.commands).slice(0, 2)).toEqual([
      "sc.exe query agent-gtw",
      "sc.exe config agent-gtw",
    ]);
    expect(commandNames(s.commands)).not.toContain("sc.exe start agent-gtw");

    const again = scripted({ "sc.exe query agent-gtw": [RUNNING, STOPPED, RUNNING] });
    expect(await again.run(["install"])).toBe(0);
    expect(commandNames(again.commands).slice(-4)).toEqual([
      "sc.exe stop agent-gtw",
      "sc.exe query agent-gtw",
      "sc.exe start agent-gtw",
      "sc.exe query agent-gtw",
    ]);
    expect(again.out.join("")).toContain("service agent-gtw updated and started");
  });

  test("without sc config (Wine), the service is stopped, deleted and created again", async () => {
    const s = scripted({
      "sc.exe query agent-gtw": [RUNNING, STOPPED, MISSING, RUNNING],
      [`sc.exe config agent-gtw binPath= ${servicePath(EXE, CONFIG)} start= auto obj= NT SERVICE\\agent-gtw DisplayName= MT5 Live Bridge gateway (agent-gtw)`]:
        [{ exitCode: 1, stdout: "", stderr: "" }],
    });
    expect(await s.run(["install"])).toBe(0);
    expect(commandNames(s.commands).slice(0, 7)).toEqual([
      "sc.exe query agent-gtw",
      "sc.exe config agent-gtw",
      "sc.exe stop agent-gtw",
      "sc.exe query agent-gtw",
      "sc.exe delete agent-gtw",
      "sc.exe query agent-gtw",
      "sc.exe create agent-gtw",
    ]);
    expect(s.err.join("")).toContain("re-creating service agent-gtw");
  });

  test("secret and key paths outside the keys folder get a read grant for the service", async () => {
    const s = scripted({ "sc.exe query agent-gtw": [MISSING] });
    const outside: ServicePaths = {
      ...PATHS,
      secretFiles: ["D:\\keys\\agent-gtw.key_secret"],
      readPaths: ["D:\\keys\\inf-1.sign"],
      writeDirs: ["D:\\journal"],
    };
    const code = await runWindowsServiceCommand(
      ["install", "--no-start", "--account", "LocalSystem"],
      {
        execPath: EXE,
        programData: "C:\\ProgramData",
        servicePaths: () => outside,
        exists: (path) => path === CONFIG || path === "D:\\keys\\agent-gtw.key_secret",
        makeDirectory: () => {},
        listFiles: () => [],
        sleep: async () => {},
        stdout: () => {},
        stderr: () => {},
        runner: async (argv) => {
          s.commands.push([...argv]);
          return argv[1] === "query" ? MISSING : OK;
        },
      },
    );
    expect(code).toBe(0);
    expect(s.commands[1]?.[8]).toBe("LocalSystem");
    expect(s.commands).toContainEqual([
      "icacls.exe",
      "D:\\keys\\agent-gtw.key_secret",
      "/grant",
      "NT SERVICE\\agent-gtw:R",
    ]);
    expect(s.commands).toContainEqual([
      "icacls.exe",
      "D:\\keys\\inf-1.sign",
      "/grant",
      "NT SERVICE\\agent-gtw:R",
    ]);
    expect(s.commands.find((argv) => argv[1] === "D:\\journal")?.at(-1)).toBe(
      "NT SERVICE\\agent-gtw:(OI)(CI)M",
    );
  });

  test("without log.file the log folder next to a config kept elsewhere becomes writable", async () => {
    const commands: string[][] = [];
    const out: string[] = [];
    const code = await runWindowsServiceCommand(
      ["install", "--no-start", "--config", "D:\\gateway\\agent-gtw.yaml"],
      {
        execPath: EXE,
        programData: "C:\\ProgramData",
        servicePaths: () => ({ ...PATHS, logFile: undefined }),
        exists: (path) =>
          path === "D:\\gateway\\agent-gtw.yaml" || PATHS.secretFiles.includes(path),
        makeDirectory: () => {},
        listFiles: () => [],
        sleep: async () => {},
        stdout: (text) => out.push(text),
        stderr: () => {},
        runner: async (argv) => {
          commands.push([...argv]);
          return argv[1] === "query" ? MISSING : OK;
        },
      },
    );
    expect(code).toBe(0);
    expect(out[0]).toBe(
      "note: D:\\gateway\\agent-gtw.yaml sets no log.file; the service will log to D:\\gateway\\logs\\agent-gtw.log\n",
    );
    expect(commands.find((argv) => argv[1] === "D:\\gateway\\logs")?.at(-1)).toBe(
      "NT SERVICE\\agent-gtw:(OI)(CI)M",
    );
  });

  test("refuses a missing config or secret (exit 3) and a failed ACL (exit 1)", async () => {
    const noConfig = scripted({});
    expect(await noConfig.run(["install", "--config", "C:\\elsewhere\\agent-gtw.yaml"])).toBe(3);
    expect(noConfig.err.join("")).toContain("no config at C:\\elsewhere\\agent-gtw.yaml");
    expect(noConfig.commands).toEqual([]);

    const badAcl = scripted({
      "sc.exe query agent-gtw": [MISSING],
      [`icacls.exe ${DATA}\\keys /inheritance:r /grant:r *S-1-5-18:(OI)(CI)F *S-1-5-32-544:(OI)(CI)F NT SERVICE\\agent-gtw:(OI)(CI)R`]:
        [
          {
            exitCode: 1332,
            stdout: "No mapping between account names and security IDs was done.",
            stderr: "",
          },
        ],
    });
    expect(await badAcl.run(["install"])).toBe(1);
    expect(badAcl.err.join("")).toContain("No mapping between account names");
    expect(commandNames(badAcl.commands)).not.toContain("sc.exe start agent-gtw");
  });

  test("access denied asks for an elevated prompt", async () => {
    const s = scripted({ "sc.exe query agent-gtw": [{ exitCode: 5, stdout: "", stderr: "" }] });
    expect(await s.run(["install"])).toBe(1);
    expect(s.err.join("")).toContain("elevated prompt");
  });

  test("--dry-run prints the commands and touches nothing", async () => {
    const s = scripted({});
    expect(await s.run(["install", "--dry-run"])).toBe(0);
    const printed = s.out.join("");
    expect(printed).toContain("would run: sc.exe create agent-gtw binPath=");
    expect(printed).toContain("would run: icacls.exe");
    expect(printed).toContain("would run: sc.exe start agent-gtw");
    expect(s.commands).toEqual([]);
    expect(s.made).toEqual([]);
  });

  test("usage errors", async () => {
    const s = scripted({});
    await expect(s.run([])).rejects.toBeInstanceOf(UsageError);
    await expect(s.run(["remove"])).rejects.toThrow(/unknown service action/);
    await expect(s.run(["install", "--name", "a b"])).rejects.toThrow(/--name/);
  });
});

describe("agent-gtw service uninstall and status", () => {
  test("uninstall stops, waits for STOPPED and deletes; data is kept", async () => {
    const s = scripted({ "sc.exe query agent-gtw": [RUNNING, query(3, "STOP_PENDING"), STOPPED] });
    expect(await s.run(["uninstall"])).toBe(0);
    expect(commandNames(s.commands)).toEqual([
      "sc.exe query agent-gtw",
      "sc.exe stop agent-gtw",
      "sc.exe query agent-gtw",
      "sc.exe query agent-gtw",
      "sc.exe delete agent-gtw",
    ]);
    expect(s.out.join("")).toContain(`${DATA} was kept`);
  });

  test("uninstall of a missing service is a no-op", async () => {
    const s = scripted({ "sc.exe query agent-gtw": [MISSING] });
    expect(await s.run(["uninstall"])).toBe(0);
    expect(commandNames(s.commands)).toEqual(["sc.exe query agent-gtw"]);
  });

  test("status: RUNNING is exit 0, anything else exit 1", async () => {
    const running = scripted({ "sc.exe query agent-gtw": [RUNNING] });
    expect(await running.run(["status"])).toBe(0);
    expect(running.out.join("")).toContain("service agent-gtw  RUNNING");
    const missing = scripted({ "sc.exe query agent-gtw": [MISSING] });
    expect(await missing.run(["status"])).toBe(1);
    expect(missing.out.join("")).toContain("not installed");
  });
});
