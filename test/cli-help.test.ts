/**
 * `--help` on every command of both agents and on every script (issue 18 §4: `agent-gtw state
 * --help`, `status --help` and `selftest --help` failed, and a script printed a stack trace).
 * The commands come from the agents' own command tables, and the scripts from the scripts/
 * folder, so a new command or script is covered without touching this test. Each must exit 0,
 * print its usage and nothing that looks like a stack trace.
 */
import { describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { GATEWAY_COMMANDS } from "../agent-gtw/cli/command-line.ts";
import { SETUP_COMMANDS } from "../agent-inf/cli/command-line.ts";
import { COMMAND_NAMES } from "../agent-inf/cli/commands.ts";

const ROOT = join(import.meta.dir, "..");
/** The benchmarks' --help is the crypto work's (scripts/bench*); they are checked there. */
const ELSEWHERE = /^bench/;

function run(command: readonly string[]) {
  const result = Bun.spawnSync([...command], {
    cwd: ROOT,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, AGENT_LOG_LEVEL: "" },
  });
  return {
    code: result.exitCode,
    stdout: result.stdout.toString(),
    stderr: result.stderr.toString(),
  };
}

function expectHelp(result: ReturnType<typeof run>): void {
  expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: "" });
  expect(result.stdout).toMatch(/Usage/);
  expect(result.stdout).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
}

const agent = (name: string) => [process.execPath, join(ROOT, name, "main.ts")];

describe("--help", () => {
  test.each(["--help", ...Object.keys(GATEWAY_COMMANDS).map((name) => `${name} --help`)])(
    "agent-gtw %s",
    (args) => expectHelp(run([...agent("agent-gtw"), ...args.split(" ")])),
  );

  test.each(["--help", ...[...COMMAND_NAMES, ...SETUP_COMMANDS].map((name) => `${name} --help`)])(
    "agent-inf %s",
    (args) => expectHelp(run([...agent("agent-inf"), ...args.split(" ")])),
  );

  const scripts = [
    ...readdirSync(join(ROOT, "scripts"))
      .filter(
        (file) => /\.(ts|sh)$/.test(file) && !file.endsWith(".test.ts") && !ELSEWHERE.test(file),
      )
      .map((file) => `scripts/${file}`),
    "scripts/wine/smoke.sh",
    "scripts/wine/smoke.ts",
  ];

  test("the scripts folder has the scripts this test knows to look for", () => {
    expect(scripts).toEqual(
      expect.arrayContaining(["scripts/build.ts", "scripts/demo.ts", "scripts/setup.sh"]),
    );
  });

  test.each(scripts)("%s --help", (script) => {
    const command = script.endsWith(".sh") ? ["bash", script] : [process.execPath, script];
    expectHelp(run([...command, "--help"]));
  });
});

describe("mistakes on the command line", () => {
  test("a mistyped command or option gets a did-you-mean", () => {
    const command = run([...agent("agent-gtw"), "stauts"]);
    expect(command.code).toBe(2);
    expect(command.stderr).toContain("did you mean status?");
    const option = run([...agent("agent-inf"), "open", "BUY", "EURUSD", "0.1", "--sll", "1.1"]);
    expect(option.code).toBe(2);
    expect(option.stderr).toContain("unknown option --sll; did you mean --sl?");
  });

  test("a negative volume is named as one, not as an unknown option", () => {
    const result = run([...agent("agent-inf"), "open", "BUY", "EURUSD", "-0.1"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("-0.1 is a negative number");
  });
});
