/**
 * The upgrade command line: one of --binary or --rollback, bounded timeouts, and a refusal when
 * the service manager runs another binary than the one to replace (nothing is touched then);
 * the systemd and SCM controls the command uses.
 */
import { describe, expect, test } from "bun:test";
import { UsageError } from "../cli.ts";
import { systemdServiceControl } from "./systemd.ts";
import { type AgentUpgrade, runUpgradeCommand } from "./upgrade-command.ts";
import { scServiceControl } from "./windows.ts";

const touched: string[] = [];
const agent: AgentUpgrade = {
  program: "agent-inf",
  locateConfig: (flag) => flag ?? "/etc/agent-inf/agent-inf.yaml",
  hooks: () => ({
    probe: async () => {
      touched.push("probe");
      return undefined;
    },
  }),
};

function seams(runs: string | undefined) {
  const output: string[] = [];
  return {
    output,
    seams: {
      service: () => ({
        description: "systemd unit agent-inf.service",
        stop: async () => {
          touched.push("stop");
        },
        start: async () => {
          touched.push("start");
        },
        binary: async () => runs,
      }),
      run: async () => {
        touched.push("run");
        return { exitCode: 0, stdout: "1.0.0\n", stderr: "" };
      },
      out: (text: string) => output.push(text),
      err: (text: string) => output.push(text),
    },
  };
}

describe("upgrade command line", () => {
  test.each([
    [[], "--binary FILE or --rollback"],
    [["--binary", "x", "--rollback"], "--binary FILE or --rollback"],
    [["--binary", "x", "--verify-timeout", "0"], "--verify-timeout must be 1–600"],
    [["--binary", "x", "--drain-timeout", "abc"], "--drain-timeout must be 1–600"],
    [["--binary", "x", "--name", "a b"], "--name is not a valid service name"],
    [["now"], "upgrade takes options only"],
  ])("%p is a usage error", async (args, message) => {
    const promise = runUpgradeCommand(["--installed", "/usr/local/bin/agent-inf", ...args], agent);
    await expect(promise).rejects.toThrow(UsageError);
    await expect(promise).rejects.toThrow(message);
  });

  test("refused when the service runs another binary; nothing is touched", async () => {
    touched.length = 0;
    const { output, seams: s } = seams("/opt/agent-inf/agent-inf");
    const code = await runUpgradeCommand(
      ["--binary", "/tmp/new", "--installed", "/usr/local/bin/agent-inf"],
      agent,
      s,
    );
    expect(code).toBe(1);
    expect(output.join("")).toContain(
      "systemd unit agent-inf.service runs /opt/agent-inf/agent-inf, not /usr/local/bin/agent-inf",
    );
    expect(touched).toEqual([]);
  });

  test("--help prints the usage", async () => {
    const { output, seams: s } = seams(undefined);
    expect(await runUpgradeCommand(["--help"], agent, s)).toBe(0);
    expect(output.join("")).toContain("Usage: agent-inf upgrade --binary FILE | --rollback");
  });
});

describe("the service managers' controls for upgrade", () => {
  test("systemd: stop and start wait for their jobs; the unit's binary from ExecStart", async () => {
    const calls: string[][] = [];
    const control = systemdServiceControl("agent-inf", async (argv) => {
      calls.push([...argv]);
      if (argv[1] === "show")
        return {
          exitCode: 0,
          stdout:
            "{ path=/usr/local/bin/agent-inf ; argv[]=/usr/local/bin/agent-inf run --config /etc/agent-inf/agent-inf.yaml ; ignore_errors=no }\n",
          stderr: "",
        };
      return { exitCode: argv[1] === "start" ? 1 : 0, stdout: "", stderr: "Job failed" };
    });
    await control.stop();
    await expect(control.start()).rejects.toThrow("journalctl -u agent-inf.service");
    expect(await control.binary?.()).toBe("/usr/local/bin/agent-inf");
    expect(calls.slice(0, 2)).toEqual([
      ["systemctl", "stop", "agent-inf.service"],
      ["systemctl", "start", "agent-inf.service"],
    ]);
  });

  test("Windows: the service's executable from sc qc", async () => {
    const control = scServiceControl("agent-gtw", async () => ({
      exitCode: 0,
      stdout:
        '        BINARY_PATH_NAME   : "C:\\Program Files\\agent-gtw\\agent-gtw.exe" run --service --config "C:\\ProgramData\\agent-gtw\\agent-gtw.yaml"\r\n',
      stderr: "",
    }));
    expect(await control.binary?.()).toBe("C:\\Program Files\\agent-gtw\\agent-gtw.exe");
  });
});
